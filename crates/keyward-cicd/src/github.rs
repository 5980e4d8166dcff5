//! GitHub Actions: workflows (`.github/workflows/*.yml`) and composite actions (`action.yml`),
//! read into what discovery needs: triggers, token permissions, jobs and steps, and every
//! reference to a secret or the workflow token with where it sits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use keyward_connect::ConnectError;

use crate::expr::{self, GhRef};
use crate::yaml::{self, Dialect, Kind, Node, Reader, Seg};

/// The `GITHUB_TOKEN` permissions a workflow or job sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Perms {
    /// Not set: the repository's default applies (broad on older repositories).
    Unset,
    /// `read-all`.
    ReadAll,
    /// `write-all`.
    WriteAll,
    /// An explicit map of scope to `read`, `write` or `none`.
    Map(BTreeMap<String, String>),
}

impl Perms {
    /// Whether the token may request an OIDC ID token.
    pub fn id_token_write(&self) -> bool {
        match self {
            Perms::WriteAll => true,
            Perms::Map(m) => m.get("id-token").is_some_and(|v| v == "write"),
            Perms::Unset | Perms::ReadAll => false,
        }
    }
}

/// Where, within its step or job, a reference sits; it decides what passing a secret there
/// means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Slot {
    /// A step's `with.<input>` (input lower-cased).
    StepWith(String),
    /// An `env.<NAME>` of a step, job or the workflow.
    Env(String),
    /// A reusable-workflow call's `secrets.<name>` (upper-cased).
    CallSecret(String),
    /// A reusable-workflow call's `with.<input>`.
    CallWith(String),
    /// Anywhere else (`run`, `if`, a container's credentials).
    Other,
}

/// One reference to a secret or the token.
#[derive(Debug, Clone)]
pub(crate) struct Ref {
    /// What it refers to.
    pub target: GhRef,
    /// The field path in the document (`jobs.build.steps[2].with.password`).
    pub field: String,
    /// The step's index, when inside a step.
    pub step: Option<usize>,
    /// Where within the step or job.
    pub slot: Slot,
}

/// How a reusable-workflow call hands secrets over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallSecrets {
    /// None passed.
    None,
    /// `secrets: inherit`.
    Inherit,
    /// `secrets: {param: ${{ secrets.NAME }}}`: per parameter (upper-cased), the secrets its
    /// value names.
    Map(BTreeMap<String, Vec<GhRef>>),
}

/// A step, with what discovery reads of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Step {
    /// `name:`.
    pub name: Option<String>,
    /// `uses:`.
    pub uses: Option<String>,
    /// `with:` inputs (lower-cased) whose values say how a cloud login authenticates
    /// (`role-to-assume`, `workload_identity_provider`, `creds`, …), as written. Only inputs
    /// named in [`AUTH_INPUTS`] are kept, none holding a secret value.
    pub auth_inputs: BTreeMap<String, String>,
    /// Whether it checks out the pull request's or triggering run's head.
    pub checks_out_head: bool,
}

/// The `with:` inputs kept on [`Step::auth_inputs`]: identifiers of roles and providers, and
/// whether a key input is present (its value is never kept: see [`KEY_INPUTS`]).
const AUTH_INPUTS: &[&str] = &[
    "role-to-assume",
    "workload_identity_provider",
    "service_account",
    "client-id",
];

/// `with:` inputs of cloud logins that take a static key; only their presence is kept.
pub(crate) const KEY_INPUTS: &[&str] = &[
    "aws-access-key-id",
    "aws-secret-access-key",
    "credentials_json",
    "creds",
    "service_account_key",
];

/// `with:` input names that take a credential, for spotting values written inline.
const CREDENTIAL_INPUTS: &[&str] = &[
    "aws-access-key-id",
    "aws-secret-access-key",
    "credentials_json",
    "creds",
    "service_account_key",
    "password",
    "token",
    "api-key",
    "api_key",
    "apikey",
    "private-key",
    "private_key",
    "client-secret",
    "client_secret",
];

