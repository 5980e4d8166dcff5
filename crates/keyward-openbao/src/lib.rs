//! OpenBao (and Vault) discovery over the HTTP API: AppRole roles with their secret ids,
//! tokens, and KV version 2 secrets, with what their policies grant.
//!
//! [`OpenBaoApi`] (connector `openbao-api`, feature `api`, on by default) reads a live server;
//! [`parse_snapshot`] runs the same walk on recorded responses (connector
//! `openbao-snapshot`), for tests, fuzzing and offline review. Both report source `openbao`,
//! provider `openbao`, and `complete = true`: a run reads every role, token accessor and KV
//! secret of its scope. Nothing is written to the server; secret values are never read (KV
//! data endpoints are never called, and of token lookups only the accessor and properties
//! are kept, never the token).
//!
//! API paths read, in this order (all below `/v1/`, relative to the namespace when one is set;
//! `LIST` is sent as `GET …?list=true`):
//!
//! | request | what for |
//! |---|---|
//! | `GET sys/health?standbyok=true&perfstandbyok=true` (root namespace, no token) | version, cluster name, server clock |
//! | `GET sys/auth` | auth methods: AppRole mounts, the identity string |
//! | `GET sys/mounts` | secrets engines: KV version 2 mounts |
//! | `LIST auth/<mount>/role` | AppRole roles |
//! | `GET auth/<mount>/role/<role>` | a role's settings and policies |
//! | `LIST auth/<mount>/role/<role>/secret-id` | accessors of its secret ids |
//! | `POST auth/<mount>/role/<role>/secret-id-accessor/lookup` | a secret id's creation and expiry |
//! | `LIST auth/token/accessors` | token accessors (needs `sudo`) |
//! | `POST auth/token/lookup-accessor` | a token's properties (never its id) |
//! | `LIST <kv mount>/metadata/<folder>` | KV version 2 secrets, recursively |
//! | `GET <kv mount>/metadata/<path>` | a secret's versions and custom metadata (never its value) |
//! | `GET sys/policies/acl/<policy>` | each policy named by a role or token, except `root` |
//!
//! Scope: `openbao:<cluster>`, where `<cluster>` is the `cluster_name` that `sys/health`
//! reports, or the address's `host:port` when it reports none; with a namespace,
//! `openbao:<cluster>/<namespace>` (each namespace is its own population). External ids are
//! `<scope>:<API path>`, unique across servers and namespaces:
//!
//! | NHI | kind | external id | name |
//! |---|---|---|---|
//! | AppRole role | `service_account` | `<scope>:auth/<mount>/role/<role>` | the role's name |
//! | token (one per accessor) | `token` | `<scope>:auth/token/accessors/<accessor>` | its `display_name` (the accessor when empty) |
//! | KV version 2 secret | `api_key` | `<scope>:<mount>/<path>` (`…:secret/ci/github-deploy`) | `<mount>/<path>` |
//!
//! Credentials: each secret id of a role is a credential of kind `token` whose external id is
//! the secret id's accessor (not the secret id), with its creation and expiry (none when it
//! never expires); each token has one credential of kind `token` with its accessor, creation
//! and expiry. KV secrets have none: the secret itself is the NHI, its rotation the current
//! version's creation.
//!
//! What is set on each NHI besides facts:
//! - roles: `observed_permissions` = the policies its tokens get (`token_policies`, plus
//!   `default` unless `token_no_default_policy`); `last_rotated_at` = the newest secret id's
//!   creation; status `active`.
//! - tokens: `observed_permissions` = its policies; `created_at` = `creation_time`;
//!   `expires_at` = `expire_time` (none when it never expires); status `active`; `tags` = its
//!   `meta`; `owner`, `purpose`, `environment` from `meta.owner` (an email or `team:<name>`),
//!   `meta.purpose` (or `description`) and `meta.environment`.
//! - KV secrets: `created_at` = `created_time`; `last_rotated_at` = the current version's
//!   `created_time`; `expires_at` = the current version's `deletion_time` (set by
//!   `delete_version_after` or a soft delete); status `revoked` when the current version is
//!   destroyed, `disabled` when it is deleted (deletion time not after the server's clock),
//!   else `active`; `tags`, `owner`, `purpose`, `environment` from `custom_metadata` as for
//!   tokens.
//!
//! Last use is unknown for all: the API does not tell. An owner or environment that does not
//! parse is left unset, with a warning.
//!
//! Facts, besides the shared `admin`, `privileged_grants` and `wildcard_permissions`:
//!
//! | fact | JSON | on | meaning |
//! |---|---|---|---|
//! | `auth_mount` | string | roles | the AppRole mount (`approle`) |
//! | `bind_secret_id` | bool | roles | logging in needs a secret id |
//! | `secret_id_ttl` | number | roles | seconds a secret id lives (0: forever) |
//! | `secret_id_num_uses` | number | roles | logins per secret id (0: unlimited) |
//! | `secret_id_bound_cidrs` | `[string]` | roles | CIDRs secret ids may be used from |
//! | `token_bound_cidrs` | `[string]` | roles | CIDRs its tokens may be used from |
//! | `token_ttl`, `token_max_ttl`, `token_explicit_max_ttl`, `token_period` | number | roles | seconds, as configured (0: the mount's default, or none) |
//! | `token_num_uses` | number | roles | uses per token (0: unlimited) |
//! | `token_policies` | `[string]` | roles | the policies as configured (without the implied `default`) |
//! | `token_type` | string | roles | `default`, `service` or `batch` |
//! | `policies` | `[string]` | tokens | its policies |
//! | `ttl` | number | tokens | seconds left when looked up |
//! | `creation_ttl` | number | tokens | seconds it was created to live (0: forever) |
//! | `explicit_max_ttl` | number | tokens | hard cap in seconds (0: none) |
//! | `num_uses` | number | tokens | uses left (0: unlimited) |
//! | `period` | number | tokens | renewal period of a periodic token, when it is one |
//! | `renewable` | bool | tokens | it can be renewed |
//! | `orphan` | bool | tokens | it has no parent (outlives its creator) |
//! | `never_expires` | bool | tokens | it has no expiry (`expire_time` null) |
//! | `meta` | object | tokens | its metadata, values kept (they are not secret) |
//! | `entity_id` | string | tokens | its identity entity, when it has one |
//! | `type` | string | tokens | `service` or `batch` |
//! | `creation_path` | string | tokens | the endpoint that issued it (`auth/token/create`, `auth/approle/login`) |
//! | `kv_mount` | string | secrets | the KV mount |
//! | `versions` | number | secrets | versions kept |
//! | `current_version` | number | secrets | the current version |
//! | `oldest_version` | number | secrets | the oldest version kept |
//! | `max_versions` | number | secrets | versions to keep (0: the mount's default) |
//! | `delete_version_after` | string | secrets | how long a version lives (`0s`: forever) |
//! | `cas_required` | bool | secrets | writes need check-and-set |
//! | `custom_metadata` | object | secrets | its custom metadata |
//! | `unresolved_policies` | `[string]` | roles, tokens | attached policies that do not exist or could not be read; present only when some are |
//!
//! Grants (an approximation, by design, rule by rule; a `deny` elsewhere is not subtracted):
//! `admin` is `true` for the `root` policy or a rule on `*` with `sudo` and a write
//! capability. `privileged_grants` lists rules with `sudo`, or a write capability (`create`,
//! `update`, `patch`, `delete`) on a glob that can reach `sys/`, `auth/` or `identity/`;
//! `wildcard_permissions` lists rules whose glob spans a whole mount or more (`*`, `s*`,
//! `secret/*`, `secret/data/*`, `+/metadata/*`; not `secret/data/ci/*` nor `auth/+/role/x`).
//! Each entry reads `<policy>: <path> [<capabilities>]`. Rules with `deny`, the self-service
//! paths of the built-in `default` policy (`auth/token/lookup-self`, `cubbyhole/*`, …),
//! `auth/<mount>/login`, and lookup endpoints (a last segment starting `lookup`, which take
//! `update` to read) are never listed, so `default` alone lists nothing. Policies are read once each from `sys/policies/acl/<name>`, in HCL or JSON.
//!
//! The run's input record is the endpoint, its identity `openbao <version>; auth: <auth method
//! types>` (`openbao 2.7.2; auth: approle,token`). Parameters record `address`, `namespace`,
//! `kv_mounts` as given and `kv_mounts_read`.
//!
//! Errors: no answer (unreachable, TLS, timeout) and any unexpected HTTP status (403
//! included) are [`ConnectError::Endpoint`] naming the URL (never the token) and what the
//! server said; a malformed or mistyped response is a syntax or field error naming the URL
//! (or snapshot file), line, column and field path. A 404 on a `LIST` is an empty list; a
//! role, secret id, token or secret that vanishes between its listing and its read is skipped
//! with a warning; a sealed server fails the run.

