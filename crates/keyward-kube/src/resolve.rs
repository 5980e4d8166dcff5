//! From objects to NHIs: which service accounts exist, what binds to them, what runs as them.

use std::collections::{BTreeMap, BTreeSet};

use keyward_connect::facts;
use keyward_model::{
    CredentialKind, DiscoveredCredential, DiscoveredNhi, Environment, NhiKind, OwnerRef,
};
use serde_json::{Value, json};

use crate::PROVIDER;
use crate::objects::{Binding, Manifests, Meta, RoleDef, Rule, Selector, Subject, TokenSecret};
use crate::rbac::{self, ClusterRoleView, Scope};

/// Annotations read for an owner, first found wins.
const OWNER_ANNOTATIONS: &[&str] = &["keyward.io/owner", "owner"];
/// Annotations read for a purpose, first found wins.
const PURPOSE_ANNOTATIONS: &[&str] = &[
    "keyward.io/purpose",
    "description",
    "kubernetes.io/description",
];
/// The annotation read for an environment.
const ENVIRONMENT_ANNOTATION: &str = "keyward.io/environment";

/// What resolving a set of manifests gave: the NHIs, sorted by external id, and what is worth
/// telling the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// One per service account.
    pub nhis: Vec<DiscoveredNhi>,
    /// Things that did not stop the run (an unresolvable role, a subject naming an undefined
    /// service account, kinds skipped).
    pub warnings: Vec<String>,
}

/// A service account as gathered from every object that mentions it.
#[derive(Default)]
struct Account<'m> {
    /// The definition, merged when the manifests define it more than once.
    def: Option<Meta>,
    automount: Option<bool>,
    consumers: BTreeSet<(String, String, Option<bool>)>,
    implicit: bool,
    secrets: Vec<&'m TokenSecret>,
    bindings: BTreeSet<Applied>,
    rules: Vec<(Rule, Scope)>,
}

/// A binding as it applies to one service account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Applied {
    kind: &'static str,
    binding: String,
    role: String,
    scope: Scope,
    role_source: &'static str,
    subject: String,
}

/// A role's effective rules and where they come from.
struct RoleRules {
    rules: Vec<Rule>,
    source: &'static str,
}

impl Manifests {
    /// Resolves what was read into one NHI per service account of cluster `cluster`; objects
    /// that name no namespace are in `default_namespace` (as with `kubectl apply -n`).
    pub fn resolve(&self, cluster: &str, default_namespace: &str) -> Resolved {
        let mut warnings = Vec::new();
        let ns_of = |m: &Meta| {
            m.namespace
                .clone()
                .unwrap_or_else(|| default_namespace.to_owned())
        };
        let mut accounts: BTreeMap<(String, String), Account<'_>> = BTreeMap::new();

        for sa in &self.service_accounts {
            let key = (ns_of(&sa.meta), sa.meta.name.clone());
            let acc = accounts.entry(key.clone()).or_default();
            match &mut acc.def {
                None => {
                    acc.def = Some(sa.meta.clone());
                    acc.automount = sa.automount;
                }
                Some(def) => {
                    warnings.push(format!(
                        "{}: service account {}/{} is defined again (first at {}); the later definition's fields win",
                        sa.meta.origin, key.0, key.1, def.origin
                    ));
                    def.labels.extend(sa.meta.labels.clone());
                    def.annotations.extend(sa.meta.annotations.clone());
                    def.created_at = sa.meta.created_at.or(def.created_at);
                    acc.automount = sa.automount.or(acc.automount);
                }
            }
        }
        for w in &self.workloads {
            let ns = ns_of(&w.meta);
            let name = w
                .service_account
                .clone()
                .unwrap_or_else(|| "default".to_owned());
            let acc = accounts.entry((ns, name)).or_default();
            acc.implicit |= w.service_account.is_none();
            acc.consumers
                .insert((w.kind.clone(), w.meta.name.clone(), w.automount));
        }
        for s in &self.token_secrets {
            let key = (ns_of(&s.meta), s.service_account.clone());
            accounts.entry(key).or_default().secrets.push(s);
        }

        let (cluster_roles, roles) = self.role_rules(default_namespace, &mut warnings);
        self.apply_bindings(
            &mut accounts,
            &cluster_roles,
            &roles,
            default_namespace,
            &mut warnings,
        );

        let mut nhis: Vec<DiscoveredNhi> = accounts
            .into_iter()
            .map(|((ns, name), acc)| account_nhi(cluster, &ns, &name, acc, &mut warnings))
            .collect();
        nhis.sort_by(|a, b| a.external_id.cmp(&b.external_id));

        if !self.ignored.is_empty() {
            let total: usize = self.ignored.values().sum();
            let kinds: Vec<String> = self
                .ignored
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            warnings.push(format!(
                "ignored {total} objects of kinds this connector does not read: {}",
                kinds.join(", ")
            ));
        }
        if self.not_objects > 0 {
            warnings.push(format!(
                "skipped {} documents that are not Kubernetes objects (no `kind`)",
                self.not_objects
            ));
        }
        Resolved { nhis, warnings }
    }

