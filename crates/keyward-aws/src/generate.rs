//! A realistic authorization-details document of any size, for benchmarks and tests: customer
//! and AWS-managed policies with several versions, groups, inline policies (some URL-encoded,
//! as the raw API returns them), permissions boundaries, every kind of trust (services with
//! instance profiles, other accounts with an external id, GitHub and EKS OIDC with and
//! without a subject condition, SAML SSO), service-linked roles, tags naming owners and
//! environments, and admins planted at known places.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::document::url_encode;

/// A generated document and what was planted in it.
#[derive(Debug, Clone)]
pub struct GeneratedAccount {
    /// The `get-account-authorization-details` JSON.
    pub document: String,
    /// The account id every ARN in it uses.
    pub account: String,
    /// ARNs of the users and roles that were given admin (sorted).
    pub admin_arns: Vec<String>,
}

/// A realistic authorization-details JSON with `roles` roles and `users` users; the same
/// arguments always give the same document.
pub fn generate_authorization_details(roles: usize, users: usize, seed: u64) -> String {
    generate_account(roles, users, seed).document
}

/// Like [`generate_authorization_details`], also saying which identities were made admin.
pub fn generate_account(roles: usize, users: usize, seed: u64) -> GeneratedAccount {
    let mut g = Gen {
        rng: Rng(seed ^ 0x9e37_79b9_7f4a_7c15),
        account: String::new(),
        admins: Vec::new(),
        customer: Vec::new(),
    };
    g.account = format!("{:012}", 100_000_000_000 + g.rng.below(899_999_999_999));
    let policies = g.policies(roles + users);
    let groups = g.groups();
    let user_list: Vec<Value> = (0..users).map(|i| g.user(i)).collect();
    let role_list: Vec<Value> = (0..roles).map(|i| g.role(i)).collect();
    let doc = json!({
        "UserDetailList": user_list,
        "GroupDetailList": groups,
        "RoleDetailList": role_list,
        "Policies": policies,
    });
    g.admins.sort();
    GeneratedAccount {
        document: serde_json::to_string_pretty(&doc).unwrap_or_default(),
        account: g.account,
        admin_arns: g.admins,
    }
}