/// A job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The job's id (its key under `jobs`).
    pub id: String,
    /// `permissions:` as set on the job.
    pub permissions: Perms,
    /// The GitHub environment's name (`environment:` or `environment.name`).
    pub environment: Option<String>,
    /// A reusable workflow it calls (`uses:`).
    pub uses: Option<String>,
    /// The secrets that call hands over.
    pub call_secrets: CallSecrets,
    /// Its steps.
    pub steps: Vec<Step>,
    /// Every reference in the job.
    pub refs: Vec<Ref>,
}

/// A workflow file.
#[derive(Debug, Clone)]
pub(crate) struct Workflow {
    /// The path shown in facts (`.github/workflows/release.yml`).
    pub display: String,
    /// `name:`.
    pub name: Option<String>,
    /// The trigger events, sorted.
    pub events: Vec<String>,
    /// `permissions:` at the top.
    pub permissions: Perms,
    /// The secrets a reusable workflow declares (`on.workflow_call.secrets`), upper-cased;
    /// `None` when it is not callable.
    pub call_secrets: Option<BTreeSet<String>>,
    /// References outside `jobs` (the top `env:`), seen by every job.
    pub top_refs: Vec<Ref>,
    /// Its jobs in document order.
    pub jobs: Vec<Job>,
    /// Field paths where a credential is written inline (never the value).
    pub literal_secrets: Vec<String>,
}

/// A composite (or other) action's `action.yml`.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    /// The path shown in facts.
    pub display: String,
    /// The directory `uses: ./<dir>` names, without `./` or a trailing `/`.
    pub dir: String,
    /// The composite's steps (empty for JavaScript and Docker actions).
    pub steps: Vec<ActionStep>,
}

/// A composite action's step.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionStep {
    /// `uses:`.
    pub uses: Option<String>,
    /// Per `with:` input (lower-cased), the action's own inputs its value names.
    pub with_inputs: BTreeMap<String, BTreeSet<String>>,
    /// The action's own inputs named in the step's `env:`.
    pub env_inputs: BTreeSet<String>,
}

/// Whether a file's top-level keys look like a workflow.
pub(crate) fn looks_like_workflow(keys: &[&str]) -> bool {
    keys.contains(&"jobs") && keys.contains(&"on")
}

/// Whether a file's top-level keys look like an action's metadata.
pub(crate) fn looks_like_action(keys: &[&str]) -> bool {
    keys.contains(&"runs")
}

/// The one document of a GitHub file; GitHub rejects more than one.
fn single_doc<'a, 'i>(
    r: &Reader<'_>,
    docs: &'a [Node<'i>],
    what: &str,
) -> Result<&'a Node<'i>, ConnectError> {
    let mut non_empty = docs.iter().filter(|d| !d.is_null());
    let Some(doc) = non_empty.next() else {
        return Err(ConnectError::syntax(
            r.path,
            1,
            1,
            format!("{what} is empty"),
        ));
    };
    if let Some(extra) = non_empty.next() {
        return Err(ConnectError::syntax(
            r.path,
            extra.line,
            extra.col,
            format!("{what} must hold one YAML document"),
        ));
    }
    if !matches!(doc.kind, Kind::Map(_)) {
        return Err(ConnectError::syntax(
            r.path,
            doc.line,
            doc.col,
            format!("{what} must be a mapping, found {}", doc.describe()),
        ));
    }
    Ok(doc)
}

