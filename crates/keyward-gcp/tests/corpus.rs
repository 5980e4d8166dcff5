//! The shared corpus: Forseti's Cloud Asset Inventory dumps and google-auth's credential
//! files.

use std::path::PathBuf;

use keyward_connect::{ConnectError, Connector};
use keyward_gcp::{GcpFiles, Shape, parse_gcp};
use keyward_model::{CredentialKind, NhiStatus};
use serde_json::json;

use crate::{ids, nhi, strings};

fn corpus(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/gcp"
    ))
    .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("corpus file {} missing; test skipped", p.display());
        None
    }
}

fn run(rel: &str) -> Option<keyward_connect::Discovery> {
    let p = corpus(rel)?;
    Some(GcpFiles::new(vec![p]).read().unwrap())
}

#[test]
fn forseti_resources_give_three_accounts_in_one_organization() {
    let Some(d) = run("cai/forseti-mock_cai_resources.dump") else {
        return;
    };
    assert_eq!(d.source, "gcp-iam");
    assert_eq!(d.connector, "gcp-files");
    assert_eq!(d.scope, "gcp:organizations/111222333");
    assert!(d.complete);
    assert_eq!(
        ids(&d),
        [
            "1041-compute@developer.gserviceaccount.com",
            "1042-compute@developer.gserviceaccount.com",
            "123-compute@developer.gserviceaccount.com"
        ]
    );
    let sa = nhi(&d, "1041-compute@developer.gserviceaccount.com");
    assert_eq!(sa.provider, "gcp");
    assert_eq!(sa.name, "1041-compute");
    assert_eq!(sa.status, Some(NhiStatus::Active));
    assert_eq!(
        sa.facts["display_name"],
        "Compute Engine default service account"
    );
    assert_eq!(sa.facts["unique_id"], "1101");
    assert_eq!(sa.facts["project"], "project1");
    assert_eq!(sa.facts["default_service_account"], true);
    let consumers = sa.facts["consumers"].as_array().unwrap();
    assert_eq!(consumers.len(), 5);
    assert_eq!(
        consumers[0],
        json!({"kind": "compute_instance", "name": "//compute.googleapis.com/projects/project1/zones/us-central1-c/instances/iap_instance1"})
    );
    // Its only key is Google-managed: counted, not a credential.
    let app = nhi(&d, "123-compute@developer.gserviceaccount.com");
    assert!(app.credentials.is_empty());
    assert_eq!(app.facts["system_managed_keys"], 1);
    // The dump's App Engine rows say organization 456 while the organization asset is
    // 111222333.
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert!(
        d.warnings[0].contains("`organizations/456`"),
        "{:?}",
        d.warnings
    );
}

