//! Positioned JSON parsing with a seed, so one element's type can depend on what a first,
//! lenient pass saw in it (an object's telling keys may come after the ones it shares).

use std::path::Path;

use keyward_connect::ConnectError;
use serde::de::DeserializeSeed;

/// Deserializes all of `bytes` with `seed`. `bytes` start at 0-based line `line_offset` of the
/// file at `path`; errors name the file's line and column, and the field path for a value of
/// the wrong type.
pub(crate) fn parse_seed<'de, S: DeserializeSeed<'de>>(
    path: &Path,
    bytes: &'de [u8],
    line_offset: usize,
    seed: S,
) -> Result<S::Value, ConnectError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let result = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    let value = match result {
        Ok(v) => de.end().map(|()| v).map_err(|e| (String::new(), e)),
        Err(e) => Err((track.path().to_string(), e)),
    };
    value.map_err(|(field, inner)| {
        let (line, column) = (inner.line() + line_offset, inner.column());
        let message = message_of(&inner);
        if inner.is_data() && !field.is_empty() && field != "." {
            ConnectError::field(path, (line, column), field, message)
        } else {
            ConnectError::syntax(path, line, column, message)
        }
    })
}

/// Like [`parse_seed`] for a type that needs no seed.
pub(crate) fn parse_at<'de, T: serde::Deserialize<'de>>(
    path: &Path,
    bytes: &'de [u8],
    line_offset: usize,
) -> Result<T, ConnectError> {
    parse_seed(path, bytes, line_offset, std::marker::PhantomData::<T>)
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

/// The first non-whitespace byte of a text, with its 1-based line and column.
pub(crate) fn content_start(bytes: &[u8]) -> Option<(usize, usize, u8)> {
    let i = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let (line, column) = keyward_connect::position_of(bytes, i);
    Some((line, column, bytes[i]))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Row {
        #[expect(dead_code, reason = "read only to provoke type errors")]
        n: u32,
    }

    #[test]
    fn errors_count_lines_from_the_offset_and_name_the_field() {
        let err = parse_at::<Row>(Path::new("f.jsonl"), br#"{"n": "x"}"#, 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.jsonl:5:9: n: invalid type: string \"x\", expected u32"
        );
        let err = parse_at::<Row>(Path::new("f.jsonl"), br#"{"n": 1} {"#, 0).unwrap_err();
        assert!(
            err.to_string().starts_with("f.jsonl:1:10: trailing"),
            "{err}"
        );
    }

    #[test]
    fn content_starts_after_whitespace() {
        assert_eq!(content_start(b"\n  [1]"), Some((2, 3, b'[')));
        assert_eq!(content_start(b" \t\n"), None);
    }
}