/// Reads a workflow from its parsed documents.
pub(crate) fn workflow(
    path: &Path,
    display: &str,
    docs: &[Node<'_>],
) -> Result<Workflow, ConnectError> {
    let r = Reader {
        path,
        dialect: Dialect::Github,
    };
    let doc = single_doc(&r, docs, "a workflow")?;
    let top = r.map_or_empty(doc, "")?;
    let mut wf = Workflow {
        display: display.to_owned(),
        name: None,
        events: Vec::new(),
        permissions: Perms::Unset,
        call_secrets: None,
        top_refs: Vec::new(),
        jobs: Vec::new(),
        literal_secrets: Vec::new(),
    };
    let mut jobs_node = None;
    for (key, value) in &top {
        match *key {
            "name" => wf.name = r.scalar(value, "name")?.map(str::to_owned),
            "on" => triggers(&r, value, &mut wf)?,
            "permissions" => wf.permissions = permissions(&r, value, "permissions")?,
            "jobs" => jobs_node = Some(*value),
            _ => {}
        }
    }
    // Everything outside `jobs` and `on` that can hold an expression (`env`, `run-name`,
    // `concurrency`, `defaults`) is seen by every job.
    for (key, value) in &top {
        if matches!(*key, "jobs" | "on") {
            continue;
        }
        if *key == "env" {
            env_block(&r, value, "env")?;
        }
        let mut path = vec![Seg::Key(key)];
        collect_refs(value, &mut path, &mut wf.top_refs, &mut wf.literal_secrets);
    }
    let Some(jobs_node) = jobs_node else {
        return Err(ConnectError::field(
            path,
            doc.pos(),
            "jobs",
            "required field is missing",
        ));
    };
    let Some(jobs) = r.map(jobs_node, "jobs")? else {
        return Err(r.err(jobs_node, "jobs", "expected a mapping, found null"));
    };
    for (id, node) in jobs {
        let job = job(&r, id, node, &mut wf.literal_secrets)?;
        wf.jobs.push(job);
    }
    wf.literal_secrets.sort();
    wf.literal_secrets.dedup();
    Ok(wf)
}

/// Reads `on:`: an event name, a list of them, or a mapping of event to its filter.
fn triggers(r: &Reader<'_>, node: &Node<'_>, wf: &mut Workflow) -> Result<(), ConnectError> {
    let mut events = BTreeSet::new();
    if matches!(node.kind, Kind::Map(_)) {
        for (event, config) in r.map_or_empty(node, "on")? {
            events.insert(event.to_owned());
            if event == "workflow_call" {
                let mut declared = BTreeSet::new();
                for (k, v) in r.map_or_empty(config, "on.workflow_call")? {
                    if k == "secrets" {
                        for (name, _) in r.map_or_empty(v, "on.workflow_call.secrets")? {
                            declared.insert(name.to_ascii_uppercase());
                        }
                    }
                }
                wf.call_secrets = Some(declared);
            }
        }
    } else {
        for item in r.list(node, "on")? {
            let Some(event) = r.scalar(item, "on")? else {
                continue;
            };
            events.insert(event.to_owned());
            if event == "workflow_call" {
                wf.call_secrets = Some(BTreeSet::new());
            }
        }
    }
    wf.events = events.into_iter().collect();
    Ok(())
}

/// Reads `permissions:`.
fn permissions(r: &Reader<'_>, node: &Node<'_>, field: &str) -> Result<Perms, ConnectError> {
    if node.is_null() {
        return Ok(Perms::Unset);
    }
    if let Some(text) = node.text() {
        return match text {
            "read-all" => Ok(Perms::ReadAll),
            "write-all" => Ok(Perms::WriteAll),
            other => Err(r.err(
                node,
                field,
                format!("`{other}` is not a permission set (expected `read-all`, `write-all` or a mapping)"),
            )),
        };
    }
    let mut map = BTreeMap::new();
    for (scope, level) in r.map_or_empty(node, field)? {
        let at = format!("{field}.{scope}");
        let Some(text) = r.scalar(level, &at)? else {
            return Err(r.err(level, &at, "expected `read`, `write` or `none`, found null"));
        };
        if !matches!(text, "read" | "write" | "none") {
            let level_text = text;
            return Err(r.err(
                level,
                &at,
                format!(
                    "`{level_text}` is not a permission level (expected `read`, `write` or `none`)"
                ),
            ));
        }
        map.insert(scope.to_owned(), text.to_owned());
    }
    Ok(Perms::Map(map))
}

/// Checks an `env:` block's shape: a mapping, or an expression producing one.
fn env_block(r: &Reader<'_>, node: &Node<'_>, field: &str) -> Result<(), ConnectError> {
    if let Some(t) = node.text() {
        if node.is_null() || t.contains("${{") {
            return Ok(());
        }
        return Err(r.err(node, field, "expected a mapping, found a string"));
    }
    r.map(node, field).map(|_| ())
}

fn job(
    r: &Reader<'_>,
    id: &str,
    node: &Node<'_>,
    literals: &mut Vec<String>,
) -> Result<Job, ConnectError> {
    let base = format!("jobs.{id}");
    let Some(entries) = r.map(node, &base)? else {
        return Err(r.err(node, &base, "expected a mapping, found null"));
    };
    let mut job = Job {
        id: id.to_owned(),
        permissions: Perms::Unset,
        environment: None,
        uses: None,
        call_secrets: CallSecrets::None,
        steps: Vec::new(),
        refs: Vec::new(),
    };
    for (key, value) in &entries {
        let field = format!("{base}.{key}");
        match *key {
            "permissions" => job.permissions = permissions(r, value, &field)?,
            "environment" => job.environment = environment(r, value, &field)?,
            "uses" => job.uses = r.scalar(value, &field)?.map(|s| s.trim().to_owned()),
            "env" => env_block(r, value, &field)?,
            "with" => {
                r.map(value, &field)?;
            }
            "secrets" => job.call_secrets = call_secrets(r, value, &field)?,
            "steps" => {
                for (i, s) in r.list(value, &field)?.into_iter().enumerate() {
                    job.steps
                        .push(step(r, s, &format!("{field}[{i}]"), literals)?);
                }
            }
            _ => {}
        }
    }
    for (key, value) in &entries {
        let mut path = vec![Seg::Key("jobs"), Seg::Key(id), Seg::Key(key)];
        collect_refs(value, &mut path, &mut job.refs, literals);
    }
    Ok(job)
}

fn environment(
    r: &Reader<'_>,
    node: &Node<'_>,
    field: &str,
) -> Result<Option<String>, ConnectError> {
    if let Some(t) = node.text() {
        return Ok((!node.is_null()).then(|| t.to_owned()));
    }
    for (k, v) in r.map_or_empty(node, field)? {
        if k == "name" {
            return Ok(r.scalar(v, &format!("{field}.name"))?.map(str::to_owned));
        }
    }
    Ok(None)
}

fn call_secrets(r: &Reader<'_>, node: &Node<'_>, field: &str) -> Result<CallSecrets, ConnectError> {
    if node.text() == Some("inherit") {
        return Ok(CallSecrets::Inherit);
    }
    if let Some(t) = node.text()
        && !node.is_null()
    {
        return Err(r.err(
            node,
            field,
            format!("`{t}` is not a secrets hand-over (expected `inherit` or a mapping)"),
        ));
    }
    let mut map = BTreeMap::new();
    for (param, value) in r.map_or_empty(node, field)? {
        let at = format!("{field}.{param}");
        let text = r.scalar(value, &at)?.unwrap_or("");
        map.insert(param.to_ascii_uppercase(), expr::github_refs(text, false));
    }
    Ok(CallSecrets::Map(map))
}

fn step(
    r: &Reader<'_>,
    node: &Node<'_>,
    field: &str,
    literals: &mut Vec<String>,
) -> Result<Step, ConnectError> {
    let Some(entries) = r.map(node, field)? else {
        return Err(r.err(node, field, "expected a mapping, found null"));
    };
    let mut step = Step::default();
    let mut run = None;
    let mut with = Vec::new();
    for (key, value) in entries {
        let at = format!("{field}.{key}");
        match key {
            "name" => step.name = r.scalar(value, &at)?.map(str::to_owned),
            "uses" => step.uses = r.scalar(value, &at)?.map(|s| s.trim().to_owned()),
            "run" => run = r.scalar(value, &at)?,
            "env" => env_block(r, value, &at)?,
            "with" => with = r.map_or_empty(value, &at)?,
            _ => {}
        }
    }
    let uses = step.uses.as_deref().map(action_name).unwrap_or_default();
    for (input, value) in &with {
        let input = input.to_ascii_lowercase();
        let at = format!("{field}.with.{input}");
        let text = r.scalar(value, &at)?.unwrap_or("");
        if AUTH_INPUTS.contains(&input.as_str()) {
            step.auth_inputs
                .insert(input.clone(), text.trim().to_owned());
        } else if KEY_INPUTS.contains(&input.as_str()) && !text.trim().is_empty() {
            // Presence only: the value may be the key itself.
            step.auth_inputs.insert(input.clone(), String::new());
        }
        if CREDENTIAL_INPUTS.contains(&input.as_str()) && expr::plausible_literal_secret(text) {
            literals.push(at);
        }
        if uses == "actions/checkout" && matches!(input.as_str(), "ref" | "repository") {
            step.checks_out_head |= expr::names_pr_head(text);
        }
    }
    if let Some(run) = run {
        let lower = run.to_ascii_lowercase();
        let checks_out = [
            "git checkout",
            "git fetch",
            "git switch",
            "git pull",
            "gh pr checkout",
        ]
        .iter()
        .any(|c| lower.contains(c));
        step.checks_out_head |= checks_out && expr::names_pr_head(run);
    }
    Ok(step)
}

/// Collects every reference under `node`, classifying each by where it sits, and notes
/// credentials written inline in `env:` blocks.
fn collect_refs<'a>(
    node: &'a Node<'_>,
    path: &mut Vec<Seg<'a>>,
    out: &mut Vec<Ref>,
    literals: &mut Vec<String>,
) {
    yaml::walk_scalars(node, path, &mut |segs, _node, text| {
        let (step, rest) = step_of(segs).map_or((None, segs), |(i, rest)| (Some(i), rest));
        let whole = matches!(segs.last(), Some(Seg::Key("if")));
        let slot = slot_of(rest, step.is_some());
        if let Slot::Env(name) = &slot
            && (expr::secret_like(name) || expr::cloud_key_name(name).is_some())
            && expr::plausible_literal_secret(text)
        {
            literals.push(yaml::render(segs));
        }
        for target in expr::github_refs(text, whole) {
            out.push(Ref {
                target,
                field: yaml::render(segs),
                step,
                slot: slot.clone(),
            });
        }
    });
}

