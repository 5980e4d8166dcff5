use chrono::{DateTime, Duration, Utc};
use futures_util::TryStreamExt;
use keyward_ledger::{Checkpoint, Entry};
use keyward_model::{Credential, CredentialLocation, Nhi, NhiId, Observation, Person};
use serde::Serialize;
use sqlx::Row;
use sqlx::types::Json;

use crate::rows::CREDENTIAL_COLUMNS;
use crate::store::Backend;
use crate::{NhiFilter, Store, StoreError};

/// The installation's identity, recorded by `keyward init`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installation {
    /// When the store was initialised.
    pub created_at: DateTime<Utc>,
    /// The Ed25519 public key that verifies checkpoints, hex.
    pub ledger_public_key: String,
    /// Identifies the fingerprint key the store's fingerprints were made with.
    pub fingerprint_key_id: String,
    /// A checkpoint is signed at least every this many entries.
    pub checkpoint_every: i64,
}

/// Provenance of one run that changed the register.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Run id (`run_…`).
    pub id: String,
    /// What ran (`apply`, `people-import`, `discover`).
    pub kind: String,
    /// The connector or command.
    pub connector: String,
    /// Its version.
    pub connector_version: String,
    /// Who ran it.
    pub actor: String,
    /// Start time.
    pub started_at: DateTime<Utc>,
    /// End time.
    pub finished_at: DateTime<Utc>,
    /// Inputs (paths with SHA-256, endpoints).
    pub inputs: serde_json::Value,
    /// Parameters given.
    pub parameters: serde_json::Value,
    /// Counts (added, updated, unchanged, …).
    pub counts: serde_json::Value,
}

/// What selects runs: the newest few, or one by id.
enum RunKey {
    Limit(i64),
    Id(String),
}

/// Raw counts behind the posture summary, judged at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PostureCounts {
    /// Every NHI in the register.
    pub total: i64,
    /// NHIs that can still act (active or disabled); the governance counts are over these.
    pub live: i64,
    /// All NHIs by kind.
    pub by_kind: Vec<(String, i64)>,
    /// All NHIs by environment.
    pub by_environment: Vec<(String, i64)>,
    /// All NHIs by status.
    pub by_status: Vec<(String, i64)>,
    /// Live NHIs without an owner.
    pub unowned: i64,
    /// Live NHIs whose owner has departed.
    pub owner_departed: i64,
    /// Live NHIs owned by an email not in the people directory.
    pub owner_not_in_directory: i64,
    /// Live NHIs without an expiry.
    pub no_expiry: i64,
    /// Active NHIs past their expiry.
    pub expired_active: i64,
    /// Live NHIs expiring within the notice window.
    pub expiring_soon: i64,
    /// Live NHIs whose review is overdue.
    pub review_overdue: i64,
    /// Live NHIs never reviewed.
    pub never_reviewed: i64,
    /// Live NHIs with no review cadence.
    pub no_review_cadence: i64,
    /// Live NHIs discovered and never declared.
    pub undeclared: i64,
    /// Live NHIs whose last use no source reports.
    pub last_used_unknown: i64,
    /// People in the directory.
    pub people: i64,
    /// Departed people in the directory.
    pub people_departed: i64,
}

impl Store {
    /// The installation record, if the store was initialised.
    pub async fn installation(&self) -> Result<Option<Installation>, StoreError> {
        Ok(dispatch!(&self.pool, p, _DB => {
            let row = sqlx::query(
                "SELECT created_at, ledger_public_key, fingerprint_key_id, checkpoint_every FROM installation WHERE id = 1",
            )
            .fetch_optional(p)
            .await?;
            match row {
                Some(r) => Some(Installation {
                    created_at: r.try_get("created_at")?,
                    ledger_public_key: r.try_get("ledger_public_key")?,
                    fingerprint_key_id: r.try_get("fingerprint_key_id")?,
                    checkpoint_every: r.try_get("checkpoint_every")?,
                }),
                None => None,
            }
        }))
    }

