//! Graph-shaped listings built in `fixtures`, end to end.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keyward_azure::{AzureFiles, Shape, merge, parse_azure};
use keyward_connect::{ConnectError, Connector, Discovery};
use keyward_model::{CredentialKind, DiscoveredNhi, Environment, NhiKind, NhiStatus, OwnerRef};
use serde_json::{Value, json};

use crate::fixtures::{
    self, ACME, CI, DEPLOY_MI, EXCHANGE, GRAPH, LEGACY, ORDERS, TENANT, WEB_MI, key_id,
};

fn t(s: &str) -> Option<DateTime<Utc>> {
    Some(s.parse().unwrap())
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

fn full_run() -> (tempfile::TempDir, Discovery) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sp.json", &fixtures::principals());
    write(dir.path(), "apps.json", &fixtures::applications_page());
    let d = AzureFiles::new(vec![dir.path().to_owned()]).read().unwrap();
    (dir, d)
}

fn nhi<'a>(d: &'a Discovery, id: &str) -> &'a DiscoveredNhi {
    d.nhis
        .iter()
        .find(|n| n.external_id == id)
        .unwrap_or_else(|| panic!("no NHI `{id}`"))
}

fn strings(n: &DiscoveredNhi, fact: &str) -> Vec<String> {
    n.facts[fact]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_app_and_its_service_principal_are_one_nhi() {
    let (_dir, d) = full_run();
    assert_eq!(d.source, "entra-id");
    assert_eq!(d.connector, "azure-files");
    assert_eq!(d.scope, format!("azure:{TENANT}"));
    assert!(d.complete);
    assert_eq!(d.inputs.len(), 2);
    let ids: Vec<&str> = d.nhis.iter().map(|n| n.external_id.as_str()).collect();
    assert_eq!(
        ids,
        [EXCHANGE, GRAPH, LEGACY, WEB_MI, CI, DEPLOY_MI, ORDERS, ACME]
    );

    let ci = nhi(&d, CI);
    assert_eq!(ci.kind, NhiKind::OauthApp);
    assert_eq!(ci.provider, "azure");
    assert_eq!(ci.name, "contoso-ci-deployer");
    assert_eq!(ci.created_at, t("2023-04-12T09:15:02Z"));
    assert_eq!(
        ci.purpose.as_deref(),
        Some("Deploys the platform from GitHub Actions")
    );
    assert_eq!(ci.status, Some(NhiStatus::Active));
    // The first owner is a service principal; the first user owner is the owner.
    assert_eq!(
        ci.owner,
        Some(OwnerRef::Person("alice@contoso.example".into()))
    );
    assert_eq!(
        strings(ci, "owners"),
        [
            "alice@contoso.example",
            &format!("app:{DEPLOY_MI}"),
            "bob@contoso.example"
        ]
    );
    assert_eq!(ci.tags.get("env").map(String::as_str), Some("production"));
    assert_eq!(ci.tags.get("HideApp").map(String::as_str), Some(""));
    assert_eq!(ci.environment, Some(Environment::Production));

    assert_eq!(ci.credentials.len(), 3);
    let secret = ci
        .credentials
        .iter()
        .find(|c| c.external_id.as_deref() == Some(key_id(1).as_str()))
        .unwrap();
    assert_eq!(secret.kind, CredentialKind::ClientSecret);
    assert_eq!(
        (secret.created_at, secret.expires_at),
        (t("2024-01-15T10:00:00Z"), t("2026-01-15T10:00:00Z"))
    );
    assert_eq!(
        (secret.preview.as_deref(), secret.fingerprint.as_deref()),
        (None, None)
    );
    let cert = ci
        .credentials
        .iter()
        .find(|c| c.external_id.as_deref() == Some(key_id(3).as_str()))
        .unwrap();
    assert_eq!(cert.kind, CredentialKind::Certificate);
    assert_eq!(cert.expires_at, t("2026-02-01T00:00:00Z"));
    assert_eq!(ci.facts["password_credentials"], 2);
    assert_eq!(ci.facts["certificate_credentials"], 1);
    assert_eq!(ci.facts["password_auth"], true);
    assert_eq!(ci.facts["credential_expiry_days"], 731);

    assert_eq!(
        strings(ci, "scopes"),
        [
            "Microsoft Graph/Application.ReadWrite.All:Role".to_owned(),
            "Microsoft Graph/Reports.Read.All:Role".into(),
            "Microsoft Graph/User.Read:Scope".into(),
            "contoso-orders-api/Orders.ReadWrite.All:Role".into(),
            format!(
                "{}/{}:Scope",
                fixtures::UNKNOWN_API,
                fixtures::UNKNOWN_PERMISSION
            ),
        ]
    );
    assert_eq!(ci.facts["admin"], true);
    assert!(!ci.facts.contains_key("privileged_grants"));
    assert_eq!(ci.facts["sign_in_audience"], "AzureADMyOrg");
    assert!(!ci.facts.contains_key("multi_tenant"));
    assert!(!ci.facts.contains_key("third_party"));
    assert_eq!(ci.facts["app_owner_organization_id"], TENANT);
    assert_eq!(ci.facts["service_principal_type"], "Application");
    assert!(
        ci.facts["app_object_id"]
            .as_str()
            .unwrap()
            .starts_with("6d1f0a4b-1111")
    );
    assert!(
        ci.facts["service_principal_object_id"]
            .as_str()
            .unwrap()
            .starts_with("6d1f0a4b-0000")
    );
    assert_eq!(
        ci.facts["trust"],
        json!([{"principal": "repo:contoso/platform:environment:production", "principal_type": "oidc",
                "issuer": "https://token.actions.githubusercontent.com", "audiences": ["api://AzureADTokenExchange"],
                "name": "github-production", "subject_condition": true}])
    );

    let legacy = nhi(&d, LEGACY);
    assert_eq!(legacy.status, Some(NhiStatus::Disabled));
    assert_eq!(
        legacy.purpose.as_deref(),
        Some("replaced by the data platform; disable, then delete after Q3")
    );
    // One secret on the registration, one on the service principal.
    assert_eq!(legacy.credentials.len(), 2);
    assert_eq!(legacy.facts["password_credentials"], 2);
    assert_eq!(legacy.facts["credential_expiry_days"], 102_581);
    assert_eq!(
        strings(legacy, "privileged_grants"),
        [
            "Microsoft Graph/Directory.AccessAsUser.All:Scope",
            "Microsoft Graph/Mail.Read:Role"
        ]
    );
    assert!(!legacy.facts.contains_key("admin"));

    let orders = nhi(&d, ORDERS);
    assert_eq!(orders.kind, NhiKind::OauthApp);
    assert_eq!(orders.status, None, "no service principal in the inputs");
    assert_eq!(orders.facts["multi_tenant"], true);
    assert_eq!(orders.facts["credential_expiry_days"], 1826);
    assert!(!orders.facts.contains_key("password_auth"));

    let acme = nhi(&d, ACME);
    assert_eq!(acme.kind, NhiKind::ServiceAccount);
    assert_eq!(acme.facts["third_party"], true);
    assert_eq!(acme.facts["multi_tenant"], true);
    assert_eq!(acme.supplier.as_deref(), Some("Acme Analytics Ltd"));
    assert_eq!(acme.facts["verified_publisher"], "Acme Analytics Ltd");

    for ms in [GRAPH, EXCHANGE] {
        let n = nhi(&d, ms);
        assert_eq!(n.kind, NhiKind::ServiceAccount);
        assert_eq!(n.facts["microsoft_first_party"], true);
        assert_eq!(n.supplier.as_deref(), Some("Microsoft"));
        assert!(!n.facts.contains_key("third_party"));
    }

    let web = nhi(&d, WEB_MI);
    assert_eq!(web.kind, NhiKind::WorkloadIdentity);
    assert_eq!(web.facts["managed_identity"], true);
    assert_eq!(web.facts["managed_identity_type"], "system_assigned");
    assert_eq!(
        web.facts["azure_resource_id"],
        format!(
            "/subscriptions/{}/resourcegroups/orders-prod/providers/Microsoft.Web/sites/orders-web",
            fixtures::SUBSCRIPTION
        )
    );
    assert!(
        web.credentials.is_empty(),
        "the platform's certificate is not a credential"
    );
    assert_eq!(web.facts["platform_managed_keys"], 1);
    let deploy = nhi(&d, DEPLOY_MI);
    assert_eq!(deploy.facts["managed_identity_type"], "user_assigned");
}

#[test]
fn no_secret_value_reaches_the_discovery() {
    let (_dir, d) = full_run();
    let out = format!("{}{d:?}", serde_json::to_string(&d).unwrap());
    for n in [1, 2, 3, 4, 30, 31, 40] {
        assert!(!out.contains(&fixtures::secret_text(n)));
        assert!(!out.contains(&fixtures::certificate_body(n)));
    }
    // Hints are a secret's first characters.
    assert!(!out.contains("Q7"));
    assert!(
        !out.contains("QjdEMzc4"),
        "certificate thumbprints are not kept either"
    );
}

#[test]
fn runs_are_deterministic() {
    let (dir, d) = full_run();
    let c = AzureFiles::new(vec![dir.path().to_owned()]);
    assert_eq!(c.name(), "azure-files");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(c.discover()).unwrap(), d);
    // The files in the other order merge to the same NHIs.
    let sp = parse_azure(
        "sp.json".as_ref(),
        fixtures::principals().to_string().as_bytes(),
    )
    .unwrap();
    let apps = parse_azure(
        "apps.json".as_ref(),
        fixtures::applications_page().to_string().as_bytes(),
    )
    .unwrap();
    let a = merge(vec![sp.clone(), apps.clone()], None).unwrap();
    let b = merge(vec![apps, sp], None).unwrap();
    assert_eq!(a.nhis, b.nhis);
    assert_eq!(a.nhis, d.nhis);
}