/// The step index and the path within the step, when `segs` is inside `jobs.<id>.steps[i]`.
fn step_of<'s, 'a>(segs: &'s [Seg<'a>]) -> Option<(usize, &'s [Seg<'a>])> {
    match segs {
        [
            Seg::Key("jobs"),
            Seg::Key(_),
            Seg::Key("steps"),
            Seg::Index(i),
            rest @ ..,
        ] => Some((*i, rest)),
        _ => None,
    }
}

/// Where a reference sits, from its path within the step (or within the job or workflow).
fn slot_of(rest: &[Seg<'_>], in_step: bool) -> Slot {
    let job_rel = match rest {
        [Seg::Key("jobs"), Seg::Key(_), tail @ ..] => tail,
        other => other,
    };
    match job_rel {
        [Seg::Key("with"), Seg::Key(input), ..] if in_step => {
            Slot::StepWith(input.to_ascii_lowercase())
        }
        [Seg::Key("with"), Seg::Key(input), ..] => Slot::CallWith(input.to_ascii_lowercase()),
        [Seg::Key("env"), Seg::Key(name), ..] => Slot::Env((*name).to_owned()),
        [Seg::Key("secrets"), Seg::Key(param), ..] if !in_step => {
            Slot::CallSecret(param.to_ascii_uppercase())
        }
        _ => Slot::Other,
    }
}

/// Reads an action's metadata (`action.yml`).
pub(crate) fn action(
    path: &Path,
    display: &str,
    docs: &[Node<'_>],
) -> Result<Action, ConnectError> {
    let r = Reader {
        path,
        dialect: Dialect::Github,
    };
    let doc = single_doc(&r, docs, "an action's metadata")?;
    let top = r.map_or_empty(doc, "")?;
    let dir = display
        .rsplit_once('/')
        .map_or("", |(d, _)| d)
        .trim_start_matches("./")
        .to_owned();
    let mut action = Action {
        display: display.to_owned(),
        dir,
        steps: Vec::new(),
    };
    let Some((_, runs)) = top.iter().find(|(k, _)| *k == "runs") else {
        return Err(ConnectError::field(
            path,
            doc.pos(),
            "runs",
            "required field is missing",
        ));
    };
    for (key, value) in r.map_or_empty(runs, "runs")? {
        if key != "steps" {
            continue;
        }
        for (i, s) in r.list(value, "runs.steps")?.into_iter().enumerate() {
            let field = format!("runs.steps[{i}]");
            let Some(entries) = r.map(s, &field)? else {
                return Err(r.err(s, &field, "expected a mapping, found null"));
            };
            let mut st = ActionStep::default();
            for (k, v) in entries {
                let at = format!("{field}.{k}");
                match k {
                    "uses" => st.uses = r.scalar(v, &at)?.map(|s| s.trim().to_owned()),
                    "with" => {
                        for (input, value) in r.map_or_empty(v, &at)? {
                            let text = r.scalar(value, &format!("{at}.{input}"))?.unwrap_or("");
                            st.with_inputs.insert(
                                input.to_ascii_lowercase(),
                                expr::input_refs(text).into_iter().collect(),
                            );
                        }
                    }
                    "env" => {
                        env_block(&r, v, &at)?;
                        let mut path = Vec::new();
                        yaml::walk_scalars(v, &mut path, &mut |_, _, text| {
                            st.env_inputs.extend(expr::input_refs(text));
                        });
                    }
                    _ => {}
                }
            }
            action.steps.push(st);
        }
    }
    Ok(action)
}

/// What a `uses:` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionRef {
    /// `./path` in the same repository, without `./` or a trailing `/`.
    Local(String),
    /// `docker://image`, pinned when by `@sha256:` digest.
    Docker {
        /// The reference as written.
        uses: String,
        /// Whether pinned by digest.
        pinned: bool,
    },
    /// `owner/repo[/path]@ref`.
    Remote {
        /// The reference as written.
        uses: String,
        /// `owner`, lower-cased.
        owner: String,
        /// `owner/repo`, lower-cased.
        repo: String,
        /// The path within the repository (a reusable workflow's file), if any.
        subpath: String,
        /// Whether the ref is a full commit SHA.
        pinned: bool,
    },
}

/// `owner/repo` of a `uses:`, lower-cased, or `""` for a local or Docker action.
pub(crate) fn action_name(uses: &str) -> String {
    match classify(uses) {
        ActionRef::Remote { repo, .. } => repo,
        _ => String::new(),
    }
}

/// Classifies a `uses:` value.
pub(crate) fn classify(uses: &str) -> ActionRef {
    let uses = uses.trim();
    if let Some(local) = uses.strip_prefix("./") {
        return ActionRef::Local(local.trim_end_matches('/').to_owned());
    }
    if uses == "." {
        return ActionRef::Local(String::new());
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        return ActionRef::Docker {
            uses: uses.to_owned(),
            pinned: image.contains("@sha256:"),
        };
    }
    let (name, git_ref) = uses.split_once('@').unwrap_or((uses, ""));
    let mut parts = name.splitn(3, '/');
    let owner = parts.next().unwrap_or("").to_ascii_lowercase();
    let repo_name = parts.next().unwrap_or("").to_ascii_lowercase();
    let subpath = parts.next().unwrap_or("").to_owned();
    ActionRef::Remote {
        uses: uses.to_owned(),
        repo: format!("{owner}/{repo_name}"),
        owner,
        subpath,
        pinned: expr::is_full_sha(git_ref),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(text: &str) -> Result<Workflow, ConnectError> {
        let docs = yaml::load(Path::new("w.yml"), text)?;
        workflow(Path::new("w.yml"), ".github/workflows/w.yml", &docs)
    }

    #[test]
    fn reads_triggers_permissions_and_refs() {
        let w = wf("on:\n  pull_request_target:\n  workflow_call:\n    secrets:\n      npm_token:\n        required: true\npermissions: {contents: read}\nenv:\n  TOP: ${{ secrets.TOP }}\njobs:\n  a:\n    environment: {name: production, url: x}\n    permissions: write-all\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - name: Publish\n        uses: some/action@main\n        with:\n          token: ${{ secrets.NPM_TOKEN }}\n        env:\n          GH: ${{ github.token }}\n").unwrap();
        assert_eq!(wf_events(&w), ["pull_request_target", "workflow_call"]);
        assert_eq!(
            w.call_secrets,
            Some(BTreeSet::from(["NPM_TOKEN".to_owned()]))
        );
        assert_eq!(
            w.permissions,
            Perms::Map(BTreeMap::from([("contents".into(), "read".into())]))
        );
        assert_eq!(w.top_refs[0].field, "env.TOP");
        assert_eq!(w.top_refs[0].slot, Slot::Env("TOP".into()));
        let a = &w.jobs[0];
        assert_eq!(a.permissions, Perms::WriteAll);
        assert_eq!(a.environment.as_deref(), Some("production"));
        assert!(a.steps[0].checks_out_head);
        assert_eq!(a.refs.len(), 2);
        assert_eq!(a.refs[0].field, "jobs.a.steps[1].with.token");
        assert_eq!(a.refs[0].slot, Slot::StepWith("token".into()));
        assert_eq!(a.refs[0].step, Some(1));
        assert_eq!(a.refs[1].target, GhRef::Token);
        assert_eq!(a.refs[1].slot, Slot::Env("GH".into()));
    }

    fn wf_events(w: &Workflow) -> Vec<&str> {
        w.events.iter().map(String::as_str).collect()
    }

    #[test]
    fn event_forms() {
        assert_eq!(wf_events(&wf("on: push\njobs: {}\n").unwrap()), ["push"]);
        assert_eq!(
            wf_events(&wf("on: [push, workflow_call]\njobs: {}\n").unwrap()),
            ["push", "workflow_call"]
        );
    }

    #[test]
    fn wrong_shapes_are_errors_naming_the_field() {
        let cases = [
            ("on: push\n", "w.yml:1:1: jobs: required field is missing"),
            (
                "on: push\njobs: [a]\n",
                "w.yml:2:7: jobs: expected a mapping, found a list",
            ),
            (
                "on: push\njobs:\n  a:\n    steps: {x: 1}\n",
                "w.yml:4:12: jobs.a.steps: expected a list, found a mapping",
            ),
            (
                "on: push\njobs:\n  a:\n    steps:\n      - with: [1]\n",
                "w.yml:5:15: jobs.a.steps[0].with: expected a mapping, found a list",
            ),
            (
                "on: push\npermissions: all\njobs: {}\n",
                "w.yml:2:14: permissions: `all` is not a permission set (expected `read-all`, `write-all` or a mapping)",
            ),
            (
                "on: push\njobs:\n  a:\n    permissions: {contents: admin}\n",
                "w.yml:4:29: jobs.a.permissions.contents: `admin` is not a permission level (expected `read`, `write` or `none`)",
            ),
            (
                "on: push\njobs:\n  a:\n    uses: ./x.yml\n    secrets: all\n",
                "w.yml:5:14: jobs.a.secrets: `all` is not a secrets hand-over (expected `inherit` or a mapping)",
            ),
            (
                "on: push\njobs: {}\n---\non: push\n",
                "w.yml:4:1: a workflow must hold one YAML document",
            ),
            (
                "just text\n",
                "w.yml:1:1: a workflow must be a mapping, found a string",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(wf(text).unwrap_err().to_string(), want, "{text}");
        }
    }

    #[test]
    fn classifies_uses() {
        assert_eq!(
            classify("./.github/actions/x/"),
            ActionRef::Local(".github/actions/x".into())
        );
        assert!(matches!(
            classify("docker://alpine@sha256:abc"),
            ActionRef::Docker { pinned: true, .. }
        ));
        assert!(matches!(
            classify("docker://alpine:3"),
            ActionRef::Docker { pinned: false, .. }
        ));
        let ActionRef::Remote {
            repo,
            subpath,
            pinned,
            ..
        } = classify("Slsa-Framework/slsa-github-generator/.github/workflows/g.yml@v2.1.0")
        else {
            panic!()
        };
        assert_eq!(repo, "slsa-framework/slsa-github-generator");
        assert_eq!(subpath, ".github/workflows/g.yml");
        assert!(!pinned);
        assert!(matches!(
            classify("actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"),
            ActionRef::Remote { pinned: true, .. }
        ));
    }

    #[test]
    fn reads_composite_actions() {
        let text = "name: setup\ninputs:\n  token: {required: true}\nruns:\n  using: composite\n  steps:\n    - uses: third/party@v1\n      with:\n        api-token: ${{ inputs.token }}\n    - run: echo\n      shell: bash\n      env:\n        T: ${{ inputs.other }}\n";
        let docs = yaml::load(Path::new("a.yml"), text).unwrap();
        let a = action(
            Path::new("a.yml"),
            ".github/actions/setup/action.yml",
            &docs,
        )
        .unwrap();
        assert_eq!(a.dir, ".github/actions/setup");
        assert_eq!(a.steps[0].uses.as_deref(), Some("third/party@v1"));
        assert_eq!(
            a.steps[0].with_inputs["api-token"],
            BTreeSet::from(["token".to_owned()])
        );
        assert_eq!(a.steps[1].env_inputs, BTreeSet::from(["other".to_owned()]));
    }
}
