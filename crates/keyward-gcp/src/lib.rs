//! Google Cloud IAM discovery from files: service accounts, their keys, the roles they hold,
//! who may act as them, and federated workloads that hold roles directly.
//!
//! [`GcpFiles`] reads any mix of these, recognised by content, not by name (see
//! [`parse_gcp`], the pure parser a fuzz target calls):
//!
//! - Cloud Asset Inventory exports, as `gcloud asset export` writes them (JSON lines; `#`
//!   comment lines skipped; snake_case `asset_type`/`iam_policy` or camelCase
//!   `assetType`/`iamPolicy`), or as a JSON array (`gcloud asset list --format=json`):
//!   `iam.googleapis.com/ServiceAccount`, `ServiceAccountKey` and `Role` (custom roles)
//!   resources, projects and organizations, workloads that run as a service account
//!   (Compute instances and templates, GKE node pools, Cloud Functions, Cloud Run services),
//!   and IAM policies on any resource. Other asset types are skipped silently.
//! - `gcloud iam service-accounts list --format=json` and `gcloud iam service-accounts keys
//!   list --iam-account=… --format=json` (arrays, or the REST `{"accounts": …}` and
//!   `{"keys": …}` pages), and `gcloud asset search-all-iam-policies --format=json`.
//! - Credential JSON files. A service-account key file (`"type": "service_account"`) reports
//!   its account with a `private_key` credential whose id is the file's `private_key_id`; the
//!   private key itself is skipped unread. Impersonation (`impersonated_service_account`) and
//!   workload identity federation (`external_account`) configurations are noted on the
//!   account they impersonate (a key file as the impersonation's source is reported as
//!   such). User credentials (`authorized_user`, `external_account_authorized_user`), OAuth
//!   client secrets files and GDC Hosted key files are people's or non-IAM credentials: each
//!   yields a warning naming what it is, and no NHI.
//!
//! # What it reports
//!
//! One NHI per service account (provider `gcp`, kind `service_account`, external id its
//! email), seen in an inventory, a key listing, a policy binding, a workload or a credential
//! file: name is the email's local part (the display name is a fact, since display names
//! such as "Compute Engine default service account" repeat across projects), purpose its
//! description, status `disabled` or `active` when an inventory lists it (unknown
//! otherwise), supplier `Google` for Google-managed service agents. Credentials are its
//! user-managed keys (`private_key`, external id the key id, created at `validAfterTime`,
//! expiring at `validBeforeTime` unless that is in year 9999, which means never, `inactive`
//! when disabled); Google-managed (system) keys rotate themselves and are only counted.
//! Observed permissions are its role bindings as `ROLE on RESOURCE` (the full resource name
//! the policy is on), with ` (conditional)` when an IAM condition limits the binding;
//! inherited grants are not expanded to child resources.
//!
//! One NHI per federated workload that holds roles itself (kind `workload_identity`):
//! `principal://…/workloadIdentityPools/…`, `principalSet://…/workloadIdentityPools/…` and GKE
//! `serviceAccount:PROJECT.svc.id.goog[NS/KSA]` members, external id the member (without a
//! `serviceAccount:` prefix), name the part after the pool. A workload bound to a service
//! account with a role that lets it act as the account (`roles/iam.workloadIdentityUser`,
//! token creator, …) is that account's `trust` instead. Workforce pool principals are people.
//!
//! # Scope and completeness
//!
//! The scope is `gcp:organizations/ID` when the inputs hold exactly one organization's own
//! asset or IAM policy (an organization-level export); else `gcp:projects/ID` when every
//! project the inputs name (asset names, ancestors, project assets, accounts' `projectId`,
//! key names, key files) is the same one, numbers mapped to ids where a project asset or an
//! account row gives both; else `gcp:multiple`. [`GcpFiles::scope`] overrides it. A run
//! whose inputs name no project at all fails and asks for the scope.
//!
//! A run is complete when some input lists a population of service accounts: a gcloud
//! service-accounts listing, or an asset export with `ServiceAccount` or `Project`
//! resources. Key listings, policy exports and credential files alone are not complete: an
//! account they do not mention may still exist.
//!
//! # Facts
//!
//! Shared names from [`keyward_connect::facts`]:
//!
//! | name | type | meaning |
//! |---|---|---|
//! | `admin` | `bool` | holds `roles/owner` somewhere (present only when true) |
//! | `privileged_grants` | `[string]` | `ROLE on RESOURCE` for `roles/editor`, the service-account user, token creator, key admin and admin roles, `roles/iam.workloadIdentityUser`, `roles/iam.securityAdmin`, role admins, Resource Manager `*Admin` roles, every `roles/*.admin`, and custom roles that include `actAs`, token or key minting, or `*.setIamPolicy` permissions |
//! | `trust` | `[object]` | workloads that may act as it: `principal` (the member), `principal_type` `workload_identity`, `pool`, `role`, `subject_condition` (true for one principal or a KSA, or when an IAM condition limits the binding; false for a `principalSet` covering a pool or an attribute's values) and `conditions` (the IAM condition, when there is one) |
//! | `consumers` | `[object]` | workloads running as it: `kind` (`compute_instance`, `instance_template`, `gke_node_pool`, `cloud_function`, `cloud_run_service`) and `name` (the asset's full name, with `/nodePools/NAME` for a node pool) |
//! | `static_cloud_key` | `bool` | it has an active user-managed key, or a key file was found (present only when true) |
//! | `third_party` | `bool` | a user-managed or default account from a project the inputs do not list, judged only when the inputs include project assets, never for Google's service agents (present only when true) |
//!
//! This connector's own:
//!
//! | name | type | meaning |
//! |---|---|---|
//! | `bindings` | `[object]` | every role binding: `role`, `resource` and `condition` (`title`, `expression`) when there is one |
//! | `primitive_roles` | `[string]` | `ROLE on RESOURCE` for the basic roles `roles/owner`, `roles/editor`, `roles/viewer` |
//! | `impersonators` | `[object]` | members of the account's own IAM policy with a role that lets them act as it or mint its keys or tokens: `member` (as the policy writes it, `user:…`, `group:…`, `serviceAccount:…`) and `role` |
//! | `inventoried` | `bool` | an inventory (asset export or gcloud listing) lists the account itself; false when it is known only from bindings, keys, workloads or credential files |
//! | `google_managed` | `bool` | a Google-managed service agent (`service-N@gcp-sa-*.iam.gserviceaccount.com`, `N@cloudservices.gserviceaccount.com`, and the other agent domains) (present only when true) |
//! | `default_service_account` | `bool` | a default account Google creates (`N-compute@developer.gserviceaccount.com`, `P@appspot.gserviceaccount.com`, `N@cloudbuild.gserviceaccount.com`) (present only when true) |
//! | `display_name` | `string` | the display name |
//! | `unique_id` | `string` | the numeric unique id |
//! | `project` | `string` | the project it lives in (its `projectId`, or what its email says, a number mapped to an id when known) |
//! | `user_managed_keys` | `number` | how many user-managed keys are reported as credentials |
//! | `system_managed_keys` | `number` | how many Google-managed keys it has (not reported as credentials) |
//! | `key_never_expires` | `bool` | a user-managed key is valid until year 9999 (present only when true) |
//! | `key_file_found` | `bool` | a key file for it (holding a private key) is among the inputs (present only when true) |
//! | `credential_files` | `[object]` | credential configurations among the inputs that use it: `type` `impersonated_service_account` with `source` (the source account's email or credential type) and `delegates`, or `external_account` with `audience`, `subject_token_type` and `credential_source` (`file`, `url`, `aws`, `executable`) |
//! | `pool` | `string` | on a workload identity: its pool |
//! | `principal_set` | `bool` | on a workload identity: the member is a set of principals (present only when true) |

