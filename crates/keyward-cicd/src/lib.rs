//! Discovery connector for CI/CD files: the secrets, tokens and OIDC federation that GitHub
//! Actions workflows and GitLab CI pipelines use.
//!
//! [`CiFilesConnector`] (connector `ci-files`) reads a repository's CI files from disk —
//! `.github/workflows/*.yml|yaml`, composite actions' `action.yml|yaml` (the repository root
//! and under `.github/actions/`), `.gitlab-ci.yml` and the local files it includes (remote,
//! project, template and component includes are never fetched: they are reported as facts).
//! It returns one [`Discovery`](keyward_connect::Discovery) with source `ci`, scope
//! `ci:<repository>` and `complete = true`: the files are the whole population of the
//! repository's CI identities. [`parse_file`] and [`analyze`] do the same from bytes in
//! memory, without touching the disk.
//!
//! # What becomes an NHI
//!
//! | NHI | kind | provider | external id | name |
//! |---|---|---|---|---|
//! | a secret a workflow names (`${{ secrets.NAME }}` anywhere, reusable-workflow `secrets:` mappings, what `secrets: inherit` hands to a workflow read in the run) | `ci_secret` | `github` | `github:<repository>:secret:<NAME>` | `NAME` (upper-cased, as GitHub stores it) |
//! | the workflows' `GITHUB_TOKEN` (one per repository, whenever a workflow is read) | `token` | `github` | `github:<repository>:GITHUB_TOKEN` | `GITHUB_TOKEN` |
//! | a GitLab variable a job uses whose name looks like a secret (contains `TOKEN`, `SECRET`, `PASSWORD`, `KEY`, `PASS`, `CREDENTIAL`, `AUTH` or `PRIVATE`; predefined `CI_*` excluded; names the file defines with a value excluded), and every `secrets:` entry a job fetches from Vault or a cloud secret manager | `ci_secret` | `gitlab` | `gitlab:<repository>:variable:<NAME>` | `NAME` |
//! | the pipeline's `CI_JOB_TOKEN` (also used as `CI_REGISTRY_PASSWORD`), whenever a GitLab file is read | `token` | `gitlab` | `gitlab:<repository>:CI_JOB_TOKEN` | `CI_JOB_TOKEN` |
//!
//! A secret used by jobs under a GitHub `environment:` keeps its repository-level id; the
//! environment is recorded on each consumer, and the NHI's `environment` is set when every
//! consuming job runs in an environment named like one (`prod`, `production`, `staging`,
//! `dev`, `qa`…, matched by word) and all agree. A reusable workflow's declared secret with no
//! caller in the run is reported under its own name with `workflow_call_secret`. OIDC roles
//! are not NHIs here (the cloud's connector discovers them); they are facts on the token.
//! No secret value is ever kept: CI files name secrets, and where one holds a credential
//! inline only the field's path is reported.
//!
//! # Facts
//!
//! Shared names ([`keyward_connect::facts`]): `consumers`, `third_party`, `static_cloud_key`,
//! `federation_available`. Arrays are sorted; a `true` fact is absent rather than `false`.
//!
//! On `ci_secret` (both providers unless marked):
//! - `consumers` `[object]`: one per place a job names the secret. GitHub: `kind` (`job`),
//!   `name` (`<workflow file>#<job id>`), `workflow` (the file), `workflow_name` (its `name:`,
//!   when set), `job`, `step` (the step's `name:` or else `uses:`, when in a step), `field`
//!   (the path in the file, `jobs.deploy.steps[2].with.password`), `environment` (the GitHub
//!   environment, when set), `events` (`[string]`, the triggers that start the job: the
//!   caller's for a called workflow), `called_by` (`<file>#<job>` of the calling job, for a
//!   reusable workflow run through a caller). GitLab: `kind` (`job`), `name`
//!   (`<file>#<job>`), `file`, `job`, `stage`, `field` (`deploy.script[1]`,
//!   `variables.AWS_SECRET_ACCESS_KEY`), `environment`.
//! - `environments` `[string]`: the consumers' environment names as written.
//! - `static_cloud_key` `bool`, `cloud` `string` (`aws`, `gcp`, `azure`; the first in that
//!   order when several): the secret is a static cloud key, by its name
//!   (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `GCP_SA_KEY`, `GOOGLE_CREDENTIALS`,
//!   `AZURE_CREDENTIALS`, `ARM_CLIENT_SECRET`, … anywhere in the name) or its use (the
//!   `aws-access-key-id`/`aws-secret-access-key` inputs of `aws-actions/configure-aws-credentials`,
//!   `credentials_json` of `google-github-actions/auth`, `creds` of `azure/login`, an
//!   environment variable, reusable-workflow secret or GitLab variable so named that it is
//!   assigned to).
//! - `federation_available` `bool`: on a static cloud key, when a job on the same platform in
//!   the repository federates with the same cloud through OIDC.
//! - `unpinned_actions` `[string]` (GitHub): third-party actions and reusable workflows not
//!   pinned to a full 40-hex commit SHA (`owner/repo@ref` as written, `docker://image:tag`)
//!   that run in a job consuming the secret, local composite actions followed.
//! - `unpinned_first_party_actions` `[string]` (GitHub): the same for `actions/*`,
//!   `github/*` and actions of the repository's own owner (the part of `repository` before
//!   `/`).
//! - `third_party` `bool`, `third_party_actions` `[string]` (GitHub): the secret is passed
//!   to a third-party action in that step's `with:` or `env:` (through local composite actions
//!   too), or to a third-party reusable workflow's `with:` or `secrets:`.
//! - `pull_request_target` `bool`, `pull_request_target_workflows` `[string]` (GitHub):
//!   consumed in a workflow triggered by `pull_request_target` or `workflow_run`, and which.
//! - `checks_out_pr_head` `bool` (GitHub): such a job checks out the pull request's head
//!   (`github.event.pull_request.head.sha`/`.ref`, `github.head_ref`, the triggering run's
//!   head) with `actions/checkout` or `git`/`gh` in a `run:`.
//! - `workflow_call_secret` `bool` (GitHub): seen only as a secret a reusable workflow
//!   declares, with no caller read in the run; callers elsewhere may map another secret to it.
//! - `external_sources` `[object]` (GitLab): for `secrets:` entries: `provider` (`vault`,
//!   `gcp_secret_manager`, `azure_key_vault`, `aws_secrets_manager`), `reference` (the path
//!   as written, `production/db/password@ops`), `token` (the ID token it authenticates with).
//! - `remote_includes`, `unpinned_includes` `[string]` (GitLab): as on the token below; any
//!   included configuration can read every variable.
//!
//! On the GitHub `token`:
//! - `consumers` `[object]`: one summary per workflow: `kind` (`workflow`), `name` and
//!   `workflow` (the file), `workflow_name`, `events`, `jobs` (all job ids), `explicit_jobs`
//!   (jobs naming `secrets.GITHUB_TOKEN` or `github.token`).
//! - `token_permissions` `object`: per workflow file (its top `permissions:`) and per
//!   `<file>#<job>` (what the job gets): `"write-all"`, `"read-all"`, `"unset"`, or a map
//!   of scope to `read`/`write`/`none`. A called workflow's job that sets none gets what its
//!   calling job gets; when callers read in the run grant different sets, the value is the
//!   array of them.
//! - `permissions_unset` `[string]`: `<file>#<job>` of jobs with no `permissions:` on the job
//!   or the workflow (nor, for a called workflow, on a caller), so the repository's default
//!   (broad on older repositories) applies.
//! - `id_token_write` `[string]`: jobs that may mint OIDC ID tokens.
//! - `oidc_roles` `[string]`: roles assumed through OIDC, as written (`role-to-assume` of
//!   `aws-actions/configure-aws-credentials`, `service_account` or
//!   `workload_identity_provider` of `google-github-actions/auth`, `client-id` of
//!   `azure/login`), in jobs with `id-token: write` and no static key beside.
//! - `oidc_federation` `[object]`: `job`, `cloud`, `role` for each of those.
//! - `unpinned_actions`, `unpinned_first_party_actions` `[string]`: over every job.
//! - `secrets_inherit` `[object]`: calls with `secrets: inherit`: `job`, `uses`,
//!   `third_party`, `resolved` (the called workflow was read and its secrets attributed).
//! - `pull_request_target`, `pull_request_target_workflows`, `checks_out_pr_head`: as above,
//!   over every workflow.
//! - `literal_secrets` `[string]`: `<file>: <field>` where a credential input or a
//!   secret-named environment variable holds a value written inline (never the value).
//! - `observed_permissions` (not a fact): every scope and level granted explicitly
//!   (`contents:write`, `id-token:write`, `write-all`, `read-all`).
//!
//! On the GitLab `token`:
//! - `consumers` `[object]`: jobs naming `$CI_JOB_TOKEN` or `$CI_REGISTRY_PASSWORD` (as on
//!   a variable), and one `{kind: "pipeline", name, file, jobs}` per pipeline root.
//! - `id_tokens` `[object]`: `job`, `name`, `aud` (`[string]`) of every `id_tokens:` entry.
//! - `oidc_roles` `[string]`, `oidc_federation` `[object]` (`job`, `cloud`, `role` when
//!   known): jobs with ID tokens whose audience or commands federate with a cloud
//!   (`sts.amazonaws.com`, `assume-role-with-web-identity`, `iam.googleapis.com`,
//!   workload identity, `api://AzureADTokenExchange`); AWS role ARNs written in the job.
//! - `includes` `[string]`: every include (`local:ci/build.yml`, `remote:<url>`,
//!   `project:<group/project>@<ref or HEAD>:<file>`, `template:<name>`,
//!   `component:<path>@<version>`); `remote_includes` those from outside the repository
//!   (not fetched); `unpinned_includes` those that can change without the pipeline changing
//!   (a project ref or component version that is not a full commit SHA, a URL without
//!   `integrity:`).
//! - `literal_secrets` `[string]`: `<file>: <field>` of secret-like variables the file
//!   defines with a literal value (never the value).
//!
//! # What the model lacks
//!
//! Where a secret is consumed, and by whom, is structured data with no field in
//! [`DiscoveredNhi`]: it lives in `consumers`. Likewise the
//! token's per-job permissions (`token_permissions`) beside `observed_permissions`.

