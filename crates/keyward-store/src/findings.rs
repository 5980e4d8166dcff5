//! Posture findings, when each check last ran, and risk exceptions; and the batched read a
//! check run makes of the whole register.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use keyward_model::{
    Credential, ExceptionState, Finding, FindingState, LocationSource, Nhi, NhiId, Observation,
    RiskException, Severity,
};
use sqlx::Row as _;
use sqlx::types::Json;
use tokio::sync::mpsc;

use crate::bulk::{Cell, Col, Table};
use crate::write::bulk;
use crate::{NhiFilter, Store, StoreError, WriteTx};

const FINDINGS: Table = Table {
    name: "findings",
    columns: &[
        ("id", Col::Text),
        ("check_id", Col::Text),
        ("nhi_id", Col::Text),
        ("state", Col::Text),
        ("severity", Col::Text),
        ("evidence", Col::Json),
        ("evidence_digest", Col::Text),
        ("opened_at", Col::Time),
        ("reopened_at", Col::Time),
        ("reopen_count", Col::Int),
        ("resolved_at", Col::Time),
        ("last_seen_at", Col::Time),
    ],
    key: "(id)",
    keep: &["opened_at"],
};

const FINDING_SETS: Table = Table {
    name: "finding_sets",
    columns: &[("nhi_id", Col::Text), ("digest", Col::Text)],
    key: "(nhi_id)",
    keep: &[],
};

const CHECK_STATE: Table = Table {
    name: "check_state",
    columns: &[
        ("check_id", Col::Text),
        ("last_run_id", Col::Text),
        ("last_run_at", Col::Time),
    ],
    key: "(check_id)",
    keep: &[],
};

const EXCEPTIONS: Table = Table {
    name: "exceptions",
    columns: &[
        ("id", Col::Text),
        ("finding_id", Col::Text),
        ("state", Col::Text),
        ("reason", Col::Text),
        ("compensating_controls", Col::Text),
        ("requested_by", Col::Text),
        ("requested_at", Col::Time),
        ("expires_at", Col::Time),
        ("decided_by", Col::Text),
        ("decided_at", Col::Time),
        ("decision_note", Col::Text),
    ],
    key: "(id)",
    keep: &[],
};

const FINDING_COLUMNS: &str = "id, check_id, nhi_id, state, severity, evidence, evidence_digest, opened_at, \
    reopened_at, reopen_count, resolved_at, last_seen_at";

const EXCEPTION_COLUMNS: &str = "id, finding_id, state, reason, compensating_controls, \
    requested_by, requested_at, expires_at, decided_by, decided_at, decision_note";

/// Decodes a `findings` row on either backend.
macro_rules! finding_from_row {
    ($row:expr) => {{
        let r = $row;
        Finding {
            id: r.try_get("id")?,
            check_id: r.try_get("check_id")?,
            nhi_id: NhiId(r.try_get("nhi_id")?),
            state: crate::rows::parse("state", &r.try_get::<String, _>("state")?)?,
            severity: crate::rows::parse("severity", &r.try_get::<String, _>("severity")?)?,
            evidence: r.try_get::<Json<serde_json::Value>, _>("evidence")?.0,
            evidence_digest: r.try_get("evidence_digest")?,
            opened_at: r.try_get("opened_at")?,
            reopened_at: r.try_get("reopened_at")?,
            reopen_count: r.try_get("reopen_count")?,
            resolved_at: r.try_get("resolved_at")?,
            last_seen_at: r.try_get("last_seen_at")?,
        }
    }};
}

/// Decodes an `exceptions` row on either backend.
macro_rules! exception_from_row {
    ($row:expr) => {{
        let r = $row;
        RiskException {
            id: r.try_get("id")?,
            finding_id: r.try_get("finding_id")?,
            state: crate::rows::parse("state", &r.try_get::<String, _>("state")?)?,
            reason: r.try_get("reason")?,
            compensating_controls: r.try_get("compensating_controls")?,
            requested_by: r.try_get("requested_by")?,
            requested_at: r.try_get("requested_at")?,
            expires_at: r.try_get("expires_at")?,
            decided_by: r.try_get("decided_by")?,
            decided_at: r.try_get("decided_at")?,
            decision_note: r.try_get("decision_note")?,
        }
    }};
}

