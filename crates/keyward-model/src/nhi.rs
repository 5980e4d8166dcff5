use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Serialize, Serializer};

use crate::{
    CredentialKind, CredentialStatus, Environment, NhiKind, NhiStatus, Origin, OwnerRef, UsageState,
};

/// The register's stable identifier of an NHI (`nhi_` and a time-ordered UUID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct NhiId(pub String);

impl NhiId {
    /// Whether `s` has the shape of an NHI id, to tell ids from external ids on the command line.
    pub fn looks_like(s: &str) -> bool {
        s.strip_prefix("nhi_")
            .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

impl fmt::Display for NhiId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes time-ordered identifiers `{prefix}_{32 hex digits}`: 48 bits of Unix milliseconds,
/// then 80 bits that start at a random value each millisecond and count up. Ids made by one
/// generator sort in the order they were made, so rows inserted in a batch lie in id order on
/// disk and listing by id reads them sequentially; the random start keeps them unguessable.
#[derive(Debug)]
pub struct IdGenerator<R> {
    rng: R,
    last_ms: u64,
    seq: u128,
}

impl<R: rand::RngCore> IdGenerator<R> {
    /// A generator drawing its random starts from `rng`.
    pub fn new(rng: R) -> Self {
        Self {
            rng,
            last_ms: 0,
            seq: 0,
        }
    }

    /// The next identifier with `prefix`, made at `now`.
    pub fn next(&mut self, prefix: &str, now: DateTime<Utc>) -> String {
        const SEQ_BITS: u32 = 80;
        let ms = u64::try_from(now.timestamp_millis()).unwrap_or(0) & ((1 << 48) - 1);
        if ms > self.last_ms || self.seq >= (1 << SEQ_BITS) - 1 {
            // A clock that went back keeps counting from the last millisecond seen.
            self.last_ms = self.last_ms.max(ms);
            let mut bytes = [0u8; 16];
            self.rng.fill_bytes(&mut bytes);
            // The top bit stays clear so a millisecond has room for 2^79 more ids.
            self.seq = u128::from_be_bytes(bytes) & ((1 << (SEQ_BITS - 1)) - 1);
            if ms < self.last_ms {
                self.last_ms += 1;
            }
        } else {
            self.seq += 1;
        }
        id_text(prefix, self.last_ms, self.seq)
    }

    /// The next NHI id.
    pub fn nhi(&mut self, now: DateTime<Utc>) -> NhiId {
        NhiId(self.next("nhi", now))
    }
}

/// `prefix_`, the millisecond in 12 hex digits and the count in 20: one 128-bit value in hex,
/// without the formatter (a bulk apply makes an id per declaration).
fn id_text(prefix: &str, ms: u64, seq: u128) -> String {
    let value = (u128::from(ms) << 80) | seq;
    let mut id = String::with_capacity(prefix.len() + 33);
    id.push_str(prefix);
    id.push('_');
    id.push_str(&hex::encode(value.to_be_bytes()));
    id
}

/// How often an NHI must be reviewed, in whole days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cadence {
    days: u32,
}

/// A review cadence that is not `<n>d`, `<n>w`, `<n>m` or `<n>y`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a review cadence (expected a number of days, weeks, months or years such as `90d`, `12w`, `6m`, `1y`; at most 5 years)"
)]
pub struct CadenceError(pub String);

impl Cadence {
    /// The longest cadence accepted: five years.
    pub const MAX_DAYS: u32 = 5 * 365;

    /// A cadence of `days` days (1 ..= [`Self::MAX_DAYS`]).
    pub fn from_days(days: u32) -> Option<Self> {
        (1..=Self::MAX_DAYS)
            .contains(&days)
            .then_some(Self { days })
    }

    /// The cadence in days.
    pub fn days(self) -> u32 {
        self.days
    }

    /// The instant a review is next due, counted from the last review (or registration).
    pub fn due_after(self, from: DateTime<Utc>) -> DateTime<Utc> {
        from + Duration::days(i64::from(self.days))
    }
}

impl FromStr for Cadence {
    type Err = CadenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CadenceError(s.to_owned());
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (num, unit) = t.split_at(split);
        let n: u32 = num.parse().map_err(|_| err())?;
        let per = match unit {
            "d" => 1,
            "w" => 7,
            "m" => 30,
            "y" => 365,
            _ => return Err(err()),
        };
        n.checked_mul(per).and_then(Self::from_days).ok_or_else(err)
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}d", self.days)
    }
}

