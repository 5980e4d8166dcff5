//! Realistic documents in the shapes gcloud and Cloud Asset Inventory write, built at test
//! time so no secret-shaped value sits in the repository.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub const PROJECT: &str = "acme-prod";
pub const NUMBER: &str = "812345678901";
pub const CI: &str = "ci-deployer@acme-prod.iam.gserviceaccount.com";
pub const ETL: &str = "legacy-etl@acme-prod.iam.gserviceaccount.com";
pub const RUNTIME: &str = "api-runtime@acme-prod.iam.gserviceaccount.com";
pub const COMPUTE: &str = "812345678901-compute@developer.gserviceaccount.com";
pub const AGENT: &str = "service-812345678901@gcp-sa-pubsub.iam.gserviceaccount.com";
pub const PARTNER: &str = "reporting@partner-analytics.iam.gserviceaccount.com";
pub const POOL: &str = "projects/812345678901/locations/global/workloadIdentityPools/github";

/// A key id as IAM writes them: 40 hex digits.
pub fn key_id(n: u64) -> String {
    format!("{:040x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A PEM-looking private key, made here so the repository holds none.
pub fn fake_private_key() -> String {
    let label = ["PRIVATE", "KEY"].join(" ");
    let body: String = (0..64u32)
        .map(|i| char::from(b'A' + u8::try_from((i * 7 + 3) % 26).unwrap()))
        .collect();
    format!("-----BEGIN {label}-----\nMIIE{body}\n-----END {label}-----\n")
}

fn account(email: &str, display: &str, description: Option<&str>, uid: &str) -> Value {
    let mut v = json!({
        "displayName": display,
        "email": email,
        "etag": "MDEwMjE5MjA=",
        "name": format!("projects/{PROJECT}/serviceAccounts/{email}"),
        "oauth2ClientId": uid,
        "projectId": PROJECT,
        "uniqueId": uid,
    });
    if let Some(d) = description {
        v["description"] = json!(d);
    }
    v
}

/// `gcloud iam service-accounts list --format=json`.
pub fn account_list() -> Value {
    let mut etl = account(
        ETL,
        "Legacy ETL",
        Some("nightly export, replaced by dataflow"),
        "104633459867348238372",
    );
    etl["disabled"] = json!(true);
    json!([
        account(
            CI,
            "CI deployer",
            Some("Deploys from GitHub Actions"),
            "104633459867348238371"
        ),
        etl,
        account(RUNTIME, "API runtime", None, "104633459867348238373"),
        account(
            COMPUTE,
            "Compute Engine default service account",
            None,
            "104633459867348238374"
        ),
    ])
}

fn key(email: &str, id: &str, kind: &str, after: &str, before: &str) -> Value {
    json!({
        "keyAlgorithm": "KEY_ALG_RSA_2048",
        "keyOrigin": "GOOGLE_PROVIDED",
        "keyType": kind,
        "name": format!("projects/{PROJECT}/serviceAccounts/{email}/keys/{id}"),
        "validAfterTime": after,
        "validBeforeTime": before,
    })
}

/// `gcloud iam service-accounts keys list --iam-account=ci-deployer@… --format=json`.
pub fn ci_keys() -> Value {
    let mut old = key(
        CI,
        &key_id(2),
        "USER_MANAGED",
        "2023-01-10T09:00:00Z",
        "2025-01-10T09:00:00Z",
    );
    old["disabled"] = json!(true);
    json!([
        key(
            CI,
            &key_id(1),
            "USER_MANAGED",
            "2024-03-01T10:00:00Z",
            "9999-12-31T23:59:59Z"
        ),
        old,
        key(
            CI,
            &key_id(3),
            "SYSTEM_MANAGED",
            "2026-11-01T04:15:47Z",
            "2026-11-17T04:15:47Z"
        ),
    ])
}

fn row(name: &str, asset_type: &str, parent: &str, data: Value) -> Value {
    json!({
        "name": name,
        "assetType": asset_type,
        "resource": {
            "version": "v1",
            "discoveryDocumentUri": "https://iam.googleapis.com/$discovery/rest",
            "discoveryName": asset_type.rsplit('/').next(),
            "parent": parent,
            "data": data,
            "location": "global",
        },
        "ancestors": [format!("projects/{NUMBER}"), "folders/5550001", "organizations/7770001"],
        "updateTime": "2026-11-20T08:00:00.123456Z",
    })
}

fn policy(name: &str, asset_type: &str, bindings: Value) -> Value {
    json!({
        "name": name,
        "assetType": asset_type,
        "iamPolicy": {"version": 3, "etag": "BwYdo0bqB9M=", "bindings": bindings},
        "ancestors": [format!("projects/{NUMBER}"), "folders/5550001", "organizations/7770001"],
        "updateTime": "2026-11-20T08:00:00Z",
    })
}

/// `gcloud asset export --content-type=resource` and `--content-type=iam-policy` for one
/// project, concatenated, camelCase as the API writes it, with a comment line.
pub fn asset_export() -> String {
    let project_res = format!("//cloudresourcemanager.googleapis.com/projects/{NUMBER}");
    let sa_res =
        |uid: &str| format!("//iam.googleapis.com/projects/{PROJECT}/serviceAccounts/{uid}");
    let mut rows = vec![
        row(
            &project_res,
            "cloudresourcemanager.googleapis.com/Project",
            "//cloudresourcemanager.googleapis.com/folders/5550001",
            json!({"projectNumber": NUMBER, "projectId": PROJECT, "lifecycleState": "ACTIVE",
                   "name": "ACME production", "createTime": "2021-02-03T04:05:06Z",
                   "parent": {"type": "folder", "id": "5550001"}}),
        ),
        row(
            &sa_res("104633459867348238371"),
            "iam.googleapis.com/ServiceAccount",
            &project_res,
            account(
                CI,
                "CI deployer",
                Some("Deploys from GitHub Actions"),
                "104633459867348238371",
            ),
        ),
        row(
            &sa_res("104633459867348238373"),
            "iam.googleapis.com/ServiceAccount",
            &project_res,
            account(RUNTIME, "API runtime", None, "104633459867348238373"),
        ),
        row(
            &format!("{}/keys/{}", sa_res("104633459867348238371"), key_id(1)),
            "iam.googleapis.com/ServiceAccountKey",
            &sa_res("104633459867348238371"),
            key(
                CI,
                &key_id(1),
                "USER_MANAGED",
                "2024-03-01T10:00:00Z",
                "9999-12-31T23:59:59Z",
            ),
        ),
        row(
            &format!("//iam.googleapis.com/projects/{PROJECT}/roles/bucketPolicyEditor"),
            "iam.googleapis.com/Role",
            &project_res,
            json!({"name": format!("projects/{PROJECT}/roles/bucketPolicyEditor"), "title": "Bucket policy editor",
                   "includedPermissions": ["storage.buckets.get", "storage.buckets.setIamPolicy"], "stage": "GA"}),
        ),
        row(
            &format!(
                "//container.googleapis.com/projects/{PROJECT}/locations/europe-west1/clusters/prod"
            ),
            "container.googleapis.com/Cluster",
            &project_res,
            json!({"name": "prod", "nodeConfig": {"serviceAccount": RUNTIME, "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"]},
                   "nodePools": [{"name": "default-pool", "config": {"serviceAccount": RUNTIME}},
                                 {"name": "batch", "config": {"serviceAccount": "default"}}],
                   "workloadIdentityConfig": {"workloadPool": format!("{PROJECT}.svc.id.goog")}}),
        ),
        row(
            &format!(
                "//compute.googleapis.com/projects/{PROJECT}/zones/europe-west1-b/instances/bastion"
            ),
            "compute.googleapis.com/Instance",
            &project_res,
            json!({"name": "bastion", "status": "RUNNING",
                   "serviceAccounts": [{"email": COMPUTE, "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}]}),
        ),
        row(
            "//storage.googleapis.com/acme-prod-artifacts",
            "storage.googleapis.com/Bucket",
            &project_res,
            json!({"name": "acme-prod-artifacts", "location": "EU", "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": true}}}),
        ),
    ];
    rows.push(policy(
        &project_res,
        "cloudresourcemanager.googleapis.com/Project",
        json!([
            {"role": "roles/owner", "members": [format!("serviceAccount:{CI}"), "user:platform-lead@acme.example"]},
            {"role": "roles/editor", "members": [format!("serviceAccount:{COMPUTE}"), format!("serviceAccount:{AGENT}")]},
            {"role": "roles/viewer", "members": [format!("serviceAccount:{PARTNER}")]},
            {"role": "roles/pubsub.serviceAgent", "members": [format!("serviceAccount:{AGENT}")]},
            {"role": "roles/iam.serviceAccountTokenCreator", "members": [format!("serviceAccount:{RUNTIME}")],
             "condition": {"title": "business hours", "expression": "request.time.getHours('Europe/Berlin') < 18"}},
            {"role": "roles/cloudkms.admin", "members": [format!("serviceAccount:{RUNTIME}"), "deleted:serviceAccount:old-ops@acme-prod.iam.gserviceaccount.com?uid=123456789"]},
        ]),
    ));
    rows.push(policy(
        &sa_res("104633459867348238371"),
        "iam.googleapis.com/ServiceAccount",
        json!([
            {"role": "roles/iam.workloadIdentityUser", "members": [
                format!("principalSet://iam.googleapis.com/{POOL}/attribute.repository/acme/deploy"),
                format!("principal://iam.googleapis.com/{POOL}/subject/repo:acme/infra:ref:refs/heads/main"),
            ]},
            {"role": "roles/iam.serviceAccountUser", "members": ["group:sre@acme.example"]},
            {"role": "roles/iam.serviceAccountTokenCreator", "members": [format!("serviceAccount:{RUNTIME}")]},
            {"role": "roles/logging.viewer", "members": ["user:auditor@acme.example"]},
        ]),
    ));
    rows.push(policy(
        &sa_res("104633459867348238373"),
        "iam.googleapis.com/ServiceAccount",
        json!([{"role": "roles/iam.workloadIdentityUser", "members": [format!("serviceAccount:{PROJECT}.svc.id.goog[payments/api]")]}]),
    ));
    rows.push(policy(
        "//storage.googleapis.com/acme-prod-artifacts",
        "storage.googleapis.com/Bucket",
        json!([
            {"role": "roles/storage.objectViewer", "members": [format!("principalSet://iam.googleapis.com/{POOL}/*")]},
            {"role": format!("projects/{PROJECT}/roles/bucketPolicyEditor"), "members": [format!("serviceAccount:{CI}")]},
        ]),
    ));
    let mut text = String::from(
        "# gcloud asset export --project=acme-prod --content-type=resource,iam-policy\n",
    );
    for r in rows {
        text.push_str(&r.to_string());
        text.push('\n');
    }
    text
}

/// A service-account key file as `gcloud iam service-accounts keys create` writes it.
pub fn key_file(email: &str, id: &str) -> Value {
    json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": id,
        "private_key": fake_private_key(),
        "client_email": email,
        "client_id": "104633459867348238371",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": format!("https://www.googleapis.com/robot/v1/metadata/x509/{email}"),
        "universe_domain": "googleapis.com",
    })
}

/// A workload identity federation configuration (`gcloud iam workload-identity-pools
/// create-cred-config`) that impersonates the runtime account.
pub fn external_account() -> Value {
    json!({
        "type": "external_account",
        "audience": format!("//iam.googleapis.com/{POOL}/providers/aws-prod"),
        "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
        "service_account_impersonation_url": format!("https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{RUNTIME}:generateAccessToken"),
        "token_url": "https://sts.googleapis.com/v1/token",
        "credential_source": {
            "environment_id": "aws1",
            "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone",
            "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials",
            "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15",
        },
    })
}

/// Writes the whole set into `dir` and returns the paths, in the order a directory walk
/// finds them.
pub fn write_all(dir: &Path) -> Vec<PathBuf> {
    let files = [
        (
            "accounts.json",
            serde_json::to_string_pretty(&account_list()).unwrap(),
        ),
        (
            "ci-keys.json",
            serde_json::to_string_pretty(&ci_keys()).unwrap(),
        ),
        ("export.jsonl", asset_export()),
        (
            "ci-key.json",
            serde_json::to_string_pretty(&key_file(CI, &key_id(1))).unwrap(),
        ),
        (
            "aws-federation.json",
            serde_json::to_string_pretty(&external_account()).unwrap(),
        ),
    ];
    files
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect()
}