    /// Every ClusterRole's effective rules by name (aggregation resolved, built-ins added) and
    /// every Role's by namespace and name.
    fn role_rules(
        &self,
        default_namespace: &str,
        warnings: &mut Vec<String>,
    ) -> (
        BTreeMap<String, RoleRules>,
        BTreeMap<(String, String), RoleRules>,
    ) {
        let builtins = rbac::builtins();
        let mut defined: BTreeMap<String, &RoleDef> = BTreeMap::new();
        let mut namespaced: BTreeMap<(String, String), &RoleDef> = BTreeMap::new();
        for r in &self.roles {
            let previous = if r.cluster {
                defined.insert(r.meta.name.clone(), r)
            } else {
                let ns = r
                    .meta
                    .namespace
                    .clone()
                    .unwrap_or_else(|| default_namespace.to_owned());
                namespaced.insert((ns, r.meta.name.clone()), r)
            };
            if let Some(p) = previous {
                let what = if r.cluster { "ClusterRole" } else { "Role" };
                warnings.push(format!(
                    "{}: {what} {} is defined again (first at {}); the later definition wins",
                    r.meta.origin, r.meta.name, p.meta.origin
                ));
            }
        }
        let mut roles: BTreeMap<(String, String), RoleRules> = namespaced
            .into_iter()
            .map(|(key, r)| {
                let rules = RoleRules {
                    rules: r.rules.clone(),
                    source: "manifest",
                };
                (key, rules)
            })
            .collect();
        // Kept alive for the views aggregation borrows.
        let builtin_labels: Vec<BTreeMap<String, String>> = builtins
            .iter()
            .map(|b| {
                b.labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect()
            })
            .collect();
        let builtin_selectors: Vec<Option<Vec<Selector>>> = builtins
            .iter()
            .map(|b| {
                b.aggregate.map(|label| {
                    vec![Selector {
                        match_labels: [(label.to_owned(), "true".to_owned())].into(),
                        ..Selector::default()
                    }]
                })
            })
            .collect();
        let mut views = BTreeMap::new();
        let mut sources = BTreeMap::new();
        for (name, r) in &defined {
            views.insert(
                name.clone(),
                ClusterRoleView {
                    labels: &r.meta.labels,
                    rules: &r.rules,
                    aggregation: r.aggregation.as_deref(),
                },
            );
            sources.insert(name.clone(), "manifest");
        }
        for (i, b) in builtins.iter().enumerate() {
            match b.namespace {
                None => {
                    if !views.contains_key(b.name) {
                        views.insert(
                            b.name.to_owned(),
                            ClusterRoleView {
                                labels: &builtin_labels[i],
                                rules: &b.rules,
                                aggregation: builtin_selectors[i].as_deref(),
                            },
                        );
                        sources.insert(b.name.to_owned(), "builtin");
                    }
                }
                Some(ns) => {
                    roles
                        .entry((ns.to_owned(), b.name.to_owned()))
                        .or_insert_with(|| RoleRules {
                            rules: b.rules.clone(),
                            source: "builtin",
                        });
                }
            }
        }
        let cluster_roles = rbac::aggregate(&views)
            .into_iter()
            .map(|(name, rules)| {
                let source = sources.get(&name).copied().unwrap_or("manifest");
                (name, RoleRules { rules, source })
            })
            .collect();
        (cluster_roles, roles)
    }

