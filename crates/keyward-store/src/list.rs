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
use futures_util::TryStreamExt;
use keyward_model::Nhi;
use rusqlite::{Connection, OpenFlags};
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::filter::Part;
use crate::rows::{Columns, NHI_COLUMNS, NhiRecord, SqliteRow, column_name};
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
    let sql = copy_statement(filter.parts(now));
    tokio::spawn(async move {
        let mut out = Batcher::new(tx.clone());
        if let Err(e) = read_postgres(&pool, sql, &mut out).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

/// `COPY` takes no bind parameters, so values are written as escape-string literals, in which
/// a backslash always escapes whatever `standard_conforming_strings` says.
fn copy_statement(parts: Vec<Part>) -> Result<String, StoreError> {
    let mut sql = format!("COPY (SELECT {NHI_COLUMNS} FROM nhis");
    for part in parts {
        match part {
            Part::Sql(s) => sql.push_str(s),
            Part::Text(v) => {
                if v.contains('\0') {
                    return Err(StoreError::Conflict(
                        "a filter value may not contain a NUL character".into(),
                    ));
                }
                sql.push_str("E'");
                for c in v.chars() {
                    if c == '\\' || c == '\'' {
                        sql.push('\\');
                    }
                    sql.push(c);
                }
                sql.push('\'');
            }
            Part::Time(t) => {
                sql.push('\'');
                sql.push_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true));
                sql.push_str("'::timestamptz");
            }
        }
    }
    sql.push_str(" ORDER BY id) TO STDOUT (FORMAT binary)");
    Ok(sql)
}

async fn read_postgres(
    pool: &PgPool,
    sql: Result<String, StoreError>,
    out: &mut Batcher,
) -> Result<(), StoreError> {
    use sqlx::postgres::PgPoolCopyExt;
    let mut stream = pool.copy_out_raw(&sql?).await?;
    let mut buf: Vec<u8> = Vec::new();
    let mut header = true;
    let mut done = false;
    while let Some(chunk) = stream.try_next().await? {
        buf.extend_from_slice(&chunk);
        let mut at = 0;
        if header {
            match copy_header(&buf)? {
                Some(len) => {
                    at = len;
                    header = false;
                }
                None => continue,
            }
        }
        while !done {
            match Tuple::parse(&buf[at..])? {
                Parsed::Row(t, len) => {
                    at += len;
                    if let Some(batch) = out.full(NhiRecord::read(&t)?.into_nhi()?)
                        && out.tx.send(Ok(batch)).await.is_err()
                    {
                        return Ok(());
                    }
                }
                Parsed::End => done = true,
                Parsed::Partial => break,
            }
        }
        buf.drain(..at);
    }
    if !done {
        return Err(StoreError::corrupt("nhis", "COPY output ended early"));
    }
    if let Some(batch) = out.rest() {
        let _ = out.tx.send(Ok(batch)).await;
    }
    Ok(())
}

const COPY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// The length of the binary `COPY` header, once all of it has arrived.
fn copy_header(b: &[u8]) -> Result<Option<usize>, StoreError> {
    if b.len() < COPY_SIGNATURE.len() + 8 {
        return Ok(None);
    }
    if !b.starts_with(COPY_SIGNATURE) {
        return Err(StoreError::corrupt("nhis", "not binary COPY output"));
    }
    let ext = be_u32(&b[15..19]) as usize;
    let len = 19 + ext;
    Ok((b.len() >= len).then_some(len))
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// One row of binary `COPY` output: each field's bytes, `None` for `NULL`.
struct Tuple<'a> {
    fields: Vec<Option<&'a [u8]>>,
}

enum Parsed<'a> {
    Row(Tuple<'a>, usize),
    End,
    Partial,
}

impl<'a> Tuple<'a> {
    fn parse(b: &'a [u8]) -> Result<Parsed<'a>, StoreError> {
        let Some(count) = b.get(..2) else {
            return Ok(Parsed::Partial);
        };
        let count = i16::from_be_bytes([count[0], count[1]]);
        if count == -1 {
            return Ok(Parsed::End);
        }
        let mut at = 2;
        let mut fields = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for _ in 0..count {
            let Some(len) = b.get(at..at + 4) else {
                return Ok(Parsed::Partial);
            };
            let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
            at += 4;
            if len < 0 {
                fields.push(None);
                continue;
            }
            let len = len as usize;
            let Some(value) = b.get(at..at + len) else {
                return Ok(Parsed::Partial);
            };
            fields.push(Some(value));
            at += len;
        }
        Ok(Parsed::Row(Self { fields }, at))
    }

    fn field(&self, i: usize) -> Result<Option<&'a [u8]>, StoreError> {
        self.fields
            .get(i)
            .copied()
            .ok_or_else(|| StoreError::corrupt(column_name(i), "missing from COPY output"))
    }
}

