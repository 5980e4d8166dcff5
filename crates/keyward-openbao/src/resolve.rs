//! What was read, in the register's terms: one NHI per AppRole role, token and KV secret.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use keyward_connect::facts;
use keyward_model::{
    CredentialKind, DiscoveredCredential, DiscoveredNhi, Environment, Facts, NhiKind, NhiStatus,
    OwnerRef,
};
use serde_json::{Value, json};

use crate::PROVIDER;
use crate::policy::Assessment;
use crate::response::{Role, TokenInfo};
use crate::walk::{Collected, PolicyState, RoleRecord, SecretRecord};

/// Where a run looked: the scope of its discovery and the prefix of its external ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// `openbao:<cluster name or host:port>`, with `/<namespace>` when one was set.
    pub scope: String,
}

impl Place {
    /// The place of a server: its cluster name when it has one, else its address's host and
    /// port; then the namespace.
    pub(crate) fn new(address: &str, cluster_name: Option<&str>, namespace: Option<&str>) -> Self {
        let label = match cluster_name.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => c.to_owned(),
            None => host_of(address).to_owned(),
        };
        let mut scope = format!("openbao:{label}");
        if let Some(ns) = namespace {
            scope.push('/');
            scope.push_str(ns);
        }
        Self { scope }
    }

    /// The external id of the thing at an API path.
    fn id(&self, path: &str) -> String {
        format!("{}:{path}", self.scope)
    }
}

