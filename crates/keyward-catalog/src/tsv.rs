//! The tab-separated catalogue files: a header line, then one row per line. Blank lines and
//! lines starting with `#` are skipped.

use crate::error::{CatalogError, DataFile};

/// One data row.
pub(crate) struct Row<'a> {
    /// Its line, counting from 1.
    pub line: usize,
    /// Its fields, trimmed, in header order.
    pub fields: Vec<&'a str>,
}

/// The provenance comment (`# provenance: …`) of a data file, if it has one.
pub(crate) fn provenance(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with('#'))
        .find_map(|l| l.strip_prefix('#')?.trim().strip_prefix("provenance:"))
        .map(str::trim)
}

/// Splits `text` into rows after checking its header is exactly `header`.
pub(crate) fn rows<'a>(
    file: DataFile,
    text: &'a str,
    header: &[&str],
) -> Result<Vec<Row<'a>>, CatalogError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let (header_line, found) = lines.next().ok_or(CatalogError::Empty { file })?;
    let found_fields: Vec<&str> = found.split('\t').map(str::trim).collect();
    if found_fields != header {
        return Err(CatalogError::Header {
            file,
            line: header_line,
            expected: header.join("\t"),
            found: found.to_owned(),
        });
    }
    lines
        .map(|(line, l)| {
            let fields: Vec<&str> = l.split('\t').map(str::trim).collect();
            if fields.len() == header.len() {
                Ok(Row { line, fields })
            } else {
                Err(CatalogError::Columns {
                    file,
                    line,
                    expected: header.len(),
                    found: fields.len(),
                })
            }
        })
        .collect()
}

impl Row<'_> {
    /// Field `index` (named `name` in errors), which must not be empty.
    pub(crate) fn required(
        &self,
        file: DataFile,
        index: usize,
        name: &'static str,
    ) -> Result<&str, CatalogError> {
        match self.fields.get(index) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(CatalogError::Field {
                file,
                line: self.line,
                field: name,
                reason: "is empty".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn skips_comments_and_blank_lines_and_counts_them() {
        let text = "# provenance: somewhere\nid\ttitle\n\nA\tone\r\n# note\nB\ttwo\n";
        let rows = rows(DataFile::AnnexA, text, &["id", "title"]).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 4);
        assert_eq!(rows[0].fields, ["A", "one"]);
        assert_eq!(rows[1].line, 6);
        assert_eq!(provenance(text), Some("somewhere"));
    }

    #[test]
    fn rejects_a_wrong_header() {
        let err = rows(DataFile::Owasp, "# c\nid\tname\n", &["id", "title"])
            .err()
            .unwrap();
        assert!(matches!(err, CatalogError::Header { line: 2, .. }), "{err}");
    }

    #[test]
    fn empty_file_has_no_header() {
        let err = rows(DataFile::Csf, "# only a comment\n", &["id"])
            .err()
            .unwrap();
        assert_eq!(
            err,
            CatalogError::Empty {
                file: DataFile::Csf
            }
        );
        assert_eq!(provenance("id\n# provenance: late\n"), None);
    }
}
