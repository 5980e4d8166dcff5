//! `keyward apply`: make the register match the declarations, idempotently.

use std::collections::HashMap;

use keyward_manifest::{ManifestError, ManifestErrors, ManifestSet};
use keyward_model::{DeclaredNhi, Nhi, NhiId, Observation, Origin};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::service::RunFacts;
use crate::{Service, ServiceError};

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Files read.
    pub files: usize,
    /// Declarations read.
    pub declarations: usize,
    /// NHIs added to the register.
    pub created: usize,
    /// Existing NHIs brought under a declaration (discovered before, now declared).
    pub adopted: usize,
    /// NHIs whose declared fields changed.
    pub updated: usize,
    /// NHIs already as declared.
    pub unchanged: usize,
    /// Ledger entries written.
    pub ledger_entries: u64,
    /// The run record, when anything changed.
    pub run_id: Option<String>,
}

/// A value's serialised fields, for comparing and recording changes.
pub(crate) fn object(v: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Whether two versions of an NHI agree on every declared field. Compares structs rather than
/// their JSON, since a large apply makes this check once per declaration.
fn same_declared(before: &Nhi, after: &Nhi) -> bool {
    let mut b = after.clone();
    b.id.clone_from(&before.id);
    b.registered_at = before.registered_at;
    b.updated_at = before.updated_at;
    b.observed_permissions
        .clone_from(&before.observed_permissions);
    b.last_used_at = before.last_used_at;
    b.last_used_state = before.last_used_state;
    b.origin = before.origin;
    b == *before
}

/// What the ledger records for a newly declared NHI.
#[derive(Serialize)]
struct DeclaredPayload<'a> {
    declaration: &'a str,
    source: &'a str,
    nhi: &'a Nhi,
}

/// The declared fields of an NHI, as recorded in the ledger when they change.
fn governed(n: &Nhi) -> Map<String, Value> {
    let mut v = object(n);
    for k in [
        "id",
        "registered_at",
        "updated_at",
        "observed_permissions",
        "last_used_at",
        "last_used_state",
        "origin",
    ] {
        v.remove(k);
    }
    v
}

fn split_source(source: &str) -> (String, usize) {
    match source.rsplit_once(':') {
        Some((file, line)) => (file.to_owned(), line.parse().unwrap_or(0)),
        None => (source.to_owned(), 0),
    }
}

fn input_error(d: &DeclaredNhi, field: &str, reason: String) -> ManifestError {
    let (file, line) = split_source(&d.source);
    ManifestError {
        file,
        line,
        field: field.to_owned(),
        reason,
    }
}