mod analyze_github;
mod analyze_gitlab;
mod connector;
mod expr;
pub mod facts;
mod github;
mod gitlab;
mod yaml;

use std::path::Path;

use keyward_connect::{ConnectError, position_of};
use keyward_model::DiscoveredNhi;

pub use connector::{CONNECTOR, CiFilesConnector, SOURCE};

/// What sort of CI file a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A GitHub Actions workflow.
    GithubWorkflow,
    /// A GitHub action's metadata (`action.yml`).
    GithubAction,
    /// A GitLab CI file (`.gitlab-ci.yml` or an included file).
    GitlabCi,
}

/// One CI file, read and checked.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    inner: Parsed,
}

#[derive(Debug, Clone)]
enum Parsed {
    Workflow(github::Workflow),
    Action(github::Action),
    Gitlab(gitlab::GlFile),
}

impl ParsedFile {
    /// What sort of file it is.
    pub fn kind(&self) -> FileKind {
        match &self.inner {
            Parsed::Workflow(_) => FileKind::GithubWorkflow,
            Parsed::Action(_) => FileKind::GithubAction,
            Parsed::Gitlab(_) => FileKind::GitlabCi,
        }
    }

    /// The path facts show for it.
    pub fn display(&self) -> &str {
        match &self.inner {
            Parsed::Workflow(w) => &w.display,
            Parsed::Action(a) => &a.display,
            Parsed::Gitlab(g) => &g.display,
        }
    }

