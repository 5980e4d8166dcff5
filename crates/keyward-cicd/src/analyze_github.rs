//! From GitHub workflows and actions to NHIs: one `ci_secret` per repository secret the
//! workflows use, and one `token` for the repository's `GITHUB_TOKEN`.
//!
//! A reusable workflow's jobs run once per way they can be started: directly by their own
//! triggers, or through each caller read in the same run, whose `secrets:` mapping (or
//! `secrets: inherit`) decides which repository secret a `secrets.<name>` inside stands for.

use std::collections::{BTreeMap, BTreeSet};

use keyward_connect::facts as shared;
use keyward_model::{DiscoveredNhi, NhiKind};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::expr::{self, Cloud, GhRef};
use crate::facts::{self as f, common_environment, set_objects, set_strings, set_true};
use crate::github::{
    Action, ActionRef, CallSecrets, Job, Perms, Ref, Slot, Step, Workflow, action_name, classify,
};

/// How deep reusable workflows may call each other (GitHub allows ten levels).
const MAX_CALL_DEPTH: usize = 10;
/// How deep local composite actions are followed.
const MAX_ACTION_DEPTH: usize = 8;
/// The most job contexts built, against call graphs that fan out combinatorially.
const MAX_CONTEXTS: usize = 10_000;

/// The events that run a workflow with secrets on behalf of a pull request from a fork.
const PRIVILEGED_EVENTS: &[&str] = &["pull_request_target", "workflow_run"];

/// One consumer of a secret: a job, where in it the secret is named, and how it is started.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct Consumer {
    kind: &'static str,
    name: String,
    workflow: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    workflow_name: Option<String>,
    job: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<String>,
    field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<String>,
    events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    called_by: Option<String>,
}

/// The token's summary of one workflow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct WorkflowSummary {
    kind: &'static str,
    name: String,
    workflow: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    workflow_name: Option<String>,
    events: Vec<String>,
    jobs: Vec<String>,
    explicit_jobs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct Federation {
    job: String,
    cloud: &'static str,
    role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct InheritCall {
    job: String,
    uses: String,
    third_party: bool,
    resolved: bool,
}

/// What one secret's references add up to.
#[derive(Debug, Default)]
struct SecretAcc {
    consumers: BTreeSet<Consumer>,
    clouds: BTreeSet<Cloud>,
    unpinned: BTreeSet<String>,
    unpinned_first: BTreeSet<String>,
    third_party: BTreeSet<String>,
    privileged_workflows: BTreeSet<String>,
    checks_out_head: bool,
    direct_uses: usize,
    param_uses: usize,
}

/// Who publishes an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    /// In this repository.
    Local,
    /// GitHub (`actions/*`, `github/*`) or the repository's own owner.
    First,
    /// Anyone else, Docker images included.
    Third,
}

/// One way a workflow's jobs run.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    wf: usize,
    /// The workflow whose trigger starts the chain.
    root: usize,
    depth: usize,
    /// The calling job and the caller's context, when called.
    caller: Option<(usize, usize, usize)>,
}

/// What one job runs, and the federation it can use over the ways it is started.
#[derive(Debug, Default)]
struct JobFacts {
    unpinned: BTreeSet<String>,
    unpinned_first: BTreeSet<String>,
    checks_out_head: bool,
    oidc: Vec<(Cloud, String)>,
}

/// What a secret name stands for in a context.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Token,
    Secret { name: String, param: bool },
}

struct Analysis<'a> {
    repository: &'a str,
    owner: Option<String>,
    workflows: &'a [&'a Workflow],
    actions: &'a [&'a Action],
    ctxs: Vec<Ctx>,
    /// Per workflow and job, the workflow a `uses:` calls when read in this run.
    calls: Vec<Vec<Option<usize>>>,
    job_facts: Vec<Vec<JobFacts>>,
    /// Per workflow and job, the distinct permissions its token gets over the ways it runs.
    job_perms: Vec<Vec<Vec<Perms>>>,
    warnings: Vec<String>,
}

