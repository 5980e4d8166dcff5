//! Building snapshots in the exact shapes an OpenBao 2.7 server answers with (field sets
//! copied from a real dev server's responses), and a generated server to fill them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use keyward_model::DiscoveredNhi;
use serde_json::{Value, json};

/// A file of the shared corpus, or `None` (with the reason printed) when the corpus is absent.
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/"
    ))
    .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: corpus file {} is not here", p.display());
        None
    }
}

/// The NHI with this external id.
pub fn nhi<'a>(nhis: &'a [DiscoveredNhi], external_id: &str) -> &'a DiscoveredNhi {
    match nhis.iter().find(|n| n.external_id == external_id) {
        Some(n) => n,
        None => panic!(
            "no NHI `{external_id}` among {:?}",
            nhis.iter().map(|n| &n.external_id).collect::<Vec<_>>()
        ),
    }
}

/// A fact as a list of strings.
pub fn strings(n: &DiscoveredNhi, fact: &str) -> Vec<String> {
    match n.facts.get(fact) {
        Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
        other => panic!("{}: fact `{fact}` is {other:?}", n.external_id),
    }
}

/// A fact, which must be present.
pub fn fact<'a>(n: &'a DiscoveredNhi, fact: &str) -> &'a Value {
    match n.facts.get(fact) {
        Some(v) => v,
        None => panic!("{}: no fact `{fact}` in {:?}", n.external_id, n.facts),
    }
}

/// RFC 3339 with nanoseconds, as OpenBao writes times.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// A time `secs` after 2026-11-01T00:00:00Z, with a fraction as servers have.
pub fn at(secs: i64) -> DateTime<Utc> {
    let base = "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
    base + chrono::Duration::seconds(secs) + chrono::Duration::nanoseconds(123_456_789)
}

/// A 24-character accessor-like identifier, derived from `seed` (built at test time so the
/// repository holds no token-shaped strings).
pub fn accessor(seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (0..24)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

/// The envelope of every authenticated response.
pub fn envelope(data: Value) -> Value {
    json!({
        "request_id": "0e1f8a52-3c2b-7d4e-9f60-1a2b3c4d5e6f",
        "lease_id": "",
        "renewable": false,
        "lease_duration": 0,
        "data": data,
        "wrap_info": null,
        "warnings": null,
        "auth": null
    })
}

/// A snapshot being built.
#[derive(Debug, Clone)]
pub struct Snap {
    pub address: String,
    pub namespace: Option<String>,
    pub kv_mounts: Option<Vec<String>>,
    pub responses: BTreeMap<String, Value>,
}

impl Snap {
    pub fn new(address: &str) -> Self {
        Self {
            address: address.to_owned(),
            namespace: None,
            kv_mounts: None,
            responses: BTreeMap::new(),
        }
    }

    /// A response body under its exact key.
    pub fn raw(&mut self, key: &str, body: Value) {
        self.responses.insert(key.to_owned(), body);
    }

    /// `GET path` answering `data` in the envelope.
    pub fn get(&mut self, path: &str, data: Value) {
        self.raw(&format!("GET {path}"), envelope(data));
    }

    /// `LIST path` answering `keys`, or 404 when there are none (as the server does).
    pub fn list(&mut self, path: &str, keys: &[String]) {
        let body = if keys.is_empty() {
            Value::Null
        } else {
            envelope(json!({ "keys": keys }))
        };
        self.raw(&format!("LIST {path}"), body);
    }

    /// `POST path` with `body` answering `data`.
    pub fn post(&mut self, path: &str, body: Value, data: Value) {
        self.raw(&format!("POST {path} {body}"), envelope(data));
    }

    /// The health answer of a dev server named `cluster` at `now`.
    pub fn health(&mut self, cluster: &str, now: DateTime<Utc>) {
        self.raw(
            "GET sys/health?standbyok=true&perfstandbyok=true",
            json!({
                "initialized": true, "sealed": false, "standby": false,
                "replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
                "server_time_utc": now.timestamp(), "version": "2.7.2",
                "cluster_name": cluster, "cluster_id": "a5e946ff-5720-c3b0-dfc1-67cafcd0d237"
            }),
        );
    }

    /// `sys/auth` or `sys/mounts` with mounts of these types (`kv2`, `kv1` for KV).
    pub fn mounts(&mut self, which: &str, mounts: &[(&str, &str)]) {
        let mut data = serde_json::Map::new();
        for (i, (path, kind)) in mounts.iter().enumerate() {
            let (kind, options) = match *kind {
                "kv2" => ("kv", json!({"version": "2"})),
                "kv1" => ("kv", json!({"version": "1"})),
                k => (k, Value::Null),
            };
            data.insert(
                format!("{path}/"),
                json!({
                    "accessor": format!("{kind}_{i:08x}"),
                    "config": {"default_lease_ttl": 0, "force_no_cache": false, "max_lease_ttl": 0},
                    "description": "", "external_entropy_access": false, "local": false,
                    "options": options, "plugin_version": "",
                    "running_plugin_version": "v2.7.2+builtin.bao", "running_sha256": "",
                    "seal_wrap": false, "type": kind,
                    "uuid": "7902907c-a998-9eae-673f-82f82a5bd1cb"
                }),
            );
        }
        let data = Value::Object(data);
        // The server repeats the mounts at the top level beside the envelope.
        let mut body = envelope(data.clone());
        if let (Value::Object(b), Value::Object(d)) = (&mut body, data) {
            b.extend(d);
        }
        self.raw(&format!("GET {which}"), body);
    }

    pub fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&json!({
            "address": self.address,
            "namespace": self.namespace,
            "kv_mounts": self.kv_mounts,
            "responses": self.responses,
        }))
        .unwrap()
    }
}