    /// Streams the NHIs matching `filter` to `each` in id order, which is registration order, without
    /// collecting them.
    pub async fn for_each_nhi<E, F>(
        &self,
        filter: &NhiFilter,
        now: DateTime<Utc>,
        mut each: F,
    ) -> Result<u64, E>
    where
        E: From<StoreError>,
        F: FnMut(Nhi) -> Result<(), E>,
    {
        let mut batches = self.nhi_batches_for(filter, now, false)?;
        let mut n = 0u64;
        while let Some(batch) = batches.recv().await {
            for nhi in batch?.0 {
                each(nhi)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Like [`Self::for_each_nhi`], with the sources that currently see each NHI (sorted; ones
    /// that no longer see it left out), read one query per batch while the next batch is read.
    pub async fn for_each_nhi_with_sources<E, F>(
        &self,
        filter: &NhiFilter,
        now: DateTime<Utc>,
        mut each: F,
    ) -> Result<u64, E>
    where
        E: From<StoreError>,
        F: FnMut(Nhi, &[String]) -> Result<(), E>,
    {
        let mut batches = self.nhi_batches_for(filter, now, true)?;
        let mut n = 0u64;
        while let Some(batch) = batches.recv().await {
            let (nhis, sources) = batch?;
            for (nhi, s) in nhis.into_iter().zip(&sources) {
                each(nhi, s)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The file of a SQLite store, `None` on PostgreSQL.
    pub(crate) fn sqlite_path(&self) -> Result<Option<std::path::PathBuf>, StoreError> {
        match (&self.pool, &self.location) {
            (Backend::Postgres(_), _) => Ok(None),
            (Backend::Sqlite(_), crate::Location::Sqlite(path)) => Ok(Some(path.clone())),
            (Backend::Sqlite(_), crate::Location::Postgres(_)) => {
                Err(StoreError::corrupt("location", "not a SQLite file"))
            }
        }
    }

    pub(crate) fn nhi_batches_for(
        &self,
        filter: &NhiFilter,
        now: DateTime<Utc>,
        sources: bool,
    ) -> Result<crate::list::Batches, StoreError> {
        Ok(match (&self.pool, self.sqlite_path()?) {
            (_, Some(path)) => crate::list::sqlite(path, filter, now, sources),
            (Backend::Postgres(p), None) => crate::list::postgres(p.clone(), filter, now, sources),
            (Backend::Sqlite(_), None) => unreachable!("a SQLite store has a path"),
        })
    }

    /// Counts the NHIs matching `filter`.
    pub async fn count_nhis(
        &self,
        filter: &NhiFilter,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        Ok(dispatch!(&self.pool, p, DB => {
            let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT COUNT(*) FROM nhis");
            push_filter!(&mut qb, filter, now);
            let n: i64 = qb.build_query_scalar().fetch_one(p).await?;
            n
        }))
    }

    /// The NHIs governed by these declaration names, as last committed. While a
    /// [`WriteTx`](crate::WriteTx) is open no other write can commit, so this is the register as
    /// it was when that write began: apply looks each round of declarations up here while its
    /// transaction writes the round before.
    pub async fn nhis_by_declarations(&self, names: &[&str]) -> Result<Vec<Nhi>, StoreError> {
        let head = crate::rows::nhi_json_page(self.is_postgres());
        let mut out = Vec::new();
        dispatch!(&self.pool, p, DB => {
            for chunk in names.chunks(crate::write::BATCH) {
                let json = by_declarations::<DB>(&head, chunk).build_query_scalar().fetch_one(p).await?;
                out.extend(crate::rows::nhi_page(json)?);
            }
        });
        Ok(out)
    }

    /// The NHIs with these `(provider, external_id)` pairs, as last committed (see
    /// [`Store::nhis_by_declarations`]).
    pub async fn nhis_by_external_ids(
        &self,
        keys: &[(&str, &str)],
    ) -> Result<Vec<Nhi>, StoreError> {
        let head = crate::rows::nhi_json_page(self.is_postgres());
        let mut out = Vec::new();
        dispatch!(&self.pool, p, DB => {
            for chunk in keys.chunks(crate::write::BATCH) {
                let json = crate::write::by_external_ids::<DB>(&head, chunk).build_query_scalar().fetch_one(p).await?;
                out.extend(crate::rows::nhi_page(json)?);
            }
        });
        Ok(out)
    }

    /// Finds one NHI by register id, declaration name or external id.
    pub async fn find_nhi(&self, key: &str) -> Result<Nhi, StoreError> {
        let column = if NhiId::looks_like(key) {
            "id"
        } else {
            "declaration"
        };
        let head = crate::rows::nhi_json_page(self.is_postgres());
        let mut found = Vec::new();
        // A name is tried last: it is the least specific and has no index.
        for column in [column, "external_id", "name"] {
            let json: Option<String> = dispatch!(&self.pool, p, DB => {
                let mut qb = sqlx::QueryBuilder::<DB>::new(head.as_str());
                qb.push(format!(" WHERE {column} = ")).push_bind(key.to_owned());
                qb.push(crate::rows::NHI_JSON_END);
                qb.build_query_scalar().fetch_one(p).await?
            });
            found = crate::rows::nhi_page(json)?;
            if !found.is_empty() {
                break;
            }
        }
        match found.len() {
            0 => Err(StoreError::NotFound(format!("NHI `{key}`"))),
            1 => Ok(found.remove(0)),
            _ => Err(StoreError::Conflict(format!(
                "`{key}` matches {} NHIs ({}); give the register id instead",
                found.len(),
                found
                    .iter()
                    .map(|n| format!("{} in {}", n.id, n.provider))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The credentials of one NHI.
    pub async fn credentials_of(&self, nhi: &NhiId) -> Result<Vec<Credential>, StoreError> {
        Ok(dispatch!(&self.pool, p, _DB => {
            let mut out = Vec::new();
            let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE nhi_id = $1 ORDER BY id");
            for row in sqlx::query(&sql).bind(nhi.0.clone()).fetch_all(p).await? {
                out.push(credential_from_row!(&row));
            }
            out
        }))
    }

    /// Where the credentials of one NHI were seen, by credential then location.
    pub async fn locations_of(&self, nhi: &NhiId) -> Result<Vec<CredentialLocation>, StoreError> {
        Ok(dispatch!(&self.pool, p, _DB => {
            let rows = sqlx::query(
                "SELECT l.credential_id, l.source, l.repository, l.path, l.line, l.col, l.commit_id, \
                 l.author, l.committed_at, l.rule_id, l.first_seen_at, l.last_seen_at \
                 FROM credential_locations l JOIN credentials c ON c.id = l.credential_id \
                 WHERE c.nhi_id = $1 ORDER BY l.credential_id, l.location",
            )
            .bind(nhi.0.clone())
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let count = |col: &'static str| -> Result<u32, StoreError> {
                    let v: i32 = r.try_get(col)?;
                    u32::try_from(v).map_err(|_| StoreError::corrupt(col, v))
                };
                out.push(CredentialLocation {
                    credential_id: r.try_get("credential_id")?,
                    source: crate::rows::parse("source", &r.try_get::<String, _>("source")?)?,
                    repository: r.try_get("repository")?,
                    path: r.try_get("path")?,
                    line: count("line")?,
                    column: count("col")?,
                    commit: r.try_get("commit_id")?,
                    author: r.try_get("author")?,
                    committed_at: r.try_get("committed_at")?,
                    rule_id: r.try_get("rule_id")?,
                    first_seen_at: r.try_get("first_seen_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                });
            }
            out
        }))
    }

    /// What each source said about one NHI.
    pub async fn observations_of(&self, nhi: &NhiId) -> Result<Vec<Observation>, StoreError> {
        Ok(dispatch!(&self.pool, p, _DB => {
            let mut out = Vec::new();
            let sql = format!(
                "SELECT {} FROM observations WHERE nhi_id = $1 ORDER BY source",
                crate::rows::OBSERVATION_COLUMNS
            );
            let rows = sqlx::query(&sql)
            .bind(nhi.0.clone())
            .fetch_all(p)
            .await?;
            for r in rows {
                out.push(observation_from_row!(&r));
            }
            out
        }))
    }

    /// The ledger entries about one subject, oldest first.
    pub async fn ledger_of(&self, subject: &str) -> Result<Vec<Entry>, StoreError> {
        Ok(dispatch!(&self.pool, p, _DB => {
            let mut out = Vec::new();
            let rows = sqlx::query(
                "SELECT seq, at, actor, action, subject, payload, prev_hash, hash FROM ledger \
                 WHERE subject = $1 ORDER BY seq",
            )
            .bind(subject.to_owned())
            .fetch_all(p)
            .await?;
            for r in rows {
                out.push(entry_from_row!(&r));
            }
            out
        }))
    }

    /// Streams the whole ledger in `seq` order; `each` returns `false` to stop early.
    pub async fn for_each_entry<E, F>(&self, mut each: F) -> Result<(), E>
    where
        E: From<StoreError>,
        F: FnMut(Entry) -> Result<bool, E>,
    {
        dispatch!(&self.pool, p, _DB => {
            let mut rows = sqlx::query(
                "SELECT seq, at, actor, action, subject, payload, prev_hash, hash FROM ledger ORDER BY seq",
            )
            .fetch(p);
            while let Some(r) = rows.try_next().await.map_err(StoreError::from)? {
                let e = (|| -> Result<Entry, StoreError> { Ok(entry_from_row!(&r)) })()?;
                if !each(e)? {
                    break;
                }
            }
        });
        Ok(())
    }

    /// Every signed checkpoint, oldest first.
    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        Ok(dispatch!(&self.pool, p, _DB => {
            let mut out = Vec::new();
            let rows = sqlx::query(
                "SELECT seq, at, head_hash, public_key, signature FROM ledger_checkpoints ORDER BY seq",
            )
            .fetch_all(p)
            .await?;
            for r in rows {
                out.push(Checkpoint {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    head_hash: r.try_get("head_hash")?,
                    public_key: r.try_get("public_key")?,
                    signature: r.try_get("signature")?,
                });
            }
            out
        }))
    }

    /// Every person in the directory, by email.
    pub async fn people(&self) -> Result<Vec<Person>, StoreError> {
        Ok(dispatch!(&self.pool, p, _DB => {
            let mut out = Vec::new();
            let rows = sqlx::query(
                "SELECT email, name, team, manager_email, status, departed_on FROM people ORDER BY email",
            )
            .fetch_all(p)
            .await?;
            for r in rows {
                out.push(person_from_row!(&r));
            }
            out
        }))
    }

    /// The most recent runs, newest first.
    pub async fn runs(&self, limit: i64) -> Result<Vec<RunRecord>, StoreError> {
        self.select_runs(
            "ORDER BY started_at DESC, id DESC LIMIT $1",
            RunKey::Limit(limit),
        )
        .await
    }

    /// The latest run of `kind`, if any.
    pub async fn latest_run(&self, kind: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .select_runs(
                "WHERE kind = $1 ORDER BY started_at DESC, id DESC LIMIT 1",
                RunKey::Id(kind.to_owned()),
            )
            .await?
            .pop())
    }

    /// One run by its id.
    pub async fn run(&self, id: &str) -> Result<RunRecord, StoreError> {
        self.select_runs("WHERE id = $1", RunKey::Id(id.to_owned()))
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("run `{id}`")))
    }

    async fn select_runs(&self, tail: &str, key: RunKey) -> Result<Vec<RunRecord>, StoreError> {
        let sql = format!(
            "SELECT id, kind, connector, connector_version, actor, started_at, finished_at, inputs, \
             parameters, counts FROM runs {tail}"
        );
        Ok(dispatch!(&self.pool, p, _DB => {
            let mut out = Vec::new();
            let q = sqlx::query(&sql);
            let q = match &key {
                RunKey::Limit(n) => q.bind(*n),
                RunKey::Id(id) => q.bind(id.clone()),
            };
            for r in q.fetch_all(p).await? {
                out.push(RunRecord {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    connector: r.try_get("connector")?,
                    connector_version: r.try_get("connector_version")?,
                    actor: r.try_get("actor")?,
                    started_at: r.try_get("started_at")?,
                    finished_at: r.try_get("finished_at")?,
                    inputs: r.try_get::<Json<serde_json::Value>, _>("inputs")?.0,
                    parameters: r.try_get::<Json<serde_json::Value>, _>("parameters")?.0,
                    counts: r.try_get::<Json<serde_json::Value>, _>("counts")?.0,
                });
            }
            out
        }))
    }

    /// The counts behind the posture summary at `now`, with `notice` as the expiring-soon window.
    pub async fn posture_counts(
        &self,
        now: DateTime<Utc>,
        notice: Duration,
    ) -> Result<PostureCounts, StoreError> {
        const LIVE: &str = "status IN ('active', 'disabled')";
        let sql = format!(
            "SELECT COUNT(*) AS total, \
             COUNT(*) FILTER (WHERE {LIVE}) AS live, \
             COUNT(*) FILTER (WHERE {LIVE} AND owner IS NULL) AS unowned, \
             COUNT(*) FILTER (WHERE {LIVE} AND owner IN (SELECT email FROM people WHERE status = 'departed')) AS owner_departed, \
             COUNT(*) FILTER (WHERE {LIVE} AND owner IS NOT NULL AND owner NOT LIKE 'team:%' AND owner NOT IN (SELECT email FROM people)) AS owner_not_in_directory, \
             COUNT(*) FILTER (WHERE {LIVE} AND expires_at IS NULL) AS no_expiry, \
             COUNT(*) FILTER (WHERE status = 'active' AND expires_at < $1) AS expired_active, \
             COUNT(*) FILTER (WHERE {LIVE} AND expires_at >= $1 AND expires_at < $2) AS expiring_soon, \
             COUNT(*) FILTER (WHERE {LIVE} AND next_review_due < $1) AS review_overdue, \
             COUNT(*) FILTER (WHERE {LIVE} AND last_reviewed_at IS NULL) AS never_reviewed, \
             COUNT(*) FILTER (WHERE {LIVE} AND review_every_days IS NULL) AS no_review_cadence, \
             COUNT(*) FILTER (WHERE {LIVE} AND declaration IS NULL) AS undeclared, \
             COUNT(*) FILTER (WHERE {LIVE} AND last_used_state = 'unknown') AS last_used_unknown \
             FROM nhis"
        );
        Ok(dispatch!(&self.pool, p, _DB => {
            let r = sqlx::query(&sql).bind(now).bind(now + notice).fetch_one(p).await?;
            let group = |col: &'static str| format!("SELECT {col}, COUNT(*) FROM nhis GROUP BY {col} ORDER BY {col}");
            let by_kind: Vec<(String, i64)> = sqlx::query_as(&group("kind")).fetch_all(p).await?;
            let by_environment: Vec<(String, i64)> = sqlx::query_as(&group("environment")).fetch_all(p).await?;
            let by_status: Vec<(String, i64)> = sqlx::query_as(&group("status")).fetch_all(p).await?;
            let (people, people_departed): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'departed') FROM people",
            )
            .fetch_one(p)
            .await?;
            PostureCounts {
                total: r.try_get("total")?,
                live: r.try_get("live")?,
                by_kind,
                by_environment,
                by_status,
                unowned: r.try_get("unowned")?,
                owner_departed: r.try_get("owner_departed")?,
                owner_not_in_directory: r.try_get("owner_not_in_directory")?,
                no_expiry: r.try_get("no_expiry")?,
                expired_active: r.try_get("expired_active")?,
                expiring_soon: r.try_get("expiring_soon")?,
                review_overdue: r.try_get("review_overdue")?,
                never_reviewed: r.try_get("never_reviewed")?,
                no_review_cadence: r.try_get("no_review_cadence")?,
                undeclared: r.try_get("undeclared")?,
                last_used_unknown: r.try_get("last_used_unknown")?,
                people,
                people_departed,
            }
        }))
    }
}

/// `head WHERE declaration IN (…names…)` and the end of an NHI page.
fn by_declarations<'a, DB: sqlx::Database>(head: &str, names: &[&str]) -> sqlx::QueryBuilder<'a, DB>
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut qb = sqlx::QueryBuilder::<DB>::new(head);
    qb.push(" WHERE declaration IN (");
    crate::bulk::push_list(&mut qb, names);
    qb.push(crate::rows::NHI_JSON_END);
    qb
}
