//! `annex-a-evidence.yaml`: for each Annex A control, how Keyward evidences it. The schema is
//! strict: a mapping from control id to exactly `scope`, `records` and `note`.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_saphyr::Spanned;

use crate::error::{CatalogError, DataFile};
use crate::model::{Evidence, Record, Scope};

const FILE: DataFile = DataFile::Evidence;

/// One entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    scope: Spanned<String>,
    records: Vec<Spanned<String>>,
    note: String,
}

/// The top-level mapping, kept in file order so duplicates and lines can be reported.
struct Entries(Vec<(Spanned<String>, RawEntry)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping from Annex A control id to its evidence")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    out.push(pair);
                }
                Ok(Entries(out))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// One validated entry.
pub(crate) struct Entry {
    pub control: String,
    pub line: usize,
    pub evidence: Evidence,
}

fn line_of<T>(s: &Spanned<T>) -> usize {
    usize::try_from(s.referenced.line()).unwrap_or(0)
}

/// Parses the evidence file, checking each entry on its own (not yet against Annex A).
pub(crate) fn parse(text: &str) -> Result<Vec<Entry>, CatalogError> {
    let has_content = text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    });
    if !has_content {
        return Ok(Vec::new());
    }
    let Entries(raw) = serde_saphyr::from_str(text).map_err(yaml_error)?;
    let mut out: Vec<Entry> = Vec::with_capacity(raw.len());
    for (key, entry) in raw {
        let line = line_of(&key);
        let control = key.value;
        if let Some(first) = out.iter().find(|e| e.control == control) {
            return Err(CatalogError::Duplicate {
                file: FILE,
                line,
                field: "control",
                id: control,
                first: first.line,
            });
        }
        let evidence = check_entry(&control, line, entry)?;
        out.push(Entry {
            control,
            line,
            evidence,
        });
    }
    Ok(out)
}

fn check_entry(control: &str, line: usize, raw: RawEntry) -> Result<Evidence, CatalogError> {
    let entry_error = |field: &'static str, reason: String| CatalogError::Entry {
        file: FILE,
        line,
        control: control.to_owned(),
        field,
        reason,
    };
    let scope = Scope::from_name(&raw.scope.value).ok_or_else(|| CatalogError::UnknownScope {
        file: FILE,
        line: line_of(&raw.scope),
        control: control.to_owned(),
        value: raw.scope.value.clone(),
    })?;
    let mut records = Vec::with_capacity(raw.records.len());
    for r in &raw.records {
        let record = Record::from_name(&r.value).ok_or_else(|| CatalogError::UnknownRecord {
            file: FILE,
            line: line_of(r),
            control: control.to_owned(),
            value: r.value.clone(),
        })?;
        if records.contains(&record) {
            return Err(entry_error(
                "records",
                format!("`{record}` is listed twice"),
            ));
        }
        records.push(record);
    }
    match (scope, records.is_empty()) {
        (Scope::Outside, false) => {
            return Err(entry_error(
                "records",
                "a control outside Keyward's scope lists no records".to_owned(),
            ));
        }
        (Scope::Nhi | Scope::Partial, true) => {
            return Err(entry_error(
                "records",
                format!("scope `{scope}` needs at least one record"),
            ));
        }
        _ => {}
    }
    let note = raw.note.trim();
    if note.is_empty() {
        return Err(entry_error("note", "is empty".to_owned()));
    }
    Ok(Evidence {
        scope,
        records,
        note: note.to_owned(),
    })
}

/// Turns a parser error into one naming the file and line, with the parser's message on one line.
fn yaml_error(e: serde_saphyr::Error) -> CatalogError {
    let line = e
        .location()
        .and_then(|l| usize::try_from(l.line()).ok())
        .unwrap_or(0);
    let message = e.without_snippet().to_string();
    let first = message.lines().next().unwrap_or_default().trim();
    // The plain message ends with its own position, which the error already carries.
    let reason = first
        .rsplit_once(" at line ")
        .map_or(first, |(head, _)| head)
        .trim_start_matches("error: ");
    // Advice about the parser's own options means nothing to someone editing the file.
    let reason = reason
        .split_once(", set DuplicateKeyPolicy")
        .map_or(reason, |(head, _)| head);
    let mut reason = reason.to_owned();
    if let Some(c) = reason.get(..1) {
        let lower = c.to_lowercase();
        reason.replace_range(..1, &lower);
    }
    CatalogError::Yaml {
        file: FILE,
        line,
        reason,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn reads_entries_with_their_lines() {
        let text = "# c\nA.5.1:\n  scope: partial\n  records: [ledger]\n  note: Kept.\nA.7.1:\n  scope: outside\n  records: []\n  note: Not ours.\n";
        let entries = parse(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].control, "A.5.1");
        assert_eq!(entries[0].line, 2);
        assert_eq!(entries[0].evidence.records, [Record::Ledger]);
        assert_eq!(entries[1].line, 6);
        assert_eq!(entries[1].evidence.scope, Scope::Outside);
    }

    #[test]
    fn unknown_field_is_refused_with_a_line() {
        let text = "A.5.1:\n  scope: partial\n  records: [ledger]\n  note: Kept.\n  owner: me\n";
        let err = parse(text).err().unwrap();
        let CatalogError::Yaml { line, reason, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(*line, 5, "{err}");
        assert!(reason.contains("owner"), "{err}");
        assert!(!reason.contains('\n'));
    }

    #[test]
    fn missing_field_is_refused() {
        let err = parse("A.5.1:\n  scope: partial\n  records: [ledger]\n")
            .err()
            .unwrap();
        assert!(err.to_string().contains("note"), "{err}");
    }

    #[test]
    fn duplicate_control_is_refused() {
        let one = "  scope: outside\n  records: []\n  note: No.\n";
        let err = parse(&format!("A.7.1:\n{one}A.7.1:\n{one}")).err().unwrap();
        assert_eq!(
            err.to_string(),
            "annex-a-evidence.yaml:5: duplicate mapping key: A.7.1"
        );
    }

    #[test]
    fn records_must_fit_the_scope() {
        let err = parse("A.7.1:\n  scope: outside\n  records: [ledger]\n  note: No.\n")
            .err()
            .unwrap();
        assert!(
            matches!(
                &err,
                CatalogError::Entry {
                    field: "records",
                    line: 1,
                    ..
                }
            ),
            "{err}"
        );
        let err = parse("A.5.9:\n  scope: nhi\n  records: []\n  note: Yes.\n")
            .err()
            .unwrap();
        assert!(err.to_string().contains("at least one record"), "{err}");
        let err = parse("A.5.9:\n  scope: nhi\n  records: [ledger, ledger]\n  note: Yes.\n")
            .err()
            .unwrap();
        assert!(err.to_string().contains("twice"), "{err}");
    }

    #[test]
    fn unknown_scope_names_control_and_value() {
        let err = parse("A.5.9:\n  scope: most\n  records: [ledger]\n  note: Yes.\n")
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "annex-a-evidence.yaml:2: control `A.5.9`: field `scope`: unknown scope `most`; expected `nhi`, `partial` or `outside`"
        );
    }

    #[test]
    fn empty_note_is_refused() {
        let err = parse("A.5.9:\n  scope: nhi\n  records: [ledger]\n  note: ' '\n")
            .err()
            .unwrap();
        assert!(
            matches!(&err, CatalogError::Entry { field: "note", .. }),
            "{err}"
        );
    }
}
