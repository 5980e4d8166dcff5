//! Bulk writes: many rows per statement, each backend in the form it takes fastest.
//!
//! SQLite gets a multi-row `VALUES` list with borrowed bound values (its JSON functions cost
//! more per value than binding does). PostgreSQL gets each page of rows as one JSON array of
//! arrays that it unpacks itself (`jsonb_array_elements`): one bound value per page instead of
//! thousands, which spares planning a statement with thousands of parameters.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::StoreError;

/// Rows per statement on SQLite, under its bound-parameter limit for the widest table.
pub(crate) const SQLITE_PAGE: usize = 500;

/// Rows per statement on PostgreSQL: about a megabyte of JSON for the widest table.
pub(crate) const POSTGRES_PAGE: usize = 2000;

/// How a column travels and how PostgreSQL reads it back from a JSON row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    /// Text or null.
    Text,
    /// An integer or null.
    Int,
    /// A timestamp or null.
    Time,
    /// A JSON value stored as JSON (`JSONB` on PostgreSQL, text on SQLite).
    Json,
}

/// One value of a row, borrowed from the item being written where it can be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    Text(Option<&'a str>),
    Owned(Option<String>),
    Int(Option<i64>),
    Time(Option<DateTime<Utc>>),
    /// JSON text.
    Json(String),
}

impl Cell<'_> {
    /// A JSON value encoded as text.
    pub(crate) fn json(v: &impl Serialize) -> Result<Cell<'static>, StoreError> {
        serde_json::to_string(v)
            .map(Cell::Json)
            .map_err(|e| StoreError::corrupt("bulk rows", e))
    }
}

/// A timestamp in the exact text the SQLite driver writes, so stored values compare and sort
/// the same whichever path wrote them.
pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    keyward_model::instant::stored_text(&t)
}

/// Binds `values` as the list of the `IN (` a statement being built ends with, and closes it.
pub(crate) fn push_list<'args, DB>(
    qb: &mut sqlx::QueryBuilder<'args, DB>,
    values: impl IntoIterator<Item = impl AsRef<str>>,
) where
    DB: sqlx::Database,
    String: 'args + sqlx::Encode<'args, DB> + sqlx::Type<DB>,
{
    let mut list = qb.separated(", ");
    for v in values {
        list.push_bind(v.as_ref().to_owned());
    }
    qb.push(")");
}

/// A table's bulk insert: its columns in row order and what an upsert does on a key conflict.
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [(&'static str, Col)],
    /// The conflict target, e.g. `(id)`; empty for a table that is only ever appended to.
    pub(crate) key: &'static str,
    /// Columns an upsert leaves alone besides the key (first-write facts).
    pub(crate) keep: &'static [&'static str],
}

impl Table {
    /// The column names, comma-separated, in row order.
    pub(crate) fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `INSERT INTO t (columns) `, PostgreSQL's statement head.
    pub(crate) fn insert_head(&self) -> String {
        format!("INSERT INTO {} ({}) ", self.name, self.column_list())
    }

    /// SQLite's statement head; the `VALUES` list follows.
    ///
    /// `OR FAIL` spares SQLite a statement journal (a copy of every page a multi-row statement
    /// touches, kept to undo just that statement), a third of a bulk insert's cost. A failed
    /// statement may leave its earlier rows behind, so a failed write is always rolled back as
    /// a whole: [`crate::WriteTx`] is consumed by commit and rolls back when dropped.
    pub(crate) fn sqlite_insert_head(&self) -> String {
        format!(
            "INSERT OR FAIL INTO {} ({}) ",
            self.name,
            self.column_list()
        )
    }

    /// SQLite's statement inserting `rows` rows, each bound value a `?` in row order.
    pub(crate) fn sqlite_insert(&self, rows: usize, upsert: bool) -> String {
        let row = format!("({})", vec!["?"; self.columns.len()].join(", "));
        format!(
            "{}VALUES {}{}",
            self.sqlite_insert_head(),
            vec![row; rows].join(", "),
            self.on_conflict(upsert)
        )
    }

