use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use keyward_ledger::{Checkpoint, Entry, LedgerKey, NewEntry};
use keyward_model::{Credential, Nhi, Observation, Person};
use sqlx::types::Json;

use crate::read::RunRecord;
use crate::rows::{CREDENTIAL_COLUMNS, NHI_COLUMNS, NHI_JSON_END, nhi_json_page, nhi_page};
use crate::store::Backend;
use crate::{Store, StoreError};

/// Rows per multi-row statement: well under both backends' bind-parameter limits.
const BATCH: usize = 500;

/// Checkpoint at least this often even when few entries were appended.
const CHECKPOINT_MAX_AGE: Duration = Duration::hours(1);

type Tx =
    Backend<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Transaction<'static, sqlx::Postgres>>;

/// One transaction that changes the register and appends the ledger entries for the change.
///
/// It holds the ledger head lock from start to commit, so concurrent writers (other processes,
/// other servers on the same PostgreSQL) append one after another without gaps.
pub struct WriteTx {
    tx: Tx,
    now: DateTime<Utc>,
    head_seq: i64,
    head_hash: String,
    checkpoint_seq: i64,
    checkpoint_at: Option<DateTime<Utc>>,
    checkpoint_every: i64,
    pending: Vec<Entry>,
    appended: u64,
    changed: bool,
    force_checkpoint: bool,
    signer: Option<Arc<LedgerKey>>,
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// Ledger entries appended.
    pub entries: u64,
    /// The ledger head after the commit.
    pub head_seq: i64,
    /// The checkpoint written, if one was due.
    pub checkpoint: Option<i64>,
}

fn conflict(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("already registered: {}", db.message()))
        }
        _ => StoreError::Database(e),
    }
}

impl Store {
    /// Starts a write at `now`, taking the ledger head lock.
    pub async fn begin_write(&self, now: DateTime<Utc>) -> Result<WriteTx, StoreError> {
        let mut tx = match &self.pool {
            Backend::Sqlite(p) => Backend::Sqlite(p.begin().await?),
            Backend::Postgres(p) => Backend::Postgres(p.begin().await?),
        };
        // A write as the first statement: SQLite takes its write lock now instead of failing to
        // upgrade a read lock later, and PostgreSQL locks the head row until commit.
        let (head_seq, head_hash, checkpoint_seq, checkpoint_at, every) = dispatch!(&mut tx, t, _DB => {
            let (seq, hash, cseq, cat): (i64, String, i64, Option<DateTime<Utc>>) = sqlx::query_as(
                "UPDATE ledger_head SET seq = seq WHERE id = 1 \
                 RETURNING seq, hash, checkpoint_seq, checkpoint_at",
            )
            .fetch_one(&mut **t)
            .await?;
            let every: Option<i64> =
                sqlx::query_scalar("SELECT checkpoint_every FROM installation WHERE id = 1")
                    .fetch_optional(&mut **t)
                    .await?;
            (seq, hash, cseq, cat, every.unwrap_or(1000))
        });
        Ok(WriteTx {
            tx,
            now,
            head_seq,
            head_hash,
            checkpoint_seq,
            checkpoint_at,
            checkpoint_every: every,
            pending: Vec::new(),
            appended: 0,
            changed: false,
            force_checkpoint: false,
            signer: self.signer.clone(),
        })
    }
}

impl WriteTx {
    fn is_postgres(&self) -> bool {
        matches!(self.tx, Backend::Postgres(_))
    }

