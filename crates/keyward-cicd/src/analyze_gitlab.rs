//! From GitLab CI files to NHIs: one `ci_secret` per project or group variable that looks
//! like a secret and the jobs use (and per `secrets:` entry fetched from a store), and one
//! `token` for the pipeline's `CI_JOB_TOKEN`.
//!
//! Each pipeline is its root file with its local includes merged in the order GitLab does
//! (included files first, the including file winning); each job is resolved through
//! `extends:`, `default:`, the global `variables:` and `!reference` tags before its
//! references are read.

use std::collections::{BTreeMap, BTreeSet};

use keyward_connect::facts as shared;
use keyward_model::{DiscoveredNhi, NhiKind};
use serde::Serialize;
use serde_json::Value;

use crate::expr::{self, Cloud};
use crate::facts::{self as f, common_environment, set_objects, set_strings, set_true};
use crate::gitlab::{
    ExternalSecret, GlFile, GlJob, Include, IncludeKind, Inherit, Part, VarDef, VarRef,
};

/// GitLab stops at eleven levels of `extends:`.
const MAX_EXTENDS_DEPTH: usize = 11;
/// GitLab stops at ten levels of `!reference`.
const MAX_REFERENCE_DEPTH: usize = 10;
/// The most parts `!reference` tags may bring into one job, against tags that fan out.
const MAX_REFERENCED_PARTS: usize = 10_000;
/// GitLab's own limit on nested includes.
const MAX_INCLUDE_DEPTH: usize = 150;

