//! The large reads of a check run on SQLite, through the C API on a blocking thread (see
//! `list.rs` for why): the register in id-ordered batches with everything the checks need, and
//! the findings listed with their NHIs for reports.

use std::path::{Path, PathBuf};

use keyward_model::{Finding, NhiId};
use rusqlite::Connection;
use tokio::sync::mpsc;

use crate::StoreError;
use crate::batch::{BatchQuery, QUERIES};
use crate::findings::{CheckBatch, FindingFilter, FindingNhi};
use crate::list::{BATCH, open_reader};
use crate::rows::{Columns, NHI_COLUMNS, NhiRecord, SqliteRow};

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

/// A check run's batch queries (see `batch.rs`), prepared once.
struct BatchQueries<'c>(Vec<(&'static BatchQuery, rusqlite::Statement<'c>)>);

impl<'c> BatchQueries<'c> {
    fn prepare(conn: &'c Connection) -> Result<Self, StoreError> {
        let mut prepared = Vec::with_capacity(QUERIES.len());
        for q in QUERIES {
            prepared.push((q, conn.prepare(&q.sql("?1", "?2"))?));
        }
        Ok(Self(prepared))
    }

    /// Reads everything about `nhis` (consecutive in id order) that a check needs.
    fn complete(&mut self, nhis: Vec<keyward_model::Nhi>) -> Result<CheckBatch, StoreError> {
        let (Some(lo), Some(hi)) = (nhis.first(), nhis.last()) else {
            return Ok(CheckBatch::default());
        };
        let (lo, hi) = (lo.id.0.clone(), hi.id.0.clone());
        let mut b = CheckBatch {
            nhis,
            ..CheckBatch::default()
        };
        for (q, stmt) in &mut self.0 {
            if !q.wanted(&b) {
                continue;
            }
            let mut rows = stmt.query(rusqlite::params![lo, hi])?;
            while let Some(r) = rows.next()? {
                q.add(
                    &mut b,
                    &SqliteRow {
                        row: r,
                        columns: q.columns,
                    },
                )?;
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
/// with its observations, credentials, credentials' locations and finding digests.
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