    /// The time this write happens at.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Appends a ledger entry for a change made in this transaction.
    pub async fn append(&mut self, entry: NewEntry) -> Result<(), StoreError> {
        let e = Entry::chain(entry, self.head_seq, &self.head_hash, self.now);
        self.head_seq = e.seq;
        self.head_hash.clone_from(&e.hash);
        self.pending.push(e);
        self.appended += 1;
        if self.pending.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        dispatch!(&mut self.tx, t, DB => {
            for chunk in pending.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO ledger (seq, at, actor, action, subject, payload, prev_hash, hash) ",
                );
                qb.push_values(chunk, |mut b, e| {
                    b.push_bind(e.seq)
                        .push_bind(e.at)
                        .push_bind(e.actor.clone())
                        .push_bind(e.action.clone())
                        .push_bind(e.subject.clone())
                        .push_bind(e.payload.clone())
                        .push_bind(e.prev_hash.clone())
                        .push_bind(e.hash.clone());
                });
                qb.build().execute(&mut **t).await?;
            }
        });
        Ok(())
    }

    /// Inserts or replaces NHIs by id.
    pub async fn upsert_nhis(&mut self, nhis: &[Nhi]) -> Result<(), StoreError> {
        if nhis.is_empty() {
            return Ok(());
        }
        self.changed = true;
        let updates = NHI_COLUMNS
            .split(',')
            .map(str::trim)
            .filter(|c| *c != "id" && *c != "registered_at")
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        dispatch!(&mut self.tx, t, DB => {
            for chunk in nhis.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(format!("INSERT INTO nhis ({NHI_COLUMNS}) "));
                qb.push_values(chunk, |mut b, n| {
                    b.push_bind(n.id.0.clone())
                        .push_bind(n.kind.as_str())
                        .push_bind(n.provider.clone())
                        .push_bind(n.external_id.clone())
                        .push_bind(n.name.clone())
                        .push_bind(n.declaration.clone())
                        .push_bind(n.origin.as_str())
                        .push_bind(n.environment.as_str())
                        .push_bind(n.owner.as_ref().map(ToString::to_string))
                        .push_bind(n.backup_owner.as_ref().map(ToString::to_string))
                        .push_bind(n.purpose.clone())
                        .push_bind(Json(n.privilege_ceiling.clone()))
                        .push_bind(Json(n.observed_permissions.clone()))
                        .push_bind(n.created_at)
                        .push_bind(n.expires_at)
                        .push_bind(n.last_rotated_at)
                        .push_bind(n.last_used_at)
                        .push_bind(n.last_used_state.as_str())
                        .push_bind(n.last_reviewed_at)
                        .push_bind(n.review_every.map(|c| i32::try_from(c.days()).unwrap_or(i32::MAX)))
                        .push_bind(n.next_review_due)
                        .push_bind(n.status.as_str())
                        .push_bind(n.supplier.clone())
                        .push_bind(Json(n.tags.clone()))
                        .push_bind(n.registered_at)
                        .push_bind(n.updated_at);
                });
                qb.push(format!(" ON CONFLICT (id) DO UPDATE SET {updates}"));
                qb.build().execute(&mut **t).await.map_err(conflict)?;
            }
        });
        Ok(())
    }

    /// Inserts or replaces credentials by id.
    pub async fn upsert_credentials(&mut self, creds: &[Credential]) -> Result<(), StoreError> {
        if creds.is_empty() {
            return Ok(());
        }
        self.changed = true;
        let updates = CREDENTIAL_COLUMNS
            .split(',')
            .map(str::trim)
            .filter(|c| *c != "id")
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        dispatch!(&mut self.tx, t, DB => {
            for chunk in creds.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(format!("INSERT INTO credentials ({CREDENTIAL_COLUMNS}) "));
                qb.push_values(chunk, |mut b, c| {
                    b.push_bind(c.id.clone())
                        .push_bind(c.nhi_id.0.clone())
                        .push_bind(c.kind.as_str())
                        .push_bind(c.external_id.clone())
                        .push_bind(c.fingerprint.clone())
                        .push_bind(c.preview.clone())
                        .push_bind(c.status.as_str())
                        .push_bind(c.created_at)
                        .push_bind(c.expires_at)
                        .push_bind(c.last_rotated_at)
                        .push_bind(c.last_used_at)
                        .push_bind(c.last_used_state.as_str());
                });
                qb.push(format!(" ON CONFLICT (id) DO UPDATE SET {updates}"));
                qb.build().execute(&mut **t).await.map_err(conflict)?;
            }
        });
        Ok(())
    }

    /// Records what sources said, keeping each source's first-seen time.
    pub async fn upsert_observations(&mut self, obs: &[Observation]) -> Result<(), StoreError> {
        if obs.is_empty() {
            return Ok(());
        }
        self.changed = true;
        dispatch!(&mut self.tx, t, DB => {
            for chunk in obs.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO observations (nhi_id, source, connector, connector_version, locator, first_seen_at, last_seen_at) ",
                );
                qb.push_values(chunk, |mut b, o| {
                    b.push_bind(o.nhi_id.0.clone())
                        .push_bind(o.source.clone())
                        .push_bind(o.connector.clone())
                        .push_bind(o.connector_version.clone())
                        .push_bind(o.locator.clone())
                        .push_bind(o.first_seen_at)
                        .push_bind(o.last_seen_at);
                });
                qb.push(
                    " ON CONFLICT (nhi_id, source) DO UPDATE SET connector = excluded.connector, \
                     connector_version = excluded.connector_version, locator = excluded.locator, \
                     last_seen_at = excluded.last_seen_at",
                );
                qb.build().execute(&mut **t).await?;
            }
        });
        Ok(())
    }

    /// Inserts or replaces people by email.
    pub async fn upsert_people(&mut self, people: &[Person]) -> Result<(), StoreError> {
        if people.is_empty() {
            return Ok(());
        }
        self.changed = true;
        let now = self.now;
        dispatch!(&mut self.tx, t, DB => {
            for chunk in people.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO people (email, name, team, manager_email, status, departed_on, updated_at) ",
                );
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(p.email.clone())
                        .push_bind(p.name.clone())
                        .push_bind(p.team.clone())
                        .push_bind(p.manager_email.clone())
                        .push_bind(p.status.as_str())
                        .push_bind(p.departed_on.map(|d| d.format("%Y-%m-%d").to_string()))
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (email) DO UPDATE SET name = excluded.name, team = excluded.team, \
                     manager_email = excluded.manager_email, status = excluded.status, \
                     departed_on = excluded.departed_on, updated_at = excluded.updated_at",
                );
                qb.build().execute(&mut **t).await?;
            }
        });
        Ok(())
    }

    /// Records a run's provenance.
    pub async fn insert_run(&mut self, run: &RunRecord) -> Result<(), StoreError> {
        self.changed = true;
        dispatch!(&mut self.tx, t, _DB => {
            sqlx::query(
                "INSERT INTO runs (id, kind, connector, connector_version, actor, started_at, \
                 finished_at, inputs, parameters, counts) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(run.id.clone())
            .bind(run.kind.clone())
            .bind(run.connector.clone())
            .bind(run.connector_version.clone())
            .bind(run.actor.clone())
            .bind(run.started_at)
            .bind(run.finished_at)
            .bind(Json(run.inputs.clone()))
            .bind(Json(run.parameters.clone()))
            .bind(Json(run.counts.clone()))
            .execute(&mut **t)
            .await
            .map_err(conflict)?;
        });
        Ok(())
    }

    /// Records the installation's keys; fails if the store was initialised before.
    pub async fn insert_installation(
        &mut self,
        ledger_public_key: &str,
        fingerprint_key_id: &str,
        checkpoint_every: i64,
    ) -> Result<(), StoreError> {
        self.changed = true;
        let now = self.now;
        dispatch!(&mut self.tx, t, _DB => {
            sqlx::query(
                "INSERT INTO installation (id, created_at, ledger_public_key, fingerprint_key_id, checkpoint_every) \
                 VALUES (1, $1, $2, $3, $4)",
            )
            .bind(now)
            .bind(ledger_public_key.to_owned())
            .bind(fingerprint_key_id.to_owned())
            .bind(checkpoint_every)
            .execute(&mut **t)
            .await
            .map_err(conflict)?;
        });
        self.checkpoint_every = checkpoint_every;
        Ok(())
    }

    /// The NHIs governed by these declaration names.
    pub async fn nhis_by_declarations(&mut self, names: &[&str]) -> Result<Vec<Nhi>, StoreError> {
        let head = nhi_json_page(self.is_postgres());
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in names.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(&head);
                qb.push(" WHERE declaration IN (");
                let mut sep = qb.separated(", ");
                for n in chunk {
                    sep.push_bind((*n).to_owned());
                }
                qb.push(")").push(NHI_JSON_END);
                out.extend(nhi_page(qb.build_query_scalar().fetch_one(&mut **t).await?)?);
            }
        });
        Ok(out)
    }

    /// The NHIs with these `(provider, external_id)` pairs.
    pub async fn nhis_by_external_ids(
        &mut self,
        keys: &[(&str, &str)],
    ) -> Result<Vec<Nhi>, StoreError> {
        let head = nhi_json_page(self.is_postgres());
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in keys.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(&head);
                qb.push(" WHERE (provider, external_id) IN (");
                qb.push_values(chunk, |mut b, (p, e)| {
                    b.push_bind((*p).to_owned()).push_bind((*e).to_owned());
                });
                qb.push(")").push(NHI_JSON_END);
                out.extend(nhi_page(qb.build_query_scalar().fetch_one(&mut **t).await?)?);
            }
        });
        Ok(out)
    }

    /// The credentials held by these NHIs.
    pub async fn credentials_of_nhis(
        &mut self,
        ids: &[&str],
    ) -> Result<Vec<Credential>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in ids.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE nhi_id IN ("));
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind((*id).to_owned());
                }
                qb.push(")");
                for row in qb.build().fetch_all(&mut **t).await? {
                    out.push(credential_from_row!(&row));
                }
            }
        });
        Ok(out)
    }

    /// The people with these emails.
    pub async fn people_by_emails(&mut self, emails: &[&str]) -> Result<Vec<Person>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in emails.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT email, name, team, manager_email, status, departed_on FROM people WHERE email IN (",
                );
                let mut sep = qb.separated(", ");
                for e in chunk {
                    sep.push_bind((*e).to_owned());
                }
                qb.push(")");
                for row in qb.build().fetch_all(&mut **t).await? {
                    out.push(person_from_row!(&row));
                }
            }
        });
        Ok(out)
    }

    /// Signs a checkpoint at commit even if none is due.
    pub fn request_checkpoint(&mut self) {
        self.force_checkpoint = true;
    }

    /// Commits the change and its ledger entries, signing a checkpoint when one is due.
    pub async fn commit(mut self) -> Result<Committed, StoreError> {
        if self.changed && self.appended == 0 {
            return Err(StoreError::Unledgered);
        }
        self.flush().await?;
        let due = self.force_checkpoint
            || (self.appended > 0
                && (self.head_seq - self.checkpoint_seq >= self.checkpoint_every
                    || self
                        .checkpoint_at
                        .is_none_or(|at| self.now - at >= CHECKPOINT_MAX_AGE)));
        let checkpoint: Option<Checkpoint> = match (&self.signer, due) {
            (Some(key), true) if self.head_seq > self.checkpoint_seq => {
                Some(key.checkpoint(self.head_seq, &self.head_hash, self.now))
            }
            _ => None,
        };
        let (head_seq, head_hash) = (self.head_seq, self.head_hash.clone());
        let (cseq, cat) = checkpoint
            .as_ref()
            .map_or((self.checkpoint_seq, self.checkpoint_at), |c| {
                (c.seq, Some(c.at))
            });
        dispatch!(&mut self.tx, t, _DB => {
            if let Some(cp) = &checkpoint {
                sqlx::query(
                    "INSERT INTO ledger_checkpoints (seq, at, head_hash, public_key, signature) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(cp.seq)
                .bind(cp.at)
                .bind(cp.head_hash.clone())
                .bind(cp.public_key.clone())
                .bind(cp.signature.clone())
                .execute(&mut **t)
                .await?;
            }
            sqlx::query(
                "UPDATE ledger_head SET seq = $1, hash = $2, checkpoint_seq = $3, checkpoint_at = $4 WHERE id = 1",
            )
            .bind(head_seq)
            .bind(head_hash)
            .bind(cseq)
            .bind(cat)
            .execute(&mut **t)
            .await?;
        });
        match self.tx {
            Backend::Sqlite(t) => t.commit().await?,
            Backend::Postgres(t) => t.commit().await?,
        }
        Ok(Committed {
            entries: self.appended,
            head_seq,
            checkpoint: checkpoint.map(|c| c.seq),
        })
    }

    /// Abandons the change.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.tx {
            Backend::Sqlite(t) => t.rollback().await?,
            Backend::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}
