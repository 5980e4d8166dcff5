//! GitLab CI: a `.gitlab-ci.yml` or an included file, read into its includes, global
//! variables, `default:` keywords and jobs, each job kept as parts by keyword so `extends:`,
//! `default:` and `!reference` can be resolved the way GitLab merges them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use keyward_connect::ConnectError;

use crate::expr::{self, Cloud};
use crate::yaml::{self, Dialect, Kind, Node, Reader, Seg};

/// Top-level keys that are not jobs.
const GLOBAL_KEYS: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "spec",
];
/// Deprecated top-level keywords that act as `default:` ones.
const GLOBAL_DEFAULTS: &[&str] = &[
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];

/// Where an `include:` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum IncludeKind {
    /// A file in the same repository.
    Local,
    /// A URL.
    Remote,
    /// A file in another project.
    Project,
    /// A template shipped with GitLab.
    Template,
    /// A CI/CD component.
    Component,
}

/// One `include:` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Include {
    /// Where it points.
    pub kind: IncludeKind,
    /// The path, URL, project, template or component as written.
    pub location: String,
    /// The file within a project include.
    pub file: Option<String>,
    /// A project include's `ref:`.
    pub git_ref: Option<String>,
    /// Whether a remote include carries `integrity:`.
    pub integrity: bool,
}

impl Include {
    /// How facts show it: `local:ci/build.yml`, `remote:https://…`,
    /// `project:group/tools@v1:/ci.yml`, `template:Jobs/SAST.gitlab-ci.yml`,
    /// `component:gitlab.com/org/c/job@1.0`.
    pub fn describe(&self) -> String {
        match self.kind {
            IncludeKind::Local => format!("local:{}", self.location),
            IncludeKind::Remote => format!("remote:{}", self.location),
            IncludeKind::Template => format!("template:{}", self.location),
            IncludeKind::Component => format!("component:{}", self.location),
            IncludeKind::Project => format!(
                "project:{}@{}:{}",
                self.location,
                self.git_ref.as_deref().unwrap_or("HEAD"),
                self.file.as_deref().unwrap_or("")
            ),
        }
    }

    /// Whether what it brings in can change without this file changing: a project at a
    /// branch or tag, a component at a version, a URL without `integrity:`.
    pub fn unpinned(&self) -> bool {
        match self.kind {
            IncludeKind::Local | IncludeKind::Template => false,
            IncludeKind::Remote => !self.integrity,
            IncludeKind::Project => !self.git_ref.as_deref().is_some_and(expr::is_full_sha),
            IncludeKind::Component => !self
                .location
                .rsplit_once('@')
                .is_some_and(|(_, v)| expr::is_full_sha(v)),
        }
    }
}

/// How a variable is defined in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VarDef {
    /// Defined empty: a placeholder for a project or group variable.
    Empty,
    /// Defined with a value, expanded by GitLab.
    Value,
    /// Defined with `expand: false`.
    Raw,
}

/// A reference to a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VarRef {
    /// The variable's name.
    pub name: String,
    /// The field path (`deploy.script[1]`, `variables.AWS_SECRET_ACCESS_KEY`).
    pub field: String,
    /// The variable whose definition holds the reference, if any.
    pub via: Option<String>,
}

/// A `!reference [job, key, sub]` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagRef {
    /// The path it names.
    pub path: Vec<String>,
}

/// A secret a job fetches from an external store (`secrets:`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ExternalSecret {
    /// `vault`, `gcp_secret_manager`, `azure_key_vault` or `aws_secrets_manager`.
    pub provider: String,
    /// Where in the store, as written (`production/db/password@ops`).
    pub reference: String,
    /// The ID token it authenticates with (`VAULT_ID_TOKEN`), if named.
    pub token: Option<String>,
}