#[test]
fn the_tenant_is_given_or_told_by_own_apps() {
    let dir = tempfile::tempdir().unwrap();
    let sp = write(dir.path(), "sp.json", &fixtures::principals());
    let err = AzureFiles::new(vec![sp.clone()]).read().unwrap_err();
    assert!(
        matches!(&err, ConnectError::Usage(m) if m.contains("give the tenant id")),
        "{err}"
    );
    let d = AzureFiles {
        paths: vec![sp],
        tenant: Some(TENANT.to_uppercase()),
    }
    .read()
    .unwrap();
    assert_eq!(d.scope, format!("azure:{TENANT}"));
    assert!(!d.complete, "no application listing");
    assert_eq!(d.parameters["tenant"], TENANT.to_uppercase());
    assert_eq!(
        nhi(&d, CI).kind,
        NhiKind::ServiceAccount,
        "its app is not in the inputs"
    );
    assert_eq!(nhi(&d, ACME).facts["third_party"], true);

    // An app registration for the partner's app too: two owner tenants claim to be ours.
    let mut page = fixtures::applications_page();
    page["value"]
        .as_array_mut()
        .unwrap()
        .push(json!({"appId": ACME, "displayName": "acme", "requiredResourceAccess": []}));
    let apps = write(dir.path(), "apps.json", &page);
    let err = AzureFiles::new(vec![dir.path().to_owned()])
        .read()
        .unwrap_err();
    assert!(err.to_string().contains("several tenants"), "{err}");
    assert!(err.to_string().contains(fixtures::PARTNER_TENANT), "{err}");
    let _ = apps;
}

