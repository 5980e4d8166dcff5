//! The requests of one discovery run, in order, and what they return. Generic over the
//! [`Transport`] so it runs the same against a live server and a recorded snapshot.
//!
//! The order and the paths are documented in the crate's top-level doc.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::{StreamExt, TryStreamExt, stream};
use keyward_connect::ConnectError;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::policy::{Policy, parse_policy};
use crate::request::{Reply, Request, Transport};
use crate::response::{
    Envelope, Health, Keys, KvMetadata, Mount, PolicyDoc, Role, SecretIdInfo, TokenInfo,
    error_messages, parse_body,
};

/// What a run is asked to read.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The KV version 2 mounts to read (without slashes); all of them when `None`.
    pub kv_mounts: Option<Vec<String>>,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// One AppRole role as read.
#[derive(Debug)]
pub(crate) struct RoleRecord {
    /// The mount path without slashes (`approle`).
    pub mount: String,
    /// The role's name.
    pub name: String,
    /// Its settings.
    pub role: Role,
    /// Its secret ids, by accessor.
    pub secret_ids: Vec<(String, SecretIdInfo)>,
    /// Accessors listed whose secret id was gone by the time of the lookup.
    pub vanished: Vec<String>,
}

/// One KV secret's metadata as read.
#[derive(Debug)]
pub(crate) struct SecretRecord {
    /// The mount without slashes (`secret`).
    pub mount: String,
    /// The secret's path below the mount (`ci/github-deploy`).
    pub path: String,
    /// Its metadata.
    pub meta: KvMetadata,
}

/// A policy named by a role or token, as found.
#[derive(Debug)]
pub(crate) enum PolicyState {
    /// The built-in `root` policy: everything.
    Root,
    /// Read and parsed.
    Parsed(Policy),
    /// No such policy on the server: it grants nothing.
    Missing,
    /// Read but not understood; what it grants is unknown.
    Unreadable(String),
}

/// Everything one run read.
#[derive(Debug)]
pub(crate) struct Collected {
    /// `sys/health`.
    pub health: Health,
    /// The types of the auth methods enabled.
    pub auth_types: BTreeSet<String>,
    /// The KV version 2 mounts read.
    pub kv_mounts: Vec<String>,
    /// AppRole roles, by mount then name.
    pub roles: Vec<RoleRecord>,
    /// Tokens, in accessor order.
    pub tokens: Vec<TokenInfo>,
    /// KV secrets, by mount then path.
    pub secrets: Vec<SecretRecord>,
    /// Every policy named, by name.
    pub policies: BTreeMap<String, PolicyState>,
    /// What did not stop the run.
    pub warnings: Vec<String>,
}

