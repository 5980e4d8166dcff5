//! What a check concludes about one NHI, and how `deny`'s value becomes that conclusion.

use regorus::Value;

use crate::convert::{describe, to_json};
use crate::error::RegoError;

/// What a custom check concludes about one NHI.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// `applies` is declared and is not true for this NHI: the check neither passes nor fails.
    NotApplicable,
    /// `deny` is undefined or empty.
    Pass,
    /// `deny` has members: one violation each, sorted by message and then fields.
    Fail(Vec<Violation>),
}

/// One member of `deny`: its message and, for object members, the other fields as evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The member itself when it is a string, otherwise its `msg` field.
    pub message: String,
    /// Every field of an object member but `msg`; empty for a string member.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Turns the value of `deny` into a verdict for an NHI the check applies to.
pub(crate) fn decide(package: &str, deny: &Value) -> Result<Verdict, RegoError> {
    let members: Vec<&Value> = match deny {
        Value::Undefined => return Ok(Verdict::Pass),
        Value::Set(set) => set.iter().collect(),
        Value::Array(array) => array.iter().collect(),
        other => {
            return Err(RegoError::DenyNotCollection {
                package: package.to_owned(),
                found: describe(other),
            });
        }
    };
    if members.is_empty() {
        return Ok(Verdict::Pass);
    }
    let mut violations = members
        .into_iter()
        .map(|member| violation(package, member))
        .collect::<Result<Vec<_>, _>>()?;
    // A set's own order is regorus's value order (strings before objects); the order promised
    // is by message first, and must not depend on which backend or container produced it.
    // Fields compare as Rego values do: name by name, numbers by value.
    violations.sort_by(|a, b| (&a.0.message, &a.1).cmp(&(&b.0.message, &b.1)));
    violations.dedup_by(|a, b| a.0 == b.0);
    let violations = violations.into_iter().map(|(v, _)| v).collect();
    Ok(Verdict::Fail(violations))
}

/// A member's violation, with its fields as a Rego value to sort by.
fn violation(package: &str, member: &Value) -> Result<(Violation, Value), RegoError> {
    let bad_member = || RegoError::DenyMember {
        package: package.to_owned(),
        found: describe(member),
    };
    match member {
        Value::String(message) => Ok((
            Violation {
                message: message.to_string(),
                fields: serde_json::Map::new(),
            },
            Value::new_object(),
        )),
        Value::Object(object) => {
            let Some(Value::String(message)) = object.get(&Value::from("msg")) else {
                return Err(bad_member());
            };
            let mut fields = serde_json::Map::new();
            let mut order = object.as_ref().clone();
            order.remove(&Value::from("msg"));
            for (key, value) in object.iter() {
                let key = match key {
                    Value::String(key) if key.as_ref() == "msg" => continue,
                    Value::String(key) => key.to_string(),
                    other => other.to_string(),
                };
                let value = to_json(value).map_err(|message| RegoError::Evaluation {
                    package: package.to_owned(),
                    message: format!("field `{key}` of a `deny` member: {message}"),
                })?;
                fields.insert(key, value);
            }
            Ok((
                Violation {
                    message: message.to_string(),
                    fields,
                },
                Value::Object(order.into()),
            ))
        }
        _ => Err(bad_member()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rego(json: serde_json::Value) -> Value {
        crate::convert::to_rego(&json)
    }

    #[test]
    fn undefined_and_empty_pass() {
        assert_eq!(decide("p", &Value::Undefined).unwrap(), Verdict::Pass);
        assert_eq!(decide("p", &Value::new_set()).unwrap(), Verdict::Pass);
        assert_eq!(decide("p", &Value::new_array()).unwrap(), Verdict::Pass);
    }

    #[test]
    fn members_are_sorted_and_deduplicated() {
        let deny = rego(json!([
            {"msg": "b", "k": 10},
            {"msg": "b", "k": 2},
            "c",
            {"msg": "b", "k": 1},
            "a",
            "c",
        ]));
        let Verdict::Fail(v) = decide("p", &deny).unwrap() else {
            panic!("expected a failure")
        };
        let seen: Vec<_> = v
            .iter()
            .map(|v| (v.message.as_str(), v.fields.get("k").cloned()))
            .collect();
        assert_eq!(
            seen,
            [
                ("a", None),
                ("b", Some(json!(1))),
                ("b", Some(json!(2))),
                ("b", Some(json!(10))),
                ("c", None)
            ]
        );
    }

    #[test]
    fn non_collections_and_bad_members_are_refused() {
        let err = decide("data.keyward.checks.x", &Value::Bool(true)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`data.keyward.checks.x`: `deny` must be a set or an array of findings, found boolean `true`"
        );
        let err = decide("p", &rego(json!([{"msg": 3}]))).unwrap_err();
        assert!(matches!(err, RegoError::DenyMember { .. }), "{err}");
    }
}