#[test]
fn a_page_with_a_next_link_is_not_complete() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sp.json", &fixtures::principals());
    let mut page = fixtures::applications_page();
    page["@odata.nextLink"] = json!(
        "https://graph.microsoft.com/v1.0/applications?$expand=owners&$skiptoken=RFNwdAIAAQAAAB"
    );
    write(dir.path(), "apps-1.json", &page);
    let d = AzureFiles::new(vec![dir.path().to_owned()]).read().unwrap();
    assert!(!d.complete);
    assert!(
        d.warnings.iter().any(|w| w.contains("more pages follow")),
        "{:?}",
        d.warnings
    );
    // With the last page as well, the listing is whole again.
    write(
        dir.path(),
        "apps-2.json",
        &json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications", "value": []}),
    );
    let d = AzureFiles::new(vec![dir.path().to_owned()]).read().unwrap();
    assert!(d.complete);
}

#[test]
fn old_azure_ad_graph_output_is_read() {
    let sp = json!([{
        "objectId": "5e6f7a8b-0000-4000-8000-000000000001", "objectType": "ServicePrincipal",
        "appId": CI, "appDisplayName": "contoso-ci-deployer", "displayName": "contoso-ci-deployer",
        "appOwnerTenantId": TENANT, "accountEnabled": "True", "servicePrincipalType": "Application",
        "servicePrincipalNames": [CI], "keyCredentials": [], "tags": [],
        "passwordCredentials": [{"customKeyIdentifier": null, "endDate": "2021-06-01T00:00:00+00:00",
                                  "keyId": key_id(7), "startDate": "2020-06-01T00:00:00+00:00", "value": null}],
    }]);
    let app = json!([{
        "objectId": "5e6f7a8b-0000-4000-8000-000000000002", "objectType": "Application", "appId": CI,
        "displayName": "contoso-ci-deployer", "availableToOtherTenants": false, "requiredResourceAccess": [],
        "passwordCredentials": [], "keyCredentials": [],
    }]);
    let files = vec![
        parse_azure("sp.json".as_ref(), sp.to_string().as_bytes()).unwrap(),
        parse_azure("app.json".as_ref(), app.to_string().as_bytes()).unwrap(),
    ];
    let m = merge(files, None).unwrap();
    assert_eq!(m.tenant, TENANT);
    assert_eq!(m.nhis.len(), 1);
    let n = &m.nhis[0];
    assert_eq!(
        (n.kind, n.status),
        (NhiKind::OauthApp, Some(NhiStatus::Active))
    );
    assert_eq!(n.credentials[0].expires_at, t("2021-06-01T00:00:00Z"));
    assert_eq!(n.facts["credential_expiry_days"], 365);
    assert!(m.complete);
}