/// Where a secret scan found one credential, as a check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceRow {
    /// The credential.
    pub credential_id: String,
    /// Work tree or history.
    pub source: LocationSource,
    /// The scan root.
    pub repository: String,
    /// The file.
    pub path: String,
    /// The introducing commit, in history.
    pub commit: Option<String>,
}

/// What a check run needs of a stored finding to tell whether it changed: its check, state,
/// severity and the evidence's digest. Its id is `Finding::id_for(check, NHI)`; the rest of it
/// is read again only when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    /// The check.
    pub check_id: String,
    /// Open or resolved.
    pub state: FindingState,
    /// Severity.
    pub severity: Severity,
    /// The evidence's digest.
    pub evidence_digest: String,
}

/// Everything a check run needs about one batch of NHIs (consecutive in id order). Its maps
/// hash with foldhash: a run makes millions of lookups by id, which SipHash made a few
/// percent of the run.
#[derive(Debug, Default)]
pub struct CheckBatch {
    /// The NHIs, in id order.
    pub nhis: Vec<Nhi>,
    /// Their observations, gone ones included.
    pub observations: foldhash::HashMap<String, Vec<Observation>>,
    /// Their credentials.
    pub credentials: foldhash::HashMap<String, Vec<Credential>>,
    /// Their credentials' locations, by credential id.
    pub places: foldhash::HashMap<String, Vec<PlaceRow>>,
    /// The digest of each one's open findings as the last check run left them, by NHI id;
    /// only NHIs with stored findings have one. [`WriteTx::stored_findings_of`] reads the
    /// findings themselves.
    pub finding_sets: foldhash::HashMap<String, String>,
}

/// Batches for a check run, read ahead of the caller.
pub struct CheckBatches {
    rx: mpsc::Receiver<Result<CheckBatch, StoreError>>,
}

impl CheckBatches {
    /// The next batch, or `None` at the end.
    pub async fn next(&mut self) -> Option<Result<CheckBatch, StoreError>> {
        self.rx.recv().await
    }
}

/// Reads everything about `nhis` (consecutive in id order) that a check needs from
/// PostgreSQL, each query as a binary `COPY`.
async fn complete_postgres(
    pool: &sqlx::PgPool,
    nhis: Vec<keyward_model::Nhi>,
) -> Result<CheckBatch, StoreError> {
    let (Some(first), Some(last)) = (nhis.first(), nhis.last()) else {
        return Ok(CheckBatch::default());
    };
    let (mut lo, mut hi) = (String::new(), String::new());
    crate::pg_copy::literal(&mut lo, &first.id.0)?;
    crate::pg_copy::literal(&mut hi, &last.id.0)?;
    let mut b = CheckBatch {
        nhis,
        ..CheckBatch::default()
    };
    for q in crate::batch::QUERIES {
        if q.wanted(&b) {
            crate::pg_copy::start(pool, &q.sql(&lo, &hi), q.columns)
                .await?
                .each(|t| q.add(&mut b, t))
                .await?;
        }
    }
    Ok(b)
}

/// The NHI a listed finding is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FindingNhi {
    /// Display name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Provider.
    pub provider: String,
    /// The provider's id.
    pub external_id: Option<String>,
    /// Environment.
    pub environment: String,
    /// Owner.
    pub owner: Option<String>,
}

/// A filter on findings lists.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Only open findings.
    pub open_only: bool,
    /// Only this check's.
    pub check: Option<String>,
    /// Only this NHI's.
    pub nhi: Option<String>,
    /// Only these, when not empty.
    pub ids: Vec<String>,
}