/// The NHIs the workflows and actions show, and what is worth telling the user.
pub(crate) fn nhis(
    repository: &str,
    workflows: &[&Workflow],
    actions: &[&Action],
) -> (Vec<DiscoveredNhi>, Vec<String>) {
    if workflows.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut a = Analysis {
        repository,
        owner: repository
            .split_once('/')
            .map(|(o, _)| o.to_ascii_lowercase()),
        workflows,
        actions,
        ctxs: Vec::new(),
        calls: Vec::new(),
        job_facts: Vec::new(),
        job_perms: Vec::new(),
        warnings: Vec::new(),
    };
    a.calls = workflows
        .iter()
        .map(|w| {
            w.jobs
                .iter()
                .map(|j| j.uses.as_deref().and_then(|u| a.workflow_called(u)))
                .collect()
        })
        .collect();
    a.build_contexts();
    a.job_perms = a.job_perms();
    a.job_facts = workflows
        .iter()
        .enumerate()
        .map(|(w, wf)| {
            wf.jobs
                .iter()
                .enumerate()
                .map(|(j, job)| a.job_facts(job, &a.job_perms[w][j]))
                .collect()
        })
        .collect();
    let secrets = a.secrets();
    let mut out: Vec<DiscoveredNhi> = Vec::new();
    let oidc_clouds: BTreeSet<Cloud> = a
        .job_facts
        .iter()
        .flatten()
        .flat_map(|jf| jf.oidc.iter().map(|(c, _)| *c))
        .collect();
    for (name, acc) in secrets {
        out.push(secret_nhi(repository, &name, &acc, &oidc_clouds));
    }
    out.push(a.token_nhi());
    (out, a.warnings)
}

fn secret_nhi(
    repository: &str,
    name: &str,
    acc: &SecretAcc,
    oidc_clouds: &BTreeSet<Cloud>,
) -> DiscoveredNhi {
    let mut nhi = DiscoveredNhi::new(
        NhiKind::CiSecret,
        "github",
        format!("github:{repository}:secret:{name}"),
        name,
    );
    nhi.environment = common_environment(acc.consumers.iter().map(|c| c.environment.as_deref()));
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
            acc.clouds.iter().any(|c| oidc_clouds.contains(c)),
        );
    }
    set_strings(facts, f::UNPINNED_ACTIONS, &acc.unpinned);
    set_strings(facts, f::UNPINNED_FIRST_PARTY_ACTIONS, &acc.unpinned_first);
    set_true(facts, shared::THIRD_PARTY, !acc.third_party.is_empty());
    set_strings(facts, f::THIRD_PARTY_ACTIONS, &acc.third_party);
    set_true(
        facts,
        f::PULL_REQUEST_TARGET,
        !acc.privileged_workflows.is_empty(),
    );
    set_strings(
        facts,
        f::PULL_REQUEST_TARGET_WORKFLOWS,
        &acc.privileged_workflows,
    );
    set_true(facts, f::CHECKS_OUT_PR_HEAD, acc.checks_out_head);
    set_true(
        facts,
        f::WORKFLOW_CALL_SECRET,
        acc.direct_uses == 0 && acc.param_uses > 0,
    );
    nhi
}

/// The JSON form of a permission set.
fn perms_value(p: &Perms) -> Value {
    match p {
        Perms::Unset => Value::String("unset".into()),
        Perms::ReadAll => Value::String("read-all".into()),
        Perms::WriteAll => Value::String("write-all".into()),
        Perms::Map(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<String, Value>>(),
        ),
    }
}

/// The permission a job's token gets: the job's, else the workflow's.
fn effective<'p>(wf: &'p Workflow, job: &'p Job) -> &'p Perms {
    if job.permissions == Perms::Unset {
        &wf.permissions
    } else {
        &job.permissions
    }
}

fn privileged(events: &[String]) -> bool {
    events
        .iter()
        .any(|e| PRIVILEGED_EVENTS.contains(&e.as_str()))
}

