//! The large reads of a check run on SQLite, through the C API on a blocking thread (see
//! `list.rs` for why): the register in id-ordered batches with everything the checks need, and
//! the findings listed with their NHIs for reports.

use std::path::{Path, PathBuf};

use keyward_model::{Credential, Finding, NhiId, Observation};
use rusqlite::Connection;
use tokio::sync::mpsc;

use crate::StoreError;
use crate::findings::{CheckBatch, FindingFilter, FindingNhi, PlaceRow, StoredFinding};
use crate::list::{BATCH, open_reader};
use crate::rows::{Columns, NHI_COLUMNS, NhiRecord, SqliteRow};

const OBSERVATIONS: &[&str] = &[
    "nhi_id",
    "source",
    "connector",
    "connector_version",
    "locator",
    "first_seen_at",
    "last_seen_at",
    "gone_at",
    "facts",
];

const CREDENTIALS: &[&str] = &[
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
];

const PLACES: &[&str] = &["credential_id", "source", "repository", "path", "commit_id"];

const STORED_FINDINGS: &[&str] = &["check_id", "nhi_id", "state", "severity", "evidence_digest"];

/// The columns of a listed finding: the finding's, then its NHI's.
const LISTED_FINDINGS: &[&str] = &[
    "id",
    "check_id",
    "nhi_id",
    "state",
    "severity",
    "evidence",
    "evidence_digest",
    "opened_at",
    "reopened_at",
    "reopen_count",
    "resolved_at",
    "last_seen_at",
    "name",
    "kind",
    "provider",
    "external_id",
    "environment",
    "owner",
];

/// The statements a check run's reader uses for each batch of NHIs: every one selects the rows
/// of the NHIs with ids from `?1` to `?2`.
struct BatchQueries<'c> {
    observations: rusqlite::Statement<'c>,
    credentials: rusqlite::Statement<'c>,
    places: rusqlite::Statement<'c>,
    findings: rusqlite::Statement<'c>,
}

fn select(columns: &[&str], rest: &str) -> String {
    format!("SELECT {} {rest}", columns.join(", "))
}

impl<'c> BatchQueries<'c> {
    fn prepare(conn: &'c Connection) -> Result<Self, StoreError> {
        Ok(Self {
            observations: conn.prepare(&select(
                OBSERVATIONS,
                "FROM observations WHERE nhi_id >= ?1 AND nhi_id <= ?2 ORDER BY nhi_id, source",
            ))?,
            credentials: conn.prepare(&select(
                CREDENTIALS,
                "FROM credentials WHERE nhi_id >= ?1 AND nhi_id <= ?2 ORDER BY nhi_id, id",
            ))?,
            places: conn.prepare(
                "SELECT l.credential_id, l.source, l.repository, l.path, l.commit_id \
                 FROM credential_locations l JOIN credentials c ON c.id = l.credential_id \
                 WHERE c.nhi_id >= ?1 AND c.nhi_id <= ?2 ORDER BY l.credential_id, l.location",
            )?,
            findings: conn.prepare(&select(
                STORED_FINDINGS,
                "FROM findings WHERE nhi_id >= ?1 AND nhi_id <= ?2",
            ))?,
        })
    }

    /// Reads everything about `nhis` (consecutive in id order) that a check needs.
    fn complete(&mut self, nhis: Vec<keyward_model::Nhi>) -> Result<CheckBatch, StoreError> {
        let (Some(lo), Some(hi)) = (nhis.first(), nhis.last()) else {
            return Ok(CheckBatch::default());
        };
        let (lo, hi) = (lo.id.0.clone(), hi.id.0.clone());
        let range = rusqlite::params![lo, hi];
        let mut b = CheckBatch {
            nhis,
            ..CheckBatch::default()
        };
        let mut rows = self.observations.query(range)?;
        while let Some(r) = rows.next()? {
            let o = observation(&SqliteRow {
                row: r,
                columns: OBSERVATIONS,
            })?;
            b.observations
                .entry(o.nhi_id.0.clone())
                .or_default()
                .push(o);
        }
        let mut rows = self.credentials.query(range)?;
        while let Some(r) = rows.next()? {
            let c = credential(&SqliteRow {
                row: r,
                columns: CREDENTIALS,
            })?;
            b.credentials.entry(c.nhi_id.0.clone()).or_default().push(c);
        }
        if !b.credentials.is_empty() {
            let mut rows = self.places.query(range)?;
            while let Some(r) = rows.next()? {
                let c = SqliteRow {
                    row: r,
                    columns: PLACES,
                };
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
            }
        }
        let mut rows = self.findings.query(range)?;
        while let Some(r) = rows.next()? {
            let c = SqliteRow {
                row: r,
                columns: STORED_FINDINGS,
            };
            let f = StoredFinding {
                check_id: c.required(0)?,
                state: c.word(2)?,
                severity: c.word(3)?,
                evidence_digest: c.required(4)?,
            };
            // One key per NHI, not per finding.
            let nhi = c
                .text(1)?
                .ok_or_else(|| StoreError::corrupt("nhi_id", "NULL"))?;
            match b.findings.get_mut(nhi) {
                Some(of_nhi) => of_nhi.push(f),
                None => {
                    b.findings.insert(nhi.to_owned(), vec![f]);
                }
            }
        }
        Ok(b)
    }
}

fn count(c: &impl Columns, i: usize) -> Result<i64, StoreError> {
    c.int(i)?
        .map(i64::from)
        .ok_or_else(|| StoreError::corrupt(c.name(i), "NULL"))
}

