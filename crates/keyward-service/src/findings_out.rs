//! Findings as reports: a table for people, JSON, SARIF 2.1.0 for code-scanning tools, and
//! OCSF Compliance Finding events (class 2003) for SIEM and GRC tools.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use keyward_checks::{Check, Checks};
use keyward_model::{Finding, FindingState, RiskException, Severity};
use keyward_store::{FindingFilter, FindingNhi};
use serde::Serialize;

use crate::{CheckReport, Service, ServiceError};

/// One finding as reported: the finding, its NHI, its check's metadata and the exception in
/// force, if any.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    /// The finding, `last_seen_at` being the latest evaluation of its check while open.
    #[serde(flatten)]
    pub finding: Finding,
    /// The NHI.
    pub nhi: FindingNhi,
    /// The check's title.
    pub title: String,
    /// OWASP NHI Top 10 risk.
    pub owasp: Option<String>,
    /// Annex A controls.
    pub iso27001: Vec<String>,
    /// CSF subcategories.
    pub nist_csf: Vec<String>,
    /// What to do.
    pub remediation: String,
    /// The exception suppressing it now.
    pub exception: Option<RiskException>,
}

impl FindingView {
    /// Whether it counts against the posture: open and not covered by an exception.
    pub fn is_unaccepted(&self) -> bool {
        self.finding.state == FindingState::Open && self.exception.is_none()
    }

    /// The evidence's message.
    pub fn message(&self) -> &str {
        self.finding
            .evidence
            .get("message")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    }
}

impl Service {
    /// Streams the open findings of the enabled checks in `checks` to `each`, by NHI then
    /// check, and counts them. Findings of checks that are off or not loaded are left out: no run keeps them
    /// current.
    pub async fn for_each_open_finding(
        &self,
        checks: &Checks,
        each: impl FnMut(FindingView) -> Result<(), ServiceError>,
    ) -> Result<u64, ServiceError> {
        let filter = FindingFilter {
            open_only: true,
            ..FindingFilter::default()
        };
        self.for_each_finding_view(checks, &filter, each).await
    }

    /// The findings with these ids, in the order given (ones not found, or of checks that are
    /// off or not loaded, left out): for instance a run's [`CheckReport::most_severe`].
    pub async fn findings_by_id(
        &self,
        checks: &Checks,
        ids: &[String],
    ) -> Result<Vec<FindingView>, ServiceError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: HashMap<String, FindingView> = HashMap::with_capacity(ids.len());
        // Bound values per statement stay well under either database's limit.
        for chunk in ids.chunks(500) {
            let filter = FindingFilter {
                ids: chunk.to_vec(),
                ..FindingFilter::default()
            };
            self.for_each_finding_view(checks, &filter, |f| {
                found.insert(f.finding.id.clone(), f);
                Ok(())
            })
            .await?;
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    async fn for_each_finding_view(
        &self,
        checks: &Checks,
        filter: &FindingFilter,
        mut each: impl FnMut(FindingView) -> Result<(), ServiceError>,
    ) -> Result<u64, ServiceError> {
        let now = self.now();
        let states = self.store.check_states().await?;
        let exceptions: HashMap<String, RiskException> = self
            .store
            .exceptions(Some(keyward_model::ExceptionState::Approved))
            .await?
            .into_iter()
            .filter(|e| e.in_force(now))
            .map(|e| (e.finding_id.clone(), e))
            .collect();
        let meta: HashMap<&str, &Check> = checks.enabled().map(|c| (c.id(), c)).collect();
        let mut reported = 0;
        self.store
            .for_each_finding(filter, |mut f: Finding, nhi: FindingNhi| {
                let Some(c) = meta.get(f.check_id.as_str()) else {
                    // A check that is off, or a custom check not loaded this time.
                    return Ok(());
                };
                if let Some((_, at)) = states.get(&f.check_id) {
                    f.last_seen_at = *at;
                }
                let exception = exceptions.get(&f.id).cloned();
                reported += 1;
                each(FindingView {
                    nhi,
                    title: c.meta.title.clone(),
                    owasp: c.meta.owasp.clone(),
                    iso27001: c.meta.iso27001.clone(),
                    nist_csf: c.meta.nist_csf.clone(),
                    remediation: c.meta.remediation.clone(),
                    exception,
                    finding: f,
                })
            })
            .await?;
        Ok(reported)
    }
}

fn io(e: std::io::Error) -> ServiceError {
    ServiceError::Io {
        context: "writing findings".into(),
        source: e,
    }
}

fn json_err(e: serde_json::Error) -> ServiceError {
    io(e.into())
}

/// The run summary as a table: per check, then the counts.
pub fn summary_text(r: &CheckReport, out: &mut impl Write) -> Result<(), ServiceError> {
    writeln!(
        out,
        "Check run {} at {}: {} NHIs ({} live) judged by {} checks (version {})",
        r.run_id,
        r.at.format("%Y-%m-%d %H:%M:%S UTC"),
        r.nhis,
        r.judged,
        r.checks.len(),
        r.checks_version
    )
    .map_err(io)?;
    writeln!(
        out,
        "\n{:<32} {:<6} {:<8} {:>8} {:>8} {:>8} {:>7} {:>7}",
        "check", "owasp", "severity", "applies", "failing", "accepted", "opened", "resolved"
    )
    .map_err(io)?;
    for c in &r.checks {
        writeln!(
            out,
            "{:<32} {:<6} {:<8} {:>8} {:>8} {:>8} {:>7} {:>7}",
            c.id,
            c.owasp.as_deref().unwrap_or("-"),
            c.severity,
            c.applicable,
            c.failed,
            c.accepted,
            c.opened + c.reopened,
            c.resolved
        )
        .map_err(io)?;
    }
    writeln!(
        out,
        "\nFindings this run: {} opened, {} reopened, {} resolved, {} updated; {} exceptions expired",
        r.opened, r.reopened, r.resolved, r.updated, r.exceptions_expired
    )
    .map_err(io)?;
    Ok(())
}

/// One line per finding for the table.
pub fn finding_line(f: &FindingView, out: &mut impl Write) -> Result<(), ServiceError> {
    let accepted = f
        .exception
        .as_ref()
        .map(|e| format!(" [accepted until {}]", e.expires_at.format("%Y-%m-%d")))
        .unwrap_or_default();
    writeln!(
        out,
        "{:<8} {:<28} {} {} ({} {}, {}): {}{accepted}",
        f.finding.severity,
        f.finding.check_id,
        f.finding.id,
        f.nhi.name,
        f.nhi.provider,
        f.nhi.kind,
        f.nhi.environment,
        f.message()
    )
    .map_err(io)
}

/// Writes findings as one JSON document `{run, findings: [...]}`, streaming the findings.
pub struct JsonFindings<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonFindings<W> {
    /// Starts the document with the run summary.
    pub fn start(mut out: W, run: &CheckReport) -> Result<Self, ServiceError> {
        out.write_all(b"{\"run\":").map_err(io)?;
        serde_json::to_writer(&mut out, run).map_err(json_err)?;
        out.write_all(b",\"findings\":[").map_err(io)?;
        Ok(Self { out, first: true })
    }

