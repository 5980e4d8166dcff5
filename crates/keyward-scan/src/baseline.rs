//! Baselines: the fingerprints of findings a team has accepted, so CI reports only new ones.
//!
//! A baseline names the fingerprint key its fingerprints were made with; using it with another
//! key is refused rather than silently matching nothing.

use std::collections::HashSet;
use std::path::Path;

use keyward_manifest::ManifestError;
use serde::{Deserialize, Serialize};

use crate::{Finding, ScanReport};

/// The baseline file's format version.
const VERSION: u32 = 1;

/// One accepted finding. Path and line say where it was when accepted; matching is by
/// fingerprint, so moving the secret keeps it accepted and any other secret is new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// Keyed fingerprint of the secret.
    pub fingerprint: String,
    /// The rule that found it.
    pub rule_id: String,
    /// Where it was.
    pub path: String,
    /// On which line.
    pub line: usize,
}

/// Accepted findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version.
    pub version: u32,
    /// The fingerprint key's id (see `FingerprintKey::key_id`).
    pub fingerprint_key_id: String,
    /// The accepted findings.
    pub findings: Vec<Accepted>,
}

fn invalid(path: &Path, line: usize, field: &str, reason: impl Into<String>) -> ManifestError {
    ManifestError {
        file: path.display().to_string(),
        line,
        field: field.to_owned(),
        reason: reason.into(),
    }
}

impl Baseline {
    /// A baseline accepting every finding in `findings`.
    pub fn of(findings: &[Finding], key_id: &str) -> Self {
        let mut seen = HashSet::new();
        Self {
            version: VERSION,
            fingerprint_key_id: key_id.to_owned(),
            findings: findings
                .iter()
                .filter(|f| seen.insert((f.fingerprint.clone(), f.rule_id.clone())))
                .map(|f| Accepted {
                    fingerprint: f.fingerprint.clone(),
                    rule_id: f.rule_id.clone(),
                    path: f.path.clone(),
                    line: f.line,
                })
                .collect(),
        }
    }

    /// Reads a baseline made with the key `key_id`.
    pub fn load(path: &Path, key_id: &str) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| invalid(path, 0, "", format!("cannot read the baseline: {e}")))?;
        Self::parse(path, &text, key_id)
    }

    /// Reads a baseline's text, labelled `path` in errors, made with the key `key_id`.
    pub fn parse(path: &Path, text: &str, key_id: &str) -> Result<Self, ManifestError> {
        let b: Self = serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            // serde_json ends its message with the position, which the error already names.
            let msg = msg
                .rsplit_once(" at line ")
                .map_or(msg.as_str(), |(m, _)| m);
            invalid(path, e.line(), "", format!("not a baseline: {msg}"))
        })?;
        if b.version != VERSION {
            return Err(invalid(
                path,
                0,
                "version",
                format!(
                    "version {} is not one this Keyward reads ({VERSION})",
                    b.version
                ),
            ));
        }
        if b.fingerprint_key_id != key_id {
            return Err(invalid(
                path,
                0,
                "fingerprint_key_id",
                format!(
                    "the baseline was made with fingerprint key `{}`, this scan uses `{key_id}`; scan with the same key file or write the baseline again",
                    b.fingerprint_key_id
                ),
            ));
        }
        Ok(b)
    }

    /// Removes the accepted findings from `report`; returns how many were removed.
    pub fn suppress(&self, report: &mut ScanReport) -> usize {
        let accepted: HashSet<&str> = self
            .findings
            .iter()
            .map(|a| a.fingerprint.as_str())
            .collect();
        let before = report.findings.len();
        report
            .findings
            .retain(|f| !accepted.contains(f.fingerprint.as_str()));
        before - report.findings.len()
    }
}
