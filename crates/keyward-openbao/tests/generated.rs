//! The walk and the mapping on snapshots generated in the server's response shapes.

use keyward_connect::ConnectError;
use keyward_model::{CredentialKind, Environment, NhiKind, NhiStatus, OwnerRef};
use keyward_openbao::{SNAPSHOT_CONNECTOR, parse_snapshot};
use serde_json::{Value, json};

use crate::common::{Snap, accessor, at, fact, nhi, snapshot, strings, world};

fn discover(s: &Snap) -> keyward_connect::Discovery {
    parse_snapshot("snap.json".as_ref(), &s.bytes()).unwrap()
}

#[test]
fn a_generated_server_maps_every_role_token_and_secret() {
    let w = world(24);
    let d = discover(&snapshot(&w));
    let scope = w.scope();
    assert_eq!(d.source, "openbao");
    assert_eq!(d.scope, scope);
    assert!(d.complete);
    assert_eq!(d.connector, SNAPSHOT_CONNECTOR);
    assert_eq!(d.nhis.len(), 24 * 3);
    assert_eq!(
        d.inputs[0].identity.as_deref(),
        Some("openbao 2.7.2; auth: approle,token,userpass")
    );
    assert_eq!(d.parameters["kv_mounts_read"], json!(["secret", "team-kv"]));
    let ids: Vec<&str> = d.nhis.iter().map(|n| n.external_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "sorted by external id");

    // Role 1: ops-admin, secret ids that never expire.
    let r = nhi(&d.nhis, &format!("{scope}:auth/approle/role/svc-001"));
    assert_eq!(r.kind, NhiKind::ServiceAccount);
    assert_eq!(r.provider, "openbao");
    assert_eq!(r.name, "svc-001");
    assert_eq!(r.observed_permissions, ["default", "ops-admin"]);
    assert_eq!(fact(r, "admin"), &json!(false));
    assert_eq!(
        strings(r, "privileged_grants"),
        ["ops-admin: sys/* [create, read, update, delete, list, sudo]"]
    );
    assert_eq!(
        strings(r, "wildcard_permissions"),
        [
            "ops-admin: secret/* [read, list]",
            "ops-admin: sys/* [create, read, update, delete, list, sudo]"
        ]
    );
    assert_eq!(fact(r, "secret_id_ttl"), &json!(0));
    assert_eq!(fact(r, "secret_id_num_uses"), &json!(5));
    assert_eq!(fact(r, "token_ttl"), &json!(1200));
    assert_eq!(fact(r, "token_max_ttl"), &json!(3600));
    assert_eq!(fact(r, "bind_secret_id"), &json!(true));
    assert_eq!(fact(r, "auth_mount"), &json!("approle"));
    assert_eq!(strings(r, "token_policies"), ["ops-admin"]);
    assert_eq!(r.credentials.len(), 1);
    let c = &r.credentials[0];
    assert_eq!(c.kind, CredentialKind::Token);
    assert_eq!(c.external_id.as_deref(), Some(accessor(10).as_str()));
    assert_eq!(c.created_at, Some(at(3600)));
    assert_eq!(c.expires_at, None, "Go's zero time is no expiry");

    // Role 2: root, secret ids that expire after a day; role 0 on its own mount number 4.
    let r = nhi(&d.nhis, &format!("{scope}:auth/approle/role/svc-002"));
    assert_eq!(fact(r, "admin"), &json!(true));
    assert_eq!(r.observed_permissions, ["root"]);
    assert_eq!(r.credentials.len(), 2);
    let newest = r.credentials.iter().filter_map(|c| c.created_at).max();
    assert_eq!(r.last_rotated_at, newest);
    for c in &r.credentials {
        assert_eq!(
            c.expires_at,
            c.created_at.map(|t| t + chrono::Duration::seconds(86_400))
        );
    }
    let r = nhi(&d.nhis, &format!("{scope}:auth/ci-approle/role/svc-004"));
    assert_eq!(strings(r, "token_bound_cidrs"), Vec::<String>::new());
    assert_eq!(r.credentials.len(), 1);
    assert_eq!(strings(r, "privileged_grants"), Vec::<String>::new());
    assert_eq!(strings(r, "wildcard_permissions"), Vec::<String>::new());
    // Role 3 names a policy that does not exist.
    let r = nhi(&d.nhis, &format!("{scope}:auth/approle/role/svc-003"));
    assert_eq!(strings(r, "unresolved_policies"), ["gone"]);
    assert_eq!(strings(r, "wildcard_permissions"), Vec::<String>::new());
    // Role 6 has no default policy.
    let r = nhi(&d.nhis, &format!("{scope}:auth/approle/role/svc-006"));
    assert_eq!(r.observed_permissions, ["root"]);

    // Tokens.
    let t = nhi(
        &d.nhis,
        &format!("{scope}:auth/token/accessors/{}", accessor(100_001)),
    );
    assert_eq!(t.kind, NhiKind::Token);
    assert_eq!(t.name, "token-bot-1");
    assert_eq!(
        t.owner,
        Some(OwnerRef::Person("person1@example.com".into()))
    );
    assert_eq!(t.environment, Some(Environment::Production));
    assert_eq!(
        t.created_at,
        Some(at(600) - chrono::Duration::nanoseconds(123_456_789))
    );
    assert_eq!(
        t.expires_at,
        Some(at(600) + chrono::Duration::seconds(7200))
    );
    assert_eq!(t.observed_permissions, ["default", "ops-admin"]);
    assert_eq!(fact(t, "never_expires"), &json!(false));
    assert_eq!(fact(t, "orphan"), &json!(true));
    assert_eq!(fact(t, "renewable"), &json!(true));
    assert!(
        !t.facts.contains_key("ttl"),
        "the remaining TTL changes every second"
    );
    assert_eq!(fact(t, "type"), &json!("service"));
    assert_eq!(fact(t, "creation_path"), &json!("auth/token/create"));
    assert_eq!(
        fact(t, "meta"),
        &json!({"environment": "production", "owner": "Person1@Example.com"})
    );
    assert_eq!(
        t.tags.get("environment").map(String::as_str),
        Some("production")
    );
    assert!(!t.facts.contains_key("entity_id"));
    assert_eq!(t.credentials.len(), 1);
    assert_eq!(
        t.credentials[0].external_id.as_deref(),
        Some(accessor(100_001).as_str())
    );
    let t = nhi(
        &d.nhis,
        &format!("{scope}:auth/token/accessors/{}", accessor(100_002)),
    );
    assert_eq!(fact(t, "admin"), &json!(true));
    assert_eq!(fact(t, "never_expires"), &json!(true));
    assert_eq!(t.expires_at, None);
    assert_eq!(t.owner, None, "`not-an-owner` is no owner");
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains(&accessor(100_002)) && w.contains("owner ignored")),
        "{:?}",
        d.warnings
    );
    let t = nhi(
        &d.nhis,
        &format!("{scope}:auth/token/accessors/{}", accessor(100_000)),
    );
    assert_eq!(t.owner, Some(OwnerRef::Team("team-0".into())));
    assert_eq!(fact(t, "creation_path"), &json!("auth/approle/login"));

    // Secrets.
    let s = nhi(&d.nhis, &format!("{scope}:secret/team-1/app-1"));
    assert_eq!(s.kind, NhiKind::ApiKey);
    assert_eq!(s.name, "secret/team-1/app-1");
    assert_eq!(fact(s, "versions"), &json!(2));
    assert_eq!(fact(s, "current_version"), &json!(2));
    assert_eq!(fact(s, "max_versions"), &json!(10));
    assert_eq!(fact(s, "kv_mount"), &json!("secret"));
    assert_eq!(fact(s, "custom_metadata"), &json!({}));
    assert_eq!(s.created_at, Some(at(86_400)));
    assert_eq!(s.last_rotated_at, Some(at(86_400 + 3_600)));
    assert_eq!(s.status, Some(NhiStatus::Active));
    assert_eq!(s.owner, None);
    let s = nhi(&d.nhis, &format!("{scope}:team-kv/team-0/svc/deep/app-2"));
    assert_eq!(s.owner, Some(OwnerRef::Team("owners-2".into())));
    assert_eq!(s.purpose.as_deref(), Some("api key of app 2"));
    assert_eq!(fact(s, "versions"), &json!(3));
    // Secret 5: the current version was deleted an hour after it was written.
    let s = nhi(&d.nhis, &format!("{scope}:team-kv/team-2/app-5"));
    assert_eq!(s.status, Some(NhiStatus::Disabled));
    assert_eq!(
        s.expires_at,
        Some(at(5 * 86_400 + 3_600) + chrono::Duration::hours(1))
    );
    let s = nhi(&d.nhis, &format!("{scope}:secret/shared/app-7/key"));
    assert_eq!(s.status, Some(NhiStatus::Active));
    let destroyed: Vec<&str> = d
        .nhis
        .iter()
        .filter(|n| n.status == Some(NhiStatus::Revoked))
        .map(|n| n.external_id.as_str())
        .collect();
    assert_eq!(
        destroyed,
        [
            format!("{scope}:team-kv/app-8"),
            format!("{scope}:team-kv/team-2/app-17"),
        ]
    );

    // Warnings: the KV version 1 mount, the missing policy, the bad owners.
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("kv mount `legacy` is version 1"))
    );
    assert!(d.warnings.iter().any(|w| w.contains("policy `gone`")));
}

