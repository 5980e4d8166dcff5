//! Lists NHIs fast: rows are read and decoded on one thread and handed to the caller in
//! batches while the next batch is read, so reading and writing a large list use both cores.
//!
//! - SQLite: the async driver hands each row from its worker thread to the caller separately,
//!   which costs more than reading and decoding the row; a blocking thread steps the statement
//!   through SQLite's C API instead.
//! - PostgreSQL: `COPY … TO STDOUT (FORMAT binary)` sends rows with less per-row work on the
//!   server and typed values (no text to parse) to the client.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use keyward_model::Nhi;
use rusqlite::{Connection, OpenFlags};
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::filter::Part;
use crate::pg_copy;
use crate::rows::{NHI_COLUMNS, NhiRecord, SqliteRow};
use crate::{NhiFilter, StoreError};

/// NHIs per batch handed to the caller.
pub(crate) const BATCH: usize = 1024;
/// Batches read ahead of the caller.
const AHEAD: usize = 4;

/// Batches of NHIs in id order; reading stops early when the receiver is dropped.
pub(crate) type Batches = mpsc::Receiver<Result<Vec<Nhi>, StoreError>>;
type Sender = mpsc::Sender<Result<Vec<Nhi>, StoreError>>;

/// Collects decoded NHIs into batches and sends each full one; `false` once the caller is gone.
struct Batcher {
    tx: Sender,
    batch: Vec<Nhi>,
}

impl Batcher {
    fn new(tx: Sender) -> Self {
        Self {
            tx,
            batch: Vec::with_capacity(BATCH),
        }
    }

    fn full(&mut self, nhi: Nhi) -> Option<Vec<Nhi>> {
        self.batch.push(nhi);
        (self.batch.len() == BATCH)
            .then(|| std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH)))
    }

    fn rest(&mut self) -> Option<Vec<Nhi>> {
        (!self.batch.is_empty()).then(|| std::mem::take(&mut self.batch))
    }
}

/// Starts reading the NHIs matching `filter` from a SQLite file.
pub(crate) fn sqlite(path: PathBuf, filter: &NhiFilter, now: DateTime<Utc>) -> Batches {
    let (tx, rx) = mpsc::channel(AHEAD);
    let parts = filter.parts(now);
    tokio::task::spawn_blocking(move || {
        let mut out = Batcher::new(tx.clone());
        if let Err(e) = read_sqlite(&path, parts, &mut out) {
            // The receiver may be gone already; then nobody is waiting for the error.
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

fn read_sqlite(
    path: &std::path::Path,
    parts: Vec<Part>,
    out: &mut Batcher,
) -> Result<(), StoreError> {
    let conn = open_reader(path)?;
    let mut sql = format!("SELECT {NHI_COLUMNS} FROM nhis");
    let mut values = Vec::new();
    for part in parts {
        match part {
            Part::Sql(s) => sql.push_str(s),
            Part::Text(v) => {
                sql.push('?');
                values.push(v);
            }
            // Bound as the SQLite driver stores instants, so text comparison orders them.
            Part::Time(t) => {
                sql.push('?');
                values.push(t.to_rfc3339_opts(SecondsFormat::AutoSi, false));
            }
        }
    }
    sql.push_str(" ORDER BY id");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
    while let Some(row) = rows.next()? {
        if let Some(batch) = out.full(NhiRecord::read(&SqliteRow::nhi(row))?.into_nhi()?)
            && out.tx.blocking_send(Ok(batch)).is_err()
        {
            return Ok(());
        }
    }
    if let Some(batch) = out.rest() {
        // A dropped receiver wants no more.
        let _ = out.tx.blocking_send(Ok(batch));
    }
    Ok(())
}

/// Opens a read-only connection to a SQLite file for a blocking reader.
pub(crate) fn open_reader(path: &std::path::Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(30))?;
    // The same read settings as the pool's connections (see `Store::open`).
    conn.execute_batch(
        "PRAGMA query_only = ON; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;",
    )?;
    Ok(conn)
}

/// Starts reading the NHIs matching `filter` from PostgreSQL.
pub(crate) fn postgres(pool: PgPool, filter: &NhiFilter, now: DateTime<Utc>) -> Batches {
    let (tx, rx) = mpsc::channel(AHEAD);
    let sql = copy_select(filter.parts(now));
    tokio::spawn(async move {
        let mut out = Batcher::new(tx.clone());
        if let Err(e) = read_postgres(&pool, sql, &mut out).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

/// The `COPY` of the NHIs matching a filter (see [`pg_copy::literal`] for how values are
/// written).
fn copy_select(parts: Vec<Part>) -> Result<String, StoreError> {
    let mut sql = format!("SELECT {NHI_COLUMNS} FROM nhis");
    for part in parts {
        match part {
            Part::Sql(s) => sql.push_str(s),
            Part::Text(v) => pg_copy::literal(&mut sql, &v)?,
            Part::Time(t) => pg_copy::time_literal(&mut sql, t),
        }
    }
    sql.push_str(" ORDER BY id");
    Ok(sql)
}

async fn read_postgres(
    pool: &PgPool,
    sql: Result<String, StoreError>,
    out: &mut Batcher,
) -> Result<(), StoreError> {
    let mut copy = pg_copy::start(pool, &sql?, &[]).await?;
    let mut full = Vec::new();
    loop {
        let more = copy
            .rows(|t| {
                if let Some(batch) = out.full(NhiRecord::read(t)?.into_nhi()?) {
                    full.push(batch);
                }
                Ok(())
            })
            .await?;
        for batch in full.drain(..) {
            if out.tx.send(Ok(batch)).await.is_err() {
                return Ok(());
            }
        }
        if !more {
            break;
        }
    }
    if let Some(batch) = out.rest() {
        let _ = out.tx.send(Ok(batch)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn copy_filters_quote_values_as_escape_strings() {
        let sql = copy_select(vec![
            Part::Sql(" WHERE provider = "),
            Part::Text(r"a'b\c".into()),
        ])
        .unwrap();
        assert!(sql.contains(r"provider = E'a\'b\\c' ORDER BY id"), "{sql}");
        assert!(copy_select(vec![Part::Text("a\0b".into())]).is_err());
    }
}