fn observation(c: &impl Columns) -> Result<Observation, StoreError> {
    Ok(Observation {
        nhi_id: NhiId(c.required(0)?),
        source: c.required(1)?,
        connector: c.required(2)?,
        connector_version: c.required(3)?,
        locator: c.required(4)?,
        first_seen_at: c.at(5)?,
        last_seen_at: c.at(6)?,
        gone_at: c.time(7)?,
        facts: c.json(8)?,
    })
}

fn credential(c: &impl Columns) -> Result<Credential, StoreError> {
    Ok(Credential {
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
    })
}

/// Runs `read` on a blocking thread with a reader connection, inside one read transaction so
/// that every query sees the register as it was when the first one ran; an error goes to the
/// receiver.
fn spawn_reader<T: Send + 'static>(
    path: PathBuf,
    ahead: usize,
    read: impl FnOnce(&Connection, &mpsc::Sender<Result<T, StoreError>>) -> Result<(), StoreError>
    + Send
    + 'static,
) -> mpsc::Receiver<Result<T, StoreError>> {
    let (tx, rx) = mpsc::channel(ahead);
    tokio::task::spawn_blocking(move || {
        let run = |path: &Path| -> Result<(), StoreError> {
            let conn = open_reader(path)?;
            conn.execute_batch("BEGIN")?;
            read(&conn, &tx)?;
            conn.execute_batch("COMMIT")?;
            Ok(())
        };
        if let Err(e) = run(&path) {
            // The receiver may be gone already; then nobody is waiting for the error.
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

/// Starts reading the whole register for a check run, in batches of NHIs in id order, each
/// with its observations, credentials, credentials' locations and stored findings.
pub(crate) fn check_batches(path: PathBuf) -> mpsc::Receiver<Result<CheckBatch, StoreError>> {
    spawn_reader(path, 2, |conn, tx| {
        let mut queries = BatchQueries::prepare(conn)?;
        let mut stmt = conn.prepare(&format!("SELECT {NHI_COLUMNS} FROM nhis ORDER BY id"))?;
        let mut rows = stmt.query([])?;
        let mut nhis = Vec::with_capacity(BATCH);
        loop {
            let row = rows.next()?;
            let end = row.is_none();
            if let Some(r) = row {
                nhis.push(NhiRecord::read(&SqliteRow::nhi(r))?.into_nhi()?);
            }
            if nhis.len() == BATCH || (end && !nhis.is_empty()) {
                let full = std::mem::replace(&mut nhis, Vec::with_capacity(BATCH));
                if tx.blocking_send(queries.complete(full)).is_err() {
                    // The caller stopped reading.
                    return Ok(());
                }
            }
            if end {
                return Ok(());
            }
        }
    })
}

/// Findings handed over per batch.
const FINDINGS_BATCH: usize = 4096;

/// Starts listing the findings matching `filter` with their NHIs, by NHI then check.
pub(crate) fn findings(
    path: PathBuf,
    filter: &FindingFilter,
) -> mpsc::Receiver<Result<Vec<(Finding, FindingNhi)>, StoreError>> {
    let mut sql = String::from("SELECT ");
    for (i, c) in LISTED_FINDINGS.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(if i < 12 { "f." } else { "n." });
        sql.push_str(c);
    }
    sql.push_str(" FROM findings f JOIN nhis n ON n.id = f.nhi_id WHERE 1 = 1");
    let mut values: Vec<String> = Vec::new();
    if filter.open_only {
        sql.push_str(" AND f.state = 'open'");
    }
    if let Some(c) = &filter.check {
        values.push(c.clone());
        sql.push_str(&format!(" AND f.check_id = ?{}", values.len()));
    }
    if let Some(n) = &filter.nhi {
        values.push(n.clone());
        sql.push_str(&format!(" AND f.nhi_id = ?{}", values.len()));
    }
    if !filter.ids.is_empty() {
        sql.push_str(" AND f.id IN (");
        for (i, id) in filter.ids.iter().enumerate() {
            values.push(id.clone());
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("?{}", values.len()));
        }
        sql.push(')');
    }
    sql.push_str(" ORDER BY f.nhi_id, f.check_id");
    spawn_reader(path, 4, move |conn, tx| {
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
        let mut batch = Vec::with_capacity(FINDINGS_BATCH);
        while let Some(r) = rows.next()? {
            batch.push(listed_finding(&SqliteRow {
                row: r,
                columns: LISTED_FINDINGS,
            })?);
            if batch.len() == FINDINGS_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(FINDINGS_BATCH));
                if tx.blocking_send(Ok(full)).is_err() {
                    return Ok(());
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(Ok(batch));
        }
        Ok(())
    })
}

fn listed_finding(c: &impl Columns) -> Result<(Finding, FindingNhi), StoreError> {
    let evidence =
        serde_json::from_str(c.json_text(5)?).map_err(|e| StoreError::corrupt("evidence", e))?;
    let f = Finding {
        id: c.required(0)?,
        check_id: c.required(1)?,
        nhi_id: NhiId(c.required(2)?),
        state: c.word(3)?,
        severity: c.word(4)?,
        evidence,
        evidence_digest: c.required(6)?,
        opened_at: c.at(7)?,
        reopened_at: c.time(8)?,
        reopen_count: count(c, 9)?,
        resolved_at: c.time(10)?,
        last_seen_at: c.at(11)?,
    };
    let nhi = FindingNhi {
        name: c.required(12)?,
        kind: c.required(13)?,
        provider: c.required(14)?,
        external_id: c.string(15)?,
        environment: c.required(16)?,
        owner: c.string(17)?,
    };
    Ok((f, nhi))
}
