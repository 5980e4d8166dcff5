//! Microsoft Entra ID discovery from files: app registrations, service principals and
//! managed identities, their client secrets and certificates, the API permissions apps
//! request, and the federation they trust.
//!
//! [`AzureFiles`] reads any mix of these, recognised by content, not by name (see
//! [`parse_azure`], the pure parser a fuzz target calls, and [`merge`]):
//!
//! - `az ad sp list --all` and `az ad app list --all` output: JSON arrays of Microsoft Graph
//!   `servicePrincipal` and `application` objects (the older Azure AD Graph spellings
//!   `objectId`, `appOwnerTenantId`, `startDate`/`endDate`, `availableToOtherTenants` and
//!   `"True"`/`"False"` too);
//! - Microsoft Graph pages, `{"@odata.context": …, "value": […], "@odata.nextLink": …}`;
//! - single objects (`az ad sp show`, `az ad app show`), with `owners` and
//!   `federatedIdentityCredentials` read when they were expanded.
//!
//! Files may be UTF-8 (with or without a byte order mark) or UTF-16 with one, as Windows
//! PowerShell writes redirected output. Secret values are never read into memory by the
//! parser: `secretText`, a password's `hint` (its first characters) and the legacy `value`,
//! and certificate bodies (`key`), are skipped.
//!
//! # What it reports
//!
//! One NHI per client id (`appId`, lower-cased, the external id; provider `azure`): an app
//! registration and the service principal with the same `appId` are one identity.
//!
//! - An app registration (with or without its service principal): kind `oauth_app`.
//! - A service principal whose app is not among the inputs: kind `service_account`
//!   (another tenant's multi-tenant app, Microsoft's first-party apps, legacy principals),
//!   or `workload_identity` for a managed identity.
//!
//! Name is the app's display name, else the service principal's; created at the app's
//! `createdDateTime`; purpose the description, else the notes; status `disabled` when the
//! service principal's `accountEnabled` is false, `active` when true, unknown without a
//! service principal; owner the first expanded owner that is a user with a `mail` or
//! `userPrincipalName` that is an email; supplier `Microsoft` for first-party apps, else
//! for a third party its verified publisher, publisher name or owner tenant id. Tags are
//! the app's and the service principal's `tags`, `key:value` or `key=value` split, others
//! kept as a key with an empty value; an `env`/`environment` tag sets the environment.
//!
//! Credentials: each password credential is a `client_secret` (external id its `keyId`,
//! created at `startDateTime`, expiring at `endDateTime`; no preview, no fingerprint), each
//! key credential a `certificate` (a legacy `Symmetric` key a `client_secret`), from the app
//! and the service principal, once per key id. A managed identity's key credentials are
//! Azure's own, rotated by the platform: counted, not reported.
//!
//! # Scope and completeness
//!
//! The scope is `azure:<tenant id>`. [`AzureFiles::tenant`] gives it; otherwise it comes from
//! the data: a `tenantId` field where an object has one, or the `appOwnerOrganizationId` of
//! service principals whose app registration is among the inputs (the tenant's own apps).
//! A run whose data names no tenant, or several, fails and asks for it.
//!
//! A run is complete when it read a whole listing of service principals and a whole
//! listing of applications (a Graph page with `@odata.nextLink` is not the last page, so it
//! does not count unless its last page is among the inputs too): with only one of the two,
//! identities of the other kind may exist unseen.
//!
//! # Facts
//!
//! Shared names from [`keyward_connect::facts`]:
//!
//! | name | type | meaning |
//! |---|---|---|
//! | `admin` | `bool` | the app requests an application permission (type `Role`) with a known path to Global Administrator: Microsoft Graph `Directory.ReadWrite.All`, `Application.ReadWrite.All`, `AppRoleAssignment.ReadWrite.All`, `RoleManagement.ReadWrite.Directory` (present only when true) |
//! | `privileged_grants` | `[string]` | requested permissions, as in `scopes`, that write broadly or read everyone's content: Graph application permissions `Application.ReadWrite.OwnedBy`, `User.ReadWrite.All`, `Group.ReadWrite.All`, `Policy.ReadWrite.ConditionalAccess`, `Mail.Read`, `Mail.ReadWrite`, `Mail.Send`, `Files.ReadWrite.All`, `Sites.ReadWrite.All`, `Sites.FullControl.All`, the admin ones requested as delegated, and delegated `Directory.AccessAsUser.All` |
//! | `scopes` | `[string]` | every permission the app requests (`requiredResourceAccess`): `API/NAME:TYPE` (`Microsoft Graph/User.Read:Scope`) when the id resolves, from the API's service principal or app registration among the inputs or from the built-in table of Graph permissions, else `RESOURCE_APP_ID/PERMISSION_ID:TYPE`; requested is not granted, since consent is not in these listings |
//! | `password_auth` | `bool` | it has a password credential (client secret) (present only when true) |
//! | `third_party` | `bool` | its service principal's `appOwnerOrganizationId` is another tenant, not Microsoft's (present only when true) |
//! | `trust` | `[object]` | federated identity credentials: `principal` (the subject), `principal_type` `oidc`, `issuer`, `audiences`, `name`, `subject_condition` (true when an exact subject is required, false for a flexible credential's `claimsMatchingExpression`, which is `conditions`) |
//!
//! This connector's own:
//!
//! | name | type | meaning |
//! |---|---|---|
//! | `multi_tenant` | `bool` | `signInAudience` other than `AzureADMyOrg` (or the legacy `availableToOtherTenants`) (present only when true) |
//! | `sign_in_audience` | `string` | the app's, else the service principal's `signInAudience` |
//! | `password_credentials` | `number` | how many client secrets (present when any) |
//! | `certificate_credentials` | `number` | how many certificates (present when any) |
//! | `credential_expiry_days` | `number` | the longest validity among its credentials, whole days from start to end |
//! | `platform_managed_keys` | `number` | a managed identity's Azure-managed certificates (not reported as credentials) |
//! | `app_object_id` | `string` | the app registration's object id |
//! | `service_principal_object_id` | `string` | the service principal's object id |
//! | `service_principal_type` | `string` | `Application`, `ManagedIdentity`, `Legacy`, `SocialIdp` |
//! | `app_owner_organization_id` | `string` | the tenant that owns the app, lower-cased |
//! | `microsoft_first_party` | `bool` | owned by a Microsoft tenant (present only when true) |
//! | `managed_identity` | `bool` | a managed identity (present only when true) |
//! | `managed_identity_type` | `string` | `user_assigned` (`alternativeNames` holds `isExplicit=True`) or `system_assigned` |
//! | `azure_resource_id` | `string` | a managed identity's Azure resource (`/subscriptions/…`) |
//! | `publisher_domain` | `string` | the app's publisher domain |
//! | `verified_publisher` | `string` | the verified publisher's name |
//! | `owners` | `[string]` | every expanded owner: a user's mail or user principal name (lower-cased), `app:<appId>` for a service principal |

