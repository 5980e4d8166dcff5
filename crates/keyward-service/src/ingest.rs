//! Recording what discovery sources report, merged into the register without overriding
//! declarations.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use keyward_model::{
    Credential, DiscoveredCredential, DiscoveredNhi, Environment, Nhi, NhiId, NhiStatus,
    Observation, Origin, UsageState,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::apply::{diff, object};
use crate::service::RunFacts;
use crate::{Service, ServiceError};

/// Which source reported a batch of NHIs, for observations and the run record.
#[derive(Debug, Clone)]
pub struct IngestSource {
    /// The source (`aws-iam`, `kubernetes`, `demo`).
    pub source: String,
    /// The connector that read it.
    pub connector: String,
    /// The connector's version.
    pub connector_version: String,
    /// Where it was read (account, endpoint, file).
    pub locator: String,
    /// Inputs with their SHA-256, for provenance.
    pub inputs: Value,
    /// Parameters given.
    pub parameters: Value,
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
    /// Credentials added or changed.
    pub credentials: usize,
    /// Declared values the source contradicts (recorded, not applied).
    pub conflicts: usize,
    /// Ledger entries written.
    pub ledger_entries: u64,
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

impl Service {
    /// Records NHIs a source reported, in one transaction.
    pub async fn ingest(
        &self,
        src: &IngestSource,
        items: &[DiscoveredNhi],
    ) -> Result<IngestReport, ServiceError> {
        let started = self.now();
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

        let mut report = IngestReport {
            reported: items.len(),
            ..IngestReport::default()
        };
        let (mut nhis, mut creds, mut obs, mut entries) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for d in items {
            let before = existing.get(&(d.provider.clone(), d.external_id.clone()));
            let (after, conflicts) = self.merge_discovered(before, d, now);
            let subject = format!("nhi:{}", after.id);
            match before {
                None => {
                    report.created += 1;
                    entries.push((
                        "nhi.discovered",
                        subject.clone(),
                        json!({"source": src.source, "nhi": object(&after)}),
                    ));
                }
                Some(b) if object(b) == object(&after) => report.unchanged += 1,
                Some(b) => {
                    report.updated += 1;
                    let mut changes = diff(&object(b), &object(&after));
                    changes.remove("updated_at");
                    entries.push((
                        "nhi.observed",
                        subject.clone(),
                        json!({"source": src.source, "changes": changes}),
                    ));
                }
            }
            if !conflicts.is_empty() {
                report.conflicts += conflicts.len();
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
            if before.is_none_or(|b| object(b) != object(&after)) {
                obs.push(Observation {
                    nhi_id: after.id.clone(),
                    source: src.source.clone(),
                    connector: src.connector.clone(),
                    connector_version: src.connector_version.clone(),
                    locator: src.locator.clone(),
                    first_seen_at: now,
                    last_seen_at: now,
                });
                nhis.push(after);
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
        self.record_run(
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
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "credentials": report.credentials,
                    "conflicts": report.conflicts,
                }),
            },
        )
        .await?;
        report.ledger_entries = tx.commit().await?.entries;
        Ok(report)
    }

    /// The NHI after a source's report, and the declared values the source contradicts.
    fn merge_discovered(
        &self,
        before: Option<&Nhi>,
        d: &DiscoveredNhi,
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
            n.observed_permissions = sorted(&d.observed_permissions);
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
        n.observed_permissions = sorted(&d.observed_permissions);
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

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}