impl Store {
    /// Reads the register for a check run: the NHIs in id order, each batch with its
    /// observations, credentials, credentials' locations and the digests of its NHIs' open
    /// findings, read two batches ahead while the caller evaluates.
    pub fn check_batches(&self, now: DateTime<Utc>) -> Result<CheckBatches, StoreError> {
        if let Some(path) = self.sqlite_path()? {
            return Ok(CheckBatches {
                rx: crate::sqlite_read::check_batches(path),
            });
        }
        let crate::store::Backend::Postgres(pool) = &self.pool else {
            unreachable!("a SQLite store has a path");
        };
        let mut nhis = self.nhi_batches_for(&NhiFilter::default(), now, false)?;
        let (tx, rx) = mpsc::channel(2);
        let pool = pool.clone();
        tokio::spawn(async move {
            while let Some(batch) = nhis.recv().await {
                let out = match batch {
                    Ok((b, _)) => complete_postgres(&pool, b).await,
                    Err(e) => Err(e),
                };
                let failed = out.is_err();
                if tx.send(out).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(CheckBatches { rx })
    }

    /// When each check was last evaluated over the register: check id → (run id, time).
    pub async fn check_states(
        &self,
    ) -> Result<HashMap<String, (String, DateTime<Utc>)>, StoreError> {
        let mut out = HashMap::new();
        dispatch!(&self.pool, p, _DB => {
            for r in sqlx::query("SELECT check_id, last_run_id, last_run_at FROM check_state").fetch_all(p).await? {
                out.insert(r.try_get("check_id")?, (r.try_get("last_run_id")?, r.try_get("last_run_at")?));
            }
        });
        Ok(out)
    }

    /// One finding by id.
    pub async fn finding(&self, id: &str) -> Result<Finding, StoreError> {
        dispatch!(&self.pool, p, _DB => {
            let sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE id = $1");
            match sqlx::query(&sql).bind(id.to_owned()).fetch_optional(p).await? {
                Some(r) => Ok(finding_from_row!(&r)),
                None => Err(StoreError::NotFound(format!("no finding `{id}`"))),
            }
        })
    }

    /// Streams findings matching `filter` to `each` with the NHI each is about, by NHI then
    /// check.
    pub async fn for_each_finding<E, F>(
        &self,
        filter: &FindingFilter,
        mut each: F,
    ) -> Result<u64, E>
    where
        E: From<StoreError>,
        F: FnMut(Finding, FindingNhi) -> Result<(), E>,
    {
        use futures_util::TryStreamExt as _;
        let mut n = 0;
        if let Some(path) = self.sqlite_path()? {
            let mut batches = crate::sqlite_read::findings(path, filter);
            while let Some(batch) = batches.recv().await {
                for (f, nhi) in batch? {
                    each(f, nhi)?;
                    n += 1;
                }
            }
            return Ok(n);
        }
        dispatch!(&self.pool, p, DB => {
            let cols: Vec<String> = FINDING_COLUMNS.split(", ").map(|c| format!("f.{}", c.trim())).collect();
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                "SELECT {}, n.name AS nhi_name, n.kind AS nhi_kind, n.provider AS nhi_provider, \
                 n.external_id AS nhi_external_id, n.environment AS nhi_environment, n.owner AS nhi_owner \
                 FROM findings f JOIN nhis n ON n.id = f.nhi_id WHERE 1 = 1",
                cols.join(", ")
            ));
            if filter.open_only {
                qb.push(" AND f.state = 'open'");
            }
            if let Some(c) = &filter.check {
                qb.push(" AND f.check_id = ").push_bind(c.clone());
            }
            if let Some(nhi) = &filter.nhi {
                qb.push(" AND f.nhi_id = ").push_bind(nhi.clone());
            }
            if !filter.ids.is_empty() {
                qb.push(" AND f.id IN (");
                crate::bulk::push_list(&mut qb, &filter.ids);
            }
            qb.push(" ORDER BY f.nhi_id, f.check_id");
            let q = qb.build();
            let mut rows = q.fetch(p);
            while let Some(r) = rows.try_next().await.map_err(StoreError::from)? {
                let (f, nhi) = (|| -> Result<(Finding, FindingNhi), StoreError> {
                    let nhi = FindingNhi {
                        name: r.try_get("nhi_name")?,
                        kind: r.try_get("nhi_kind")?,
                        provider: r.try_get("nhi_provider")?,
                        external_id: r.try_get("nhi_external_id")?,
                        environment: r.try_get("nhi_environment")?,
                        owner: r.try_get("nhi_owner")?,
                    };
                    Ok((finding_from_row!(&r), nhi))
                })()?;
                each(f, nhi)?;
                n += 1;
            }
        });
        Ok(n)
    }

    /// Exceptions, newest first; only those in `state` when given.
    pub async fn exceptions(
        &self,
        state: Option<ExceptionState>,
    ) -> Result<Vec<RiskException>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&self.pool, p, DB => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!("SELECT {EXCEPTION_COLUMNS} FROM exceptions"));
            if let Some(s) = state {
                qb.push(" WHERE state = ").push_bind(s.as_str().to_owned());
            }
            qb.push(" ORDER BY id DESC");
            for r in qb.build().fetch_all(p).await? {
                out.push(exception_from_row!(&r));
            }
        });
        Ok(out)
    }
}