#[test]
fn the_same_snapshot_gives_the_same_discovery() {
    let s = snapshot(&world(40));
    let a = discover(&s);
    let b = discover(&s);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn a_large_server_is_walked_whole() {
    let w = world(400);
    let d = discover(&snapshot(&w));
    assert_eq!(d.nhis.len(), 1200);
    let creds: usize = d.nhis.iter().map(|n| n.credentials.len()).sum();
    let secret_ids: usize = w.roles.iter().map(|r| r.secret_ids.len()).sum();
    assert_eq!(creds, secret_ids + 400);
}

#[test]
fn a_namespace_and_chosen_mounts_change_scope_and_ids() {
    let w = world(8);
    let mut s = snapshot(&w);
    s.namespace = Some("/team-a/".into());
    s.kv_mounts = Some(vec!["team-kv/".into()]);
    let d = discover(&s);
    assert_eq!(d.scope, "openbao:vault-cluster-5bcb2f65/team-a");
    assert_eq!(d.parameters["namespace"], json!("team-a"));
    assert_eq!(d.parameters["kv_mounts_read"], json!(["team-kv"]));
    let secrets: Vec<&str> = d
        .nhis
        .iter()
        .filter(|n| n.kind == NhiKind::ApiKey)
        .map(|n| n.external_id.as_str())
        .collect();
    assert_eq!(
        secrets,
        [
            "openbao:vault-cluster-5bcb2f65/team-a:team-kv/team-0/svc/deep/app-2",
            "openbao:vault-cluster-5bcb2f65/team-a:team-kv/team-2/app-5",
        ]
    );
    assert!(!d.warnings.iter().any(|w| w.contains("version 1")));

    s.kv_mounts = Some(vec!["legacy".into()]);
    let err = parse_snapshot("snap.json".as_ref(), &s.bytes()).unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)), "{err}");
    assert!(
        err.to_string().contains(
            "`legacy` is not a kv version 2 mount on this server (those are: secret, team-kv)"
        ),
        "{err}"
    );
}