    fn apply_bindings(
        &self,
        accounts: &mut BTreeMap<(String, String), Account<'_>>,
        cluster_roles: &BTreeMap<String, RoleRules>,
        roles: &BTreeMap<(String, String), RoleRules>,
        default_namespace: &str,
        warnings: &mut Vec<String>,
    ) {
        // Later definitions of the same binding replace earlier ones, as `kubectl apply` does.
        let mut bindings: BTreeMap<(bool, String, String), &Binding> = BTreeMap::new();
        for b in &self.bindings {
            let ns = if b.cluster {
                String::new()
            } else {
                b.meta
                    .namespace
                    .clone()
                    .unwrap_or_else(|| default_namespace.to_owned())
            };
            if let Some(p) = bindings.insert((b.cluster, ns, b.meta.name.clone()), b) {
                warnings.push(format!(
                    "{}: binding {} is defined again (first at {}); the later definition wins",
                    b.meta.origin, b.meta.name, p.meta.origin
                ));
            }
        }
        let no_rules = RoleRules {
            rules: Vec::new(),
            source: "missing",
        };
        for ((cluster, ns, name), b) in bindings {
            let (kind, scope, binding) = if cluster {
                ("ClusterRoleBinding", Scope::Cluster, name.clone())
            } else {
                (
                    "RoleBinding",
                    Scope::Namespace(ns.clone()),
                    format!("{ns}/{name}"),
                )
            };
            let role = match (b.role_kind.as_str(), cluster) {
                ("ClusterRole", _) => cluster_roles.get(&b.role_name),
                ("Role", false) => roles.get(&(ns.clone(), b.role_name.clone())),
                ("Role", true) => {
                    warnings.push(format!(
                        "{}: ClusterRoleBinding {name} refers to a Role, which only a RoleBinding can; it grants nothing",
                        b.meta.origin
                    ));
                    Some(&no_rules)
                }
                (other, _) => {
                    warnings.push(format!(
                        "{}: {kind} {binding} refers to a `{other}`, which is not a role; it grants nothing",
                        b.meta.origin
                    ));
                    Some(&no_rules)
                }
            };
            let role = role.unwrap_or_else(|| {
                let place = if b.role_kind == "Role" {
                    format!("Role {ns}/{}", b.role_name)
                } else {
                    format!("ClusterRole {}", b.role_name)
                };
                warnings.push(format!(
                    "{}: {kind} {binding} refers to {place}, which is neither in the manifests nor built in; its permissions are unknown",
                    b.meta.origin
                ));
                &no_rules
            });
            for s in &b.subjects {
                let matched = subject_accounts(s, if cluster { "" } else { &ns }, accounts);
                match matched {
                    Matched::Accounts(keys, subject) => {
                        for key in keys {
                            let Some(acc) = accounts.get_mut(&key) else {
                                continue;
                            };
                            acc.bindings.insert(Applied {
                                kind,
                                binding: binding.clone(),
                                role: format!("{}/{}", b.role_kind, b.role_name),
                                scope: scope.clone(),
                                role_source: role.source,
                                subject: subject.clone(),
                            });
                            acc.rules
                                .extend(role.rules.iter().map(|r| (r.clone(), scope.clone())));
                        }
                    }
                    Matched::Undefined(sa_ns, sa_name) => {
                        // The usual cause: manifests written without namespaces, meant for
                        // `kubectl apply -n <ns>`, read with the wrong default.
                        let hint = if sa_ns != default_namespace
                            && accounts.contains_key(&(default_namespace.to_owned(), sa_name.clone()))
                        {
                            format!(
                                "; {default_namespace}/{sa_name} is defined: if the manifests are applied to namespace `{sa_ns}`, give that namespace"
                            )
                        } else {
                            String::new()
                        };
                        warnings.push(format!(
                            "{}: {kind} {binding} names service account {sa_ns}/{sa_name}, which the manifests neither define nor run; it is not reported{hint}",
                            b.meta.origin
                        ));
                    }
                    Matched::NoNamespace => warnings.push(format!(
                        "{}: ClusterRoleBinding {binding} names service account {} without a namespace; it matches nothing",
                        b.meta.origin, s.name
                    )),
                    Matched::Other => {}
                }
            }
        }
    }
}

