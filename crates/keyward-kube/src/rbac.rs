//! RBAC semantics: built-in roles, aggregation, how rules match requests, and the strings a
//! rule turns into.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::objects::{Rule, Selector};

/// Where a binding's rules apply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Scope {
    /// A ClusterRoleBinding: every namespace and the cluster-scoped resources.
    Cluster,
    /// A RoleBinding: one namespace.
    Namespace(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cluster => f.write_str("cluster"),
            Self::Namespace(ns) => write!(f, "ns:{ns}"),
        }
    }
}

/// A built-in role: name, labels, rules, aggregation selectors (by one label each).
pub(crate) struct Builtin {
    pub name: &'static str,
    /// The namespace of a built-in Role; `None` for a ClusterRole.
    pub namespace: Option<&'static str>,
    pub labels: &'static [(&'static str, &'static str)],
    pub rules: Vec<Rule>,
    pub aggregate: Option<&'static str>,
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Rule {
    let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    Rule {
        verbs: own(verbs),
        api_groups: own(groups),
        resources: own(resources),
        resource_names: Vec::new(),
        non_resource_urls: Vec::new(),
    }
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const AGG_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";
const AGG_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const AGG_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";

/// The roles every cluster has that manifests reference without defining. `admin`, `edit` and
/// `view` are built as Kubernetes builds them — aggregated ClusterRoles over
/// `system:aggregate-to-*` roles — so manifest ClusterRoles labelled to aggregate into them do;
/// the `system:aggregate-to-*` rules are a summary of the upstream bootstrap policy (the
/// resources that matter for access, without every `/status` subresource).
pub(crate) fn builtins() -> Vec<Builtin> {
    let workloads_apps = &[
        "daemonsets",
        "deployments",
        "deployments/scale",
        "replicasets",
        "replicasets/scale",
        "statefulsets",
        "statefulsets/scale",
    ];
    let view = vec![
        rule(
            &[""],
            &[
                "bindings",
                "configmaps",
                "endpoints",
                "events",
                "limitranges",
                "namespaces",
                "persistentvolumeclaims",
                "pods",
                "pods/log",
                "pods/status",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "resourcequotas",
                "serviceaccounts",
                "services",
            ],
            READ,
        ),
        rule(
            &["apps"],
            &[
                "controllerrevisions",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
            ],
            READ,
        ),
        rule(&["autoscaling"], &["horizontalpodautoscalers"], READ),
        rule(&["batch"], &["cronjobs", "jobs"], READ),
        rule(&["policy"], &["poddisruptionbudgets"], READ),
        rule(
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"],
            READ,
        ),
        rule(&["discovery.k8s.io"], &["endpointslices"], READ),
    ];
    let edit = vec![
        rule(&[""], &["serviceaccounts"], &["impersonate"]),
        rule(
            &[""],
            &[
                "pods",
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
            ],
            WRITE,
        ),
        rule(&[""], &["pods/eviction"], &["create"]),
        rule(
            &[""],
            &[
                "configmaps",
                "events",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy",
            ],
            WRITE,
        ),
        rule(&[""], &["serviceaccounts/token"], &["create"]),
        rule(&["apps"], workloads_apps, WRITE),
        rule(&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
        rule(&["batch"], &["cronjobs", "jobs"], WRITE),
        rule(
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"],
            WRITE,
        ),
        rule(&["policy"], &["poddisruptionbudgets"], WRITE),
        rule(
            &[""],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy",
            ],
            READ,
        ),
    ];
    let admin = vec![
        rule(
            &["authorization.k8s.io"],
            &["localsubjectaccessreviews"],
            &["create"],
        ),
        rule(
            &["rbac.authorization.k8s.io"],
            &["rolebindings", "roles"],
            &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ],
        ),
    ];
    let mut cluster_admin = vec![rule(&["*"], &["*"], &["*"])];
    cluster_admin.push(Rule {
        verbs: vec!["*".to_owned()],
        non_resource_urls: vec!["*".to_owned()],
        ..Rule::default()
    });
    let mut auth_reader = rule(&[""], &["configmaps"], READ);
    auth_reader.resource_names = vec!["extension-apiserver-authentication".to_owned()];
    let cluster_role = |name, labels, rules, aggregate| Builtin {
        name,
        namespace: None,
        labels,
        rules,
        aggregate,
    };
    vec![
        cluster_role("cluster-admin", &[], cluster_admin, None),
        cluster_role("admin", &[], Vec::new(), Some(AGG_ADMIN)),
        cluster_role("edit", &[(AGG_ADMIN, "true")], Vec::new(), Some(AGG_EDIT)),
        cluster_role("view", &[(AGG_EDIT, "true")], Vec::new(), Some(AGG_VIEW)),
        cluster_role(
            "system:aggregate-to-admin",
            &[(AGG_ADMIN, "true")],
            admin,
            None,
        ),
        cluster_role(
            "system:aggregate-to-edit",
            &[(AGG_EDIT, "true")],
            edit,
            None,
        ),
        cluster_role(
            "system:aggregate-to-view",
            &[(AGG_VIEW, "true")],
            view,
            None,
        ),
        cluster_role(
            "system:auth-delegator",
            &[],
            vec![
                rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
                rule(
                    &["authorization.k8s.io"],
                    &["subjectaccessreviews"],
                    &["create"],
                ),
            ],
            None,
        ),
        Builtin {
            name: "extension-apiserver-authentication-reader",
            namespace: Some("kube-system"),
            labels: &[],
            rules: vec![auth_reader],
            aggregate: None,
        },
    ]
}

/// A ClusterRole as aggregation sees it.
pub(crate) struct ClusterRoleView<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub rules: &'a [Rule],
    pub aggregation: Option<&'a [Selector]>,
}

