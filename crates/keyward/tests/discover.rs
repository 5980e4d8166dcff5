//! One estate discovered through several sources: each NHI is one register entry with every
//! source that saw it, declared values stand, reruns change nothing, bad input writes nothing.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::*;

const ACCOUNT: &str = "111122223333";

fn role_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/deployer")
}

fn user_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/ci-bot")
}

/// `aws iam get-account-authorization-details` for one user with a managed policy and one
/// admin role that GitHub's OIDC provider may assume without a subject condition.
fn authorization_details() -> String {
    let oidc = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com");
    json!({
        "UserDetailList": [{
            "Path": "/", "UserName": "ci-bot", "UserId": "AIDAEXAMPLEUSER00001",
            "Arn": user_arn(), "CreateDate": "2024-01-01T00:00:00Z",
            "UserPolicyList": [], "GroupList": [],
            "AttachedManagedPolicies": [{"PolicyName": "deploy", "PolicyArn": format!("arn:aws:iam::{ACCOUNT}:policy/deploy")}],
            "Tags": [{"Key": "env", "Value": "prod"}]
        }],
        "GroupDetailList": [],
        "RoleDetailList": [{
            "Path": "/", "RoleName": "deployer", "RoleId": "AROAEXAMPLEROLE00001",
            "Arn": role_arn(), "CreateDate": "2024-02-01T00:00:00Z",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Federated": oidc},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
            }]},
            "InstanceProfileList": [],
            "RolePolicyList": [{"PolicyName": "everything", "PolicyDocument": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}],
            "AttachedManagedPolicies": [],
            "Tags": [{"Key": "owner", "Value": "bob@example.com"}],
            "RoleLastUsed": {}
        }],
        "Policies": [{
            "PolicyName": "deploy", "PolicyId": "ANPAEXAMPLEPOLICY001",
            "Arn": format!("arn:aws:iam::{ACCOUNT}:policy/deploy"), "Path": "/",
            "DefaultVersionId": "v1", "AttachmentCount": 1, "IsAttachable": true,
            "CreateDate": "2024-01-01T00:00:00Z", "UpdateDate": "2024-01-01T00:00:00Z",
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true,
                "CreateDate": "2024-01-01T00:00:00Z",
                "Document": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["s3:PutObject", "ecs:UpdateService"], "Resource": "*"}]}}]
        }]
    })
    .to_string()
}

/// CloudTrail delivery: the role used from a workstation, the user signing in to the console.
fn cloudtrail() -> String {
    let role_use = json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice"),
            "accountId": ACCOUNT,
            "accessKeyId": format!("ASIA{}", "Q".repeat(16)),
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role_arn(), "accountId": ACCOUNT, "userName": "deployer"}}
        },
        "eventTime": "2026-11-30T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
        "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0 exe/x86_64 prompt/off",
        "recipientAccountId": ACCOUNT, "requestParameters": {"bucketName": "artifacts"}
    });
    let sign_in = json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": user_arn(), "accountId": ACCOUNT, "userName": "ci-bot"},
        "eventTime": "2026-11-29T08:00:00Z", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9",
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15",
        "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "No"},
        "recipientAccountId": ACCOUNT
    });
    json!({"Records": [role_use, sign_in]}).to_string()
}

const MANIFESTS: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: deployer
  namespace: ci
  annotations:
    keyward.io/owner: team:platform
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: deployer-admin
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
";

fn audit_log() -> String {
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": "6f1c0a52-0d6e-4c7e-9d55-1c7c9b7d7a01", "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/prod/secrets", "verb": "list",
        "user": {"username": "system:serviceaccount:ci:deployer", "groups": ["system:serviceaccounts"]},
        "sourceIPs": ["10.0.4.17"], "userAgent": "kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350",
        "objectRef": {"resource": "secrets", "namespace": "prod", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 200},
        "requestReceivedTimestamp": "2026-11-30T11:00:00.000000Z",
        "stageTimestamp": "2026-11-30T11:00:00.010000Z"
    })
    .to_string()
}

const DECLARED: &str = "\
apiVersion: keyward/v1
kind: NonHumanIdentity
metadata:
  name: ci-deployer-role
spec:
  kind: iam_role
  provider: aws
  externalId: arn:aws:iam::111122223333:role/deployer
  environment: production
  owner: alice@example.com
  purpose: Deploys from GitHub Actions
  privilegeCeiling: [\"s3:PutObject\", \"ecs:UpdateService\"]
  reviewEvery: 90d
";

fn by_external_id(list: &Value, ext: &str) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|n| n["external_id"] == ext)
        .cloned()
        .collect()
}

