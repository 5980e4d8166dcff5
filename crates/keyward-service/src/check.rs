//! `keyward check`: every enabled check over the whole register, stored as findings with a
//! lifecycle, in one transaction with its ledger entries.
//!
//! A run first expires exceptions whose time has come (ledgering that their findings are open
//! again), then reads the register in batches, judges each NHI with every check and compares
//! with its stored findings: a new failure opens a finding, a failure whose evidence changed
//! updates it, a failure of a resolved finding reopens it, and a pass resolves an open one.
//! Each NHI whose findings changed gets one ledger entry listing what changed; the run's
//! record holds the counts per check and per control. Nothing else is written, so a run that
//! finds what the last one found adds only its run record.
//!
//! The store keeps, per NHI with findings, a digest of its open findings (check, severity,
//! evidence digest) over the checks the last run evaluated. A batch is judged first; only the
//! NHIs whose digest differs from what they fail now have their findings read and compared.
//! On an unchanged register of 1,000,000 NHIs that skips reading ~4.9 million findings.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use keyward_checks::{Check, Checks, CredentialSubject, Gone, Outcome, Place, Standing, Subject};
use keyward_ledger::NewEntry;
use keyward_model::{
    ExceptionState, Finding, FindingState, Nhi, OwnerRef, Person, PersonStatus, RiskException,
    Severity,
};
use keyward_store::{CheckBatch, WriteTx};
use serde::Serialize;

use crate::service::{RunFacts, canonical};
use crate::{Service, ServiceError};

/// Findings written per page.
const PAGE: usize = 4000;

/// How one check fared in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckTally {
    /// The check.
    pub id: String,
    /// Its title.
    pub title: String,
    /// OWASP risk, if any.
    pub owasp: Option<String>,
    /// Severity.
    pub severity: String,
    /// NHIs it applied to.
    pub applicable: u64,
    /// Of those, passing.
    pub passed: u64,
    /// Failing, exceptions included.
    pub failed: u64,
    /// Failing but covered by an exception in force.
    pub accepted: u64,
    /// Findings opened this run.
    pub opened: u64,
    /// Findings reopened this run.
    pub reopened: u64,
    /// Findings resolved this run.
    pub resolved: u64,
}

/// How the NHIs in scope of one control fared: an NHI is in scope when a check mapped to the
/// control applied to it, failing when one of those checks failed without an exception.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ControlTally {
    /// `iso27001`, `nist-csf` or `owasp-nhi`.
    pub framework: String,
    /// The control's id.
    pub id: String,
    /// NHIs in scope.
    pub in_scope: u64,
    /// Of those, passing every mapped check.
    pub passing: u64,
    /// Failing a mapped check with no exception in force.
    pub failing: u64,
    /// Failing only where an exception is in force.
    pub accepted: u64,
}

/// What a check run did.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The run's id.
    pub run_id: String,
    /// When it judged.
    pub at: DateTime<Utc>,
    /// Digest of the check files and modules.
    pub checks_version: String,
    /// NHIs read.
    pub nhis: u64,
    /// Of which live (active or disabled) and so judged.
    pub judged: u64,
    /// Findings opened, reopened, resolved and updated.
    pub opened: u64,
    /// Reopened.
    pub reopened: u64,
    /// Resolved.
    pub resolved: u64,
    /// Evidence or severity changed.
    pub updated: u64,
    /// Exceptions that expired at the start of the run.
    pub exceptions_expired: u64,
    /// Per check.
    pub checks: Vec<CheckTally>,
    /// Per control.
    pub controls: Vec<ControlTally>,
    /// The ids of the most severe open findings without an exception, as many as asked for,
    /// most severe first (then by check and NHI name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub most_severe: Vec<String>,
}

impl CheckReport {
    /// Open findings of this run's checks.
    pub fn open(&self) -> u64 {
        self.checks.iter().map(|c| c.failed).sum()
    }

    /// Open findings of this run's checks at `at_least` severity or higher with no exception
    /// in force (all of them when `None`).
    pub fn unaccepted(&self, at_least: Option<Severity>) -> u64 {
        self.checks
            .iter()
            .filter(|c| {
                at_least.is_none_or(|t| c.severity.parse::<Severity>().is_ok_and(|s| s >= t))
            })
            .map(|c| c.failed - c.accepted)
            .sum()
    }
}

/// What a check run reports besides its tallies.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// How many of the most severe unaccepted findings to name in the report.
    pub most_severe: usize,
}

