//! Renders use-case results as tables for people and JSON or CSV for programs.
//!
//! NHI lists stream: each NHI is written as it arrives, so listing a million NHIs holds one
//! in memory at a time.

use std::io::Write;

use chrono::{DateTime, Utc};
use keyward_model::Nhi;

use crate::{NhiDetail, Posture, ServiceError};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// JSON.
    Json,
    /// Comma-separated values with a header.
    Csv,
}

fn io(e: std::io::Error) -> ServiceError {
    ServiceError::Io {
        context: "writing output".into(),
        source: e,
    }
}

fn date(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d").to_string())
}

fn opt(s: Option<&str>) -> &str {
    s.unwrap_or("-")
}

/// The CSV columns, also the JSON object's minimum keys.
const CSV_HEADER: [&str; 23] = [
    "id",
    "kind",
    "provider",
    "external_id",
    "name",
    "declaration",
    "origin",
    "environment",
    "owner",
    "backup_owner",
    "purpose",
    "privilege_ceiling",
    "created_at",
    "expires_at",
    "last_used_at",
    "last_used_state",
    "last_rotated_at",
    "last_reviewed_at",
    "next_review_due",
    "status",
    "supplier",
    "tags",
    "sources",
];

/// Writes NHIs one by one in a format.
pub struct NhiWriter<W: Write> {
    format: Format,
    sink: Sink<W>,
    count: u64,
    buf: Vec<u8>,
}

enum Sink<W: Write> {
    Raw(W),
    Csv(Box<csv::Writer<W>>),
}

const TABLE_WIDTHS: [usize; 9] = [36, 19, 10, 11, 28, 10, 10, 8, 48];

impl<W: Write> NhiWriter<W> {
    /// Starts the output (a header row, or the opening bracket).
    pub fn new(format: Format, mut out: W) -> Result<Self, ServiceError> {
        let sink = match format {
            Format::Json => {
                out.write_all(b"[").map_err(io)?;
                Sink::Raw(out)
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(CSV_HEADER).map_err(csv_err)?;
                Sink::Csv(Box::new(w))
            }
            Format::Table => {
                let head = [
                    "NAME",
                    "KIND",
                    "PROVIDER",
                    "ENV",
                    "OWNER",
                    "EXPIRES",
                    "NEXT REVIEW",
                    "STATUS",
                    "SOURCES",
                ];
                write_row(&mut out, &head.map(str::to_owned))?;
                Sink::Raw(out)
            }
        };
        Ok(Self {
            format,
            sink,
            count: 0,
            buf: Vec::with_capacity(1024),
        })
    }

