//! Documents built in the shapes gcloud and the asset inventory write.

use chrono::{DateTime, Utc};
use keyward_connect::ConnectError;
use keyward_gcp::{GcpFiles, Shape, merge, parse_gcp};
use keyward_model::{CredentialKind, CredentialStatus, NhiKind, NhiStatus};
use serde_json::json;

use crate::fixtures::{self, AGENT, CI, COMPUTE, ETL, PARTNER, POOL, PROJECT, RUNTIME, key_id};
use crate::{ids, nhi, strings};

fn t(s: &str) -> Option<DateTime<Utc>> {
    Some(s.parse().unwrap())
}

fn full_run() -> (tempfile::TempDir, keyward_connect::Discovery) {
    let dir = tempfile::tempdir().unwrap();
    fixtures::write_all(dir.path());
    let d = GcpFiles::new(vec![dir.path().to_owned()]).read().unwrap();
    (dir, d)
}

#[test]
fn listings_an_export_and_key_files_merge_into_one_nhi_per_identity() {
    let (_dir, d) = full_run();
    assert_eq!(d.scope, "gcp:projects/acme-prod");
    assert!(d.complete);
    assert_eq!(d.inputs.len(), 5);
    let wid_set = format!("principalSet://iam.googleapis.com/{POOL}/*");
    let mut want = vec![COMPUTE, CI, ETL, PARTNER, RUNTIME, AGENT, wid_set.as_str()];
    want.sort();
    assert_eq!(ids(&d), want);

    let ci = nhi(&d, CI);
    assert_eq!(ci.kind, NhiKind::ServiceAccount);
    assert_eq!(ci.name, "ci-deployer");
    assert_eq!(ci.purpose.as_deref(), Some("Deploys from GitHub Actions"));
    assert_eq!(ci.status, Some(NhiStatus::Active));
    assert_eq!(ci.facts["display_name"], "CI deployer");
    // The listing, the export and the key file name key 1; the system key is only counted.
    assert_eq!(ci.credentials.len(), 2);
    let k1 = &ci.credentials[ci
        .credentials
        .iter()
        .position(|c| c.external_id.as_deref() == Some(key_id(1).as_str()))
        .unwrap()];
    assert_eq!(k1.kind, CredentialKind::PrivateKey);
    assert_eq!(k1.status, CredentialStatus::Active);
    assert_eq!(k1.created_at, t("2024-03-01T10:00:00Z"));
    assert_eq!(k1.expires_at, None, "year 9999 means no expiry");
    let k2 = ci
        .credentials
        .iter()
        .find(|c| c.external_id.as_deref() == Some(key_id(2).as_str()))
        .unwrap();
    assert_eq!(k2.status, CredentialStatus::Inactive);
    assert_eq!(k2.expires_at, t("2025-01-10T09:00:00Z"));
    assert_eq!(ci.facts["key_never_expires"], true);
    assert_eq!(ci.facts["key_file_found"], true);
    assert_eq!(ci.facts["static_cloud_key"], true);
    assert_eq!(ci.facts["user_managed_keys"], 2);
    assert_eq!(ci.facts["system_managed_keys"], 1);
    assert_eq!(ci.facts["admin"], true);
    let project = "//cloudresourcemanager.googleapis.com/projects/812345678901";
    assert_eq!(
        ci.observed_permissions,
        [
            format!(
                "projects/{PROJECT}/roles/bucketPolicyEditor on //storage.googleapis.com/acme-prod-artifacts"
            ),
            format!("roles/owner on {project}"),
        ]
    );
    // A custom role with `setIamPolicy` is privileged; owner is admin, not listed again.
    assert_eq!(
        strings(ci, "privileged_grants"),
        [format!(
            "projects/{PROJECT}/roles/bucketPolicyEditor on //storage.googleapis.com/acme-prod-artifacts"
        )]
    );
    assert_eq!(
        strings(ci, "primitive_roles"),
        [format!("roles/owner on {project}")]
    );
    assert_eq!(
        ci.facts["trust"],
        json!([
            {"principal": format!("principal://iam.googleapis.com/{POOL}/subject/repo:acme/infra:ref:refs/heads/main"),
             "principal_type": "workload_identity", "pool": POOL, "role": "roles/iam.workloadIdentityUser",
             "subject_condition": true},
            {"principal": format!("principalSet://iam.googleapis.com/{POOL}/attribute.repository/acme/deploy"),
             "principal_type": "workload_identity", "pool": POOL, "role": "roles/iam.workloadIdentityUser",
             "subject_condition": false},
        ])
    );
    // The logging viewer may not act as it; the group and the runtime account may.
    assert_eq!(
        ci.facts["impersonators"],
        json!([
            {"member": "group:sre@acme.example", "role": "roles/iam.serviceAccountUser"},
            {"member": format!("serviceAccount:{RUNTIME}"), "role": "roles/iam.serviceAccountTokenCreator"},
        ])
    );

    let etl = nhi(&d, ETL);
    assert_eq!(etl.status, Some(NhiStatus::Disabled));
    assert_eq!(
        etl.purpose.as_deref(),
        Some("nightly export, replaced by dataflow")
    );
    assert!(etl.credentials.is_empty());

    let rt = nhi(&d, RUNTIME);
    assert_eq!(
        rt.facts["trust"],
        json!([{"principal": "acme-prod.svc.id.goog[payments/api]", "principal_type": "workload_identity",
                "pool": "acme-prod.svc.id.goog", "role": "roles/iam.workloadIdentityUser", "subject_condition": true}])
    );
    let gke = format!(
        "//container.googleapis.com/projects/{PROJECT}/locations/europe-west1/clusters/prod"
    );
    assert_eq!(
        rt.facts["consumers"],
        json!([{"kind": "gke_node_pool", "name": gke}, {"kind": "gke_node_pool", "name": format!("{gke}/nodePools/default-pool")}])
    );
    assert_eq!(
        rt.observed_permissions,
        [
            format!("roles/cloudkms.admin on {project}"),
            format!("roles/iam.serviceAccountTokenCreator on {project} (conditional)"),
            format!("roles/iam.serviceAccountTokenCreator on {CI_RES}")
        ]
    );
    assert_eq!(
        rt.facts["bindings"][1],
        json!({"role": "roles/iam.serviceAccountTokenCreator", "resource": project,
               "condition": {"title": "business hours", "expression": "request.time.getHours('Europe/Berlin') < 18"}})
    );
    assert_eq!(
        rt.facts["credential_files"],
        json!([{"type": "external_account", "audience": format!("//iam.googleapis.com/{POOL}/providers/aws-prod"),
                "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request", "credential_source": "aws"}])
    );

    let compute = nhi(&d, COMPUTE);
    assert_eq!(compute.facts["default_service_account"], true);
    assert_eq!(compute.facts["project"], PROJECT);
    assert_eq!(compute.facts["consumers"][0]["kind"], "compute_instance");
    let agent = nhi(&d, AGENT);
    assert_eq!(
        (
            agent.facts["google_managed"].clone(),
            agent.supplier.as_deref()
        ),
        (json!(true), Some("Google"))
    );
    assert_eq!(agent.facts["project"], PROJECT, "number mapped to the id");
    assert!(!agent.facts.contains_key("third_party"));
    let partner = nhi(&d, PARTNER);
    assert_eq!(partner.facts["third_party"], true);
    assert_eq!(partner.facts["project"], "partner-analytics");
    assert_eq!(partner.facts["inventoried"], false);
    assert_eq!(partner.status, None);

    let set = nhi(&d, &wid_set);
    assert_eq!(set.kind, NhiKind::WorkloadIdentity);
    assert_eq!(set.name, "github/*");
    assert_eq!(set.facts["pool"], POOL);
    assert_eq!(set.facts["principal_set"], true);
    assert_eq!(
        set.observed_permissions,
        ["roles/storage.objectViewer on //storage.googleapis.com/acme-prod-artifacts"]
    );

    assert!(
        d.warnings
            .iter()
            .any(|w| w
                .contains("deleted service account `old-ops@acme-prod.iam.gserviceaccount.com`")),
        "{:?}",
        d.warnings
    );
}