/// `https://bao.example:8200/` → `bao.example:8200`.
fn host_of(address: &str) -> &str {
    let rest = address.split_once("://").map_or(address, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    // Never keep user information (`user:pass@host`) in a scope.
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

/// A namespace as given (`team-a/`, `/team-a`), without its slashes; `None` when empty.
pub(crate) fn normalize_namespace(ns: Option<&str>) -> Option<String> {
    ns.map(|n| n.trim().trim_matches('/').to_owned())
        .filter(|n| !n.is_empty())
}

/// The policies a role's tokens get: its `token_policies` (and the deprecated `policies`),
/// plus `default` unless `token_no_default_policy`.
pub(crate) fn role_policies(role: &Role) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = role
        .token_policies
        .iter()
        .chain(&role.policies)
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if role.token_no_default_policy != Some(true) && !out.contains("root") {
        out.insert("default".to_owned());
    }
    out
}

/// The server's identity as recorded on the run's input: `openbao 2.7.2; auth: approle,token`.
pub(crate) fn identity(c: &Collected) -> String {
    let version = c.health.version.as_deref().unwrap_or("unknown version");
    let auth: Vec<&str> = c.auth_types.iter().map(String::as_str).collect();
    format!("openbao {version}; auth: {}", auth.join(","))
}

/// Every NHI, sorted by external id, and the warnings mapping gave.
pub(crate) fn resolve(c: &Collected, place: &Place) -> (Vec<DiscoveredNhi>, Vec<String>) {
    let now = c.health.server_time_utc;
    let mut warnings = Vec::new();
    let mut nhis = Vec::new();
    for r in &c.roles {
        nhis.push(role_nhi(r, place, &c.policies));
    }
    for t in &c.tokens {
        nhis.push(token_nhi(t, place, &c.policies, &mut warnings));
    }
    for s in &c.secrets {
        nhis.push(secret_nhi(s, place, now, &mut warnings));
    }
    nhis.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    // Two inputs naming one identity (a LIST that repeats a key) become one NHI.
    nhis.dedup_by(|a, b| a.external_id == b.external_id);
    (nhis, warnings)
}

/// The shared grant facts of a set of policies, and the names of those not assessed.
fn grants(names: &BTreeSet<String>, policies: &BTreeMap<String, PolicyState>, f: &mut Facts) {
    let mut a = Assessment::default();
    let mut unresolved = BTreeSet::new();
    for name in names {
        match policies.get(name) {
            Some(PolicyState::Root) => a.admin = true,
            Some(PolicyState::Parsed(p)) => a.add(name, p),
            Some(PolicyState::Missing | PolicyState::Unreadable(_)) | None => {
                unresolved.insert(name.clone());
            }
        }
    }
    if names.contains("root") {
        a.admin = true;
    }
    f.insert(facts::ADMIN.into(), json!(a.admin));
    f.insert(facts::PRIVILEGED_GRANTS.into(), json!(a.privileged));
    f.insert(facts::WILDCARD_PERMISSIONS.into(), json!(a.wildcard));
    if !unresolved.is_empty() {
        f.insert("unresolved_policies".into(), json!(unresolved));
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let set: BTreeSet<&String> = v.iter().collect();
    set.into_iter().cloned().collect()
}

fn role_nhi(
    r: &RoleRecord,
    place: &Place,
    policies: &BTreeMap<String, PolicyState>,
) -> DiscoveredNhi {
    let path = format!("auth/{}/role/{}", r.mount, r.name);
    let mut n = DiscoveredNhi::new(NhiKind::ServiceAccount, PROVIDER, place.id(&path), &r.name);
    let role = &r.role;
    let effective = role_policies(role);
    n.observed_permissions = effective.iter().cloned().collect();
    n.status = Some(NhiStatus::Active);
    let f = &mut n.facts;
    f.insert("auth_mount".into(), json!(r.mount));
    f.insert(
        "bind_secret_id".into(),
        json!(role.bind_secret_id.unwrap_or(true)),
    );
    let numbers = [
        ("secret_id_ttl", role.secret_id_ttl),
        ("secret_id_num_uses", role.secret_id_num_uses),
        ("token_ttl", role.token_ttl),
        ("token_max_ttl", role.token_max_ttl),
        ("token_explicit_max_ttl", role.token_explicit_max_ttl),
        ("token_period", role.token_period),
        ("token_num_uses", role.token_num_uses),
    ];
    for (name, v) in numbers {
        f.insert(name.into(), json!(v.unwrap_or(0)));
    }
    f.insert("token_policies".into(), json!(sorted(&role.token_policies)));
    f.insert(
        "secret_id_bound_cidrs".into(),
        json!(sorted(&role.secret_id_bound_cidrs)),
    );
    f.insert(
        "token_bound_cidrs".into(),
        json!(sorted(&role.token_bound_cidrs)),
    );
    if let Some(t) = &role.token_type {
        f.insert("token_type".into(), json!(t));
    }
    grants(&effective, policies, f);

    let mut creds: Vec<DiscoveredCredential> = r
        .secret_ids
        .iter()
        .map(|(accessor, info)| {
            let mut c = DiscoveredCredential::with_external_id(CredentialKind::Token, accessor);
            c.created_at = info.creation_time;
            c.expires_at = info.expiration_time;
            c
        })
        .collect();
    creds.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    creds.dedup_by(|a, b| a.external_id == b.external_id);
    n.last_rotated_at = creds.iter().filter_map(|c| c.created_at).max();
    n.credentials = creds;
    n
}

fn token_nhi(
    t: &TokenInfo,
    place: &Place,
    policies: &BTreeMap<String, PolicyState>,
    warnings: &mut Vec<String>,
) -> DiscoveredNhi {
    let path = format!("auth/token/accessors/{}", t.accessor);
    let name = t
        .display_name
        .as_deref()
        .filter(|d| !d.is_empty())
        .unwrap_or(&t.accessor);
    let mut n = DiscoveredNhi::new(NhiKind::Token, PROVIDER, place.id(&path), name);
    let names: BTreeSet<String> = t.policies.iter().cloned().collect();
    n.observed_permissions = names.iter().cloned().collect();
    n.created_at = t.creation_time.or(t.issue_time);
    n.expires_at = t.expire_time;
    n.status = Some(NhiStatus::Active);
    n.tags = t.meta.clone();
    let what = format!("token `{}`", t.accessor);
    metadata_fields(&mut n, &t.meta, &what, warnings);
    let f = &mut n.facts;
    f.insert("policies".into(), json!(names));
    // The remaining TTL is left out: it shrinks every second, so a rerun on an unchanged
    // server would record a change each time. Expiry is `expires_at`.
    f.insert("creation_ttl".into(), json!(t.creation_ttl.unwrap_or(0)));
    f.insert(
        "explicit_max_ttl".into(),
        json!(t.explicit_max_ttl.unwrap_or(0)),
    );
    f.insert("num_uses".into(), json!(t.num_uses.unwrap_or(0)));
    f.insert("renewable".into(), json!(t.renewable.unwrap_or(false)));
    f.insert("orphan".into(), json!(t.orphan.unwrap_or(false)));
    f.insert("meta".into(), json!(t.meta));
    f.insert("never_expires".into(), json!(t.expire_time.is_none()));
    if let Some(p) = t.period.filter(|p| *p > 0) {
        f.insert("period".into(), json!(p));
    }
    if let Some(e) = t.entity_id.as_deref().filter(|e| !e.is_empty()) {
        f.insert("entity_id".into(), json!(e));
    }
    if let Some(k) = &t.kind {
        f.insert("type".into(), json!(k));
    }
    if let Some(p) = t.path.as_deref().filter(|p| !p.is_empty()) {
        f.insert("creation_path".into(), json!(p));
    }
    grants(&names, policies, f);

    let mut c = DiscoveredCredential::with_external_id(CredentialKind::Token, &t.accessor);
    c.created_at = n.created_at;
    c.expires_at = n.expires_at;
    n.credentials = vec![c];
    n
}

fn secret_nhi(
    s: &SecretRecord,
    place: &Place,
    now: Option<DateTime<Utc>>,
    warnings: &mut Vec<String>,
) -> DiscoveredNhi {
    let path = format!("{}/{}", s.mount, s.path);
    let mut n = DiscoveredNhi::new(NhiKind::ApiKey, PROVIDER, place.id(&path), &path);
    let m = &s.meta;
    let current = m.current_version.unwrap_or(0);
    let version = m.versions.get(&current.to_string());
    n.created_at = m.created_time;
    n.last_rotated_at = version.and_then(|v| v.created_time).or(m.updated_time);
    n.expires_at = version.and_then(|v| v.deletion_time);
    let destroyed = version.and_then(|v| v.destroyed) == Some(true);
    // A deletion time in the future is `delete_version_after` at work: the version expires
    // then. One in the past (or with no clock to compare) means it was deleted. The server's
    // clock comes in whole seconds, so a deletion within its last second counts as past.
    let deleted = match (n.expires_at, now) {
        (Some(d), Some(now)) => d < now + chrono::Duration::seconds(1),
        (Some(_), None) => true,
        (None, _) => false,
    };
    n.status = Some(if destroyed {
        NhiStatus::Revoked
    } else if deleted {
        NhiStatus::Disabled
    } else {
        NhiStatus::Active
    });
    n.tags = m.custom_metadata.clone();
    metadata_fields(
        &mut n,
        &m.custom_metadata,
        &format!("secret `{path}`"),
        warnings,
    );
    let f = &mut n.facts;
    f.insert("kv_mount".into(), json!(s.mount));
    f.insert("versions".into(), json!(m.versions.len()));
    f.insert("current_version".into(), json!(current));
    f.insert(
        "oldest_version".into(),
        json!(m.oldest_version.unwrap_or(0)),
    );
    f.insert("max_versions".into(), json!(m.max_versions.unwrap_or(0)));
    f.insert(
        "delete_version_after".into(),
        json!(m.delete_version_after.as_deref().unwrap_or("0s")),
    );
    f.insert(
        "cas_required".into(),
        json!(m.cas_required.unwrap_or(false)),
    );
    f.insert("custom_metadata".into(), json!(m.custom_metadata));
    n
}

/// Owner, purpose and environment from a metadata map's `owner`, `purpose` (or
/// `description`) and `environment` entries.
fn metadata_fields(
    n: &mut DiscoveredNhi,
    meta: &BTreeMap<String, String>,
    what: &str,
    warnings: &mut Vec<String>,
) {
    if let Some(o) = meta.get("owner").filter(|o| !o.trim().is_empty()) {
        match OwnerRef::parse(o) {
            Ok(owner) => n.owner = Some(owner),
            Err(e) => warnings.push(format!("{what}: owner ignored: {e}")),
        }
    }
    n.purpose = meta
        .get("purpose")
        .or_else(|| meta.get("description"))
        .filter(|p| !p.trim().is_empty())
        .cloned();
    if let Some(e) = meta.get("environment") {
        match e.trim().to_ascii_lowercase().parse::<Environment>() {
            Ok(env) => n.environment = Some(env),
            Err(err) => warnings.push(format!("{what}: environment ignored: {err}")),
        }
    }
}

/// The parameters recorded on a run.
pub(crate) fn parameters(
    address: &str,
    namespace: Option<&str>,
    kv_mounts: Option<&[String]>,
    read: &[String],
) -> Value {
    json!({
        "address": address,
        "namespace": namespace,
        "kv_mounts": kv_mounts,
        "kv_mounts_read": read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_prefer_the_cluster_name_and_never_keep_credentials() {
        assert_eq!(
            Place::new("https://bao.example:8200/", Some("vault-cluster-1"), None).scope,
            "openbao:vault-cluster-1"
        );
        assert_eq!(
            Place::new("https://bao.example:8200/", None, Some("team-a")).scope,
            "openbao:bao.example:8200/team-a"
        );
        assert_eq!(
            Place::new("http://u:p@10.0.0.1:8200", Some(" "), None).scope,
            "openbao:10.0.0.1:8200"
        );
        assert_eq!(
            normalize_namespace(Some("/team-a/b/")),
            Some("team-a/b".into())
        );
        assert_eq!(normalize_namespace(Some("/")), None);
    }

    #[test]
    fn roles_get_the_default_policy_unless_told_not_to() {
        let mut r = Role {
            token_policies: vec!["b".into(), "a".into()],
            ..Role::default()
        };
        assert_eq!(
            role_policies(&r).into_iter().collect::<Vec<_>>(),
            ["a", "b", "default"]
        );
        r.token_no_default_policy = Some(true);
        assert_eq!(
            role_policies(&r).into_iter().collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}
