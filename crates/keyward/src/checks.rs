//! Handlers for `check`, `checks`, `controls` and `exception`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use keyward_checks::Checks;
use keyward_model::Severity;
use keyward_service::findings_out::{self, FindingView, JsonFindings};
use keyward_service::{CheckOptions, ExceptionRequest, Service, Settings};

use crate::args::{CheckFormat, ChecksCommand, ExceptionCommand, Format};
use crate::commands::json_out;
use crate::exit::Exit;

fn load(config: Option<&Path>, policies: Option<&Path>) -> Result<(crate::config::Config, Checks)> {
    let config = crate::config::load(config)?;
    let checks = config.checks(policies)?;
    Ok((config, checks))
}

/// `keyward check`.
pub async fn check(
    settings: Settings,
    config: Option<&Path>,
    policies: Option<&Path>,
    format: CheckFormat,
    fail_on: Option<&str>,
    limit: usize,
) -> Result<Exit> {
    let threshold: Option<Severity> = fail_on
        .map(|s| {
            s.parse::<Severity>()
                .map_err(|e| anyhow::anyhow!("--fail-on: {e}"))
        })
        .transpose()?;
    let (_, mut checks) = load(config, policies)?;
    let svc = Service::open(settings).await?;
    let shown_in_table = match format {
        CheckFormat::Table => limit,
        _ => 0,
    };
    let options = CheckOptions {
        most_severe: shown_in_table,
    };
    let report = svc.check_with(&mut checks, options).await?;
    let gate = threshold.map_or(0, |t| report.unaccepted(Some(t)));
    let stdout = std::io::stdout();
    match format {
        CheckFormat::Table => {
            let mut out = stdout.lock();
            findings_out::summary_text(&report, &mut out)?;
            let shown: Vec<FindingView> = if limit > 0 {
                svc.findings_by_id(&checks, &report.most_severe).await?
            } else {
                let mut all = Vec::new();
                svc.for_each_open_finding(&checks, |f| {
                    if f.is_unaccepted() {
                        all.push(f);
                    }
                    Ok(())
                })
                .await?;
                all.sort_by(|a, b| {
                    b.finding
                        .severity
                        .cmp(&a.finding.severity)
                        .then_with(|| a.finding.check_id.cmp(&b.finding.check_id))
                        .then_with(|| a.nhi.name.cmp(&b.nhi.name))
                });
                all
            };
            let n = report.unaccepted(None);
            writeln!(
                out,
                "\n{} open findings, {n} without an exception",
                report.open()
            )?;
            for f in &shown {
                findings_out::finding_line(f, &mut out)?;
            }
            if (shown.len() as u64) < n {
                writeln!(
                    out,
                    "… {} more (--limit 0 shows all, --format json lists every finding)",
                    n - shown.len() as u64
                )?;
            }
        }
        CheckFormat::Json => {
            let mut w = JsonFindings::start(std::io::BufWriter::new(stdout.lock()), &report)?;
            svc.for_each_open_finding(&checks, |f| w.write(&f)).await?;
            w.finish()?;
        }
        CheckFormat::Sarif => {
            let mut all = Vec::new();
            svc.for_each_open_finding(&checks, |f| {
                all.push(f);
                Ok(())
            })
            .await?;
            findings_out::write_sarif(&checks, &all, &mut stdout.lock())?;
        }
        CheckFormat::Ocsf => {
            let mut out = std::io::BufWriter::new(stdout.lock());
            out.write_all(b"[")?;
            let mut first = true;
            let at = report.at;
            let mut err: Option<std::io::Error> = None;
            svc.for_each_open_finding(&checks, |f| {
                let sep: &[u8] = if first { b"\n" } else { b",\n" };
                first = false;
                if let Err(e) = out.write_all(sep).and_then(|()| {
                    serde_json::to_writer(&mut out, &findings_out::ocsf_event(&f, at))
                        .map_err(Into::into)
                }) {
                    err.get_or_insert(e);
                }
                Ok(())
            })
            .await?;
            if let Some(e) = err {
                return Err(e.into());
            }
            out.write_all(b"\n]\n")?;
            out.flush()?;
        }
    }
    svc.close().await;
    if gate > 0 {
        if let Some(t) = threshold {
            diag!("{gate} open findings at {t} severity or higher without an exception");
        }
        return Ok(Exit::Findings);
    }
    Ok(Exit::Success)
}

/// `keyward checks …`.
pub fn checks(cmd: ChecksCommand, config: Option<&Path>) -> Result<Exit> {
    match cmd {
        ChecksCommand::List { policies, format } => {
            let (_, checks) = load(config, policies.as_deref())?;
            match format {
                Format::Json => {
                    let metas: Vec<serde_json::Value> = checks
                        .all()
                        .iter()
                        .map(|c| {
                            let mut v = serde_json::to_value(&c.meta).unwrap_or_default();
                            v["enabled"] = c.enabled.into();
                            v["severity"] = c.severity.as_str().into();
                            v["custom"] = c.is_custom().into();
                            v
                        })
                        .collect();
                    json_out(&metas)?;
                }
                Format::Table => {
                    for c in checks.all() {
                        out!(
                            "{:<32} {:<6} {:<8} {:<4} {}  [{}; {}]",
                            c.id(),
                            c.meta.owasp.as_deref().unwrap_or("-"),
                            c.severity,
                            if c.enabled { "on" } else { "off" },
                            c.meta.title,
                            c.meta.iso27001.join(" "),
                            c.meta.nist_csf.join(" ")
                        );
                    }
                    out!(
                        "{} checks (version {})",
                        checks.all().len(),
                        checks.version()
                    );
                }
            }
            Ok(Exit::Success)
        }
        ChecksCommand::Test { policies } => {
            let (_, mut checks) = load(config, policies.as_deref())?;
            let failures = checks.run_cases();
            let cases: usize = checks.all().iter().map(|c| c.meta.cases.len()).sum();
            if failures.is_empty() {
                out!(
                    "{} checks (version {}): all {cases} inline cases give their expected result",
                    checks.all().len(),
                    checks.version()
                );
                return Ok(Exit::Success);
            }
            for f in &failures {
                diag!("error: {f}");
            }
            diag!("{} of {cases} cases failed", failures.len());
            Ok(Exit::InvalidInput)
        }
    }
}