/// What a step shows of federation with a cloud: the action, the inputs it is given, and no
/// static key beside them.
fn step_oidc(step: &Step) -> Option<(Cloud, String)> {
    let uses = action_name(step.uses.as_deref()?);
    let input = |k: &str| step.auth_inputs.get(k).filter(|v| !v.is_empty());
    match uses.as_str() {
        "aws-actions/configure-aws-credentials"
            if !step.auth_inputs.contains_key("aws-access-key-id") =>
        {
            input("role-to-assume").map(|r| (Cloud::Aws, r.clone()))
        }
        "google-github-actions/auth" if !step.auth_inputs.contains_key("credentials_json") => {
            let provider = input("workload_identity_provider")?;
            Some((
                Cloud::Gcp,
                input("service_account").unwrap_or(provider).clone(),
            ))
        }
        "azure/login" if !step.auth_inputs.contains_key("creds") => {
            input("client-id").map(|c| (Cloud::Azure, c.clone()))
        }
        _ => None,
    }
}

/// The cloud whose static key a reference's place marks (the key input of a cloud login, an
/// environment variable or reusable-workflow secret named like a key).
fn slot_cloud(slot: &Slot, step: Option<&Step>) -> Option<Cloud> {
    match slot {
        Slot::StepWith(input) => {
            let uses = action_name(step?.uses.as_deref()?);
            match (uses.as_str(), input.as_str()) {
                (
                    "aws-actions/configure-aws-credentials",
                    "aws-access-key-id" | "aws-secret-access-key",
                ) => Some(Cloud::Aws),
                ("google-github-actions/auth", "credentials_json")
                | ("google-github-actions/setup-gcloud", "service_account_key") => Some(Cloud::Gcp),
                ("azure/login", "creds") => Some(Cloud::Azure),
                _ => None,
            }
        }
        Slot::Env(name) | Slot::CallSecret(name) => expr::cloud_key_name(name),
        Slot::CallWith(_) | Slot::Other => None,
    }
}

