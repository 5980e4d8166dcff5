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

/// Batches of NHIs with the sources that currently see each (sorted), aligned by position.
pub(crate) type SourcedBatches = mpsc::Receiver<Result<(Vec<Nhi>, Vec<Vec<String>>), StoreError>>;

/// Starts reading the NHIs matching `filter` from a SQLite file.
pub(crate) fn sqlite(path: PathBuf, filter: &NhiFilter, now: DateTime<Utc>) -> Batches {
    let (tx, rx) = mpsc::channel(AHEAD);
    let parts = filter.parts(now);
    tokio::task::spawn_blocking(move || {
        let sent = read_sqlite(&path, parts, |_, batch| {
            Ok(tx.blocking_send(Ok(batch)).is_ok())
        });
        if let Err(e) = sent {
            // The receiver may be gone already; then nobody is waiting for the error.
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

/// [`sqlite`], with each batch's current sources read on the same connection and snapshot:
/// one range query per batch (NHIs come in id order), instead of a query per batch through the
/// async driver, whose rows cross threads one by one and whose connection maps the file a
/// second time.
pub(crate) fn sqlite_sourced(
    path: PathBuf,
    filter: &NhiFilter,
    now: DateTime<Utc>,
) -> SourcedBatches {
    let (tx, rx) = mpsc::channel(AHEAD);
    let parts = filter.parts(now);
    tokio::task::spawn_blocking(move || {
        let sent = read_sqlite(&path, parts, |conn, batch| {
            let sources = sources_of(conn, &batch)?;
            Ok(tx.blocking_send(Ok((batch, sources))).is_ok())
        });
        if let Err(e) = sent {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

/// The sources that currently see each NHI of `batch` (consecutive in id order), sorted.
fn sources_of(conn: &Connection, batch: &[Nhi]) -> Result<Vec<Vec<String>>, StoreError> {
    let mut out = vec![Vec::new(); batch.len()];
    let (Some(lo), Some(hi)) = (batch.first(), batch.last()) else {
        return Ok(out);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT nhi_id, source FROM observations \
         WHERE nhi_id BETWEEN ?1 AND ?2 AND gone_at IS NULL ORDER BY nhi_id, source",
    )?;
    let mut rows = stmt.query(rusqlite::params![lo.id.0, hi.id.0])?;
    // Both in id order: walk the batch alongside the rows; a filter may have left out NHIs in
    // the range, whose sources are skipped.
    let mut at = 0;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let id = id.as_str();
        while at < batch.len() && batch[at].id.0.as_str() < id {
            at += 1;
        }
        if let Some(n) = batch.get(at)
            && n.id.0 == id
            && let Some(sources) = out.get_mut(at)
        {
            sources.push(row.get(1)?);
        }
    }
    Ok(out)
}

/// Reads the NHIs matching a filter in id order and hands each batch to `send` with the
/// connection, until `send` returns `false` (the caller is gone).
fn read_sqlite(
    path: &std::path::Path,
    parts: Vec<Part>,
    mut send: impl FnMut(&Connection, Vec<Nhi>) -> Result<bool, StoreError>,
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
    // One snapshot for the NHIs and their sources.
    conn.execute_batch("BEGIN")?;
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(row) = rows.next()? {
        batch.push(NhiRecord::read(&SqliteRow::nhi(row))?.into_nhi()?);
        if batch.len() == BATCH
            && !send(
                &conn,
                std::mem::replace(&mut batch, Vec::with_capacity(BATCH)),
            )?
        {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        // A dropped receiver wants no more.
        send(&conn, batch)?;
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