/// An AppRole role of a generated server.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    pub mount: String,
    pub name: String,
    pub policies: Vec<String>,
    pub no_default_policy: bool,
    pub secret_id_ttl: i64,
    pub secret_id_num_uses: i64,
    pub token_ttl: i64,
    pub token_max_ttl: i64,
    pub token_bound_cidrs: Vec<String>,
    pub secret_ids: Vec<(String, DateTime<Utc>)>,
}

/// A token of a generated server.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub accessor: String,
    pub display_name: String,
    pub policies: Vec<String>,
    pub created: DateTime<Utc>,
    pub ttl: i64,
    pub meta: BTreeMap<String, String>,
    pub orphan: bool,
    pub path: String,
}

/// A KV secret of a generated server.
#[derive(Debug, Clone)]
pub struct SecretSpec {
    pub mount: String,
    pub path: String,
    /// Each version's creation, deletion and whether destroyed.
    pub versions: Vec<(DateTime<Utc>, Option<DateTime<Utc>>, bool)>,
    pub custom: BTreeMap<String, String>,
    pub max_versions: u64,
}

/// A generated server.
#[derive(Debug, Clone)]
pub struct World {
    pub cluster: String,
    pub now: DateTime<Utc>,
    pub roles: Vec<RoleSpec>,
    pub tokens: Vec<TokenSpec>,
    pub secrets: Vec<SecretSpec>,
    pub policies: BTreeMap<String, String>,
}

impl World {
    pub fn scope(&self) -> String {
        format!("openbao:{}", self.cluster)
    }
}