impl WriteTx {
    /// Inserts or replaces findings by id, keeping each one's first-opened time.
    pub async fn upsert_findings(&mut self, findings: &[Finding]) -> Result<(), StoreError> {
        self.changed |= !findings.is_empty();
        bulk(&mut self.tx, &FINDINGS, findings, true, |f| {
            Ok(vec![
                Cell::Text(Some(&f.id)),
                Cell::Text(Some(&f.check_id)),
                Cell::Text(Some(&f.nhi_id.0)),
                Cell::Text(Some(f.state.as_str())),
                Cell::Text(Some(f.severity.as_str())),
                Cell::json(&f.evidence)?,
                Cell::Text(Some(&f.evidence_digest)),
                Cell::Time(Some(f.opened_at)),
                Cell::Time(f.reopened_at),
                Cell::Int(Some(f.reopen_count)),
                Cell::Time(f.resolved_at),
                Cell::Time(Some(f.last_seen_at)),
            ])
        })
        .await
    }

    /// Sets the digests of NHIs' open findings (see [`CheckBatch::finding_sets`]).
    pub async fn upsert_finding_sets(
        &mut self,
        sets: &[(String, String)],
    ) -> Result<(), StoreError> {
        self.changed |= !sets.is_empty();
        bulk(&mut self.tx, &FINDING_SETS, sets, true, |(nhi, digest)| {
            Ok(vec![Cell::Text(Some(nhi)), Cell::Text(Some(digest))])
        })
        .await
    }

