//! The production AWS account: its IAM export, its credential report and a few days of
//! CloudTrail, as `aws iam get-account-authorization-details`, `aws iam get-credential-report`
//! and CloudTrail's S3 delivery write them.

use chrono::{DateTime, Datelike, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::{Ctx, SERVICE_REPOSITORY, rfc3339};
use crate::nhis::{ALNUM, UPPER_ALNUM};
use crate::pools::ORG;

/// The alphabet of IAM unique ids and access key ids after their prefix.
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The region everything runs in.
const REGION: &str = "eu-west-1";

/// The GitHub OIDC provider's host, as trust policies and condition keys name it.
const GITHUB_OIDC: &str = "token.actions.githubusercontent.com";

/// The CLI on a GitHub-hosted runner.
const RUNNER_CLI: &str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-azure exe/x86_64.ubuntu.22 prompt/off command/ecs.update-service";
/// The CLI on someone's laptop.
const LAPTOP_CLI: &str =
    "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/s3.cp";
/// A browser.
const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
/// The S3 console, calling on the signed-in person's behalf.
const S3_CONSOLE: &str = "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.217-183.860.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard]";
/// The payments API's SDK.
const TASK_SDK: &str = "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/dynamodb#1.31.1";

/// An instant as the IAM export writes it.
fn iam_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// One IAM identity of the export: its name and the unique id IAM and CloudTrail show.
struct Identity {
    name: &'static str,
    id: String,
}

/// The account's identities, drawn once so the export, the report and the trail agree.
struct Account {
    acct: String,
    /// `reporting-export`: a service user a person signs in as.
    reporting: Identity,
    /// `ci-deploy`: the deploy user whose key sits in the payments repository's secrets.
    deploy: Identity,
    deploy_key: String,
    /// `legacy-backup`: nobody has used it for months; its owner has left.
    backup: Identity,
    /// `github-actions-deploy`: the OIDC role without a subject condition.
    oidc_role: Identity,
    /// `payments-api-task`: the payments API's ECS task role.
    task_role: Identity,
}

/// The AWS files, relative to the sources directory.
pub(super) fn files(ctx: &mut Ctx) -> Vec<(String, String)> {
    let mut id = |prefix: &str| format!("{prefix}{}", ctx.chars(BASE32, 17));
    let (reporting, deploy, backup, oidc_role, task_role) =
        (id("AIDA"), id("AIDA"), id("AIDA"), id("AROA"), id("AROA"));
    let a = Account {
        acct: ctx.account.clone(),
        reporting: Identity {
            name: "reporting-export",
            id: reporting,
        },
        deploy: Identity {
            name: "ci-deploy",
            id: deploy,
        },
        deploy_key: format!("AKIA{}", ctx.chars(BASE32, 16)),
        backup: Identity {
            name: "legacy-backup",
            id: backup,
        },
        oidc_role: Identity {
            name: "github-actions-deploy",
            id: oidc_role,
        },
        task_role: Identity {
            name: "payments-api-task",
            id: task_role,
        },
    };
    let mut out = vec![
        (
            "aws/authorization-details.json".to_owned(),
            authorization_details(ctx, &a),
        ),
        (
            "aws/credential-report.csv".to_owned(),
            credential_report(ctx, &a),
        ),
    ];
    out.extend(cloudtrail(ctx, &a));
    out
}

fn tags(owner: &str, environment: &str, team: &str) -> Value {
    json!([
        {"Key": "owner", "Value": owner},
        {"Key": "environment", "Value": environment},
        {"Key": "team", "Value": team},
    ])
}

fn managed(name: &str) -> Value {
    json!({"PolicyName": name, "PolicyArn": format!("arn:aws:iam::aws:policy/{name}")})
}

fn allow(actions: &[&str], resource: Value) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": resource})
}