    /// A GitLab file's local includes, relative to the repository root (a pattern may hold
    /// `*`); empty for other files.
    pub fn local_includes(&self) -> Vec<String> {
        match &self.inner {
            Parsed::Gitlab(g) => g
                .includes
                .iter()
                .filter(|i| i.kind == gitlab::IncludeKind::Local)
                .map(|i| i.location.clone())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The kind a path names: under `.github/workflows/`, an `action.yml`, a `.gitlab-ci.yml`.
pub fn kind_from_path(path: &str) -> Option<FileKind> {
    let path = path.replace('\\', "/");
    let file = path.rsplit('/').next().unwrap_or(&path);
    let yaml = file.ends_with(".yml") || file.ends_with(".yaml");
    if !yaml {
        return None;
    }
    if matches!(file, "action.yml" | "action.yaml") {
        return Some(FileKind::GithubAction);
    }
    if path.contains(".github/workflows/") {
        return Some(FileKind::GithubWorkflow);
    }
    if file.ends_with(".gitlab-ci.yml") || file.ends_with(".gitlab-ci.yaml") {
        return Some(FileKind::GitlabCi);
    }
    None
}

/// Parses one CI file from memory. Its kind comes from the path (see [`kind_from_path`]),
/// else from its content (`on:` and `jobs:` make a workflow, `runs:` an action, `stages:`,
/// `include:` or a job with `script:` a GitLab file); `Ok(None)` when it is YAML but none of
/// these. Errors name `path` with line and column. Facts show the path as given.
pub fn parse_file(path: &Path, bytes: &[u8]) -> Result<Option<ParsedFile>, ConnectError> {
    let display = display_of(path);
    parse_as(None, path, &display, bytes)
}

/// The path as facts show it: `/`-separated, from `.github/` on when it has one.
fn display_of(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    match parts.iter().position(|p| p == ".github") {
        Some(i) => parts[i..].join("/"),
        None => parts.join("/"),
    }
}

/// Parses `bytes` as `kind` (or the kind the path or content shows), reporting errors against
/// `path` and showing `display` in facts.
pub(crate) fn parse_as(
    kind: Option<FileKind>,
    path: &Path,
    display: &str,
    bytes: &[u8],
) -> Result<Option<ParsedFile>, ConnectError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = position_of(bytes, e.valid_up_to());
        ConnectError::syntax(path, line, column, "not valid UTF-8")
    })?;
    let docs = yaml::load(path, text)?;
    let Some(kind) = kind
        .or_else(|| kind_from_path(display))
        .or_else(|| sniff(&docs))
    else {
        return Ok(None);
    };
    let inner = match kind {
        FileKind::GithubWorkflow => Parsed::Workflow(github::workflow(path, display, &docs)?),
        FileKind::GithubAction => Parsed::Action(github::action(path, display, &docs)?),
        FileKind::GitlabCi => Parsed::Gitlab(gitlab::file(path, display, &docs)?),
    };
    Ok(Some(ParsedFile { inner }))
}