/// What one keyword of a job (or one variable) holds that discovery reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct Part {
    /// The variables it refers to.
    pub refs: Vec<VarRef>,
    /// Its `!reference` tags.
    pub tag_refs: Vec<TagRef>,
    /// For `variables.<NAME>`: how it is defined.
    pub def: Option<VarDef>,
    /// For `secrets.<NAME>`: where the secret comes from.
    pub secret: Option<ExternalSecret>,
    /// For `id_tokens.<NAME>`: the audiences.
    pub aud: Vec<String>,
    /// For `environment`: the environment's name.
    pub environment: Option<String>,
    /// For `stage`: the stage.
    pub stage: Option<String>,
    /// AWS role ARNs written in it.
    pub role_arns: Vec<String>,
    /// Clouds its text federates with (`assume-role-with-web-identity`, an audience).
    pub oidc_clouds: BTreeSet<Cloud>,
}

/// What a job inherits from the globals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inherit {
    /// Everything.
    All,
    /// Nothing.
    Nothing,
    /// Only these names.
    Only(BTreeSet<String>),
}

impl Inherit {
    /// Whether `name` is inherited.
    pub fn allows(&self, name: &str) -> bool {
        match self {
            Inherit::All => true,
            Inherit::Nothing => false,
            Inherit::Only(names) => names.contains(name),
        }
    }
}

/// A job or hidden template.
#[derive(Debug, Clone)]
pub(crate) struct GlJob {
    /// Its key.
    pub name: String,
    /// The file that defines it, as shown in facts.
    pub display: String,
    /// `extends:`.
    pub extends: Vec<String>,
    /// Its parts by keyword: `script`, `environment`, `variables.<NAME>`, `secrets.<NAME>`,
    /// `id_tokens.<NAME>`, …
    pub parts: BTreeMap<String, Part>,
    /// `inherit:default`.
    pub inherit_default: Option<Inherit>,
    /// `inherit:variables`.
    pub inherit_variables: Option<Inherit>,
}

impl GlJob {
    /// Whether it is a hidden template (`.name`) rather than a job.
    pub fn hidden(&self) -> bool {
        self.name.starts_with('.')
    }
}

/// One GitLab CI file.
#[derive(Debug, Clone)]
pub(crate) struct GlFile {
    /// The path shown in facts, relative to the repository root.
    pub display: String,
    /// Its `include:` entries.
    pub includes: Vec<Include>,
    /// Global `variables:` by name.
    pub variables: BTreeMap<String, Part>,
    /// `default:` keywords (and the deprecated global ones).
    pub default: BTreeMap<String, Part>,
    /// Jobs and hidden templates in document order.
    pub jobs: Vec<GlJob>,
    /// Field paths of secret-like variables defined with a literal value (never the value).
    pub literal_secrets: Vec<String>,
}

