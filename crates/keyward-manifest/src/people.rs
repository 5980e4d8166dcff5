//! The people CSV: who can own NHIs, exported from the HR directory.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs;
use std::path::Path;

use keyward_model::{Person, PersonStatus};

use crate::error::{ManifestError, ManifestErrors};
use crate::load::{io_reason, utf8};
use crate::scalar;

/// The people CSV's header, exactly and in this order.
pub const PEOPLE_COLUMNS: [&str; 6] = [
    "email",
    "name",
    "team",
    "manager_email",
    "status",
    "departed_on",
];

/// Reads the people CSV at `path`, all or nothing.
pub fn load_people_csv(path: &Path) -> Result<Vec<Person>, ManifestErrors> {
    let label = path.display().to_string();
    let fail = |e: ManifestError| ManifestErrors(vec![e]);
    let bytes =
        fs::read(path).map_err(|e| fail(ManifestError::new(&label, 0, "", io_reason(&e))))?;
    let text = utf8(&label, &bytes).map_err(fail)?;
    parse_people_csv(&label, text)
}

/// Parses people CSV text, labelled `label` in errors, all or nothing.
///
/// A header-only file holds no one and is valid; an empty file is an error.
pub fn parse_people_csv(label: &str, text: &str) -> Result<Vec<Person>, ManifestErrors> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Vec::new();
    let mut err = |line: usize, field: &str, reason: String| {
        errors.push(ManifestError::new(label, line, field, reason));
    };
    if text.trim().is_empty() {
        err(
            0,
            "",
            format!(
                "file is empty (expected the header `{}`)",
                PEOPLE_COLUMNS.join(",")
            ),
        );
        return Err(ManifestErrors(errors));
    }

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut people = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut header_checked = false;

    for record in &mut records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| to_line(p.line()));
                err(
                    line,
                    "",
                    "invalid CSV: the record cannot be read".to_owned(),
                );
                continue;
            }
        };
        let line = record.position().map_or(0, |p| to_line(p.line()));
        if !header_checked {
            header_checked = true;
            if !check_header(&record, line, &mut err) {
                break;
            }
            continue;
        }
        if record.len() != PEOPLE_COLUMNS.len() {
            err(
                line,
                "",
                format!(
                    "expected {} columns, found {}",
                    PEOPLE_COLUMNS.len(),
                    record.len()
                ),
            );
            continue;
        }
        let cell = |i: usize| record.get(i).unwrap_or_default();
        if let Some(person) = check_row(
            [cell(0), cell(1), cell(2), cell(3), cell(4), cell(5)],
            line,
            &mut err,
        ) {
            match seen.entry(person.email.clone()) {
                Entry::Occupied(first) => err(
                    line,
                    "email",
                    format!(
                        "duplicate email `{}` (first at line {})",
                        person.email,
                        first.get()
                    ),
                ),
                Entry::Vacant(v) => {
                    v.insert(line);
                    people.push(person);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(people)
    } else {
        Err(ManifestErrors::capped(errors))
    }
}

fn to_line(line: u64) -> usize {
    usize::try_from(line).unwrap_or(usize::MAX)
}

/// Reports every difference from [`PEOPLE_COLUMNS`]; `true` when there is none.
fn check_header(
    record: &csv::StringRecord,
    line: usize,
    err: &mut impl FnMut(usize, &str, String),
) -> bool {
    let header: Vec<&str> = record.iter().collect();
    if header == PEOPLE_COLUMNS {
        return true;
    }
    let expected = PEOPLE_COLUMNS.join(",");
    let mut named = false;
    for col in PEOPLE_COLUMNS {
        if !header.contains(&col) {
            err(
                line,
                col,
                format!("missing column (expected the header `{expected}`)"),
            );
            named = true;
        }
    }
    for (i, col) in header.iter().enumerate() {
        if header.get(..i).is_some_and(|before| before.contains(col)) {
            err(line, col, "repeated column".to_owned());
            named = true;
        } else if !PEOPLE_COLUMNS.contains(col) {
            let what = if col.is_empty() {
                format!(
                    "unnamed column {} (expected the header `{expected}`)",
                    i + 1
                )
            } else {
                format!("unknown column (expected the header `{expected}`)")
            };
            err(line, col, what);
            named = true;
        }
    }
    if !named {
        err(
            line,
            "",
            format!("columns are out of order (expected the header `{expected}`)"),
        );
    }
    false
}

/// Checks one row's cells; the person when every cell is valid.
fn check_row(
    [email, name, team, manager, status, departed_on]: [&str; 6],
    line: usize,
    err: &mut impl FnMut(usize, &str, String),
) -> Option<Person> {
    let mut ok = true;
    let mut fail = |field: &str, reason: String| {
        err(line, field, reason);
        ok = false;
    };

    let email = if email.is_empty() {
        fail("email", "must not be empty".to_owned());
        None
    } else {
        let parsed = scalar::parse_email(email);
        if parsed.is_none() {
            fail("email", format!("`{email}` is not an email address"));
        }
        parsed
    };
    if name.is_empty() {
        fail("name", "must not be empty".to_owned());
    }
    if !team.is_empty() && !scalar::is_team_name(team) {
        fail(
            "team",
            format!("`{team}` is not a valid team name (letters, digits, `.`, `_` and `-`)"),
        );
    }
    let manager_email = if manager.is_empty() {
        None
    } else {
        match scalar::parse_email(manager) {
            Some(m) if email.as_ref() == Some(&m) => {
                fail(
                    "manager_email",
                    format!("`{manager}` is the person's own email"),
                );
                None
            }
            Some(m) => Some(m),
            None => {
                fail(
                    "manager_email",
                    format!("`{manager}` is not an email address"),
                );
                None
            }
        }
    };
    let status = if status.is_empty() {
        fail(
            "status",
            "must not be empty (expected one of: active, departed)".to_owned(),
        );
        None
    } else {
        match status.parse::<PersonStatus>() {
            Ok(s) => Some(s),
            Err(e) => {
                fail("status", e.to_string());
                None
            }
        }
    };
    let departed = if departed_on.is_empty() {
        None
    } else {
        let d = scalar::parse_date(departed_on);
        if d.is_none() {
            fail(
                "departed_on",
                format!("`{departed_on}` is not a date (expected YYYY-MM-DD)"),
            );
        }
        d
    };
    match (status, departed_on.is_empty()) {
        (Some(PersonStatus::Departed), true) => {
            fail(
                "departed_on",
                "must be given for a departed person".to_owned(),
            );
        }
        (Some(PersonStatus::Active), false) => {
            fail(
                "departed_on",
                format!("`{departed_on}` given for an active person (leave it empty)"),
            );
        }
        _ => {}
    }

    if !ok {
        return None;
    }
    Some(Person {
        email: email?,
        name: name.to_owned(),
        team: (!team.is_empty()).then(|| team.to_owned()),
        manager_email,
        status: status?,
        departed_on: departed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const HEADER: &str = "email,name,team,manager_email,status,departed_on\n";

    fn errors(text: &str) -> Vec<String> {
        parse_people_csv("people.csv", text)
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn reads_people() {
        let text = format!(
            "{HEADER}Alice@Example.com , Alice Liddell,payments,,active,\n\
             bob@example.com,\"Bob, Jr.\n(contractor)\",,alice@example.com,departed,2026-05-31\n\
             \n\
             carol@example.com,Carol,,,active,\n"
        );
        let people = parse_people_csv("people.csv", &text).unwrap();
        assert_eq!(
            people,
            [
                Person {
                    email: "alice@example.com".into(),
                    name: "Alice Liddell".into(),
                    team: Some("payments".into()),
                    manager_email: None,
                    status: PersonStatus::Active,
                    departed_on: None,
                },
                Person {
                    email: "bob@example.com".into(),
                    name: "Bob, Jr.\n(contractor)".into(),
                    team: None,
                    manager_email: Some("alice@example.com".into()),
                    status: PersonStatus::Departed,
                    departed_on: NaiveDate::from_ymd_opt(2026, 5, 31),
                },
                Person {
                    email: "carol@example.com".into(),
                    name: "Carol".into(),
                    team: None,
                    manager_email: None,
                    status: PersonStatus::Active,
                    departed_on: None,
                },
            ]
        );
    }

    #[test]
    fn header_only_is_empty_and_empty_is_an_error() {
        assert_eq!(parse_people_csv("people.csv", HEADER).unwrap(), []);
        assert_eq!(
            errors(" \n"),
            [
                "people.csv: file is empty (expected the header `email,name,team,manager_email,status,departed_on`)"
            ]
        );
    }

    #[test]
    fn header_must_match_exactly() {
        assert_eq!(
            errors("email,name,team,manager,status,departed_on,extra\n"),
            [
                "people.csv:1: manager_email: missing column (expected the header `email,name,team,manager_email,status,departed_on`)",
                "people.csv:1: manager: unknown column (expected the header `email,name,team,manager_email,status,departed_on`)",
                "people.csv:1: extra: unknown column (expected the header `email,name,team,manager_email,status,departed_on`)",
            ]
        );
        assert_eq!(
            errors("name,email,team,manager_email,status,departed_on\n"),
            [
                "people.csv:1: columns are out of order (expected the header `email,name,team,manager_email,status,departed_on`)"
            ]
        );
        assert_eq!(
            errors("Email,name,team,manager_email,status,departed_on\n"),
            [
                "people.csv:1: email: missing column (expected the header `email,name,team,manager_email,status,departed_on`)",
                "people.csv:1: Email: unknown column (expected the header `email,name,team,manager_email,status,departed_on`)",
            ]
        );
        assert_eq!(
            errors("email,name,team,manager_email,status,departed_on,email\n"),
            ["people.csv:1: email: repeated column"]
        );
    }

    #[test]
    fn every_row_error_is_reported_with_its_line() {
        let text = format!(
            "{HEADER}\
             alice,,pay ments,bob,active,2026-01-01\n\
             ,Nobody,,,departed,\n\
             carol@example.com,Carol,,carol@example.com,retired,2026-02-30\n\
             dan@example.com,Dan,,,departed,\n\
             erin@example.com,Erin\n\
             \"frank@example.com\",\"Frank\nSmith\",,,active,\n\
             Frank@example.com,Frank again,,,active,\n"
        );
        assert_eq!(
            errors(&text),
            [
                "people.csv:2: email: `alice` is not an email address",
                "people.csv:2: name: must not be empty",
                "people.csv:2: team: `pay ments` is not a valid team name (letters, digits, `.`, `_` and `-`)",
                "people.csv:2: manager_email: `bob` is not an email address",
                "people.csv:2: departed_on: `2026-01-01` given for an active person (leave it empty)",
                "people.csv:3: email: must not be empty",
                "people.csv:3: departed_on: must be given for a departed person",
                "people.csv:4: manager_email: `carol@example.com` is the person's own email",
                "people.csv:4: status: `retired` is not a valid status (expected one of: active, departed)",
                "people.csv:4: departed_on: `2026-02-30` is not a date (expected YYYY-MM-DD)",
                "people.csv:5: departed_on: must be given for a departed person",
                "people.csv:6: expected 6 columns, found 2",
                "people.csv:9: email: duplicate email `frank@example.com` (first at line 7)",
            ]
        );
    }

    #[test]
    fn loads_from_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("people.csv");
        std::fs::write(&path, format!("{HEADER}a@example.com,A,,,active,\n")).unwrap();
        assert_eq!(load_people_csv(&path).unwrap().len(), 1);
        let err = load_people_csv(&tmp.path().join("nope.csv")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}/nope.csv: cannot read: not found", tmp.path().display())
        );
    }
}