/// Reads everything, in the order of the crate doc's table.
pub(crate) async fn collect<T: Transport>(
    t: &T,
    settings: &Settings,
) -> Result<Collected, ConnectError> {
    let n = settings.concurrency.max(1);
    let mut warnings = Vec::new();

    let health = health(t).await?;
    let auth: Envelope<BTreeMap<String, Mount>> = required(t, &Request::get("sys/auth")).await?;
    let mounts: Envelope<BTreeMap<String, Mount>> =
        required(t, &Request::get("sys/mounts")).await?;
    let auth_types: BTreeSet<String> = auth.data.values().map(|m| m.kind.clone()).collect();
    let kv_mounts = kv_mounts(&mounts.data, settings, &mut warnings)?;

    // AppRole roles, with their secret ids.
    let mut roles = Vec::new();
    for (path, m) in &auth.data {
        if m.kind != "approle" {
            continue;
        }
        let mount = path.trim_matches('/').to_owned();
        let names = list(t, &format!("auth/{mount}/role")).await?;
        let found: Vec<(String, Option<RoleRecord>)> = stream::iter(names)
            .map(|name| {
                let mount = mount.clone();
                async move {
                    let record = role(t, &mount, &name, n).await?;
                    Ok::<_, ConnectError>((name, record))
                }
            })
            .buffered(n)
            .try_collect()
            .await?;
        for (name, record) in found {
            match record {
                Some(r) => {
                    warnings.extend(r.vanished.iter().map(|a| {
                        format!("approle role `{mount}/{name}`: secret id accessor `{a}` vanished while listed")
                    }));
                    roles.push(r);
                }
                None => warnings.push(format!(
                    "approle role `{mount}/{name}` vanished while listed"
                )),
            }
        }
    }

    // Tokens.
    let mut tokens = Vec::new();
    if auth.data.values().any(|m| m.kind == "token") {
        let accessors = list(t, "auth/token/accessors").await?;
        let found: Vec<(String, Option<TokenInfo>)> = stream::iter(accessors)
            .map(|a| async move {
                let req = Request::post("auth/token/lookup-accessor", json!({ "accessor": a }));
                // A token that expires between the list and the lookup is an invalid
                // accessor by then.
                let info: Option<Envelope<TokenInfo>> = fetch(t, &req, |status, messages| {
                    status == 404
                        || (status == 400
                            && messages.iter().any(|m| m.contains("invalid accessor")))
                })
                .await?;
                Ok::<_, ConnectError>((a, info.map(|e| e.data)))
            })
            .buffered(n)
            .try_collect()
            .await?;
        for (a, info) in found {
            match info {
                Some(i) => tokens.push(i),
                None => warnings.push(format!("token accessor `{a}` vanished while listed")),
            }
        }
    }

    // KV version 2 secrets: folders level by level, then each secret's metadata.
    let mut secrets = Vec::new();
    for mount in &kv_mounts {
        let mut leaves = Vec::new();
        let mut folders = vec![String::new()];
        while !folders.is_empty() {
            let listed: Vec<(String, Vec<String>)> = stream::iter(std::mem::take(&mut folders))
                .map(|f| async move {
                    let keys = list(t, &format!("{mount}/metadata/{f}")).await?;
                    Ok::<_, ConnectError>((f, keys))
                })
                .buffered(n)
                .try_collect()
                .await?;
            for (folder, keys) in listed {
                for k in keys {
                    if k.ends_with('/') {
                        folders.push(format!("{folder}{k}"));
                    } else {
                        leaves.push(format!("{folder}{k}"));
                    }
                }
            }
        }
        let found: Vec<(String, Option<Envelope<KvMetadata>>)> = stream::iter(leaves)
            .map(|path| async move {
                let req = Request::get(format!("{mount}/metadata/{path}"));
                let meta = fetch(t, &req, |s, _| s == 404).await?;
                Ok::<_, ConnectError>((path, meta))
            })
            .buffered(n)
            .try_collect()
            .await?;
        for (path, meta) in found {
            match meta {
                Some(m) => secrets.push(SecretRecord {
                    mount: mount.clone(),
                    path,
                    meta: m.data,
                }),
                None => warnings.push(format!("secret `{mount}/{path}` vanished while listed")),
            }
        }
    }

    // The policies named.
    let mut names = BTreeSet::new();
    for r in &roles {
        names.extend(crate::resolve::role_policies(&r.role));
    }
    for tok in &tokens {
        names.extend(tok.policies.iter().cloned());
    }
    let policies: BTreeMap<String, PolicyState> = stream::iter(names)
        .map(|name| async move {
            if name == "root" {
                return Ok::<_, ConnectError>((name, PolicyState::Root));
            }
            let req = Request::get(format!("sys/policies/acl/{name}"));
            let doc: Option<Envelope<PolicyDoc>> = fetch(t, &req, |s, _| s == 404).await?;
            let state = match doc {
                None => PolicyState::Missing,
                Some(d) => match parse_policy(d.data.policy.as_deref().unwrap_or("")) {
                    Ok(p) => PolicyState::Parsed(p),
                    Err(e) => PolicyState::Unreadable(e.to_string()),
                },
            };
            Ok((name, state))
        })
        .buffered(n)
        .try_collect()
        .await?;
    for (name, state) in &policies {
        match state {
            PolicyState::Missing => warnings.push(format!(
                "policy `{name}` is attached but does not exist: it grants nothing"
            )),
            PolicyState::Unreadable(e) => warnings.push(format!(
                "policy `{name}` could not be read ({e}): what it grants is not assessed"
            )),
            PolicyState::Root | PolicyState::Parsed(_) => {}
        }
    }

    Ok(Collected {
        health,
        auth_types,
        kv_mounts,
        roles,
        tokens,
        secrets,
        policies,
        warnings,
    })
}

/// `sys/health`; a sealed or uninitialized server fails the run.
async fn health<T: Transport>(t: &T) -> Result<Health, ConnectError> {
    let reply = t.send(&Request::health()).await?;
    if (200..300).contains(&reply.status) {
        let h: Health = parse_body(&reply)?;
        if h.sealed == Some(true) {
            return Err(ConnectError::endpoint(
                &reply.endpoint,
                "the server is sealed",
            ));
        }
        return Ok(h);
    }
    if let Ok(h) = parse_body::<Health>(&reply) {
        let state = if h.initialized == Some(false) {
            Some("the server is not initialized")
        } else if h.sealed == Some(true) {
            Some("the server is sealed")
        } else {
            None
        };
        if let Some(s) = state {
            return Err(ConnectError::endpoint(
                &reply.endpoint,
                format!("{s} (HTTP {})", reply.status),
            ));
        }
    }
    Err(status_error(&reply))
}

