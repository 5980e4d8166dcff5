//! Turning rows into model values, the same for both backends.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use keyward_model::{Cadence, Nhi, NhiId, OwnerRef};

use crate::StoreError;

/// The `nhis` columns, in the order inserts bind them.
pub(crate) const NHI_COLUMNS: &str = "id, kind, provider, external_id, name, declaration, origin, \
    environment, owner, backup_owner, purpose, privilege_ceiling, observed_permissions, \
    created_at, expires_at, last_rotated_at, last_used_at, last_used_state, last_reviewed_at, \
    review_every_days, next_review_due, status, supplier, tags, registered_at, updated_at";

/// The `credentials` columns.
pub(crate) const CREDENTIAL_COLUMNS: &str = "id, nhi_id, kind, external_id, fingerprint, preview, \
    status, created_at, expires_at, last_rotated_at, last_used_at, last_used_state";

pub(crate) fn parse<T: FromStr>(column: &'static str, s: &str) -> Result<T, StoreError>
where
    T::Err: ToString,
{
    s.parse()
        .map_err(|e: T::Err| StoreError::corrupt(column, e.to_string()))
}

pub(crate) fn owner(
    column: &'static str,
    s: Option<String>,
) -> Result<Option<OwnerRef>, StoreError> {
    s.map(|s| parse::<OwnerRef>(column, &s)).transpose()
}

pub(crate) fn cadence(days: Option<i32>) -> Result<Option<Cadence>, StoreError> {
    days.map(|d| {
        u32::try_from(d)
            .ok()
            .and_then(Cadence::from_days)
            .ok_or_else(|| StoreError::corrupt("review_every_days", d))
    })
    .transpose()
}

/// Decodes a `credentials` row on either backend.
macro_rules! credential_from_row {
    ($row:expr) => {{
        use sqlx::Row as _;
        let r = $row;
        keyward_model::Credential {
            id: r.try_get("id")?,
            nhi_id: keyward_model::NhiId(r.try_get("nhi_id")?),
            kind: $crate::rows::parse("kind", &r.try_get::<String, _>("kind")?)?,
            external_id: r.try_get("external_id")?,
            fingerprint: r.try_get("fingerprint")?,
            preview: r.try_get("preview")?,
            status: $crate::rows::parse("status", &r.try_get::<String, _>("status")?)?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            last_rotated_at: r.try_get("last_rotated_at")?,
            last_used_at: r.try_get("last_used_at")?,
            last_used_state: $crate::rows::parse(
                "last_used_state",
                &r.try_get::<String, _>("last_used_state")?,
            )?,
        }
    }};
}

/// The `observations` columns [`observation_from_row`] decodes.
pub(crate) const OBSERVATION_COLUMNS: &str = "nhi_id, source, connector, connector_version, locator, first_seen_at, last_seen_at, gone_at, facts";

/// Decodes an `observations` row on either backend.
macro_rules! observation_from_row {
    ($row:expr) => {{
        use sqlx::Row as _;
        let r = $row;
        keyward_model::Observation {
            nhi_id: keyward_model::NhiId(r.try_get("nhi_id")?),
            source: r.try_get("source")?,
            connector: r.try_get("connector")?,
            connector_version: r.try_get("connector_version")?,
            locator: r.try_get("locator")?,
            first_seen_at: r.try_get("first_seen_at")?,
            last_seen_at: r.try_get("last_seen_at")?,
            gone_at: r.try_get("gone_at")?,
            facts: r
                .try_get::<sqlx::types::Json<keyward_model::Facts>, _>("facts")?
                .0,
        }
    }};
}

/// Decodes a `ledger` row on either backend.
macro_rules! entry_from_row {
    ($row:expr) => {{
        use sqlx::Row as _;
        let r = $row;
        keyward_ledger::Entry {
            seq: r.try_get("seq")?,
            at: r.try_get("at")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            subject: r.try_get("subject")?,
            payload: r.try_get("payload")?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        }
    }};
}

/// Decodes a `people` row on either backend.
macro_rules! person_from_row {
    ($row:expr) => {{
        use sqlx::Row as _;
        let r = $row;
        keyward_model::Person {
            email: r.try_get("email")?,
            name: r.try_get("name")?,
            team: r.try_get("team")?,
            manager_email: r.try_get("manager_email")?,
            status: $crate::rows::parse("status", &r.try_get::<String, _>("status")?)?,
            departed_on: r
                .try_get::<Option<String>, _>("departed_on")?
                .map(|d| $crate::rows::parse::<chrono::NaiveDate>("departed_on", &d))
                .transpose()?,
        }
    }};
}

/// One `nhis` row, as the database renders it to a JSON array ([`nhi_json_page`]) or a fast
/// reader hands it over ([`NhiRecord::read`]). The fields are in [`NHI_COLUMNS`] order, which
/// the JSON form relies on.
#[derive(serde::Deserialize)]
pub(crate) struct NhiRecord {
    id: String,
    kind: String,
    provider: String,
    external_id: Option<String>,
    name: String,
    declaration: Option<String>,
    origin: String,
    environment: String,
    owner: Option<String>,
    backup_owner: Option<String>,
    purpose: Option<String>,
    privilege_ceiling: Vec<String>,
    observed_permissions: Vec<String>,
    created_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    last_rotated_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    last_used_state: String,
    last_reviewed_at: Option<DateTime<Utc>>,
    review_every_days: Option<i32>,
    next_review_due: Option<DateTime<Utc>>,
    status: String,
    supplier: Option<String>,
    tags: BTreeMap<String, String>,
    registered_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl NhiRecord {
    pub(crate) fn into_nhi(self) -> Result<Nhi, StoreError> {
        Ok(Nhi {
            id: NhiId(self.id),
            kind: parse("kind", &self.kind)?,
            provider: self.provider,
            external_id: self.external_id,
            name: self.name,
            declaration: self.declaration,
            origin: parse("origin", &self.origin)?,
            environment: parse("environment", &self.environment)?,
            owner: owner("owner", self.owner)?,
            backup_owner: owner("backup_owner", self.backup_owner)?,
            purpose: self.purpose,
            privilege_ceiling: self.privilege_ceiling,
            observed_permissions: self.observed_permissions,
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_rotated_at: self.last_rotated_at,
            last_used_at: self.last_used_at,
            last_used_state: parse("last_used_state", &self.last_used_state)?,
            last_reviewed_at: self.last_reviewed_at,
            review_every: cadence(self.review_every_days)?,
            next_review_due: self.next_review_due,
            status: parse("status", &self.status)?,
            supplier: self.supplier,
            tags: self.tags,
            registered_at: self.registered_at,
            updated_at: self.updated_at,
        })
    }
}

/// Columns the database stores as JSON, which must be embedded rather than quoted.
const JSON_COLUMNS: [&str; 3] = ["privilege_ceiling", "observed_permissions", "tags"];

/// The start of a query that returns NHIs, in id (registration) order, as one JSON array in
/// one row, for reads of a few NHIs; append the `WHERE` clause, then [`NHI_JSON_END`]. Large
/// lists stream plain rows instead (see `Store::for_each_nhi`).
pub(crate) fn nhi_json_page(postgres: bool) -> String {
    // Each row is rendered as a JSON array (no keys to write) and the page is joined as text:
    // asking the database to aggregate JSON values makes it parse every row again.
    let (object, agg) = if postgres {
        ("json_build_array", "string_agg(obj::text, ','")
    } else {
        ("json_array", "group_concat(obj, ','")
    };
    let fields = NHI_COLUMNS
        .split(',')
        .map(str::trim)
        .map(|c| {
            if JSON_COLUMNS.contains(&c) && !postgres {
                format!("json({c})")
            } else {
                c.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT '[' || {agg} ORDER BY id) || ']' FROM (SELECT {object}({fields}) AS obj, id FROM nhis"
    )
}

/// Closes [`nhi_json_page`].
pub(crate) const NHI_JSON_END: &str = ") page";

/// Decodes one page.
pub(crate) fn nhi_page(json: Option<String>) -> Result<Vec<Nhi>, StoreError> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let rows: Vec<NhiRecord> =
        serde_json::from_str(&json).map_err(|e| StoreError::corrupt("nhis", e))?;
    rows.into_iter().map(NhiRecord::into_nhi).collect()
}

/// The columns of one row as a fast reader sees them (SQLite's C API, PostgreSQL's binary
/// `COPY`), by index; [`NHI_COLUMNS`] order unless the reader names its own columns.
pub(crate) trait Columns {
    /// A text column.
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError>;
    /// An instant.
    fn time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// A 32-bit integer.
    fn int(&self, i: usize) -> Result<Option<i32>, StoreError>;
    /// The `i`th column's name, for messages.
    fn name(&self, i: usize) -> &'static str {
        column_name(i)
    }
    /// A JSON document's text.
    fn json_text(&self, i: usize) -> Result<&str, StoreError> {
        self.text(i)?
            .ok_or_else(|| StoreError::corrupt(self.name(i), "NULL"))
    }
    /// A text column, owned.
    fn string(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.text(i)?.map(str::to_owned))
    }
    /// A text column that may not be `NULL`, owned.
    fn required(&self, i: usize) -> Result<String, StoreError> {
        self.string(i)?
            .ok_or_else(|| StoreError::corrupt(self.name(i), "NULL"))
    }
    /// An instant that may not be `NULL`.
    fn at(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        self.time(i)?
            .ok_or_else(|| StoreError::corrupt(self.name(i), "NULL"))
    }
    /// A text column holding one of a type's words.
    fn word<T: FromStr>(&self, i: usize) -> Result<T, StoreError>
    where
        T::Err: ToString,
    {
        match self.text(i)? {
            Some(s) => s
                .parse()
                .map_err(|e: T::Err| StoreError::corrupt(self.name(i), e.to_string())),
            None => Err(StoreError::corrupt(self.name(i), "NULL")),
        }
    }
    /// A JSON document.
    fn json<T: serde::de::DeserializeOwned + Default>(&self, i: usize) -> Result<T, StoreError> {
        match self.json_text(i)? {
            // Most NHIs have empty lists and maps; skip the parser for them.
            "[]" | "{}" => Ok(T::default()),
            s => serde_json::from_str(s).map_err(|e| StoreError::corrupt(self.name(i), e)),
        }
    }
}

/// A SQLite row read through the C API, with the names of the columns it selected.
pub(crate) struct SqliteRow<'a, 'r> {
    pub(crate) row: &'a rusqlite::Row<'r>,
    pub(crate) columns: &'static [&'static str],
}

