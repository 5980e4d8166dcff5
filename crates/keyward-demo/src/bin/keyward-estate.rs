//! Benchmark inputs from the sample estate generator.
//!
//! `keyward-estate yaml --nhis N --out DIR` writes N declarations as YAML files of 1,000
//! documents each; `keyward-estate populate --nhis N (--db PATH | --database-url URL) --key PATH`
//! initialises a fresh store and loads an N-NHI estate through the service's use cases.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use keyward_demo::{EstateSpec, generate, to_yaml};
use keyward_manifest::ManifestSet;
use keyward_model::{Clock, FingerprintKey, Fingerprinter, SystemClock};
use keyward_service::{IngestSource, Service, Settings};
use keyward_store::Location;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write declarations as YAML files of 1,000 documents
    Yaml {
        #[arg(long)]
        nhis: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Initialise a fresh store and load a whole estate into it
    Populate {
        #[arg(long)]
        nhis: usize,
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long)]
        key: PathBuf,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

const CHUNK: usize = 50_000;

#[tokio::main]
async fn main() -> Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match Cli::parse().command {
        Cmd::Yaml { nhis, out, seed } => {
            // Fingerprints do not reach YAML, so any key will do here.
            let fp = Fingerprinter::new(FingerprintKey::from_bytes([0; 32]));
            // About three NHIs in five are declared: generate enough for N declarations.
            let spec = EstateSpec {
                nhis: nhis * 5 / 3 + 1000,
                seed,
                today: clock.now(),
            };
            let mut decls = generate(&spec, &fp).declared;
            if decls.len() < nhis {
                bail!("generated only {} declarations", decls.len());
            }
            decls.truncate(nhis);
            std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
            for (i, chunk) in decls.chunks(1000).enumerate() {
                let path = out.join(format!("nhis-{i:04}.yaml"));
                std::fs::write(&path, to_yaml(chunk))
                    .with_context(|| path.display().to_string())?;
            }
            eprintln!("wrote {} declarations to {}", decls.len(), out.display());
        }
        Cmd::Populate {
            nhis,
            db,
            database_url,
            key,
            seed,
        } => {
            let location = match (db, database_url) {
                (Some(p), None) => Location::Sqlite(p),
                (None, Some(u)) => Location::parse(&u),
                _ => bail!("give one of --db and --database-url"),
            };
            let settings = Settings {
                location,
                key_path: key,
                actor: "bench".into(),
                clock: clock.clone(),
            };
            Service::init(settings.clone(), 1000).await?;
            let svc = Service::open(settings).await?;
            let t = Instant::now();
            let estate = generate(
                &EstateSpec {
                    nhis,
                    seed,
                    today: clock.now(),
                },
                &svc.fingerprinter()?,
            );
            eprintln!("generated {nhis} NHIs in {:?}", t.elapsed());
            let t = Instant::now();
            let people = estate.people;
            svc.import_people("generated", "-", &people).await?;
            for chunk in estate.declared.chunks(CHUNK) {
                let set = ManifestSet {
                    nhis: chunk.to_vec(),
                    files: Vec::new(),
                };
                svc.apply(&set, false).await?;
            }
            // Each chunk is the whole population of its own scope, so it sets what the NHIs
            // hold and marks nothing of the other chunks as no longer seen.
            for (i, chunk) in estate.discovered.chunks(CHUNK).enumerate() {
                let src = IngestSource {
                    source: "bench-inventory".into(),
                    connector: "keyward-estate".into(),
                    connector_version: keyward_service::VERSION.into(),
                    locator: format!("generated part {i}"),
                    inputs: serde_json::json!([{"seed": seed, "nhis": nhis}]),
                    parameters: serde_json::json!({}),
                    complete: true,
                    started_at: None,
                    warnings: Vec::new(),
                };
                svc.ingest(&src, chunk).await?;
            }
            eprintln!("loaded in {:?}", t.elapsed());
            svc.close().await;
        }
    }
    Ok(())
}
