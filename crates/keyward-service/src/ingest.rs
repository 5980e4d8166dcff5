//! Recording what discovery sources report, merged into the register without overriding
//! declarations.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use keyward_connect::Discovery;
use keyward_model::{
    Credential, DiscoveredCredential, DiscoveredNhi, Environment, Facts, Nhi, NhiId, NhiStatus,
    Observation, Origin, UsageState,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::apply::{diff, object};
use crate::service::RunFacts;
use crate::{Service, ServiceError};

/// Which source reported a batch of NHIs, for observations and the run record.
#[derive(Debug, Clone)]
pub struct IngestSource {
    /// The source (`aws-iam`, `kubernetes`, `demo`): an NHI has one observation per source.
    pub source: String,
    /// The connector that read it.
    pub connector: String,
    /// The connector's version.
    pub connector_version: String,
    /// The scope the run covers within its source (an account, a cluster, a repository),
    /// stored as each observation's locator.
    pub locator: String,
    /// Whether the run saw the whole population of its scope: identities this source saw
    /// before in the same scope and not now are then marked no longer seen.
    pub complete: bool,
    /// When the connector began reading; the ingest's own start when `None`.
    pub started_at: Option<DateTime<Utc>>,
    /// Inputs with their SHA-256, for provenance.
    pub inputs: Value,
    /// Parameters given.
    pub parameters: Value,
    /// Warnings the connector reported, kept with the run.
    pub warnings: Vec<String>,
}

/// What an ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// NHIs reported.
    pub reported: usize,
    /// New undeclared NHIs.
    pub created: usize,
    /// Existing NHIs updated with what the source knows.
    pub updated: usize,
    /// Existing NHIs the source reported as they already were.
    pub unchanged: usize,
    /// NHIs this source saw before in the same scope and no longer sees (complete runs only).
    pub no_longer_seen: usize,
    /// Credentials added or changed.
    pub credentials: usize,
    /// Declared values the source contradicts (recorded, not applied).
    pub conflicts: usize,
    /// Ledger entries written.
    pub ledger_entries: u64,
    /// The run recorded, when anything changed.
    pub run_id: Option<String>,
}

