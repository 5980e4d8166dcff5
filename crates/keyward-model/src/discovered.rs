use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

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