    /// PostgreSQL's statement inserting one JSON page, bound as `$1`.
    pub(crate) fn postgres_insert(&self, upsert: bool) -> String {
        let exprs = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, col))| match col {
                Col::Text => format!("v ->> {i}"),
                Col::Int => format!("(v ->> {i})::bigint"),
                Col::Time => format!("(v ->> {i})::timestamptz"),
                Col::Json => format!("v -> {i}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{}SELECT {exprs} FROM jsonb_array_elements($1::jsonb) AS r(v){}",
            self.insert_head(),
            self.on_conflict(upsert)
        )
    }

    /// The upsert clause, or nothing for a plain insert.
    pub(crate) fn on_conflict(&self, upsert: bool) -> String {
        if !upsert || self.key.is_empty() {
            return String::new();
        }
        let key_columns: Vec<&str> = self
            .key
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .map(str::trim)
            .collect();
        let updates = self
            .columns
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| !key_columns.contains(c) && !self.keep.contains(c))
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(" ON CONFLICT {} DO UPDATE SET {updates}", self.key)
    }
}

/// Encodes rows of cells as one JSON array of arrays (PostgreSQL's page form).
pub(crate) fn json_page(rows: &[Vec<Cell<'_>>]) -> Result<String, StoreError> {
    let mut buf: Vec<u8> = Vec::with_capacity(rows.len() * 512);
    buf.push(b'[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.push(b'[');
        for (j, cell) in row.iter().enumerate() {
            if j > 0 {
                buf.push(b',');
            }
            let r = match cell {
                Cell::Text(v) => serde_json::to_writer(&mut buf, v),
                Cell::Owned(v) => serde_json::to_writer(&mut buf, v),
                Cell::Int(v) => serde_json::to_writer(&mut buf, v),
                Cell::Time(v) => serde_json::to_writer(&mut buf, &v.map(time_text)),
                Cell::Json(text) => {
                    buf.extend_from_slice(text.as_bytes());
                    Ok(())
                }
            };
            r.map_err(|e| StoreError::corrupt("bulk rows", e))?;
        }
        buf.push(b']');
    }
    buf.push(b']');
    String::from_utf8(buf).map_err(|e| StoreError::corrupt("bulk rows", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Table = Table {
        name: "t",
        columns: &[
            ("id", Col::Text),
            ("n", Col::Int),
            ("at", Col::Time),
            ("j", Col::Json),
        ],
        key: "(id)",
        keep: &["at"],
    };

    #[test]
    fn statements() {
        assert_eq!(T.insert_head(), "INSERT INTO t (id, n, at, j) ");
        assert_eq!(
            T.sqlite_insert_head(),
            "INSERT OR FAIL INTO t (id, n, at, j) "
        );
        assert_eq!(
            T.sqlite_insert(2, true),
            "INSERT OR FAIL INTO t (id, n, at, j) VALUES (?, ?, ?, ?), (?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET n = excluded.n, j = excluded.j"
        );
        assert_eq!(T.on_conflict(false), "");
        assert_eq!(
            T.on_conflict(true),
            " ON CONFLICT (id) DO UPDATE SET n = excluded.n, j = excluded.j"
        );
        assert_eq!(
            T.postgres_insert(false),
            "INSERT INTO t (id, n, at, j) SELECT v ->> 0, (v ->> 1)::bigint, \
             (v ->> 2)::timestamptz, v -> 3 FROM jsonb_array_elements($1::jsonb) AS r(v)"
        );
    }

    #[test]
    fn rows_encode_as_json_arrays() -> Result<(), StoreError> {
        assert_eq!(json_page(&[])?, "[]");
        let at = DateTime::from_timestamp(1_700_000_000, 123_000).unwrap_or_default();
        let rows = vec![
            vec![
                Cell::Text(Some("a\"b")),
                Cell::Int(Some(7)),
                Cell::Time(Some(at)),
                Cell::json(&vec!["x"])?,
            ],
            vec![
                Cell::Owned(None),
                Cell::Int(None),
                Cell::Time(None),
                Cell::json(&())?,
            ],
        ];
        assert_eq!(
            json_page(&rows)?,
            r#"[["a\"b",7,"2023-11-14T22:13:20.000123+00:00",["x"]],[null,null,null,null]]"#
        );
        Ok(())
    }
}