const CI_RES: &str =
    "//iam.googleapis.com/projects/acme-prod/serviceAccounts/104633459867348238371";

#[test]
fn no_secret_value_reaches_the_discovery() {
    let (_dir, d) = full_run();
    let out = format!("{}{:?}", serde_json::to_string(&d).unwrap(), d);
    let key = fixtures::fake_private_key();
    for line in key.lines() {
        assert!(!out.contains(line), "key material in the output");
    }
}

#[test]
fn runs_are_deterministic_and_sorted() {
    let (dir, d) = full_run();
    let again = GcpFiles::new(vec![dir.path().to_owned()]).read().unwrap();
    assert_eq!(d, again);
    let mut sorted = ids(&d);
    sorted.sort();
    assert_eq!(ids(&d), sorted);
    for n in &d.nhis {
        let mut p = n.observed_permissions.clone();
        p.sort();
        assert_eq!(p, n.observed_permissions);
    }
}

#[test]
fn snake_and_camel_case_rows_read_alike() {
    let camel = fixtures::asset_export();
    let snake = camel
        .replace("\"assetType\"", "\"asset_type\"")
        .replace("\"iamPolicy\"", "\"iam_policy\"");
    let a = merge(
        vec![parse_gcp("a.jsonl".as_ref(), camel.as_bytes()).unwrap()],
        None,
    );
    let b = merge(
        vec![parse_gcp("b.jsonl".as_ref(), snake.as_bytes()).unwrap()],
        None,
    );
    assert_eq!(a, b);
    assert_eq!(a.nhis.len(), 6);
}

