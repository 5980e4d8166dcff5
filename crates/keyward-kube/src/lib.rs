//! Kubernetes discovery from manifests: every service account, its effective RBAC, the
//! workloads that run as it and its long-lived token secrets.
//!
//! [`KubeManifests`] reads files and directories of manifests (`*.yaml`, `*.yml`, `*.json`,
//! gzipped or not): multi-document YAML, rendered Helm charts (`# Source:` comments,
//! comment-only and empty documents), `List` and typed lists (`RoleList`, …) with `items`.
//! Objects of kinds it does not read are counted in a warning. Malformed YAML or JSON, or a
//! field of the wrong type, fails the run naming the file, line and column (and the field
//! path); nothing partial is returned. Fields are typed as kubectl types them: booleans in
//! the YAML 1.1 spellings (`true`, `yes`, `on`, …), unquoted; merge keys (`<<`) applied.
//!
//! One NHI per ServiceAccount, kind `k8s_service_account`, provider `kubernetes`,
//! external id `<cluster>/<namespace>/<name>` (the form the audit-log connector uses), name
//! `<namespace>/<name>`. Objects that name no namespace are in the run's default namespace
//! (`default` unless given, as with `kubectl apply -n`). Tags are the labels; the owner is the
//! annotation `keyward.io/owner` or else `owner` when it reads as an email or `team:<name>`;
//! the purpose is the annotation `keyward.io/purpose`, else `description`, else
//! `kubernetes.io/description`; the environment is the annotation `keyward.io/environment`;
//! the creation time is `metadata.creationTimestamp`. A service account that workloads run as
//! but the manifests do not define is reported too (it exists in the cluster); a namespace's
//! `default` account only when a workload uses it by naming none. A token secret's account is
//! reported even when not defined, since the secret names it.
//!
//! RBAC is resolved as the API server does: RoleBindings and ClusterRoleBindings whose
//! subjects are the account (kind `ServiceAccount`, a RoleBinding's subject without a
//! namespace being in the binding's; or the user `system:serviceaccount:<ns>:<name>`) or a
//! group every account is in (`system:serviceaccounts`, `system:serviceaccounts:<ns>`,
//! `system:authenticated`); a RoleBinding to a ClusterRole grants its rules in the binding's
//! namespace; aggregated ClusterRoles get the rules of every ClusterRole their
//! `clusterRoleSelectors` match, nested. Roles every cluster has are known when the manifests
//! do not define them: `cluster-admin` (`*` on everything), `admin`, `edit`, `view` (built as
//! Kubernetes builds them, by aggregation, over a summary of the upstream
//! `system:aggregate-to-{admin,edit,view}` rules: view reads workloads, config maps, services
//! and events but not secrets; edit adds writing them, reading and writing secrets,
//! `pods/exec`, `pods/attach`, impersonating service accounts and creating their tokens; admin
//! adds Roles and RoleBindings), `system:auth-delegator` and the Role
//! `kube-system/extension-apiserver-authentication-reader`.
//!
//! `observed_permissions` holds one string per verb, API group, resource and object name
//! granted, sorted: `<verb> <group>/<resource>[<name>] <scope>`, the group `core` for the core
//! API group, `[<name>]` only when the rule names objects, the scope `cluster` (a
//! ClusterRoleBinding) or `ns:<namespace>` (a RoleBinding); non-resource URLs as
//! `<verb> url:<path> cluster`. For example `get core/secrets ns:argocd`,
//! `get coordination.k8s.io/leases[ingress-nginx-leader] ns:ingress-nginx`,
//! `* */* cluster`, `get url:/metrics cluster`.
//!
//! Long-lived tokens: each Secret of type `kubernetes.io/service-account-token` is one
//! credential of kind `token` on its account (annotation `kubernetes.io/service-account.name`),
//! external id `<cluster>/<namespace>/secret/<name>`. A token value in the manifest is never
//! kept, only noted.
//!
//! Facts on every NHI (shared names from [`keyward_connect::facts`] where they apply):
//!
//! | fact | JSON | meaning |
//! |---|---|---|
//! | `admin` | bool | a ClusterRoleBinding grants `*` verbs on `*` resources in `*` groups (cluster-admin or the like) |
//! | `wildcard_permissions` | [string] | the `observed_permissions` with `*` in the verb, group, resource or URL |
//! | `privileged_grants` | [string] | `<grant>[<names>] <scope>`, sorted; grants: `read-secrets` (get/list/watch secrets), `pods-exec` and `pods-attach` (create or get, which authorized WebSocket exec before Kubernetes 1.31), `impersonate` (users, groups, service accounts or uids), `escalate` and `bind` (on roles or clusterroles), `create-pods`, `create-workloads` (deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs, replicationcontrollers: each can run pods as any account of its namespace), `nodes-proxy` (any verb on `nodes/proxy`), `create-token` (`serviceaccounts/token`); `[<names>]` when the rule is restricted to named objects |
//! | `bindings` | [object] | the bindings that apply: `binding` (`<ns>/<name>` or a ClusterRoleBinding's `<name>`), `kind` (`RoleBinding`, `ClusterRoleBinding`), `role` (`Role/<name>`, `ClusterRole/<name>`), `scope` (`cluster`, `ns:<ns>`), `role_source` (`manifest`, `builtin`, `missing`: not found, its permissions unknown), `subject` (how it names the account: `ServiceAccount <ns>/<name>`, `User system:serviceaccount:…`, `Group system:serviceaccounts…`) |
//! | `consumers` | [object] | the workloads running as it: `kind` (`Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `ReplicationController`, `Job`, `CronJob`, `Pod`), `name` (a `generateName` prefix ends in `*`), `automount_token` (bool: whether its pods get the token mounted, the pod spec's `automountServiceAccountToken` else the account's) |
//! | `automount_token` | bool | the account's `automountServiceAccountToken` (true when absent, as in Kubernetes) |
//! | `automount_overridden` | bool | some consumer's pod spec sets `automountServiceAccountToken` against the account's |
//! | `defined_in_manifests` | bool | a ServiceAccount object defines it (false: only workloads or a token secret name it) |
//! | `long_lived_token_secrets` | [string] | names of its `kubernetes.io/service-account-token` Secrets |
//! | `token_value_in_manifest` | bool | present, true, when such a Secret carries `data.token` or `stringData.token` in the manifest |
//! | `implicit_default` | bool | present, true, on a `default` account that some workload uses by naming no account |
//!
//! What the model lacks is kept as facts (the automount setting, the consumers); nothing here
//! reads the cluster itself, so bindings to built-in groups that every cluster has (such as
//! `system:basic-user`) are not seen.

