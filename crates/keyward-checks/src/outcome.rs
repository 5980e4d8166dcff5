//! What a check concludes about one NHI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A check's result for one NHI.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The check does not bear on this NHI (a certificate check on an IAM role).
    NotApplicable,
    /// The NHI meets the check.
    Pass,
    /// The NHI fails, and why.
    Fail(Evidence),
}

impl Outcome {
    /// The stable name of the result.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotApplicable => "not_applicable",
            Self::Pass => "pass",
            Self::Fail(_) => "fail",
        }
    }

    /// Passes unless `failure` is given.
    pub fn from(failure: Option<Evidence>) -> Self {
        failure.map_or(Self::Pass, Self::Fail)
    }
}

/// What triggered a failure: a message, the fields and values it rests on, and the sources
/// that reported them. Values are stable facts (dates, names), never "n days ago", so the same
/// condition gives the same evidence on every run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// One sentence.
    pub message: String,
    /// The fields and values the failure rests on.
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    /// Where they came from (`register`, `people`, `aws-iam`, `secrets`, …).
    #[serde(default)]
    pub sources: Vec<String>,
}

impl Evidence {
    /// A failure with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fields: BTreeMap::new(),
            sources: Vec::new(),
        }
    }

    /// Adds a field.
    #[must_use]
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }

    /// Adds a source, once.
    #[must_use]
    pub fn source(mut self, source: &str) -> Self {
        if !self.sources.iter().any(|s| s == source) {
            self.sources.push(source.to_owned());
        }
        self
    }

    /// Adds several sources.
    #[must_use]
    pub fn sources<'a>(mut self, sources: impl IntoIterator<Item = &'a str>) -> Self {
        for s in sources {
            self = self.source(s);
        }
        self
    }
}