/// The effective rules of every ClusterRole: an aggregated one gets the rules of every other
/// ClusterRole its selectors match (its own `rules` are what the controller overwrites), and
/// aggregation nests. A cycle contributes the declared rules of the role that closes it.
pub(crate) fn aggregate(
    roles: &BTreeMap<String, ClusterRoleView<'_>>,
) -> BTreeMap<String, Vec<Rule>> {
    let mut done = BTreeMap::new();
    for name in roles.keys() {
        let mut visiting = BTreeSet::new();
        resolve(name, roles, &mut done, &mut visiting);
    }
    done
}

fn resolve(
    name: &str,
    roles: &BTreeMap<String, ClusterRoleView<'_>>,
    done: &mut BTreeMap<String, Vec<Rule>>,
    visiting: &mut BTreeSet<String>,
) -> Vec<Rule> {
    if let Some(rules) = done.get(name) {
        return rules.clone();
    }
    let Some(role) = roles.get(name) else {
        return Vec::new();
    };
    let Some(selectors) = role.aggregation else {
        let rules = role.rules.to_vec();
        done.insert(name.to_owned(), rules.clone());
        return rules;
    };
    if !visiting.insert(name.to_owned()) {
        return role.rules.to_vec();
    }
    let mut rules = BTreeSet::new();
    for (other, view) in roles {
        if other != name && selectors.iter().any(|s| s.matches(view.labels)) {
            rules.extend(resolve(other, roles, done, visiting));
        }
    }
    visiting.remove(name);
    let rules: Vec<Rule> = rules.into_iter().collect();
    done.insert(name.to_owned(), rules.clone());
    rules
}

fn matches_any(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| p == "*" || p == value)
}

/// Whether a rule's resources cover `resource` (`pods` or `pods/exec`), by RBAC's rules: `*`
/// covers everything, `*/exec` every resource's `exec` subresource.
fn covers_resource(patterns: &[String], resource: &str) -> bool {
    let sub = resource.split_once('/').map(|(_, s)| s);
    patterns
        .iter()
        .any(|p| p == "*" || p == resource || sub.is_some_and(|s| p.strip_prefix("*/") == Some(s)))
}

impl Rule {
    /// Whether this rule allows `verb` on `group`/`resource` (any object name).
    fn allows(&self, verb: &str, group: &str, resource: &str) -> bool {
        matches_any(&self.verbs, verb)
            && matches_any(&self.api_groups, group)
            && covers_resource(&self.resources, resource)
    }
}