#[test]
fn without_a_cluster_name_the_scope_is_the_address() {
    let w = world(2);
    let mut s = snapshot(&w);
    let key = "GET sys/health?standbyok=true&perfstandbyok=true";
    s.responses.get_mut(key).unwrap()["cluster_name"] = Value::Null;
    let d = discover(&s);
    assert_eq!(d.scope, "openbao:bao.example.internal:8200");
    assert!(
        d.nhis[0]
            .external_id
            .starts_with("openbao:bao.example.internal:8200:")
    );
}

#[test]
fn vanished_items_are_skipped_with_a_warning() {
    let w = world(6);
    let mut s = snapshot(&w);
    // A token expiring between the list and the lookup: the server says invalid accessor.
    let key = format!(
        "POST auth/token/lookup-accessor {}",
        json!({"accessor": accessor(100_003)})
    );
    s.responses.insert(key.clone(), Value::Null);
    // A secret deleted (metadata and all) after the listing.
    s.raw("GET secret/metadata/app-0", Value::Null);
    let d = discover(&s);
    assert_eq!(d.nhis.len(), 6 * 3 - 2);
    assert!(d.warnings.iter().any(|w| w
        == &format!(
            "token accessor `{}` vanished while listed",
            accessor(100_003)
        )));
    assert!(
        d.warnings
            .iter()
            .any(|w| w == "secret `secret/app-0` vanished while listed")
    );
}

