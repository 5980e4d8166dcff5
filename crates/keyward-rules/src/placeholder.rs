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
    token_prefixes: Vec<String>,
    cut_tokens: Vec<String>,
}

/// Tells placeholders from candidate secrets.
#[derive(Debug)]
pub struct Placeholders {
    contains: aho_corasick::AhoCorasick,
    whole: RegexSet,
    max_share: f64,
    token_prefixes: Vec<String>,
    cases: (Vec<String>, Vec<String>),
    cut_tokens: Vec<String>,
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
            token_prefixes: spec.token_prefixes,
            cases: (spec.placeholders, spec.secrets),
            cut_tokens: spec.cut_tokens,
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

    /// Whether `value` begins like a token format that has its own rule: when only a generic
    /// rule matched it, it is a cut or mangled token rather than a credential.
    pub fn is_cut_token(&self, value: &[u8]) -> bool {
        self.token_prefixes
            .iter()
            .any(|p| value.starts_with(p.as_bytes()))
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
        let uncut = self
            .cut_tokens
            .iter()
            .filter(|t| !self.is_cut_token(t.as_bytes()))
            .map(|t| format!("cut token `{t}` is not recognised"));
        missed.chain(caught).chain(uncut).collect()
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
            "contains: []\nwhole: ['(']\nmax_share: 0.5\nplaceholders: []\nsecrets: []\ntoken_prefixes: []\ncut_tokens: []\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("p.yaml: whole:"), "{e}");
    }
}
