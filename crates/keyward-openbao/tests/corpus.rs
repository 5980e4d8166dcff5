//! The real responses of an OpenBao 2.7.2 server, as its file audit device recorded them
//! (`openbao/audit.log`): the AppRole role read, the secret-id lookup, the accessor list and
//! the token lookup are fed to the walk as they are. The audit device HMACs string values
//! (policy names, display names, types), so those read as `hmac-sha256:…` and the mapping
//! must take them as opaque strings. What the log does not hold (health, mount tables, the
//! role and secret-id listings) is added in the server's shapes, from what the log shows was
//! created.

use chrono::{DateTime, Utc};
use keyward_model::{CredentialKind, NhiKind};
use keyward_openbao::parse_snapshot;
use serde_json::{Value, json};

use crate::common::{Snap, corpus, fact, nhi, strings};

/// Each audit response, keyed as the walk would request it.
fn responses(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        if entry["type"] != "response" {
            continue;
        }
        let req = &entry["request"];
        let path = req["path"].as_str().unwrap().trim_end_matches('/');
        let key = match req["operation"].as_str().unwrap() {
            "read" => format!("GET {path}"),
            "list" => format!("LIST {path}"),
            "update" if req["data"].is_null() => format!("POST {path} {{}}"),
            "update" => format!("POST {path} {}", req["data"]),
            _ => continue,
        };
        out.push((key, entry["response"].clone()));
    }
    out
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    s.parse().ok()
}

