//! IAM policy documents as the exports and the API write them: a JSON object, or a string
//! holding the URL-encoded JSON (the raw API's form, which the CLI decodes and the SDKs do not).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A string or a list of strings, as IAM writes `Action`, `Resource` and principals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OneOrMany(pub(crate) Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// One statement or a list of them (IAM accepts both for `Statement`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Statements(pub(crate) Vec<Statement>);

impl<'de> Deserialize<'de> for Statements {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Statements;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a statement or a list of statements")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Statements, A::Error> {
                let one = Statement::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Statements(vec![one]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Statements, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Statement>()? {
                    out.push(s);
                }
                Ok(Statements(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum Effect {
    /// Grants.
    Allow,
    /// Refuses, overriding any grant.
    Deny,
}

/// A statement's principal: `"*"` or a map of principal types to identifiers.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    /// A bare string; IAM accepts only `"*"` here.
    Bare(String),
    /// `{"AWS": …, "Service": …, "Federated": …, "CanonicalUser": …}`.
    Typed(Vec<(String, Vec<String>)>),
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Principal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`*` or a map of principal types to identifiers")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Principal, E> {
                Ok(Principal::Bare(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Principal, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, OneOrMany>()? {
                    out.push((k, v.0));
                }
                Ok(Principal::Typed(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// One policy statement; fields IAM added later than these are tolerated and ignored.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Statement {
    #[serde(rename = "Effect")]
    pub(crate) effect: Effect,
    #[serde(rename = "Action")]
    pub(crate) action: Option<OneOrMany>,
    #[serde(rename = "NotAction")]
    pub(crate) not_action: Option<OneOrMany>,
    #[serde(rename = "Resource")]
    pub(crate) resource: Option<OneOrMany>,
    #[serde(rename = "NotResource")]
    pub(crate) not_resource: Option<OneOrMany>,
    #[serde(rename = "Principal")]
    pub(crate) principal: Option<Principal>,
    #[serde(rename = "NotPrincipal")]
    pub(crate) not_principal: Option<Principal>,
    #[serde(rename = "Condition")]
    pub(crate) condition: Option<Map<String, Value>>,
}

impl Statement {
    /// Whether the statement applies to every resource (`Resource: "*"`, or a `NotResource`,
    /// which excludes a few and so reaches nearly all).
    pub(crate) fn on_every_resource(&self) -> bool {
        self.not_resource.is_some()
            || self
                .resource
                .as_ref()
                .is_some_and(|r| r.0.iter().any(|r| r == "*"))
    }
}

/// The document's body.
#[derive(Debug, Clone, Default, Deserialize)]
struct Body {
    #[serde(rename = "Statement", default)]
    statement: Statements,
}

/// A policy document, from a JSON object or a URL-encoded JSON string.
#[derive(Debug, Clone, Default)]
pub(crate) struct PolicyDocument {
    pub(crate) statements: Vec<Statement>,
}

impl PolicyDocument {
    /// A document from its URL-encoded (or plain) JSON text.
    pub(crate) fn from_encoded(text: &str) -> Result<Self, String> {
        let decoded = url_decode(text)?;
        let body: Body = from_str_with_path(&decoded)?;
        Ok(Self {
            statements: body.statement.0,
        })
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PolicyDocument;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a policy document (an object, or a URL-encoded JSON string)")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PolicyDocument, A::Error> {
                let body = Body::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(PolicyDocument {
                    statements: body.statement.0,
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PolicyDocument, E> {
                PolicyDocument::from_encoded(v)
                    .map_err(|e| E::custom(format!("url-encoded policy document: {e}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses JSON text, naming the field path and the position inside that text on failure.
fn from_str_with_path<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Percent-decodes `text` (`+` stays `+`: IAM encodes spaces as `%20`).
pub(crate) fn url_decode(text: &str) -> Result<String, String> {
    if !text.contains('%') {
        return Ok(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
            match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(h), Some(l)) => {
                    // Two hex digits make at most 255.
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 3;
                }
                _ => return Err(format!("bad percent escape at byte {i}")),
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|e| format!("not UTF-8 once decoded: {e}"))
}

/// Percent-encodes a document the way the IAM API returns it.
pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A timestamp as IAM exports write it (`2019-12-18 19:10:08+00:00`,
/// `2026-11-22T01:51:51.397715Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Time(pub(crate) DateTime<Utc>);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        keyward_connect::parse_time(&s)
            .map(Time)
            .ok_or_else(|| de::Error::custom(format!("`{s}` is not a timestamp")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_reads_from_an_object_or_its_url_encoded_text() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*"]}}"#;
        let from_obj: PolicyDocument = serde_json::from_str(text).unwrap();
        let encoded = serde_json::to_string(&url_encode(text)).unwrap();
        assert!(encoded.starts_with("\"%7B%22Version%22"), "{encoded}");
        let from_str: PolicyDocument = serde_json::from_str(&encoded).unwrap();
        for d in [from_obj, from_str] {
            assert_eq!(d.statements.len(), 1);
            assert_eq!(d.statements[0].effect, Effect::Allow);
            assert_eq!(d.statements[0].action.as_ref().unwrap().0, ["s3:GetObject"]);
            assert!(!d.statements[0].on_every_resource());
        }
    }

    #[test]
    fn a_bad_encoded_document_says_where_inside_it() {
        let err = serde_json::from_str::<PolicyDocument>(
            r#""%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Maybe%22%7D%5D%7D""#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("url-encoded policy document: Statement"),
            "{err}"
        );
        assert!(err.contains("unknown variant `Maybe`"), "{err}");
        let err = serde_json::from_str::<PolicyDocument>(r#""%7B%2""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad percent escape"), "{err}");
        let err = serde_json::from_str::<PolicyDocument>(
            r#"{"Statement":[{"Effect":"Allow","Action":7}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("expected a string or a list of strings"),
            "{err}"
        );
    }

    #[test]
    fn export_timestamps_parse() {
        for s in [
            "\"2019-12-18 19:10:08+00:00\"",
            "\"2019-12-18T19:10:08Z\"",
            "\"2019-12-18T19:10:08.000000Z\"",
        ] {
            let t: Time = serde_json::from_str(s).unwrap();
            assert_eq!(t.0.to_rfc3339(), "2019-12-18T19:10:08+00:00", "{s}");
        }
        assert!(serde_json::from_str::<Time>("\"yesterday\"").is_err());
    }
}