impl<'a, 'r> SqliteRow<'a, 'r> {
    /// A row of `nhis` in [`NHI_COLUMNS`] order.
    pub(crate) fn nhi(row: &'a rusqlite::Row<'r>) -> Self {
        Self { row, columns: &[] }
    }
}

/// The name of the `i`th column a fast reader selected: of `columns`, or of [`NHI_COLUMNS`]
/// when `columns` is empty.
pub(crate) fn selected_name(columns: &[&'static str], i: usize) -> &'static str {
    if columns.is_empty() {
        column_name(i)
    } else {
        columns.get(i).copied().unwrap_or("?")
    }
}

/// The name of the `i`th of [`NHI_COLUMNS`], for messages.
pub(crate) fn column_name(i: usize) -> &'static str {
    NHI_COLUMNS.split(',').nth(i).map_or("nhis", str::trim)
}

impl Columns for SqliteRow<'_, '_> {
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        use rusqlite::types::ValueRef;
        match self.row.get_ref(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(b) => std::str::from_utf8(b)
                .map(Some)
                .map_err(|e| StoreError::corrupt(self.name(i), e)),
            other => Err(StoreError::corrupt(
                self.name(i),
                format!("holds {:?}, not text", other.data_type()),
            )),
        }
    }

    fn time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.text(i)?
            // The column is named only for an error: naming it costs a search.
            .map(|s| parse_time(s).ok_or_else(|| not_a_time(self.name(i), s)))
            .transpose()
    }

    fn name(&self, i: usize) -> &'static str {
        selected_name(self.columns, i)
    }

    fn int(&self, i: usize) -> Result<Option<i32>, StoreError> {
        match self.row.get_ref(i)? {
            rusqlite::types::ValueRef::Null => Ok(None),
            rusqlite::types::ValueRef::Integer(d) => i32::try_from(d)
                .map(Some)
                .map_err(|_| StoreError::corrupt(self.name(i), d)),
            _ => Err(StoreError::corrupt(self.name(i), "not an integer")),
        }
    }
}

