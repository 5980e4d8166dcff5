//! Reading log files as streams of JSON values without copying what is not needed.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::path::Path;

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, parse_time};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Parses every top-level JSON value of a file as `T` and hands each to `each`: one document
/// (`{"Records":[…]}`), JSON lines, or pretty-printed documents one after another are all a
/// stream of values. A syntax error names the file's line and column; a value of the wrong
/// type also names its field path (`Records[3].userIdentity.arn`).
pub(crate) fn for_each_value<'a, T, F>(
    path: &Path,
    bytes: &'a [u8],
    mut each: F,
) -> Result<(), ConnectError>
where
    T: Deserialize<'a>,
    F: FnMut(T),
{
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<T>();
    loop {
        let start = stream.byte_offset();
        match stream.next() {
            None => return Ok(()),
            Some(Ok(value)) => each(value),
            Some(Err(e)) => return Err(positioned::<T>(path, &bytes[start..], &e)),
        }
    }
}

/// The error of a failed value as a `ConnectError`. The fast pass does not track field paths,
/// so the failing value is parsed again with tracking to name the field; the position comes
/// from the first pass, which counted lines from the start of the file.
fn positioned<'a, T: Deserialize<'a>>(
    path: &Path,
    rest: &'a [u8],
    e: &serde_json::Error,
) -> ConnectError {
    let message = message_of(e);
    let (line, column) = (e.line(), e.column());
    if e.is_data() {
        let mut de = serde_json::Deserializer::from_slice(rest);
        if let Err(tracked) = serde_path_to_error::deserialize::<_, T>(&mut de) {
            let field = tracked.path().to_string();
            if field != "." {
                return ConnectError::field(path, (line, column), field, message);
            }
        }
    }
    ConnectError::syntax(path, line, column, message)
}

/// serde_json's message without its ` at line L column C` suffix, which the error carries as
/// fields instead.
fn message_of(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

/// A JSON string borrowed from the input when it has no escapes, owned when it has. serde's
/// own `Option<Cow<str>>` always copies, which costs most of the parse on large logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

/// A string where the source puts free-form data: a string is kept, any other value (an
/// object, a number) is skipped rather than rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LooseStr<'a>(pub Option<Str<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for LooseStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LooseStr<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<LooseStr<'a>, E> {
                Ok(LooseStr(Some(Str(Cow::Borrowed(v)))))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<LooseStr<'a>, E> {
                Ok(LooseStr(Some(Str(Cow::Owned(v.to_owned())))))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LooseStr<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LooseStr(None))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LooseStr<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LooseStr(None))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LooseStr<'a>, E> {
                Ok(LooseStr(None))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<LooseStr<'a>, E> {
                Ok(LooseStr(None))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<LooseStr<'a>, E> {
                Ok(LooseStr(None))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<LooseStr<'a>, E> {
                Ok(LooseStr(None))
            }

            fn visit_unit<E: de::Error>(self) -> Result<LooseStr<'a>, E> {
                Ok(LooseStr(None))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An object of type `T` where the source may also put something else: an object is read as
/// `T` (its fields checked as `T` says), any other value is skipped. Used for the `log` of a
/// test-fixture wrapper and for free-form CloudTrail objects that some exports flatten into
/// strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loose<T>(pub Option<Box<T>>);

impl<T> Default for Loose<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Loose<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Loose<T>, A::Error> {
                let inner = T::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Loose(Some(Box::new(inner))))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A timestamp field that must hold one: anything but a timestamp string fails the parse at
/// its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a timestamp string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                parse_log_time(v)
                    .map(Timestamp)
                    .ok_or_else(|| E::custom(format_args!("not a timestamp: `{}`", clip(v))))
            }
        }
        d.deserialize_str(V)
    }
}

/// Parses a log timestamp: what [`parse_time`] takes, and also `2021-05-20 15:53:47Z`
/// (a space and a `Z`), as some exports of CloudTrail write it.
pub(crate) fn parse_log_time(s: &str) -> Option<DateTime<Utc>> {
    parse_time(s).or_else(|| s.trim().strip_suffix('Z').and_then(parse_time))
}

/// At most 60 characters of an input value, for messages.
pub(crate) fn clip(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(60) {
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
        None => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc<'a> {
        #[serde(borrow, default)]
        name: Option<Str<'a>>,
        #[serde(borrow, default)]
        loose: LooseStr<'a>,
        #[serde(default)]
        at: Option<Timestamp>,
        #[serde(default)]
        inner: Loose<Inner>,
    }

    #[derive(Debug, Deserialize)]
    struct Inner {
        n: u32,
    }

    fn all(text: &str) -> Result<Vec<Doc<'_>>, ConnectError> {
        let mut out = Vec::new();
        for_each_value(Path::new("f.json"), text.as_bytes(), |d| out.push(d))?;
        Ok(out)
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let docs = all(r#"{"name":"plain"} {"name":"a\"b"}"#).unwrap();
        assert!(matches!(
            docs[0].name.as_ref().unwrap().0,
            Cow::Borrowed("plain")
        ));
        assert!(matches!(&docs[1].name.as_ref().unwrap().0, Cow::Owned(s) if s == "a\"b"));
    }

    #[test]
    fn loose_fields_skip_other_shapes_and_strict_ones_do_not() {
        let docs = all(
            "{\"loose\":{\"x\":[1,2]},\"inner\":\"flattened\"}\n{\"loose\":\"s\",\"inner\":{\"n\":3}}\n",
        )
        .unwrap();
        assert_eq!(docs[0].loose, LooseStr(None));
        assert!(docs[0].inner.0.is_none());
        assert_eq!(docs[1].loose.0.as_deref(), Some("s"));
        assert_eq!(docs[1].inner.0.as_ref().unwrap().n, 3);

        let err = all("{\"name\":\"a\"}\n{\"inner\": {\"n\": \"x\"}}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.json:2:19: inner.n: invalid type: string \"x\", expected u32"
        );
        let err = all("{\"name\": 5}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.json:1:10: name: invalid type: integer `5`, expected a string"
        );
    }

    #[test]
    fn timestamps_must_be_timestamps() {
        let docs =
            all(r#"{"at":"2021-05-20 15:53:47Z"} {"at":"2022-11-29 22:34:06.892"}"#).unwrap();
        assert_eq!(
            docs[0].at.unwrap().0.to_rfc3339(),
            "2021-05-20T15:53:47+00:00"
        );
        assert_eq!(
            docs[1].at.unwrap().0.to_rfc3339(),
            "2022-11-29T22:34:06.892+00:00"
        );
        let err = all("{\"at\":\"yesterday\"}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.json:1:17: at: not a timestamp: `yesterday`"
        );
    }

    #[test]
    fn truncated_and_trailing_input_is_a_syntax_error() {
        let err = all("{\"name\":\"a\"}\n{\"name\":").unwrap_err();
        assert!(matches!(err, ConnectError::Syntax { line: 2, .. }), "{err}");
        let err = all("{\"name\":\"a\"} ]").unwrap_err();
        assert!(
            matches!(
                err,
                ConnectError::Syntax {
                    line: 1,
                    column: 14,
                    ..
                }
            ),
            "{err}"
        );
        assert!(all("").unwrap().is_empty());
        assert!(all(" \n\n").unwrap().is_empty());
    }

    #[test]
    fn clips_long_values() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(100);
        assert_eq!(clip(&long).chars().count(), 61);
    }
}