/// What a subject designates among the service accounts.
enum Matched {
    /// These accounts, and how the subject reads.
    Accounts(Vec<(String, String)>, String),
    /// A service account the manifests do not know, by namespace and name.
    Undefined(String, String),
    /// A service account subject of a ClusterRoleBinding with no namespace.
    NoNamespace,
    /// A person or group that is no service account.
    Other,
}

/// The accounts a subject of a binding in `binding_ns` (empty for a ClusterRoleBinding)
/// designates: the service account itself, its `system:serviceaccount:<ns>:<name>` user, or
/// the groups every service account is in (`system:serviceaccounts`,
/// `system:serviceaccounts:<ns>`, `system:authenticated`).
fn subject_accounts(
    s: &Subject,
    binding_ns: &str,
    accounts: &BTreeMap<(String, String), Account<'_>>,
) -> Matched {
    let one = |ns: &str, name: &str, subject: String| {
        let key = (ns.to_owned(), name.to_owned());
        if accounts.contains_key(&key) {
            Matched::Accounts(vec![key], subject)
        } else {
            Matched::Undefined(ns.to_owned(), name.to_owned())
        }
    };
    match s.kind.as_str() {
        "ServiceAccount" => {
            // A RoleBinding's subject without a namespace is in the binding's, as the
            // authorizer reads it.
            let ns = match (&s.namespace, binding_ns) {
                (Some(ns), _) => ns.as_str(),
                (None, "") => return Matched::NoNamespace,
                (None, ns) => ns,
            };
            one(ns, &s.name, format!("ServiceAccount {ns}/{}", s.name))
        }
        "User" => match s
            .name
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
        {
            Some((ns, name)) => one(ns, name, format!("User {}", s.name)),
            None => Matched::Other,
        },
        "Group" => {
            let keys: Vec<_> = match s.name.as_str() {
                "system:serviceaccounts" | "system:authenticated" => {
                    accounts.keys().cloned().collect()
                }
                g => match g.strip_prefix("system:serviceaccounts:") {
                    Some(ns) => accounts.keys().filter(|k| k.0 == ns).cloned().collect(),
                    None => return Matched::Other,
                },
            };
            Matched::Accounts(keys, format!("Group {}", s.name))
        }
        _ => Matched::Other,
    }
}

