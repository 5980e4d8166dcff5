//! One handler per command: resolve, call the service, render.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use keyward_ledger::PublicKey;
use keyward_service::render::{self, NhiWriter};
use keyward_service::{Service, ServiceError, VerifyOutcome};
use sha2::Digest;

use crate::args::{
    Cli, Command, DiscoverCommand, Format, InventoryCommand, LedgerCommand, ListFormat,
    PeopleCommand, RuleSource, RulesCommand, RunsCommand, ScanArgs, ScanFormat,
};
use crate::exit::Exit;
use crate::settings;

/// Pretty JSON on stdout.
pub(crate) fn json_out(v: &impl serde::Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

fn pinned_key(hex: Option<&str>) -> Result<Option<PublicKey>> {
    hex.map(|h| {
        PublicKey::from_hex(h)
            .with_context(|| format!("--public-key `{h}` is not an Ed25519 public key in hex"))
    })
    .transpose()
}

fn load_rules(source: &RuleSource) -> Result<keyward_rules::RuleSet> {
    let dirs: Vec<&std::path::Path> = source.dirs.iter().map(PathBuf::as_path).collect();
    keyward_rules::RuleSet::load(!source.no_builtin, &dirs).map_err(|e| match e {
        keyward_rules::RulesError::Invalid(errors) => ServiceError::Invalid(errors).into(),
    })
}

/// The installation's fingerprint key when there is a key file, else a fixed public one;
/// with the key's id and whether it is the installation's.
fn scan_fingerprints(
    key_path: &std::path::Path,
) -> Result<(keyward_model::Fingerprinter, String, bool)> {
    let (key, keyed) = if key_path.exists() {
        let keys = keyward_service::Keyring::load(key_path)
            .with_context(|| format!("reading the key file {}", key_path.display()))?;
        (keys.fingerprint, true)
    } else {
        let public: [u8; 32] = sha2::Sha256::digest(b"keyward unkeyed scan fingerprints v1").into();
        (keyward_model::FingerprintKey::from_bytes(public), false)
    };
    let id = key.key_id();
    Ok((keyward_model::Fingerprinter::new(key), id, keyed))
}

/// The rules and options a scan runs with, from its arguments and `keyward.toml`.
fn scan_setup(
    a: &ScanArgs,
    config: Option<&std::path::Path>,
) -> Result<(keyward_rules::RuleSet, keyward_scan::ScanOptions)> {
    let config = crate::config::load(config)?;
    let excludes = keyward_scan::Excludes::new(&config.scan.exclude)?;
    let mut options = keyward_scan::ScanOptions {
        max_file_size: a.max_file_size,
        archive_depth: a.archive_depth,
        max_archive_bytes: a.max_archive_bytes,
        excludes,
        ..keyward_scan::ScanOptions::default()
    };
    if let Some(n) = a.threads {
        if n == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        options.threads = n;
    }
    Ok((load_rules(&a.rules)?, options))
}

/// Writes `bytes` to `path` through a temporary file beside it, so a failed write leaves
/// whatever was there.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "baseline".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> Result<Exit> {
    let settings = settings::resolve(&cli.global)?;
    match cli.command {
        Command::Init { checkpoint_every } => {
            if checkpoint_every < 1 {
                anyhow::bail!("--checkpoint-every must be at least 1");
            }
            let r = Service::init(settings, checkpoint_every).await?;
            if r.already_initialised {
                out!("{} is already initialised with key {}", r.store, r.key_file);
            } else {
                out!("Initialised {}", r.store);
                if r.key_created {
                    out!(
                        "Wrote the installation key to {} (mode 0600); keep it secret and backed up",
                        r.key_file
                    );
                }
                out!("Ledger public key: {}", r.public_key);
            }
            Ok(Exit::Success)
        }
        Command::Apply {
            paths,
            dry_run,
            format,
        } => {
            let svc = Service::open(settings).await?;
            let r = svc.apply_paths(&paths, dry_run).await?;
            svc.close().await;
            match format {
                Format::Json => json_out(&r)?,
                Format::Table => {
                    let verb = if dry_run { "Would apply" } else { "Applied" };
                    out!(
                        "{verb} {} declarations from {} files: {} created, {} adopted, {} updated, {} unchanged",
                        r.declarations,
                        r.files,
                        r.created,
                        r.adopted,
                        r.updated,
                        r.unchanged
                    );
                    if let Some(run) = &r.run_id {
                        out!("{} ledger entries, run {run}", r.ledger_entries);
                    }
                }
            }
            Ok(Exit::Success)
        }
        Command::People(PeopleCommand::Import { file, format }) => {
            let people = keyward_manifest::load_people_csv(&file).map_err(ServiceError::from)?;
            let bytes = std::fs::read(&file).with_context(|| file.display().to_string())?;
            let sha = hex::encode(sha2::Sha256::digest(&bytes));
            let svc = Service::open(settings).await?;
            let r = svc
                .import_people(&file.display().to_string(), &sha, &people)
                .await?;
            svc.close().await;
            match format {
                Format::Json => json_out(&r)?,
                Format::Table => out!(
                    "Imported {} people: {} added, {} updated ({} departed), {} unchanged",
                    r.rows,
                    r.added,
                    r.updated,
                    r.departed,
                    r.unchanged
                ),
            }
            Ok(Exit::Success)
        }
        Command::People(PeopleCommand::List { format }) => {
            let svc = Service::open(settings).await?;
            let people = svc.store().people().await.map_err(ServiceError::from)?;
            svc.close().await;
            match format {
                ListFormat::Json => json_out(&people)?,
                ListFormat::Csv => {
                    write!(
                        std::io::stdout().lock(),
                        "{}",
                        keyward_demo::people_csv(&people)
                    )?;
                }
                ListFormat::Table => {
                    for p in &people {
                        out!(
                            "{:<36} {:<26} {:<12} {:<9} {}",
                            p.email,
                            p.name,
                            p.team.as_deref().unwrap_or("-"),
                            p.status,
                            p.departed_on.map(|d| d.to_string()).unwrap_or_default()
                        );
                    }
                }
            }
            Ok(Exit::Success)
        }
        Command::Inventory(InventoryCommand::List { filter, format }) => {
            let filter = settings::filter(&filter)?;
            let svc = Service::open(settings).await?;
            let format = match format {
                ListFormat::Table => render::Format::Table,
                ListFormat::Json => render::Format::Json,
                ListFormat::Csv => render::Format::Csv,
            };
            let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let mut w = NhiWriter::new(format, out)?;
            svc.list_nhis(&filter, |n, sources| w.write(&n, sources))
                .await?;
            let n = w.finish()?;
            svc.close().await;
            if format == render::Format::Table {
                diag!("{n} NHIs");
            }
            Ok(Exit::Success)
        }
        Command::Inventory(InventoryCommand::Show { nhi, format }) => {
            let svc = Service::open(settings).await?;
            let d = svc.show_nhi(&nhi).await?;
            svc.close().await;
            match format {
                Format::Json => json_out(&d)?,
                Format::Table => render::detail_text(&d, &mut std::io::stdout().lock())?,
            }
            Ok(Exit::Success)
        }
        Command::Posture {
            format,
            notice_days,
        } => {
            let svc = Service::open(settings).await?;
            let p = svc.posture(notice_days).await?;
            svc.close().await;
            match format {
                Format::Json => json_out(&p)?,
                Format::Table => render::posture_text(&p, &mut std::io::stdout().lock())?,
            }
            Ok(Exit::Success)
        }
        Command::Ledger(LedgerCommand::Verify {
            bundle,
            public_key,
            format,
        }) => {
            let pinned = pinned_key(public_key.as_deref())?;
            let outcome = match bundle {
                Some(dir) => keyward_service::verify_bundle(&dir, pinned.as_ref())?,
                None => {
                    let svc = Service::open(settings).await?;
                    let o = svc.verify_ledger(pinned.as_ref()).await?;
                    svc.close().await;
                    o
                }
            };
            print_verify(&outcome, format)?;
            Ok(if outcome.ok {
                Exit::Success
            } else {
                Exit::LedgerTampered
            })
        }
        Command::Ledger(LedgerCommand::Checkpoint) => {
            let svc = Service::open(settings).await?;
            let cp = svc.checkpoint().await?;
            svc.close().await;
            match cp {
                Some(seq) => out!("Signed a checkpoint at seq {seq}"),
                None => out!("The latest entry is already checkpointed"),
            }
            Ok(Exit::Success)
        }
        Command::Ledger(LedgerCommand::Export { out }) => {
            let svc = Service::open(settings).await?;
            let r = svc.export_ledger(&out).await?;
            svc.close().await;
            out!(
                "Exported {} entries and {} checkpoints to {} (head seq {})",
                r.manifest.entries,
                r.manifest.checkpoints,
                r.dir,
                r.manifest.head_seq
            );
            out!(
                "Verify offline with: keyward ledger verify --bundle {}",
                r.dir
            );
            Ok(Exit::Success)
        }
        Command::Runs(RunsCommand::List { limit, format }) => {
            let svc = Service::open(settings).await?;
            let runs = svc.store().runs(limit).await.map_err(ServiceError::from)?;
            svc.close().await;
            match format {
                Format::Json => json_out(&runs)?,
                Format::Table => {
                    for r in &runs {
                        out!(
                            "{}  {}  {:<14} {} {}  by {}  {}",
                            r.id,
                            r.started_at.format("%Y-%m-%d %H:%M:%S"),
                            r.kind,
                            r.connector,
                            r.connector_version,
                            r.actor,
                            r.counts
                        );
                    }
                }
            }
            Ok(Exit::Success)
        }
        Command::Runs(RunsCommand::Show { id, format }) => {
            let svc = Service::open(settings).await?;
            let r = svc.store().run(&id).await.map_err(ServiceError::from)?;
            svc.close().await;
            match format {
                Format::Json => json_out(&r)?,
                Format::Table => {
                    out!("run        {}", r.id);
                    out!("kind       {}", r.kind);
                    out!("connector  {} {}", r.connector, r.connector_version);
                    out!("actor      {}", r.actor);
                    out!("started    {}", r.started_at.to_rfc3339());
                    out!("finished   {}", r.finished_at.to_rfc3339());
                    out!("parameters {}", r.parameters);
                    out!("counts     {}", r.counts);
                    out!("inputs");
                    for i in r.inputs.as_array().into_iter().flatten() {
                        let field = |k: &str| i.get(k).and_then(|v| v.as_str()).unwrap_or("");
                        let locator = [field("locator"), field("path")].concat();
                        out!(
                            "  {} {}{}",
                            locator,
                            i.get("sha256")
                                .and_then(|v| v.as_str())
                                .map(|h| format!("sha256:{h}"))
                                .unwrap_or_default(),
                            i.get("identity")
                                .and_then(|v| v.as_str())
                                .map(|h| format!(" ({h})"))
                                .unwrap_or_default(),
                        );
                    }
                }
            }
            Ok(Exit::Success)
        }
        Command::Scan {
            scan,
            format,
            fail_on_findings,
            baseline,
            write_baseline,
        } => {
            let (set, options) = scan_setup(&scan, cli.global.config.as_deref())?;
            let (fingerprints, key_id, keyed) = scan_fingerprints(&settings.key_path)?;
            let accepted = baseline
                .as_deref()
                .map(|p| keyward_scan::Baseline::load(p, &key_id))
                .transpose()
                .map_err(|e| ServiceError::Invalid(keyward_manifest::ManifestErrors(vec![e])))?;
            if !keyed {
                diag!(
                    "note: no key file at {}: fingerprints are unkeyed and comparable across machines only for high-entropy secrets; run `keyward init` or pass --key to key them",
                    settings.key_path.display()
                );
            }
            let bar = crate::progress::Bar::start(options.progress.clone());
            let mut r = if scan.git {
                let mut all = keyward_scan::ScanReport::default();
                for p in &scan.paths {
                    all.absorb(keyward_scan::scan_git(p, &set, &fingerprints, &options)?);
                }
                all
            } else {
                keyward_scan::scan(&scan.paths, &set, &fingerprints, &options)?
            };
            drop(bar);
            for w in &r.warnings {
                diag!("warning: {w}");
            }
            if let Some(file) = &write_baseline {
                let b = keyward_scan::Baseline::of(&r.findings, &key_id);
                write_atomically(file, &serde_json::to_vec_pretty(&b)?)?;
                diag!(
                    "wrote a baseline accepting {} findings to {}",
                    b.findings.len(),
                    file.display()
                );
            }
            let baselined = accepted.map_or(0, |b| b.suppress(&mut r));
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match format {
                ScanFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &r.findings)?;
                    writeln!(out)?;
                }
                ScanFormat::Sarif => {
                    let log = keyward_scan::sarif(&r.findings, &set, env!("CARGO_PKG_VERSION"));
                    serde_json::to_writer_pretty(&mut out, &log)?;
                    writeln!(out)?;
                }
                ScanFormat::Jsonl => {
                    for f in &r.findings {
                        serde_json::to_writer(&mut out, f)?;
                        writeln!(out)?;
                    }
                }
                ScanFormat::Table => {
                    // Paths inside several repositories' histories need their repository.
                    let several = scan.git && scan.paths.len() > 1;
                    for f in &r.findings {
                        let path = match &f.repository {
                            Some(repo) if several => format!("{repo}/{}", f.path),
                            _ => f.path.clone(),
                        };
                        write!(
                            out,
                            "{}:{}:{}  {}  {}  {}",
                            path,
                            f.line,
                            f.column,
                            f.rule_id,
                            f.preview,
                            f.confidence.as_str()
                        )?;
                        if let Some(g) = &f.git {
                            write!(
                                out,
                                "  {} {} {}",
                                &g.commit[..g.commit.len().min(12)],
                                g.date.format("%Y-%m-%d"),
                                g.author
                            )?;
                        }
                        writeln!(out)?;
                    }
                }
            }
            out.flush()?;
            diag!(
                "{} finding{} in {} files ({:.1} MB); skipped {} binary and {} larger than {} bytes; {} allowed inline, {} in the baseline",
                r.findings.len(),
                if r.findings.len() == 1 { "" } else { "s" },
                r.files,
                r.bytes as f64 / 1e6,
                r.skipped_binary,
                r.skipped_large,
                scan.max_file_size,
                r.allowed,
                baselined
            );
            if fail_on_findings && !r.findings.is_empty() {
                return Ok(Exit::Findings);
            }
            Ok(Exit::Success)
        }
        Command::Discover(DiscoverCommand::Aws {
            auth_details,
            credential_reports,
            account,
            endpoint,
            region,
            format,
        }) => {
            if auth_details.is_empty() && credential_reports.is_empty() {
                let connector = keyward_aws::AwsIamApi {
                    endpoint,
                    region,
                    sdk_config: None,
                };
                crate::discover::run(settings, connector, format).await
            } else {
                let connector = keyward_aws::AwsIamFiles {
                    auth_details,
                    credential_reports,
                    account,
                };
                crate::discover::run(settings, connector, format).await
            }
        }
        Command::Discover(DiscoverCommand::Cloudtrail {
            paths,
            many_source_addresses,
            account,
            format,
        }) => {
            let mut connector = keyward_usage::CloudTrailFiles::new(paths);
            connector.many_source_addresses = many_source_addresses;
            connector.account = account;
            crate::discover::run(settings, connector, format).await
        }
        Command::Discover(DiscoverCommand::KubernetesAudit {
            paths,
            cluster,
            format,
        }) => {
            let mut connector = keyward_usage::K8sAuditFiles::new(paths);
            connector.cluster = cluster;
            crate::discover::run(settings, connector, format).await
        }
        Command::Discover(DiscoverCommand::Gcp {
            paths,
            scope,
            format,
        }) => {
            let connector = keyward_gcp::GcpFiles { paths, scope };
            crate::discover::run(settings, connector, format).await
        }
        Command::Discover(DiscoverCommand::Azure {
            paths,
            tenant,
            format,
        }) => {
            let connector = keyward_azure::AzureFiles { paths, tenant };
            crate::discover::run(settings, connector, format).await
        }
        Command::Discover(DiscoverCommand::Certificates {
            paths,
            tls,
            server_name,
            scope,
            format,
        }) => {
            if tls.is_empty() {
                let connector = keyward_pki::X509Files { paths, scope };
                crate::discover::run(settings, connector, format).await
            } else {
                let mut connector = keyward_pki::X509Tls::new(tls);
                connector.server_name = server_name;
                connector.scope = scope;
                crate::discover::run(settings, connector, format).await
            }
        }
        Command::Discover(DiscoverCommand::Ssh {
            paths,
            scope,
            format,
        }) => {
            let connector = keyward_pki::SshFiles { paths, scope };
            crate::discover::run(settings, connector, format).await
        }
        Command::Discover(DiscoverCommand::Ci {
            paths,
            repository,
            format,
        }) => {
            let connector = keyward_cicd::CiFilesConnector { paths, repository };
            crate::discover::run(settings, connector, format).await
        }
        Command::Discover(DiscoverCommand::Openbao {
            address,
            token_file,
            bao_token,
            vault_token,
            namespace,
            kv_mounts,
            ca_cert,
            print_policy,
            format,
        }) => {
            if print_policy {
                out!("{}", keyward_openbao::DISCOVERY_POLICY.trim_end());
                return Ok(Exit::Success);
            }
            let token = match token_file {
                Some(f) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading the token file {}", f.display()))?
                    .trim()
                    .to_owned(),
                None => bao_token.or(vault_token).context(
                    "no OpenBao token: give --token-file, or set BAO_TOKEN or VAULT_TOKEN",
                )?,
            };
            let mut connector = keyward_openbao::OpenBaoApi::new(
                address.unwrap_or_default(),
                secrecy::SecretString::from(token),
            );
            connector.namespace = namespace;
            connector.kv_mounts = (!kv_mounts.is_empty()).then_some(kv_mounts);
            connector.ca_cert = ca_cert;
            crate::discover::run(settings, connector, format).await
        }
        Command::Discover(DiscoverCommand::Kubernetes {
            paths,
            cluster,
            namespace,
            format,
        }) => {
            let connector = keyward_kube::KubeManifests {
                paths,
                cluster,
                namespace,
            };
            crate::discover::run(settings, connector, format).await
        }
        Command::Discover(DiscoverCommand::Secrets { scan, format }) => {
            let (set, options) = scan_setup(&scan, cli.global.config.as_deref())?;
            let svc = Service::open(settings).await?;
            let bar = crate::progress::Bar::start(options.progress.clone());
            let r = svc
                .discover_secrets(&scan.paths, scan.git, &set, &options)
                .await?;
            drop(bar);
            svc.close().await;
            for w in &r.warnings {
                diag!("warning: {w}");
            }
            match format {
                Format::Json => json_out(&r)?,
                Format::Table => {
                    out!(
                        "{} findings, {} distinct secrets in {} files: {} tied to NHIs in the register, {} new undeclared NHIs, {} new credentials, {} new locations",
                        r.findings,
                        r.secrets,
                        r.files,
                        r.linked,
                        r.created_nhis,
                        r.new_credentials,
                        r.new_locations
                    );
                    match &r.run_id {
                        Some(run) => out!("{} ledger entries, run {run}", r.ledger_entries),
                        None => {
                            out!("nothing new: the register already knew every secret and place")
                        }
                    }
                }
            }
            Ok(Exit::Success)
        }
        Command::Check {
            policies,
            format,
            fail_on,
            limit,
        } => {
            crate::checks::check(
                settings,
                cli.global.config.as_deref(),
                policies.as_deref(),
                format,
                fail_on.as_deref(),
                limit,
            )
            .await
        }
        Command::Checks(cmd) => crate::checks::checks(cmd, cli.global.config.as_deref()),
        Command::Controls { framework, format } => {
            crate::checks::controls(
                settings,
                cli.global.config.as_deref(),
                framework.as_deref(),
                format,
            )
            .await
        }
        Command::Exception(cmd) => {
            crate::checks::exception(settings, cli.global.config.as_deref(), cmd).await
        }
        Command::Rules(RulesCommand::Check { source }) => {
            let set = load_rules(&source)?;
            let r = set.check();
            if r.failures.is_empty() {
                out!(
                    "{} rules (version {}): all {} examples match and none of {} negative examples do",
                    r.rules,
                    set.version(),
                    r.examples,
                    r.negative_examples
                );
                return Ok(Exit::Success);
            }
            let errors = r
                .failures
                .into_iter()
                .map(|f| {
                    let (file, line) = f.source.rsplit_once(':').unwrap_or((&f.source, "0"));
                    keyward_manifest::ManifestError {
                        file: file.to_owned(),
                        line: line.parse().unwrap_or(0),
                        field: format!("rules.{}", f.rule),
                        reason: f.reason,
                    }
                })
                .collect();
            Err(ServiceError::Invalid(keyward_manifest::ManifestErrors(errors)).into())
        }
        Command::Rules(RulesCommand::List { source, format }) => {
            let set = load_rules(&source)?;
            match format {
                Format::Json => json_out(&set.rules())?,
                Format::Table => {
                    for r in set.rules() {
                        out!(
                            "{:<44} {:<14} {:<18} {:<6}  {}",
                            r.id,
                            r.provider,
                            r.credential.as_str(),
                            r.confidence.as_str(),
                            r.name
                        );
                    }
                    out!("{} rules, version {}", set.rules().len(), set.version());
                }
            }
            Ok(Exit::Success)
        }
        Command::Demo {
            out,
            nhis,
            seed,
            format,
        } => {
            let report =
                keyward_demo::run(&out, nhis, seed, &settings.actor, settings.clock.clone())
                    .await?;
            match format {
                Format::Json => json_out(&report)?,
                Format::Table => {
                    render::posture_text(&report.posture, &mut std::io::stdout().lock())?;
                    let s = &report.secrets;
                    out!(
                        "\nLeaked credentials in {}: {} findings, {} distinct secrets; {} tied to NHIs in the register, {} new undeclared NHIs",
                        report.sample_repository,
                        s.findings,
                        s.secrets,
                        s.linked,
                        s.created_nhis
                    );
                    let c = &report.check;
                    let mut risks: Vec<String> = Vec::new();
                    for n in 1..=10 {
                        let risk = format!("NHI{n}");
                        let failing: u64 = c
                            .checks
                            .iter()
                            .filter(|t| t.owasp.as_deref() == Some(risk.as_str()))
                            .map(|t| t.failed)
                            .sum();
                        risks.push(format!("{risk} {failing}"));
                    }
                    out!(
                        "\nPosture checks: {} checks over {} NHIs opened {} findings; failing by OWASP NHI risk: {}",
                        c.checks.len(),
                        c.judged,
                        c.opened,
                        risks.join(", ")
                    );
                    out!("\nSample estate written to {}", report.store);
                    out!("Explore it:");
                    out!("  keyward --db {} inventory list --unowned", report.store);
                    out!(
                        "  keyward --db {} inventory list --review-overdue --format json",
                        report.store
                    );
                    out!(
                        "  keyward --db {} inventory list --undeclared",
                        report.store
                    );
                    out!("  keyward --db {} check --fail-on critical", report.store);
                    out!(
                        "  keyward --db {} controls --framework iso27001",
                        report.store
                    );
                    out!("  keyward --db {} ledger verify", report.store);
                }
            }
            Ok(Exit::Success)
        }
    }
}

fn print_verify(o: &VerifyOutcome, format: Format) -> Result<()> {
    match format {
        Format::Json => json_out(o)?,
        Format::Table => {
            if o.ok {
                out!(
                    "ledger intact: {} entries, {} checkpoints verified, head seq {} ({}), key {} ({})",
                    o.entries,
                    o.checkpoints,
                    o.head_seq,
                    &o.head_hash,
                    o.public_key,
                    o.key_source
                );
            } else {
                out!(
                    "ledger TAMPERED: first bad seq {}: {}",
                    o.first_bad_seq.unwrap_or_default(),
                    o.problem.as_deref().unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