#[test]
fn one_estate_through_several_sources_is_one_entry_per_nhi_with_every_source() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    let people = env.write(
        "people.csv",
        "email,name,team,manager_email,status,departed_on\nalice@example.com,Alice Adams,platform,,active,\n",
    );
    env.ok(&["people", "import", people.to_str().unwrap()]);
    let decl = env.write("nhis/deployer.yaml", DECLARED);
    env.ok(&["apply", decl.to_str().unwrap()]);

    let auth = env.write("aws/auth.json", &authorization_details());
    env.write(
        "trail/111122223333_CloudTrail_eu-west-1.json",
        &cloudtrail(),
    );
    let k8s = env.write("k8s/deployer.yaml", MANIFESTS);
    let audit = env.write("audit/audit.log", &audit_log());
    let trail_dir = env.path("trail");
    let runs = [
        vec!["discover", "aws", "--auth-details", auth.to_str().unwrap()],
        vec!["discover", "cloudtrail", trail_dir.to_str().unwrap()],
        vec![
            "discover",
            "kubernetes",
            k8s.to_str().unwrap(),
            "--cluster",
            "prod-eu",
        ],
        vec![
            "discover",
            "kubernetes-audit",
            audit.to_str().unwrap(),
            "--cluster",
            "prod-eu",
        ],
    ];
    for args in &runs {
        let mut a = args.clone();
        a.extend(["--format", "json"]);
        let r = env.json(&a);
        assert!(r["report"]["run_id"].is_string(), "{args:?}: {r}");
    }

    let list = env.json(&["inventory", "list", "--format", "json"]);
    let role = by_external_id(&list, &role_arn());
    assert_eq!(role.len(), 1, "the declared role is one entry: {list}");
    assert_eq!(
        role[0]["sources"],
        json!(["aws-iam", "cloudtrail", "declaration"])
    );
    assert_eq!(
        role[0]["owner"], "alice@example.com",
        "declared owner stands"
    );
    assert_eq!(role[0]["last_used_at"], "2026-11-30T10:00:00Z");
    let user = by_external_id(&list, &user_arn());
    assert_eq!(user.len(), 1);
    assert_eq!(user[0]["sources"], json!(["aws-iam", "cloudtrail"]));
    assert_eq!(user[0]["environment"], "production", "from its env tag");
    let sa = by_external_id(&list, "prod-eu/ci/deployer");
    assert_eq!(sa.len(), 1);
    assert_eq!(sa[0]["sources"], json!(["kubernetes", "kubernetes-audit"]));
    assert_eq!(sa[0]["owner"], "team:platform");
    assert_eq!(list.as_array().unwrap().len(), 3, "nothing else: {list}");

    // What each source knows stays on its own observation.
    let shown = env.json(&["inventory", "show", &role_arn(), "--format", "json"]);
    let obs = |source: &str| {
        shown["observations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["source"] == source)
            .cloned()
            .unwrap()
    };
    let iam = obs("aws-iam");
    assert_eq!(iam["facts"]["admin"], true);
    assert_eq!(iam["facts"]["trust"][0]["principal_type"], "oidc");
    assert_eq!(iam["facts"]["trust"][0]["subject_condition"], false);
    let trail_obs = obs("cloudtrail");
    assert_eq!(
        trail_obs["facts"]["source_addresses"],
        json!(["198.51.100.7"])
    );
    let signals: Vec<&str> = trail_obs["facts"]["human_use"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signal"].as_str().unwrap())
        .collect();
    assert!(signals.contains(&"interactive_user_agent"), "{trail_obs}");
    let actions: Vec<&str> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"nhi.conflict"),
        "the tag owner is recorded: {actions:?}"
    );
    let sa_shown = env.json(&[
        "inventory",
        "show",
        "prod-eu/ci/deployer",
        "--format",
        "json",
    ]);
    let audit_obs = sa_shown["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["source"] == "kubernetes-audit")
        .cloned()
        .unwrap();
    assert_eq!(audit_obs["facts"]["human_use"][0]["signal"], "kubectl_use");

    // Provenance: every run names its connector, version and inputs with their digests.
    let recorded = env.json(&["runs", "list", "--format", "json"]);
    let aws_run = recorded
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["connector"] == "aws-iam-files")
        .cloned()
        .unwrap();
    let digest = hex::encode(Sha256::digest(std::fs::read(&auth).unwrap()));
    assert_eq!(aws_run["inputs"][0]["sha256"], digest);
    assert_eq!(aws_run["parameters"]["scope"], format!("aws:{ACCOUNT}"));
    let one = env.json(&[
        "runs",
        "show",
        aws_run["id"].as_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(one["id"], aws_run["id"]);

    // The same inputs again change nothing.
    let before = env.state();
    for args in &runs {
        let out = env.ok(args);
        assert!(out.contains("nothing changed"), "{args:?}: {out}");
    }
    assert_eq!(env.state(), before);

    // A complete AWS run without the user marks it no longer seen, and keeps it.
    let mut without_user: Value = serde_json::from_str(&authorization_details()).unwrap();
    without_user["UserDetailList"] = json!([]);
    let auth2 = env.write("aws/auth2.json", &without_user.to_string());
    let r = env.json(&[
        "discover",
        "aws",
        "--auth-details",
        auth2.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r["report"]["no_longer_seen"], 1, "{r}");
    let list = env.json(&["inventory", "list", "--format", "json"]);
    let user = by_external_id(&list, &user_arn());
    assert_eq!(
        user[0]["sources"],
        json!(["cloudtrail"]),
        "aws-iam no longer sees it"
    );
    env.ok(&["ledger", "verify"]);
}

#[test]
fn a_truncated_or_malformed_source_fails_naming_the_file_and_writes_nothing() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    let full = authorization_details();
    let cut = env.write("auth.json", &full[..full.len() / 2]);
    let before = env.state();
    let out = env.run(&["discover", "aws", "--auth-details", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("auth.json:1:"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(env.state(), before);

    let bad = env.write(
        "k8s/bad.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: [oops\n",
    );
    let out = env.run(&["discover", "kubernetes", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.yaml:"), "{}", stderr(&out));

    let missing = env.path("nope");
    let out = env.run(&["discover", "cloudtrail", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
    assert_eq!(env.state(), before);
}