    /// Writes one NHI with the sources that see it.
    pub fn write(&mut self, n: &Nhi, sources: &[String]) -> Result<(), ServiceError> {
        match (&mut self.sink, self.format) {
            (Sink::Csv(w), _) => w.write_record(csv_row(n, sources)).map_err(csv_err)?,
            (Sink::Raw(out), Format::Json) => {
                let sep: &[u8] = if self.count > 0 { b",\n" } else { b"\n" };
                out.write_all(sep).map_err(io)?;
                // The NHI's object with `sources` as its last member, without a second
                // serialisation pass through a flattened wrapper.
                self.buf.clear();
                serde_json::to_writer(&mut self.buf, n).map_err(|e| io(e.into()))?;
                self.buf.pop();
                self.buf.extend_from_slice(b",\"sources\":");
                serde_json::to_writer(&mut self.buf, sources).map_err(|e| io(e.into()))?;
                self.buf.push(b'}');
                out.write_all(&self.buf).map_err(io)?;
            }
            (Sink::Raw(out), _) => {
                let row = [
                    n.name.clone(),
                    n.kind.to_string(),
                    n.provider.clone(),
                    n.environment.to_string(),
                    n.owner
                        .as_ref()
                        .map_or_else(|| "-".into(), ToString::to_string),
                    date(n.expires_at),
                    date(n.next_review_due),
                    n.status.to_string(),
                    sources.join(","),
                ];
                write_row(out, &row)?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Ends the output and flushes it.
    pub fn finish(mut self) -> Result<u64, ServiceError> {
        match (&mut self.sink, self.format) {
            (Sink::Csv(w), _) => w.flush().map_err(io)?,
            (Sink::Raw(out), Format::Json) => {
                let tail: &[u8] = if self.count > 0 { b"\n]\n" } else { b"]\n" };
                out.write_all(tail).map_err(io)?;
                out.flush().map_err(io)?;
            }
            (Sink::Raw(out), _) => out.flush().map_err(io)?,
        }
        Ok(self.count)
    }
}

fn csv_err(e: csv::Error) -> ServiceError {
    io(std::io::Error::other(e))
}

fn csv_row(n: &Nhi, sources: &[String]) -> [String; 23] {
    let t = |x: Option<DateTime<Utc>>| x.map(|t| t.to_rfc3339()).unwrap_or_default();
    [
        n.id.to_string(),
        n.kind.to_string(),
        n.provider.clone(),
        n.external_id.clone().unwrap_or_default(),
        n.name.clone(),
        n.declaration.clone().unwrap_or_default(),
        n.origin.to_string(),
        n.environment.to_string(),
        n.owner
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        n.backup_owner
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        n.purpose.clone().unwrap_or_default(),
        n.privilege_ceiling.join(";"),
        t(n.created_at),
        t(n.expires_at),
        t(n.last_used_at),
        n.last_used_state.to_string(),
        t(n.last_rotated_at),
        t(n.last_reviewed_at),
        t(n.next_review_due),
        n.status.to_string(),
        n.supplier.clone().unwrap_or_default(),
        n.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";"),
        sources.join(";"),
    ]
}

fn write_row(out: &mut impl Write, cells: &[String; 9]) -> Result<(), ServiceError> {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(TABLE_WIDTHS).enumerate() {
        let shown: String = if cell.chars().count() > width {
            let mut s: String = cell.chars().take(width - 1).collect();
            s.push('…');
            s
        } else {
            cell.clone()
        };
        if i + 1 == cells.len() {
            line.push_str(&shown);
        } else {
            line.push_str(&format!("{shown:<width$}  "));
        }
    }
    line.push('\n');
    out.write_all(line.as_bytes()).map_err(io)
}

/// Writes the posture summary for a person.
pub fn posture_text(p: &Posture, out: &mut impl Write) -> Result<(), ServiceError> {
    let mut s = String::new();
    s.push_str(&format!(
        "Keyward posture at {}\n\n{} NHIs in the register, {} live (active or disabled)\n",
        p.generated_at.format("%Y-%m-%d %H:%M UTC"),
        p.total,
        p.live
    ));
    for (title, rows) in [
        ("By kind", &p.by_kind),
        ("By environment", &p.by_environment),
        ("By status", &p.by_status),
    ] {
        s.push_str(&format!("\n{title}\n"));
        for (k, n) in rows {
            s.push_str(&format!("  {k:<22} {n:>9}\n"));
        }
    }
    s.push_str(&format!(
        "\nGovernance gaps (share of live NHIs; expiring window {} days)\n",
        p.notice_days
    ));
    for g in &p.gaps {
        s.push_str(&format!(
            "  {:<46} {:>9}  {:>5.1}%\n",
            g.label, g.count, g.percent
        ));
    }
    s.push_str(&format!(
        "\nPeople: {} in the directory, {} departed\n",
        p.people, p.people_departed
    ));
    out.write_all(s.as_bytes()).map_err(io)
}

/// Writes one NHI's details for a person.
pub fn detail_text(d: &NhiDetail, out: &mut impl Write) -> Result<(), ServiceError> {
    let n = &d.nhi;
    let t = |x: Option<DateTime<Utc>>| x.map_or_else(|| "-".into(), |t| t.to_rfc3339());
    let mut s = String::new();
    let rows: Vec<(&str, String)> = vec![
        ("id", n.id.to_string()),
        ("name", n.name.clone()),
        ("kind", n.kind.to_string()),
        ("provider", n.provider.clone()),
        ("external id", opt(n.external_id.as_deref()).into()),
        ("declaration", opt(n.declaration.as_deref()).into()),
        ("origin", n.origin.to_string()),
        ("environment", n.environment.to_string()),
        ("status", n.status.to_string()),
        (
            "owner",
            n.owner
                .as_ref()
                .map_or_else(|| "- (unowned)".into(), ToString::to_string),
        ),
        (
            "backup owner",
            n.backup_owner
                .as_ref()
                .map_or_else(|| "-".into(), ToString::to_string),
        ),
        ("purpose", opt(n.purpose.as_deref()).into()),
        (
            "privilege ceiling",
            if n.privilege_ceiling.is_empty() {
                "-".into()
            } else {
                n.privilege_ceiling.join(", ")
            },
        ),
        (
            "observed permissions",
            if n.observed_permissions.is_empty() {
                "-".into()
            } else {
                n.observed_permissions.join(", ")
            },
        ),
        ("supplier", opt(n.supplier.as_deref()).into()),
        ("created", t(n.created_at)),
        ("expires", t(n.expires_at)),
        ("last rotated", t(n.last_rotated_at)),
        (
            "last used",
            match n.last_used_at {
                Some(at) => at.to_rfc3339(),
                None => n.last_used_state.to_string(),
            },
        ),
        ("last reviewed", t(n.last_reviewed_at)),
        (
            "review every",
            n.review_every.map_or_else(|| "-".into(), |c| c.to_string()),
        ),
        ("next review due", t(n.next_review_due)),
        ("registered", n.registered_at.to_rfc3339()),
        (
            "tags",
            n.tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    for (k, v) in rows {
        s.push_str(&format!("{k:<21} {v}\n"));
    }
    s.push_str(&format!("\nCredentials ({})\n", d.credentials.len()));
    for c in &d.credentials {
        s.push_str(&format!(
            "  {}  {}  {}  {}  expires {}  last used {}\n",
            c.id,
            c.kind,
            c.external_id
                .as_deref()
                .or(c.preview.as_deref())
                .unwrap_or("-"),
            c.status,
            date(c.expires_at),
            c.last_used_at
                .map_or_else(|| c.last_used_state.to_string(), |t| t.to_rfc3339()),
        ));
    }
    s.push_str(&format!("\nObservations ({})\n", d.observations.len()));
    for o in &d.observations {
        s.push_str(&format!(
            "  {}  via {} {}  at {}  first seen {}  last seen {}\n",
            o.source,
            o.connector,
            o.connector_version,
            o.locator,
            o.first_seen_at.to_rfc3339(),
            o.last_seen_at.to_rfc3339()
        ));
        if let Some(gone) = o.gone_at {
            s.push_str(&format!(
                "    no longer seen by this source since {}\n",
                gone.to_rfc3339()
            ));
        }
        for (name, value) in &o.facts {
            s.push_str(&format!("    {name}: {value}\n"));
        }
    }
    if !d.locations.is_empty() {
        s.push_str(&format!("\nSeen in ({})\n", d.locations.len()));
        for l in &d.locations {
            s.push_str(&format!(
                "  {}  {}:{}:{} in {}",
                l.credential_id, l.path, l.line, l.column, l.repository
            ));
            if let (Some(c), Some(a)) = (&l.commit, &l.author) {
                s.push_str(&format!("  commit {} by {a}", &c[..c.len().min(12)]));
            }
            s.push_str(&format!("  ({})\n", l.rule_id));
        }
    }
    s.push_str(&format!("\nLedger history ({})\n", d.history.len()));
    for e in &d.history {
        s.push_str(&format!(
            "  seq {:<8} {}  {:<16} by {}\n",
            e.seq,
            e.at.to_rfc3339(),
            e.action,
            e.actor
        ));
    }
    out.write_all(s.as_bytes()).map_err(io)
}