/// `keyward controls`.
pub async fn controls(
    settings: Settings,
    config: Option<&Path>,
    framework: Option<&str>,
    format: Format,
) -> Result<Exit> {
    let framework = framework
        .map(|f| {
            f.parse::<keyward_catalog::Framework>()
                .map_err(|e| anyhow::anyhow!("--framework: {e}"))
        })
        .transpose()?;
    let (_, checks) = load(config, None)?;
    let svc = Service::open(settings).await?;
    let r = svc.controls(&checks, framework).await?;
    svc.close().await;
    match format {
        Format::Json => json_out(&r)?,
        Format::Table => {
            match (&r.run, r.run_at) {
                (Some(id), Some(at)) => out!(
                    "Counts from check run {id} at {}",
                    at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                _ => out!("No check run yet: run `keyward check` for counts"),
            }
            let mut last = "";
            for c in &r.controls {
                if c.framework != last {
                    last = c.framework;
                    out!(
                        "\n{:<10} {:<40} {:>6} {:>6} {:>6} {:>5}  {}",
                        c.framework,
                        "control",
                        "NHIs",
                        "pass",
                        "fail",
                        "exc",
                        "checks / evidence"
                    );
                }
                let title: String = c.title.chars().take(32).collect();
                let how = if c.automated {
                    c.checks.join(", ")
                } else if c.evidenced_by.is_empty() {
                    match c.scope {
                        Some("outside") => "outside NHI governance".to_owned(),
                        _ => "no check".to_owned(),
                    }
                } else {
                    format!("evidenced by {}", c.evidenced_by.join(", "))
                };
                out!(
                    "{:<10} {:<40} {:>6} {:>6} {:>6} {:>5}  {}",
                    c.id,
                    title,
                    c.in_scope,
                    c.passing,
                    c.failing,
                    c.open_exceptions,
                    how
                );
            }
        }
    }
    Ok(Exit::Success)
}

/// A date as the end of an exception: a day means its start (midnight UTC).
fn parse_expiry(s: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.to_utc());
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| {
        format!("--expires `{s}` is not a date (YYYY-MM-DD) or an RFC 3339 time")
    })?;
    Ok(d.and_time(chrono::NaiveTime::MIN).and_utc())
}

fn exception_text(e: &keyward_model::RiskException) -> String {
    format!(
        "{} {} finding {} until {}{}",
        e.id,
        e.state,
        e.finding_id,
        e.expires_at.format("%Y-%m-%d"),
        e.decided_by
            .as_ref()
            .map(|d| format!(", decided by {d}"))
            .unwrap_or_default()
    )
}

/// `keyward exception …`.
pub async fn exception(
    settings: Settings,
    config: Option<&Path>,
    cmd: ExceptionCommand,
) -> Result<Exit> {
    let config = crate::config::load(config)?;
    let policy = config.exception_policy();
    let svc = Service::open(settings).await?;
    let (e, format) = match cmd {
        ExceptionCommand::Request {
            finding,
            reason,
            compensating_controls,
            expires,
            requested_by,
            format,
        } => {
            let expires = expires.as_deref().map(parse_expiry).transpose()?;
            let e = svc
                .request_exception(
                    ExceptionRequest {
                        finding,
                        reason,
                        compensating_controls,
                        expires,
                        requested_by,
                    },
                    &policy,
                )
                .await?;
            (e, format)
        }
        ExceptionCommand::Approve(d) => (
            svc.decide_exception(&d.id, &d.by, true, d.note, &policy)
                .await?,
            d.format,
        ),
        ExceptionCommand::Reject(d) => (
            svc.decide_exception(&d.id, &d.by, false, d.note, &policy)
                .await?,
            d.format,
        ),
        ExceptionCommand::List { format } => {
            let all = svc.list_exceptions().await?;
            svc.close().await;
            match format {
                Format::Json => json_out(&all)?,
                Format::Table => {
                    for v in &all {
                        out!(
                            "{}  [{} on {}]{}  reason: {}  compensating: {}",
                            exception_text(&v.exception),
                            v.check,
                            v.nhi,
                            if v.in_force { " in force" } else { "" },
                            v.exception.reason,
                            v.exception.compensating_controls
                        );
                    }
                    out!("{} exceptions", all.len());
                }
            }
            return Ok(Exit::Success);
        }
    };
    svc.close().await;
    match format {
        Format::Json => json_out(&e)?,
        Format::Table => out!("{}", exception_text(&e)),
    }
    Ok(Exit::Success)
}