mod policy;
mod request;
mod resolve;
mod response;
mod snapshot;
mod walk;

#[cfg(feature = "api")]
mod api;

#[cfg(feature = "api")]
pub use api::OpenBaoApi;
pub use snapshot::{SNAPSHOT_CONNECTOR, parse_snapshot};

use keyward_connect::{Discovery, InputRecord};

#[cfg(doc)]
use keyward_connect::ConnectError;

/// A policy that lets a token read everything a run reads and nothing else (no secret
/// values, no writes): attach it to the token the live connector uses. It holds `sudo` on
/// `auth/token/accessors`, which listing tokens requires.
pub const DISCOVERY_POLICY: &str = r#"# Keyward discovery: read-only, no secret values.
path "sys/auth" {
  capabilities = ["read"]
}
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/policies/acl/*" {
  capabilities = ["read"]
}
path "auth/+/role/" {
  capabilities = ["list"]
}
path "auth/+/role/+" {
  capabilities = ["read"]
}
path "auth/+/role/+/secret-id/" {
  capabilities = ["list"]
}
path "auth/+/role/+/secret-id-accessor/lookup" {
  capabilities = ["update"]
}
path "auth/token/accessors/" {
  capabilities = ["list", "sudo"]
}
path "auth/token/lookup-accessor" {
  capabilities = ["update"]
}
path "+/metadata/*" {
  capabilities = ["read", "list"]
}
"#;

/// The provider name of every NHI this crate reports.
pub const PROVIDER: &str = "openbao";
/// The discovery source both connectors report.
pub const SOURCE: &str = "openbao";

/// The discovery of what a run collected.
fn assemble(
    connector: &'static str,
    address: &str,
    namespace: Option<&str>,
    kv_mounts: Option<&[String]>,
    collected: walk::Collected,
    input: InputRecord,
) -> Discovery {
    let place = resolve::Place::new(address, collected.health.cluster_name.as_deref(), namespace);
    let (nhis, more) = resolve::resolve(&collected, &place);
    let mut warnings = collected.warnings.clone();
    warnings.extend(more);
    Discovery {
        source: SOURCE.to_owned(),
        scope: place.scope,
        complete: true,
        connector,
        connector_version: env!("CARGO_PKG_VERSION"),
        inputs: vec![input],
        parameters: resolve::parameters(address, namespace, kv_mounts, &collected.kv_mounts),
        nhis,
        warnings,
    }
}
