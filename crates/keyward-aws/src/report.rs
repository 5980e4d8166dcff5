//! The IAM credential report (CSV): one row per user plus `<root_account>`, with password,
//! MFA, two access-key slots and two signing-certificate slots. Columns are found by their
//! header name, so a report with columns added or reordered still reads.

use std::path::Path;

use chrono::{DateTime, Utc};
use keyward_connect::ConnectError;

/// The user name IAM gives the account's root row.
pub(crate) const ROOT_USER: &str = "<root_account>";

/// A report's date-or-marker value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// A time.
    At(DateTime<Utc>),
    /// `N/A`: does not apply, or never happened (a key never used).
    NotApplicable,
    /// `no_information`: IAM has no record (a password last used before October 2014).
    NoInformation,
    /// `not_supported`: IAM does not track this for the row (the root's password fields).
    NotSupported,
}

impl Stamp {
    pub(crate) fn time(self) -> Option<DateTime<Utc>> {
        match self {
            Self::At(t) => Some(t),
            _ => None,
        }
    }
}

/// An access-key slot of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeySlot {
    pub(crate) active: Option<bool>,
    pub(crate) last_rotated: Stamp,
    pub(crate) last_used: Stamp,
    pub(crate) last_used_region: Option<String>,
    pub(crate) last_used_service: Option<String>,
}

/// A signing-certificate slot of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertSlot {
    pub(crate) active: Option<bool>,
    pub(crate) last_rotated: Stamp,
}

impl KeySlot {
    /// Whether the slot holds a key: active, or inactive with a creation time.
    pub(crate) fn exists(&self) -> bool {
        self.active == Some(true) || self.last_rotated.time().is_some()
    }
}

impl CertSlot {
    /// Whether the slot holds a certificate.
    pub(crate) fn exists(&self) -> bool {
        self.active == Some(true) || self.last_rotated.time().is_some()
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportRow {
    /// 1-based line in the file, for messages.
    pub(crate) line: usize,
    pub(crate) user: String,
    pub(crate) arn: String,
    pub(crate) created: Stamp,
    pub(crate) password_enabled: Option<bool>,
    pub(crate) password_last_used: Stamp,
    pub(crate) password_last_changed: Stamp,
    pub(crate) password_next_rotation: Stamp,
    pub(crate) mfa_active: Option<bool>,
    pub(crate) keys: [KeySlot; 2],
    pub(crate) certs: [CertSlot; 2],
}

impl ReportRow {
    /// Whether this is the account's root row.
    pub(crate) fn is_root(&self) -> bool {
        self.user == ROOT_USER
    }
}

/// A credential report, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialReport {
    pub(crate) rows: Vec<ReportRow>,
}

impl CredentialReport {
    /// How many rows (users, the root row included) it has.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Parses a credential report from its bytes; `path` names it in errors, which give the line,
/// the column (1-based character position) and the column's name.
pub fn parse_credential_report(
    path: &Path,
    bytes: &[u8],
) -> Result<CredentialReport, ConnectError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = keyward_connect::position_of(bytes, e.valid_up_to());
        ConnectError::syntax(path, line, column, "not valid UTF-8")
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect::<Vec<_>>();
    let cols = Columns::find(path, &header)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        let byte = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue;
        }
        let cell = Cell {
            path,
            text,
            record: &record,
            header: &header,
            line,
            byte,
        };
        rows.push(cols.row(&cell)?);
    }
    Ok(CredentialReport { rows })
}

fn csv_error(path: &Path, e: &csv::Error) -> ConnectError {
    let line = e
        .position()
        .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("row has {len} fields, the header has {expected_len} (truncated?)"),
        _ => format!("not a readable CSV: {e}"),
    };
    ConnectError::syntax(path, line, 1, message)
}