/// PostgreSQL's epoch for timestamps, 2000-01-01, in Unix microseconds.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl Columns for Tuple<'_> {
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        self.field(i)?
            .map(|b| std::str::from_utf8(b).map_err(|e| StoreError::corrupt(column_name(i), e)))
            .transpose()
    }

    fn time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.field(i)?
            .map(|b| {
                let micros = <[u8; 8]>::try_from(b)
                    .map(i64::from_be_bytes)
                    .map_err(|_| StoreError::corrupt(column_name(i), "not a timestamp"))?;
                DateTime::from_timestamp_micros(micros.saturating_add(PG_EPOCH_MICROS))
                    .ok_or_else(|| StoreError::corrupt(column_name(i), "timestamp out of range"))
            })
            .transpose()
    }

    fn int(&self, i: usize) -> Result<Option<i32>, StoreError> {
        self.field(i)?
            .map(|b| {
                <[u8; 4]>::try_from(b)
                    .map(i32::from_be_bytes)
                    .map_err(|_| StoreError::corrupt(column_name(i), "not an integer"))
            })
            .transpose()
    }

    fn json_text(&self, i: usize) -> Result<&str, StoreError> {
        // `jsonb` in binary form is a version byte (1) and the document's text.
        match self.field(i)? {
            Some([1, rest @ ..]) => {
                std::str::from_utf8(rest).map_err(|e| StoreError::corrupt(column_name(i), e))
            }
            _ => Err(StoreError::corrupt(column_name(i), "not jsonb")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]
    use super::*;

    fn tuple(fields: &[Option<&[u8]>]) -> Vec<u8> {
        let mut b = i16::try_from(fields.len()).unwrap().to_be_bytes().to_vec();
        for f in fields {
            match f {
                None => b.extend((-1i32).to_be_bytes()),
                Some(v) => {
                    b.extend(i32::try_from(v.len()).unwrap().to_be_bytes());
                    b.extend_from_slice(v);
                }
            }
        }
        b
    }

    #[test]
    fn copy_tuples_decode_and_wait_for_the_rest_of_a_split_row() {
        let stamp = (30 * 365 * 86_400_000_000i64).to_be_bytes();
        let row = tuple(&[Some(b"abc"), None, Some(&stamp), Some(&90i32.to_be_bytes())]);
        for cut in 0..row.len() {
            assert!(
                matches!(Tuple::parse(&row[..cut]).unwrap(), Parsed::Partial),
                "{cut}"
            );
        }
        let Parsed::Row(t, len) = Tuple::parse(&row).unwrap() else {
            panic!("a whole row");
        };
        assert_eq!(len, row.len());
        assert_eq!(t.text(0).unwrap(), Some("abc"));
        assert_eq!(t.text(1).unwrap(), None);
        assert_eq!(
            t.time(2).unwrap().unwrap().to_rfc3339(),
            "2029-12-24T00:00:00+00:00"
        );
        assert_eq!(t.int(3).unwrap(), Some(90));
        assert!(matches!(t.int(2), Err(StoreError::Corrupt { .. })));
        assert!(matches!(t.text(9), Err(StoreError::Corrupt { .. })));
        assert!(matches!(
            Tuple::parse(&(-1i16).to_be_bytes()).unwrap(),
            Parsed::End
        ));
    }

    #[test]
    fn copy_header_needs_the_signature() {
        let mut h = COPY_SIGNATURE.to_vec();
        h.extend([0, 0, 0, 0, 0, 0, 0, 2, 7, 7]);
        assert_eq!(copy_header(&h[..20]).unwrap(), None);
        assert_eq!(copy_header(&h).unwrap(), Some(21));
        assert!(copy_header(b"NOTCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0").is_err());
    }

    #[test]
    fn copy_filters_quote_values_as_escape_strings() {
        let sql = copy_statement(vec![
            Part::Sql(" WHERE provider = "),
            Part::Text(r"a'b\c".into()),
        ])
        .unwrap();
        assert!(sql.contains(r"provider = E'a\'b\\c' ORDER BY id"), "{sql}");
        assert!(copy_statement(vec![Part::Text("a\0b".into())]).is_err());
    }
}
