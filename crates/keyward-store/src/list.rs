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

/// A batch of NHIs and, when asked for, the sources that currently see each (sorted), aligned
/// by position; without sources the second vector is empty.
pub(crate) type Listed = (Vec<Nhi>, Vec<Vec<String>>);
/// Batches of NHIs in id order; reading stops early when the receiver is dropped.
pub(crate) type Batches = mpsc::Receiver<Result<Listed, StoreError>>;
type Sender = mpsc::Sender<Result<Listed, StoreError>>;

/// Starts reading the NHIs matching `filter` from a SQLite file; with `sources`, each
/// batch's current sources are read on the same connection and snapshot, one range query per
/// batch (NHIs come in id order), rather than a query per batch through the async driver,
/// whose rows cross threads one by one and whose connection maps the file a second time.
pub(crate) fn sqlite(
    path: PathBuf,
    filter: &NhiFilter,
    now: DateTime<Utc>,
    sources: bool,
) -> Batches {
    let (tx, rx) = mpsc::channel(AHEAD);
    let parts = filter.parts(now);
    tokio::task::spawn_blocking(move || {
        let sent = read_sqlite(&path, parts, |conn, batch| {
            let seen = if sources {
                sources_of(conn, &batch)?
            } else {
                Vec::new()
            };
            Ok(tx.blocking_send(Ok((batch, seen))).is_ok())
        });
        if let Err(e) = sent {
            // The receiver may be gone already; then nobody is waiting for the error.
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

/// The query for the current sources of the NHIs with ids from `lo` to `hi` (placeholders).
fn sources_sql(lo: &str, hi: &str) -> String {
    format!(
        "SELECT nhi_id, source FROM observations \
         WHERE nhi_id BETWEEN {lo} AND {hi} AND gone_at IS NULL ORDER BY nhi_id, source"
    )
}

/// A batch's sources, placed by position as the range query's rows arrive; rows of NHIs a
/// filter left out of the batch are skipped.
struct Sources<'b> {
    at: std::collections::HashMap<&'b str, usize>,
    out: Vec<Vec<String>>,
}

impl<'b> Sources<'b> {
    fn new(batch: &'b [Nhi]) -> Self {
        Self {
            at: batch
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.0.as_str(), i))
                .collect(),
            out: vec![Vec::new(); batch.len()],
        }
    }

    fn add(&mut self, id: &str, source: String) {
        if let Some(sources) = self.at.get(id).and_then(|i| self.out.get_mut(*i)) {
            sources.push(source);
        }
    }
}

/// The sources that currently see each NHI of `batch` (consecutive in id order), sorted.
fn sources_of(conn: &Connection, batch: &[Nhi]) -> Result<Vec<Vec<String>>, StoreError> {
    let mut sources = Sources::new(batch);
    if let (Some(lo), Some(hi)) = (batch.first(), batch.last()) {
        let mut stmt = conn.prepare_cached(&sources_sql("?1", "?2"))?;
        let mut rows = stmt.query(rusqlite::params![lo.id.0, hi.id.0])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            sources.add(&id, row.get(1)?);
        }
    }
    Ok(sources.out)
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

/// Starts reading the NHIs matching `filter` from PostgreSQL; with `sources`, the reading
/// task reads each batch's current sources (one range query per batch, while the caller
/// handles the batch before).
pub(crate) fn postgres(
    pool: PgPool,
    filter: &NhiFilter,
    now: DateTime<Utc>,
    sources: bool,
) -> Batches {
    let (tx, rx) = mpsc::channel(AHEAD);
    let sql = copy_select(filter.parts(now));
    tokio::spawn(async move {
        if let Err(e) = read_postgres(&pool, sql, &tx, sources).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

/// See [`sources_of`].
async fn postgres_sources_of(pool: &PgPool, batch: &[Nhi]) -> Result<Vec<Vec<String>>, StoreError> {
    let mut sources = Sources::new(batch);
    if let (Some(lo), Some(hi)) = (batch.first(), batch.last()) {
        let rows: Vec<(String, String)> = sqlx::query_as(&sources_sql("$1", "$2"))
            .bind(&lo.id.0)
            .bind(&hi.id.0)
            .fetch_all(pool)
            .await?;
        for (id, source) in rows {
            sources.add(&id, source);
        }
    }
    Ok(sources.out)
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

/// Reads the NHIs matching a filter in id order and sends them in batches, until the
/// receiver is gone.
async fn read_postgres(
    pool: &PgPool,
    sql: Result<String, StoreError>,
    tx: &Sender,
    sources: bool,
) -> Result<(), StoreError> {
    let mut copy = pg_copy::start(pool, &sql?, &[]).await?;
    let (mut batch, mut full) = (Vec::with_capacity(BATCH), Vec::new());
    loop {
        let more = copy
            .rows(|t| {
                batch.push(NhiRecord::read(t)?.into_nhi()?);
                if batch.len() == BATCH {
                    full.push(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
                Ok(())
            })
            .await?;
        if !more && !batch.is_empty() {
            full.push(std::mem::take(&mut batch));
        }
        for b in full.drain(..) {
            let seen = if sources {
                postgres_sources_of(pool, &b).await?
            } else {
                Vec::new()
            };
            if tx.send(Ok((b, seen))).await.is_err() {
                return Ok(());
            }
        }
        if !more {
            return Ok(());
        }
    }
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
