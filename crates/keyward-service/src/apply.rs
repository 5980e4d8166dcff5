//! `keyward apply`: make the register match the declarations, idempotently.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use keyward_ledger::NewEntry;
use keyward_manifest::{LoadedFile, ManifestError, ManifestErrors, ManifestSet, SourceFile};
use keyward_model::{
    Cadence, DeclaredNhi, Environment, Nhi, NhiId, NhiKind, NhiStatus, Observation, Origin,
    OwnerRef,
};
use keyward_store::WriteTx;
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
    nhi: Declared<'a>,
}

/// A newly declared NHI's state as its ledger entry records it: the fields that are set,
/// without what the entry already says (its id is the subject, its registration time the
/// entry's time) or what only sources report (usage, observed permissions). Instants are
/// written as chrono writes them, through the model's faster writer.
#[derive(Serialize)]
struct Declared<'a> {
    kind: NhiKind,
    provider: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
    name: &'a str,
    environment: Environment,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a OwnerRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_owner: Option<&'a OwnerRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purpose: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    privilege_ceiling: &'a [String],
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "keyward_model::instant::serialize_opt"
    )]
    created_at: Option<DateTime<Utc>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "keyward_model::instant::serialize_opt"
    )]
    expires_at: Option<DateTime<Utc>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "keyward_model::instant::serialize_opt"
    )]
    last_rotated_at: Option<DateTime<Utc>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "keyward_model::instant::serialize_opt"
    )]
    last_reviewed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    review_every: Option<Cadence>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "keyward_model::instant::serialize_opt"
    )]
    next_review_due: Option<DateTime<Utc>>,
    status: NhiStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tags: &'a BTreeMap<String, String>,
}

impl<'a> Declared<'a> {
    fn of(n: &'a Nhi) -> Self {
        Self {
            kind: n.kind,
            provider: &n.provider,
            external_id: n.external_id.as_deref(),
            name: &n.name,
            environment: n.environment,
            owner: n.owner.as_ref(),
            backup_owner: n.backup_owner.as_ref(),
            purpose: n.purpose.as_deref(),
            privilege_ceiling: &n.privilege_ceiling,
            created_at: n.created_at,
            expires_at: n.expires_at,
            last_rotated_at: n.last_rotated_at,
            last_reviewed_at: n.last_reviewed_at,
            review_every: n.review_every,
            next_review_due: n.next_review_due,
            status: n.status,
            supplier: n.supplier.as_deref(),
            tags: &n.tags,
        }
    }
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

/// Declarations per round of look-ups and writes: enough for full bulk-insert pages, few
/// enough that reading and planning the next round overlaps writing this one.
const ROUND: usize = 8_000;

/// The tables whose secondary indexes a large apply defers: the NHIs' (owner, expiry, next
/// review: keys in random order). The ledger's and observations' indexes take keys in
/// nearly the order they are written, and rebuilding them would read the whole ledger.
const BULK_TABLES: &[&str] = &["nhis"];

/// One apply in progress (its transaction travels separately, to the task writing it): what
/// it has done and the errors found so far.
struct ApplyRun {
    now: DateTime<Utc>,
    /// The register held no NHI when the write began, and holds none but this apply's until
    /// it commits: nothing to look up.
    empty: bool,
    started: DateTime<Utc>,
    report: ApplyReport,
    files: Vec<SourceFile>,
    errors: Vec<ManifestError>,
}

/// What one round of declarations changes, worked out before any of it is written: the rows
/// and ledger entries, ready for the writer.
#[derive(Default)]
struct Plan {
    /// NHIs new to the register (inserted, not upserted), their observations and entries.
    created: Vec<Nhi>,
    created_observations: Vec<Observation>,
    created_entries: Vec<NewEntry>,
    /// Changed NHIs, their observations and entries (after the created ones').
    changed: Vec<Nhi>,
    changed_observations: Vec<Observation>,
    changed_entries: Vec<NewEntry>,
    unchanged: usize,
    adopted: usize,
    updated: usize,
    errors: Vec<ManifestError>,
}

impl ApplyRun {
    /// Counts a planned round of `declarations`; returns it for writing when the apply has had
    /// no error.
    fn admit(&mut self, declarations: usize, mut plan: Plan) -> Option<Plan> {
        self.report.declarations += declarations;
        self.report.created += plan.created.len();
        self.report.adopted += plan.adopted;
        self.report.updated += plan.updated;
        self.report.unchanged += plan.unchanged;
        self.errors.append(&mut plan.errors);
        self.errors.is_empty().then_some(plan)
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
        let (mut tx, mut run) = self.start_apply(dry_run).await?;
        run.files.clone_from(&set.files);
        let plan = self.plan(&set.nhis, &run).await?;
        if let Some(plan) = run.admit(set.nhis.len(), plan) {
            write_round(&mut tx, plan).await?;
        }
        self.finish_apply(tx, run, dry_run).await
    }

