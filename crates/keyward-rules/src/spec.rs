//! The rule files' schema, read with every unknown field refused.

use keyward_manifest::ManifestError;
use keyward_model::{CredentialKind, NhiKind};
use serde::Deserialize;

/// How sure a match is to be a live credential.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Generic heuristics: assignments, context words.
    Low,
    /// A known shape that other data can share.
    Medium,
    /// A distinctive prefix, structure or checksum.
    High,
}

impl Confidence {
    /// One step less sure (as for matches in test fixtures and documentation).
    pub fn lowered(self) -> Self {
        match self {
            Self::High => Self::Medium,
            Self::Medium | Self::Low => Self::Low,
        }
    }

    /// The stable name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// A named check on a match beyond its pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Checksum {
    /// GitHub's newer tokens: CRC-32 of the random part, six base62 digits at the end.
    Github,
}

/// One file of rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    pub rules: Vec<RuleSpec>,
}

/// One rule as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub credential: CredentialKind,
    pub nhi_kind: NhiKind,
    pub confidence: Confidence,
    pub keywords: Vec<String>,
    pub pattern: String,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub checksum: Option<Checksum>,
    #[serde(default)]
    pub pair: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
}

/// Parses one rule file; `label` names it in errors.
pub(crate) fn parse(label: &str, text: &str) -> Result<Vec<(RuleSpec, usize)>, ManifestError> {
    let file: RuleFile = serde_saphyr::from_str(text).map_err(|e| {
        let (line, reason) = keyward_manifest::located(&e.to_string());
        ManifestError {
            file: label.to_owned(),
            line,
            field: String::new(),
            reason,
        }
    })?;
    Ok(file
        .rules
        .into_iter()
        .map(|r| {
            let line = keyward_manifest::id_line(text, &r.id);
            (r, line)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    const ONE: &str = "rules:\n  - id: demo.token\n    name: Demo token\n    provider: demo\n    credential: token\n    nhi_kind: token\n    confidence: high\n    keywords: [\"dmo_\"]\n    pattern: '(?P<secret>dmo_[a-z0-9]{8})'\n    examples: ['dmo_a1b2c3d4']\n    negative_examples: ['dmo_short']\n";

    #[test]
    fn a_rule_parses_with_the_line_of_its_id() {
        let rules = parse("r.yaml", ONE).unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].0.id, "demo.token");
        assert_eq!(rules[0].1, 2);
        assert_eq!(rules[0].0.confidence, Confidence::High);
    }

    #[test]
    fn unknown_fields_and_bad_values_name_the_line() {
        let unknown = ONE.replace("    examples:", "    colour: blue\n    examples:");
        let e = parse("r.yaml", &unknown).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("r.yaml", 10), "{e}");
        assert!(e.reason.contains("colour"), "{e}");
        let bad = ONE.replace("credential: token", "credential: sparkle");
        let e = parse("r.yaml", &bad).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.reason.contains("sparkle"), "{e}");
    }
}