#[test]
fn utf16_from_windows_powershell_reads_like_utf8() {
    let text = serde_json::to_string_pretty(&fixtures::principals()).unwrap();
    let mut le = vec![0xff, 0xfe];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let a = parse_azure("le.json".as_ref(), &le).unwrap();
    let b = parse_azure("utf8.json".as_ref(), text.as_bytes()).unwrap();
    assert_eq!(a.shape, Shape::ServicePrincipals);
    assert_eq!(
        merge(vec![a], Some(TENANT)).unwrap(),
        merge(vec![b], Some(TENANT)).unwrap()
    );
    let err = parse_azure("odd.json".as_ref(), &le[..le.len() - 1]).unwrap_err();
    assert!(matches!(err, ConnectError::Corrupt { .. }), "{err}");
}

#[test]
fn bad_input_fails_naming_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let read = |p: PathBuf| {
        AzureFiles {
            paths: vec![p],
            tenant: Some(TENANT.into()),
        }
        .read()
        .unwrap_err()
    };

    let text = serde_json::to_string_pretty(&fixtures::principals()).unwrap();
    let p = dir.path().join("cut.json");
    std::fs::write(&p, &text[..text.len() / 2]).unwrap();
    let err = read(p.clone());
    assert!(matches!(err, ConnectError::Syntax { .. }), "{err}");
    assert!(
        err.to_string().starts_with(&format!("{}:", p.display())),
        "{err}"
    );

    let mut sps = fixtures::principals();
    sps[2]["tags"] = json!("prod");
    let err = read(write(dir.path(), "tags.json", &sps));
    assert!(
        matches!(&err, ConnectError::Field { field, .. } if field == "[2].tags"),
        "{err}"
    );

    let mut page = fixtures::applications_page();
    page["value"][0]["passwordCredentials"][1]["endDateTime"] = json!("2025-02-30T00:00:00Z");
    let err = read(write(dir.path(), "date.json", &page));
    assert!(
        matches!(&err, ConnectError::Field { field, line, .. } if field == "value[0].passwordCredentials[1].endDateTime" && *line > 1),
        "{err}"
    );

    let mut page = fixtures::applications_page();
    page["value"][1]["requiredResourceAccess"] = json!([{"resourceAccess": []}]);
    let err = read(write(dir.path(), "rra.json", &page));
    assert!(
        err.to_string().contains("missing field `resourceAppId`"),
        "{err}"
    );

    let err = AzureFiles::new(vec![]).read().unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)));
}

#[test]
fn gzipped_listings_are_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(fixtures::principals().to_string().as_bytes())
        .unwrap();
    std::fs::write(dir.path().join("sp.json.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not read").unwrap();
    let d = AzureFiles {
        paths: vec![dir.path().to_owned()],
        tenant: Some(TENANT.into()),
    }
    .read()
    .unwrap();
    assert_eq!(d.inputs.len(), 1);
    assert_eq!(d.nhis.len(), 7);
}

#[test]
fn the_corpus_entra_events_are_not_listings() {
    // The shared corpus has Entra audit events, not directory listings: this connector does
    // not read JSON lines, and says so.
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/events/panther-tests-azure-audit.jsonl"
    ));
    let Ok(bytes) = std::fs::read(&p) else {
        eprintln!("corpus file {} missing; test skipped", p.display());
        return;
    };
    let err = parse_azure(&p, &bytes).unwrap_err();
    assert!(matches!(err, ConnectError::Syntax { line: 2, .. }), "{err}");
}
