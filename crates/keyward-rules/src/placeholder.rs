//! Placeholder suppression: documentation values, templates and redactions are not secrets.

use regex::bytes::RegexSet;
use serde::Deserialize;

use crate::RulesError;

/// The embedded placeholder definitions.
const PLACEHOLDERS: &str = include_str!("../../../data/placeholders.yaml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    contains: Vec<String>,
    whole: Vec<String>,
    max_share: f64,
    placeholders: Vec<String>,
    secrets: Vec<String>,
}

/// Tells placeholders from candidate secrets.
#[derive(Debug)]
pub struct Placeholders {
    contains: aho_corasick::AhoCorasick,
    whole: RegexSet,
    max_share: f64,
    cases: (Vec<String>, Vec<String>),
}

impl Placeholders {
    /// The embedded definitions.
    pub fn builtin() -> Result<Self, RulesError> {
        Self::parse("data/placeholders.yaml", PLACEHOLDERS)
    }

    fn parse(label: &str, text: &str) -> Result<Self, RulesError> {
        let spec: Spec =
            serde_saphyr::from_str(text).map_err(|e| RulesError::data(label, format!("{e}")))?;
        let contains = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&spec.contains)
            .map_err(|e| RulesError::data(label, format!("contains: {e}")))?;
        let anchored: Vec<String> = spec.whole.iter().map(|w| format!("^(?:{w})$")).collect();
        let whole =
            RegexSet::new(&anchored).map_err(|e| RulesError::data(label, format!("whole: {e}")))?;
        Ok(Self {
            contains,
            whole,
            max_share: spec.max_share,
            cases: (spec.placeholders, spec.secrets),
        })
    }

    /// Whether `value` is a placeholder rather than a secret.
    pub fn is_placeholder(&self, value: &[u8]) -> bool {
        if self.contains.is_match(value) || self.whole.is_match(value) {
            return true;
        }
        let mut counts = [0usize; 256];
        for &b in value {
            counts[usize::from(b)] += 1;
        }
        let top = counts.iter().copied().max().unwrap_or(0);
        // Precision loss is irrelevant at these lengths.
        #[expect(clippy::cast_precision_loss, reason = "lengths are far below 2^52")]
        let share = top as f64 / value.len().max(1) as f64;
        value.len() >= 8 && share >= self.max_share
    }

    /// The file's own cases that come out wrong: placeholders not caught, secrets caught.
    pub fn failing_cases(&self) -> Vec<String> {
        let (placeholders, secrets) = &self.cases;
        let missed = placeholders
            .iter()
            .filter(|p| !self.is_placeholder(p.as_bytes()))
            .map(|p| format!("placeholder `{p}` is not recognised"));
        let caught = secrets
            .iter()
            .filter(|s| self.is_placeholder(s.as_bytes()))
            .map(|s| format!("secret-like value {} is taken for a placeholder", s.len()));
        missed.chain(caught).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn the_embedded_cases_hold() {
        let p = Placeholders::builtin().unwrap();
        assert_eq!(p.failing_cases(), Vec::<String>::new());
    }

    #[test]
    fn a_broken_definition_is_refused() {
        let e = Placeholders::parse(
            "p.yaml",
            "contains: []\nwhole: ['(']\nmax_share: 0.5\nplaceholders: []\nsecrets: []\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("p.yaml: whole:"), "{e}");
    }
}
