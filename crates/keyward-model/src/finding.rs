use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{ExceptionState, FindingState, NhiId, Severity};

/// One posture check's finding on one NHI, with its lifecycle: opened when first seen,
/// resolved when the condition clears, reopened when it returns. There is one finding per
/// check and NHI, so its id is stable across runs and backends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// `fnd_`, the NHI id's digits, `_` and the check id: see [`Finding::id_for`].
    pub id: String,
    /// The check.
    pub check_id: String,
    /// The NHI.
    pub nhi_id: NhiId,
    /// Open or resolved.
    pub state: FindingState,
    /// Severity when last evaluated.
    pub severity: Severity,
    /// What triggered it: `{message, fields, sources}`.
    pub evidence: serde_json::Value,
    /// SHA-256 (first 16 hex digits) of the evidence as first encoded: how a run tells
    /// changed evidence without decoding the stored one.
    #[serde(skip)]
    pub evidence_digest: String,
    /// When it was first opened.
    pub opened_at: DateTime<Utc>,
    /// When it was last reopened.
    pub reopened_at: Option<DateTime<Utc>>,
    /// How many times it reopened.
    pub reopen_count: i64,
    /// When it was resolved, while resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The latest evaluation that saw the condition hold.
    pub last_seen_at: DateTime<Utc>,
}

impl Finding {
    /// The stable id of `check`'s finding on `nhi`: `fnd_`, the NHI id without its `nhi_`,
    /// `_` and the check id. NHI ids are time-ordered, so a check run, which walks the register
    /// in id order, writes new findings in id order too (appending to the id index rather than
    /// scattering across it), and the id says which NHI and check it is about.
    pub fn id_for(check: &str, nhi: &NhiId) -> String {
        let digits = nhi.0.strip_prefix("nhi_").unwrap_or(&nhi.0);
        format!("fnd_{digits}_{check}")
    }
}

/// A digest of encoded evidence, as [`Finding::evidence_digest`] holds it.
pub fn evidence_digest(encoded: &str) -> String {
    let mut h = EvidenceHasher::default();
    h.update(encoded.as_bytes());
    h.finish()
}

/// Digests evidence while it is being encoded (an [`std::io::Write`] for the encoder), to the
/// same value [`evidence_digest`] gives for the encoded text, without keeping that text.
#[derive(Default)]
pub struct EvidenceHasher(Sha256);

const HEX: &[u8; 16] = b"0123456789abcdef";

impl EvidenceHasher {
    /// Adds encoded bytes.
    pub fn update(&mut self, encoded: &[u8]) {
        self.0.update(encoded);
    }

    /// The digest.
    pub fn finish(self) -> String {
        let digest = self.0.finalize();
        let mut out = String::with_capacity(16);
        for b in &digest[..8] {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }
}

impl std::io::Write for EvidenceHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A time-bound risk acceptance of one finding: who asked, why, what compensates, until when,
/// and who (someone else) decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskException {
    /// `exc_` and a time-ordered id.
    pub id: String,
    /// The finding accepted.
    pub finding_id: String,
    /// Where it stands.
    pub state: ExceptionState,
    /// Why the risk is accepted.
    pub reason: String,
    /// What reduces the risk meanwhile.
    pub compensating_controls: String,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// When the acceptance ends and the finding reopens; always set.
    pub expires_at: DateTime<Utc>,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The approver's note.
    pub decision_note: Option<String>,
}

impl RiskException {
    /// Whether it suppresses its finding at `now`.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.state == ExceptionState::Approved && self.expires_at > now
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn evidence_digests_alike_from_text_or_while_encoding() {
        let evidence = serde_json::json!({"message": "no owner", "fields": ["owner"], "n": 3});
        let text = serde_json::to_string(&evidence).unwrap();
        let mut h = EvidenceHasher::default();
        serde_json::to_writer(&mut h, &evidence).unwrap();
        assert_eq!(h.finish(), evidence_digest(&text));
        assert_eq!(evidence_digest(&text).len(), 16);
        assert_ne!(evidence_digest(&text), evidence_digest("{}"));
        // Stored digests stay comparable: the first 8 bytes of SHA-256, in lowercase hex.
        assert_eq!(evidence_digest("{}"), "44136fa355b3678a");
    }

    #[test]
    fn finding_ids_name_their_nhi_and_check_and_sort_by_nhi() {
        let a = NhiId("nhi_0190a3b4c5d6e7f8a9b0c1d2e3f4a5b6".into());
        let b = NhiId("nhi_0190a3b4c5d6e7f8a9b0c1d2e3f4a5b7".into());
        assert_eq!(
            Finding::id_for("no-owner", &a),
            "fnd_0190a3b4c5d6e7f8a9b0c1d2e3f4a5b6_no-owner"
        );
        // Every check's finding on `a` sorts before any on the NHI made after it.
        assert!(Finding::id_for("weak-key", &a) < Finding::id_for("admin-permissions", &b));
        assert_ne!(
            Finding::id_for("no-owner", &a),
            Finding::id_for("no-expiry", &a)
        );
    }
}