/// Indexes of the columns read, by header name.
struct Columns {
    user: usize,
    arn: usize,
    created: Option<usize>,
    password_enabled: Option<usize>,
    password_last_used: Option<usize>,
    password_last_changed: Option<usize>,
    password_next_rotation: Option<usize>,
    mfa_active: Option<usize>,
    keys: [KeyColumns; 2],
    certs: [[Option<usize>; 2]; 2],
}

struct KeyColumns {
    active: Option<usize>,
    last_rotated: Option<usize>,
    last_used: Option<usize>,
    region: Option<usize>,
    service: Option<usize>,
}

/// Where one cell of the report is, for reading it and for naming it in an error.
struct Cell<'a> {
    path: &'a Path,
    text: &'a str,
    record: &'a csv::StringRecord,
    header: &'a [String],
    line: usize,
    byte: usize,
}

impl Cell<'_> {
    fn get(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or("").trim()
    }

    fn error(&self, i: usize, reason: String) -> ConnectError {
        let column = column_of(self.text.get(self.byte..).unwrap_or(""), i);
        let name = self.header.get(i).map_or("", String::as_str);
        ConnectError::field(self.path, (self.line, column), name, reason)
    }

    fn stamp(&self, i: Option<usize>) -> Result<Stamp, ConnectError> {
        let Some(i) = i else {
            return Ok(Stamp::NoInformation);
        };
        match self.get(i) {
            "N/A" | "" => Ok(Stamp::NotApplicable),
            "no_information" => Ok(Stamp::NoInformation),
            "not_supported" => Ok(Stamp::NotSupported),
            s => keyward_connect::parse_time(s)
                .map(Stamp::At)
                .ok_or_else(|| self.error(i, format!("`{s}` is not a timestamp"))),
        }
    }

    fn flag(&self, i: Option<usize>) -> Result<Option<bool>, ConnectError> {
        let Some(i) = i else { return Ok(None) };
        match self.get(i) {
            "true" | "TRUE" | "True" => Ok(Some(true)),
            "false" | "FALSE" | "False" => Ok(Some(false)),
            "N/A" | "not_supported" | "no_information" | "" => Ok(None),
            s => Err(self.error(i, format!("`{s}` is not `true` or `false`"))),
        }
    }

    fn text_value(&self, i: Option<usize>) -> Option<String> {
        let s = self.get(i?);
        (!matches!(s, "N/A" | "not_supported" | "no_information" | "")).then(|| s.to_owned())
    }
}

impl Columns {
    fn find(path: &Path, header: &[String]) -> Result<Self, ConnectError> {
        let at = |name: &str| header.iter().position(|h| h == name);
        let required = |name: &str| {
            at(name).ok_or_else(|| {
                ConnectError::syntax(
                    path,
                    1,
                    1,
                    format!("not an IAM credential report: no `{name}` column"),
                )
            })
        };
        let key = |n: u8| KeyColumns {
            active: at(&format!("access_key_{n}_active")),
            last_rotated: at(&format!("access_key_{n}_last_rotated")),
            last_used: at(&format!("access_key_{n}_last_used_date")),
            region: at(&format!("access_key_{n}_last_used_region")),
            service: at(&format!("access_key_{n}_last_used_service")),
        };
        let cert = |n: u8| {
            [
                at(&format!("cert_{n}_active")),
                at(&format!("cert_{n}_last_rotated")),
            ]
        };
        Ok(Self {
            user: required("user")?,
            arn: required("arn")?,
            created: at("user_creation_time"),
            password_enabled: at("password_enabled"),
            password_last_used: at("password_last_used"),
            password_last_changed: at("password_last_changed"),
            password_next_rotation: at("password_next_rotation"),
            mfa_active: at("mfa_active"),
            keys: [key(1), key(2)],
            certs: [cert(1), cert(2)],
        })
    }