#[test]
fn the_audit_logs_real_responses_map_to_the_role_its_secret_id_and_the_token() {
    let Some(path) = corpus("openbao/audit.log") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let recorded = responses(&text);
    assert_eq!(
        recorded.len(),
        25,
        "the log's read, list and update responses"
    );
    let find = |key: &str| -> Value {
        recorded
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("the log has no response for `{key}`"))
    };

    // The secret id the log shows being created, whose accessor the listing would give.
    let created = find("POST auth/approle/role/ci-runner/secret-id {}");
    let secret_id_accessor = created["data"]["secret_id_accessor"]
        .as_str()
        .unwrap()
        .to_owned();
    let accessors = find("LIST auth/token/accessors");
    let token_accessors: Vec<String> = accessors["data"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(token_accessors.len(), 3);

    let mut s = Snap::new("http://127.0.0.1:8200");
    s.health(
        "vault-cluster-corpus",
        time("2026-11-22T01:51:37Z").unwrap(),
    );
    s.mounts("sys/auth", &[("approle", "approle"), ("token", "token")]);
    s.mounts(
        "sys/mounts",
        &[
            ("cubbyhole", "cubbyhole"),
            ("secret", "kv2"),
            ("sys", "system"),
        ],
    );
    s.list("auth/approle/role", &["ci-runner".to_owned()]);
    s.raw(
        "GET auth/approle/role/ci-runner",
        find("GET auth/approle/role/ci-runner"),
    );
    s.list(
        "auth/approle/role/ci-runner/secret-id",
        std::slice::from_ref(&secret_id_accessor),
    );
    let lookup = format!(
        "POST auth/approle/role/ci-runner/secret-id-accessor/lookup {}",
        json!({ "secret_id_accessor": secret_id_accessor })
    );
    s.raw(&lookup, find(&lookup));
    s.raw("LIST auth/token/accessors", accessors.clone());
    let mut looked_up = 0;
    for a in &token_accessors {
        let key = format!(
            "POST auth/token/lookup-accessor {}",
            json!({ "accessor": a })
        );
        // The log looks up one of the three; the other two answer as gone.
        match recorded.iter().find(|(k, _)| k == &key) {
            Some((_, v)) => {
                s.raw(&key, v.clone());
                looked_up += 1;
            }
            None => s.raw(&key, Value::Null),
        }
    }
    assert_eq!(looked_up, 1);
    s.list("secret/metadata/", &[]);
    // The policies are named by their HMACs in the log: none exists under that name.
    let role = find("GET auth/approle/role/ci-runner");
    let token_lookup = recorded
        .iter()
        .find(|(k, _)| k.starts_with("POST auth/token/lookup-accessor"))
        .map(|(_, v)| v.clone())
        .unwrap();
    let mut names: Vec<String> = role["data"]["token_policies"]
        .as_array()
        .unwrap()
        .iter()
        .chain(token_lookup["data"]["policies"].as_array().unwrap())
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    for n in &names {
        s.raw(&format!("GET sys/policies/acl/{n}"), Value::Null);
    }
    s.get(
        "sys/policies/acl/default",
        json!({"name": "default", "policy": "path \"auth/token/lookup-self\" {\n    capabilities = [\"read\"]\n}\n"}),
    );

    let d = parse_snapshot("audit-derived.json".as_ref(), &s.bytes()).unwrap();
    assert_eq!(d.scope, "openbao:vault-cluster-corpus");
    assert_eq!(d.nhis.len(), 2);
    assert_eq!(
        d.inputs[0].identity.as_deref(),
        Some("openbao 2.7.2; auth: approle,token")
    );

    let r = nhi(
        &d.nhis,
        "openbao:vault-cluster-corpus:auth/approle/role/ci-runner",
    );
    assert_eq!(r.kind, NhiKind::ServiceAccount);
    assert_eq!(fact(r, "secret_id_ttl"), &json!(86_400));
    assert_eq!(fact(r, "secret_id_num_uses"), &json!(10));
    assert_eq!(fact(r, "token_ttl"), &json!(1200));
    assert_eq!(fact(r, "token_max_ttl"), &json!(3600));
    assert_eq!(fact(r, "bind_secret_id"), &json!(true));
    assert_eq!(strings(r, "secret_id_bound_cidrs"), Vec::<String>::new());
    let hmac_policy =
        "hmac-sha256:1f8d7c35e7e68204f19fda7f3ec65818be5be956c11f1d56ea0294a91bd96d64";
    assert_eq!(strings(r, "token_policies"), [hmac_policy]);
    assert_eq!(r.observed_permissions, ["default", hmac_policy]);
    assert_eq!(strings(r, "unresolved_policies"), [hmac_policy]);
    assert_eq!(r.credentials.len(), 1);
    let c = &r.credentials[0];
    assert_eq!(c.kind, CredentialKind::Token);
    assert_eq!(c.external_id.as_deref(), Some(secret_id_accessor.as_str()));
    assert_eq!(c.created_at, time("2026-11-22T01:51:36.524125821Z"));
    assert_eq!(c.expires_at, time("2026-11-23T01:51:36.524125821Z"));

    let accessor = "hmac-sha256:82be7233052266988f46ef593f771a303868b3b907507ba2bd135b6d75065159";
    let t = nhi(
        &d.nhis,
        &format!("openbao:vault-cluster-corpus:auth/token/accessors/{accessor}"),
    );
    assert_eq!(t.kind, NhiKind::Token);
    assert_eq!(
        t.name,
        "hmac-sha256:82cfe2889438119d93de5f1ac56126bab6a49372f29ec9a9159640b269b41f97"
    );
    assert_eq!(t.created_at, time("2026-11-22T01:51:35Z"));
    assert_eq!(t.expires_at, time("2026-11-22T02:51:35.251788199Z"));
    assert_eq!(fact(t, "explicit_max_ttl"), &json!(7200));
    assert_eq!(fact(t, "creation_ttl"), &json!(3600));
    assert!(
        !t.facts.contains_key("ttl"),
        "the remaining TTL changes every second"
    );
    assert_eq!(fact(t, "renewable"), &json!(true));
    assert_eq!(fact(t, "orphan"), &json!(false));
    assert_eq!(fact(t, "never_expires"), &json!(false));
    assert_eq!(fact(t, "admin"), &json!(false));
    assert_eq!(strings(t, "policies").len(), 2);
    assert_eq!(t.owner, None, "the owner is an HMAC in the log");
    assert_eq!(t.credentials[0].external_id.as_deref(), Some(accessor));

    // The two accessors the log never looked up, the unknown policies, the HMAC'd owner.
    let vanished = d.warnings.iter().filter(|w| w.contains("vanished")).count();
    assert_eq!(vanished, 2, "{:?}", d.warnings);
    assert!(
        d.warnings.iter().any(|w| w.contains("owner ignored")),
        "{:?}",
        d.warnings
    );
    assert!(
        d.warnings.iter().any(|w| w.contains(&format!(
            "policy `{hmac_policy}` is attached but does not exist"
        ))),
        "{:?}",
        d.warnings
    );
    // No secret the log shows (the token's id, the secret id) is in the discovery.
    let out = serde_json::to_string(&d).unwrap();
    let secret_id = created["data"]["secret_id"].as_str().unwrap();
    assert!(!out.contains(secret_id));
    let created_token = find(&format!(
        "POST auth/token/create {}",
        recorded
            .iter()
            .filter(|(k, _)| k.starts_with("POST auth/token/create "))
            .nth(1)
            .map(|(k, _)| k["POST auth/token/create ".len()..].to_owned())
            .unwrap()
    ));
    let client_token = created_token["auth"]["client_token"].as_str().unwrap();
    assert!(client_token.starts_with("hmac-sha256:"));
    assert!(!out.contains(client_token));
}