/// One candidate for the report's most severe findings; the greatest is shown last.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Ranked {
    severity: std::cmp::Reverse<Severity>,
    check: String,
    name: String,
    nhi: String,
    finding: String,
}

/// Keeps the `keep` most severe findings seen.
struct MostSevere {
    keep: usize,
    heap: std::collections::BinaryHeap<Ranked>,
}

impl MostSevere {
    fn new(keep: usize) -> Self {
        Self {
            keep,
            heap: std::collections::BinaryHeap::with_capacity(keep + 1),
        }
    }

    /// Offers a finding; its id is only made when it is kept.
    fn offer(
        &mut self,
        severity: Severity,
        check: &str,
        name: &str,
        nhi: &str,
        id: impl FnOnce() -> String,
    ) {
        if self.keep == 0 {
            return;
        }
        let key = (std::cmp::Reverse(severity), check, name, nhi);
        if self.heap.len() == self.keep
            && self.heap.peek().is_some_and(|top| {
                key >= (
                    top.severity,
                    top.check.as_str(),
                    top.name.as_str(),
                    top.nhi.as_str(),
                )
            })
        {
            return;
        }
        self.heap.push(Ranked {
            severity: key.0,
            check: check.to_owned(),
            name: name.to_owned(),
            nhi: nhi.to_owned(),
            finding: id(),
        });
        if self.heap.len() > self.keep {
            self.heap.pop();
        }
    }

    fn into_ids(self) -> Vec<String> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.finding)
            .collect()
    }
}

/// How a person owner stands, from the people directory.
struct Directory {
    people: HashMap<String, (PersonStatus, Option<NaiveDate>)>,
    staffed_teams: std::collections::HashSet<String>,
}

impl Directory {
    fn new(people: Vec<Person>) -> Self {
        let staffed_teams = people
            .iter()
            .filter(|p| p.status == PersonStatus::Active)
            .filter_map(|p| p.team.clone())
            .collect();
        Self {
            people: people
                .into_iter()
                .map(|p| (p.email, (p.status, p.departed_on)))
                .collect(),
            staffed_teams,
        }
    }

    fn standing(&self, owner: Option<&OwnerRef>) -> (Standing, Option<NaiveDate>) {
        match owner {
            None => (Standing::None, None),
            Some(OwnerRef::Team(t)) if self.staffed_teams.contains(t) => (Standing::Team, None),
            Some(OwnerRef::Team(_)) => (Standing::EmptyTeam, None),
            Some(OwnerRef::Person(email)) => match self.people.get(email) {
                None => (Standing::NotInDirectory, None),
                Some((PersonStatus::Active, _)) => (Standing::Active, None),
                Some((PersonStatus::Departed, on)) => (Standing::Departed, *on),
            },
        }
    }
}

/// The control keys each check counts towards, as indexes into the run's control list.
struct ControlMap {
    keys: Vec<(String, String)>,
    of_check: Vec<Vec<usize>>,
}

impl ControlMap {
    fn new<'a>(checks: impl Iterator<Item = &'a Check>) -> Self {
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        let mut of_check = Vec::new();
        for c in checks {
            let mine = c
                .control_keys()
                .into_iter()
                .map(|(fw, id)| {
                    let key = (fw.to_owned(), id);
                    *index.entry(key.clone()).or_insert_with(|| {
                        keys.push(key);
                        keys.len() - 1
                    })
                })
                .collect();
            of_check.push(mine);
        }
        Self { keys, of_check }
    }
}

/// What a run keeps of each enabled check while the checks themselves are busy judging.
struct Judged {
    id: String,
    severity: Severity,
}

/// One NHI of a batch, judged: its outcomes in the order of the enabled checks (with each
/// failure's evidence digest) and the digest of the open findings they make.
struct JudgedNhi {
    id: keyward_model::NhiId,
    name: String,
    outcomes: Vec<(Outcome, Option<String>)>,
    set: String,
}

/// What a run has yet to write: findings opened or changed (with, for those already stored,
/// their index and whether they reopen, to carry their times over), findings resolved with
/// when they were last seen, and ledger entries.
#[derive(Default)]
struct Pending {
    writes: Vec<Finding>,
    /// Digests of NHIs' open findings that changed.
    sets: Vec<(String, String)>,
    carries: Vec<(usize, bool)>,
    resolves: Vec<(String, Option<DateTime<Utc>>)>,
    entries: Vec<NewEntry>,
}

