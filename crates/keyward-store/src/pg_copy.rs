//! Reading PostgreSQL's binary `COPY (SELECT …) TO STDOUT` output: the server sends rows with
//! less per-row work than a result set, as typed values with no text to parse, and the client
//! decodes them straight from the received bytes.

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::{Stream, TryStreamExt};
use sqlx::PgPool;

use crate::StoreError;
use crate::rows::{Columns, selected_name};

/// A `COPY` in progress: its output as it arrives, rows handed over once whole.
pub(crate) struct CopyOut<S> {
    stream: S,
    /// Output that arrived but does not hold a whole row yet.
    carried: Vec<u8>,
    /// Where the current row's fields are, reused from row to row.
    spans: Vec<Option<(usize, usize)>>,
    header: bool,
    done: bool,
    columns: &'static [&'static str],
}

/// Starts `COPY (<select>) TO STDOUT (FORMAT binary)`; `columns` names what the query selects,
/// for messages (empty for the `nhis` columns in `NHI_COLUMNS` order).
pub(crate) async fn start(
    pool: &PgPool,
    select: &str,
    columns: &'static [&'static str],
) -> Result<
    CopyOut<impl Stream<Item = sqlx::Result<impl AsRef<[u8]> + use<>>> + Unpin + use<>>,
    StoreError,
> {
    use sqlx::postgres::PgPoolCopyExt;
    let sql = format!("COPY ({select}) TO STDOUT (FORMAT binary)");
    let stream = pool.copy_out_raw(&sql).await?;
    Ok(CopyOut {
        stream,
        carried: Vec::new(),
        spans: Vec::new(),
        header: true,
        done: false,
        columns,
    })
}

impl<S, B> CopyOut<S>
where
    S: Stream<Item = sqlx::Result<B>> + Unpin,
    B: AsRef<[u8]>,
{
    /// Waits for more output and hands each row that is now whole to `each`; `false` once
    /// every row has been handed over.
    pub(crate) async fn rows(
        &mut self,
        mut each: impl FnMut(&Tuple<'_>) -> Result<(), StoreError>,
    ) -> Result<bool, StoreError> {
        if self.done {
            // The rest of the protocol's messages: a connection goes back to the pool only
            // once its `COPY` has been read to the end.
            while self.stream.try_next().await?.is_some() {}
            return Ok(false);
        }
        let what = self.columns.first().copied().unwrap_or("nhis");
        let Some(chunk) = self.stream.try_next().await? else {
            return Err(StoreError::corrupt(what, "COPY output ended early"));
        };
        // The server sends a row per message: parse it where it arrived unless part of a row
        // is still waiting for the rest.
        let chunk = chunk.as_ref();
        if self.carried.is_empty() {
            let used = self.take(chunk, &mut each)?;
            self.carried.extend_from_slice(&chunk[used..]);
        } else {
            let mut carried = std::mem::take(&mut self.carried);
            carried.extend_from_slice(chunk);
            let used = self.take(&carried, &mut each)?;
            carried.drain(..used);
            self.carried = carried;
        }
        Ok(true)
    }

    /// Hands the whole rows at the start of `b` to `each` (after the header, first); how many
    /// bytes they took.
    fn take(
        &mut self,
        b: &[u8],
        each: &mut impl FnMut(&Tuple<'_>) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let mut at = 0;
        if self.header {
            match copy_header(b)? {
                Some(len) => {
                    at = len;
                    self.header = false;
                }
                None => return Ok(0),
            }
        }
        while !self.done {
            match parse(&b[at..], &mut self.spans)? {
                Parsed::Row(len) => {
                    each(&Tuple {
                        row: &b[at..at + len],
                        spans: &self.spans,
                        columns: self.columns,
                    })?;
                    at += len;
                }
                Parsed::End => self.done = true,
                Parsed::Partial => break,
            }
        }
        Ok(at)
    }

    /// Hands every row to `each`.
    pub(crate) async fn each(
        mut self,
        mut each: impl FnMut(&Tuple<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        while self.rows(&mut each).await? {}
        Ok(())
    }
}

/// `text` as a literal a `COPY` statement can hold (it takes no bind parameters): an escape
/// string, in which a backslash always escapes whatever `standard_conforming_strings` says.
pub(crate) fn literal(sql: &mut String, text: &str) -> Result<(), StoreError> {
    if text.contains('\0') {
        return Err(StoreError::Conflict(
            "a filter value may not contain a NUL character".into(),
        ));
    }
    sql.push_str("E'");
    for c in text.chars() {
        if c == '\\' || c == '\'' {
            sql.push('\\');
        }
        sql.push(c);
    }
    sql.push('\'');
    Ok(())
}

/// An instant as a `timestamptz` literal.
pub(crate) fn time_literal(sql: &mut String, t: DateTime<Utc>) {
    sql.push('\'');
    sql.push_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true));
    sql.push_str("'::timestamptz");
}

const COPY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// The length of the binary `COPY` header, once all of it has arrived.
fn copy_header(b: &[u8]) -> Result<Option<usize>, StoreError> {
    if b.len() < COPY_SIGNATURE.len() + 8 {
        return Ok(None);
    }
    if !b.starts_with(COPY_SIGNATURE) {
        return Err(StoreError::corrupt("COPY", "not binary COPY output"));
    }
    let ext = be_u32(&b[15..19]) as usize;
    let len = 19 + ext;
    Ok((b.len() >= len).then_some(len))
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// One row of binary `COPY` output: its bytes and where each field is in them (`None` for
/// `NULL`).
pub(crate) struct Tuple<'a> {
    row: &'a [u8],
    spans: &'a [Option<(usize, usize)>],
    columns: &'static [&'static str],
}