/// `resource[name,…]` when the rule is restricted to named objects.
fn with_names(s: String, rule: &Rule) -> String {
    if rule.resource_names.is_empty() {
        s
    } else {
        let mut names = rule.resource_names.clone();
        names.sort();
        names.dedup();
        format!("{s}[{}]", names.join(","))
    }
}

/// The permission strings of a rule applied at a scope: `<verb> <group>/<resource>[<names>]
/// <scope>`, with `core` for the core group, and `<verb> url:<path> cluster` for non-resource
/// URLs (which only a ClusterRoleBinding grants).
pub(crate) fn permissions(rule: &Rule, scope: &Scope, out: &mut BTreeSet<String>) {
    for verb in &rule.verbs {
        for group in &rule.api_groups {
            let group = if group.is_empty() { "core" } else { group };
            for resource in &rule.resources {
                if rule.resource_names.is_empty() {
                    out.insert(format!("{verb} {group}/{resource} {scope}"));
                } else {
                    for name in &rule.resource_names {
                        out.insert(format!("{verb} {group}/{resource}[{name}] {scope}"));
                    }
                }
            }
        }
        if *scope == Scope::Cluster {
            for url in &rule.non_resource_urls {
                out.insert(format!("{verb} url:{url} cluster"));
            }
        }
    }
}

/// Whether a permission string holds a wildcard in its verb, group, resource or URL.
pub(crate) fn is_wildcard(permission: &str) -> bool {
    let mut parts = permission.split(' ');
    let verb = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    // Object names in brackets are literal.
    let target = target.split('[').next().unwrap_or(target);
    verb == "*" || target.contains('*')
}

/// Whether a rule allows everything on every resource in every group.
pub(crate) fn is_everything(rule: &Rule) -> bool {
    rule.resource_names.is_empty()
        && rule.verbs.iter().any(|v| v == "*")
        && rule.api_groups.iter().any(|g| g == "*")
        && rule.resources.iter().any(|r| r == "*")
}

const WORKLOADS: &[(&str, &str)] = &[
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("", "replicationcontrollers"),
];

const IMPERSONATE: &[(&str, &str)] = &[
    ("", "users"),
    ("", "groups"),
    ("", "serviceaccounts"),
    ("authentication.k8s.io", "uids"),
];