/// One NHI's changed findings, for its ledger entry.
#[derive(Default, Serialize)]
struct Changes<'a> {
    run: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    opened: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reopened: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    updated: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resolved: Vec<Change>,
}

#[derive(Serialize)]
struct Change {
    finding: String,
    check: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl Changes<'_> {
    fn is_empty(&self) -> bool {
        self.opened.is_empty()
            && self.reopened.is_empty()
            && self.updated.is_empty()
            && self.resolved.is_empty()
    }
}

fn encoding(e: serde_json::Error) -> ServiceError {
    ServiceError::Io {
        context: "encoding a finding's evidence".into(),
        source: e.into(),
    }
}

/// The digest of evidence as stored (of its canonical encoding), encoded into `buf` (which is
/// reused: the encoder writes in small pieces, which are cheaper to copy than to hash).
fn digest(evidence: &impl Serialize, buf: &mut Vec<u8>) -> Result<String, ServiceError> {
    buf.clear();
    serde_json::to_writer(&mut *buf, evidence).map_err(encoding)?;
    let mut h = keyward_model::EvidenceHasher::default();
    h.update(buf);
    Ok(h.finish())
}

/// Builds what checks see of one NHI from the batch the store read.
fn subject(nhi: Nhi, batch: &mut CheckBatch, directory: &Directory) -> Subject {
    let (owner_standing, owner_departed_on) = directory.standing(nhi.owner.as_ref());
    let (backup_owner_standing, _) = directory.standing(nhi.backup_owner.as_ref());
    let mut s = Subject {
        id: nhi.id.0.clone(),
        name: nhi.name,
        kind: nhi.kind,
        provider: nhi.provider,
        external_id: nhi.external_id,
        environment: nhi.environment,
        status: nhi.status,
        origin: nhi.origin,
        owner: nhi.owner.map(|o| o.to_string()),
        owner_standing,
        owner_departed_on,
        backup_owner: nhi.backup_owner.map(|o| o.to_string()),
        backup_owner_standing,
        purpose: nhi.purpose,
        supplier: nhi.supplier,
        privilege_ceiling: nhi.privilege_ceiling,
        observed_permissions: nhi.observed_permissions,
        created_at: nhi.created_at,
        expires_at: nhi.expires_at,
        last_rotated_at: nhi.last_rotated_at,
        last_used_at: nhi.last_used_at,
        last_used_state: nhi.last_used_state,
        last_reviewed_at: nhi.last_reviewed_at,
        review_every_days: nhi.review_every.map(keyward_model::Cadence::days),
        next_review_due: nhi.next_review_due,
        registered_at: Some(nhi.registered_at),
        tags: nhi.tags,
        ..Subject::default()
    };
    for o in batch.observations.remove(&nhi.id.0).unwrap_or_default() {
        match o.gone_at {
            Some(gone_at) => s.gone.push(Gone {
                source: o.source,
                locator: o.locator,
                gone_at,
            }),
            None => {
                for (name, value) in o.facts {
                    s.merge_fact(&o.source, &name, value);
                }
                s.sources.push(o.source);
            }
        }
    }
    for c in batch.credentials.remove(&nhi.id.0).unwrap_or_default() {
        let locations = batch
            .places
            .remove(&c.id)
            .unwrap_or_default()
            .into_iter()
            .map(|p| Place::new(p.source, p.repository, p.path, p.commit))
            .collect();
        s.credentials.push(CredentialSubject {
            id: c.id,
            kind: c.kind,
            status: c.status,
            external_id: c.external_id,
            created_at: c.created_at,
            expires_at: c.expires_at,
            last_rotated_at: c.last_rotated_at,
            last_used_at: c.last_used_at,
            locations,
        });
    }
    s
}

impl Service {
    /// Runs every enabled check in `checks` over the register and stores the findings.
    pub async fn check(&self, checks: &mut Checks) -> Result<CheckReport, ServiceError> {
        self.check_with(checks, CheckOptions::default()).await
    }