enum Parsed {
    /// A row of this many bytes, its fields' places in the spans.
    Row(usize),
    /// The trailer: no more rows.
    End,
    /// The row is not whole yet.
    Partial,
}

/// Parses the row at the start of `b` into `spans`.
fn parse(b: &[u8], spans: &mut Vec<Option<(usize, usize)>>) -> Result<Parsed, StoreError> {
    let Some(count) = b.get(..2) else {
        return Ok(Parsed::Partial);
    };
    let count = i16::from_be_bytes([count[0], count[1]]);
    if count == -1 {
        return Ok(Parsed::End);
    }
    let count = usize::try_from(count)
        .map_err(|_| StoreError::corrupt("COPY", format!("a row of {count} fields")))?;
    spans.clear();
    let mut at = 2;
    for _ in 0..count {
        let Some(len) = b.get(at..at + 4) else {
            return Ok(Parsed::Partial);
        };
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        at += 4;
        // A negative length is a NULL.
        let Ok(len) = usize::try_from(len) else {
            spans.push(None);
            continue;
        };
        if b.len() < at + len {
            return Ok(Parsed::Partial);
        }
        spans.push(Some((at, len)));
        at += len;
    }
    Ok(Parsed::Row(at))
}

impl<'a> Tuple<'a> {
    fn field(&self, i: usize) -> Result<Option<&'a [u8]>, StoreError> {
        match self.spans.get(i) {
            Some(span) => Ok(span.map(|(at, len)| &self.row[at..at + len])),
            None => Err(StoreError::corrupt(
                self.name(i),
                "missing from COPY output",
            )),
        }
    }
}

/// PostgreSQL's epoch for timestamps, 2000-01-01, in Unix microseconds.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl Columns for Tuple<'_> {
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        self.field(i)?
            .map(|b| std::str::from_utf8(b).map_err(|e| StoreError::corrupt(self.name(i), e)))
            .transpose()
    }

    fn time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.field(i)?
            .map(|b| {
                let micros = <[u8; 8]>::try_from(b)
                    .map(i64::from_be_bytes)
                    .map_err(|_| StoreError::corrupt(self.name(i), "not a timestamp"))?;
                DateTime::from_timestamp_micros(micros.saturating_add(PG_EPOCH_MICROS))
                    .ok_or_else(|| StoreError::corrupt(self.name(i), "timestamp out of range"))
            })
            .transpose()
    }

    fn int(&self, i: usize) -> Result<Option<i32>, StoreError> {
        self.field(i)?
            .map(|b| {
                <[u8; 4]>::try_from(b)
                    .map(i32::from_be_bytes)
                    .map_err(|_| StoreError::corrupt(self.name(i), "not an integer"))
            })
            .transpose()
    }

    fn name(&self, i: usize) -> &'static str {
        selected_name(self.columns, i)
    }

    fn json_text(&self, i: usize) -> Result<&str, StoreError> {
        // `jsonb` in binary form is a version byte (1) and the document's text.
        match self.field(i)? {
            Some([1, rest @ ..]) => {
                std::str::from_utf8(rest).map_err(|e| StoreError::corrupt(self.name(i), e))
            }
            _ => Err(StoreError::corrupt(self.name(i), "not jsonb")),
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

    const COLUMNS: &[&str] = &["name", "note", "at", "days"];

    #[test]
    fn copy_tuples_decode_and_wait_for_the_rest_of_a_split_row() {
        let stamp = (30 * 365 * 86_400_000_000i64).to_be_bytes();
        let row = tuple(&[Some(b"abc"), None, Some(&stamp), Some(&90i32.to_be_bytes())]);
        let mut spans = Vec::new();
        for cut in 0..row.len() {
            assert!(
                matches!(parse(&row[..cut], &mut spans).unwrap(), Parsed::Partial),
                "{cut}"
            );
        }
        let Parsed::Row(len) = parse(&row, &mut spans).unwrap() else {
            panic!("a whole row");
        };
        assert_eq!(len, row.len());
        let t = Tuple {
            row: &row,
            spans: &spans,
            columns: COLUMNS,
        };
        assert_eq!(t.text(0).unwrap(), Some("abc"));
        assert_eq!(t.text(1).unwrap(), None);
        assert_eq!(
            t.time(2).unwrap().unwrap().to_rfc3339(),
            "2029-12-24T00:00:00+00:00"
        );
        assert_eq!(t.int(3).unwrap(), Some(90));
        let Err(StoreError::Corrupt { column, .. }) = t.int(2) else {
            panic!("a timestamp is not an integer");
        };
        assert_eq!(column, "at");
        assert!(matches!(t.text(9), Err(StoreError::Corrupt { .. })));
        assert!(matches!(
            parse(&(-1i16).to_be_bytes(), &mut spans).unwrap(),
            Parsed::End
        ));
        assert!(parse(&(-2i16).to_be_bytes(), &mut spans).is_err());
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
    fn literals_are_escape_strings() {
        let mut sql = String::from("provider = ");
        literal(&mut sql, r"a'b\c").unwrap();
        assert_eq!(sql, r"provider = E'a\'b\\c'");
        assert!(literal(&mut sql, "a\0b").is_err());
    }
}