    /// Adds one finding.
    pub fn write(&mut self, f: &FindingView) -> Result<(), ServiceError> {
        if !self.first {
            self.out.write_all(b",").map_err(io)?;
        }
        self.first = false;
        self.out.write_all(b"\n").map_err(io)?;
        serde_json::to_writer(&mut self.out, f).map_err(json_err)
    }

    /// Ends the document.
    pub fn finish(mut self) -> Result<(), ServiceError> {
        self.out.write_all(b"\n]}\n").map_err(io)
    }
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Low => "note",
        Severity::Medium => "warning",
        Severity::High | Severity::Critical => "error",
    }
}

/// GitHub code scanning's `security-severity` score for a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Low => "3.0",
        Severity::Medium => "5.5",
        Severity::High => "8.0",
        Severity::Critical => "9.5",
    }
}

/// SARIF 2.1.0: one run, the checks as rules, one result per open finding. Findings under an
/// exception carry an accepted external suppression with its justification. A finding whose
/// evidence names a file (leaked secrets) points at it; others at the NHI as a logical
/// location.
pub fn write_sarif(
    checks: &Checks,
    findings: &[FindingView],
    out: &mut impl Write,
) -> Result<(), ServiceError> {
    let rules: Vec<&Check> = checks.enabled().collect();
    let rule_index: HashMap<&str, usize> =
        rules.iter().enumerate().map(|(i, c)| (c.id(), i)).collect();
    let rule_json: Vec<serde_json::Value> = rules
        .iter()
        .map(|c| {
            let mut tags: Vec<String> = vec!["security".into(), "non-human-identity".into()];
            tags.extend(c.meta.owasp.iter().map(|o| format!("OWASP-{o}:2025")));
            tags.extend(c.meta.iso27001.iter().map(|i| format!("ISO27001:2022-{i}")));
            tags.extend(c.meta.nist_csf.iter().map(|i| format!("NIST-CSF-2.0-{i}")));
            serde_json::json!({
                "id": c.id(),
                "name": c.meta.title,
                "shortDescription": {"text": c.meta.title},
                "fullDescription": {"text": c.meta.rationale.trim()},
                "help": {"text": c.meta.remediation.trim()},
                "defaultConfiguration": {"level": sarif_level(c.severity)},
                "properties": {
                    "tags": tags,
                    "security-severity": security_severity(c.severity),
                },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .filter(|f| rule_index.contains_key(f.finding.check_id.as_str()))
        .map(|f| {
            let fields = f.finding.evidence.get("fields");
            let path = fields
                .and_then(|x| x.get("path"))
                .and_then(serde_json::Value::as_str);
            let fqn = match &f.nhi.external_id {
                Some(x) => format!("{}:{x}", f.nhi.provider),
                None => f.finding.nhi_id.0.clone(),
            };
            let mut location = serde_json::json!({
                "logicalLocations": [{
                    "name": f.nhi.name,
                    "fullyQualifiedName": fqn,
                    "kind": "resource",
                }],
            });
            if let Some(p) = path {
                location["physicalLocation"] = serde_json::json!({"artifactLocation": {"uri": p}});
            }
            let mut r = serde_json::json!({
                "ruleId": f.finding.check_id,
                "ruleIndex": rule_index.get(f.finding.check_id.as_str()).copied().unwrap_or(0),
                "level": sarif_level(f.finding.severity),
                "message": {"text": format!("{}: {}", f.nhi.name, f.message())},
                "locations": [location],
                "partialFingerprints": {"keywardFinding/v1": f.finding.id},
                "properties": {
                    "finding": f.finding.id,
                    "nhi": f.finding.nhi_id,
                    "environment": f.nhi.environment,
                    "owner": f.nhi.owner,
                    "opened_at": f.finding.opened_at,
                    "evidence": f.finding.evidence,
                },
            });
            if let Some(e) = &f.exception {
                r["suppressions"] = serde_json::json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!(
                        "{} (compensating controls: {}; approved by {}; until {})",
                        e.reason,
                        e.compensating_controls,
                        e.decided_by.as_deref().unwrap_or(""),
                        e.expires_at.format("%Y-%m-%d")
                    ),
                }]);
            }
            r
        })
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keyward",
                "version": crate::VERSION,
                "informationUri": "https://github.com/keyward/keyward",
                "rules": rule_json,
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(json_err)?;
    writeln!(out).map_err(io)
}

fn ocsf_severity(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// One finding as an OCSF Compliance Finding event (class 2003, category Findings).
pub fn ocsf_event(f: &FindingView, at: DateTime<Utc>) -> serde_json::Value {
    let (severity_id, severity) = ocsf_severity(f.finding.severity);
    // Status: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved.
    let (status_id, status) = match (&f.exception, f.finding.state) {
        (_, FindingState::Resolved) => (4, "Resolved"),
        (Some(_), _) => (3, "Suppressed"),
        (None, _) if f.finding.reopen_count > 0 || f.finding.opened_at < at => (2, "In Progress"),
        (None, _) => (1, "New"),
    };
    let mut standards: Vec<String> = Vec::new();
    if f.owasp.is_some() {
        standards.push("OWASP Non-Human Identities Top 10 (2025)".into());
    }
    if !f.iso27001.is_empty() {
        standards.push("ISO/IEC 27001:2022".into());
    }
    if !f.nist_csf.is_empty() {
        standards.push("NIST CSF 2.0".into());
    }
    let requirements: Vec<String> = f
        .owasp
        .iter()
        .map(|o| format!("{o}:2025"))
        .chain(f.iso27001.iter().cloned())
        .chain(f.nist_csf.iter().cloned())
        .collect();
    let mut event = serde_json::json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "type_uid": 200_301,
        "type_name": "Compliance Finding: Create",
        "time": millis(at),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "message": f.message(),
        "metadata": {
            "version": "1.3.0",
            "product": {"name": "Keyward", "vendor_name": "Keyward", "version": crate::VERSION},
            "uid": f.finding.id,
        },
        "finding_info": {
            "uid": f.finding.id,
            "title": f.title,
            "desc": f.message(),
            "types": ["Non-Human Identity Posture"],
            "created_time": millis(f.finding.opened_at),
            "first_seen_time": millis(f.finding.opened_at),
            "last_seen_time": millis(f.finding.last_seen_at),
            "analytic": {"uid": f.finding.check_id, "name": f.title, "type_id": 1, "type": "Rule"},
        },
        "compliance": {
            "control": f.finding.check_id,
            "standards": standards,
            "requirements": requirements,
            "status_id": 3,
            "status": "Fail",
        },
        "resources": [{
            "uid": f.finding.nhi_id,
            "name": f.nhi.name,
            "type": f.nhi.kind,
            "cloud_partition": serde_json::Value::Null,
            "labels": [format!("environment:{}", f.nhi.environment), format!("provider:{}", f.nhi.provider)],
            "owner": {"email_addr": f.nhi.owner},
        }],
        "remediation": {"desc": f.remediation.trim()},
        "unmapped": {"evidence": f.finding.evidence},
    });
    if let Some(o) = event["resources"][0].as_object_mut() {
        o.remove("cloud_partition");
        if f.nhi.owner.is_none() {
            o.remove("owner");
        }
    }
    if let Some(e) = &f.exception {
        event["unmapped"]["exception"] = serde_json::to_value(e).unwrap_or_default();
    }
    event
}
