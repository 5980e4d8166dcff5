//! `keyward controls`: per control of each framework, the checks mapped to it, how the NHIs
//! in scope fared in the latest check run, the exceptions open against it, and how Keyward
//! evidences it — also for controls no check automates.

use std::collections::HashMap;

use keyward_catalog::{Catalog, Framework, Scope};
use keyward_checks::Checks;
use keyward_model::ExceptionState;
use serde::Serialize;

use crate::{ControlTally, Service, ServiceError};

/// One control's line.
#[derive(Debug, Clone, Serialize)]
pub struct ControlView {
    /// `iso27001`, `nist-csf` or `owasp-nhi`.
    pub framework: &'static str,
    /// The control's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The checks mapped to it.
    pub checks: Vec<String>,
    /// Whether a check automates it.
    pub automated: bool,
    /// NHIs in scope in the latest check run (none when no run or no check).
    pub in_scope: u64,
    /// Passing every mapped check.
    pub passing: u64,
    /// Failing a mapped check without an exception.
    pub failing: u64,
    /// Failing only under exceptions.
    pub accepted: u64,
    /// Exceptions requested or in force against its checks' findings.
    pub open_exceptions: u64,
    /// For Annex A: `nhi`, `partial` or `outside` Keyward's governance.
    pub scope: Option<&'static str>,
    /// The Keyward records that evidence it.
    pub evidenced_by: Vec<&'static str>,
    /// How, in a sentence.
    pub note: Option<String>,
}

/// The controls report.
#[derive(Debug, Clone, Serialize)]
pub struct ControlsReport {
    /// The check run the counts come from.
    pub run: Option<String>,
    /// When it ran.
    pub run_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The controls.
    pub controls: Vec<ControlView>,
}

impl Service {
    /// The controls of `framework` (all three when `None`).
    pub async fn controls(
        &self,
        checks: &Checks,
        framework: Option<Framework>,
    ) -> Result<ControlsReport, ServiceError> {
        let catalog = Catalog::embedded().map_err(|e| {
            ServiceError::Refused(format!("the embedded catalogues are broken: {e}"))
        })?;
        let run = self.store.latest_run("check").await?;
        let tallies: HashMap<(String, String), ControlTally> = run
            .as_ref()
            .and_then(|r| r.counts.get("controls"))
            .and_then(|c| serde_json::from_value::<Vec<ControlTally>>(c.clone()).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|t| ((t.framework.clone(), t.id.clone()), t))
            .collect();
        let mut mapped: HashMap<(&'static str, String), Vec<String>> = HashMap::new();
        for c in checks.enabled() {
            for key in c.control_keys() {
                mapped.entry(key).or_default().push(c.id().to_owned());
            }
        }
        let now = self.now();
        let mut exceptions_by_check: HashMap<String, u64> = HashMap::new();
        for e in self.store.exceptions(None).await? {
            let open = e.state == ExceptionState::Requested || e.in_force(now);
            if open {
                let f = self.store.finding(&e.finding_id).await?;
                *exceptions_by_check.entry(f.check_id).or_default() += 1;
            }
        }
        let tally_key = |fw: &str, id: &str| {
            tallies
                .get(&(fw.to_owned(), id.to_owned()))
                .cloned()
                .unwrap_or_default()
        };
        let mut controls = Vec::new();
        let mut line = |fw: &'static str,
                        id: &str,
                        title: &str,
                        extra: Option<(Scope, Vec<&'static str>, String)>| {
            let checks = mapped.remove(&(fw, id.to_owned())).unwrap_or_default();
            let t = tally_key(fw, id);
            let open_exceptions = checks
                .iter()
                .map(|c| exceptions_by_check.get(c).copied().unwrap_or(0))
                .sum();
            let (scope, evidenced_by, note) = match extra {
                Some((s, r, n)) => (Some(s.as_str()), r, Some(n)),
                None => (None, Vec::new(), None),
            };
            let mut evidenced_by = evidenced_by;
            if !checks.is_empty() && !evidenced_by.contains(&"check_findings") {
                evidenced_by.push("check_findings");
            }
            controls.push(ControlView {
                framework: fw,
                id: id.to_owned(),
                title: title.to_owned(),
                automated: !checks.is_empty(),
                checks,
                in_scope: t.in_scope,
                passing: t.passing,
                failing: t.failing,
                accepted: t.accepted,
                open_exceptions,
                scope,
                evidenced_by,
                note,
            });
        };
        let want = |f: Framework| framework.is_none_or(|x| x == f);
        if want(Framework::OwaspNhi) {
            for r in catalog.owasp() {
                line("owasp-nhi", &r.id, &r.title, None);
            }
        }
        if want(Framework::Iso27001) {
            for c in catalog.annex_a() {
                let records = c.evidence.records.iter().map(|r| r.as_str()).collect();
                line(
                    "iso27001",
                    &c.id,
                    &c.title,
                    Some((c.evidence.scope, records, c.evidence.note.clone())),
                );
            }
        }
        if want(Framework::NistCsf) {
            for s in catalog.csf_subcategories() {
                line("nist-csf", &s.id, s.name(), None);
            }
        }
        Ok(ControlsReport {
            run: run.as_ref().map(|r| r.id.clone()),
            run_at: run.map(|r| r.finished_at),
            controls,
        })
    }
}