/// The KV version 2 mounts to read: those asked for (each must be one), or all.
fn kv_mounts(
    mounts: &BTreeMap<String, Mount>,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> Result<Vec<String>, ConnectError> {
    let is_kv2 = |m: &Mount| {
        m.kind == "kv-v2"
            || (m.kind == "kv" && m.options.get("version").map(String::as_str) == Some("2"))
    };
    let all: Vec<String> = mounts
        .iter()
        .filter(|(_, m)| is_kv2(m))
        .map(|(p, _)| p.trim_matches('/').to_owned())
        .collect();
    match &settings.kv_mounts {
        None => {
            for (p, m) in mounts {
                if m.kind == "kv" && !is_kv2(m) {
                    warnings.push(format!(
                        "kv mount `{}` is version 1, which keeps no metadata: not read",
                        p.trim_matches('/')
                    ));
                }
            }
            Ok(all)
        }
        Some(asked) => {
            let mut out = BTreeSet::new();
            for a in asked {
                let a = a.trim_matches('/');
                if !all.iter().any(|m| m == a) {
                    return Err(ConnectError::Usage(format!(
                        "`{a}` is not a kv version 2 mount on this server (those are: {})",
                        if all.is_empty() {
                            "none".to_owned()
                        } else {
                            all.join(", ")
                        }
                    )));
                }
                out.insert(a.to_owned());
            }
            Ok(out.into_iter().collect())
        }
    }
}

/// A role with its secret ids; `None` when the role vanished between list and read.
async fn role<T: Transport>(
    t: &T,
    mount: &str,
    name: &str,
    n: usize,
) -> Result<Option<RoleRecord>, ConnectError> {
    let base = format!("auth/{mount}/role/{name}");
    let Some(role) = fetch::<_, Envelope<Role>>(t, &Request::get(&base), |s, _| s == 404).await?
    else {
        return Ok(None);
    };
    let accessors = list(t, &format!("{base}/secret-id")).await?;
    let lookup = format!("{base}/secret-id-accessor/lookup");
    let found: Vec<(String, Option<Envelope<SecretIdInfo>>)> = stream::iter(accessors)
        .map(|a| {
            let lookup = &lookup;
            async move {
                let req = Request::post(lookup, json!({ "secret_id_accessor": a }));
                let info = fetch(t, &req, |s, _| s == 404).await?;
                Ok::<_, ConnectError>((a, info))
            }
        })
        .buffered(n)
        .try_collect()
        .await?;
    let mut secret_ids = Vec::new();
    let mut gone = Vec::new();
    for (a, info) in found {
        match info {
            Some(i) => secret_ids.push((a, i.data)),
            None => gone.push(a),
        }
    }
    Ok(Some(RoleRecord {
        mount: mount.to_owned(),
        name: name.to_owned(),
        role: role.data,
        secret_ids,
        vanished: gone,
    }))
}

/// The keys of a `LIST`, sorted and unique; none when the server answers 404 (what it says
/// for an empty list).
async fn list<T: Transport>(t: &T, path: &str) -> Result<Vec<String>, ConnectError> {
    let keys: Option<Envelope<Keys>> = fetch(t, &Request::list(path), |s, _| s == 404).await?;
    let keys: BTreeSet<String> = keys
        .map(|k| k.data.keys)
        .unwrap_or_default()
        .into_iter()
        .filter(|k| !k.is_empty() && k != "/")
        .collect();
    Ok(keys.into_iter().collect())
}

/// A response that must be there.
async fn required<T: Transport, V: DeserializeOwned>(
    t: &T,
    req: &Request,
) -> Result<V, ConnectError> {
    let reply = t.send(req).await?;
    if (200..300).contains(&reply.status) {
        parse_body(&reply)
    } else {
        Err(status_error(&reply))
    }
}

/// A response, or `None` when `absent` says the status (with the server's messages) means
/// the thing is not there.
async fn fetch<T: Transport, V: DeserializeOwned>(
    t: &T,
    req: &Request,
    absent: impl Fn(u16, &[String]) -> bool,
) -> Result<Option<V>, ConnectError> {
    let reply = t.send(req).await?;
    if (200..300).contains(&reply.status) {
        return parse_body(&reply).map(Some);
    }
    if absent(reply.status, &error_messages(&reply.body)) {
        return Ok(None);
    }
    Err(status_error(&reply))
}

/// The error of an HTTP error status, with what the server said.
fn status_error(reply: &Reply) -> ConnectError {
    let messages = error_messages(&reply.body);
    let said = if messages.is_empty() {
        match reply.status {
            403 => "permission denied".to_owned(),
            404 => "not found".to_owned(),
            _ => "unexpected answer".to_owned(),
        }
    } else {
        messages.join("; ")
    };
    ConnectError::endpoint(&reply.endpoint, format!("{said} (HTTP {})", reply.status))
}
