//! Names of the facts several connectors report, so posture checks read one vocabulary
//! whichever source said it. A connector may add facts of its own; it documents them in its
//! crate's top-level doc. Values are JSON: booleans, numbers, strings, arrays, objects.

/// `bool`: holds full administrative power over its scope (AWS `*` on `*` or
/// AdministratorAccess, Kubernetes cluster-admin or `*` verbs on `*` resources, GCP
/// `roles/owner`, Entra directory-wide app roles).
pub const ADMIN: &str = "admin";
/// `[string]`: granted permissions that contain a wildcard (`s3:*`, `*`, verbs `*`).
pub const WILDCARD_PERMISSIONS: &str = "wildcard_permissions";
/// `[string]`: grants that allow privilege escalation or broad control without being full
/// admin (`iam:PassRole` on `*`, `roles/editor`, Kubernetes `escalate`, `bind`,
/// `impersonate`, `pods/exec`, reading `secrets`).
pub const PRIVILEGED_GRANTS: &str = "privileged_grants";
/// `[object]`: who or what may assume or use this identity. Each object has `principal`
/// (string), `principal_type` (`aws_account`, `aws_service`, `oidc`, `saml`, `any`,
/// `kubernetes`, `workload_identity`, …), and for federation `subject_condition` (bool: a
/// condition restricts which subjects of the provider may assume it) and `conditions` (the
/// condition block as found).
pub const TRUST: &str = "trust";
/// `bool`: the identity authenticates with a password (console password, client secret
/// used as a password, userpass auth).
pub const PASSWORD_AUTH: &str = "password_auth";
/// `[object]`: signs that a person uses this identity: each object has `signal`
/// (`console_sign_in`, `interactive_user_agent`, `many_source_addresses`, `kubectl_use`),
/// `detail` (string) and `at` (RFC 3339, the latest occurrence).
pub const HUMAN_USE: &str = "human_use";
/// `[string]`: source IP addresses seen using it, sorted, capped by the connector.
pub const SOURCE_ADDRESSES: &str = "source_addresses";
/// `[string]`: user agents seen using it, sorted, capped by the connector.
pub const USER_AGENTS: &str = "user_agents";
/// `string`: key algorithm (`rsa`, `ecdsa`, `ed25519`, `dsa`, …).
pub const KEY_TYPE: &str = "key_type";
/// `number`: key size in bits.
pub const KEY_BITS: &str = "key_bits";
/// `string`: signature algorithm (`sha256WithRSAEncryption`, `ecdsa-with-SHA384`, …).
pub const SIGNATURE_ALGORITHM: &str = "signature_algorithm";
/// `number`: days between a certificate's or credential's start and end of validity.
pub const VALIDITY_DAYS: &str = "validity_days";
/// `[object]`: what consumes this identity (a CI secret's workflows and jobs, a service
/// account's pods): each object has at least `kind` and `name`.
pub const CONSUMERS: &str = "consumers";
/// `bool`: belongs to or is operated by a third party (a multi-tenant app from another
/// tenant, an action from another organisation, a supplier's service account).
pub const THIRD_PARTY: &str = "third_party";
/// `[string]`: OAuth scopes or API permissions it holds or requests.
pub const SCOPES: &str = "scopes";
/// `bool`: a static, long-lived cloud key (as opposed to federation or short-lived tokens).
pub const STATIC_CLOUD_KEY: &str = "static_cloud_key";
/// `bool`: the identity's platform offers federation it does not use (OIDC available, static
/// keys used).
pub const FEDERATION_AVAILABLE: &str = "federation_available";
