//! A generator of realistic CloudTrail delivery files, for benchmarks and tests.

use std::fmt::Write;

use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// IAM users in a generated account; every fifth is a person's (named `first.last`).
pub(crate) const USERS: usize = 40;
/// IAM roles in a generated account; every sixth is an IAM Identity Center (SSO) role that
/// people sign in to.
pub(crate) const ROLES: usize = 24;
/// Identities a generated file names once it has at least this many records: the users, the
/// roles and the root user.
pub(crate) const IDENTITIES: usize = USERS + ROLES + 1;

const FIRST: &[&str] = &[
    "alice", "bruno", "chen", "dana", "emeka", "farah", "goran", "hana",
];
const LAST: &[&str] = &[
    "jones", "silva", "wang", "okafor", "novak", "haddad", "berg", "sato",
];
const SERVICES: &[&str] = &[
    "svc-ci-deploy",
    "backup-agent",
    "terraform",
    "grafana-reader",
    "log-shipper",
    "etl-nightly",
    "jenkins",
    "datadog-integration",
    "s3-sync",
    "billing-export",
];
const ROLE_NAMES: &[&str] = &[
    "EcsTaskExecution",
    "LambdaIngest",
    "GitHubActionsDeploy",
    "KarpenterNode",
    "RdsMonitoring",
    "EksClusterAutoscaler",
    "CrossAccountAudit",
    "StepFunctionsEtl",
    "CodeBuildPackager",
    "FirehoseDelivery",
    "ExternalDnsUpdater",
    "VaultAuth",
];
const SSO_ROLES: &[&str] = &["AdministratorAccess", "ReadOnly", "PowerUser", "Billing"];
const REGIONS: &[&str] = &["eu-west-1", "us-east-1", "eu-central-1", "us-west-2"];
const MACHINE_AGENTS: &[&str] = &[
    "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.48.0",
    "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.11",
    "APN/1.0 HashiCorp/1.0 Terraform/1.6.6 (+https://www.terraform.io) terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.49.13 (go1.21.5; linux; amd64)",
    "aws-cli/2.15.10 Python/3.11.6 Linux/5.10.205-195.807.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/s3.cp",
    "aws-sdk-java/2.21.46 Linux/5.10.205-195.807.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
];
const PERSON_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "aws-cli/2.15.10 Python/3.11.6 Darwin/23.2.0 exe/x86_64 prompt/off command/sts.get-caller-identity",
    "console.amazonaws.com",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
];
const ERRORS: &[(&str, &str)] = &[
    (
        "AccessDenied",
        "User is not authorized to perform this operation",
    ),
    ("ThrottlingException", "Rate exceeded"),
    ("NoSuchKey", "The specified key does not exist."),
    (
        "Client.UnauthorizedOperation",
        "You are not authorized to perform this operation.",
    ),
];
const KEY_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A small, fast, seeded generator (SplitMix64): the files must be the same for a seed on
/// every machine, and a dependency is not worth it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn id(&mut self, prefix: &str, len: usize, out: &mut String) {
        out.push_str(prefix);
        for _ in 0..len {
            out.push(char::from(KEY_CHARS[self.below(KEY_CHARS.len())]));
        }
    }

    fn uuid(&mut self, out: &mut String) {
        let (a, b) = (self.next(), self.next());
        let _ = write!(
            out,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        );
    }
}

/// One IAM user or role of the generated account.
struct Principal {
    name: String,
    /// The role's path with its trailing `/`, empty for none.
    path: String,
    person: bool,
    keys: Vec<String>,
    addresses: Vec<String>,
    principal_id: String,
}