#[test]
fn bad_responses_name_the_snapshot_line_column_and_field() {
    let w = world(3);
    let mut s = snapshot(&w);
    let key = format!(
        "POST auth/token/lookup-accessor {}",
        json!({"accessor": accessor(100_001)})
    );
    s.responses.get_mut(&key).unwrap()["data"]["creation_time"] = json!("yesterday");
    let bytes = s.bytes();
    let err = parse_snapshot("snap.json".as_ref(), &bytes).unwrap_err();
    let ConnectError::Field {
        line, field, path, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(path.to_str(), Some("snap.json"));
    assert_eq!(field, "data.creation_time");
    let text = String::from_utf8(bytes).unwrap();
    let want = text
        .lines()
        .position(|l| l.contains("\"creation_time\": \"yesterday\""))
        .unwrap()
        + 1;
    assert_eq!(*line, want, "{err}");

    // A date that is not one.
    let mut s = snapshot(&w);
    s.responses.get_mut("GET secret/metadata/app-0").unwrap()["data"]["versions"]["1"]["created_time"] =
        json!("2026-13-45T00:00:00Z");
    let err = parse_snapshot("snap.json".as_ref(), &s.bytes()).unwrap_err();
    assert!(
        err.to_string().contains(
            "data.versions.1.created_time: `2026-13-45T00:00:00Z` is not an RFC 3339 timestamp"
        ),
        "{err}"
    );

    // A response missing from the snapshot.
    let mut s = snapshot(&w);
    s.responses.remove("GET sys/mounts");
    let err = parse_snapshot("snap.json".as_ref(), &s.bytes()).unwrap_err();
    assert!(
        err.to_string()
            .contains("no response recorded for `GET sys/mounts`"),
        "{err}"
    );

    // Truncated.
    let bytes = snapshot(&w).bytes();
    let err = parse_snapshot("snap.json".as_ref(), &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(err, ConnectError::Syntax { .. }), "{err}");
}

#[test]
fn a_sealed_server_fails_the_run() {
    let w = world(1);
    let mut s = snapshot(&w);
    let key = "GET sys/health?standbyok=true&perfstandbyok=true";
    s.responses.get_mut(key).unwrap()["sealed"] = json!(true);
    let err = parse_snapshot("snap.json".as_ref(), &s.bytes()).unwrap_err();
    assert!(matches!(err, ConnectError::Endpoint { .. }), "{err}");
    assert!(err.to_string().contains("sealed"), "{err}");
}

#[test]
fn unknown_fields_are_tolerated() {
    let w = world(3);
    let mut s = snapshot(&w);
    for (key, body) in &mut s.responses {
        if let Value::Object(top) = body {
            top.insert("added_in_a_later_release".into(), json!(true));
        }
        // The mount tables' `data` holds only mounts.
        if key.starts_with("GET sys/auth") || key.starts_with("GET sys/mounts") {
            continue;
        }
        if let Some(Value::Object(data)) = body.get_mut("data") {
            data.insert("added_in_a_later_release".into(), json!({"x": [1, 2]}));
        }
    }
    let (a, b) = (discover(&s), discover(&snapshot(&w)));
    assert_eq!(a.nhis, b.nhis);
    assert_eq!(a.warnings, b.warnings);
}