mod build;
mod json;
mod names;
mod parse;

use std::path::{Path, PathBuf};

use keyward_connect::{ConnectError, Connector, Discovery, Inputs};
use serde_json::json;

pub use build::{Merged, merge};
pub use parse::{GcpFile, Shape, parse_gcp};

/// The connector's name, as recorded in runs.
pub const CONNECTOR: &str = "gcp-files";
/// The source every NHI this connector reports belongs to.
pub const SOURCE: &str = "gcp-iam";

/// Reads Google Cloud IAM exports and credential files (see the crate's documentation).
#[derive(Debug, Clone, Default)]
pub struct GcpFiles {
    /// Files, or directories searched recursively for `*.json`, `*.jsonl`, `*.ndjson` and
    /// `*.dump` files (each possibly `.gz`).
    pub paths: Vec<PathBuf>,
    /// The scope to record instead of the one the inputs tell: a project id, `projects/ID`,
    /// `organizations/ID` (with or without a leading `gcp:`).
    pub scope: Option<String>,
}

impl GcpFiles {
    /// A connector over these paths, its scope told by the data.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Self { paths, scope: None }
    }

    /// Reads every input and merges them; what [`Connector::discover`] returns.
    pub fn read(&self) -> Result<Discovery, ConnectError> {
        if self.paths.is_empty() {
            return Err(ConnectError::Usage(
                "no Google Cloud input files given".into(),
            ));
        }
        let found = Inputs::find(&self.paths, accepts)?;
        if found.is_empty() {
            return Err(ConnectError::Usage(format!(
                "no Google Cloud export files (*.json, *.jsonl, *.ndjson, *.dump) under {}",
                self.paths
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut inputs = Inputs::new();
        let mut files = Vec::with_capacity(found.len());
        for path in &found {
            let file = inputs.read(path)?;
            files.push(parse_gcp(&file.path, &file.bytes)?);
        }
        let built = merge(files, self.scope.as_deref());
        let scope = built.scope.ok_or_else(|| {
            ConnectError::Usage(
                "cannot tell the Google Cloud project or organization from the inputs; give the scope (a project id or `organizations/ID`)".into(),
            )
        })?;
        Ok(Discovery {
            source: SOURCE.into(),
            scope,
            complete: built.complete,
            connector: CONNECTOR,
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs: inputs.into_records(),
            parameters: json!({
                "paths": self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "scope": self.scope,
            }),
            nhis: built.nhis,
            warnings: built.warnings,
        })
    }
}

impl Connector for GcpFiles {
    fn name(&self) -> &'static str {
        CONNECTOR
    }

    fn discover(&self) -> impl Future<Output = Result<Discovery, ConnectError>> + Send {
        std::future::ready(self.read())
    }
}

/// Whether a file found in a directory is one this connector reads.
fn accepts(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".json", ".jsonl", ".ndjson", ".dump"]
        .iter()
        .any(|ext| name.ends_with(ext))
}
