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

/// One `nhis` row, as the database renders it to a JSON array ([`nhi_json_page`]) or as a
/// plain row. The fields are in [`NHI_COLUMNS`] order, which the JSON form relies on.
#[derive(serde::Deserialize, sqlx::FromRow)]
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
    #[sqlx(json)]
    privilege_ceiling: Vec<String>,
    #[sqlx(json)]
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
    #[sqlx(json)]
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
/// one row. Every
/// read of NHIs goes through it, so rows are decoded in one place.
///
/// Streaming a large list row by row pays a thread hand-off per row in SQLite's driver; one
/// aggregated value per page of rows pays it once per page. Append the `WHERE` clause, then
/// [`NHI_JSON_PAGE_END`] with the page size bound.
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

/// Closes [`nhi_json_page`] for a page: order, then `LIMIT` (bind the page size, then push
/// [`NHI_JSON_END`]).
pub(crate) const NHI_JSON_PAGE_END: &str = " ORDER BY id LIMIT ";

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