mod build;
mod graph;
mod json;
mod parse;

use std::path::{Path, PathBuf};

use keyward_connect::{ConnectError, Connector, Discovery, Inputs};
use serde_json::json;

pub use build::{Merged, merge};
pub use parse::{AzureFile, Shape, parse_azure};

/// The connector's name, as recorded in runs.
pub const CONNECTOR: &str = "azure-files";
/// The source every NHI this connector reports belongs to.
pub const SOURCE: &str = "entra-id";

/// Reads Entra ID listings (see the crate's documentation).
#[derive(Debug, Clone, Default)]
pub struct AzureFiles {
    /// Files, or directories searched recursively for `*.json` files (each possibly `.gz`).
    pub paths: Vec<PathBuf>,
    /// The directory's tenant id, when the data does not tell it or to override it.
    pub tenant: Option<String>,
}

impl AzureFiles {
    /// A connector over these paths, its tenant told by the data.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Self {
            paths,
            tenant: None,
        }
    }

    /// Reads every input and merges them; what [`Connector::discover`] returns.
    pub fn read(&self) -> Result<Discovery, ConnectError> {
        if self.paths.is_empty() {
            return Err(ConnectError::Usage("no Entra ID input files given".into()));
        }
        let found = Inputs::find(&self.paths, accepts)?;
        if found.is_empty() {
            return Err(ConnectError::Usage(format!(
                "no Entra ID listings (*.json) under {}",
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
            files.push(parse_azure(&file.path, &file.bytes)?);
        }
        let merged = merge(files, self.tenant.as_deref())?;
        Ok(Discovery {
            source: SOURCE.into(),
            scope: format!("azure:{}", merged.tenant),
            complete: merged.complete,
            connector: CONNECTOR,
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs: inputs.into_records(),
            parameters: json!({
                "paths": self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "tenant": self.tenant,
            }),
            nhis: merged.nhis,
            warnings: merged.warnings,
        })
    }
}

impl Connector for AzureFiles {
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
    name.strip_suffix(".gz").unwrap_or(&name).ends_with(".json")
}