/// Whether a file's top-level mapping looks like GitLab CI.
pub(crate) fn looks_like_gitlab(top: &[(&str, &Node<'_>)]) -> bool {
    top.iter().any(|(k, v)| {
        matches!(*k, "stages" | "include" | "default")
            || matches!(&v.kind, Kind::Map(entries) if entries.iter().any(|(ek, _)| {
                matches!(ek.text(), Some("script" | "trigger" | "extends" | "stage"))
            }))
    })
}

/// Reads a GitLab CI file from its parsed documents.
pub(crate) fn file(path: &Path, display: &str, docs: &[Node<'_>]) -> Result<GlFile, ConnectError> {
    let r = Reader {
        path,
        dialect: Dialect::Gitlab,
    };
    let non_empty: Vec<&Node<'_>> = docs.iter().filter(|d| !d.is_null()).collect();
    let doc = match non_empty.as_slice() {
        [] => {
            return Err(ConnectError::syntax(
                path,
                1,
                1,
                "a GitLab CI file is empty",
            ));
        }
        [one] => *one,
        // A component or input spec header, then the configuration.
        [header, config] if has_key(header, "spec") => *config,
        [_, extra, ..] => {
            return Err(ConnectError::syntax(
                path,
                extra.line,
                extra.col,
                "a GitLab CI file holds one configuration document (after an optional `spec:` header)",
            ));
        }
    };
    if !matches!(doc.kind, Kind::Map(_)) {
        return Err(ConnectError::syntax(
            path,
            doc.line,
            doc.col,
            format!(
                "a GitLab CI file must be a mapping, found {}",
                doc.describe()
            ),
        ));
    }
    let mut out = GlFile {
        display: display.to_owned(),
        includes: Vec::new(),
        variables: BTreeMap::new(),
        default: BTreeMap::new(),
        jobs: Vec::new(),
        literal_secrets: Vec::new(),
    };
    let top = r.map_or_empty(doc, "")?;
    for (key, value) in &top {
        match *key {
            "include" => out.includes = includes(&r, value)?,
            "variables" => {
                out.variables = variables(&r, value, "", &mut out.literal_secrets)?;
            }
            "default" => {
                for (k, v) in r.map_or_empty(value, "default")? {
                    keyword(
                        &r,
                        k,
                        v,
                        "default",
                        &mut out.default,
                        &mut out.literal_secrets,
                    )?;
                }
            }
            k if GLOBAL_DEFAULTS.contains(&k) => {
                let mut parts = BTreeMap::new();
                keyword(&r, k, value, "", &mut parts, &mut out.literal_secrets)?;
                for (pk, pv) in parts {
                    out.default.entry(pk).or_insert(pv);
                }
            }
            k if GLOBAL_KEYS.contains(&k) => {}
            name => {
                if let Some(job) = job(&r, name, value, display, &mut out.literal_secrets)? {
                    out.jobs.push(job);
                }
            }
        }
    }
    out.literal_secrets.sort();
    out.literal_secrets.dedup();
    Ok(out)
}

fn has_key(node: &Node<'_>, key: &str) -> bool {
    matches!(&node.kind, Kind::Map(entries) if entries.iter().any(|(k, _)| k.text() == Some(key)))
}

fn includes(r: &Reader<'_>, node: &Node<'_>) -> Result<Vec<Include>, ConnectError> {
    let items: Vec<&Node<'_>> = match &node.kind {
        Kind::Map(_) => vec![node],
        _ => r.list(node, "include")?,
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let field = format!("include[{i}]");
        if let Some(text) = item.text() {
            if item.is_null() {
                continue;
            }
            let t = text.trim();
            let kind = if t.starts_with("https://") || t.starts_with("http://") {
                IncludeKind::Remote
            } else {
                IncludeKind::Local
            };
            out.push(Include {
                kind,
                location: normalize_local(t, kind),
                file: None,
                git_ref: None,
                integrity: false,
            });
            continue;
        }
        let entries = r.map_or_empty(item, &field)?;
        let get = |name: &str| entries.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let text_of = |name: &str| -> Result<Option<String>, ConnectError> {
            match get(name) {
                Some(v) => Ok(r
                    .scalar(v, &format!("{field}.{name}"))?
                    .map(|s| s.trim().to_owned())),
                None => Ok(None),
            }
        };
        let integrity = text_of("integrity")?.is_some();
        if let Some(project) = text_of("project")? {
            let git_ref = text_of("ref")?;
            let files = match get("file") {
                Some(f) => r
                    .list(f, &format!("{field}.file"))?
                    .into_iter()
                    .map(|n| {
                        r.scalar(n, &format!("{field}.file"))
                            .map(|s| s.map(str::to_owned))
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .flatten()
                    .collect(),
                None => Vec::new(),
            };
            let files = if files.is_empty() {
                vec![String::new()]
            } else {
                files
            };
            for f in files {
                out.push(Include {
                    kind: IncludeKind::Project,
                    location: project.clone(),
                    file: (!f.is_empty()).then_some(f),
                    git_ref: git_ref.clone(),
                    integrity,
                });
            }
            continue;
        }
        for (key, kind) in [
            ("local", IncludeKind::Local),
            ("remote", IncludeKind::Remote),
            ("template", IncludeKind::Template),
            ("component", IncludeKind::Component),
        ] {
            if let Some(location) = text_of(key)? {
                out.push(Include {
                    kind,
                    location: normalize_local(&location, kind),
                    file: None,
                    git_ref: None,
                    integrity,
                });
            }
        }
    }
    Ok(out)
}

/// A local include's path relative to the repository root (GitLab reads `/ci/x.yml` and
/// `ci/x.yml` alike).
fn normalize_local(location: &str, kind: IncludeKind) -> String {
    if kind != IncludeKind::Local {
        return location.to_owned();
    }
    let mut p = location.trim();
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    p.to_owned()
}

/// Reads a `variables:` block; `scope` is the job's name, or empty for the globals.
fn variables(
    r: &Reader<'_>,
    node: &Node<'_>,
    scope: &str,
    literals: &mut Vec<String>,
) -> Result<BTreeMap<String, Part>, ConnectError> {
    let base = if scope.is_empty() {
        "variables".to_owned()
    } else {
        format!("{scope}.variables")
    };
    let mut out = BTreeMap::new();
    for (name, value) in r.map_or_empty(node, &base)? {
        let field = format!("{base}.{name}");
        let (text, expand) = match &value.kind {
            Kind::Map(_) => {
                let mut text = None;
                let mut expand = true;
                for (k, v) in r.map_or_empty(value, &field)? {
                    match k {
                        "value" => text = r.scalar(v, &format!("{field}.value"))?,
                        "expand" => {
                            expand = r.scalar(v, &format!("{field}.expand"))? != Some("false")
                        }
                        _ => {}
                    }
                }
                (text.unwrap_or(""), expand)
            }
            Kind::Seq(_) => {
                return Err(r.err(
                    value,
                    &field,
                    "expected a string or a mapping with `value`, found a list",
                ));
            }
            Kind::Scalar(..) => (r.scalar(value, &field)?.unwrap_or(""), true),
        };
        let def = if text.trim().is_empty() {
            VarDef::Empty
        } else if expand {
            VarDef::Value
        } else {
            VarDef::Raw
        };
        let mut part = Part {
            def: Some(def),
            ..Part::default()
        };
        if def == VarDef::Value {
            for v in expr::gitlab_vars(text) {
                part.refs.push(VarRef {
                    name: v,
                    field: field.clone(),
                    via: Some(name.to_owned()),
                });
            }
        }
        if def != VarDef::Empty
            && part.refs.is_empty()
            && expr::secret_like(name)
            && expr::plausible_literal_secret(text)
        {
            literals.push(field.clone());
        }
        note_text(&mut part, text);
        out.insert(name.to_owned(), part);
    }
    Ok(out)
}

/// Notes what a text says about federation: role ARNs and the tools' tell-tale arguments.
fn note_text(part: &mut Part, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find("arn:aws:iam::") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ')' | ';'))
            .unwrap_or(tail.len());
        let arn = &tail[..end];
        if arn.contains(":role/") {
            part.role_arns.push(arn.to_owned());
        }
        rest = &tail[end.max(1)..];
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("assume-role-with-web-identity") || lower.contains("web_identity_token") {
        part.oidc_clouds.insert(Cloud::Aws);
    }
    if lower.contains("workload-identity") || lower.contains("workload_identity") {
        part.oidc_clouds.insert(Cloud::Gcp);
    }
    if lower.contains("--federated-token") || lower.contains("azureadtokenexchange") {
        part.oidc_clouds.insert(Cloud::Azure);
    }
}

/// The clouds an ID token's audience is for.
fn clouds_of_audience(aud: &str) -> Option<Cloud> {
    let lower = aud.to_ascii_lowercase();
    if lower.contains("sts.amazonaws.com") {
        Some(Cloud::Aws)
    } else if lower.contains("iam.googleapis.com") {
        Some(Cloud::Gcp)
    } else if lower.contains("azureadtokenexchange") {
        Some(Cloud::Azure)
    } else {
        None
    }
}

/// Reads a job (or hidden template); `None` for a hidden key that is not a mapping (a place
/// for anchors).
fn job(
    r: &Reader<'_>,
    name: &str,
    node: &Node<'_>,
    display: &str,
    literals: &mut Vec<String>,
) -> Result<Option<GlJob>, ConnectError> {
    let hidden = name.starts_with('.');
    if !matches!(node.kind, Kind::Map(_)) {
        if hidden {
            return Ok(None);
        }
        return Err(r.err(
            node,
            name,
            format!("a job must be a mapping, found {}", node.describe()),
        ));
    }
    let entries = r.map_or_empty(node, name)?;
    let mut job = GlJob {
        name: name.to_owned(),
        display: display.to_owned(),
        extends: Vec::new(),
        parts: BTreeMap::new(),
        inherit_default: None,
        inherit_variables: None,
    };
    for (key, value) in entries {
        let field = format!("{name}.{key}");
        match key {
            "extends" => {
                for item in r.list(value, &field)? {
                    if let Some(parent) = r.scalar(item, &field)? {
                        job.extends.push(parent.to_owned());
                    }
                }
            }
            "inherit" => {
                for (k, v) in r.map_or_empty(value, &field)? {
                    let at = format!("{field}.{k}");
                    let inherit = match v.text() {
                        Some("false") => Inherit::Nothing,
                        Some(_) if v.is_null() => Inherit::All,
                        Some("true") => Inherit::All,
                        _ => Inherit::Only(
                            r.list(v, &at)?
                                .into_iter()
                                .filter_map(|n| n.text().map(str::to_owned))
                                .collect(),
                        ),
                    };
                    match k {
                        "default" => job.inherit_default = Some(inherit),
                        "variables" => job.inherit_variables = Some(inherit),
                        _ => {}
                    }
                }
            }
            _ => keyword(r, key, value, name, &mut job.parts, literals)?,
        }
    }
    Ok(Some(job))
}

/// Reads one keyword of a job or of `default:` into `parts`.
fn keyword(
    r: &Reader<'_>,
    key: &str,
    value: &Node<'_>,
    scope: &str,
    parts: &mut BTreeMap<String, Part>,
    literals: &mut Vec<String>,
) -> Result<(), ConnectError> {
    let field = if scope.is_empty() {
        key.to_owned()
    } else {
        format!("{scope}.{key}")
    };
    match key {
        "variables" => {
            for (name, part) in variables(r, value, scope, literals)? {
                parts.insert(format!("variables.{name}"), part);
            }
        }
        "secrets" => {
            for (name, spec) in r.map_or_empty(value, &field)? {
                let at = format!("{field}.{name}");
                let Some(entries) = r.map(spec, &at)? else {
                    return Err(r.err(spec, &at, "expected a mapping, found null"));
                };
                let mut part = scan(spec, &at);
                part.secret = Some(external_secret(r, &entries, &at)?);
                parts.insert(format!("secrets.{name}"), part);
            }
        }
        "id_tokens" => {
            for (name, spec) in r.map_or_empty(value, &field)? {
                let at = format!("{field}.{name}");
                let Some(entries) = r.map(spec, &at)? else {
                    return Err(r.err(spec, &at, "expected a mapping, found null"));
                };
                let mut part = scan(spec, &at);
                for (k, v) in entries {
                    if k == "aud" {
                        for a in r.list(v, &format!("{at}.aud"))? {
                            if let Some(t) = r.scalar(a, &format!("{at}.aud"))? {
                                part.aud.push(t.to_owned());
                                part.oidc_clouds.extend(clouds_of_audience(t));
                            }
                        }
                    }
                }
                parts.insert(format!("id_tokens.{name}"), part);
            }
        }
        "environment" => {
            let mut part = scan(value, &field);
            part.environment = match &value.kind {
                Kind::Scalar(t, _) if !value.is_null() => Some(t.to_string()),
                _ => {
                    let mut name = None;
                    for (k, v) in r.map_or_empty(value, &field)? {
                        if k == "name" {
                            name = r.scalar(v, &format!("{field}.name"))?.map(str::to_owned);
                        }
                    }
                    name
                }
            };
            parts.insert(key.to_owned(), part);
        }
        "stage" => {
            let mut part = scan(value, &field);
            part.stage = r.scalar(value, &field)?.map(str::to_owned);
            parts.insert(key.to_owned(), part);
        }
        _ => {
            parts.insert(key.to_owned(), scan(value, &field));
        }
    }
    Ok(())
}

fn external_secret(
    r: &Reader<'_>,
    entries: &[(&str, &Node<'_>)],
    field: &str,
) -> Result<ExternalSecret, ConnectError> {
    let mut token = None;
    let mut found = None;
    for (k, v) in entries {
        let at = format!("{field}.{k}");
        match *k {
            "token" => {
                token = r
                    .scalar(v, &at)?
                    .and_then(|t| expr::gitlab_vars(t).into_iter().next());
            }
            "vault" => {
                let reference = match v.text() {
                    Some(t) => t.trim().to_owned(),
                    None => {
                        let mut path = String::new();
                        let mut field_name = String::new();
                        let mut engine = String::new();
                        for (vk, vv) in r.map_or_empty(v, &at)? {
                            let vat = format!("{at}.{vk}");
                            match vk {
                                "path" => path = r.scalar(vv, &vat)?.unwrap_or("").to_owned(),
                                "field" => {
                                    field_name = r.scalar(vv, &vat)?.unwrap_or("").to_owned()
                                }
                                "engine" => {
                                    for (ek, ev) in r.map_or_empty(vv, &vat)? {
                                        if ek == "path" {
                                            engine = r
                                                .scalar(ev, &format!("{vat}.path"))?
                                                .unwrap_or("")
                                                .to_owned();
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                        if engine.is_empty() {
                            format!("{path}/{field_name}")
                        } else {
                            format!("{path}/{field_name}@{engine}")
                        }
                    }
                };
                found = Some(("vault", reference));
            }
            "gcp_secret_manager" | "azure_key_vault" | "aws_secrets_manager" => {
                let mut reference = String::new();
                for (sk, sv) in r.map_or_empty(v, &at)? {
                    if matches!(sk, "name" | "secret_id") {
                        reference = r
                            .scalar(sv, &format!("{at}.{sk}"))?
                            .unwrap_or("")
                            .to_owned();
                    }
                }
                found = Some((*k, reference));
            }
            _ => {}
        }
    }
    let Some((provider, reference)) = found else {
        return Err(ConnectError::field(
            r.path,
            entries.first().map_or((0, 0), |(_, v)| v.pos()),
            field,
            "names no secret store (expected `vault`, `gcp_secret_manager`, `azure_key_vault` or `aws_secrets_manager`)",
        ));
    };
    Ok(ExternalSecret {
        provider: provider.to_owned(),
        reference,
        token,
    })
}

/// Collects the variable references and `!reference` tags under a node.
fn scan(node: &Node<'_>, field: &str) -> Part {
    let mut part = Part::default();
    let mut path = Vec::new();
    scan_into(node, &mut path, field, &mut part);
    part
}

fn scan_into<'a>(node: &'a Node<'_>, path: &mut Vec<Seg<'a>>, base: &str, part: &mut Part) {
    let field = || {
        let rest = yaml::render(path);
        if rest.is_empty() {
            base.to_owned()
        } else if rest.starts_with('[') {
            format!("{base}{rest}")
        } else {
            format!("{base}.{rest}")
        }
    };
    if node.has_local_tag("reference")
        && let Some(items) = node.items()
    {
        part.tag_refs.push(TagRef {
            path: items
                .iter()
                .filter_map(|n| n.text().map(str::to_owned))
                .collect(),
        });
        return;
    }
    match &node.kind {
        Kind::Scalar(t, _) => {
            for name in expr::gitlab_vars(t) {
                part.refs.push(VarRef {
                    name,
                    field: field(),
                    via: None,
                });
            }
            note_text(part, t);
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                scan_into(item, path, base, part);
                path.pop();
            }
        }
        Kind::Map(entries) => {
            for (k, v) in entries {
                path.push(Seg::Key(k.text().unwrap_or("?")));
                scan_into(v, path, base, part);
                path.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gl(text: &str) -> Result<GlFile, ConnectError> {
        let docs = yaml::load(Path::new(".gitlab-ci.yml"), text)?;
        file(Path::new(".gitlab-ci.yml"), ".gitlab-ci.yml", &docs)
    }

    #[test]
    fn reads_includes() {
        let f = gl("include:\n  - local: /ci/build.yml\n  - 'ci/test.yml'\n  - remote: https://example.com/x.yml\n    integrity: sha256-abc\n  - https://example.com/y.yml\n  - project: group/tools\n    ref: v1.2\n    file: [/a.yml, /b.yml]\n  - template: Jobs/SAST.gitlab-ci.yml\n  - component: gitlab.com/org/comp/job@1.0\njob: {script: [echo]}\n").unwrap();
        let got: Vec<(String, bool)> = f
            .includes
            .iter()
            .map(|i| (i.describe(), i.unpinned()))
            .collect();
        assert_eq!(
            got,
            [
                ("local:ci/build.yml".to_owned(), false),
                ("local:ci/test.yml".to_owned(), false),
                ("remote:https://example.com/x.yml".to_owned(), false),
                ("remote:https://example.com/y.yml".to_owned(), true),
                ("project:group/tools@v1.2:/a.yml".to_owned(), true),
                ("project:group/tools@v1.2:/b.yml".to_owned(), true),
                ("template:Jobs/SAST.gitlab-ci.yml".to_owned(), false),
                ("component:gitlab.com/org/comp/job@1.0".to_owned(), true),
            ]
        );
    }

    #[test]
    fn reads_jobs_by_part() {
        let f = gl("variables:\n  DEPLOY_USER: deployer\n  PLACEHOLDER_TOKEN: ''\n  AWS_SECRET_ACCESS_KEY: $PROD_AWS_SECRET\ndeploy:\n  stage: deploy\n  environment: {name: production, url: https://x}\n  id_tokens:\n    AWS_ID_TOKEN: {aud: https://sts.amazonaws.com}\n  secrets:\n    DB_PASSWORD:\n      vault: production/db/password@ops\n      token: $VAULT_ID_TOKEN\n  script:\n    - aws sts assume-role-with-web-identity --role-arn arn:aws:iam::123456789012:role/deployer\n    - echo ${DEPLOY_KEY}\n    - !reference [.setup, script]\n").unwrap();
        assert_eq!(f.variables["PLACEHOLDER_TOKEN"].def, Some(VarDef::Empty));
        let via = &f.variables["AWS_SECRET_ACCESS_KEY"].refs[0];
        assert_eq!(via.name, "PROD_AWS_SECRET");
        assert_eq!(via.via.as_deref(), Some("AWS_SECRET_ACCESS_KEY"));
        let job = &f.jobs[0];
        assert_eq!(job.parts["stage"].stage.as_deref(), Some("deploy"));
        assert_eq!(
            job.parts["environment"].environment.as_deref(),
            Some("production")
        );
        assert_eq!(
            job.parts["id_tokens.AWS_ID_TOKEN"].oidc_clouds,
            BTreeSet::from([Cloud::Aws])
        );
        let secret = job.parts["secrets.DB_PASSWORD"].secret.clone().unwrap();
        assert_eq!(secret.reference, "production/db/password@ops");
        assert_eq!(secret.token.as_deref(), Some("VAULT_ID_TOKEN"));
        let script = &job.parts["script"];
        assert_eq!(script.refs[0].name, "DEPLOY_KEY");
        assert_eq!(script.refs[0].field, "deploy.script[1]");
        assert_eq!(
            script.role_arns,
            ["arn:aws:iam::123456789012:role/deployer"]
        );
        assert_eq!(script.tag_refs[0].path, [".setup", "script"]);
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let cases = [
            (
                "deploy: [echo]\n",
                ".gitlab-ci.yml:1:9: deploy: a job must be a mapping, found a list",
            ),
            (
                "deploy:\n  variables:\n    X: [1]\n",
                ".gitlab-ci.yml:3:8: deploy.variables.X: expected a string or a mapping with `value`, found a list",
            ),
            (
                "deploy:\n  secrets:\n    X:\n      file: true\n",
                ".gitlab-ci.yml:4:13: deploy.secrets.X: names no secret store (expected `vault`, `gcp_secret_manager`, `azure_key_vault` or `aws_secrets_manager`)",
            ),
            (
                "- a\n",
                ".gitlab-ci.yml:1:1: a GitLab CI file must be a mapping, found a list",
            ),
            (
                "include: {local: [a]}\n",
                ".gitlab-ci.yml:1:18: include[0].local: expected a string, found a list",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(gl(text).unwrap_err().to_string(), want, "{text}");
        }
        // A hidden key may hold anything: it is where anchors live.
        assert!(gl(".versions: &v [1, 2]\njob: {script: [echo]}\n").is_ok());
        // A spec header precedes the configuration.
        let f = gl("spec:\n  inputs:\n    stage: {default: test}\n---\njob: {script: [echo]}\n")
            .unwrap();
        assert_eq!(f.jobs.len(), 1);
    }
}