#[test]
fn a_gcloud_asset_list_array_and_a_policy_search_are_read_too() {
    let rows: Vec<serde_json::Value> = fixtures::asset_export()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let array = serde_json::to_vec_pretty(&rows).unwrap();
    let f = parse_gcp("list.json".as_ref(), &array).unwrap();
    assert_eq!(f.shape, Shape::AssetInventory);
    let lines = parse_gcp("e.jsonl".as_ref(), fixtures::asset_export().as_bytes()).unwrap();
    assert_eq!(merge(vec![f], None), merge(vec![lines], None));

    let search = json!([{
        "resource": "//cloudresourcemanager.googleapis.com/projects/812345678901",
        "assetType": "cloudresourcemanager.googleapis.com/Project",
        "project": "projects/812345678901",
        "folders": ["folders/5550001"],
        "organization": "organizations/7770001",
        "policy": {"bindings": [{"role": "roles/editor", "members": [format!("serviceAccount:{CI}")]}]}
    }]);
    let f = parse_gcp("search.json".as_ref(), search.to_string().as_bytes()).unwrap();
    assert_eq!(f.shape, Shape::PolicySearch);
    let m = merge(vec![f], None);
    assert_eq!(m.scope.as_deref(), Some("gcp:projects/812345678901"));
    assert!(!m.complete);
    assert_eq!(
        m.nhis[0].observed_permissions,
        ["roles/editor on //cloudresourcemanager.googleapis.com/projects/812345678901"]
    );
}

#[test]
fn rest_pages_of_accounts_and_keys_are_read() {
    let page = json!({"accounts": fixtures::account_list(), "nextPageToken": ""});
    let keys = json!({"keys": fixtures::ci_keys()});
    let files = vec![
        parse_gcp("a.json".as_ref(), page.to_string().as_bytes()).unwrap(),
        parse_gcp("k.json".as_ref(), keys.to_string().as_bytes()).unwrap(),
    ];
    assert_eq!(files[0].shape, Shape::ServiceAccounts);
    assert_eq!(files[1].shape, Shape::ServiceAccountKeys);
    let m = merge(files, None);
    assert_eq!(m.nhis.len(), 4);
    assert_eq!(m.scope.as_deref(), Some("gcp:projects/acme-prod"));
    assert!(m.complete);
}