    fn row(&self, c: &Cell<'_>) -> Result<ReportRow, ConnectError> {
        let user = c.get(self.user).to_owned();
        let arn = c.get(self.arn).to_owned();
        if user.is_empty() {
            return Err(c.error(self.user, "empty user name".into()));
        }
        if !arn.starts_with("arn:") {
            return Err(c.error(self.arn, format!("`{arn}` is not an ARN")));
        }
        let key = |k: &KeyColumns| -> Result<KeySlot, ConnectError> {
            Ok(KeySlot {
                active: c.flag(k.active)?,
                last_rotated: c.stamp(k.last_rotated)?,
                last_used: c.stamp(k.last_used)?,
                last_used_region: c.text_value(k.region),
                last_used_service: c.text_value(k.service),
            })
        };
        let cert = |k: &[Option<usize>; 2]| -> Result<CertSlot, ConnectError> {
            Ok(CertSlot {
                active: c.flag(k[0])?,
                last_rotated: c.stamp(k[1])?,
            })
        };
        Ok(ReportRow {
            line: c.line,
            user,
            arn,
            created: c.stamp(self.created)?,
            password_enabled: c.flag(self.password_enabled)?,
            password_last_used: c.stamp(self.password_last_used)?,
            password_last_changed: c.stamp(self.password_last_changed)?,
            password_next_rotation: c.stamp(self.password_next_rotation)?,
            mfa_active: c.flag(self.mfa_active)?,
            keys: [key(&self.keys[0])?, key(&self.keys[1])?],
            certs: [cert(&self.certs[0])?, cert(&self.certs[1])?],
        })
    }
}

/// The 1-based character column where field `index` starts in a CSV line, quotes honoured.
fn column_of(line: &str, index: usize) -> usize {
    let mut field = 0;
    let mut quoted = false;
    for (chars, c) in line.chars().enumerate() {
        if field == index {
            return chars + 1;
        }
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => field += 1,
            '\n' | '\r' if !quoted => break,
            _ => {}
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn parse(body: &str) -> Result<CredentialReport, ConnectError> {
        parse_credential_report(Path::new("r.csv"), format!("{HEADER}\n{body}").as_bytes())
    }

    #[test]
    fn reads_the_root_row_and_its_markers() {
        let r = parse(
            "<root_account>,arn:aws:iam::111122223333:root,2015-01-02T03:04:05+00:00,not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,true,true,2016-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
        )
        .unwrap();
        let row = &r.rows[0];
        assert!(row.is_root());
        assert_eq!(row.line, 2);
        assert_eq!(row.password_enabled, None);
        assert_eq!(row.password_last_changed, Stamp::NotSupported);
        assert_eq!(row.mfa_active, Some(true));
        assert!(row.keys[0].exists() && !row.keys[1].exists());
        assert_eq!(row.keys[0].last_used, Stamp::NotApplicable);
        assert_eq!(row.keys[0].last_used_region, None);
    }

    #[test]
    fn a_bad_value_names_line_column_and_column_name() {
        let err = parse(
            "svc,arn:aws:iam::111122223333:user/svc,2015-01-02T03:04:05Z,false,no_information,N/A,N/A,maybe,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.csv:2:90: mfa_active: `maybe` is not `true` or `false`"
        );
        let err = parse(
            "svc,arn:aws:iam::111122223333:user/svc,\"2015-01-02T03:04:05Z\",false,no_information,N/A,N/A,false,true,soon,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.csv:2:103: access_key_1_last_rotated: `soon` is not a timestamp"
        );
    }

    #[test]
    fn a_truncated_row_or_a_foreign_csv_fails() {
        let err =
            parse("svc,arn:aws:iam::111122223333:user/svc,2015-01-02T03:04:05Z,fal").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("r.csv:2:1: row has 4 fields, the header has 22"),
            "{err}"
        );
        let err = parse_credential_report(Path::new("r.csv"), b"name,email\na,b\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.csv:1:1: not an IAM credential report: no `user` column"
        );
        let err = parse_credential_report(Path::new("r.csv"), b"").unwrap_err();
        assert!(err.to_string().contains("no `user` column"), "{err}");
    }
}
