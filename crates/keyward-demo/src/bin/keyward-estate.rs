//! Benchmark inputs from the sample estate generator.
//!
//! `keyward-estate yaml --nhis N --out DIR` writes N declarations as YAML files of 1,000
//! documents each; `keyward-estate populate --nhis N (--db PATH | --database-url URL) --key PATH`
//! initialises a fresh store and loads an N-NHI estate through the service's use cases.
//!
//! `keyward-estate cloudtrail --mb N --out DIR` writes about N MB of uncompressed CloudTrail
//! S3 delivery files, as an organization trail delivers them: `--file-mb` MB per file
//! (default 10), each file one account's `{"Records":[…]}` document from its own seed, under
//! `AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/`.
//! `keyward-estate auth-details --roles R --users U --out FILE` writes an
//! `aws iam get-account-authorization-details` document and, in `FILE.admins.json`, the sorted
//! ARNs of the users and roles that were planted as admins.

use std::path::{Path, PathBuf};
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
    /// Write about N MB of CloudTrail S3 delivery files (uncompressed) into a directory
    Cloudtrail {
        /// Total size in MB (10^6 bytes)
        #[arg(long)]
        mb: u64,
        /// Size of each delivery file in MB (the files share the total evenly)
        #[arg(long, default_value_t = 10)]
        file_mb: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Write an authorization-details document and, beside it, its planted admins
    AuthDetails {
        #[arg(long)]
        roles: usize,
        #[arg(long)]
        users: usize,
        #[arg(long)]
        out: PathBuf,
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
        Cmd::Cloudtrail {
            mb,
            file_mb,
            out,
            seed,
        } => write_cloudtrail(
            mb.saturating_mul(MB),
            file_mb.max(1).saturating_mul(MB),
            &out,
            seed,
        )?,
        Cmd::AuthDetails {
            roles,
            users,
            out,
            seed,
        } => {
            let account = keyward_aws::generate_account(roles, users, seed);
            std::fs::write(&out, &account.document).with_context(|| out.display().to_string())?;
            let mut admins = out.clone().into_os_string();
            admins.push(".admins.json");
            let admins = PathBuf::from(admins);
            let list = serde_json::to_string_pretty(&account.admin_arns)?;
            std::fs::write(&admins, list + "\n").with_context(|| admins.display().to_string())?;
            eprintln!(
                "wrote {roles} roles and {users} users of account {} ({:.1} MB) to {}, \
                 {} planted admins to {}",
                account.account,
                account.document.len() as f64 / MB as f64,
                out.display(),
                account.admin_arns.len(),
                admins.display()
            );
        }
    }
    Ok(())
}

const MB: u64 = 1_000_000;
/// Records per MB to start from; each file's own average corrects it (records average about
/// 1.3 KB).
const RECORDS_PER_MB: u64 = 770;

/// Writes `total` bytes as delivery files of about `file_bytes` each (as many as that takes,
/// sharing the total evenly). File `i` is `generate_cloudtrail` with seed `seed + i`: its own
/// account and day, as an organization trail delivers many accounts' files into one bucket.
fn write_cloudtrail(total: u64, file_bytes: u64, out: &Path, seed: u64) -> Result<()> {
    let t = Instant::now();
    let files = total.div_ceil(file_bytes).max(1);
    let (mut written, mut records) = (0u64, 0usize);
    let mut per_mb = RECORDS_PER_MB as f64;
    for i in 0..files {
        let want = total.saturating_sub(written) / (files - i);
        let n = ((want as f64 / MB as f64) * per_mb).round().max(1.0) as usize;
        let bytes = keyward_usage::generate_cloudtrail(n, seed.wrapping_add(i));
        per_mb = n as f64 * MB as f64 / bytes.len() as f64;
        let path = out.join(delivery_key(&bytes, i));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        }
        std::fs::write(&path, &bytes).with_context(|| path.display().to_string())?;
        written += bytes.len() as u64;
        records += n;
    }
    eprintln!(
        "wrote {records} records in {files} files, {:.1} MB, to {} in {:?}",
        written as f64 / MB as f64,
        out.display(),
        t.elapsed()
    );
    Ok(())
}

/// Where CloudTrail would deliver this file in S3:
/// `AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<n>.json`,
/// from the first record's account, region and time.
fn delivery_key(bytes: &[u8], n: u64) -> PathBuf {
    let head = &bytes[..bytes.len().min(64 << 10)];
    let text = std::str::from_utf8(head)
        .or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
        .unwrap_or("");
    let field = |name: &str| {
        let key = format!("\"{name}\":\"");
        text.find(&key)
            .map(|i| &text[i + key.len()..])
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("unknown")
            .to_owned()
    };
    let account = field("recipientAccountId");
    let region = field("awsRegion");
    let time = field("eventTime"); // 2024-03-08T00:00:01Z
    let (date, hm) = match (time.get(0..10), time.get(11..16)) {
        (Some(d), Some(hm)) => (d.to_owned(), hm.replace(':', "")),
        _ => ("0000-00-00".to_owned(), "0000".to_owned()),
    };
    let mut path = PathBuf::from("AWSLogs");
    path.push(&account);
    path.push("CloudTrail");
    path.push(&region);
    path.extend(date.split('-'));
    path.push(format!(
        "{account}_CloudTrail_{region}_{}T{hm}Z_{n:05}.json",
        date.replace('-', "")
    ));
    path
}