/// The kind a file's content shows, from its first non-empty document's top-level keys.
fn sniff(docs: &[yaml::Node<'_>]) -> Option<FileKind> {
    let doc = docs.iter().find(|d| !d.is_null())?;
    let yaml::Kind::Map(entries) = &doc.kind else {
        return None;
    };
    let keys: Vec<&str> = entries.iter().filter_map(|(k, _)| k.text()).collect();
    if github::looks_like_workflow(&keys) {
        return Some(FileKind::GithubWorkflow);
    }
    if github::looks_like_action(&keys) {
        return Some(FileKind::GithubAction);
    }
    let top: Vec<(&str, &yaml::Node<'_>)> = entries
        .iter()
        .filter_map(|(k, v)| k.text().map(|t| (t, v)))
        .collect();
    gitlab::looks_like_gitlab(&top).then_some(FileKind::GitlabCi)
}

/// The NHIs a repository's parsed CI files show, sorted by external id, and warnings worth
/// showing the user (includes not read, `secrets: inherit` to workflows not read, secrets
/// read by computed names, credentials written inline). `repository` goes into every
/// external id (`acme/payments`).
pub fn analyze(repository: &str, files: &[ParsedFile]) -> (Vec<DiscoveredNhi>, Vec<String>) {
    let mut workflows = Vec::new();
    let mut actions = Vec::new();
    let mut gitlab_files = Vec::new();
    for f in files {
        match &f.inner {
            Parsed::Workflow(w) => workflows.push(w),
            Parsed::Action(a) => actions.push(a),
            Parsed::Gitlab(g) => gitlab_files.push(g),
        }
    }
    let (mut nhis, mut warnings) = analyze_github::nhis(repository, &workflows, &actions);
    let (gl, gl_warnings) = analyze_gitlab::nhis(repository, &gitlab_files);
    nhis.extend(gl);
    warnings.extend(gl_warnings);
    for f in files {
        let literals: &[String] = match &f.inner {
            Parsed::Workflow(w) => &w.literal_secrets,
            Parsed::Gitlab(g) => &g.literal_secrets,
            Parsed::Action(_) => &[],
        };
        for l in literals {
            warnings.push(format!(
                "{}: {l}: holds what looks like a credential written inline; move it to a secret (its value is not kept)",
                f.display()
            ));
        }
    }
    nhis.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    (nhis, warnings)
}

/// Parses and analyses files held in memory: each `(path, bytes)` as [`parse_file`] reads
/// it, files of no CI kind skipped with a warning. GitLab local includes are looked up among
/// the given files by path relative to the repository root. The entry point for fuzzing.
pub fn discover_bytes(
    repository: &str,
    files: &[(std::path::PathBuf, Vec<u8>)],
) -> Result<(Vec<DiscoveredNhi>, Vec<String>), ConnectError> {
    let mut parsed = Vec::new();
    let mut skipped = Vec::new();
    for (path, bytes) in files {
        match parse_file(path, bytes)? {
            Some(p) => parsed.push(p),
            None => skipped.push(format!(
                "{}: not a GitHub Actions workflow, action or GitLab CI file; skipped",
                path.display()
            )),
        }
    }
    let (nhis, mut warnings) = analyze(repository, &parsed);
    skipped.append(&mut warnings);
    Ok((nhis, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_paths_and_content() {
        assert_eq!(
            kind_from_path("repo/.github/workflows/ci.yml"),
            Some(FileKind::GithubWorkflow)
        );
        assert_eq!(
            kind_from_path(".github/actions/setup/action.yaml"),
            Some(FileKind::GithubAction)
        );
        assert_eq!(kind_from_path(".gitlab-ci.yml"), Some(FileKind::GitlabCi));
        assert_eq!(kind_from_path("ci/build.yml"), None);
        assert_eq!(kind_from_path(".github/workflows/README.md"), None);

        let p = |text: &str| {
            parse_file(Path::new("x.yml"), text.as_bytes())
                .unwrap()
                .map(|f| f.kind())
        };
        assert_eq!(p("on: push\njobs: {}\n"), Some(FileKind::GithubWorkflow));
        assert_eq!(p("runs: {using: node20}\n"), Some(FileKind::GithubAction));
        assert_eq!(p("build:\n  script: [make]\n"), Some(FileKind::GitlabCi));
        assert_eq!(p("apiVersion: v1\nkind: ServiceAccount\n"), None);
    }

    #[test]
    fn display_paths_start_at_dot_github() {
        assert_eq!(
            display_of(Path::new("/src/repo/.github/workflows/ci.yml")),
            ".github/workflows/ci.yml"
        );
        assert_eq!(display_of(Path::new("./ci/build.yml")), "ci/build.yml");
    }

    #[test]
    fn bad_utf8_names_the_position() {
        let err = parse_file(Path::new("w.yml"), b"on: push\njobs:\n  a\xff: {}\n").unwrap_err();
        assert_eq!(err.to_string(), "w.yml:3:4: not valid UTF-8");
    }
}
