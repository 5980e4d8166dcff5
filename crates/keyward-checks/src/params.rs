//! Parameters as a check sees them: resolved for one environment.

use chrono::{DateTime, Duration, Utc};

use crate::ParamValue;

/// A check's parameters for one environment: the file's default, its environment default,
/// then `keyward.toml`'s value and environment override, the later winning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, ParamValue)>);

impl Params {
    /// Parameters from name/value pairs.
    pub fn new(values: Vec<(String, ParamValue)>) -> Self {
        Self(values)
    }

    /// Sets one value.
    pub fn set(&mut self, name: &str, value: ParamValue) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A whole-number parameter; 0 when missing (every built-in's parameters are declared in
    /// its check file, which the test suite asserts).
    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Some(ParamValue::Int(n)) => *n,
            _ => 0,
        }
    }

    /// A number of days as a duration.
    pub fn days(&self, name: &str) -> Duration {
        Duration::days(self.int(name))
    }

    /// The instant `name` days before `now`.
    pub fn days_before(&self, name: &str, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.days(name)
    }

    /// A list parameter.
    pub fn list(&self, name: &str) -> &[String] {
        match self.get(name) {
            Some(ParamValue::List(l)) => l,
            _ => &[],
        }
    }

    /// Whether a list parameter holds `word`.
    pub fn has(&self, name: &str, word: &str) -> bool {
        self.list(name).iter().any(|w| w == word)
    }

    /// A flag parameter.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some(ParamValue::Bool(true)))
    }

    /// Every value, as a JSON object (Rego's `data.params`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(n, v)| (n.clone(), v.to_json()))
                .collect(),
        )
    }

    /// The names set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
}