/// Predefined variables that are the job token under another name.
const JOB_TOKEN_NAMES: &[&str] = &["CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD"];
/// Keywords a job takes from `default:`.
const DEFAULT_KEYWORDS: &[&str] = &[
    "after_script",
    "artifacts",
    "before_script",
    "cache",
    "hooks",
    "id_tokens",
    "image",
    "interruptible",
    "retry",
    "services",
    "tags",
    "timeout",
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct Consumer {
    kind: &'static str,
    name: String,
    file: String,
    job: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage: Option<String>,
    field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct PipelineSummary {
    kind: &'static str,
    name: String,
    file: String,
    jobs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct IdToken {
    job: String,
    name: String,
    aud: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct Federation {
    job: String,
    cloud: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct Source {
    provider: String,
    reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl From<&ExternalSecret> for Source {
    fn from(s: &ExternalSecret) -> Self {
        Self {
            provider: s.provider.clone(),
            reference: s.reference.clone(),
            token: s.token.clone(),
        }
    }
}

#[derive(Debug, Default)]
struct VarAcc {
    consumers: BTreeSet<Consumer>,
    clouds: BTreeSet<Cloud>,
    sources: BTreeSet<Source>,
    remote_includes: BTreeSet<String>,
    unpinned_includes: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct TokenAcc {
    consumers: BTreeSet<Consumer>,
    pipelines: BTreeSet<PipelineSummary>,
    id_tokens: BTreeSet<IdToken>,
    federation: BTreeSet<Federation>,
    includes: BTreeSet<String>,
    remote_includes: BTreeSet<String>,
    unpinned_includes: BTreeSet<String>,
    literals: BTreeSet<String>,
}

/// One pipeline: a root file with its local includes merged.
#[derive(Debug, Default)]
struct Pipeline {
    root: String,
    variables: BTreeMap<String, Part>,
    default: BTreeMap<String, Part>,
    jobs: BTreeMap<String, GlJob>,
    includes: BTreeSet<Include>,
    literals: BTreeSet<String>,
    /// The files merged so far: a file included twice counts once.
    merged: BTreeSet<usize>,
}

/// A job after `extends:` and before the globals.
#[derive(Debug, Clone, Default)]
struct Resolved {
    parts: BTreeMap<String, Part>,
    inherit_default: Option<Inherit>,
    inherit_variables: Option<Inherit>,
}

/// The keyword a part belongs to: `variables` for `variables.X`.
fn keyword(key: &str) -> &str {
    key.split('.').next().unwrap_or(key)
}

/// The NHIs the GitLab files show, and what is worth telling the user.
pub(crate) fn nhis(repository: &str, files: &[&GlFile]) -> (Vec<DiscoveredNhi>, Vec<String>) {
    let mut warnings = Vec::new();
    if files.is_empty() {
        return (Vec::new(), warnings);
    }
    let included: BTreeSet<usize> = files
        .iter()
        .flat_map(|file| local_includes(files, file, &mut Vec::new()))
        .collect();
    let mut visited = BTreeSet::new();
    let mut vars: BTreeMap<String, VarAcc> = BTreeMap::new();
    let mut token = TokenAcc::default();
    let roots: Vec<usize> = (0..files.len())
        .filter(|i| !included.contains(i))
        .chain(0..files.len())
        .collect();
    for root in roots {
        if visited.contains(&root) {
            continue;
        }
        let mut p = Pipeline {
            root: files[root].display.clone(),
            ..Pipeline::default()
        };
        merge(
            files,
            root,
            &mut p,
            &mut visited,
            &mut Vec::new(),
            &mut warnings,
        );
        analyse(&p, &mut vars, &mut token, &mut warnings);
    }
    let mut out = Vec::new();
    let oidc: BTreeSet<&str> = token.federation.iter().map(|f| f.cloud).collect();
    for (name, acc) in vars {
        let mut nhi = DiscoveredNhi::new(
            NhiKind::CiSecret,
            "gitlab",
            format!("gitlab:{repository}:variable:{name}"),
            name,
        );
        nhi.environment =
            common_environment(acc.consumers.iter().map(|c| c.environment.as_deref()));
        let facts = &mut nhi.facts;
        set_objects(facts, shared::CONSUMERS, &acc.consumers);
        let envs: Vec<String> = acc
            .consumers
            .iter()
            .filter_map(|c| c.environment.clone())
            .collect();
        set_strings(facts, f::ENVIRONMENTS, &envs);
        if let Some(cloud) = acc.clouds.iter().next() {
            set_true(facts, shared::STATIC_CLOUD_KEY, true);
            facts.insert(
                f::CLOUD.to_owned(),
                Value::String(cloud.as_str().to_owned()),
            );
            set_true(
                facts,
                shared::FEDERATION_AVAILABLE,
                acc.clouds.iter().any(|c| oidc.contains(c.as_str())),
            );
        }
        set_objects(facts, f::EXTERNAL_SOURCES, &acc.sources);
        set_strings(facts, f::REMOTE_INCLUDES, &acc.remote_includes);
        set_strings(facts, f::UNPINNED_INCLUDES, &acc.unpinned_includes);
        out.push(nhi);
    }
    let mut nhi = DiscoveredNhi::new(
        NhiKind::Token,
        "gitlab",
        format!("gitlab:{repository}:CI_JOB_TOKEN"),
        "CI_JOB_TOKEN",
    );
    let facts = &mut nhi.facts;
    let consumers: Vec<Value> = token
        .consumers
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .chain(
            token
                .pipelines
                .iter()
                .filter_map(|p| serde_json::to_value(p).ok()),
        )
        .collect();
    facts.insert(shared::CONSUMERS.to_owned(), Value::Array(consumers));
    set_objects(facts, f::ID_TOKENS, &token.id_tokens);
    let roles: BTreeSet<String> = token
        .federation
        .iter()
        .filter_map(|f| f.role.clone())
        .collect();
    set_strings(facts, f::OIDC_ROLES, &roles);
    set_objects(facts, f::OIDC_FEDERATION, &token.federation);
    set_strings(facts, f::INCLUDES, &token.includes);
    set_strings(facts, f::REMOTE_INCLUDES, &token.remote_includes);
    set_strings(facts, f::UNPINNED_INCLUDES, &token.unpinned_includes);
    set_strings(facts, f::LITERAL_SECRETS, &token.literals);
    out.push(nhi);
    (out, warnings)
}

/// The files a file's local includes name, among those read.
fn local_includes(files: &[&GlFile], file: &GlFile, missing: &mut Vec<String>) -> Vec<usize> {
    let mut out = Vec::new();
    for inc in file
        .includes
        .iter()
        .filter(|i| i.kind == IncludeKind::Local)
    {
        let found: Vec<usize> = if inc.location.contains('*') {
            match globset::Glob::new(&inc.location) {
                Ok(g) => {
                    let m = g.compile_matcher();
                    (0..files.len())
                        .filter(|i| m.is_match(&files[*i].display))
                        .collect()
                }
                Err(_) => Vec::new(),
            }
        } else {
            (0..files.len())
                .filter(|i| files[*i].display == inc.location)
                .collect()
        };
        if found.is_empty() {
            missing.push(inc.location.clone());
        }
        out.extend(found);
    }
    out
}

/// Merges file `i` and (first) what it includes into `p`.
fn merge(
    files: &[&GlFile],
    i: usize,
    p: &mut Pipeline,
    visited: &mut BTreeSet<usize>,
    stack: &mut Vec<usize>,
    warnings: &mut Vec<String>,
) {
    if stack.contains(&i) || stack.len() >= MAX_INCLUDE_DEPTH || !p.merged.insert(i) {
        return;
    }
    visited.insert(i);
    stack.push(i);
    let file = files[i];
    let mut missing = Vec::new();
    for inc in local_includes(files, file, &mut missing) {
        merge(files, inc, p, visited, stack, warnings);
    }
    stack.pop();
    for m in missing {
        warnings.push(format!(
            "{}: includes `{m}`, which was not read; the jobs it defines are not seen",
            file.display
        ));
    }
    let outside: Vec<String> = file
        .includes
        .iter()
        .filter(|i| i.kind != IncludeKind::Local)
        .map(Include::describe)
        .collect();
    if !outside.is_empty() {
        warnings.push(format!(
            "{}: includes from outside the repository are not fetched ({}); the jobs they define are not seen",
            file.display,
            outside.join(", ")
        ));
    }
    p.includes.extend(file.includes.iter().cloned());
    p.literals.extend(
        file.literal_secrets
            .iter()
            .map(|l| format!("{}: {l}", file.display)),
    );
    for (k, v) in &file.variables {
        p.variables.insert(k.clone(), v.clone());
    }
    for (k, v) in &file.default {
        p.default.insert(k.clone(), v.clone());
    }
    for job in &file.jobs {
        match p.jobs.get_mut(&job.name) {
            Some(existing) => {
                for (k, v) in &job.parts {
                    existing.parts.insert(k.clone(), v.clone());
                }
                if !job.extends.is_empty() {
                    existing.extends.clone_from(&job.extends);
                }
                if job.inherit_default.is_some() {
                    existing.inherit_default.clone_from(&job.inherit_default);
                }
                if job.inherit_variables.is_some() {
                    existing
                        .inherit_variables
                        .clone_from(&job.inherit_variables);
                }
                existing.display.clone_from(&job.display);
            }
            None => {
                p.jobs.insert(job.name.clone(), job.clone());
            }
        }
    }
}

/// Resolves jobs through `extends:` once each.
struct Resolver<'p> {
    p: &'p Pipeline,
    memo: BTreeMap<String, Resolved>,
    stack: Vec<String>,
    notes: BTreeSet<String>,
}

impl<'p> Resolver<'p> {
    fn new(p: &'p Pipeline) -> Self {
        Self {
            p,
            memo: BTreeMap::new(),
            stack: Vec::new(),
            notes: BTreeSet::new(),
        }
    }

    /// A job resolved through `extends:` (parents first, later parents and the job winning).
    fn resolve(&mut self, name: &str) -> Option<Resolved> {
        if let Some(done) = self.memo.get(name) {
            return Some(done.clone());
        }
        let job = self.p.jobs.get(name)?;
        let mut out = Resolved::default();
        self.stack.push(name.to_owned());
        for parent in &job.extends {
            if self.stack.iter().any(|s| s == parent) {
                self.notes.insert(format!(
                    "{}: `{name}` extends `{parent}`, which extends it back",
                    job.display
                ));
                continue;
            }
            if self.stack.len() >= MAX_EXTENDS_DEPTH {
                self.notes.insert(format!(
                    "{}: `{name}` extends more than {MAX_EXTENDS_DEPTH} levels deep; the rest is not followed",
                    job.display
                ));
                break;
            }
            let Some(r) = self.resolve(parent) else {
                self.notes.insert(format!(
                    "{}: `{name}` extends `{parent}`, which was not read",
                    job.display
                ));
                continue;
            };
            out.parts.extend(r.parts);
            if r.inherit_default.is_some() {
                out.inherit_default = r.inherit_default;
            }
            if r.inherit_variables.is_some() {
                out.inherit_variables = r.inherit_variables;
            }
        }
        self.stack.pop();
        for (k, v) in &job.parts {
            out.parts.insert(k.clone(), v.clone());
        }
        if job.inherit_default.is_some() {
            out.inherit_default.clone_from(&job.inherit_default);
        }
        if job.inherit_variables.is_some() {
            out.inherit_variables.clone_from(&job.inherit_variables);
        }
        self.memo.insert(name.to_owned(), out.clone());
        Some(out)
    }

    /// The parts a `!reference` names, their own tags followed, at most `budget` of them.
    fn referenced(
        &mut self,
        path: &[String],
        depth: usize,
        budget: &mut usize,
        out: &mut Vec<Part>,
    ) {
        let (Some(target), Some(key)) = (path.first(), path.get(1)) else {
            return;
        };
        if depth >= MAX_REFERENCE_DEPTH || *budget == 0 {
            return;
        }
        let parts = if target == "default" {
            self.p.default.clone()
        } else if let Some(r) = self.resolve(target) {
            r.parts
        } else {
            self.notes.insert(format!(
                "{}: `!reference [{}]` names `{target}`, which was not read",
                self.p.root,
                path.join(", ")
            ));
            return;
        };
        let wanted = path.get(2).map(|sub| format!("{key}.{sub}"));
        for (k, part) in parts {
            let hit = match &wanted {
                Some(w) => &k == w,
                None => keyword(&k) == key,
            };
            if !hit || *budget == 0 {
                continue;
            }
            *budget -= 1;
            for t in &part.tag_refs {
                self.referenced(&t.path, depth + 1, budget, out);
            }
            out.push(part);
        }
    }
}

fn analyse(
    p: &Pipeline,
    vars: &mut BTreeMap<String, VarAcc>,
    token: &mut TokenAcc,
    warnings: &mut Vec<String>,
) {
    let mut resolver = Resolver::new(p);
    let remote: BTreeSet<String> = p
        .includes
        .iter()
        .filter(|i| i.kind != IncludeKind::Local)
        .map(Include::describe)
        .collect();
    let unpinned: BTreeSet<String> = p
        .includes
        .iter()
        .filter(|i| i.unpinned())
        .map(Include::describe)
        .collect();
    token
        .includes
        .extend(p.includes.iter().map(Include::describe));
    token.remote_includes.extend(remote.iter().cloned());
    token.unpinned_includes.extend(unpinned.iter().cloned());
    token.literals.extend(p.literals.iter().cloned());
    let mut job_names = Vec::new();
    for (name, job) in &p.jobs {
        if job.hidden() {
            continue;
        }
        job_names.push(name.clone());
        let Some(mut r) = resolver.resolve(name) else {
            continue;
        };
        let inherit_default = r.inherit_default.clone().unwrap_or(Inherit::All);
        let own: BTreeSet<String> = r.parts.keys().map(|k| keyword(k).to_owned()).collect();
        for (k, part) in &p.default {
            let kw = keyword(k);
            if DEFAULT_KEYWORDS.contains(&kw) && !own.contains(kw) && inherit_default.allows(kw) {
                r.parts.insert(k.clone(), part.clone());
            }
        }
        let inherit_vars = r.inherit_variables.clone().unwrap_or(Inherit::All);
        for (v, part) in &p.variables {
            let key = format!("variables.{v}");
            if inherit_vars.allows(v) && !r.parts.contains_key(&key) {
                r.parts.insert(key, part.clone());
            }
        }
        let mut parts: Vec<(String, Part)> = r.parts.clone().into_iter().collect();
        let mut budget = MAX_REFERENCED_PARTS;
        for (k, part) in &r.parts {
            for t in &part.tag_refs {
                let mut found = Vec::new();
                resolver.referenced(&t.path, 0, &mut budget, &mut found);
                parts.extend(found.into_iter().map(|f| (k.clone(), f)));
            }
        }
        let scope = Scope {
            name,
            job,
            resolved: &r,
            parts: &parts,
            remote: &remote,
            unpinned: &unpinned,
        };
        job_analysis(&scope, vars, token);
    }
    job_names.sort();
    token.pipelines.insert(PipelineSummary {
        kind: "pipeline",
        name: p.root.clone(),
        file: p.root.clone(),
        jobs: job_names,
    });
    warnings.extend(resolver.notes);
}

/// One job as resolved, with what its pipeline includes.
struct Scope<'a> {
    name: &'a str,
    job: &'a GlJob,
    resolved: &'a Resolved,
    /// Every part that counts for the job, `!reference` targets included.
    parts: &'a [(String, Part)],
    remote: &'a BTreeSet<String>,
    unpinned: &'a BTreeSet<String>,
}

fn job_analysis(s: &Scope<'_>, vars: &mut BTreeMap<String, VarAcc>, token: &mut TokenAcc) {
    let Scope {
        name,
        job,
        resolved: r,
        parts,
        remote,
        unpinned,
    } = *s;
    let job_key = format!("{}#{name}", job.display);
    let stage = r.parts.get("stage").and_then(|s| s.stage.clone());
    let environment = r
        .parts
        .get("environment")
        .and_then(|e| e.environment.clone());
    let consumer = |field: &str| Consumer {
        kind: "job",
        name: job_key.clone(),
        file: job.display.clone(),
        job: name.to_owned(),
        stage: stage.clone(),
        field: field.to_owned(),
        environment: environment.clone(),
    };
    // Names the file itself defines are not project variables, unless the definition only
    // passes the project variable of the same name through.
    let mut defined = BTreeSet::new();
    for (k, part) in &r.parts {
        if let Some(v) = k.strip_prefix("variables.") {
            let passes_through = part.refs.iter().any(|x| x.name == v);
            if matches!(part.def, Some(VarDef::Value | VarDef::Raw)) && !passes_through {
                defined.insert(v.to_owned());
            }
        } else if let Some(v) = k
            .strip_prefix("secrets.")
            .or_else(|| k.strip_prefix("id_tokens."))
        {
            defined.insert(v.to_owned());
        }
    }
    let mut job_clouds = BTreeSet::new();
    let mut roles = BTreeSet::new();
    let mut hinted = BTreeSet::new();
    for (k, part) in &r.parts {
        if let Some(token_name) = k.strip_prefix("id_tokens.") {
            let mut aud = part.aud.clone();
            aud.sort();
            aud.dedup();
            token.id_tokens.insert(IdToken {
                job: job_key.clone(),
                name: token_name.to_owned(),
                aud,
            });
            job_clouds.extend(part.oidc_clouds.iter().copied());
        }
        if let Some(secret_name) = k.strip_prefix("secrets.")
            && let Some(secret) = &part.secret
        {
            let acc = vars.entry(secret_name.to_owned()).or_default();
            acc.consumers
                .insert(consumer(&format!("{}.secrets.{secret_name}", name)));
            acc.sources.insert(Source::from(secret));
            acc.remote_includes.extend(remote.iter().cloned());
            acc.unpinned_includes.extend(unpinned.iter().cloned());
        }
    }
    let has_id_tokens = r.parts.keys().any(|k| k.starts_with("id_tokens."));
    for (_, part) in parts {
        roles.extend(part.role_arns.iter().cloned());
        hinted.extend(part.oidc_clouds.iter().copied());
        for VarRef {
            name: v,
            field,
            via,
        } in &part.refs
        {
            if defined.contains(v) {
                continue;
            }
            if JOB_TOKEN_NAMES.contains(&v.as_str()) {
                token.consumers.insert(consumer(field));
                continue;
            }
            if v.starts_with("CI_") || !expr::secret_like(v) {
                continue;
            }
            let acc = vars.entry(v.clone()).or_default();
            acc.consumers.insert(consumer(field));
            acc.clouds.extend(expr::cloud_key_name(v));
            acc.clouds
                .extend(via.as_deref().and_then(expr::cloud_key_name));
            acc.remote_includes.extend(remote.iter().cloned());
            acc.unpinned_includes.extend(unpinned.iter().cloned());
        }
    }
    if has_id_tokens {
        job_clouds.extend(hinted);
        for cloud in job_clouds {
            let cloud_roles: Vec<Option<String>> = if cloud == Cloud::Aws && !roles.is_empty() {
                roles.iter().cloned().map(Some).collect()
            } else {
                vec![None]
            };
            for role in cloud_roles {
                token.federation.insert(Federation {
                    job: job_key.clone(),
                    cloud: cloud.as_str(),
                    role,
                });
            }
        }
    }
}