/// A server with `n` roles over two AppRole mounts, `n` tokens and `n` secrets over two KV
/// mounts in nested folders, and policies from harmless to root.
pub fn world(n: usize) -> World {
    let now = at(30 * 86_400);
    let policy_sets: [&[&str]; 4] = [
        &["app-read"],
        &["ops-admin"],
        &["root"],
        &["app-read", "gone"],
    ];
    let mut roles = Vec::new();
    for i in 0..n {
        let mount = if i % 5 == 4 { "ci-approle" } else { "approle" };
        let secret_ids = (0..i % 3)
            .map(|j| {
                (
                    accessor((i * 10 + j) as u64),
                    at((i * 3600 + j * 60) as i64),
                )
            })
            .collect();
        roles.push(RoleSpec {
            mount: mount.to_owned(),
            name: format!("svc-{i:03}"),
            policies: policy_sets[i % 4].iter().map(|s| (*s).to_owned()).collect(),
            no_default_policy: i % 7 == 6,
            secret_id_ttl: if i % 2 == 0 { 86_400 } else { 0 },
            secret_id_num_uses: (i % 4) as i64 * 5,
            token_ttl: 1200,
            token_max_ttl: 3600,
            token_bound_cidrs: if i % 3 == 0 {
                vec!["10.0.0.0/8".into()]
            } else {
                vec![]
            },
            secret_ids,
        });
    }
    let mut tokens = Vec::new();
    for i in 0..n {
        let mut meta = BTreeMap::new();
        match i % 4 {
            0 => {
                meta.insert("owner".to_owned(), format!("team:team-{}", i % 3));
            }
            1 => {
                meta.insert("owner".to_owned(), format!("Person{i}@Example.com"));
                meta.insert("environment".to_owned(), "production".to_owned());
            }
            2 => {
                meta.insert("owner".to_owned(), "not-an-owner".to_owned());
            }
            _ => {}
        }
        tokens.push(TokenSpec {
            accessor: accessor(100_000 + i as u64),
            display_name: format!("token-bot-{i}"),
            policies: policy_sets[i % 4]
                .iter()
                .map(|s| (*s).to_owned())
                .chain((i % 4 != 2).then(|| "default".to_owned()))
                .collect(),
            created: at(i as i64 * 600),
            ttl: if i % 4 == 2 {
                0
            } else {
                3600 * (1 + i as i64 % 48)
            },
            meta,
            orphan: i % 2 == 1,
            path: if i % 5 == 0 {
                "auth/approle/login".into()
            } else {
                "auth/token/create".into()
            },
        });
    }
    let mut secrets = Vec::new();
    for i in 0..n {
        let mount = if i % 3 == 2 { "team-kv" } else { "secret" };
        let path = match i % 4 {
            0 => format!("app-{i}"),
            1 => format!("team-{}/app-{i}", i % 3),
            2 => format!("team-{}/svc/deep/app-{i}", i % 2),
            _ => format!("shared/app-{i}/key"),
        };
        let count = 1 + i % 4;
        let versions = (0..count)
            .map(|v| {
                let created = at((i * 86_400 + v * 3_600) as i64);
                let last = v + 1 == count;
                let deletion = (last && i % 6 == 5).then(|| created + chrono::Duration::hours(1));
                let destroyed = last && i % 9 == 8;
                (created, deletion, destroyed)
            })
            .collect();
        let mut custom = BTreeMap::new();
        if i % 2 == 0 {
            custom.insert("owner".to_owned(), format!("team:owners-{}", i % 5));
            custom.insert("purpose".to_owned(), format!("api key of app {i}"));
        }
        secrets.push(SecretSpec {
            mount: mount.to_owned(),
            path,
            versions,
            custom,
            max_versions: if i % 2 == 0 { 0 } else { 10 },
        });
    }
    let mut policies = BTreeMap::new();
    policies.insert(
        "app-read".to_owned(),
        "path \"secret/data/app-*\" {\n  capabilities = [\"read\"]\n}\n".to_owned(),
    );
    policies.insert(
        "ops-admin".to_owned(),
        "# operators\npath \"sys/*\" {\n  capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"]\n}\npath \"secret/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n".to_owned(),
    );
    policies.insert(
        "default".to_owned(),
        "path \"auth/token/lookup-self\" {\n    capabilities = [\"read\"]\n}\npath \"cubbyhole/*\" {\n    capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"]\n}\n".to_owned(),
    );
    World {
        cluster: "vault-cluster-5bcb2f65".to_owned(),
        now,
        roles,
        tokens,
        secrets,
        policies,
    }
}