    /// [`Self::check`], reporting as `options` asks.
    pub async fn check_with(
        &self,
        checks: &mut Checks,
        options: CheckOptions,
    ) -> Result<CheckReport, ServiceError> {
        let started = self.now();
        let mut tx = self.begin().await?;
        let now = tx.now();
        let run_id = self.new_id("run");
        let exceptions_expired = self.expire_exceptions(&mut tx).await?;
        let in_force = tx.exceptions_in_force().await?;
        let directory = Directory::new(self.store.people().await?);
        let states = self.store.check_states().await?;

        let enabled: Vec<Judged> = checks
            .enabled()
            .map(|c| Judged {
                id: c.id().to_owned(),
                severity: c.severity,
            })
            .collect();
        let controls = ControlMap::new(checks.enabled());
        let index: foldhash::HashMap<String, usize> = enabled
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let mut tallies: Vec<CheckTally> = checks
            .enabled()
            .map(|c| CheckTally {
                id: c.id().to_owned(),
                title: c.meta.title.clone(),
                owasp: c.meta.owasp.clone(),
                severity: c.severity.as_str().to_owned(),
                ..CheckTally::default()
            })
            .collect();
        let mut control_tallies: Vec<ControlTally> = controls
            .keys
            .iter()
            .map(|(fw, id)| ControlTally {
                framework: fw.clone(),
                id: id.clone(),
                ..ControlTally::default()
            })
            .collect();
        // Per NHI: 0 out of scope, 1 passing, 2 failing under an exception, 3 failing.
        let mut control_state = vec![0u8; controls.keys.len()];

        let mut report = CheckReport {
            run_id: run_id.clone(),
            at: now,
            checks_version: checks.version(),
            nhis: 0,
            judged: 0,
            opened: 0,
            reopened: 0,
            resolved: 0,
            updated: 0,
            exceptions_expired,
            checks: Vec::new(),
            controls: Vec::new(),
            most_severe: Vec::new(),
        };
        let mut most_severe = MostSevere::new(options.most_severe);
        let mut pending = Pending::default();
        let mut befores: Vec<Option<usize>> = vec![None; enabled.len()];
        let mut encoded: Vec<u8> = Vec::with_capacity(1024);
        // What the digest of each NHI's open findings covers: the checks this run evaluates.
        let basis = {
            let mut h = keyward_model::EvidenceHasher::default();
            for c in &enabled {
                h.update(c.id.as_bytes());
                h.update(b"\n");
            }
            h.finish()
        };
        let mut judged: Vec<JudgedNhi> = Vec::new();

        let mut batches = self.store.check_batches(now)?;
        while let Some(batch) = batches.next().await {
            let mut batch = batch?;
            let nhis = std::mem::take(&mut batch.nhis);
            // Judge the whole batch first: only the NHIs whose open findings differ from what
            // the last run left need their stored findings read.
            for nhi in nhis {
                report.nhis += 1;
                let s = subject(nhi, &mut batch, &directory);
                if s.is_live() {
                    report.judged += 1;
                }
                let mut j = JudgedNhi {
                    id: keyward_model::NhiId(s.id.clone()),
                    name: s.name.clone(),
                    outcomes: Vec::with_capacity(enabled.len()),
                    set: String::new(),
                };
                // `evaluate` calls back for the enabled checks in the order `enabled` holds.
                checks.evaluate(&s, now, |_, o| j.outcomes.push((o, None)))?;
                let mut set = keyward_model::EvidenceHasher::default();
                set.update(basis.as_bytes());
                for (i, (outcome, digest_of)) in j.outcomes.iter_mut().enumerate() {
                    if let Outcome::Fail(e) = outcome {
                        let d = digest(e, &mut encoded)?;
                        for part in [enabled[i].id.as_str(), enabled[i].severity.as_str(), &d] {
                            set.update(part.as_bytes());
                            set.update(b" ");
                        }
                        *digest_of = Some(d);
                    }
                }
                j.set = set.finish();
                judged.push(j);
            }
            let stale: Vec<&str> = judged
                .iter()
                .filter(|j| batch.finding_sets.get(&j.id.0).is_some_and(|d| *d != j.set))
                .map(|j| j.id.0.as_str())
                .collect();
            let mut stored_of = if stale.is_empty() {
                foldhash::HashMap::default()
            } else {
                tx.stored_findings_of(&stale).await?
            };
            for nhi in judged.drain(..) {
                let nhi_id = nhi.id;
                let stored_set = batch.finding_sets.get(&nhi_id.0);
                // As the last run left it: every failure is an open finding with the same
                // evidence and severity, and nothing passing has an open finding.
                let settled = stored_set.is_some_and(|d| *d == nhi.set);
                let stored = stored_of.remove(&nhi_id.0).unwrap_or_default();
                let failing = nhi
                    .outcomes
                    .iter()
                    .any(|(o, _)| matches!(o, Outcome::Fail(_)));
                if !settled && (stored_set.is_some() || failing) {
                    pending.sets.push((nhi_id.0.clone(), nhi.set));
                }
                befores.fill(None);
                for (j, f) in stored.iter().enumerate() {
                    if let Some(&i) = index.get(f.check_id.as_str()) {
                        befores[i] = Some(j);
                    }
                }
                control_state.fill(0);
                let mut changes = Changes {
                    run: &run_id,
                    ..Changes::default()
                };
                for (i, (outcome, evidence_digest)) in nhi.outcomes.into_iter().enumerate() {
                    let check = &enabled[i];
                    let before = befores[i].map(|j| &stored[j]);
                    let t = &mut tallies[i];
                    let accepted = matches!(outcome, Outcome::Fail(_))
                        && !in_force.is_empty()
                        && in_force.contains_key(&Finding::id_for(check.id.as_str(), &nhi_id));
                    let mark = match &outcome {
                        Outcome::NotApplicable => 0,
                        Outcome::Pass => 1,
                        Outcome::Fail(_) if accepted => 2,
                        Outcome::Fail(_) => 3,
                    };
                    for &c in &controls.of_check[i] {
                        control_state[c] = control_state[c].max(mark);
                    }
                    match outcome {
                        Outcome::NotApplicable | Outcome::Pass => {
                            if mark == 1 {
                                t.applicable += 1;
                                t.passed += 1;
                            }
                            if !settled && before.is_some_and(|f| f.state == FindingState::Open) {
                                let id = Finding::id_for(check.id.as_str(), &nhi_id);
                                let last_seen = states.get(check.id.as_str()).map(|(_, at)| *at);
                                t.resolved += 1;
                                changes.resolved.push(Change {
                                    finding: id.clone(),
                                    check: check.id.clone(),
                                    severity: None,
                                    message: None,
                                });
                                pending.resolves.push((id, last_seen));
                            }
                        }
                        Outcome::Fail(e) => {
                            t.applicable += 1;
                            t.failed += 1;
                            if mark == 2 {
                                t.accepted += 1;
                            } else {
                                most_severe.offer(
                                    check.severity,
                                    &check.id,
                                    &nhi.name,
                                    &nhi_id.0,
                                    || Finding::id_for(check.id.as_str(), &nhi_id),
                                );
                            }
                            let digest = evidence_digest.unwrap_or_default();
                            let unchanged = settled
                                || before.is_some_and(|f| {
                                    f.state == FindingState::Open
                                        && f.evidence_digest == digest
                                        && f.severity == check.severity
                                });
                            if unchanged {
                                continue;
                            }
                            let evidence = serde_json::to_value(&e).map_err(encoding)?;
                            // Times opened and reopened carry over from the stored
                            // finding, which is read when the page is written.
                            let reopened =
                                before.is_some_and(|b| b.state == FindingState::Resolved);
                            let f = Finding {
                                id: Finding::id_for(check.id.as_str(), &nhi_id),
                                check_id: check.id.as_str().to_owned(),
                                nhi_id: nhi_id.clone(),
                                state: FindingState::Open,
                                severity: check.severity,
                                evidence,
                                evidence_digest: digest,
                                opened_at: now,
                                reopened_at: reopened.then_some(now),
                                reopen_count: 0,
                                resolved_at: None,
                                last_seen_at: now,
                            };
                            let change = Change {
                                finding: f.id.clone(),
                                check: f.check_id.clone(),
                                severity: Some(f.severity),
                                message: Some(e.message.clone()),
                            };
                            match before {
                                None => {
                                    t.opened += 1;
                                    changes.opened.push(change);
                                }
                                Some(_) if reopened => {
                                    t.reopened += 1;
                                    changes.reopened.push(change);
                                }
                                Some(_) => changes.updated.push(change),
                            }
                            if before.is_some() {
                                pending.carries.push((pending.writes.len(), reopened));
                            }
                            pending.writes.push(f);
                        }
                    }
                }
                for (c, st) in control_state.iter().enumerate() {
                    let ct = &mut control_tallies[c];
                    match st {
                        1 => ct.passing += 1,
                        2 => ct.accepted += 1,
                        3 => ct.failing += 1,
                        _ => continue,
                    }
                    ct.in_scope += 1;
                }
                if !changes.is_empty() {
                    report.opened += changes.opened.len() as u64;
                    report.reopened += changes.reopened.len() as u64;
                    report.resolved += changes.resolved.len() as u64;
                    report.updated += changes.updated.len() as u64;
                    pending.entries.push(self.entry(
                        "findings.changed",
                        nhi_id.0.clone(),
                        canonical(&changes)?,
                    ));
                }
            }
            if pending.writes.len() + pending.resolves.len() + pending.sets.len() >= PAGE {
                self.flush_findings(&mut tx, &mut pending).await?;
            }
        }
        self.flush_findings(&mut tx, &mut pending).await?;

        let evaluated: Vec<String> = enabled.into_iter().map(|c| c.id).collect();
        tx.set_check_state(&evaluated, &run_id).await?;
        report.checks = tallies;
        report.controls = control_tallies;
        report.most_severe = most_severe.into_ids();
        let parameters: serde_json::Map<String, serde_json::Value> = checks
            .enabled()
            .filter(|c| !c.meta.parameters.is_empty())
            .map(|c| {
                let per_env: serde_json::Map<String, serde_json::Value> =
                    keyward_model::Environment::ALL
                        .iter()
                        .map(|e| (e.as_str().to_owned(), c.params(*e).to_json()))
                        .collect();
                (c.id().to_owned(), serde_json::Value::Object(per_env))
            })
            .collect();
        self.record_run_as(
            &mut tx,
            run_id,
            RunFacts {
                kind: "check",
                connector: "keyward-check",
                connector_version: crate::VERSION,
                started,
                inputs: serde_json::json!({
                    "checks": evaluated,
                    "checks_version": report.checks_version,
                }),
                parameters: serde_json::Value::Object(parameters),
                counts: serde_json::json!({
                    "nhis": report.nhis,
                    "judged": report.judged,
                    "opened": report.opened,
                    "reopened": report.reopened,
                    "resolved": report.resolved,
                    "updated": report.updated,
                    "exceptions_expired": report.exceptions_expired,
                    "checks": report.checks,
                    "controls": report.controls,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn flush_findings(&self, tx: &mut WriteTx, p: &mut Pending) -> Result<(), ServiceError> {
        let Pending {
            writes,
            sets,
            carries,
            resolves,
            entries,
        } = p;
        if !carries.is_empty() {
            let ids: Vec<&str> = carries
                .iter()
                .map(|(i, _)| writes[*i].id.as_str())
                .collect();
            let stored: HashMap<String, Finding> = tx
                .findings_by_ids(&ids)
                .await?
                .into_iter()
                .map(|f| (f.id.clone(), f))
                .collect();
            for (i, reopened) in carries.drain(..) {
                let w = &mut writes[i];
                if let Some(s) = stored.get(&w.id) {
                    w.opened_at = s.opened_at;
                    w.reopen_count = s.reopen_count + i64::from(reopened);
                    if !reopened {
                        w.reopened_at = s.reopened_at;
                    }
                }
            }
        }
        tx.upsert_findings(writes).await?;
        writes.clear();
        tx.resolve_findings(resolves).await?;
        resolves.clear();
        tx.upsert_finding_sets(sets).await?;
        sets.clear();
        let page = std::mem::take(entries);
        tx.append_all::<ServiceError, _>(page.into_iter().map(Ok))
            .await?;
        Ok(())
    }

    /// Expires requested and approved exceptions whose time has come, in `tx`: each gets a
    /// ledger entry, and an approved one's finding is ledgered as open again.
    pub(crate) async fn expire_exceptions(&self, tx: &mut WriteTx) -> Result<u64, ServiceError> {
        let due = tx.exceptions_due().await?;
        let mut expired: Vec<RiskException> = Vec::with_capacity(due.len());
        for mut e in due {
            let was = e.state;
            e.state = ExceptionState::Expired;
            self.append(
                tx,
                "exception.expired",
                &e.id,
                &serde_json::json!({
                    "exception": e.id,
                    "finding": e.finding_id,
                    "was": was.as_str(),
                    "expires_at": e.expires_at,
                }),
            )
            .await?;
            if was == ExceptionState::Approved {
                let f = tx.finding(&e.finding_id).await?;
                if f.state == FindingState::Open {
                    self.append(
                        tx,
                        "finding.reopened",
                        &f.nhi_id.0,
                        &serde_json::json!({
                            "finding": f.id,
                            "check": f.check_id,
                            "cause": "exception expired",
                            "exception": e.id,
                        }),
                    )
                    .await?;
                }
            }
            expired.push(e);
        }
        tx.upsert_exceptions(&expired).await?;
        Ok(expired.len() as u64)
    }
}