    /// Reads the declarations at `paths` and applies them in one transaction, all or nothing.
    ///
    /// Three things overlap: files are parsed on other threads, the next round of declarations
    /// is looked up and planned against the register as it was when the apply began, and the
    /// round before it is written. Names and external ids are unique across the files, so no
    /// round's writes change another's plan. Any invalid document, in any file, or conflict with
    /// the register rolls the whole apply back with every error found. With `dry_run`, reports
    /// what would change and writes nothing.
    pub async fn apply_paths(
        &self,
        paths: &[PathBuf],
        dry_run: bool,
    ) -> Result<ApplyReport, ServiceError> {
        self.apply_paths_in_rounds(paths, dry_run, ROUND).await
    }

    /// [`Service::apply_paths`] in rounds of at least `round` declarations (whole files at a
    /// time; at least one file per round).
    pub async fn apply_paths_in_rounds(
        &self,
        paths: &[PathBuf],
        dry_run: bool,
        round: usize,
    ) -> Result<ApplyReport, ServiceError> {
        let (tx, mut run) = self.start_apply(dry_run).await?;
        // Through the commit: its checkpoint then finds the log mostly on disk already.
        let _flush = (!tx.writes_directly())
            .then(|| self.store.flush_in_background())
            .flatten();
        // Room for a round of files: the parsers keep going while a round is planned.
        let (sender, mut parts) = tokio::sync::mpsc::channel::<LoadedFile>(16);
        let paths = paths.to_vec();
        let loader = tokio::task::spawn_blocking(move || {
            keyward_manifest::stream_paths(&paths, |part| sender.blocking_send(part).is_ok());
        });
        let (tx, outcome) = self
            .apply_parts(tx, &mut run, &mut parts, round.max(1))
            .await;
        drop(parts); // stops the loader if the apply stopped early
        if let Err(e) = loader.await
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
        if let Err(e) = outcome {
            tx.rollback().await?;
            return Err(e);
        }
        self.finish_apply(tx, run, dry_run).await
    }