fn document(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn authorization_details(ctx: &mut Ctx, a: &Account) -> String {
    let acct = &a.acct;
    let arn = |rest: &str| format!("arn:aws:iam::{acct}:{rest}");
    let created = |ctx: &mut Ctx, min: i64, max: i64| {
        let days = ctx.rng.gen_range(min..=max);
        let secs = ctx.rng.gen_range(0..86_400);
        iam_time(ctx.ago(days, secs))
    };
    let user = |ctx: &mut Ctx,
                who: &Identity,
                attached: Vec<Value>,
                inline: Vec<Value>,
                groups: Vec<&str>,
                tags: Value| {
        json!({
            "Path": "/",
            "UserName": who.name,
            "UserId": who.id,
            "Arn": arn(&format!("user/{}", who.name)),
            "CreateDate": created(ctx, 400, 1400),
            "UserPolicyList": inline,
            "GroupList": groups,
            "AttachedManagedPolicies": attached,
            "Tags": tags,
        })
    };
    let (data_owner, leaver) = (ctx.member("data", 1), ctx.leaver());
    let users = vec![
        user(
            ctx,
            &a.reporting,
            vec![managed("AmazonS3ReadOnlyAccess")],
            vec![
                json!({"PolicyName": "athena-reports", "PolicyDocument": document(vec![allow(
                    &["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "glue:GetTable"],
                    json!("*"),
                )])}),
            ],
            vec![],
            tags(&data_owner, "production", "data"),
        ),
        user(
            ctx,
            &a.deploy,
            vec![managed("AdministratorAccess")],
            vec![],
            vec![],
            tags("team:platform", "production", "platform"),
        ),
        user(
            ctx,
            &a.backup,
            vec![],
            vec![
                json!({"PolicyName": "backup-everything", "PolicyDocument": document(vec![allow(
                    &["s3:*"],
                    json!("*"),
                )])}),
            ],
            vec!["backup-operators"],
            tags(&leaver, "production", "platform"),
        ),
    ];
    let groups = vec![json!({
        "Path": "/",
        "GroupName": "backup-operators",
        "GroupId": format!("AGPA{}", ctx.chars(BASE32, 17)),
        "Arn": arn("group/backup-operators"),
        "CreateDate": created(ctx, 1000, 1400),
        "GroupPolicyList": [{"PolicyName": "snapshots", "PolicyDocument": document(vec![allow(
            &["ec2:CreateSnapshot", "ec2:DescribeSnapshots", "rds:CreateDBSnapshot"],
            json!("*"),
        )])}],
        "AttachedManagedPolicies": [],
    })];

    let github_provider = arn(&format!("oidc-provider/{GITHUB_OIDC}"));
    let aud = format!("{GITHUB_OIDC}:aud");
    let sub = format!("{GITHUB_OIDC}:sub");
    let trust = |principal: Value, action: &str, condition: Option<Value>| {
        let mut s = json!({"Effect": "Allow", "Principal": principal, "Action": action});
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        document(vec![s])
    };
    let mut last_used = |days: i64| {
        let secs = ctx.rng.gen_range(0..40_000);
        json!({"LastUsedDate": iam_time(ctx.ago(days, secs)), "Region": REGION})
    };
    let used = [last_used(1), last_used(3), last_used(0)];
    let role = |ctx: &mut Ctx,
                who: (&str, &str, &str),
                trust: Value,
                attached: Vec<Value>,
                inline: Vec<Value>,
                tags: Value,
                used: Value| {
        let (path, name, id) = who;
        json!({
            "Path": path,
            "RoleName": name,
            "RoleId": id,
            "Arn": arn(&format!("role{path}{name}")),
            "CreateDate": created(ctx, 200, 900),
            "AssumeRolePolicyDocument": trust,
            "InstanceProfileList": [],
            "RolePolicyList": inline,
            "AttachedManagedPolicies": attached,
            "Tags": tags,
            "RoleLastUsed": used,
        })
    };
    let partner = format!(
        "{}",
        200_000_000_000u64 + ctx.rng.gen_range(0..99_999_999_999u64)
    );
    let terraform_id = format!("AROA{}", ctx.chars(BASE32, 17));
    let audit_id = format!("AROA{}", ctx.chars(BASE32, 17));
    let external_id = format!("northwind-{}", ctx.chars(ALNUM, 12));
    let roles = vec![
        // Trusts every repository on GitHub: the audience is checked, the subject is not.
        role(
            ctx,
            ("/ci/", a.oidc_role.name, &a.oidc_role.id),
            trust(
                json!({"Federated": github_provider}),
                "sts:AssumeRoleWithWebIdentity",
                Some(json!({"StringEquals": {aud.clone(): "sts.amazonaws.com"}})),
            ),
            vec![],
            vec![
                json!({"PolicyName": "deploy-payments-api", "PolicyDocument": document(vec![
                    allow(&["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"], json!("*")),
                    allow(&["ecs:UpdateService", "ecs:DescribeServices", "ecs:RegisterTaskDefinition"], json!(format!("arn:aws:ecs:{REGION}:{acct}:service/payments/*"))),
                    allow(&["iam:PassRole"], json!("*")),
                ])}),
            ],
            tags("team:platform", "production", "platform"),
            used[0].clone(),
        ),
        role(
            ctx,
            ("/ci/", "terraform-apply", &terraform_id),
            trust(
                json!({"Federated": github_provider}),
                "sts:AssumeRoleWithWebIdentity",
                Some(json!({
                    "StringEquals": {aud: "sts.amazonaws.com"},
                    "StringLike": {sub: format!("repo:{ORG}/terraform:ref:refs/heads/main")},
                })),
            ),
            vec![managed("AdministratorAccess")],
            vec![],
            tags("team:platform", "production", "platform"),
            used[1].clone(),
        ),
        role(
            ctx,
            ("/", a.task_role.name, &a.task_role.id),
            trust(
                json!({"Service": "ecs-tasks.amazonaws.com"}),
                "sts:AssumeRole",
                None,
            ),
            vec![],
            vec![
                json!({"PolicyName": "payments-tables", "PolicyDocument": document(vec![
                    allow(&["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"], json!(format!("arn:aws:dynamodb:{REGION}:{acct}:table/payments-*"))),
                    allow(&["sqs:SendMessage"], json!(format!("arn:aws:sqs:{REGION}:{acct}:payments-events"))),
                ])}),
            ],
            tags("team:payments", "production", "payments"),
            used[2].clone(),
        ),
        role(
            ctx,
            ("/", "partner-audit-readonly", &audit_id),
            trust(
                json!({"AWS": format!("arn:aws:iam::{partner}:root")}),
                "sts:AssumeRole",
                Some(json!({"StringEquals": {"sts:ExternalId": external_id}})),
            ),
            vec![managed("ReadOnlyAccess")],
            vec![],
            tags("team:security", "production", "security"),
            json!({}),
        ),
    ];
    let aws_policy = |ctx: &mut Ctx, name: &str, statements: Vec<Value>| {
        json!({
            "PolicyName": name,
            "PolicyId": format!("ANPA{}", ctx.chars(BASE32, 17)),
            "Arn": format!("arn:aws:iam::aws:policy/{name}"),
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 1,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": true,
            "CreateDate": "2015-02-06T18:39:46+00:00",
            "UpdateDate": "2015-02-06T18:39:46+00:00",
            "PolicyVersionList": [{
                "Document": document(statements),
                "VersionId": "v1",
                "IsDefaultVersion": true,
                "CreateDate": "2015-02-06T18:39:46+00:00",
            }],
        })
    };
    let policies = vec![
        aws_policy(ctx, "AdministratorAccess", vec![allow(&["*"], json!("*"))]),
        aws_policy(
            ctx,
            "ReadOnlyAccess",
            vec![allow(
                &[
                    "s3:Get*",
                    "s3:List*",
                    "ec2:Describe*",
                    "iam:Get*",
                    "iam:List*",
                    "dynamodb:Describe*",
                    "logs:Get*",
                ],
                json!("*"),
            )],
        ),
        aws_policy(
            ctx,
            "AmazonS3ReadOnlyAccess",
            vec![allow(&["s3:Get*", "s3:List*"], json!("*"))],
        ),
    ];
    let doc = json!({
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// The credential report's header, as IAM writes it.
const REPORT_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

fn credential_report(ctx: &mut Ctx, a: &Account) -> String {
    let acct = &a.acct;
    let jitter = 3_000 + ctx.rng.gen_range(0..3_000);
    let ctx: &Ctx = ctx;
    let t = |ctx: &Ctx, days: i64, secs: i64| rfc3339(ctx.ago(days, secs)).replace('Z', "+00:00");
    let no_key = "false,N/A,N/A,N/A,N/A";
    let no_certs = "false,N/A,false,N/A";
    let rows = [
        format!(
            "<root_account>,arn:aws:iam::{acct}:root,{},not_supported,{},not_supported,not_supported,true,{no_key},{no_key},{no_certs}",
            t(ctx, 1900, 3_600),
            t(ctx, 41, 7_200),
        ),
        // A console password on a service user, used two days ago, without MFA.
        format!(
            "{},arn:aws:iam::{acct}:user/{},{},true,{},{},N/A,false,{no_key},{no_key},{no_certs}",
            a.reporting.name,
            a.reporting.name,
            t(ctx, 900, 1_000),
            t(ctx, 2, 5_000),
            t(ctx, 610, 9_000),
        ),
        // One key, never rotated, used by every deploy.
        format!(
            "{},arn:aws:iam::{acct}:user/{},{},false,N/A,N/A,N/A,false,true,{},{},{REGION},ecs,{no_key},{no_certs}",
            a.deploy.name,
            a.deploy.name,
            t(ctx, 700, 2_000),
            t(ctx, 700, 1_000),
            t(ctx, 0, jitter),
        ),
        // Last used half a year ago.
        format!(
            "{},arn:aws:iam::{acct}:user/{},{},false,N/A,N/A,N/A,false,true,{},{},{REGION},s3,{no_key},{no_certs}",
            a.backup.name,
            a.backup.name,
            t(ctx, 1500, 4_000),
            t(ctx, 1500, 3_000),
            t(ctx, 190, 20_000),
        ),
    ];
    let mut out = String::from(REPORT_HEADER);
    out.push('\n');
    for r in rows {
        out.push_str(&r);
        out.push('\n');
    }
    out
}

/// An address from a documentation range, standing for a GitHub-hosted runner.
fn runner_ip(ctx: &mut Ctx) -> String {
    format!(
        "198.18.{}.{}",
        ctx.rng.gen_range(0..=255),
        ctx.rng.gen_range(1..=254)
    )
}

fn uuid(ctx: &mut Ctx) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    let h = ctx.chars(HEX, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// One CloudTrail record.
struct Call<'a> {
    at: DateTime<Utc>,
    identity: Value,
    source: &'a str,
    name: &'a str,
    ip: String,
    agent: &'a str,
    request: Value,
    response: Value,
    extra: Option<(&'a str, Value)>,
}

impl Call<'_> {
    fn record(self, ctx: &mut Ctx) -> Value {
        let console = self.name == "ConsoleLogin";
        let mut r = json!({
            "eventVersion": "1.09",
            "userIdentity": self.identity,
            "eventTime": rfc3339(self.at),
            "eventSource": self.source,
            "eventName": self.name,
            "awsRegion": if console { "us-east-1" } else { REGION },
            "sourceIPAddress": self.ip,
            "userAgent": self.agent,
            "requestParameters": self.request,
            "responseElements": self.response,
            "requestID": uuid(ctx),
            "eventID": uuid(ctx),
            "readOnly": self.name.starts_with("Get") || self.name.starts_with("List") || self.name.starts_with("Describe"),
            "eventType": if console { "AwsConsoleSignIn" } else { "AwsApiCall" },
            "managementEvent": true,
            "recipientAccountId": ctx.account,
            "eventCategory": "Management",
        });
        if let Some((k, v)) = self.extra {
            r[k] = v;
        }
        r
    }
}

fn cloudtrail(ctx: &mut Ctx, a: &Account) -> Vec<(String, String)> {
    let acct = a.acct.clone();
    let user = |who: &Identity, key: &str| {
        json!({
            "type": "IAMUser",
            "principalId": who.id,
            "arn": format!("arn:aws:iam::{acct}:user/{}", who.name),
            "accountId": acct,
            "accessKeyId": key,
            "userName": who.name,
        })
    };
    let assumed = |who: &Identity, path: &str, session: &str, key: &str, at: DateTime<Utc>| {
        json!({
            "type": "AssumedRole",
            "principalId": format!("{}:{session}", who.id),
            "arn": format!("arn:aws:sts::{acct}:assumed-role/{}/{session}", who.name),
            "accountId": acct,
            "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": who.id,
                    "arn": format!("arn:aws:iam::{acct}:role{path}{}", who.name),
                    "accountId": acct,
                    "userName": who.name,
                },
                "attributes": {"creationDate": rfc3339(at), "mfaAuthenticated": "false"},
            },
        })
    };
    let update_service =
        json!({"cluster": "payments", "service": SERVICE_REPOSITORY, "forceNewDeployment": true});
    let mut calls: Vec<Call<'static>> = Vec::new();

    // A person signs in to the console as the reporting user and browses the exports.
    let office = format!("203.0.113.{}", ctx.rng.gen_range(10..=250));
    let secs = 30_000 + ctx.rng.gen_range(0..3_600);
    let login = ctx.ago(2, secs);
    let console_key = format!("ASIA{}", ctx.chars(BASE32, 16));
    calls.push(Call {
        at: login,
        identity: user(&a.reporting, &console_key),
        source: "signin.amazonaws.com",
        name: "ConsoleLogin",
        ip: office.clone(),
        agent: BROWSER,
        request: Value::Null,
        response: json!({"ConsoleLogin": "Success"}),
        extra: Some((
            "additionalEventData",
            json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"}),
        )),
    });
    for (i, (name, key)) in (0i64..).zip([
        ("ListBuckets", Value::Null),
        (
            "ListObjects",
            json!({"bucketName": "northwind-reports", "prefix": "exports/2026/"}),
        ),
        (
            "GetObject",
            json!({"bucketName": "northwind-reports", "key": "exports/2026/settlements.csv"}),
        ),
    ]) {
        let at = login + chrono::Duration::seconds(40 + 95 * i);
        calls.push(Call {
            at,
            identity: user(&a.reporting, &console_key),
            source: "s3.amazonaws.com",
            name,
            ip: office.clone(),
            agent: S3_CONSOLE,
            request: key,
            response: Value::Null,
            extra: None,
        });
    }

    // The deploy user's key: every deploy from a fresh runner, and once from a laptop.
    for day in 0..7 {
        for _ in 0..2 {
            let secs = ctx.rng.gen_range(0..80_000);
            let at = ctx.ago(day, secs);
            let ip = runner_ip(ctx);
            calls.push(Call {
                at,
                identity: user(&a.deploy, &a.deploy_key),
                source: "ecs.amazonaws.com",
                name: "UpdateService",
                ip,
                agent: RUNNER_CLI,
                request: update_service.clone(),
                response: Value::Null,
                extra: None,
            });
        }
    }
    let home = format!("192.0.2.{}", ctx.rng.gen_range(10..=250));
    let at = ctx.ago(4, 70_000);
    calls.push(Call {
        at,
        identity: user(&a.deploy, &a.deploy_key),
        source: "s3.amazonaws.com",
        name: "PutObject",
        ip: home,
        agent: LAPTOP_CLI,
        request: json!({"bucketName": "northwind-artifacts", "key": "hotfix/payments-api.tar.gz"}),
        response: Value::Null,
        extra: None,
    });

    // The OIDC role: the build job's pushes.
    for day in 0..3 {
        let secs = ctx.rng.gen_range(0..80_000);
        let at = ctx.ago(day, secs);
        let session = "GitHubActions";
        let key = format!("ASIA{}", ctx.chars(BASE32, 16));
        calls.push(Call {
            at,
            identity: assumed(&a.oidc_role, "/ci/", session, &key, at),
            source: "ecr.amazonaws.com",
            name: "GetAuthorizationToken",
            ip: runner_ip(ctx),
            agent: RUNNER_CLI,
            request: Value::Null,
            response: Value::Null,
            extra: None,
        });
    }
    // The web identity exchange behind it, which CloudTrail records under the federated user.
    let at = ctx.ago(0, 3_000);
    calls.push(Call {
        at,
        identity: json!({
            "type": "WebIdentityUser",
            "principalId": format!("arn:aws:iam::{acct}:oidc-provider/{GITHUB_OIDC}:sts.amazonaws.com:repo:{ORG}/{SERVICE_REPOSITORY}:ref:refs/heads/main"),
            "userName": format!("repo:{ORG}/{SERVICE_REPOSITORY}:ref:refs/heads/main"),
            "identityProvider": GITHUB_OIDC,
        }),
        source: "sts.amazonaws.com",
        name: "AssumeRoleWithWebIdentity",
        ip: runner_ip(ctx),
        agent: RUNNER_CLI,
        request: json!({"roleArn": format!("arn:aws:iam::{acct}:role/ci/{}", a.oidc_role.name), "roleSessionName": "GitHubActions"}),
        response: Value::Null,
        extra: None,
    });

    // The payments API at work.
    let task = ctx.chars(b"0123456789abcdef", 32);
    let task_key = format!("ASIA{}", ctx.chars(BASE32, 16));
    for i in 0..4 {
        let secs = 600 * i + ctx.rng.gen_range(0..500);
        let at = ctx.ago(0, secs);
        let name = if i % 2 == 0 { "PutItem" } else { "Query" };
        calls.push(Call {
            at,
            identity: assumed(&a.task_role, "/", &task, &task_key, at),
            source: "dynamodb.amazonaws.com",
            name,
            ip: format!(
                "10.20.{}.{}",
                ctx.rng.gen_range(0..16),
                ctx.rng.gen_range(1..250)
            ),
            agent: TASK_SDK,
            request: json!({"tableName": "payments-ledger"}),
            response: Value::Null,
            extra: None,
        });
    }

    calls.sort_by_key(|c| c.at);
    // One delivery file per day, as CloudTrail's S3 layout names them.
    let mut out: Vec<(String, String)> = Vec::new();
    let mut day: Vec<Value> = Vec::new();
    let mut current: Option<DateTime<Utc>> = None;
    let flush = |ctx: &mut Ctx,
                 at: DateTime<Utc>,
                 records: &mut Vec<Value>,
                 out: &mut Vec<(String, String)>| {
        if records.is_empty() {
            return;
        }
        let path = format!(
            "cloudtrail/AWSLogs/{acct}/CloudTrail/{REGION}/{:04}/{:02}/{:02}/{acct}_CloudTrail_{REGION}_{}_{}.json",
            at.year(),
            at.month(),
            at.day(),
            at.format("%Y%m%dT%H%MZ"),
            ctx.chars(UPPER_ALNUM, 16),
        );
        let text =
            serde_json::to_string(&json!({"Records": std::mem::take(records)})).unwrap_or_default();
        out.push((path, text));
    };
    for c in calls {
        let date = c.at.date_naive();
        if let Some(at) = current.filter(|t| t.date_naive() != date) {
            flush(ctx, at, &mut day, &mut out);
        }
        current = Some(c.at);
        let r = c.record(ctx);
        day.push(r);
    }
    if let Some(at) = current {
        flush(ctx, at, &mut day, &mut out);
    }
    out
}
