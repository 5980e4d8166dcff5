use std::path::Path;

use serde::Deserialize;
use serde::de::{DeserializeOwned, DeserializeSeed};

use crate::{ConnectError, InputFile};

/// The 1-based line and column of a byte offset in a text.
pub fn position_of(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, before.len() - start + 1)
}

/// Parses a whole file as one JSON document into `T`. A syntax error names its line and column;
/// a value of the wrong shape also names its field path (`UserDetailList[3].CreateDate`).
pub fn parse_json<T: DeserializeOwned>(file: &InputFile) -> Result<T, ConnectError> {
    parse_json_at(&file.path, &file.bytes, 0)
}

/// Parses a JSON-lines file into one `T` per line, skipping blank lines and lines starting
/// with `#`. Each value comes with its 1-based line number. Errors name the file's line.
pub fn parse_json_lines<T: DeserializeOwned>(
    file: &InputFile,
) -> Result<Vec<(usize, T)>, ConnectError> {
    json_lines(&file.bytes)
        .map(|(i, line)| Ok((i + 1, parse_json_at(&file.path, line, i)?)))
        .collect()
}

/// The content lines of a JSON-lines text with their 0-based line numbers: blank lines and
/// `#` comments left out.
pub fn json_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| {
            let t = line.trim_ascii();
            !t.is_empty() && !t.starts_with(b"#")
        })
}

/// Parses all of `bytes` into `T`; `bytes` start at 0-based line `line_offset` of the file
/// at `path`, so errors name the file's own line and column, and the field path for a value
/// of the wrong type.
pub fn parse_json_at<'de, T: Deserialize<'de>>(
    path: &Path,
    bytes: &'de [u8],
    line_offset: usize,
) -> Result<T, ConnectError> {
    parse_json_seed(path, bytes, line_offset, std::marker::PhantomData::<T>)
}

/// Like [`parse_json_at`] with a seed, for a value whose type depends on what an earlier,
/// lenient pass saw in it.
pub fn parse_json_seed<'de, S: DeserializeSeed<'de>>(
    path: &Path,
    bytes: &'de [u8],
    line_offset: usize,
    seed: S,
) -> Result<S::Value, ConnectError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let value = seed
        .deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
        .map_err(|e| (track.path().to_string(), e))
        .and_then(|v| de.end().map(|()| v).map_err(|e| (String::new(), e)));
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

/// serde_json's message without its ` at line L column C` suffix, which the error carries as
/// fields instead.
fn message_of(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "read only through Debug in these tests")]
    struct Doc {
        users: Vec<User>,
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "read only through Debug in these tests")]
    struct User {
        name: String,
        age: u32,
    }

    fn file(text: &str) -> InputFile {
        InputFile {
            path: "in.json".into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_bad_field_names_its_path_line_and_column() {
        let err = parse_json::<Doc>(&file(
            "{\"users\": [\n {\"name\": \"a\", \"age\": 1},\n {\"name\": \"b\", \"age\": \"x\"}\n]}",
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "in.json:3:25: users[1].age: invalid type: string \"x\", expected u32"
        );
    }

    #[test]
    fn truncated_json_is_a_syntax_error_at_the_end() {
        let err = parse_json::<Doc>(&file("{\"users\": [\n {\"name\": ")).unwrap_err();
        assert!(matches!(err, ConnectError::Syntax { line: 2, .. }), "{err}");
        let err = parse_json::<Doc>(&file("{\"users\": []} trailing")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("in.json:1:15: trailing characters"),
            "{err}"
        );
    }

    #[test]
    fn json_lines_skip_comments_and_count_lines() {
        let rows =
            parse_json_lines::<serde_json::Value>(&file("# exported\n{\"a\":1}\n\n{\"a\":2}\n"))
                .unwrap();
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 4]);
        let err = parse_json_lines::<User>(&file("{\"name\":\"a\",\"age\":1}\n{\"name\":\"b\"}\n"))
            .unwrap_err();
        assert!(err.to_string().starts_with("in.json:2:"), "{err}");
        assert!(err.to_string().contains("missing field `age`"), "{err}");
    }

    #[test]
    fn errors_count_lines_from_the_offset_and_name_the_field() {
        let err = parse_json_at::<User>(Path::new("f.jsonl"), br#"{"name": "a", "age": "x"}"#, 4)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.jsonl:5:24: age: invalid type: string \"x\", expected u32"
        );
        let lines: Vec<_> = json_lines(b"# c\n\n{}\n  # x\n[]").map(|l| l.0).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn positions_count_from_one() {
        assert_eq!(position_of(b"ab\ncd", 0), (1, 1));
        assert_eq!(position_of(b"ab\ncd", 4), (2, 2));
        assert_eq!(position_of(b"ab", 99), (1, 3));
    }
}