/// A CloudTrail S3 delivery file (`{"Records":[…]}`, compact, as CloudTrail writes it) with
/// `records` events of one account, the same for the same seed: 40 IAM users (every fifth a
/// person's, `first.last`, with console sign-ins, interactive agents and up to 14 addresses;
/// the others services with one or two long-term access keys, some temporary session keys,
/// and a few addresses), 24 roles (every sixth an IAM Identity Center role people use from a
/// browser or the CLI on a Mac, every fourth other one under `service-role/`), assumed under
/// many session names, the root user signing in, and AWS services (about 3% of records, which
/// name no identity). Management events of S3, EC2, IAM, STS, KMS, Secrets Manager and
/// CloudWatch Logs carry request parameters, response elements, resources, TLS details, error
/// codes (about 4%) and escaped policy documents, as real trails do; records average about
/// 1.3 KB. The first 65 records name each user, role and the root user once. No secret is
/// written (no secret keys, no session tokens); access key ids are random.
pub fn generate_cloudtrail(records: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed ^ 0x6b65_7977_6172_6421);
    let account = format!("{:012}", 100_000_000_000 + rng.next() % 899_999_999_999);
    let base = DateTime::<Utc>::from_timestamp(1_709_251_200, 0).unwrap_or_default()
        + Duration::days((seed % 365) as i64);
    let users: Vec<Principal> = (0..USERS).map(|i| user(i, &mut rng)).collect();
    let roles: Vec<Principal> = (0..ROLES).map(|i| role(i, &mut rng)).collect();

    let mut out = String::with_capacity(records * 1500 + 16);
    out.push_str("{\"Records\":[");
    for i in 0..records {
        if i > 0 {
            out.push(',');
        }
        let at = base + Duration::milliseconds((i as i64) * 1700 + rng.below(1700) as i64);
        let who = if i < IDENTITIES {
            i
        } else {
            match rng.below(1000) {
                0..=439 => rng.below(USERS),
                440..=969 => USERS + rng.below(ROLES),
                970..=971 => USERS + ROLES,
                _ => usize::MAX,
            }
        };
        let g = Gen {
            rng: &mut rng,
            out: &mut out,
            account: &account,
            at,
        };
        match who {
            w if w < USERS => g.user_event(&users[w]),
            w if w < USERS + ROLES => g.role_event(&roles[w - USERS]),
            w if w == USERS + ROLES => g.root_event(),
            _ => g.service_event(),
        }
    }
    out.push_str("]}");
    out.into_bytes()
}

fn user(i: usize, rng: &mut Rng) -> Principal {
    let person = i.is_multiple_of(5);
    let name = if person {
        format!(
            "{}.{}",
            FIRST[(i / 5) % FIRST.len()],
            LAST[(i / 5 + i / 40) % LAST.len()]
        )
    } else {
        format!("{}-{:02}", SERVICES[i % SERVICES.len()], i)
    };
    let keys = (0..1 + usize::from(i % 3 == 1))
        .map(|_| {
            let mut k = String::new();
            rng.id("AKIA", 16, &mut k);
            k
        })
        .collect();
    let mut principal_id = String::new();
    rng.id("AIDA", 17, &mut principal_id);
    Principal {
        name,
        path: String::new(),
        person,
        keys,
        addresses: addresses(rng, if person { 14 } else { 1 + i % 4 }),
        principal_id,
    }
}

fn role(i: usize, rng: &mut Rng) -> Principal {
    let person = i.is_multiple_of(6);
    let (name, path) = if person {
        let mut suffix = String::new();
        for _ in 0..16 {
            let _ = write!(suffix, "{:x}", rng.below(16));
        }
        (
            format!(
                "AWSReservedSSO_{}_{suffix}",
                SSO_ROLES[(i / 6) % SSO_ROLES.len()]
            ),
            "aws-reserved/sso.amazonaws.com/eu-west-1/".to_owned(),
        )
    } else {
        let name = format!("{}-{}", ROLE_NAMES[i % ROLE_NAMES.len()], i);
        let path = if i % 4 == 1 {
            "service-role/".to_owned()
        } else {
            String::new()
        };
        (name, path)
    };
    let mut principal_id = String::new();
    rng.id("AROA", 17, &mut principal_id);
    Principal {
        name,
        path,
        person,
        keys: Vec::new(),
        addresses: addresses(rng, if person { 12 } else { 2 + i % 3 }),
        principal_id,
    }
}

fn addresses(rng: &mut Rng, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| match rng.below(3) {
            0 => format!(
                "10.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            ),
            1 => format!("203.0.113.{}", 1 + rng.below(254)),
            _ => format!(
                "2001:db8:{:x}::{:x}",
                rng.below(65536),
                1 + rng.below(65535)
            ),
        })
        .collect()
}

/// Writes one record.
struct Gen<'a> {
    rng: &'a mut Rng,
    out: &'a mut String,
    account: &'a str,
    at: DateTime<Utc>,
}

