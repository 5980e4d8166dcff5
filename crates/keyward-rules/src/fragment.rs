//! Pattern fragments rules share (`data/rule-fragments.yaml`), written `{name}` in a pattern.

use std::collections::HashMap;

use serde::Deserialize;

use crate::RulesError;

/// The embedded fragment definitions.
const FRAGMENTS: &str = include_str!("../../../data/rule-fragments.yaml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    fragments: Vec<Spec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    name: String,
    #[expect(dead_code, reason = "documentation for people reading the data file")]
    description: String,
    pattern: String,
    examples: Vec<String>,
    negative_examples: Vec<String>,
}

/// Named pattern fragments, each already expanded.
#[derive(Debug)]
pub struct Fragments {
    by_name: HashMap<String, String>,
    /// Per fragment, its examples and negative examples.
    cases: Vec<(String, Vec<String>, Vec<String>)>,
}

impl Fragments {
    /// The embedded definitions.
    pub fn builtin() -> Result<Self, RulesError> {
        Self::parse("data/rule-fragments.yaml", FRAGMENTS)
    }

    fn parse(label: &str, text: &str) -> Result<Self, RulesError> {
        let file: File =
            serde_saphyr::from_str(text).map_err(|e| RulesError::data(label, format!("{e}")))?;
        let mut out = Self {
            by_name: HashMap::new(),
            cases: Vec::new(),
        };
        for f in file.fragments {
            // A fragment may use the fragments defined before it.
            let pattern = out
                .expand(&f.pattern)
                .map_err(|e| RulesError::data(label, format!("fragment `{}`: {e}", f.name)))?;
            if out.by_name.insert(f.name.clone(), pattern).is_some() {
                return Err(RulesError::data(
                    label,
                    format!("fragment `{}` is defined twice", f.name),
                ));
            }
            out.cases.push((f.name, f.examples, f.negative_examples));
        }
        Ok(out)
    }

    /// `pattern` with every `{name}` replaced by its fragment; a `{` that is escaped or opens a
    /// repetition (`{3}`, `{2,8}`) is left alone.
    pub fn expand(&self, pattern: &str) -> Result<String, String> {
        let mut out = String::with_capacity(pattern.len());
        let mut rest = pattern;
        while let Some(at) = rest.find('{') {
            let (before, from) = rest.split_at(at);
            out.push_str(before);
            let escaped = before.ends_with('\\') && !before.ends_with("\\\\");
            let name_len = from[1..]
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(from.len() - 1);
            let is_ref = !escaped && name_len > 0 && from[1 + name_len..].starts_with('}');
            if is_ref {
                let name = &from[1..=name_len];
                let Some(fragment) = self.by_name.get(name) else {
                    return Err(format!("unknown fragment `{{{name}}}`"));
                };
                out.push_str(fragment);
                rest = &from[name_len + 2..];
            } else {
                out.push('{');
                rest = &from[1..];
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Every fragment's examples that it does not match whole, and negative examples that it
    /// does, as `fragment name: reason` lines.
    pub fn failing_cases(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for (name, examples, negatives) in &self.cases {
            let whole = match self
                .by_name
                .get(name)
                .map(|p| regex::bytes::Regex::new(&format!("^(?:{p})$")))
            {
                Some(Ok(r)) => r,
                Some(Err(e)) => {
                    failures.push(format!("{name}: does not compile: {e}"));
                    continue;
                }
                None => continue,
            };
            for (n, ex) in examples.iter().enumerate() {
                if !whole.is_match(ex.as_bytes()) {
                    failures.push(format!("{name}: example {} does not match", n + 1));
                }
            }
            for (n, ex) in negatives.iter().enumerate() {
                if whole.is_match(ex.as_bytes()) {
                    failures.push(format!("{name}: negative example {} matches", n + 1));
                }
            }
        }
        failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fragments_hold_their_cases() {
        let f = Fragments::builtin().unwrap();
        assert!(f.failing_cases().is_empty(), "{:?}", f.failing_cases());
        assert!(f.by_name.contains_key("assign"));
    }

    #[test]
    fn expansion_leaves_repetitions_and_escapes_alone() {
        let f = Fragments::parse(
            "t.yaml",
            "fragments:\n  - name: sep\n    description: d\n    pattern: '[=:]'\n    examples: ['=']\n    negative_examples: ['x']\n  - name: two\n    description: d\n    pattern: '{sep}{sep}'\n    examples: ['=:']\n    negative_examples: ['=']\n",
        )
        .unwrap();
        assert_eq!(
            f.expand("a{sep}b{2,3}\\{sep}").unwrap(),
            "a[=:]b{2,3}\\{sep}"
        );
        assert_eq!(f.expand("{two}").unwrap(), "[=:][=:]");
        assert_eq!(
            f.expand("x{nope}").unwrap_err(),
            "unknown fragment `{nope}`"
        );
        assert!(f.failing_cases().is_empty());
        let twice = "fragments:\n  - name: a\n    description: d\n    pattern: 'x'\n    examples: []\n    negative_examples: []\n  - name: a\n    description: d\n    pattern: 'y'\n    examples: []\n    negative_examples: []\n";
        assert!(Fragments::parse("t.yaml", twice).is_err());
    }
}