#[test]
fn scope_follows_the_data_unless_given() {
    let one =
        |v: serde_json::Value| parse_gcp("x.json".as_ref(), v.to_string().as_bytes()).unwrap();
    let other =
        json!([{"email": "a@other-proj.iam.gserviceaccount.com", "projectId": "other-proj"}]);
    let m = merge(
        vec![one(fixtures::account_list()), one(other.clone())],
        None,
    );
    assert_eq!(m.scope.as_deref(), Some("gcp:multiple"));
    let m = merge(vec![one(other.clone())], Some("organizations/42"));
    assert_eq!(m.scope.as_deref(), Some("gcp:organizations/42"));
    let m = merge(vec![one(other)], Some("gcp:projects/p"));
    assert_eq!(m.scope.as_deref(), Some("gcp:projects/p"));
    let org = json!({"name": "//cloudresourcemanager.googleapis.com/organizations/7770001",
                     "assetType": "cloudresourcemanager.googleapis.com/Organization",
                     "iamPolicy": {"bindings": [{"role": "roles/resourcemanager.organizationAdmin", "members": [format!("serviceAccount:{CI}")]}]}});
    let m = merge(
        vec![
            one(org),
            parse_gcp("e.jsonl".as_ref(), fixtures::asset_export().as_bytes()).unwrap(),
        ],
        None,
    );
    assert_eq!(m.scope.as_deref(), Some("gcp:organizations/7770001"));
    let ci = m.nhis.iter().find(|n| n.external_id == CI).unwrap();
    assert!(strings(ci, "privileged_grants").contains(&"roles/resourcemanager.organizationAdmin on //cloudresourcemanager.googleapis.com/organizations/7770001".to_owned()));

    // A user's credentials name no project: the run cannot tell its scope.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("adc.json");
    std::fs::write(&p, json!({"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}).to_string()).unwrap();
    let err = GcpFiles::new(vec![p.clone()]).read().unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)), "{err}");
    let d = GcpFiles {
        paths: vec![p],
        scope: Some("acme-dev".into()),
    }
    .read()
    .unwrap();
    assert_eq!(d.scope, "gcp:acme-dev");
    assert!(d.nhis.is_empty());
    assert_eq!(d.parameters["scope"], "acme-dev");
}

#[test]
fn bad_input_fails_naming_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let read = |p: std::path::PathBuf| GcpFiles::new(vec![p]).read().unwrap_err();

    // Truncated in the middle of its third row (line 4, after the comment).
    let export = fixtures::asset_export();
    let cut: String = export.lines().take(4).collect::<Vec<_>>().join("\n");
    let cut = &cut[..cut.len() - 40];
    let p = write("cut.jsonl", cut);
    let err = read(p.clone());
    assert!(matches!(err, ConnectError::Syntax { line: 4, .. }), "{err}");
    assert!(
        err.to_string().starts_with(&format!("{}:4:", p.display())),
        "{err}"
    );

    let mut list = fixtures::account_list();
    list[1]["disabled"] = json!("yes");
    let err = read(write(
        "accounts.json",
        &serde_json::to_string_pretty(&list).unwrap(),
    ));
    assert!(
        matches!(&err, ConnectError::Field { field, .. } if field == "[1].disabled"),
        "{err}"
    );

    let mut keys = fixtures::ci_keys();
    keys[0]["validAfterTime"] = json!("2024-02-30T10:00:00Z");
    let err = read(write(
        "keys.json",
        &serde_json::to_string_pretty(&keys).unwrap(),
    ));
    assert!(
        matches!(&err, ConnectError::Field { field, line: 7, .. } if field == "[0].validAfterTime"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("`2024-02-30T10:00:00Z` is not a timestamp"),
        "{err}"
    );

    let mut kf = fixtures::key_file(CI, "k");
    kf["client_email"] = json!(17);
    let err = read(write("key.json", &kf.to_string()));
    assert!(
        matches!(&err, ConnectError::Field { field, .. } if field == "client_email"),
        "{err}"
    );

    let bad_row = export.replace("\"bindings\":[", "\"bindings\":{\"x\":[");
    let err = read(write("bad.jsonl", &bad_row));
    assert!(
        matches!(
            err,
            ConnectError::Syntax { .. } | ConnectError::Field { .. }
        ),
        "{err}"
    );

    let err = GcpFiles::new(vec![]).read().unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)));
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("notes.txt"), "x").unwrap();
    let err = GcpFiles::new(vec![empty.path().to_owned()])
        .read()
        .unwrap_err();
    assert!(
        err.to_string().contains("no Google Cloud export files"),
        "{err}"
    );
}

#[test]
fn gzipped_exports_are_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(fixtures::asset_export().as_bytes()).unwrap();
    std::fs::write(dir.path().join("export.jsonl.gz"), gz.finish().unwrap()).unwrap();
    let d = GcpFiles::new(vec![dir.path().to_owned()]).read().unwrap();
    assert_eq!(d.nhis.len(), 6);
}
