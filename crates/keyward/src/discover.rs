//! `keyward discover <source>`: runs one connector and records what it saw.

use std::io::Write as _;

use anyhow::Result;
use keyward_connect::{Connector, Discovery};
use keyward_service::{IngestReport, Service, Settings};

use crate::args::Format;
use crate::exit::Exit;

/// Opens the register (so a store that is not initialised fails before any reading), runs the
/// connector, and records its discovery in one transaction; a failing connector writes nothing.
pub async fn run(settings: Settings, connector: impl Connector, format: Format) -> Result<Exit> {
    let svc = Service::open(settings).await?;
    let started = svc.now();
    let discovery = connector.discover().await?;
    let report = svc.discover(&discovery, started).await?;
    svc.close().await;
    for w in &discovery.warnings {
        diag!("warning: {w}");
    }
    print(&discovery, &report, format)?;
    Ok(Exit::Success)
}

fn print(d: &Discovery, r: &IngestReport, format: Format) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({
                    "source": d.source,
                    "scope": d.scope,
                    "complete": d.complete,
                    "connector": d.connector,
                    "connector_version": d.connector_version,
                    "inputs": d.inputs,
                    "warnings": d.warnings,
                    "report": r,
                }),
            )?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(
                out,
                "{} ({}) read by {} {} from {} input{}: {} NHIs — {} added, {} updated, {} unchanged, {} no longer seen",
                d.source,
                d.scope,
                d.connector,
                d.connector_version,
                d.inputs.len(),
                if d.inputs.len() == 1 { "" } else { "s" },
                r.reported,
                r.created,
                r.updated,
                r.unchanged,
                r.no_longer_seen,
            )?;
            if r.credentials > 0 || r.conflicts > 0 {
                writeln!(
                    out,
                    "{} credentials added or changed; {} declared values the source contradicts (declared kept; ledgered when first seen)",
                    r.credentials, r.conflicts
                )?;
            }
            match &r.run_id {
                Some(run) => writeln!(
                    out,
                    "{} ledger entries, run {run} (keyward runs show {run})",
                    r.ledger_entries
                )?,
                None => writeln!(out, "nothing changed: the register already held all of it")?,
            }
        }
    }
    Ok(())
}