/// splitmix64: small, fast, and the same on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn index(&mut self, n: usize) -> usize {
        usize::try_from(self.below(n as u64)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const TEAMS: &[&str] = &[
    "payments", "platform", "search", "identity", "data", "mobile", "billing", "growth",
];
const APPS: &[&str] = &[
    "api", "worker", "ingest", "etl", "web", "cron", "exporter", "sync", "gateway", "indexer",
];
/// Realistic action sets, by what a service identity typically does.
const ACTION_SETS: &[&[&str]] = &[
    &["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
    &["s3:GetObject", "s3:ListBucket"],
    &[
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ],
    &[
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ],
    &["sns:Publish"],
    &["kms:Decrypt", "kms:GenerateDataKey"],
    &["secretsmanager:GetSecretValue"],
    &[
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ],
    &[
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ],
    &[
        "ecs:UpdateService",
        "ecs:DescribeServices",
        "ecs:RegisterTaskDefinition",
    ],
    &["lambda:InvokeFunction"],
    &["cloudwatch:PutMetricData"],
    &["ssm:GetParameter", "ssm:GetParametersByPath"],
    &["s3:*"],
    &["dynamodb:*"],
    &["ec2:Describe*"],
    &["iam:PassRole"],
    &["sts:AssumeRole"],
];

impl Gen {
    fn time(&mut self, from_days: i64, span_days: u64) -> String {
        let base = DateTime::<Utc>::from_timestamp(1_546_300_800, 0).unwrap_or_default();
        let t = base
            + Duration::days(from_days + i64::try_from(self.rng.below(span_days)).unwrap_or(0))
            + Duration::seconds(i64::try_from(self.rng.below(86_400)).unwrap_or(0));
        t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    }

    fn id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let tail: String = (0..17)
            .map(|_| char::from(*self.rng.pick(ALPHABET)))
            .collect();
        format!("{prefix}{tail}")
    }

    fn arn(&self, rest: &str) -> String {
        format!("arn:aws:iam::{}:{rest}", self.account)
    }

    fn statement(&mut self, resource_star: bool) -> Value {
        let actions = self.rng.pick(ACTION_SETS).to_vec();
        let service = actions[0].split(':').next().unwrap_or("s3").to_owned();
        let resource = if resource_star || self.rng.chance(30) {
            json!("*")
        } else {
            let team = *self.rng.pick(TEAMS);
            json!([format!(
                "arn:aws:{service}:eu-west-1:{}:{team}-*",
                self.account
            )])
        };
        let mut s = json!({"Effect": "Allow", "Action": actions, "Resource": resource});
        if self.rng.chance(15) {
            s["Condition"] = json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}});
        }
        if self.rng.chance(40) {
            s["Sid"] = json!(format!("Stmt{}", self.rng.below(1_000_000)));
        }
        s
    }

    fn document(&mut self, statements: usize) -> Value {
        let mut list: Vec<Value> = (0..statements).map(|_| self.statement(false)).collect();
        if self.rng.chance(10) {
            list.push(json!({"Effect": "Deny", "Action": ["s3:DeleteBucket", "kms:ScheduleKeyDeletion"], "Resource": "*"}));
        }
        json!({"Version": "2012-10-17", "Statement": list})
    }

    /// Customer-managed policies first (indexes into this list are what identities attach),
    /// then the AWS-managed ones the account uses.
    fn policies(&mut self, identities: usize) -> Vec<Value> {
        let count = (identities / 40).clamp(8, 400);
        let mut out = Vec::with_capacity(count + AWS_MANAGED.len());
        for i in 0..count {
            let team = *self.rng.pick(TEAMS);
            let app = *self.rng.pick(APPS);
            let name = format!("{team}-{app}-access-{i}");
            let versions = 1 + self.rng.index(3);
            let created = self.time(0, 900);
            let list: Vec<Value> = (0..versions)
                .map(|v| {
                    let n = 1 + self.rng.index(3);
                    json!({
                        "Document": self.document(n),
                        "VersionId": format!("v{}", versions - v),
                        "IsDefaultVersion": v == 0,
                        "CreateDate": created,
                    })
                })
                .collect();
            let arn = self.arn(&format!("policy/{team}/{name}"));
            self.customer.push((name.clone(), arn.clone()));
            out.push(json!({
                "PolicyName": name,
                "PolicyId": self.id("ANPA"),
                "Arn": arn,
                "Path": format!("/{team}/"),
                "DefaultVersionId": format!("v{versions}"),
                "AttachmentCount": 1 + self.rng.below(20),
                "PermissionsBoundaryUsageCount": 0,
                "IsAttachable": true,
                "CreateDate": created,
                "UpdateDate": created,
                "PolicyVersionList": list,
            }));
        }
        for (name, doc) in AWS_MANAGED {
            out.push(json!({
                "PolicyName": name,
                "PolicyId": self.id("ANPA"),
                "Arn": format!("arn:aws:iam::aws:policy/{name}"),
                "Path": "/",
                "DefaultVersionId": "v1",
                "AttachmentCount": 1,
                "PermissionsBoundaryUsageCount": null,
                "IsAttachable": true,
                "CreateDate": "2015-02-06T18:39:46+00:00",
                "UpdateDate": "2015-02-06T18:39:46+00:00",
                "PolicyVersionList": [{
                    "Document": serde_json::from_str::<Value>(doc).unwrap_or(Value::Null),
                    "VersionId": "v1",
                    "IsDefaultVersion": true,
                    "CreateDate": "2015-02-06T18:39:46+00:00",
                }],
            }));
        }
        out
    }

    fn attachment(&mut self) -> Value {
        // Mostly the account's own policies, sometimes an AWS-managed one (never
        // AdministratorAccess, which is only planted).
        let customer = self.customer.len();
        let i = if self.rng.chance(85) {
            self.rng.index(customer)
        } else {
            customer + 1 + self.rng.index(AWS_MANAGED.len() - 1)
        };
        self.attachment_at(i)
    }

    fn attachment_at(&self, i: usize) -> Value {
        match self.customer.get(i) {
            Some((name, arn)) => json!({"PolicyName": name, "PolicyArn": arn}),
            None => {
                let name = AWS_MANAGED
                    .get(i - self.customer.len())
                    .map_or("ReadOnlyAccess", |p| p.0);
                json!({"PolicyName": name, "PolicyArn": format!("arn:aws:iam::aws:policy/{name}")})
            }
        }
    }

    fn policy_arn(&self, i: usize) -> String {
        self.customer
            .get(i)
            .map(|p| p.1.clone())
            .unwrap_or_default()
    }

    fn inline(&mut self, name: &str) -> Value {
        let n = 1 + self.rng.index(2);
        let doc = self.document(n);
        // The raw API (and so the SDKs) returns documents URL-encoded; the CLI decodes them.
        let doc = if self.rng.chance(25) {
            json!(url_encode(&doc.to_string()))
        } else {
            doc
        };
        json!({"PolicyName": name, "PolicyDocument": doc})
    }

    fn tags(&mut self, team: &str) -> Value {
        let mut tags = Vec::new();
        if self.rng.chance(70) {
            let owner = if self.rng.chance(50) {
                format!("team:{team}")
            } else {
                format!("{}.{}@example.com", self.rng.pick(PEOPLE), team)
            };
            tags.push(
                json!({"Key": if self.rng.chance(50) { "owner" } else { "Owner" }, "Value": owner}),
            );
        }
        if self.rng.chance(60) {
            let env = *self
                .rng
                .pick(&["prod", "production", "staging", "dev", "test", "sandbox"]);
            tags.push(json!({"Key": *self.rng.pick(&["env", "Environment", "environment"]), "Value": env}));
        }
        if self.rng.chance(30) {
            tags.push(json!({"Key": "cost-center", "Value": format!("cc-{}", 1000 + self.rng.below(9000))}));
        }
        Value::Array(tags)
    }

    fn groups(&self) -> Vec<Value> {
        let group = |name: &str, attached: Vec<Value>, inline: Vec<Value>| {
            json!({
                "Path": "/",
                "GroupName": name,
                "GroupId": format!("AGPA{}", name.to_ascii_uppercase()),
                "Arn": self.arn(&format!("group/{name}")),
                "CreateDate": "2019-03-04T10:11:12+00:00",
                "GroupPolicyList": inline,
                "AttachedManagedPolicies": attached,
            })
        };
        let aws = |name: &str| json!({"PolicyName": name, "PolicyArn": format!("arn:aws:iam::aws:policy/{name}")});
        vec![
            group("admins", vec![aws("AdministratorAccess")], vec![]),
            group("readers", vec![aws("ReadOnlyAccess")], vec![]),
            group(
                "deployers",
                vec![self.attachment_at(0)],
                vec![json!({"PolicyName": "deploy-pass-role", "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "ecs:UpdateService"], "Resource": "*"}]
                }})],
            ),
            group("power-users", vec![aws("PowerUserAccess")], vec![]),
        ]
    }

    fn user(&mut self, i: usize) -> Value {
        let team = *self.rng.pick(TEAMS);
        let app = *self.rng.pick(APPS);
        let name = format!("svc-{team}-{app}-{i}");
        let arn = self.arn(&format!("user/service/{name}"));
        let mut groups = Vec::new();
        let mut attached = Vec::new();
        let mut inline = Vec::new();
        for _ in 0..self.rng.index(3) {
            attached.push(self.attachment());
        }
        if self.rng.chance(30) {
            inline.push(self.inline(&format!("{name}-inline")));
        }
        if self.rng.chance(20) {
            groups.push(json!(*self.rng.pick(&[
                "readers",
                "deployers",
                "power-users"
            ])));
        }
        // Every 25th user is an admin, three ways round.
        if i.is_multiple_of(25) {
            match (i / 25) % 3 {
                0 => groups.push(json!("admins")),
                1 => attached.push(json!({"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})),
                _ => inline.push(json!({"PolicyName": "break-glass", "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
                }})),
            }
            self.admins.push(arn.clone());
        }
        let mut u = json!({
            "Path": "/service/",
            "UserName": name,
            "UserId": self.id("AIDA"),
            "Arn": arn,
            "CreateDate": self.time(0, 1500),
            "UserPolicyList": inline,
            "GroupList": groups,
            "AttachedManagedPolicies": attached,
            "Tags": self.tags(team),
        });
        if self.rng.chance(10) {
            u["PermissionsBoundary"] = json!({
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": self.policy_arn(0),
            });
        }
        u
    }

    fn trust(&mut self, team: &str, app: &str) -> (Value, &'static str, bool) {
        let github = format!(
            "arn:aws:iam::{}:oidc-provider/token.actions.githubusercontent.com",
            self.account
        );
        let roll = self.rng.below(100);
        let (principal, action, condition, path, profile) = match roll {
            0..=34 => {
                let svc = *self.rng.pick(&[
                    "ec2.amazonaws.com",
                    "lambda.amazonaws.com",
                    "ecs-tasks.amazonaws.com",
                ]);
                (
                    json!({"Service": svc}),
                    "sts:AssumeRole",
                    None,
                    "/",
                    svc.starts_with("ec2"),
                )
            }
            35..=49 => {
                let other = format!("{:012}", 200_000_000_000 + self.rng.below(99_999_999_999));
                let cond = self.rng.chance(70).then(|| json!({"StringEquals": {"sts:ExternalId": format!("ext-{}", self.rng.below(1_000_000))}}));
                (
                    json!({"AWS": format!("arn:aws:iam::{other}:root")}),
                    "sts:AssumeRole",
                    cond,
                    "/",
                    false,
                )
            }
            50..=64 => {
                // Most pin the repository; some trust every repository on GitHub.
                let cond = if self.rng.chance(80) {
                    json!({
                        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                        "StringLike": {"token.actions.githubusercontent.com:sub": format!("repo:example/{team}-{app}:*")},
                    })
                } else {
                    json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}})
                };
                (
                    json!({"Federated": github}),
                    "sts:AssumeRoleWithWebIdentity",
                    Some(cond),
                    "/ci/",
                    false,
                )
            }
            65..=79 => {
                let issuer = format!(
                    "oidc.eks.eu-west-1.amazonaws.com/id/{:032X}",
                    self.rng.next()
                );
                let provider = format!("arn:aws:iam::{}:oidc-provider/{issuer}", self.account);
                let cond = json!({"StringEquals": {
                    format!("{issuer}:sub"): format!("system:serviceaccount:{team}:{app}"),
                    format!("{issuer}:aud"): "sts.amazonaws.com",
                }});
                (
                    json!({"Federated": provider}),
                    "sts:AssumeRoleWithWebIdentity",
                    Some(cond),
                    "/eks/",
                    false,
                )
            }
            80..=89 => {
                let account = self.account.clone();
                (
                    json!({"AWS": format!("arn:aws:iam::{account}:root")}),
                    "sts:AssumeRole",
                    None,
                    "/",
                    false,
                )
            }
            90..=94 => {
                let saml = format!(
                    "arn:aws:iam::{}:saml-provider/AWSSSO_{:016x}_DO_NOT_DELETE",
                    self.account,
                    self.rng.next()
                );
                (
                    json!({"Federated": saml}),
                    "sts:AssumeRoleWithSAML",
                    Some(
                        json!({"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}),
                    ),
                    "/aws-reserved/sso.amazonaws.com/",
                    false,
                )
            }
            _ => {
                let svc = *self.rng.pick(&[
                    "ecs.amazonaws.com",
                    "autoscaling.amazonaws.com",
                    "rds.amazonaws.com",
                ]);
                (
                    json!({"Service": svc}),
                    "sts:AssumeRole",
                    None,
                    "/aws-service-role/",
                    false,
                )
            }
        };
        let mut s = json!({"Effect": "Allow", "Principal": principal, "Action": action});
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        (
            json!({"Version": "2012-10-17", "Statement": [s]}),
            path,
            profile,
        )
    }

    fn role(&mut self, i: usize) -> Value {
        let team = *self.rng.pick(TEAMS);
        let app = *self.rng.pick(APPS);
        let (trust, path, profile) = self.trust(team, app);
        let name = if path == "/aws-reserved/sso.amazonaws.com/" {
            format!("AWSReservedSSO_{team}-{app}_{:016x}", self.rng.next())
        } else if path == "/aws-service-role/" {
            format!("AWSServiceRoleFor{team}{app}{i}")
        } else {
            format!("{team}-{app}-role-{i}")
        };
        let arn = self.arn(&format!("role{path}{name}"));
        let mut attached = Vec::new();
        let mut inline = Vec::new();
        for _ in 0..(1 + self.rng.index(3)) {
            attached.push(self.attachment());
        }
        if self.rng.chance(40) {
            inline.push(self.inline(&format!("{name}-inline")));
        }
        if i.is_multiple_of(20) {
            if (i / 20).is_multiple_of(2) {
                attached.push(json!({"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}));
            } else {
                inline.push(json!({"PolicyName": "full-access", "PolicyDocument": url_encode(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*:*","Resource":["*"]}]}"#
                )}));
            }
            self.admins.push(arn.clone());
        }
        let created = self.time(0, 1500);
        let profiles = if profile {
            vec![json!({
                "Path": "/",
                "InstanceProfileName": name,
                "InstanceProfileId": self.id("AIPA"),
                "Arn": self.arn(&format!("instance-profile/{name}")),
                "CreateDate": created,
                "Roles": [{"Path": path, "RoleName": name, "RoleId": "", "Arn": arn, "CreateDate": created, "AssumeRolePolicyDocument": trust}],
            })]
        } else {
            vec![]
        };
        let last_used = if self.rng.chance(70) {
            json!({"LastUsedDate": self.time(1400, 330), "Region": *self.rng.pick(&["eu-west-1", "us-east-1", "eu-central-1"])})
        } else {
            json!({})
        };
        json!({
            "Path": path,
            "RoleName": name,
            "RoleId": self.id("AROA"),
            "Arn": arn,
            "CreateDate": created,
            "AssumeRolePolicyDocument": trust,
            "InstanceProfileList": profiles,
            "RolePolicyList": inline,
            "AttachedManagedPolicies": attached,
            "Tags": self.tags(team),
            "RoleLastUsed": last_used,
        })
    }
}

struct Gen {
    rng: Rng,
    account: String,
    admins: Vec<String>,
    /// Names and ARNs of the customer-managed policies.
    customer: Vec<(String, String)>,
}

const PEOPLE: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank", "grace"];

/// AWS-managed policies as exports list them (documents abridged to a few statements).
/// `AdministratorAccess` comes first: [`Gen::attachment`] never picks it at random.
const AWS_MANAGED: &[(&str, &str)] = &[
    (
        "AdministratorAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "ReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","ec2:Describe*","iam:Get*","iam:List*","dynamodb:Describe*","logs:Get*"],"Resource":"*"}]}"#,
    ),
    (
        "PowerUserAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonS3ReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    ),
    (
        "AWSLambdaBasicExecutionRole",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
];
