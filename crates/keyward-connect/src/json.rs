use serde::de::DeserializeOwned;

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
    from_slice(file, &file.bytes, 0)
}

/// Parses a JSON-lines file into one `T` per line, skipping blank lines and lines starting
/// with `#`. Each value comes with its 1-based line number. Errors name the file's line.
pub fn parse_json_lines<T: DeserializeOwned>(
    file: &InputFile,
) -> Result<Vec<(usize, T)>, ConnectError> {
    let mut out = Vec::new();
    for (i, line) in file.bytes.split(|&b| b == b'\n').enumerate() {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            continue;
        }
        out.push((i + 1, from_slice(file, line, i)?));
    }
    Ok(out)
}

fn from_slice<T: DeserializeOwned>(
    file: &InputFile,
    bytes: &[u8],
    line_offset: usize,
) -> Result<T, ConnectError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| (e.path().to_string(), e.into_inner()))
        .and_then(|v| de.end().map(|()| v).map_err(|e| (".".to_owned(), e)));
    value.map_err(|(path, inner)| {
        let (line, column) = (inner.line() + line_offset, inner.column());
        let message = message_of(&inner);
        if inner.is_data() && path != "." {
            ConnectError::field(&file.path, (line, column), path, message)
        } else {
            ConnectError::syntax(&file.path, line, column, message)
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
    fn positions_count_from_one() {
        assert_eq!(position_of(b"ab\ncd", 0), (1, 1));
        assert_eq!(position_of(b"ab\ncd", 4), (2, 2));
        assert_eq!(position_of(b"ab", 99), (1, 3));
    }
}
