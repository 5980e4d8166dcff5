//! Conversions between `serde_json` documents and regorus values.

use std::collections::BTreeMap;

use regorus::Value;

/// An NHI converted once into regorus's values, to be judged by several checks.
///
/// [`crate::RegoCheck::evaluate`] converts its input on every call; when many checks judge
/// the same NHI, converting it once and passing this to
/// [`crate::RegoCheck::evaluate_prepared`] saves that work for all checks but the first.
/// Cloning is cheap: the converted document is shared.
#[derive(Debug, Clone)]
pub struct PreparedInput {
    pub(crate) value: Value,
    /// The kind of JSON the NHI was, for refusing what is not an object.
    pub(crate) kind: &'static str,
}

impl PreparedInput {
    /// Converts one NHI's JSON document.
    pub fn new(nhi: &serde_json::Value) -> Self {
        Self {
            value: to_rego(nhi),
            kind: json_kind(nhi),
        }
    }
}

impl From<&serde_json::Value> for PreparedInput {
    fn from(nhi: &serde_json::Value) -> Self {
        Self::new(nhi)
    }
}

/// Builds the regorus value for a JSON document.
///
/// Written by hand rather than through serde: it is on the per-NHI path, and a direct walk
/// measured faster than deserializing from `&serde_json::Value`.
pub(crate) fn to_rego(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => number(n),
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => {
            Value::from(items.iter().map(to_rego).collect::<Vec<_>>())
        }
        serde_json::Value::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (Value::from(k.as_str()), to_rego(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

fn number(n: &serde_json::Number) -> Value {
    if let Some(u) = n.as_u64() {
        Value::from(u)
    } else if let Some(i) = n.as_i64() {
        Value::from(i)
    } else {
        // serde_json only holds finite floats, so nothing is lost or refused here.
        Value::from(n.as_f64().unwrap_or_default())
    }
}

/// Builds the JSON document for a regorus value: sets become arrays, non-string object keys
/// become their JSON text, as regorus serializes them.
pub(crate) fn to_json(value: &Value) -> Result<serde_json::Value, String> {
    serde_json::to_value(value).map_err(|e| e.to_string())
}

/// Names a value's type and shows it, cut short, for error messages.
pub(crate) fn describe(value: &Value) -> String {
    const MAX: usize = 80;
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => return "an undefined value".to_owned(),
    };
    let mut text = value.to_string();
    if text.chars().count() > MAX {
        text = text.chars().take(MAX).collect::<String>() + "…";
    }
    format!("{kind} `{text}`")
}

/// Names a JSON document's type, for error messages about what a caller passed.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn round_trips_json_documents() {
        let doc = json!({
            "kind": "service_account",
            "n": 3, "neg": -4, "f": 1.5, "big": u64::MAX,
            "nested": {"a": [true, null, "x"], "b": {}},
            "list": [],
        });
        let back = to_json(&to_rego(&doc)).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn agrees_with_regorus_own_parser() {
        let doc = json!({"tags": {"b": "2", "a": "1"}, "xs": [1, 2.25, -3], "s": "é"});
        let parsed = Value::from_json_str(&doc.to_string()).unwrap();
        assert_eq!(to_rego(&doc), parsed);
    }

    #[test]
    fn describes_values_briefly() {
        assert_eq!(describe(&Value::from(3u64)), "number `3`");
        let long = Value::from("x".repeat(200).as_str());
        let text = describe(&long);
        assert!(text.starts_with("string `\"xxx"), "{text}");
        assert!(text.chars().count() < 100, "{text}");
    }
}
