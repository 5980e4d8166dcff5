use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{
    CredentialKind, CredentialStatus, Environment, NhiKind, NhiStatus, OwnerRef, UsageState,
};

/// What a discovery source reports about one NHI. Discovery never overrides what a team
/// declared; it fills in what only the source can know (observed permissions, last use) and
/// creates an undeclared NHI when nothing governs it yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveredNhi {
    /// What sort of NHI.
    pub kind: NhiKind,
    /// The provider (`aws`, `gcp`, …).
    pub provider: String,
    /// The provider's identifier; the key that merges sources.
    pub external_id: String,
    /// Display name at the source.
    pub name: String,
    /// Environment, when the source can tell.
    pub environment: Option<Environment>,
    /// An owner the source records (a tag, `custom_metadata.owner`).
    pub owner: Option<OwnerRef>,
    /// A description the source records.
    pub purpose: Option<String>,
    /// Permissions the source says it holds.
    pub observed_permissions: Vec<String>,
    /// Creation time at the source.
    pub created_at: Option<DateTime<Utc>>,
    /// Expiry at the source.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last rotation at the source.
    pub last_rotated_at: Option<DateTime<Utc>>,
    /// Last use, when the source knows.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether the source knows about last use.
    pub last_used_state: UsageState,
    /// Status at the source.
    pub status: Option<NhiStatus>,
    /// The third party it belongs to, when the source can tell.
    pub supplier: Option<String>,
    /// Tags at the source.
    pub tags: BTreeMap<String, String>,
    /// Its credentials.
    pub credentials: Vec<DiscoveredCredential>,
    /// What only this source can say, as structured facts that posture checks read: a role's
    /// trust policy, admin or wildcard grants, a key's type and size, the workflows that
    /// consume a CI secret, the addresses and user agents seen in usage logs. Kept per source
    /// on the NHI's observation; keys are stable snake_case names documented by each connector.
    pub facts: Facts,
}

/// Structured facts a source reports about one NHI, by name.
pub type Facts = BTreeMap<String, Value>;

impl DiscoveredNhi {
    /// An NHI a source reports, knowing only what identifies it: everything else unknown,
    /// last use unknown, no credentials, no facts.
    pub fn new(
        kind: NhiKind,
        provider: impl Into<String>,
        external_id: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            provider: provider.into(),
            external_id: external_id.into(),
            name: name.into(),
            environment: None,
            owner: None,
            purpose: None,
            observed_permissions: Vec::new(),
            created_at: None,
            expires_at: None,
            last_rotated_at: None,
            last_used_at: None,
            last_used_state: UsageState::Unknown,
            status: None,
            supplier: None,
            tags: BTreeMap::new(),
            credentials: Vec::new(),
            facts: Facts::new(),
        }
    }
}

impl DiscoveredCredential {
    /// A credential known by its identifier at the source, active, with nothing else known.
    pub fn with_external_id(kind: CredentialKind, external_id: impl Into<String>) -> Self {
        Self {
            kind,
            external_id: Some(external_id.into()),
            fingerprint: None,
            preview: None,
            status: CredentialStatus::Active,
            created_at: None,
            expires_at: None,
            last_rotated_at: None,
            last_used_at: None,
            last_used_state: UsageState::Unknown,
        }
    }
}

/// A credential a source reports. At least one of `external_id` and `fingerprint` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveredCredential {
    /// What sort of secret.
    pub kind: CredentialKind,
    /// Non-secret identifier at the source (access key id, certificate serial).
    pub external_id: Option<String>,
    /// Keyed fingerprint of the value, when the value was seen.
    pub fingerprint: Option<String>,
    /// Redacted preview, when the value was seen.
    pub preview: Option<String>,
    /// Status at the source.
    pub status: CredentialStatus,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last rotation.
    pub last_rotated_at: Option<DateTime<Utc>>,
    /// Last use, when known.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether last use is known.
    pub last_used_state: UsageState,
}
