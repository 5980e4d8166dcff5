//! Names of the facts this connector adds to the shared vocabulary, and helpers that set facts
//! in a stable form (arrays sorted and free of duplicates, absent rather than empty).

use std::collections::BTreeSet;

use keyward_model::{Environment, Facts};
use serde::Serialize;
use serde_json::Value;

/// `string`: the cloud a static key belongs to (`aws`, `gcp`, `azure`).
pub const CLOUD: &str = "cloud";
/// `[string]`: third-party actions not pinned to a full commit SHA that run in a job
/// consuming the NHI.
pub const UNPINNED_ACTIONS: &str = "unpinned_actions";
/// `[string]`: first-party actions (`actions/*`, `github/*`, the repository's own owner) not
/// pinned to a full commit SHA that run in a job consuming the NHI.
pub const UNPINNED_FIRST_PARTY_ACTIONS: &str = "unpinned_first_party_actions";
/// `[string]`: the third-party actions or reusable workflows the secret is handed to.
pub const THIRD_PARTY_ACTIONS: &str = "third_party_actions";
/// `bool`: consumed in a workflow triggered by `pull_request_target` or `workflow_run`.
pub const PULL_REQUEST_TARGET: &str = "pull_request_target";
/// `[string]`: those workflows' files.
pub const PULL_REQUEST_TARGET_WORKFLOWS: &str = "pull_request_target_workflows";
/// `bool`: such a job checks out the pull request's (or triggering run's) head.
pub const CHECKS_OUT_PR_HEAD: &str = "checks_out_pr_head";
/// `bool`: only ever seen as a reusable workflow's declared secret with no caller in the run.
pub const WORKFLOW_CALL_SECRET: &str = "workflow_call_secret";
/// `[string]`: the raw GitHub or GitLab environment names of the consuming jobs.
pub const ENVIRONMENTS: &str = "environments";
/// `object`: the token's permissions: per `file` (the workflow's default) and per
/// `file#job` (what the job gets, through its callers for a called workflow):
/// `"write-all"`, `"read-all"`, `"unset"`, a map of scope to level, or an array of these when
/// callers differ.
pub const TOKEN_PERMISSIONS: &str = "token_permissions";
/// `[string]`: `file#job` of jobs whose token permissions are set neither on the job nor
/// the workflow, so the repository's (often broad) default applies.
pub const PERMISSIONS_UNSET: &str = "permissions_unset";
/// `[string]`: `file#job` of jobs that may mint OIDC ID tokens (`id-token: write`).
pub const ID_TOKEN_WRITE: &str = "id_token_write";
/// `[string]`: roles the pipelines assume through OIDC, as written (AWS role ARNs, GCP
/// service accounts or workload identity providers, Azure client ids).
pub const OIDC_ROLES: &str = "oidc_roles";
/// `[object]`: each job federating with a cloud: `job` (`file#job`), `cloud`, `role`.
pub const OIDC_FEDERATION: &str = "oidc_federation";
/// `[object]`: reusable-workflow calls with `secrets: inherit`: `job`, `uses`,
/// `third_party` (bool), `resolved` (bool: the called workflow was read in this run).
pub const SECRETS_INHERIT: &str = "secrets_inherit";
/// `[string]`: places where a credential is written inline in the file (`file: field`);
/// the value is never kept.
pub const LITERAL_SECRETS: &str = "literal_secrets";
/// `[object]`: GitLab ID tokens: `job`, `name`, `aud` (`[string]`).
pub const ID_TOKENS: &str = "id_tokens";
/// `[string]`: every `include:` of the pipeline (`local:…`, `remote:…`, `project:…`,
/// `template:…`, `component:…`).
pub const INCLUDES: &str = "includes";
/// `[string]`: includes from outside the repository, not fetched.
pub const REMOTE_INCLUDES: &str = "remote_includes";
/// `[string]`: includes that can change without the pipeline changing.
pub const UNPINNED_INCLUDES: &str = "unpinned_includes";
/// `[object]`: where a GitLab `secrets:` entry comes from: `provider`, `reference`, `token`.
pub const EXTERNAL_SOURCES: &str = "external_sources";

/// Sets a list fact when non-empty, sorted and without duplicates.
pub(crate) fn set_strings<'a>(
    facts: &mut Facts,
    key: &str,
    items: impl IntoIterator<Item = &'a String>,
) {
    let set: BTreeSet<&String> = items.into_iter().collect();
    if !set.is_empty() {
        facts.insert(
            key.to_owned(),
            Value::Array(set.into_iter().map(|s| Value::String(s.clone())).collect()),
        );
    }
}

/// Sets a list fact of objects when non-empty; `items` is already sorted.
pub(crate) fn set_objects<'a, T: Serialize + 'a>(
    facts: &mut Facts,
    key: &str,
    items: impl IntoIterator<Item = &'a T>,
) {
    let values: Vec<Value> = items
        .into_iter()
        .filter_map(|i| serde_json::to_value(i).ok())
        .collect();
    if !values.is_empty() {
        facts.insert(key.to_owned(), Value::Array(values));
    }
}

/// Sets a `true` fact when `cond` holds; never sets `false`, so a fact's absence reads as
/// "not seen".
pub(crate) fn set_true(facts: &mut Facts, key: &str, cond: bool) {
    if cond {
        facts.insert(key.to_owned(), Value::Bool(true));
    }
}

/// The environment a GitHub or GitLab environment's name stands for, by its words:
/// `prod`, `production-eu`, `staging`, `dev`, `qa`…
pub(crate) fn environment_of(name: &str) -> Option<Environment> {
    Environment::named_in(name)
}

/// The environment of an NHI from its consumers' environments: one when every consumer runs
/// in an environment that maps to it, else none.
pub(crate) fn common_environment<'a>(
    envs: impl IntoIterator<Item = Option<&'a str>>,
) -> Option<Environment> {
    let mut found = None;
    for env in envs {
        let e = environment_of(env?)?;
        match found {
            None => found = Some(e),
            Some(f) if f == e => {}
            Some(_) => return None,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_map_by_word() {
        assert_eq!(environment_of("production"), Some(Environment::Production));
        assert_eq!(environment_of("prod-eu"), Some(Environment::Production));
        assert_eq!(environment_of("Staging"), Some(Environment::Staging));
        assert_eq!(environment_of("review/$CI_COMMIT_REF_SLUG"), None);
        assert_eq!(environment_of("${{ inputs.environment }}"), None);
        assert_eq!(
            common_environment([Some("prod"), Some("production")]),
            Some(Environment::Production)
        );
        assert_eq!(common_environment([Some("prod"), None]), None);
        assert_eq!(common_environment([Some("prod"), Some("dev")]), None);
        assert_eq!(common_environment(std::iter::empty()), None);
    }

    #[test]
    fn facts_are_sorted_and_absent_when_empty() {
        let mut f = Facts::new();
        let items = ["b".to_owned(), "a".to_owned(), "b".to_owned()];
        set_strings(&mut f, "x", &items);
        set_strings(&mut f, "y", &[]);
        set_true(&mut f, "z", false);
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"x":["a","b"]}"#);
    }
}