impl Gen<'_> {
    fn time(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    fn user_event(self, u: &Principal) {
        let sign_in = u.person && self.rng.chance(8);
        let temporary = !sign_in && self.rng.chance(5);
        let key = if sign_in {
            None
        } else if temporary {
            let mut k = String::new();
            self.rng.id("ASIA", 16, &mut k);
            Some(k)
        } else {
            Some(self.rng.pick(&u.keys).clone())
        };
        let mut ui = format!(
            r#"{{"type":"IAMUser","principalId":"{}","arn":"arn:aws:iam::{acct}:user/{}","accountId":"{acct}""#,
            u.principal_id,
            u.name,
            acct = self.account
        );
        if let Some(k) = &key {
            let _ = write!(ui, r#","accessKeyId":"{k}""#);
        }
        let _ = write!(ui, r#","userName":"{}""#, u.name);
        if temporary {
            let _ = write!(
                ui,
                r#","sessionContext":{{"attributes":{{"creationDate":"{}","mfaAuthenticated":"true"}}}}"#,
                self.time()
            );
        }
        ui.push('}');
        let agents = if u.person {
            PERSON_AGENTS
        } else {
            MACHINE_AGENTS
        };
        let ip = self.rng.pick(&u.addresses).clone();
        if sign_in {
            let agent = PERSON_AGENTS[0];
            self.console_login(&ui, &ip, agent);
        } else {
            let agent = *self.rng.pick(agents);
            self.api_event(&ui, &ip, agent);
        }
    }

    fn role_event(self, r: &Principal) {
        let session = if r.person {
            format!(
                "{}.{}@example.com",
                self.rng.pick(FIRST),
                self.rng.pick(LAST)
            )
        } else {
            match self.rng.below(3) {
                0 => format!("i-0{:016x}", self.rng.next() >> 4),
                1 => format!(
                    "botocore-session-{}",
                    1_700_000_000 + self.rng.below(9_999_999)
                ),
                _ => format!("ci-run-{}", self.rng.below(5000)),
            }
        };
        let mut key = String::new();
        self.rng.id("ASIA", 16, &mut key);
        let acct = self.account;
        let mut ui = format!(
            r#"{{"type":"AssumedRole","principalId":"{}:{session}","arn":"arn:aws:sts::{acct}:assumed-role/{}/{session}","accountId":"{acct}","accessKeyId":"{key}","sessionContext":{{"#,
            r.principal_id, r.name
        );
        // Some events of roles without a path leave out the issuer, as a few services do; the
        // role's ARN then comes from the STS ARN, which is the same without a path.
        if !r.path.is_empty() || !self.rng.chance(30) {
            let _ = write!(
                ui,
                r#""sessionIssuer":{{"type":"Role","principalId":"{}","arn":"arn:aws:iam::{acct}:role/{}{}","accountId":"{acct}","userName":"{}"}},"#,
                r.principal_id, r.path, r.name, r.name
            );
        }
        let _ = write!(
            ui,
            r#""webIdFederationData":{{}},"attributes":{{"creationDate":"{}","mfaAuthenticated":"false"}}}}}}"#,
            self.time()
        );
        let agents = if r.person {
            PERSON_AGENTS
        } else {
            MACHINE_AGENTS
        };
        let ip = self.rng.pick(&r.addresses).clone();
        let agent = *self.rng.pick(agents);
        self.api_event(&ui, &ip, agent);
    }

    fn root_event(self) {
        let acct = self.account;
        let ui = format!(
            r#"{{"type":"Root","principalId":"{acct}","arn":"arn:aws:iam::{acct}:root","accountId":"{acct}"}}"#
        );
        self.console_login(&ui, "198.51.100.20", PERSON_AGENTS[3]);
    }

    fn service_event(self) {
        let svc = *self.rng.pick(&[
            "cloudtrail.amazonaws.com",
            "config.amazonaws.com",
            "ec2.amazonaws.com",
        ]);
        let ui = format!(r#"{{"type":"AWSService","invokedBy":"{svc}"}}"#);
        self.api_event(&ui, svc, svc);
    }

    fn console_login(self, ui: &str, ip: &str, agent: &str) {
        let success = !self.rng.chance(15);
        let mfa = self.rng.chance(50);
        let mut event_id = String::new();
        self.rng.uuid(&mut event_id);
        let _ = write!(
            self.out,
            r#"{{"eventVersion":"1.09","userIdentity":{ui},"eventTime":"{}","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"{agent}","requestParameters":null,"responseElements":{{"ConsoleLogin":"{}"}},"additionalEventData":{{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_5b7c3a","MobileVersion":"No","MFAIdentifier":"arn:aws:iam::{}:mfa/device","MFAUsed":"{}"}},"eventID":"{event_id}","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"{}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"signin.aws.amazon.com"}}}}"#,
            self.time(),
            if success { "Success" } else { "Failure" },
            self.account,
            if mfa { "Yes" } else { "No" },
            self.account,
        );
    }

    fn api_event(self, ui: &str, ip: &str, agent: &str) {
        let acct = self.account;
        let region = *self.rng.pick(REGIONS);
        let bucket = format!(
            "data-{}-{acct}",
            self.rng.pick(&["raw", "curated", "logs", "backup"])
        );
        let object = format!(
            "{}/{:04}/part-{:05}.parquet",
            self.rng.pick(&["events", "exports"]),
            2024,
            self.rng.below(99999)
        );
        let (source, name, read_only, request, response, resources) = match self.rng.below(12) {
            0 => ("s3.amazonaws.com", "GetObject", true,
                format!(r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"{object}"}}"#),
                "null".to_owned(),
                format!(r#"[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/{object}"}},{{"accountId":"{acct}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#)),
            1 => ("s3.amazonaws.com", "PutObject", false,
                format!(r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"{object}","x-amz-server-side-encryption":"aws:kms"}}"#),
                r#"{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"alias/aws/s3"}"#.to_owned(),
                format!(r#"[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/{object}"}},{{"accountId":"{acct}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#)),
            2 => ("s3.amazonaws.com", "ListBuckets", true,
                r#"{"Host":"s3.amazonaws.com"}"#.to_owned(), "null".to_owned(), String::new()),
            3 => ("sts.amazonaws.com", "GetCallerIdentity", true, "null".to_owned(), "null".to_owned(), String::new()),
            4 => {
                let mut k = String::new();
                self.rng.id("ASIA", 16, &mut k);
                ("sts.amazonaws.com", "AssumeRole", true,
                    format!(r#"{{"roleArn":"arn:aws:iam::{acct}:role/CrossAccountAudit-6","roleSessionName":"audit-{}","durationSeconds":3600}}"#, self.rng.below(1000)),
                    format!(r#"{{"credentials":{{"accessKeyId":"{k}","expiration":"Jan 1, 2025, 1:00:00 AM"}},"assumedRoleUser":{{"assumedRoleId":"AROAEXAMPLE:audit","arn":"arn:aws:sts::{acct}:assumed-role/CrossAccountAudit-6/audit"}}}}"#),
                    format!(r#"[{{"accountId":"{acct}","type":"AWS::IAM::Role","ARN":"arn:aws:iam::{acct}:role/CrossAccountAudit-6"}}]"#))
            }
            5 => ("ec2.amazonaws.com", "DescribeInstances", true,
                r#"{"instancesSet":{},"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"}]}}]}}"#.to_owned(),
                "null".to_owned(), String::new()),
            6 => ("ec2.amazonaws.com", "RunInstances", false,
                format!(r#"{{"instancesSet":{{"items":[{{"imageId":"ami-0{:016x}","minCount":1,"maxCount":1}}]}},"instanceType":"m6i.large","blockDeviceMapping":{{}},"monitoring":{{"enabled":false}},"disableApiTermination":false,"clientToken":"{}"}}"#, self.rng.next() >> 4, self.rng.next()),
                format!(r#"{{"requestId":"r-1","reservationId":"r-0{:016x}","ownerId":"{acct}","groupSet":{{}},"instancesSet":{{"items":[{{"instanceId":"i-0{:016x}","instanceState":{{"code":0,"name":"pending"}}}}]}}}}"#, self.rng.next() >> 4, self.rng.next() >> 4),
                String::new()),
            7 => ("iam.amazonaws.com", "PutRolePolicy", false,
                format!(r#"{{"roleName":"LambdaIngest-1","policyName":"inline-s3","policyDocument":"{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\", \"s3:PutObject\"], \"Resource\": \"arn:aws:s3:::{bucket}/*\"}}]\n}}"}}"#),
                "null".to_owned(), String::new()),
            8 => ("iam.amazonaws.com", "ListUsers", true, r#"{"maxItems":100}"#.to_owned(), "null".to_owned(), String::new()),
            9 => ("kms.amazonaws.com", "Decrypt", true,
                format!(r#"{{"encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::{bucket}"}},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#),
                "null".to_owned(),
                format!(r#"[{{"accountId":"{acct}","type":"AWS::KMS::Key","ARN":"arn:aws:kms:{region}:{acct}:key/{:08x}-1111-2222-3333-444455556666"}}]"#, self.rng.next() >> 32)),
            10 => ("secretsmanager.amazonaws.com", "GetSecretValue", true,
                format!(r#"{{"secretId":"arn:aws:secretsmanager:{region}:{acct}:secret:prod/db-{}"}}"#, self.rng.below(20)),
                "null".to_owned(), String::new()),
            _ => ("logs.amazonaws.com", "CreateLogStream", false,
                format!(r#"{{"logGroupName":"/aws/lambda/ingest","logStreamName":"2024/03/01/[$LATEST]{:032x}"}}"#, (u128::from(self.rng.next()) << 64) | u128::from(self.rng.next())),
                "null".to_owned(), String::new()),
        };
        let mut ids = String::new();
        self.rng.uuid(&mut ids);
        ids.push_str("\",\"eventID\":\"");
        self.rng.uuid(&mut ids);
        let _ = write!(
            self.out,
            r#"{{"eventVersion":"1.09","userIdentity":{ui},"eventTime":"{}","eventSource":"{source}","eventName":"{name}","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"{agent}","#,
            self.time()
        );
        if self.rng.chance(4) {
            let (code, message) = self.rng.pick(ERRORS);
            let _ = write!(
                self.out,
                r#""errorCode":"{code}","errorMessage":"{message}","#
            );
        }
        let _ = write!(
            self.out,
            r#""requestParameters":{request},"responseElements":{response},"requestID":"{ids}","readOnly":{read_only},"#
        );
        if !resources.is_empty() {
            let _ = write!(self.out, r#""resources":{resources},"#);
        }
        let _ = write!(
            self.out,
            r#""eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{acct}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{}.{region}.amazonaws.com"}}}}"#,
            source.trim_end_matches(".amazonaws.com")
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use keyward_model::NhiKind;

    use super::*;
    use crate::agg::Partial;
    use crate::cloudtrail::Trail;

    #[test]
    fn is_valid_json_the_same_for_a_seed_and_sized_like_real_records() {
        let a = generate_cloudtrail(300, 7);
        assert_eq!(a, generate_cloudtrail(300, 7));
        assert_ne!(a, generate_cloudtrail(300, 8));
        let doc: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(doc["Records"].as_array().unwrap().len(), 300);
        let per_record = a.len() / 300;
        assert!((700..2500).contains(&per_record), "{per_record}");
        assert!(generate_cloudtrail(0, 1).starts_with(b"{\"Records\":[]}"));
    }

    #[test]
    fn the_parser_finds_every_generated_identity() {
        let bytes = generate_cloudtrail(IDENTITIES, 3);
        let mut trail = Trail::default();
        trail.read(Path::new("gen.json"), &bytes).unwrap();
        let nhis = trail.into_nhis(10);
        assert_eq!(nhis.len(), IDENTITIES);
        let count = |k: NhiKind| nhis.iter().filter(|n| n.kind == k).count();
        assert_eq!(count(NhiKind::IamUser), USERS);
        assert_eq!(count(NhiKind::IamRole), ROLES);
        assert_eq!(count(NhiKind::Other), 1);
        // Each identity was named by exactly one record.
        assert!(nhis.iter().all(|n| n.facts["events"] == 1));
        let sso = nhis
            .iter()
            .filter(|n| {
                n.external_id
                    .contains(":role/aws-reserved/sso.amazonaws.com/eu-west-1/")
            })
            .count();
        assert_eq!(sso, ROLES.div_ceil(6));
        let paths = nhis
            .iter()
            .filter(|n| n.external_id.contains(":role/service-role/"))
            .count();
        assert_eq!(
            paths,
            (0..ROLES).filter(|i| i % 4 == 1 && i % 6 != 0).count()
        );
    }
}
