//! The Kubernetes objects this connector reads, parsed from manifest files into plain values.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, InputFile, parse_json};

use crate::yaml::{self, Field};

/// How deep `List`s may nest inside `List`s.
const MAX_LIST_DEPTH: usize = 4;

/// Where an object was read: its file and the line its document or list item starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub path: PathBuf,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// An object's metadata.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub name: String,
    /// As written; the run's default namespace applies when absent.
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub created_at: Option<DateTime<Utc>>,
    pub origin: Origin,
}

/// A ServiceAccount.
#[derive(Debug, Clone)]
pub(crate) struct ServiceAccount {
    pub meta: Meta,
    pub automount: Option<bool>,
}

/// One RBAC policy rule as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

/// A label selector requirement's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// A label selector (`matchLabels` and `matchExpressions`, all of which must hold).
#[derive(Debug, Clone, Default)]
pub(crate) struct Selector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<(String, Operator, Vec<String>)>,
}

impl Selector {
    /// Whether `labels` satisfy this selector; an empty selector matches everything, as in
    /// Kubernetes.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|(k, op, values)| {
                let value = labels.get(k);
                match op {
                    Operator::In => value.is_some_and(|v| values.contains(v)),
                    Operator::NotIn => value.is_none_or(|v| !values.contains(v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

/// A Role or ClusterRole.
#[derive(Debug, Clone)]
pub(crate) struct RoleDef {
    pub meta: Meta,
    pub cluster: bool,
    pub rules: Vec<Rule>,
    /// A ClusterRole's `aggregationRule.clusterRoleSelectors`.
    pub aggregation: Option<Vec<Selector>>,
}

/// A subject of a binding.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub meta: Meta,
    pub cluster: bool,
    pub role_kind: String,
    pub role_name: String,
    pub subjects: Vec<Subject>,
}

/// A Secret of type `kubernetes.io/service-account-token`.
#[derive(Debug, Clone)]
pub(crate) struct TokenSecret {
    pub meta: Meta,
    /// The service account it is annotated for.
    pub service_account: String,
    /// Whether the manifest carries the token's value (`data.token` or `stringData.token`);
    /// the value itself is never kept.
    pub token_in_manifest: bool,
}

/// A workload's pod template (or a Pod).
#[derive(Debug, Clone)]
pub(crate) struct Workload {
    pub kind: String,
    pub meta: Meta,
    /// `serviceAccountName`, else the deprecated `serviceAccount`; `None` means `default`.
    pub service_account: Option<String>,
    pub automount: Option<bool>,
}

/// Objects read from manifest files, not yet resolved: parse files into it one by one
/// ([`parse_manifests`], [`Manifests::add`]), then resolve them into NHIs
/// ([`Manifests::resolve`](crate::Manifests::resolve)).
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    pub(crate) service_accounts: Vec<ServiceAccount>,
    pub(crate) roles: Vec<RoleDef>,
    pub(crate) bindings: Vec<Binding>,
    pub(crate) token_secrets: Vec<TokenSecret>,
    pub(crate) workloads: Vec<Workload>,
    /// Objects of kinds this connector does not read, by kind.
    pub(crate) ignored: BTreeMap<String, usize>,
    /// Documents that are not Kubernetes objects (no `kind`, or not a mapping).
    pub(crate) not_objects: usize,
    /// Objects read (in lists, each item counts).
    pub(crate) objects: usize,
}

/// Parses one manifest file from its bytes: YAML (every document, comment-only and empty ones
/// skipped) or JSON, `List` kinds included. Fails on the first malformed document or
/// wrongly-typed field, naming the file, line and column.
pub fn parse_manifests(path: &Path, bytes: &[u8]) -> Result<Manifests, ConnectError> {
    let mut m = Manifests::default();
    m.add(path, bytes)?;
    Ok(m)
}

impl Manifests {
    /// No objects yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many objects were read (each item of a `List` counts), of kinds read or not.
    pub fn objects(&self) -> usize {
        self.objects
    }

    /// Parses one more file into this set. On error nothing of the file is kept.
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<(), ConnectError> {
        let file = InputFile {
            path: path.to_owned(),
            bytes: bytes.to_vec(),
        };
        let text = file.text()?;
        let is_json = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .is_some_and(|n| n.ends_with(".json") || n.ends_with(".json.gz"));
        let mut more = Manifests::default();
        if is_json {
            // serde_json is the judge of what JSON is, with its precise positions; saphyr
            // then gives the tree its positions, or the tree goes without when it cannot read
            // what serde_json took.
            let value: serde_json::Value = parse_json(&file)?;
            match yaml::load(text) {
                Ok(docs) => more.read_docs(path, &docs)?,
                Err(_) => more.read_docs(path, &[yaml::from_json(value)])?,
            }
        } else {
            let docs = yaml::load(text)
                .map_err(|(line, col, msg)| ConnectError::syntax(path, line, col, msg))?;
            more.read_docs(path, &docs)?;
        }
        self.extend(more);
        Ok(())
    }

    /// Adds everything another set read, after this set's objects.
    pub fn extend(&mut self, other: Manifests) {
        self.service_accounts.extend(other.service_accounts);
        self.roles.extend(other.roles);
        self.bindings.extend(other.bindings);
        self.token_secrets.extend(other.token_secrets);
        self.workloads.extend(other.workloads);
        for (k, n) in other.ignored {
            *self.ignored.entry(k).or_default() += n;
        }
        self.not_objects += other.not_objects;
        self.objects += other.objects;
    }

    fn read_docs(&mut self, path: &Path, docs: &[yaml::Node<'_>]) -> Result<(), ConnectError> {
        for doc in docs {
            // Field paths start at each document's root; the line tells documents apart.
            let root = Field::new(path, doc, "");
            if root.is_null() {
                continue;
            }
            if !root.is_map() {
                self.not_objects += 1;
                continue;
            }
            self.read_object(&root, None, 0)?;
        }
        Ok(())
    }

    /// Reads one object; `list_kind` is the kind of the typed list it is an item of.
    fn read_object(
        &mut self,
        f: &Field<'_, '_>,
        list_kind: Option<&str>,
        depth: usize,
    ) -> Result<(), ConnectError> {
        let kind = match f.str("kind")? {
            Some(k) => k,
            None => match list_kind {
                Some(k) => k.to_owned(),
                None => {
                    self.not_objects += 1;
                    return Ok(());
                }
            },
        };
        let api_version = f.str("apiVersion")?;
        if kind.ends_with("List") && f.get("items").is_some() {
            if depth >= MAX_LIST_DEPTH {
                return Err(f.error(format!("lists nested deeper than {MAX_LIST_DEPTH}")));
            }
            let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
            for item in f.maps("items")? {
                self.read_object(&item, item_kind, depth + 1)?;
            }
            return Ok(());
        }
        self.objects += 1;
        let group = api_version
            .as_deref()
            .map(|v| v.split_once('/').map_or("", |(g, _)| g));
        let in_group = |groups: &[&str]| group.is_none_or(|g| groups.contains(&g));
        match kind.as_str() {
            "ServiceAccount" if in_group(&[""]) => {
                let meta = meta(f)?;
                let automount = f.bool("automountServiceAccountToken")?;
                self.service_accounts
                    .push(ServiceAccount { meta, automount });
            }
            "Role" | "ClusterRole" if in_group(&["rbac.authorization.k8s.io"]) => {
                let role = role(f, kind == "ClusterRole")?;
                self.roles.push(role);
            }
            "RoleBinding" | "ClusterRoleBinding" if in_group(&["rbac.authorization.k8s.io"]) => {
                let binding = binding(f, kind == "ClusterRoleBinding")?;
                self.bindings.push(binding);
            }
            "Secret" if in_group(&[""]) => {
                if let Some(secret) = token_secret(f)? {
                    self.token_secrets.push(secret);
                }
            }
            "Pod" if in_group(&[""]) => self.workload(f, &kind, &["spec"])?,
            "ReplicationController" if in_group(&[""]) => {
                self.workload(f, &kind, &["spec", "template", "spec"])?;
            }
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
                if in_group(&["apps", "extensions"]) =>
            {
                self.workload(f, &kind, &["spec", "template", "spec"])?;
            }
            "Job" if in_group(&["batch"]) => {
                self.workload(f, &kind, &["spec", "template", "spec"])?;
            }
            "CronJob" if in_group(&["batch"]) => {
                self.workload(
                    f,
                    &kind,
                    &["spec", "jobTemplate", "spec", "template", "spec"],
                )?;
            }
            _ => {
                let label = match group {
                    // A kind this connector reads, in an API group it does not (a custom
                    // resource that happens to be called `Role`).
                    Some(g) if KNOWN_KINDS.contains(&kind.as_str()) => format!("{kind} ({g})"),
                    _ => kind,
                };
                *self.ignored.entry(label).or_default() += 1;
            }
        }
        Ok(())
    }

    fn workload(
        &mut self,
        f: &Field<'_, '_>,
        kind: &str,
        spec_path: &[&str],
    ) -> Result<(), ConnectError> {
        let meta = workload_meta(f)?;
        let mut spec = f.clone();
        for key in spec_path {
            match spec.map(key)? {
                Some(next) => spec = next,
                // No pod template: nothing runs, so nothing uses a service account.
                None => return Ok(()),
            }
        }
        let mut service_account = None;
        for key in ["serviceAccountName", "serviceAccount"] {
            if let (Some(sa), Some(field)) = (spec.non_empty(key)?, spec.get(key)) {
                check_name(&field, &sa)?;
                service_account = Some(sa);
                break;
            }
        }
        let automount = spec.bool("automountServiceAccountToken")?;
        self.workloads.push(Workload {
            kind: kind.to_owned(),
            meta,
            service_account,
            automount,
        });
        Ok(())
    }
}

/// Kinds this connector reads (in their own API groups).
const KNOWN_KINDS: &[&str] = &[
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "Secret",
    "Pod",
    "ReplicationController",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];

/// A name that can be part of an external id: not empty, no `/`.
fn check_name(f: &Field<'_, '_>, name: &str) -> Result<(), ConnectError> {
    if name.trim().is_empty() || name.contains('/') || name.chars().any(char::is_whitespace) {
        return Err(f.error(format!("`{name}` is not a valid Kubernetes name")));
    }
    Ok(())
}

fn meta(f: &Field<'_, '_>) -> Result<Meta, ConnectError> {
    let m = f.map("metadata")?;
    let Some(m) = m else {
        return Err(f.error("missing `metadata`"));
    };
    let Some(name) = m.non_empty("name")? else {
        return Err(m.error("missing `metadata.name`"));
    };
    meta_named(&m, f, name)
}

/// Metadata of a workload, whose name may be a `generateName` prefix.
fn workload_meta(f: &Field<'_, '_>) -> Result<Meta, ConnectError> {
    let Some(m) = f.map("metadata")? else {
        return Err(f.error("missing `metadata`"));
    };
    let name = match m.non_empty("name")? {
        Some(n) => n,
        None => match m.non_empty("generateName")? {
            Some(n) => format!("{n}*"),
            None => return Err(m.error("missing `metadata.name`")),
        },
    };
    meta_named(&m, f, name)
}

fn meta_named(m: &Field<'_, '_>, f: &Field<'_, '_>, name: String) -> Result<Meta, ConnectError> {
    if let Some(n) = m.get("name") {
        check_name(&n, &name)?;
    }
    let namespace = m.non_empty("namespace")?;
    if let (Some(ns), Some(field)) = (&namespace, m.get("namespace")) {
        check_name(&field, ns)?;
    }
    let created_at = match m.get("creationTimestamp") {
        Some(t) => match t.as_str()? {
            Some(s) => Some(
                keyward_connect::parse_time(&s)
                    .ok_or_else(|| t.error(format!("`{s}` is not a timestamp")))?,
            ),
            None => None,
        },
        None => None,
    };
    Ok(Meta {
        name,
        namespace,
        labels: m.string_map("labels")?,
        annotations: m.string_map("annotations")?,
        created_at,
        origin: Origin {
            path: f.file().to_owned(),
            line: f.line(),
        },
    })
}

fn role(f: &Field<'_, '_>, cluster: bool) -> Result<RoleDef, ConnectError> {
    let meta = meta(f)?;
    let mut rules = Vec::new();
    for r in f.maps("rules")? {
        rules.push(Rule {
            verbs: r.strings("verbs")?,
            api_groups: r.strings("apiGroups")?,
            resources: r.strings("resources")?,
            resource_names: r.strings("resourceNames")?,
            non_resource_urls: r.strings("nonResourceURLs")?,
        });
    }
    let aggregation = match f.map("aggregationRule")? {
        Some(a) if cluster => {
            let mut selectors = Vec::new();
            for s in a.maps("clusterRoleSelectors")? {
                selectors.push(selector(&s)?);
            }
            Some(selectors)
        }
        _ => None,
    };
    Ok(RoleDef {
        meta,
        cluster,
        rules,
        aggregation,
    })
}

fn selector(f: &Field<'_, '_>) -> Result<Selector, ConnectError> {
    let mut match_expressions = Vec::new();
    for e in f.maps("matchExpressions")? {
        let key = e.str("key")?.unwrap_or_default();
        let op = match e.str("operator")?.as_deref() {
            Some("In") => Operator::In,
            Some("NotIn") => Operator::NotIn,
            Some("Exists") => Operator::Exists,
            Some("DoesNotExist") => Operator::DoesNotExist,
            other => {
                let at = e.get("operator").unwrap_or_else(|| e.clone());
                return Err(at.error(format!(
                    "`{}` is not a selector operator (expected In, NotIn, Exists or DoesNotExist)",
                    other.unwrap_or("")
                )));
            }
        };
        match_expressions.push((key, op, e.strings("values")?));
    }
    Ok(Selector {
        match_labels: f.string_map("matchLabels")?,
        match_expressions,
    })
}

fn binding(f: &Field<'_, '_>, cluster: bool) -> Result<Binding, ConnectError> {
    let meta = meta(f)?;
    let Some(role_ref) = f.map("roleRef")? else {
        return Err(f.error("missing `roleRef`"));
    };
    let role_kind = role_ref.non_empty("kind")?;
    let role_name = role_ref.non_empty("name")?;
    let (Some(role_kind), Some(role_name)) = (role_kind, role_name) else {
        return Err(role_ref.error("`roleRef` needs `kind` and `name`"));
    };
    let mut subjects = Vec::new();
    for s in f.maps("subjects")? {
        let (Some(kind), Some(name)) = (s.non_empty("kind")?, s.non_empty("name")?) else {
            return Err(s.error("a subject needs `kind` and `name`"));
        };
        subjects.push(Subject {
            kind,
            name,
            namespace: s.non_empty("namespace")?,
        });
    }
    Ok(Binding {
        meta,
        cluster,
        role_kind,
        role_name,
        subjects,
    })
}

/// The annotation naming the service account of a token secret.
const SA_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";

fn token_secret(f: &Field<'_, '_>) -> Result<Option<TokenSecret>, ConnectError> {
    let mut meta = meta(f)?;
    if f.str("type")?.as_deref() != Some("kubernetes.io/service-account-token") {
        return Ok(None);
    }
    let Some(sa) = meta
        .annotations
        .get(SA_NAME_ANNOTATION)
        .filter(|s| !s.is_empty())
        .cloned()
    else {
        // Kubernetes refuses such a secret; nothing identifies whose token it would be.
        return Err(f.error(format!(
            "a `kubernetes.io/service-account-token` secret needs the annotation `{SA_NAME_ANNOTATION}`"
        )));
    };
    if sa.contains('/') || sa.chars().any(char::is_whitespace) {
        return Err(f.error(format!("`{sa}` is not a valid service account name")));
    }
    // `kubectl.kubernetes.io/last-applied-configuration` would hold the token itself.
    meta.annotations.clear();
    let mut token_in_manifest = false;
    for key in ["data", "stringData"] {
        if let Some(data) = f.map(key)? {
            // Only whether the value is there; it is read no further.
            token_in_manifest |= data.get("token").is_some_and(|t| !t.is_null());
        }
    }
    Ok(Some(TokenSecret {
        meta,
        service_account: sa,
        token_in_manifest,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifests, ConnectError> {
        parse_manifests(Path::new("m.yaml"), text.as_bytes())
    }

    #[test]
    fn reads_lists_typed_lists_and_skips_what_is_not_an_object() {
        let m = parse(
            "# Source: chart/templates/rbac.yaml\n---\n# only a comment\n---\n\
             apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: a, namespace: x}\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleList\nitems:\n- metadata: {name: r, namespace: x}\n  rules: []\n\
             ---\nkind: ConfigMap\nmetadata: {name: c}\n---\nfoo: bar\n---\njust text\n",
        )
        .unwrap();
        assert_eq!(m.service_accounts[0].meta.name, "a");
        assert_eq!(m.service_accounts[0].meta.origin.line, 8);
        assert_eq!(m.roles.len(), 1);
        assert!(!m.roles[0].cluster);
        assert_eq!(m.ignored.get("ConfigMap"), Some(&1));
        assert_eq!(m.not_objects, 2);
        assert_eq!(m.objects, 3);
    }

    #[test]
    fn a_known_kind_in_another_group_is_ignored() {
        let m = parse("apiVersion: example.com/v1\nkind: Role\nmetadata: {name: r}\n").unwrap();
        assert!(m.roles.is_empty());
        assert_eq!(m.ignored.get("Role (example.com)"), Some(&1));
    }

    #[test]
    fn wrong_types_and_bad_dates_name_the_field() {
        let err =
            parse("kind: ServiceAccount\nmetadata:\n  name: a\n  creationTimestamp: yesterday\n")
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.yaml:4:22: metadata.creationTimestamp: `yesterday` is not a timestamp"
        );
        let err = parse("a: 1\n---\nkind: Role\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: r}\nrules:\n- verbs: get\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.yaml:7:10: rules[0].verbs: expected a sequence, found a scalar"
        );
        let err =
            parse("kind: ServiceAccount\nmetadata:\n  name: {{ .Values.name }}\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("metadata.name: expected a string, found a mapping"),
            "{err}"
        );
        let err = parse("kind: RoleBinding\nmetadata: {name: b}\nsubjects: []\n").unwrap_err();
        assert!(err.to_string().contains("missing `roleRef`"), "{err}");
    }

    #[test]
    fn token_secrets_note_a_value_without_keeping_it() {
        let value = ["ZXlK", "aGJHY2lPaUpT"].concat();
        let applied = format!("{{\"data\":{{\"token\":\"{value}\"}}}}");
        let text = format!(
            "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/service-account-token\nmetadata:\n  name: t\n  annotations:\n    kubernetes.io/service-account.name: builder\n    kubectl.kubernetes.io/last-applied-configuration: '{applied}'\ndata:\n  token: {value}\n"
        );
        let m = parse(&text).unwrap();
        assert_eq!(m.token_secrets[0].service_account, "builder");
        assert!(m.token_secrets[0].token_in_manifest);
        assert!(!format!("{m:?}").contains(&value));
        let opaque =
            parse("apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata: {name: o}\n").unwrap();
        assert!(opaque.token_secrets.is_empty());
    }

    #[test]
    fn workloads_find_their_pod_spec() {
        let m = parse(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly, namespace: ops}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          serviceAccount: backup\n          automountServiceAccountToken: false\n\
             ---\napiVersion: v1\nkind: Pod\nmetadata: {generateName: probe-}\nspec: {containers: []}\n",
        )
        .unwrap();
        assert_eq!(m.workloads[0].service_account.as_deref(), Some("backup"));
        assert_eq!(m.workloads[0].automount, Some(false));
        assert_eq!(m.workloads[1].meta.name, "probe-*");
        assert_eq!(m.workloads[1].service_account, None);
    }

    #[test]
    fn json_files_read_with_positions() {
        let m = parse_manifests(
            Path::new("sa.json"),
            br#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"a","namespace":"n"},"automountServiceAccountToken":false}"#,
        )
        .unwrap();
        assert_eq!(m.service_accounts[0].automount, Some(false));
        let err = parse_manifests(Path::new("sa.json"), b"{\"kind\": \"ServiceAccount\",\n}")
            .unwrap_err();
        assert!(err.to_string().starts_with("sa.json:2:1:"), "{err}");
    }
}