mod objects;
mod rbac;
mod resolve;
mod yaml;

pub use objects::{Manifests, parse_manifests};
pub use resolve::Resolved;

use std::path::{Path, PathBuf};

use keyward_connect::{ConnectError, Connector, Discovery, Inputs};
use serde_json::json;

/// The connector's name, as recorded in runs and observations.
pub const CONNECTOR: &str = "k8s-manifests";
/// The source its discoveries belong to.
pub const SOURCE: &str = "kubernetes";
/// The provider of the NHIs it reports.
pub const PROVIDER: &str = "kubernetes";

/// Reads Kubernetes manifests from files and directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeManifests {
    /// Files and directories to read; directories are walked for `*.yaml`, `*.yml` and
    /// `*.json` (also gzipped), a file given by name is read whatever its name.
    pub paths: Vec<PathBuf>,
    /// The cluster the manifests describe: the scope is `k8s:<cluster>`, external ids start
    /// with `<cluster>/`.
    pub cluster: String,
    /// The namespace of objects that name none (as with `kubectl apply -n`).
    pub namespace: String,
}

impl KubeManifests {
    /// Reads `paths` as the manifests of cluster `default`, objects without a namespace in
    /// `default`.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Self {
            paths,
            cluster: "default".to_owned(),
            namespace: "default".to_owned(),
        }
    }

    /// Reads every manifest and resolves it, synchronously (what [`Connector::discover`]
    /// does).
    pub fn run(&self) -> Result<Discovery, ConnectError> {
        if self.paths.is_empty() {
            return Err(ConnectError::Usage(
                "no manifests given: name files or directories".to_owned(),
            ));
        }
        for (what, value) in [("cluster", &self.cluster), ("namespace", &self.namespace)] {
            if value.is_empty() || value.contains('/') || value.chars().any(char::is_whitespace) {
                return Err(ConnectError::Usage(format!(
                    "`{value}` is not a valid {what} name (no `/`, no spaces, not empty)"
                )));
            }
        }
        let files = Inputs::find(&self.paths, is_manifest)?;
        let mut inputs = Inputs::new();
        let mut manifests = Manifests::new();
        for path in &files {
            let file = inputs.read(path)?;
            manifests.add(&file.path, &file.bytes)?;
        }
        let resolved = manifests.resolve(&self.cluster, &self.namespace);
        Ok(Discovery {
            source: SOURCE.to_owned(),
            scope: format!("k8s:{}", self.cluster),
            complete: true,
            connector: CONNECTOR,
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs: inputs.into_records(),
            parameters: json!({"cluster": self.cluster, "namespace": self.namespace}),
            nhis: resolved.nhis,
            warnings: resolved.warnings,
        })
    }
}

impl Connector for KubeManifests {
    fn name(&self) -> &'static str {
        CONNECTOR
    }

    async fn discover(&self) -> Result<Discovery, ConnectError> {
        self.run()
    }
}

/// Whether a file found in a directory is a manifest by its name.
fn is_manifest(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e))
}