impl Serialize for Cadence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a team declares about one NHI in an `apiVersion: keyward/v1` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredNhi {
    /// `metadata.name`: the declaration's unique key.
    pub name: String,
    /// `metadata.labels`, kept as the NHI's tags.
    pub labels: BTreeMap<String, String>,
    /// `spec.kind`.
    pub kind: NhiKind,
    /// `spec.provider`, lower case (`aws`, `gcp`, `github`, …).
    pub provider: String,
    /// `spec.externalId`: the provider's identifier, unique per provider.
    pub external_id: Option<String>,
    /// `spec.environment`.
    pub environment: Environment,
    /// `spec.owner`.
    pub owner: Option<OwnerRef>,
    /// `spec.backupOwner`.
    pub backup_owner: Option<OwnerRef>,
    /// `spec.purpose`.
    pub purpose: Option<String>,
    /// `spec.privilegeCeiling`: the approved scopes, sorted and de-duplicated.
    pub privilege_ceiling: Vec<String>,
    /// `spec.expires`.
    pub expires_at: Option<DateTime<Utc>>,
    /// `spec.reviewEvery`.
    pub review_every: Option<Cadence>,
    /// `spec.supplier`: the third party it belongs to or is shared with.
    pub supplier: Option<String>,
    /// `spec.status`, `active` unless declared otherwise.
    pub status: NhiStatus,
    /// `spec.created`.
    pub created_at: Option<DateTime<Utc>>,
    /// `spec.lastRotated`.
    pub last_rotated_at: Option<DateTime<Utc>>,
    /// `spec.lastReviewed`.
    pub last_reviewed_at: Option<DateTime<Utc>>,
    /// Where the declaration was read from, for messages and provenance.
    pub source: String,
}

/// One register entry: everything Keyward knows about one NHI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nhi {
    /// Stable register id.
    pub id: NhiId,
    /// What sort of NHI.
    pub kind: NhiKind,
    /// Provider (`aws`, `gcp`, `azure`, `kubernetes`, `github`, …).
    pub provider: String,
    /// The provider's identifier, unique per provider.
    pub external_id: Option<String>,
    /// Display name.
    pub name: String,
    /// The declaration that governs it, when declared as code.
    pub declaration: Option<String>,
    /// Declared or discovered.
    pub origin: Origin,
    /// Environment served.
    pub environment: Environment,
    /// Accountable owner.
    pub owner: Option<OwnerRef>,
    /// Backup owner.
    pub backup_owner: Option<OwnerRef>,
    /// Why it exists.
    pub purpose: Option<String>,
    /// Approved scopes.
    pub privilege_ceiling: Vec<String>,
    /// Permissions a source observed it to hold.
    pub observed_permissions: Vec<String>,
    /// When the identity was created at its source.
    #[serde(serialize_with = "crate::instant::serialize_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it expires.
    #[serde(serialize_with = "crate::instant::serialize_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When its secret was last rotated.
    #[serde(serialize_with = "crate::instant::serialize_opt")]
    pub last_rotated_at: Option<DateTime<Utc>>,
    /// When it was last used, if known.
    #[serde(serialize_with = "crate::instant::serialize_opt")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether last use is known, known-never, or unknown.
    pub last_used_state: UsageState,
    /// When it was last reviewed.
    #[serde(serialize_with = "crate::instant::serialize_opt")]
    pub last_reviewed_at: Option<DateTime<Utc>>,
    /// Review cadence.
    pub review_every: Option<Cadence>,
    /// When the next review is due.
    #[serde(serialize_with = "crate::instant::serialize_opt")]
    pub next_review_due: Option<DateTime<Utc>>,
    /// Lifecycle status.
    pub status: NhiStatus,
    /// Third party it belongs to or is shared with.
    pub supplier: Option<String>,
    /// Free-form tags (declared labels and discovered tags).
    pub tags: BTreeMap<String, String>,
    /// When it entered the register.
    #[serde(serialize_with = "crate::instant::serialize")]
    pub registered_at: DateTime<Utc>,
    /// When any field last changed.
    #[serde(serialize_with = "crate::instant::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl Nhi {
    /// A new register entry knowing only what identifies it: environment unknown, status
    /// active, last use unknown, everything else empty.
    pub fn new(
        id: NhiId,
        kind: NhiKind,
        provider: impl Into<String>,
        name: impl Into<String>,
        origin: Origin,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            kind,
            provider: provider.into(),
            external_id: None,
            name: name.into(),
            declaration: None,
            origin,
            environment: Environment::Unknown,
            owner: None,
            backup_owner: None,
            purpose: None,
            privilege_ceiling: Vec::new(),
            observed_permissions: Vec::new(),
            created_at: None,
            expires_at: None,
            last_rotated_at: None,
            last_used_at: None,
            last_used_state: UsageState::Unknown,
            last_reviewed_at: None,
            review_every: None,
            next_review_due: None,
            status: NhiStatus::Active,
            supplier: None,
            tags: BTreeMap::new(),
            registered_at: now,
            updated_at: now,
        }
    }

    /// The review due date implied by a cadence and the last review, or registration if never
    /// reviewed.
    pub fn review_due(
        cadence: Option<Cadence>,
        last_reviewed_at: Option<DateTime<Utc>>,
        registered_at: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        cadence.map(|c| c.due_after(last_reviewed_at.unwrap_or(registered_at)))
    }
}