impl Analysis<'_> {
    fn party(&self, r: &ActionRef) -> Party {
        match r {
            ActionRef::Local(_) => Party::Local,
            ActionRef::Docker { .. } => Party::Third,
            ActionRef::Remote { owner, .. } => {
                if owner == "actions" || owner == "github" || self.owner.as_ref() == Some(owner) {
                    Party::First
                } else {
                    Party::Third
                }
            }
        }
    }

    /// Whether a remote reference names this repository.
    fn is_this_repo(&self, repo: &str) -> bool {
        repo.eq_ignore_ascii_case(self.repository)
    }

    /// The workflow read in this run that a job's `uses:` calls.
    fn workflow_called(&self, uses: &str) -> Option<usize> {
        let path = match classify(uses) {
            ActionRef::Local(p) => p,
            ActionRef::Remote { repo, subpath, .. } if self.is_this_repo(&repo) => subpath,
            _ => return None,
        };
        if let Some(i) = self.workflows.iter().position(|w| w.display == path) {
            return Some(i);
        }
        // Files given one by one carry no directory: match on the file name when unique.
        let file = path.rsplit('/').next().unwrap_or(&path);
        let mut by_name = self
            .workflows
            .iter()
            .enumerate()
            .filter(|(_, w)| w.display.rsplit('/').next() == Some(file));
        match (by_name.next(), by_name.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    /// The composite action read in this run that a step's `uses:` names.
    fn action_used(&self, uses: &str) -> Option<&Action> {
        let dir = match classify(uses) {
            ActionRef::Local(p) => p,
            ActionRef::Remote { repo, subpath, .. } if self.is_this_repo(&repo) => subpath,
            _ => return None,
        };
        self.actions.iter().find(|a| a.dir == dir).copied()
    }

    /// Every `uses:` a step runs, through local composite actions.
    fn expand_uses(&self, uses: &str, depth: usize, out: &mut BTreeSet<String>) {
        // Each action is followed once, however many steps use it.
        if !out.insert(uses.to_owned()) || depth >= MAX_ACTION_DEPTH {
            return;
        }
        if let Some(action) = self.action_used(uses) {
            for s in &action.steps {
                if let Some(u) = &s.uses {
                    self.expand_uses(u, depth + 1, out);
                }
            }
        }
    }

    /// The permissions a job's token gets in context `c`: its own or its workflow's, else
    /// (for a called workflow) what the calling job gets.
    fn perms_in(&self, c: usize, j: usize) -> Perms {
        let ctx = self.ctxs[c];
        let wf = self.workflows[ctx.wf];
        let own = effective(wf, &wf.jobs[j]);
        match (own, ctx.caller) {
            (Perms::Unset, Some((_, caller_job, parent))) => self.perms_in(parent, caller_job),
            _ => own.clone(),
        }
    }

    fn job_perms(&self) -> Vec<Vec<Vec<Perms>>> {
        let mut out: Vec<Vec<Vec<Perms>>> = self
            .workflows
            .iter()
            .map(|w| vec![Vec::new(); w.jobs.len()])
            .collect();
        for c in 0..self.ctxs.len() {
            let w = self.ctxs[c].wf;
            for (j, slot) in out[w].iter_mut().enumerate() {
                let p = self.perms_in(c, j);
                if !slot.contains(&p) {
                    slot.push(p);
                }
            }
        }
        for (w, jobs) in out.iter_mut().enumerate() {
            for (j, slot) in jobs.iter_mut().enumerate() {
                if slot.is_empty() {
                    let wf = self.workflows[w];
                    slot.push(effective(wf, &wf.jobs[j]).clone());
                }
                slot.sort_by_key(|p| perms_value(p).to_string());
            }
        }
        out
    }

    fn job_facts(&self, job: &Job, perms: &[Perms]) -> JobFacts {
        let mut jf = JobFacts::default();
        let mut all = BTreeSet::new();
        if let Some(u) = &job.uses {
            all.insert(u.clone());
        }
        for s in &job.steps {
            if let Some(u) = &s.uses {
                self.expand_uses(u, 0, &mut all);
            }
            jf.checks_out_head |= s.checks_out_head;
        }
        for u in all {
            let r = classify(&u);
            let pinned = match &r {
                ActionRef::Local(_) => true,
                ActionRef::Docker { pinned, .. } | ActionRef::Remote { pinned, .. } => *pinned,
            };
            if pinned {
                continue;
            }
            match self.party(&r) {
                Party::Third => jf.unpinned.insert(u),
                Party::First => jf.unpinned_first.insert(u),
                Party::Local => false,
            };
        }
        if perms.iter().any(Perms::id_token_write) {
            jf.oidc = job.steps.iter().filter_map(step_oidc).collect();
        }
        jf
    }

    fn build_contexts(&mut self) {
        let n = self.workflows.len();
        let mut called = vec![false; n];
        for calls in &self.calls {
            for t in calls.iter().flatten() {
                called[*t] = true;
            }
        }
        let mut has_ctx = vec![false; n];
        for (w, wf) in self.workflows.iter().enumerate() {
            let own_trigger = wf.events.iter().any(|e| e != "workflow_call");
            if own_trigger || !called[w] {
                self.ctxs.push(Ctx {
                    wf: w,
                    root: w,
                    depth: 0,
                    caller: None,
                });
                has_ctx[w] = true;
            }
        }
        let mut i = 0;
        loop {
            while i < self.ctxs.len() {
                let c = self.ctxs[i];
                for (j, target) in self.calls[c.wf].iter().enumerate() {
                    let Some(t) = *target else { continue };
                    if c.depth + 1 >= MAX_CALL_DEPTH || self.in_chain(i, t) {
                        continue;
                    }
                    if self.ctxs.len() >= MAX_CONTEXTS {
                        self.warnings.push(format!(
                            "reusable workflows call each other in more than {MAX_CONTEXTS} ways; the rest are not followed"
                        ));
                        return;
                    }
                    self.ctxs.push(Ctx {
                        wf: t,
                        root: c.root,
                        depth: c.depth + 1,
                        caller: Some((c.wf, j, i)),
                    });
                    has_ctx[t] = true;
                }
                i += 1;
            }
            // Workflows only reachable through a cycle of calls run on their own too.
            let Some(w) = (0..n).find(|w| !has_ctx[*w]) else {
                break;
            };
            self.ctxs.push(Ctx {
                wf: w,
                root: w,
                depth: 0,
                caller: None,
            });
            has_ctx[w] = true;
        }
    }

    fn in_chain(&self, mut c: usize, wf: usize) -> bool {
        loop {
            let ctx = self.ctxs[c];
            if ctx.wf == wf {
                return true;
            }
            match ctx.caller {
                Some((_, _, parent)) => c = parent,
                None => return false,
            }
        }
    }

    /// What `secrets.<name>` stands for in context `c`.
    fn resolve(&self, name: &str, c: usize) -> Vec<Target> {
        let ctx = self.ctxs[c];
        let wf = self.workflows[ctx.wf];
        let Some((caller_wf, caller_job, parent)) = ctx.caller else {
            let declared = wf.call_secrets.as_ref().is_some_and(|d| d.contains(name));
            let only_called = wf.events.iter().all(|e| e == "workflow_call");
            return vec![Target::Secret {
                name: name.to_owned(),
                param: declared && only_called,
            }];
        };
        let job = &self.workflows[caller_wf].jobs[caller_job];
        match &job.call_secrets {
            CallSecrets::Inherit => self.resolve(name, parent),
            CallSecrets::Map(m) => m
                .get(name)
                .into_iter()
                .flatten()
                .flat_map(|r| match r {
                    GhRef::Token => vec![Target::Token],
                    GhRef::Secret(t) => self.resolve(t, parent),
                    GhRef::Dynamic => Vec::new(),
                })
                .collect(),
            CallSecrets::None => Vec::new(),
        }
    }

    /// The third-party actions a reference hands its secret to.
    fn third_party_of(&self, job: &Job, r: &Ref) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        match (r.step, &r.slot) {
            (Some(i), Slot::StepWith(_) | Slot::Env(_)) => {
                let Some(uses) = job.steps.get(i).and_then(|s| s.uses.as_deref()) else {
                    return out;
                };
                let aref = classify(uses);
                match self.party(&aref) {
                    Party::Third => {
                        out.insert(uses.to_owned());
                    }
                    Party::Local => {
                        if let Some(action) = self.action_used(uses) {
                            match &r.slot {
                                Slot::StepWith(input) => {
                                    self.flows(
                                        action,
                                        Some(input),
                                        0,
                                        &mut BTreeSet::new(),
                                        &mut out,
                                    );
                                }
                                _ => self.flows(action, None, 0, &mut BTreeSet::new(), &mut out),
                            }
                        }
                    }
                    Party::First => {}
                }
            }
            (None, Slot::CallSecret(_) | Slot::CallWith(_)) => {
                if let Some(uses) = &job.uses
                    && self.party(&classify(uses)) == Party::Third
                {
                    out.insert(uses.clone());
                }
            }
            _ => {}
        }
        out
    }

    /// The third-party actions inside a composite action that an input reaches (`None`: the
    /// step's environment, which every step inside sees).
    fn flows(
        &self,
        action: &Action,
        input: Option<&str>,
        depth: usize,
        seen: &mut BTreeSet<(String, Option<String>)>,
        out: &mut BTreeSet<String>,
    ) {
        // Each input of each action is followed once.
        if depth >= MAX_ACTION_DEPTH || !seen.insert((action.dir.clone(), input.map(str::to_owned)))
        {
            return;
        }
        for s in &action.steps {
            let Some(uses) = s.uses.as_deref() else {
                continue;
            };
            let mapped: Vec<&String> = match input {
                Some(i) => s
                    .with_inputs
                    .iter()
                    .filter(|(_, names)| names.contains(i))
                    .map(|(k, _)| k)
                    .collect(),
                None => s.with_inputs.keys().collect(),
            };
            let via_env = input.is_none_or(|i| s.env_inputs.contains(i));
            if mapped.is_empty() && !via_env {
                continue;
            }
            let aref = classify(uses);
            match self.party(&aref) {
                Party::Third => {
                    out.insert(uses.to_owned());
                }
                Party::Local => {
                    if let Some(inner) = self.action_used(uses) {
                        for k in mapped {
                            self.flows(inner, Some(k), depth + 1, seen, out);
                        }
                        if via_env {
                            self.flows(inner, None, depth + 1, seen, out);
                        }
                    }
                }
                Party::First => {}
            }
        }
    }

    fn secrets(&mut self) -> BTreeMap<String, SecretAcc> {
        let mut out: BTreeMap<String, SecretAcc> = BTreeMap::new();
        let mut dynamic = BTreeSet::new();
        for c in 0..self.ctxs.len() {
            let ctx = self.ctxs[c];
            let wf = self.workflows[ctx.wf];
            let root = self.workflows[ctx.root];
            let called_by = ctx.caller.map(|(cw, cj, _)| {
                format!(
                    "{}#{}",
                    self.workflows[cw].display, self.workflows[cw].jobs[cj].id
                )
            });
            for (j, job) in wf.jobs.iter().enumerate() {
                let jf = &self.job_facts[ctx.wf][j];
                // A called workflow gets none of the caller's workflow-level `env:`.
                let top: &[Ref] = if job.uses.is_some() {
                    &[]
                } else {
                    &wf.top_refs
                };
                for r in top.iter().chain(&job.refs) {
                    let (targets, original) = match &r.target {
                        GhRef::Token => (vec![Target::Token], None),
                        GhRef::Dynamic => {
                            dynamic.insert(format!("{}: {}", wf.display, r.field));
                            continue;
                        }
                        GhRef::Secret(s) => (self.resolve(s, c), Some(s.as_str())),
                    };
                    let step = r.step.and_then(|i| job.steps.get(i));
                    for t in targets {
                        let Target::Secret { name, param } = t else {
                            continue;
                        };
                        let acc = out.entry(name.clone()).or_default();
                        acc.consumers.insert(Consumer {
                            kind: "job",
                            name: format!("{}#{}", wf.display, job.id),
                            workflow: wf.display.clone(),
                            workflow_name: wf.name.clone(),
                            job: job.id.clone(),
                            step: step.and_then(|s| s.name.clone().or_else(|| s.uses.clone())),
                            field: r.field.clone(),
                            environment: job.environment.clone(),
                            events: root.events.clone(),
                            called_by: called_by.clone(),
                        });
                        if param {
                            acc.param_uses += 1;
                        } else {
                            acc.direct_uses += 1;
                        }
                        acc.clouds.extend(expr::cloud_key_name(&name));
                        acc.clouds.extend(original.and_then(expr::cloud_key_name));
                        acc.clouds.extend(slot_cloud(&r.slot, step));
                        acc.unpinned.extend(jf.unpinned.iter().cloned());
                        acc.unpinned_first.extend(jf.unpinned_first.iter().cloned());
                        acc.third_party.extend(self.third_party_of(job, r));
                        if privileged(&root.events) {
                            acc.privileged_workflows.insert(root.display.clone());
                            acc.checks_out_head |= jf.checks_out_head;
                        }
                    }
                }
            }
        }
        for d in dynamic {
            self.warnings.push(format!(
                "{d}: reads secrets by a computed name or as a whole; the secrets it reads are not attributed"
            ));
        }
        out
    }

    fn token_nhi(&mut self) -> DiscoveredNhi {
        let mut nhi = DiscoveredNhi::new(
            NhiKind::Token,
            "github",
            format!("github:{}:GITHUB_TOKEN", self.repository),
            "GITHUB_TOKEN",
        );
        let mut summaries = BTreeSet::new();
        let mut permissions = BTreeMap::new();
        let mut unset = BTreeSet::new();
        let mut id_token = BTreeSet::new();
        let mut observed = BTreeSet::new();
        let mut unpinned = BTreeSet::new();
        let mut unpinned_first = BTreeSet::new();
        let mut federation = BTreeSet::new();
        let mut inherit = BTreeSet::new();
        let mut literals = BTreeSet::new();
        let mut privileged_workflows = BTreeSet::new();
        let mut checks_out_head = false;
        for (w, wf) in self.workflows.iter().enumerate() {
            let top_token = wf.top_refs.iter().any(|r| r.target == GhRef::Token);
            let mut jobs: Vec<String> = wf.jobs.iter().map(|j| j.id.clone()).collect();
            jobs.sort();
            let mut explicit_jobs: Vec<String> = wf
                .jobs
                .iter()
                .filter(|j| {
                    (top_token && j.uses.is_none())
                        || j.refs.iter().any(|r| r.target == GhRef::Token)
                })
                .map(|j| j.id.clone())
                .collect();
            explicit_jobs.sort();
            summaries.insert(WorkflowSummary {
                kind: "workflow",
                name: wf.display.clone(),
                workflow: wf.display.clone(),
                workflow_name: wf.name.clone(),
                events: wf.events.clone(),
                jobs,
                explicit_jobs,
            });
            permissions.insert(wf.display.clone(), perms_value(&wf.permissions));
            let prt = privileged(&wf.events);
            if prt {
                privileged_workflows.insert(wf.display.clone());
            }
            literals.extend(
                wf.literal_secrets
                    .iter()
                    .map(|l| format!("{}: {l}", wf.display)),
            );
            for (j, job) in wf.jobs.iter().enumerate() {
                let key = format!("{}#{}", wf.display, job.id);
                let perms = &self.job_perms[w][j];
                let value = match perms.as_slice() {
                    [one] => perms_value(one),
                    many => Value::Array(many.iter().map(perms_value).collect()),
                };
                permissions.insert(key.clone(), value);
                for eff in perms {
                    match eff {
                        Perms::Unset => {
                            unset.insert(key.clone());
                        }
                        Perms::ReadAll => {
                            observed.insert("read-all".to_owned());
                        }
                        Perms::WriteAll => {
                            observed.insert("write-all".to_owned());
                        }
                        Perms::Map(m) => {
                            for (scope, level) in m {
                                if level != "none" {
                                    observed.insert(format!("{scope}:{level}"));
                                }
                            }
                        }
                    }
                    if eff.id_token_write() {
                        id_token.insert(key.clone());
                    }
                }
                let jf = &self.job_facts[w][j];
                unpinned.extend(jf.unpinned.iter().cloned());
                unpinned_first.extend(jf.unpinned_first.iter().cloned());
                checks_out_head |= prt && jf.checks_out_head;
                for (cloud, role) in &jf.oidc {
                    federation.insert(Federation {
                        job: key.clone(),
                        cloud: cloud.as_str(),
                        role: role.clone(),
                    });
                }
                if job.call_secrets == CallSecrets::Inherit
                    && let Some(uses) = &job.uses
                {
                    let resolved = self.calls[w][j].is_some();
                    let third_party = self.party(&classify(uses)) == Party::Third;
                    if !resolved {
                        self.warnings.push(format!(
                            "{key}: hands every secret to `{uses}` (`secrets: inherit`), which was not read; the secrets it uses are not attributed"
                        ));
                    }
                    inherit.insert(InheritCall {
                        job: key.clone(),
                        uses: uses.clone(),
                        third_party,
                        resolved,
                    });
                }
            }
        }
        nhi.observed_permissions = observed.into_iter().collect();
        let facts = &mut nhi.facts;
        set_objects(facts, shared::CONSUMERS, &summaries);
        facts.insert(
            f::TOKEN_PERMISSIONS.to_owned(),
            Value::Object(permissions.into_iter().collect()),
        );
        set_strings(facts, f::PERMISSIONS_UNSET, &unset);
        set_strings(facts, f::ID_TOKEN_WRITE, &id_token);
        let roles: BTreeSet<String> = federation.iter().map(|f| f.role.clone()).collect();
        set_strings(facts, f::OIDC_ROLES, &roles);
        set_objects(facts, f::OIDC_FEDERATION, &federation);
        set_strings(facts, f::UNPINNED_ACTIONS, &unpinned);
        set_strings(facts, f::UNPINNED_FIRST_PARTY_ACTIONS, &unpinned_first);
        set_objects(facts, f::SECRETS_INHERIT, &inherit);
        set_true(
            facts,
            f::PULL_REQUEST_TARGET,
            !privileged_workflows.is_empty(),
        );
        set_strings(
            facts,
            f::PULL_REQUEST_TARGET_WORKFLOWS,
            &privileged_workflows,
        );
        set_true(facts, f::CHECKS_OUT_PR_HEAD, checks_out_head);
        set_strings(facts, f::LITERAL_SECRETS, &literals);
        nhi
    }
}