/// Parses an instant as the SQLite driver stores it (`2026-11-22T10:00:00.123456+00:00`),
/// reading the digits directly in that shape and falling back to a full RFC 3339 parse.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    fast_time(s.as_bytes()).or_else(|| DateTime::parse_from_rfc3339(s).ok().map(|t| t.to_utc()))
}

fn not_a_time(column: &'static str, s: &str) -> StoreError {
    StoreError::corrupt(column, format!("`{s}` is not an RFC 3339 time"))
}

fn fast_time(b: &[u8]) -> Option<DateTime<Utc>> {
    let body = b.strip_suffix(b"+00:00").or_else(|| b.strip_suffix(b"Z"))?;
    if body.len() < 19 || body[4] != b'-' || body[7] != b'-' || body[10] != b'T' {
        return None;
    }
    if body[13] != b':' || body[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        body[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let mut nanos = 0;
    if body.len() > 19 {
        let frac = body.get(20..)?;
        if body[19] != b'.' || frac.is_empty() || frac.len() > 9 {
            return None;
        }
        nanos = num(20..body.len())? * 10u32.pow(9 - u32::try_from(frac.len()).ok()?);
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    chrono::NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)?
        .and_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)
        .map(|t| t.and_utc())
}

impl NhiRecord {
    /// Decodes a row of [`NHI_COLUMNS`] from a fast reader.
    pub(crate) fn read(c: &impl Columns) -> Result<Self, StoreError> {
        Ok(Self {
            id: c.required(0)?,
            kind: c.required(1)?,
            provider: c.required(2)?,
            external_id: c.string(3)?,
            name: c.required(4)?,
            declaration: c.string(5)?,
            origin: c.required(6)?,
            environment: c.required(7)?,
            owner: c.string(8)?,
            backup_owner: c.string(9)?,
            purpose: c.string(10)?,
            privilege_ceiling: c.json(11)?,
            observed_permissions: c.json(12)?,
            created_at: c.time(13)?,
            expires_at: c.time(14)?,
            last_rotated_at: c.time(15)?,
            last_used_at: c.time(16)?,
            last_used_state: c.required(17)?,
            last_reviewed_at: c.time(18)?,
            review_every_days: c.int(19)?,
            next_review_due: c.time(20)?,
            status: c.required(21)?,
            supplier: c.string(22)?,
            tags: c.json(23)?,
            registered_at: c.at(24)?,
            updated_at: c.at(25)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn column_names_follow_the_column_list() {
        assert_eq!(column_name(0), "id");
        assert_eq!(column_name(19), "review_every_days");
        assert_eq!(column_name(25), "updated_at");
        assert_eq!(column_name(26), "nhis");
    }

    #[test]
    fn stored_instants_parse_in_every_shape_the_driver_writes() {
        for (stored, expected) in [
            ("2026-11-22T10:00:00+00:00", "2026-11-22T10:00:00Z"),
            ("2026-11-22T10:00:00.5+00:00", "2026-11-22T10:00:00.5Z"),
            ("2026-11-22T10:00:00.123+00:00", "2026-11-22T10:00:00.123Z"),
            (
                "2026-11-22T10:00:00.123456+00:00",
                "2026-11-22T10:00:00.123456Z",
            ),
            (
                "2026-11-22T10:00:00.123456789+00:00",
                "2026-11-22T10:00:00.123456789Z",
            ),
            ("2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z"),
            // Not the driver's shape: the full parser takes it.
            ("2026-11-22T12:00:00+02:00", "2026-11-22T10:00:00Z"),
        ] {
            assert_eq!(
                parse_time(stored).unwrap(),
                DateTime::parse_from_rfc3339(expected).unwrap().to_utc(),
                "{stored}"
            );
        }
    }

    #[test]
    fn malformed_instants_are_corrupt_values() {
        for bad in [
            "",
            "2026-11-22",
            "2026-13-22T10:00:00+00:00",
            "2026-11-22T25:00:00+00:00",
            "2026-11-22T10:00:00.+00:00",
            "2026-11-22 10:00:00+00:00x",
            "２０２６-11-22T10:00:00+00:00",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