impl Service {
    /// Applies a validated set of declarations in one transaction; with `dry_run`, reports what
    /// would change and writes nothing.
    pub async fn apply(
        &self,
        set: &ManifestSet,
        dry_run: bool,
    ) -> Result<ApplyReport, ServiceError> {
        let started = self.now();
        let mut tx = self.begin().await?;
        let now = tx.now();
        let names: Vec<&str> = set.nhis.iter().map(|d| d.name.as_str()).collect();
        let by_decl: HashMap<String, Nhi> = tx
            .nhis_by_declarations(&names)
            .await?
            .into_iter()
            .filter_map(|n| n.declaration.clone().map(|d| (d, n)))
            .collect();
        let ext_keys: Vec<(&str, &str)> = set
            .nhis
            .iter()
            .filter_map(|d| d.external_id.as_deref().map(|e| (d.provider.as_str(), e)))
            .collect();
        let by_ext: HashMap<(String, String), Nhi> = tx
            .nhis_by_external_ids(&ext_keys)
            .await?
            .into_iter()
            .filter_map(|n| n.external_id.clone().map(|e| ((n.provider.clone(), e), n)))
            .collect();

        let mut report = ApplyReport {
            files: set.files.len(),
            declarations: set.nhis.len(),
            ..ApplyReport::default()
        };
        let mut errors = Vec::new();
        let mut writes: Vec<Nhi> = Vec::new();
        let mut observations = Vec::new();
        let mut entries: Vec<(&'static str, String, String)> = Vec::new();

        for d in &set.nhis {
            let ext_key = d.external_id.clone().map(|e| (d.provider.clone(), e));
            let holder = ext_key.as_ref().and_then(|k| by_ext.get(k));
            let existing = by_decl.get(&d.name);
            if let (Some(holder), Some(existing)) = (holder, existing)
                && holder.id != existing.id
            {
                errors.push(input_error(
                    d,
                    "spec.externalId",
                    format!(
                        "`{}` in `{}` is already registered as NHI {}",
                        d.external_id.as_deref().unwrap_or_default(),
                        d.provider,
                        holder.id
                    ),
                ));
                continue;
            }
            let (base, action) = match (existing, holder) {
                (Some(e), _) => (Some(e), "nhi.updated"),
                (None, Some(h)) => match &h.declaration {
                    Some(other) => {
                        errors.push(input_error(
                            d,
                            "spec.externalId",
                            format!(
                                "`{}` is already declared by `{other}`; one NHI has one declaration",
                                d.external_id.as_deref().unwrap_or_default()
                            ),
                        ));
                        continue;
                    }
                    None => (Some(h), "nhi.adopted"),
                },
                (None, None) => (None, "nhi.declared"),
            };
            let desired = self.declared_nhi(d, base, now);
            match base {
                Some(before) if same_declared(before, &desired) => report.unchanged += 1,
                Some(before) => {
                    let changes = diff(&governed(before), &governed(&desired));
                    if action == "nhi.adopted" {
                        report.adopted += 1;
                    } else {
                        report.updated += 1;
                    }
                    entries.push((
                        action,
                        format!("nhi:{}", desired.id),
                        json!({"declaration": d.name, "source": d.source, "changes": changes})
                            .to_string(),
                    ));
                    observations.push(self.declaration_observation(d, &desired.id, now));
                    writes.push(desired);
                }
                None => {
                    report.created += 1;
                    let payload = DeclaredPayload {
                        declaration: &d.name,
                        source: &d.source,
                        nhi: &desired,
                    };
                    entries.push((
                        action,
                        format!("nhi:{}", desired.id),
                        crate::service::canonical(&payload)?,
                    ));
                    observations.push(self.declaration_observation(d, &desired.id, now));
                    writes.push(desired);
                }
            }
        }
        if !errors.is_empty() {
            tx.rollback().await?;
            return Err(ServiceError::Invalid(ManifestErrors(errors)));
        }
        if writes.is_empty() || dry_run {
            tx.rollback().await?;
            return Ok(report);
        }
        tx.upsert_nhis(&writes).await?;
        tx.upsert_observations(&observations).await?;
        for (action, subject, payload) in entries {
            self.append_raw(&mut tx, action, subject, payload).await?;
        }
        let run_id = self
            .record_run(
                &mut tx,
                RunFacts {
            kind: "apply",
            connector: "keyward-apply",
            connector_version: crate::VERSION,
            started,
            inputs: set
                .files
                .iter()
                .map(|f| json!({"path": f.path, "sha256": f.sha256, "documents": f.documents}))
                .collect(),
            parameters: json!({}),
            counts: json!({
                "declarations": report.declarations,
                "created": report.created,
                "adopted": report.adopted,
                "updated": report.updated,
                "unchanged": report.unchanged,
            }),
                },
            )
            .await?;
        let committed = tx.commit().await?;
        report.ledger_entries = committed.entries;
        report.run_id = Some(run_id);
        Ok(report)
    }

    fn declared_nhi(
        &self,
        d: &DeclaredNhi,
        base: Option<&Nhi>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Nhi {
        let mut n = match base {
            Some(b) => b.clone(),
            None => Nhi::new(
                self.new_nhi_id(now),
                d.kind,
                &d.provider,
                &d.name,
                Origin::Declared,
                now,
            ),
        };
        let before = n.clone();
        n.kind = d.kind;
        n.provider.clone_from(&d.provider);
        n.external_id.clone_from(&d.external_id);
        n.name.clone_from(&d.name);
        n.declaration = Some(d.name.clone());
        n.environment = d.environment;
        n.owner.clone_from(&d.owner);
        n.backup_owner.clone_from(&d.backup_owner);
        n.purpose.clone_from(&d.purpose);
        n.privilege_ceiling.clone_from(&d.privilege_ceiling);
        n.expires_at = d.expires_at;
        n.review_every = d.review_every;
        n.supplier.clone_from(&d.supplier);
        n.status = d.status;
        // A source-reported value stays unless the declaration states one.
        n.created_at = d.created_at.or(n.created_at);
        n.last_rotated_at = d.last_rotated_at.or(n.last_rotated_at);
        n.last_reviewed_at = d.last_reviewed_at.or(n.last_reviewed_at);
        n.tags.clone_from(&d.labels);
        n.next_review_due = Nhi::review_due(n.review_every, n.last_reviewed_at, n.registered_at);
        if !same_declared(&before, &n) {
            n.updated_at = now;
        }
        n
    }

    fn declaration_observation(
        &self,
        d: &DeclaredNhi,
        id: &NhiId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Observation {
        Observation {
            nhi_id: id.clone(),
            source: "declaration".into(),
            connector: "keyward-apply".into(),
            connector_version: crate::VERSION.into(),
            locator: d.source.clone(),
            first_seen_at: now,
            last_seen_at: now,
        }
    }
}

/// `{field: {from, to}}` for every field that differs.
pub(crate) fn diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, to) in after {
        let from = before.get(k).unwrap_or(&Value::Null);
        if from != to {
            out.insert(k.clone(), json!({"from": from, "to": to}));
        }
    }
    for (k, from) in before {
        if !after.contains_key(k) {
            out.insert(k.clone(), json!({"from": from, "to": Value::Null}));
        }
    }
    out
}