fn newer(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Merges last-use knowledge: a known time beats "never", which beats "unknown".
fn merge_usage(
    at: Option<DateTime<Utc>>,
    state: UsageState,
    new_at: Option<DateTime<Utc>>,
    new_state: UsageState,
) -> (Option<DateTime<Utc>>, UsageState) {
    match (state, new_state) {
        (_, UsageState::Used) | (UsageState::Used, _) => (newer(at, new_at), UsageState::Used),
        (UsageState::Never, _) | (_, UsageState::Never) => (None, UsageState::Never),
        _ => (None, UsageState::Unknown),
    }
}

/// `{fact: {from, to}}` for every fact that differs.
fn facts_diff(before: &Facts, after: &Facts) -> Map<String, Value> {
    let mut out = Map::new();
    for k in before.keys().chain(after.keys()) {
        let (from, to) = (before.get(k), after.get(k));
        if from != to && !out.contains_key(k) {
            out.insert(k.clone(), json!({"from": from, "to": to}));
        }
    }
    out
}

impl Service {
    /// Records what a discovery connector saw, in one transaction with its ledger entries and
    /// run record: new identities become undeclared NHIs, known ones take what only the
    /// source knows (declared values stand; contradictions are recorded), each source's facts
    /// are kept on its observation, and a complete run marks what it no longer sees. A run
    /// that changes nothing writes nothing.
    /// `started_at` is when the connector began reading, for the run record.
    pub async fn discover(
        &self,
        d: &Discovery,
        started_at: DateTime<Utc>,
    ) -> Result<IngestReport, ServiceError> {
        let mut parameters = json!({
            "source": d.source,
            "scope": d.scope,
            "complete": d.complete,
        });
        if let (Some(p), Value::Object(given)) = (parameters.as_object_mut(), &d.parameters) {
            p.extend(given.clone());
        }
        let src = IngestSource {
            source: d.source.clone(),
            connector: d.connector.to_owned(),
            connector_version: d.connector_version.to_owned(),
            locator: d.scope.clone(),
            complete: d.complete,
            started_at: Some(started_at),
            inputs: serde_json::to_value(&d.inputs).unwrap_or(Value::Null),
            parameters,
            warnings: d.warnings.clone(),
        };
        self.ingest(&src, &d.nhis).await
    }

    /// Records NHIs a source reported, in one transaction.
    pub async fn ingest(
        &self,
        src: &IngestSource,
        items: &[DiscoveredNhi],
    ) -> Result<IngestReport, ServiceError> {
        let started = src.started_at.unwrap_or_else(|| self.now());
        let mut tx = self.begin().await?;
        let now = tx.now();
        let keys: Vec<(&str, &str)> = items
            .iter()
            .map(|d| (d.provider.as_str(), d.external_id.as_str()))
            .collect();
        let existing: HashMap<(String, String), Nhi> = tx
            .nhis_by_external_ids(&keys)
            .await?
            .into_iter()
            .filter_map(|n| n.external_id.clone().map(|e| ((n.provider.clone(), e), n)))
            .collect();
        let ids: Vec<&str> = existing.values().map(|n| n.id.0.as_str()).collect();
        let mut creds_by_nhi: HashMap<String, Vec<Credential>> = HashMap::new();
        for c in tx.credentials_of_nhis(&ids).await? {
            creds_by_nhi.entry(c.nhi_id.0.clone()).or_default().push(c);
        }
        // A complete run compares with everything its scope held; a partial one (usage logs,
        // a chunk of a large load) only with what it reports.
        let observed = if src.complete {
            tx.observations_in_scope(&src.source, &src.locator).await?
        } else {
            tx.observations_of_nhis(&src.source, &ids).await?
        };
        let mut seen_before: HashMap<String, Observation> = observed
            .into_iter()
            .map(|o| (o.nhi_id.0.clone(), o))
            .collect();

        let mut report = IngestReport {
            reported: items.len(),
            ..IngestReport::default()
        };
        let (mut nhis, mut creds, mut obs, mut entries) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for d in items {
            let before = existing.get(&(d.provider.clone(), d.external_id.clone()));
            let (after, conflicts) = self.merge_discovered(before, d, src.complete, now);
            let mut facts = source_facts(d, src.complete);
            if !conflicts.is_empty() {
                // Kept with the source's facts, so a conflict is ledgered when it first appears
                // or changes, not on every run that repeats it.
                facts.insert("conflicts_with_declaration".to_owned(), json!(conflicts));
            }
            let subject = format!("nhi:{}", after.id);
            let observed_before = seen_before.remove(&after.id.0);
            let nhi_changed = before.is_none_or(|b| object(b) != object(&after));
            let facts_before = observed_before.as_ref().map(|o| &o.facts);
            let facts_changed = facts_before != Some(&facts);
            let reappeared = observed_before
                .as_ref()
                .is_some_and(|o| o.gone_at.is_some());
            let obs_changed = observed_before.as_ref().is_none_or(|o| {
                o.gone_at.is_some()
                    || o.facts != facts
                    || o.connector != src.connector
                    || o.connector_version != src.connector_version
            });
            match before {
                None => {
                    report.created += 1;
                    entries.push((
                        "nhi.discovered",
                        subject.clone(),
                        json!({"source": src.source, "nhi": object(&after), "facts": facts}),
                    ));
                }
                Some(_) if !nhi_changed && !obs_changed => report.unchanged += 1,
                Some(b) => {
                    report.updated += 1;
                    let mut changes = diff(&object(b), &object(&after));
                    changes.remove("updated_at");
                    let mut payload = json!({"source": src.source, "changes": changes});
                    if facts_changed {
                        payload["facts"] = Value::Object(facts_diff(
                            facts_before.unwrap_or(&Facts::new()),
                            &d.facts,
                        ));
                    }
                    if reappeared {
                        payload["seen_again"] = Value::Bool(true);
                    }
                    entries.push(("nhi.observed", subject.clone(), payload));
                }
            }
            report.conflicts += conflicts.len();
            if !conflicts.is_empty() && obs_changed {
                entries.push((
                    "nhi.conflict",
                    subject.clone(),
                    json!({"source": src.source, "declared_kept": conflicts}),
                ));
            }
            let held = creds_by_nhi
                .get(&after.id.0)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for dc in &d.credentials {
                let (c, changed) = self.merge_credential(held, dc, &after.id);
                if changed {
                    report.credentials += 1;
                    entries.push((
                        "credential.observed",
                        format!("credential:{}", c.id),
                        json!({"nhi": after.id, "credential": c}),
                    ));
                    creds.push(c);
                }
            }
            if nhi_changed || obs_changed {
                let mut o = Observation::new(
                    after.id.clone(),
                    &src.source,
                    &src.connector,
                    &src.connector_version,
                    &src.locator,
                    now,
                );
                o.facts = facts;
                obs.push(o);
            }
            if nhi_changed {
                nhis.push(after);
            }
        }
        if src.complete {
            // What this source saw in this scope before and not now: marked, never deleted.
            for (_, mut o) in seen_before {
                if o.gone_at.is_some() {
                    continue;
                }
                report.no_longer_seen += 1;
                o.gone_at = Some(now);
                entries.push((
                    "nhi.unseen",
                    format!("nhi:{}", o.nhi_id),
                    json!({"source": src.source, "scope": src.locator, "last_seen_at": o.last_seen_at}),
                ));
                obs.push(o);
            }
        }
        if entries.is_empty() {
            tx.rollback().await?;
            return Ok(report);
        }
        tx.upsert_nhis(&nhis).await?;
        tx.upsert_credentials(&creds).await?;
        tx.upsert_observations(&obs).await?;
        for (action, subject, payload) in &entries {
            self.append(&mut tx, action, subject, payload).await?;
        }
        let run_id = self
            .record_run(
                &mut tx,
                RunFacts {
                    kind: "discover",
                    connector: &src.connector,
                    connector_version: &src.connector_version,
                    started,
                    inputs: src.inputs.clone(),
                    parameters: src.parameters.clone(),
                    counts: json!({
                        "reported": report.reported,
                        "added": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                        "no_longer_seen": report.no_longer_seen,
                        "credentials": report.credentials,
                        "conflicts": report.conflicts,
                        "warnings": src.warnings,
                    }),
                },
            )
            .await?;
        report.run_id = Some(run_id);
        report.ledger_entries = tx.commit().await?.entries;
        Ok(report)
    }

    /// The NHI after a source's report, and the declared values the source contradicts.
    ///
    /// Only a complete run (a population source) says what an NHI holds: a usage log's
    /// permissions are what it used in a window, kept as its `used_permissions` fact.
    fn merge_discovered(
        &self,
        before: Option<&Nhi>,
        d: &DiscoveredNhi,
        complete: bool,
        now: DateTime<Utc>,
    ) -> (Nhi, Vec<Value>) {
        let mut conflicts = Vec::new();
        let Some(b) = before else {
            let (last_used_at, last_used_state) =
                merge_usage(None, UsageState::Unknown, d.last_used_at, d.last_used_state);
            let mut n = Nhi::new(
                self.new_nhi_id(now),
                d.kind,
                &d.provider,
                &d.name,
                Origin::Discovered,
                now,
            );
            n.external_id = Some(d.external_id.clone());
            n.environment = d.environment.unwrap_or(Environment::Unknown);
            n.owner.clone_from(&d.owner);
            n.purpose.clone_from(&d.purpose);
            if complete {
                n.observed_permissions = sorted(&d.observed_permissions);
            }
            n.created_at = d.created_at;
            n.expires_at = d.expires_at;
            n.last_rotated_at = d.last_rotated_at;
            (n.last_used_at, n.last_used_state) = (last_used_at, last_used_state);
            n.status = d.status.unwrap_or(NhiStatus::Active);
            n.supplier.clone_from(&d.supplier);
            n.tags.clone_from(&d.tags);
            return (n, conflicts);
        };
        let mut n = b.clone();
        let declared = n.declaration.is_some();
        if complete {
            n.observed_permissions = sorted(&d.observed_permissions);
        }
        (n.last_used_at, n.last_used_state) = merge_usage(
            n.last_used_at,
            n.last_used_state,
            d.last_used_at,
            d.last_used_state,
        );
        n.created_at = n.created_at.or(d.created_at);
        n.last_rotated_at = newer(n.last_rotated_at, d.last_rotated_at);
        if n.environment == Environment::Unknown
            && let Some(e) = d.environment
        {
            n.environment = e;
        }
        for (k, v) in &d.tags {
            n.tags.entry(k.clone()).or_insert_with(|| v.clone());
        }
        // Declared values stand; a source that says otherwise is recorded as a conflict.
        reconcile("owner", &mut n.owner, &d.owner, declared, &mut conflicts);
        reconcile(
            "expires_at",
            &mut n.expires_at,
            &d.expires_at,
            declared,
            &mut conflicts,
        );
        reconcile(
            "supplier",
            &mut n.supplier,
            &d.supplier,
            declared,
            &mut conflicts,
        );
        reconcile(
            "purpose",
            &mut n.purpose,
            &d.purpose,
            declared,
            &mut conflicts,
        );
        let mut status = Some(n.status);
        reconcile("status", &mut status, &d.status, declared, &mut conflicts);
        n.status = status.unwrap_or(n.status);
        if object(&n) != object(b) {
            n.updated_at = now;
        }
        (n, conflicts)
    }

    fn merge_credential(
        &self,
        held: &[Credential],
        d: &DiscoveredCredential,
        nhi: &NhiId,
    ) -> (Credential, bool) {
        let same = held.iter().find(|c| {
            (d.external_id.is_some() && c.external_id == d.external_id)
                || (d.fingerprint.is_some() && c.fingerprint == d.fingerprint)
        });
        let (last_used_at, last_used_state) = merge_usage(
            same.and_then(|c| c.last_used_at),
            same.map_or(UsageState::Unknown, |c| c.last_used_state),
            d.last_used_at,
            d.last_used_state,
        );
        let c = Credential {
            id: same.map_or_else(|| self.new_id("cred"), |c| c.id.clone()),
            nhi_id: nhi.clone(),
            kind: d.kind,
            external_id: d
                .external_id
                .clone()
                .or_else(|| same.and_then(|c| c.external_id.clone())),
            fingerprint: d
                .fingerprint
                .clone()
                .or_else(|| same.and_then(|c| c.fingerprint.clone())),
            preview: d
                .preview
                .clone()
                .or_else(|| same.and_then(|c| c.preview.clone())),
            status: d.status,
            created_at: d.created_at.or_else(|| same.and_then(|c| c.created_at)),
            expires_at: d.expires_at.or_else(|| same.and_then(|c| c.expires_at)),
            last_rotated_at: newer(d.last_rotated_at, same.and_then(|c| c.last_rotated_at)),
            last_used_at,
            last_used_state,
        };
        let changed = same != Some(&c);
        (c, changed)
    }
}

/// Takes a source's value unless a declaration set a different one, which is kept and reported.
fn reconcile<T: Clone + PartialEq + Serialize>(
    field: &str,
    current: &mut Option<T>,
    reported: &Option<T>,
    declared: bool,
    conflicts: &mut Vec<Value>,
) {
    let Some(r) = reported else { return };
    match current {
        Some(c) if c == r => {}
        Some(c) if declared => {
            conflicts.push(json!({"field": field, "declared": c, "reported": r}));
        }
        _ => *current = Some(r.clone()),
    }
}

/// The facts kept on a source's observation: what it reported, and for a partial source the
/// permissions it saw used.
fn source_facts(d: &DiscoveredNhi, complete: bool) -> Facts {
    let mut facts = d.facts.clone();
    if !complete && !d.observed_permissions.is_empty() {
        facts
            .entry("used_permissions".to_owned())
            .or_insert_with(|| json!(sorted(&d.observed_permissions)));
    }
    facts
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}