/// The privileged grants a rule makes at a scope, as `<grant>[<names>] <scope>`.
pub(crate) fn privileged(rule: &Rule, scope: &Scope, out: &mut BTreeSet<String>) {
    let any = |verbs: &[&str], targets: &[(&str, &str)]| {
        verbs
            .iter()
            .any(|v| targets.iter().any(|(g, r)| rule.allows(v, g, r)))
    };
    let mut grants = Vec::new();
    if any(READ, &[("", "secrets")]) {
        grants.push("read-secrets");
    }
    // Exec over WebSocket was authorized with `get` before Kubernetes 1.31.
    if any(&["create", "get"], &[("", "pods/exec")]) {
        grants.push("pods-exec");
    }
    if any(&["create", "get"], &[("", "pods/attach")]) {
        grants.push("pods-attach");
    }
    if any(&["impersonate"], IMPERSONATE) {
        grants.push("impersonate");
    }
    let rbac = [
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "clusterroles"),
    ];
    if any(&["escalate"], &rbac) {
        grants.push("escalate");
    }
    if any(&["bind"], &rbac) {
        grants.push("bind");
    }
    if any(&["create"], &[("", "pods")]) {
        grants.push("create-pods");
    }
    if any(&["create"], WORKLOADS) {
        grants.push("create-workloads");
    }
    let all_verbs = [
        "get", "create", "update", "patch", "delete", "list", "watch",
    ];
    if any(&all_verbs, &[("", "nodes/proxy")]) {
        grants.push("nodes-proxy");
    }
    if any(&["create"], &[("", "serviceaccounts/token")]) {
        grants.push("create-token");
    }
    for g in grants {
        out.insert(format!("{} {scope}", with_names(g.to_owned(), rule)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(rule: &Rule, scope: Scope) -> Vec<String> {
        let mut out = BTreeSet::new();
        permissions(rule, &scope, &mut out);
        out.into_iter().collect()
    }

    #[test]
    fn permissions_name_verb_group_resource_and_scope() {
        let mut r = rule(&["", "apps"], &["secrets"], &["get"]);
        assert_eq!(
            strings(&r, Scope::Namespace("argocd".into())),
            ["get apps/secrets ns:argocd", "get core/secrets ns:argocd"]
        );
        r.resource_names = vec!["argocd-redis".into()];
        assert_eq!(
            strings(&r, Scope::Cluster),
            [
                "get apps/secrets[argocd-redis] cluster",
                "get core/secrets[argocd-redis] cluster"
            ]
        );
        let urls = Rule {
            verbs: vec!["get".into()],
            non_resource_urls: vec!["/metrics".into()],
            ..Rule::default()
        };
        assert_eq!(strings(&urls, Scope::Cluster), ["get url:/metrics cluster"]);
        assert!(strings(&urls, Scope::Namespace("x".into())).is_empty());
        assert!(is_wildcard("* core/pods cluster"));
        assert!(is_wildcard("update */*/finalizers cluster"));
        assert!(!is_wildcard("get core/secrets[a*b] ns:x"));
    }

    #[test]
    fn wildcards_and_subresource_patterns_match_as_rbac_does() {
        let r = rule(&["*"], &["*/exec"], &["create"]);
        assert!(r.allows("create", "", "pods/exec"));
        assert!(!r.allows("create", "", "pods"));
        let star = rule(&["*"], &["*"], &["*"]);
        let mut out = BTreeSet::new();
        privileged(&star, &Scope::Cluster, &mut out);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            [
                "bind cluster",
                "create-pods cluster",
                "create-token cluster",
                "create-workloads cluster",
                "escalate cluster",
                "impersonate cluster",
                "nodes-proxy cluster",
                "pods-attach cluster",
                "pods-exec cluster",
                "read-secrets cluster",
            ]
        );
        let pods_star = rule(&[""], &["pods/*"], &["create"]);
        let mut out = BTreeSet::new();
        privileged(&pods_star, &Scope::Cluster, &mut out);
        assert!(out.is_empty(), "`pods/*` is no wildcard in RBAC: {out:?}");
    }

    #[test]
    fn aggregation_follows_labels_through_nested_roles() {
        let built = builtins();
        let extra_labels: BTreeMap<String, String> =
            [(AGG_VIEW.to_owned(), "true".to_owned())].into();
        let extra_rules = vec![rule(&["metrics.k8s.io"], &["pods"], READ)];
        let labels: Vec<BTreeMap<String, String>> = built
            .iter()
            .map(|b| {
                b.labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect()
            })
            .collect();
        let selectors: Vec<Option<Vec<Selector>>> = built
            .iter()
            .map(|b| {
                b.aggregate.map(|l| {
                    vec![Selector {
                        match_labels: [(l.to_owned(), "true".to_owned())].into(),
                        ..Selector::default()
                    }]
                })
            })
            .collect();
        let mut roles = BTreeMap::new();
        for (i, b) in built
            .iter()
            .enumerate()
            .filter(|(_, b)| b.namespace.is_none())
        {
            roles.insert(
                b.name.to_owned(),
                ClusterRoleView {
                    labels: &labels[i],
                    rules: &b.rules,
                    aggregation: selectors[i].as_deref(),
                },
            );
        }
        roles.insert(
            "metrics-reader".to_owned(),
            ClusterRoleView {
                labels: &extra_labels,
                rules: &extra_rules,
                aggregation: None,
            },
        );
        let eff = aggregate(&roles);
        let has = |role: &str, verb: &str, group: &str, res: &str| {
            eff[role].iter().any(|r| r.allows(verb, group, res))
        };
        assert!(has("admin", "get", "metrics.k8s.io", "pods"));
        assert!(has("admin", "get", "", "secrets"));
        assert!(has(
            "admin",
            "create",
            "rbac.authorization.k8s.io",
            "rolebindings"
        ));
        assert!(has("edit", "create", "", "pods/exec"));
        assert!(!has("edit", "create", "rbac.authorization.k8s.io", "roles"));
        assert!(has("view", "list", "apps", "deployments"));
        assert!(!has("view", "get", "", "secrets"));
    }
}