fn account_nhi(
    cluster: &str,
    ns: &str,
    name: &str,
    acc: Account<'_>,
    warnings: &mut Vec<String>,
) -> DiscoveredNhi {
    let mut nhi = DiscoveredNhi::new(
        NhiKind::K8sServiceAccount,
        PROVIDER,
        format!("{cluster}/{ns}/{name}"),
        format!("{ns}/{name}"),
    );
    let defined = acc.def.is_some();
    if let Some(def) = &acc.def {
        nhi.tags = def.labels.clone();
        nhi.created_at = def.created_at;
        let first = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| def.annotations.get(*k).filter(|v| !v.trim().is_empty()))
        };
        if let Some(owner) = first(OWNER_ANNOTATIONS) {
            match OwnerRef::parse(owner) {
                Ok(o) => nhi.owner = Some(o),
                Err(e) => warnings.push(format!(
                    "{}: service account {ns}/{name}: owner annotation ignored: {e}",
                    def.origin
                )),
            }
        }
        nhi.purpose = first(PURPOSE_ANNOTATIONS).map(|p| p.trim().to_owned());
        if let Some(env) = def.annotations.get(ENVIRONMENT_ANNOTATION) {
            match env.trim().parse::<Environment>() {
                Ok(e) => nhi.environment = Some(e),
                Err(e) => warnings.push(format!(
                    "{}: service account {ns}/{name}: environment annotation ignored: {e}",
                    def.origin
                )),
            }
        }
    }

    let mut permissions = BTreeSet::new();
    let mut privileged = BTreeSet::new();
    let mut admin = false;
    for (rule, scope) in &acc.rules {
        rbac::permissions(rule, scope, &mut permissions);
        rbac::privileged(rule, scope, &mut privileged);
        admin |= *scope == Scope::Cluster && rbac::is_everything(rule);
    }
    drop_covered(&mut permissions);
    drop_covered(&mut privileged);
    let wildcards: Vec<&String> = permissions
        .iter()
        .filter(|p| rbac::is_wildcard(p))
        .collect();
    let sa_automount = acc.automount.unwrap_or(true);
    let consumers: Vec<Value> = acc
        .consumers
        .iter()
        .map(|(kind, name, pod)| {
            json!({"kind": kind, "name": name, "automount_token": pod.unwrap_or(sa_automount)})
        })
        .collect();
    let overridden = acc
        .consumers
        .iter()
        .any(|(_, _, pod)| pod.is_some_and(|p| p != sa_automount));
    let bindings: Vec<Value> = acc
        .bindings
        .iter()
        .map(|b| {
            json!({
                "binding": b.binding,
                "kind": b.kind,
                "role": b.role,
                "scope": b.scope.to_string(),
                "role_source": b.role_source,
                "subject": b.subject,
            })
        })
        .collect();

    let mut secrets: Vec<&TokenSecret> = acc.secrets;
    secrets.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    secrets.dedup_by(|a, b| a.meta.name == b.meta.name);
    let token_in_manifest = secrets.iter().any(|s| s.token_in_manifest);
    nhi.credentials = secrets
        .iter()
        .map(|s| {
            let mut c = DiscoveredCredential::with_external_id(
                CredentialKind::Token,
                format!("{cluster}/{ns}/secret/{}", s.meta.name),
            );
            c.created_at = s.meta.created_at;
            c
        })
        .collect();

    nhi.observed_permissions = permissions.iter().cloned().collect();
    let f = &mut nhi.facts;
    f.insert(facts::ADMIN.into(), json!(admin));
    f.insert(facts::WILDCARD_PERMISSIONS.into(), json!(wildcards));
    f.insert(facts::PRIVILEGED_GRANTS.into(), json!(privileged));
    f.insert(facts::CONSUMERS.into(), Value::Array(consumers));
    f.insert("bindings".into(), Value::Array(bindings));
    f.insert("automount_token".into(), json!(sa_automount));
    f.insert("automount_overridden".into(), json!(overridden));
    f.insert("defined_in_manifests".into(), json!(defined));
    let secret_names: Vec<&String> = secrets.iter().map(|s| &s.meta.name).collect();
    f.insert("long_lived_token_secrets".into(), json!(secret_names));
    if token_in_manifest {
        f.insert("token_value_in_manifest".into(), json!(true));
    }
    if acc.implicit {
        f.insert("implicit_default".into(), json!(true));
    }
    nhi
}

/// Drops each `… ns:<namespace>` string whose `… cluster` twin is there too: a cluster-wide
/// grant covers every namespace.
fn drop_covered(set: &mut BTreeSet<String>) {
    let covered: Vec<String> = set
        .iter()
        .filter(|s| {
            s.rsplit_once(' ').is_some_and(|(head, scope)| {
                scope.starts_with("ns:") && set.contains(&format!("{head} cluster"))
            })
        })
        .cloned()
        .collect();
    for s in covered {
        set.remove(&s);
    }
}