    /// The stored findings of these NHIs, as much of each as tells whether it changed, by NHI
    /// id.
    pub async fn stored_findings_of(
        &mut self,
        ids: &[&str],
    ) -> Result<foldhash::HashMap<String, Vec<StoredFinding>>, StoreError> {
        let mut out: foldhash::HashMap<String, Vec<StoredFinding>> = Default::default();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in ids.chunks(crate::write::BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT nhi_id, check_id, state, severity, evidence_digest FROM findings WHERE nhi_id IN (",
                );
                crate::bulk::push_list(&mut qb, chunk);
                for r in qb.build().fetch_all(&mut **t).await? {
                    out.entry(r.try_get("nhi_id")?).or_default().push(StoredFinding {
                        check_id: r.try_get("check_id")?,
                        state: crate::rows::parse("state", &r.try_get::<String, _>("state")?)?,
                        severity: crate::rows::parse("severity", &r.try_get::<String, _>("severity")?)?,
                        evidence_digest: r.try_get("evidence_digest")?,
                    });
                }
            }
        });
        Ok(out)
    }

    /// Resolves open findings now, each with the last evaluation that saw it (when known;
    /// otherwise the time it holds stays); their evidence stays as it was.
    pub async fn resolve_findings(
        &mut self,
        findings: &[(String, Option<DateTime<Utc>>)],
    ) -> Result<(), StoreError> {
        if findings.is_empty() {
            return Ok(());
        }
        self.changed = true;
        let now = self.now();
        let mut by_seen: std::collections::BTreeMap<Option<DateTime<Utc>>, Vec<&str>> =
            Default::default();
        for (id, seen) in findings {
            by_seen.entry(*seen).or_default().push(id);
        }
        dispatch!(&mut self.tx, t, DB => {
            for (seen, ids) in by_seen {
                for chunk in ids.chunks(crate::write::BATCH) {
                    let mut qb = sqlx::QueryBuilder::<DB>::new("UPDATE findings SET state = 'resolved', resolved_at = ");
                    qb.push_bind(now);
                    if let Some(seen) = seen {
                        qb.push(", last_seen_at = ").push_bind(seen);
                    }
                    qb.push(" WHERE id IN (");
                    crate::bulk::push_list(&mut qb, chunk);
                    qb.build().execute(&mut **t).await?;
                }
            }
        });
        Ok(())
    }

    /// Records that `checks` were evaluated over the whole register by `run` now.
    pub async fn set_check_state(
        &mut self,
        checks: &[String],
        run: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        self.changed |= !checks.is_empty();
        bulk(&mut self.tx, &CHECK_STATE, checks, true, |c| {
            Ok(vec![
                Cell::Text(Some(c)),
                Cell::Owned(Some(run.to_owned())),
                Cell::Time(Some(now)),
            ])
        })
        .await
    }

    /// Inserts or replaces exceptions by id.
    pub async fn upsert_exceptions(
        &mut self,
        exceptions: &[RiskException],
    ) -> Result<(), StoreError> {
        self.changed |= !exceptions.is_empty();
        bulk(&mut self.tx, &EXCEPTIONS, exceptions, true, |e| {
            Ok(vec![
                Cell::Text(Some(&e.id)),
                Cell::Text(Some(&e.finding_id)),
                Cell::Text(Some(e.state.as_str())),
                Cell::Text(Some(&e.reason)),
                Cell::Text(Some(&e.compensating_controls)),
                Cell::Text(Some(&e.requested_by)),
                Cell::Time(Some(e.requested_at)),
                Cell::Time(Some(e.expires_at)),
                Cell::Text(e.decided_by.as_deref()),
                Cell::Time(e.decided_at),
                Cell::Text(e.decision_note.as_deref()),
            ])
        })
        .await
    }

    /// One finding, as this transaction sees it.
    pub async fn finding(&mut self, id: &str) -> Result<Finding, StoreError> {
        dispatch!(&mut self.tx, t, _DB => {
            let sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE id = $1");
            match sqlx::query(&sql).bind(id.to_owned()).fetch_optional(&mut **t).await? {
                Some(r) => Ok(finding_from_row!(&r)),
                None => Err(StoreError::NotFound(format!("no finding `{id}`"))),
            }
        })
    }

    /// The findings with these ids.
    pub async fn findings_by_ids(&mut self, ids: &[&str]) -> Result<Vec<Finding>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in ids.chunks(crate::write::BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(format!("SELECT {FINDING_COLUMNS} FROM findings WHERE id IN ("));
                crate::bulk::push_list(&mut qb, chunk);
                for r in qb.build().fetch_all(&mut **t).await? {
                    out.push(finding_from_row!(&r));
                }
            }
        });
        Ok(out)
    }

    /// One exception, as this transaction sees it.
    pub async fn exception(&mut self, id: &str) -> Result<RiskException, StoreError> {
        dispatch!(&mut self.tx, t, _DB => {
            let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE id = $1");
            match sqlx::query(&sql).bind(id.to_owned()).fetch_optional(&mut **t).await? {
                Some(r) => Ok(exception_from_row!(&r)),
                None => Err(StoreError::NotFound(format!("no exception `{id}`"))),
            }
        })
    }

    /// The exceptions of one finding, oldest first.
    pub async fn exceptions_of(&mut self, finding: &str) -> Result<Vec<RiskException>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, _DB => {
            let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE finding_id = $1 ORDER BY id");
            for r in sqlx::query(&sql).bind(finding.to_owned()).fetch_all(&mut **t).await? {
                out.push(exception_from_row!(&r));
            }
        });
        Ok(out)
    }

    /// Requested or approved exceptions whose expiry has come at this transaction's time.
    pub async fn exceptions_due(&mut self) -> Result<Vec<RiskException>, StoreError> {
        let now = self.now();
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, _DB => {
            let sql = format!(
                "SELECT {EXCEPTION_COLUMNS} FROM exceptions \
                 WHERE (state = 'approved' OR state = 'requested') AND expires_at <= $1 ORDER BY id"
            );
            for r in sqlx::query(&sql).bind(now).fetch_all(&mut **t).await? {
                out.push(exception_from_row!(&r));
            }
        });
        Ok(out)
    }

    /// Approved exceptions in force at this transaction's time, by finding id.
    pub async fn exceptions_in_force(
        &mut self,
    ) -> Result<HashMap<String, RiskException>, StoreError> {
        let now = self.now();
        let mut out = HashMap::new();
        dispatch!(&mut self.tx, t, _DB => {
            let sql = format!(
                "SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE state = 'approved' AND expires_at > $1"
            );
            for r in sqlx::query(&sql).bind(now).fetch_all(&mut **t).await? {
                let e = exception_from_row!(&r);
                out.insert(e.finding_id.clone(), e);
            }
        });
        Ok(out)
    }
}
