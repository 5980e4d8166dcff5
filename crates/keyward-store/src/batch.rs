//! What a check run reads for each batch of NHIs, the same on both backends' fast readers
//! (SQLite's C API, PostgreSQL's binary `COPY`): the queries, each selecting the rows of the
//! NHIs with ids from `lo` to `hi`, and how their rows are added to the batch.

use keyward_model::{Credential, NhiId, Observation};

use crate::StoreError;
use crate::findings::{CheckBatch, PlaceRow};
use crate::rows::Columns;

/// One of the queries.
pub(crate) struct BatchQuery {
    /// What it reads.
    part: Part,
    /// The columns it selects, in order.
    pub(crate) columns: &'static [&'static str],
    /// What follows `SELECT <columns>`, with `{lo}` and `{hi}` where the id range goes.
    rest: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Observations,
    Credentials,
    Places,
    Sets,
}

impl BatchQuery {
    /// The statement, with `lo` and `hi` written where the range goes (placeholders or
    /// literals).
    pub(crate) fn sql(&self, lo: &str, hi: &str) -> String {
        let mut sql = String::from("SELECT ");
        sql.push_str(&self.columns.join(", "));
        sql.push(' ');
        sql.push_str(&self.rest.replace("{lo}", lo).replace("{hi}", hi));
        sql
    }

    /// Whether there is anything to read for `b` as read so far: locations only when the
    /// batch has credentials.
    pub(crate) fn wanted(&self, b: &CheckBatch) -> bool {
        self.part != Part::Places || !b.credentials.is_empty()
    }

    /// Adds one row this query returned to the batch.
    pub(crate) fn add(&self, b: &mut CheckBatch, c: &impl Columns) -> Result<(), StoreError> {
        match self.part {
            Part::Observations => observation(b, c),
            Part::Credentials => credential(b, c),
            Part::Places => place(b, c),
            Part::Sets => set(b, c),
        }
    }
}

/// Observations, gone ones included.
const OBSERVATIONS: BatchQuery = BatchQuery {
    part: Part::Observations,
    columns: &[
        "nhi_id",
        "source",
        "connector",
        "connector_version",
        "locator",
        "first_seen_at",
        "last_seen_at",
        "gone_at",
        "facts",
    ],
    rest: "FROM observations WHERE nhi_id >= {lo} AND nhi_id <= {hi} ORDER BY nhi_id, source",
};

/// Credentials.
const CREDENTIALS: BatchQuery = BatchQuery {
    part: Part::Credentials,
    columns: &[
        "id",
        "nhi_id",
        "kind",
        "external_id",
        "fingerprint",
        "preview",
        "status",
        "created_at",
        "expires_at",
        "last_rotated_at",
        "last_used_at",
        "last_used_state",
    ],
    rest: "FROM credentials WHERE nhi_id >= {lo} AND nhi_id <= {hi} ORDER BY nhi_id, id",
};

/// Where the credentials' values were found (read only when the batch has credentials).
const PLACES: BatchQuery = BatchQuery {
    part: Part::Places,
    columns: &["credential_id", "source", "repository", "path", "commit_id"],
    rest: "FROM credential_locations l JOIN credentials c ON c.id = l.credential_id \
           WHERE c.nhi_id >= {lo} AND c.nhi_id <= {hi} ORDER BY l.credential_id, l.location",
};

/// The digest of each NHI's open findings as the last run left them.
const SETS: BatchQuery = BatchQuery {
    part: Part::Sets,
    columns: &["nhi_id", "digest"],
    rest: "FROM finding_sets WHERE nhi_id >= {lo} AND nhi_id <= {hi}",
};

/// The queries in the order they run; [`PLACES`] is skipped when the batch has no
/// credentials.
pub(crate) const QUERIES: [&BatchQuery; 4] = [&OBSERVATIONS, &CREDENTIALS, &PLACES, &SETS];

fn observation(b: &mut CheckBatch, c: &impl Columns) -> Result<(), StoreError> {
    let o = Observation {
        nhi_id: NhiId(c.required(0)?),
        source: c.required(1)?,
        connector: c.required(2)?,
        connector_version: c.required(3)?,
        locator: c.required(4)?,
        first_seen_at: c.at(5)?,
        last_seen_at: c.at(6)?,
        gone_at: c.time(7)?,
        facts: c.json(8)?,
    };
    b.observations
        .entry(o.nhi_id.0.clone())
        .or_default()
        .push(o);
    Ok(())
}

fn credential(b: &mut CheckBatch, c: &impl Columns) -> Result<(), StoreError> {
    let cred = Credential {
        id: c.required(0)?,
        nhi_id: NhiId(c.required(1)?),
        kind: c.word(2)?,
        external_id: c.string(3)?,
        fingerprint: c.string(4)?,
        preview: c.string(5)?,
        status: c.word(6)?,
        created_at: c.time(7)?,
        expires_at: c.time(8)?,
        last_rotated_at: c.time(9)?,
        last_used_at: c.time(10)?,
        last_used_state: c.word(11)?,
    };
    b.credentials
        .entry(cred.nhi_id.0.clone())
        .or_default()
        .push(cred);
    Ok(())
}

fn place(b: &mut CheckBatch, c: &impl Columns) -> Result<(), StoreError> {
    let place = PlaceRow {
        credential_id: c.required(0)?,
        source: c.word(1)?,
        repository: c.required(2)?,
        path: c.required(3)?,
        commit: c.string(4)?,
    };
    b.places
        .entry(place.credential_id.clone())
        .or_default()
        .push(place);
    Ok(())
}

fn set(b: &mut CheckBatch, c: &impl Columns) -> Result<(), StoreError> {
    b.finding_sets.insert(c.required(0)?, c.required(1)?);
    Ok(())
}