#[test]
fn forseti_policies_give_the_accounts_bound_to_projects() {
    let Some(d) = run("cai/forseti-mock_cai_iam_policies.dump") else {
        return;
    };
    assert_eq!(d.scope, "gcp:organizations/111222333");
    assert!(!d.complete, "a policy export does not list every account");
    assert_eq!(d.nhis.len(), 8);
    let agent = nhi(&d, "4@cloudservices.gserviceaccount.com");
    assert_eq!(agent.facts["google_managed"], true);
    assert_eq!(agent.supplier.as_deref(), Some("Google"));
    assert_eq!(agent.status, None);
    assert_eq!(agent.facts["inventoried"], false);
    // Listed twice in one binding, reported once.
    assert_eq!(
        agent.observed_permissions,
        ["roles/editor on //cloudresourcemanager.googleapis.com/projects/1044"]
    );
    assert_eq!(
        strings(agent, "privileged_grants"),
        ["roles/editor on //cloudresourcemanager.googleapis.com/projects/1044"]
    );
    assert_eq!(
        strings(agent, "primitive_roles"),
        ["roles/editor on //cloudresourcemanager.googleapis.com/projects/1044"]
    );
    assert!(!agent.facts.contains_key("admin"));
    let compute = nhi(&d, "3-compute@developer.gserviceaccount.com");
    assert_eq!(compute.facts["default_service_account"], true);
    assert_eq!(
        compute.facts["bindings"],
        json!([{"role": "roles/editor", "resource": "//cloudresourcemanager.googleapis.com/projects/1043"}])
    );
    // The policy on service account 1101 names it by unique id, which only the resource dump
    // resolves.
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("service account `1101` is not in the inputs")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn the_whole_dump_directory_merges_resources_and_policies() {
    let Some(dir) = corpus("cai") else { return };
    let d = GcpFiles::new(vec![dir]).read().unwrap();
    assert_eq!(d.inputs.len(), 4);
    assert!(
        d.inputs
            .iter()
            .all(|i| i.sha256.as_ref().is_some_and(|s| s.len() == 64))
    );
    assert_eq!(d.scope, "gcp:organizations/111222333");
    assert!(d.complete);
    assert_eq!(d.nhis.len(), 11);
    // The 1101 policy now resolves: a user may manage the default account's keys.
    let sa = nhi(&d, "1041-compute@developer.gserviceaccount.com");
    assert_eq!(
        sa.facts["impersonators"],
        json!([{"member": "user:c_user@forseti.test", "role": "roles/iam.serviceAccountKeyAdmin"}])
    );
    assert!(
        !d.warnings.iter().any(|w| w.contains("`1101`")),
        "{:?}",
        d.warnings
    );
    // The policies bind default accounts of project numbers 1–4, which the organization's
    // project list (1041–1044) does not hold; service agents are never third parties.
    assert_eq!(
        nhi(&d, "1-compute@developer.gserviceaccount.com").facts["third_party"],
        true
    );
    assert!(
        !nhi(&d, "1@cloudservices.gserviceaccount.com")
            .facts
            .contains_key("third_party")
    );
    assert!(!sa.facts.contains_key("third_party"));
    // The additional dump repeats the App Engine account and its key: one NHI, one key.
    assert_eq!(
        nhi(&d, "123-compute@developer.gserviceaccount.com").facts["system_managed_keys"],
        1
    );
}

#[test]
fn forseti_additional_dumps_span_several_projects() {
    let Some(d) = run("cai/forseti-additional_cai_resources.dump") else {
        return;
    };
    assert_eq!(d.scope, "gcp:multiple");
    assert_eq!(ids(&d), ["123-compute@developer.gserviceaccount.com"]);
    let Some(d) = run("cai/forseti-additional_cai_iam_policies.dump") else {
        return;
    };
    assert_eq!(d.scope, "gcp:multiple");
    assert!(d.nhis.is_empty(), "no service account is bound there");
    assert!(!d.complete);
}

#[test]
fn credential_files_report_key_holders_and_name_the_rest() {
    let Some(dir) = corpus("credentials") else {
        return;
    };
    let d = GcpFiles::new(vec![dir.clone()]).read().unwrap();
    assert_eq!(d.inputs.len(), 7, "the PEM files are not read");
    assert_eq!(d.scope, "gcp:projects/example-project");
    assert!(!d.complete);
    assert_eq!(
        ids(&d),
        [
            "service-account-target@example.com",
            "service-account@example.com"
        ]
    );
    // Three files (RSA and EC key files, the impersonation source) hold key `1`.
    let sa = nhi(&d, "service-account@example.com");
    assert_eq!(sa.credentials.len(), 1);
    assert_eq!(sa.credentials[0].kind, CredentialKind::PrivateKey);
    assert_eq!(sa.credentials[0].external_id.as_deref(), Some("1"));
    assert_eq!(sa.credentials[0].fingerprint, None);
    assert_eq!(sa.credentials[0].preview, None);
    assert_eq!(sa.facts["key_file_found"], true);
    assert_eq!(sa.facts["static_cloud_key"], true);
    assert_eq!(sa.facts["unique_id"], "1234");
    assert_eq!(sa.facts["project"], "example-project");
    let target = nhi(&d, "service-account-target@example.com");
    assert_eq!(
        target.facts["credential_files"],
        json!([{"type": "impersonated_service_account", "source": "service-account@example.com",
                "delegates": ["service-account-delegate@example.com"]}])
    );
    let w = d.warnings.join("\n");
    for what in [
        "user credentials",
        "OAuth client secrets file for client `example.apps.googleusercontent.com`",
        "workforce identity federation user credentials",
        "Distributed Cloud Hosted service identity key file for `service_identity_name`",
    ] {
        assert!(w.contains(what), "{what} missing from {w}");
    }
    // Nothing of any key, token or client secret in the files reaches the discovery.
    let out = serde_json::to_string(&d).unwrap() + &format!("{:?}", d.nhis);
    for name in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(name.unwrap().path()).unwrap();
        let doc: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => continue,
        };
        let mut secrets = Vec::new();
        collect_secrets(&doc, &mut secrets);
        // The samples' shortest values ("secret") are words the warnings use.
        for s in secrets.iter().filter(|s| s.len() >= 10) {
            assert!(
                !out.contains(s.as_str()),
                "a secret value reached the discovery"
            );
        }
    }
    assert!(!out.contains("PRIVATE KEY"));
}

fn collect_secrets(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if ["private_key", "client_secret", "refresh_token"].contains(&k.as_str())
                    && let Some(s) = v.as_str()
                {
                    out.push(s.to_owned());
                }
                collect_secrets(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}

#[test]
fn every_corpus_json_file_parses_and_a_pem_given_by_hand_is_refused() {
    let Some(root) = corpus("") else { return };
    for sub in ["cai", "credentials"] {
        for e in std::fs::read_dir(root.join(sub)).unwrap() {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            let parsed = parse_gcp(&p, &bytes);
            if p.extension().is_some_and(|x| x == "pem") {
                let err = parsed.unwrap_err();
                assert!(
                    matches!(
                        err,
                        ConnectError::Syntax {
                            line: 1,
                            column: 1,
                            ..
                        }
                    ),
                    "{err}"
                );
            } else {
                let f = parsed.unwrap_or_else(|e| panic!("{e}"));
                if sub == "cai" {
                    assert_eq!(f.shape, Shape::AssetInventory, "{}", p.display());
                }
            }
        }
    }
}

#[test]
fn the_connector_trait_runs_the_same_read() {
    let Some(p) = corpus("cai/forseti-mock_cai_resources.dump") else {
        return;
    };
    let c = GcpFiles::new(vec![p]);
    assert_eq!(c.name(), "gcp-files");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let d = rt.block_on(c.discover()).unwrap();
    assert_eq!(d, c.read().unwrap());
    assert_eq!(d.parameters["scope"], serde_json::Value::Null);
}