/// A secret that lets an NHI authenticate, known only by keyed fingerprint and preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    /// Register id (`cred_…`).
    pub id: String,
    /// The NHI it belongs to.
    pub nhi_id: NhiId,
    /// What sort of secret.
    pub kind: CredentialKind,
    /// A non-secret identifier at the source (an access key id, a certificate serial).
    pub external_id: Option<String>,
    /// Keyed HMAC-SHA-256 of the value, when the value was ever seen.
    pub fingerprint: Option<String>,
    /// A short redacted preview (at most four characters and the length).
    pub preview: Option<String>,
    /// Whether it can still authenticate.
    pub status: CredentialStatus,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last rotated.
    pub last_rotated_at: Option<DateTime<Utc>>,
    /// When it was last used, if known.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether last use is known.
    pub last_used_state: UsageState,
}

/// What one source said about one NHI, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    /// The NHI observed.
    pub nhi_id: NhiId,
    /// The source (`declaration`, `aws-iam`, `cloudtrail`, …).
    pub source: String,
    /// The connector that read the source.
    pub connector: String,
    /// The connector's version.
    pub connector_version: String,
    /// Where it was read (file, endpoint, account).
    pub locator: String,
    /// First time this source reported the NHI.
    pub first_seen_at: DateTime<Utc>,
    /// Latest time this source reported the NHI.
    pub last_seen_at: DateTime<Utc>,
    /// When a complete run of this source over the same scope stopped seeing it; `None` while
    /// the source still reports it. Identities are marked, never deleted.
    pub gone_at: Option<DateTime<Utc>>,
    /// What only this source says about the NHI (see [`crate::Facts`]).
    pub facts: crate::Facts,
}

impl Observation {
    /// A source's first report of an NHI, with no facts.
    pub fn new(
        nhi_id: NhiId,
        source: impl Into<String>,
        connector: impl Into<String>,
        connector_version: impl Into<String>,
        locator: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            nhi_id,
            source: source.into(),
            connector: connector.into(),
            connector_version: connector_version.into(),
            locator: locator.into(),
            first_seen_at: now,
            last_seen_at: now,
            gone_at: None,
            facts: crate::Facts::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn cadence_units() {
        assert_eq!("90d".parse::<Cadence>().unwrap().days(), 90);
        assert_eq!("12w".parse::<Cadence>().unwrap().days(), 84);
        assert_eq!("6m".parse::<Cadence>().unwrap().days(), 180);
        assert_eq!("1y".parse::<Cadence>().unwrap().days(), 365);
        for bad in ["", "d", "90", "90x", "0d", "-1d", "6y", "99999999999d"] {
            assert!(bad.parse::<Cadence>().is_err(), "{bad}");
        }
    }

    #[test]
    fn review_due_counts_from_last_review_or_registration() {
        let reg = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let rev = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let c = Cadence::from_days(30);
        assert_eq!(
            Nhi::review_due(c, None, reg).unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert_eq!(
            Nhi::review_due(c, Some(rev), reg).unwrap().to_rfc3339(),
            "2026-03-31T00:00:00+00:00"
        );
        assert_eq!(Nhi::review_due(None, Some(rev), reg), None);
    }

    #[test]
    fn ids_are_recognisable_distinct_and_ordered() {
        let mut ids = IdGenerator::new(rand::rngs::StdRng::seed_from_u64(7));
        let now = Utc::now();
        let made: Vec<NhiId> = (0..1000).map(|_| ids.nhi(now)).collect();
        let mut sorted = made.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, made, "same millisecond: counting up");
        let later = ids.nhi(now + Duration::milliseconds(1));
        assert!(later > made[999]);
        let earlier_clock = ids.nhi(now - Duration::seconds(5));
        assert!(
            earlier_clock > later,
            "a clock going back does not reorder ids"
        );
        assert!(NhiId::looks_like(&made[0].0), "{}", made[0]);
        assert!(!NhiId::looks_like("arn:aws:iam::1:user/x"));
        for (ms, seq) in [
            (0, 0),
            (1, 1),
            ((1 << 48) - 1, (1 << 80) - 1),
            (0x0193_abcd, 0xfe),
        ] {
            assert_eq!(
                id_text("nhi", ms, seq),
                format!("nhi_{ms:012x}{seq:020x}"),
                "{ms} {seq}"
            );
        }
        let other = IdGenerator::new(rand::rngs::StdRng::seed_from_u64(8)).nhi(now);
        assert!(
            !made.contains(&other),
            "random starts differ between generators"
        );
    }
}