    /// Gathers and plans each round here while a task of its own writes the rounds before:
    /// the writer waits for neither the parsers nor the planner unless they fall a whole round
    /// behind, and planning a round never holds up the binding of the next page to write.
    /// Returns the transaction with the outcome, so the caller commits or rolls back.
    async fn apply_parts(
        &self,
        mut tx: WriteTx,
        run: &mut ApplyRun,
        parts: &mut tokio::sync::mpsc::Receiver<LoadedFile>,
        round: usize,
    ) -> (WriteTx, Result<(), ServiceError>) {
        let (rounds, mut queue) = tokio::sync::mpsc::channel::<Plan>(1);
        let writer = tokio::spawn(async move {
            let (mut received, mut rows) = (0, 0);
            while let Some(plan) = queue.recv().await {
                received += 1;
                rows += plan.created.len() + plan.changed.len();
                // An apply past its first round is a bulk write: tables small next to it have
                // their secondary indexes built once, at the commit.
                if received == 2 {
                    let rows = u64::try_from(rows).unwrap_or(u64::MAX).saturating_mul(2);
                    if let Err(e) = tx.defer_indexes(BULK_TABLES, rows).await {
                        return (tx, Err(e.into()));
                    }
                }
                if let Err(e) = write_round(&mut tx, plan).await {
                    return (tx, Err(e));
                }
            }
            (tx, Ok(()))
        });
        let planned = self.plan_parts(run, parts, round, &rounds).await;
        drop(rounds); // the writer stops after the rounds already sent
        let (tx, written) = match writer.await {
            Ok(done) => done,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        // A write that failed explains a planner that stopped early, not the other way round.
        (tx, written.and(planned))
    }

    /// Reads and plans rounds until the files end, sending each round without an error to
    /// `rounds`. After an invalid file, later parts carry only their errors; after a conflict
    /// with the register, later declarations are still checked but nothing more is sent.
    async fn plan_parts(
        &self,
        run: &mut ApplyRun,
        parts: &mut tokio::sync::mpsc::Receiver<LoadedFile>,
        round: usize,
        rounds: &tokio::sync::mpsc::Sender<Plan>,
    ) -> Result<(), ServiceError> {
        // A short first round: the writer starts once the first files are read.
        let mut size = round.div_ceil(8);
        loop {
            let mut next = Vec::with_capacity(size);
            while next.len() < size {
                let Some(part) = parts.recv().await else {
                    break;
                };
                run.files.extend(part.source);
                run.errors.extend(part.errors);
                next.extend(part.nhis);
            }
            if next.is_empty() {
                // Only the end of the files stops a round short of any declaration.
                return Ok(());
            }
            size = round;
            let plan = self.plan(&next, run).await?;
            if let Some(plan) = run.admit(next.len(), plan)
                && rounds.send(plan).await.is_err()
            {
                return Ok(()); // the writer stopped; its error is the apply's
            }
        }
    }

    /// Begins the apply's transaction: into a register without NHIs, as its first load
    /// ([`keyward_store::Store::begin_load`]), unless it is a dry run.
    async fn start_apply(&self, dry_run: bool) -> Result<(WriteTx, ApplyRun), ServiceError> {
        let started = self.now();
        let load = if dry_run {
            None
        } else {
            self.keyring()?;
            self.store.begin_load(self.now()).await?
        };
        let empty = load.is_some();
        let tx = match load {
            Some(tx) => tx,
            None => self.begin().await?,
        };
        let now = tx.now();
        Ok((
            tx,
            ApplyRun {
                now,
                empty,
                started,
                report: ApplyReport::default(),
                files: Vec::new(),
                errors: Vec::new(),
            },
        ))
    }

    /// Works out what declarations change, against the register as last committed.
    async fn plan(&self, nhis: &[DeclaredNhi], run: &ApplyRun) -> Result<Plan, ServiceError> {
        let mut plan = Plan::default();
        let now = run.now;
        if nhis.is_empty() {
            return Ok(plan);
        }
        let declared = if run.empty {
            Vec::new()
        } else {
            let names: Vec<&str> = nhis.iter().map(|d| d.name.as_str()).collect();
            self.store.nhis_by_declarations(&names).await?
        };
        let by_decl: HashMap<&str, &Nhi> = declared
            .iter()
            .filter_map(|n| n.declaration.as_deref().map(|d| (d, n)))
            .collect();
        // Who holds each declared external id. A declaration that still names its NHI's own id
        // needs no lookup: the id is unique per provider.
        let keeps_id = |d: &DeclaredNhi| {
            by_decl.get(d.name.as_str()).is_some_and(|n| {
                d.external_id.is_some()
                    && n.provider == d.provider
                    && n.external_id == d.external_id
            })
        };
        let holders = if run.empty {
            Vec::new()
        } else {
            let ext_keys: Vec<(&str, &str)> = nhis
                .iter()
                .filter(|d| !keeps_id(d))
                .filter_map(|d| d.external_id.as_deref().map(|e| (d.provider.as_str(), e)))
                .collect();
            self.store.nhis_by_external_ids(&ext_keys).await?
        };
        let by_ext: HashMap<(&str, &str), &Nhi> = holders
            .iter()
            .filter_map(|n| {
                n.external_id
                    .as_deref()
                    .map(|e| ((n.provider.as_str(), e), n))
            })
            .collect();

        for d in nhis {
            let existing = by_decl.get(d.name.as_str()).copied();
            let holder = if keeps_id(d) {
                existing
            } else {
                d.external_id
                    .as_deref()
                    .and_then(|e| by_ext.get(&(d.provider.as_str(), e)).copied())
            };
            if let (Some(holder), Some(existing)) = (holder, existing)
                && holder.id != existing.id
            {
                plan.errors.push(input_error(
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
                        plan.errors.push(input_error(
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
            let subject = format!("nhi:{}", desired.id);
            match base {
                Some(before) if same_declared(before, &desired) => plan.unchanged += 1,
                Some(before) => {
                    if action == "nhi.adopted" {
                        plan.adopted += 1;
                    } else {
                        plan.updated += 1;
                    }
                    let changes = diff(&governed(before), &governed(&desired));
                    let payload =
                        json!({"declaration": d.name, "source": d.source, "changes": changes});
                    plan.changed_entries
                        .push(self.entry(action, subject, payload.to_string()));
                    plan.changed_observations
                        .push(declaration_observation(d, &desired.id, now));
                    plan.changed.push(desired);
                }
                None => {
                    let payload = DeclaredPayload {
                        declaration: &d.name,
                        source: &d.source,
                        nhi: Declared::of(&desired),
                    };
                    plan.created_entries.push(self.entry(
                        "nhi.declared",
                        subject,
                        crate::service::canonical(&payload)?,
                    ));
                    plan.created_observations
                        .push(declaration_observation(d, &desired.id, now));
                    plan.created.push(desired);
                }
            }
        }
        Ok(plan)
    }

    /// Commits the run, or rolls it back when it found errors, changed nothing or was a dry run.
    async fn finish_apply(
        &self,
        mut tx: WriteTx,
        run: ApplyRun,
        dry_run: bool,
    ) -> Result<ApplyReport, ServiceError> {
        let ApplyRun {
            started,
            mut report,
            files,
            errors,
            ..
        } = run;
        report.files = files.len();
        if !errors.is_empty() {
            tx.rollback().await?;
            return Err(ServiceError::Invalid(ManifestErrors::capped(errors)));
        }
        if report.created + report.adopted + report.updated == 0 || dry_run {
            tx.rollback().await?;
            return Ok(report);
        }
        let run_id = self
            .record_run(
                &mut tx,
                RunFacts {
                    kind: "apply",
                    connector: "keyward-apply",
                    connector_version: crate::VERSION,
                    started,
                    inputs: files
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
        // Callers keep the NHI as it was when nothing declared changed; otherwise it changes now.
        n.updated_at = now;
        n
    }
}

/// Writes a planned round, and its ledger entries, inside the apply's transaction.
async fn write_round(tx: &mut WriteTx, plan: Plan) -> Result<(), ServiceError> {
    tx.insert_nhis(&plan.created).await?;
    tx.upsert_nhis(&plan.changed).await?;
    tx.insert_observations(&plan.created_observations).await?;
    tx.upsert_observations(&plan.changed_observations).await?;
    let entries = plan.created_entries.into_iter().chain(plan.changed_entries);
    tx.append_all(entries.map(Ok::<_, ServiceError>)).await?;
    Ok(())
}

fn declaration_observation(
    d: &DeclaredNhi,
    id: &NhiId,
    now: chrono::DateTime<chrono::Utc>,
) -> Observation {
    Observation::new(
        id.clone(),
        "declaration",
        "keyward-apply",
        crate::VERSION,
        d.source.clone(),
        now,
    )
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