/// The snapshot a server holding `w` would give.
pub fn snapshot(w: &World) -> Snap {
    let mut s = Snap::new("https://bao.example.internal:8200");
    s.health(&w.cluster, w.now);
    s.mounts(
        "sys/auth",
        &[
            ("approle", "approle"),
            ("ci-approle", "approle"),
            ("token", "token"),
            ("userpass", "userpass"),
        ],
    );
    s.mounts(
        "sys/mounts",
        &[
            ("cubbyhole", "cubbyhole"),
            ("identity", "identity"),
            ("secret", "kv2"),
            ("sys", "system"),
            ("team-kv", "kv2"),
            ("legacy", "kv1"),
        ],
    );
    for mount in ["approle", "ci-approle"] {
        let names: Vec<String> = w
            .roles
            .iter()
            .filter(|r| r.mount == mount)
            .map(|r| r.name.clone())
            .collect();
        s.list(&format!("auth/{mount}/role"), &names);
    }
    for r in &w.roles {
        let base = format!("auth/{}/role/{}", r.mount, r.name);
        s.get(
            &base,
            json!({
                "bind_secret_id": true, "local_secret_ids": false, "secret_id_bound_cidrs": null,
                "secret_id_num_uses": r.secret_id_num_uses, "secret_id_ttl": r.secret_id_ttl,
                "token_bound_cidrs": r.token_bound_cidrs, "token_explicit_max_ttl": 0,
                "token_max_ttl": r.token_max_ttl, "token_no_default_policy": r.no_default_policy,
                "token_num_uses": 0, "token_period": 0, "token_policies": r.policies,
                "token_strictly_bind_ip": false, "token_ttl": r.token_ttl, "token_type": "default"
            }),
        );
        let accessors: Vec<String> = r.secret_ids.iter().map(|(a, _)| a.clone()).collect();
        s.list(&format!("{base}/secret-id"), &accessors);
        for (a, created) in &r.secret_ids {
            let expiry = if r.secret_id_ttl > 0 {
                rfc3339(*created + chrono::Duration::seconds(r.secret_id_ttl))
            } else {
                "0001-01-01T00:00:00Z".to_owned()
            };
            s.post(
                &format!("{base}/secret-id-accessor/lookup"),
                json!({ "secret_id_accessor": a }),
                json!({
                    "cidr_list": [], "creation_time": rfc3339(*created),
                    "expiration_time": expiry, "last_updated_time": rfc3339(*created),
                    "metadata": {}, "secret_id_accessor": a,
                    "secret_id_num_uses": r.secret_id_num_uses, "secret_id_ttl": r.secret_id_ttl,
                    "token_bound_cidrs": []
                }),
            );
        }
    }
    let accessors: Vec<String> = w.tokens.iter().map(|t| t.accessor.clone()).collect();
    s.list("auth/token/accessors", &accessors);
    for t in &w.tokens {
        let expire = (t.ttl > 0).then(|| rfc3339(t.created + chrono::Duration::seconds(t.ttl)));
        s.post(
            "auth/token/lookup-accessor",
            json!({ "accessor": t.accessor }),
            json!({
                "accessor": t.accessor, "creation_time": t.created.timestamp(),
                "creation_ttl": t.ttl, "display_name": t.display_name, "entity_id": "",
                "expire_time": expire, "explicit_max_ttl": 0, "id": "",
                "issue_time": rfc3339(t.created),
                "meta": if t.meta.is_empty() { Value::Null } else { json!(t.meta) },
                "num_uses": 0, "orphan": t.orphan, "path": t.path, "policies": t.policies,
                "renewable": t.ttl > 0, "ttl": (t.ttl - 60).max(0), "type": "service"
            }),
        );
    }
    for mount in ["secret", "team-kv"] {
        let secrets: Vec<&SecretSpec> = w.secrets.iter().filter(|x| x.mount == mount).collect();
        // Every folder's listing, as the server gives it: direct children, folders with `/`.
        let mut folders: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        folders.entry(String::new()).or_default();
        for x in &secrets {
            let parts: Vec<&str> = x.path.split('/').collect();
            for depth in 0..parts.len() {
                let folder: String = parts[..depth].iter().map(|p| format!("{p}/")).collect();
                let child = if depth + 1 == parts.len() {
                    parts[depth].to_owned()
                } else {
                    format!("{}/", parts[depth])
                };
                folders.entry(folder).or_default().insert(child);
            }
        }
        for (folder, children) in &folders {
            let keys: Vec<String> = children.iter().cloned().collect();
            s.list(&format!("{mount}/metadata/{folder}"), &keys);
        }
        for x in secrets {
            let mut versions = serde_json::Map::new();
            for (i, (created, deletion, destroyed)) in x.versions.iter().enumerate() {
                versions.insert(
                    (i + 1).to_string(),
                    json!({
                        "created_time": rfc3339(*created),
                        "deletion_time": deletion.map(rfc3339).unwrap_or_default(),
                        "destroyed": destroyed
                    }),
                );
            }
            let first = x.versions[0].0;
            let last = x.versions[x.versions.len() - 1].0;
            s.get(
                &format!("{mount}/metadata/{}", x.path),
                json!({
                    "cas_required": false, "created_time": rfc3339(first),
                    "current_metadata_version": 1, "current_version": x.versions.len(),
                    "custom_metadata": if x.custom.is_empty() { Value::Null } else { json!(x.custom) },
                    "delete_version_after": "0s", "max_versions": x.max_versions,
                    "metadata_cas_required": false, "oldest_version": 0,
                    "updated_time": rfc3339(last), "versions": versions
                }),
            );
        }
    }
    let mut named = std::collections::BTreeSet::new();
    for r in &w.roles {
        named.extend(r.policies.iter().cloned());
        if !r.no_default_policy && !r.policies.iter().any(|p| p == "root") {
            named.insert("default".to_owned());
        }
    }
    for t in &w.tokens {
        named.extend(t.policies.iter().cloned());
    }
    named.remove("root");
    for name in named {
        match w.policies.get(&name) {
            Some(text) => s.get(
                &format!("sys/policies/acl/{name}"),
                json!({
                    "allow_slashes_in_identity_templates": false,
                    "allow_wildcards_in_identity_templates": false, "cas_required": false,
                    "modified": rfc3339(w.now), "name": name, "policy": text, "version": 1
                }),
            ),
            None => s.raw(&format!("GET sys/policies/acl/{name}"), Value::Null),
        }
    }
    s
}
