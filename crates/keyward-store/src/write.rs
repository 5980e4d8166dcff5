use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use keyward_ledger::{Checkpoint, Entry, LedgerKey, NewEntry};
use keyward_model::{Credential, CredentialLocation, Nhi, Observation, Person};
use sqlx::types::Json;

use crate::bulk::{Cell, Col, POSTGRES_PAGE, SQLITE_PAGE, Table, json_page, time_text};
use sqlx::Arguments;
use sqlx::sqlite::SqliteArguments;

use crate::read::RunRecord;
use crate::rows::{CREDENTIAL_COLUMNS, NHI_JSON_END, nhi_json_page, nhi_page};
use crate::store::Backend;
use crate::{Store, StoreError};

/// Keys per lookup statement: well under both backends' bind-parameter limits.
pub(crate) const BATCH: usize = 500;

const NHIS: Table = Table {
    name: "nhis",
    columns: &[
        ("id", Col::Text),
        ("kind", Col::Text),
        ("provider", Col::Text),
        ("external_id", Col::Text),
        ("name", Col::Text),
        ("declaration", Col::Text),
        ("origin", Col::Text),
        ("environment", Col::Text),
        ("owner", Col::Text),
        ("backup_owner", Col::Text),
        ("purpose", Col::Text),
        ("privilege_ceiling", Col::Json),
        ("observed_permissions", Col::Json),
        ("created_at", Col::Time),
        ("expires_at", Col::Time),
        ("last_rotated_at", Col::Time),
        ("last_used_at", Col::Time),
        ("last_used_state", Col::Text),
        ("last_reviewed_at", Col::Time),
        ("review_every_days", Col::Int),
        ("next_review_due", Col::Time),
        ("status", Col::Text),
        ("supplier", Col::Text),
        ("tags", Col::Json),
        ("registered_at", Col::Time),
        ("updated_at", Col::Time),
    ],
    key: "(id)",
    keep: &["registered_at"],
};

const CREDENTIALS: Table = Table {
    name: "credentials",
    columns: &[
        ("id", Col::Text),
        ("nhi_id", Col::Text),
        ("kind", Col::Text),
        ("external_id", Col::Text),
        ("fingerprint", Col::Text),
        ("preview", Col::Text),
        ("status", Col::Text),
        ("created_at", Col::Time),
        ("expires_at", Col::Time),
        ("last_rotated_at", Col::Time),
        ("last_used_at", Col::Time),
        ("last_used_state", Col::Text),
    ],
    key: "(id)",
    keep: &[],
};

const OBSERVATIONS: Table = Table {
    name: "observations",
    columns: &[
        ("nhi_id", Col::Text),
        ("source", Col::Text),
        ("connector", Col::Text),
        ("connector_version", Col::Text),
        ("locator", Col::Text),
        ("first_seen_at", Col::Time),
        ("last_seen_at", Col::Time),
        ("gone_at", Col::Time),
        ("facts", Col::Json),
    ],
    key: "(nhi_id, source)",
    keep: &["first_seen_at"],
};

const LOCATIONS: Table = Table {
    name: "credential_locations",
    columns: &[
        ("credential_id", Col::Text),
        ("location", Col::Text),
        ("source", Col::Text),
        ("repository", Col::Text),
        ("path", Col::Text),
        ("line", Col::Int),
        ("col", Col::Int),
        ("commit_id", Col::Text),
        ("author", Col::Text),
        ("committed_at", Col::Time),
        ("rule_id", Col::Text),
        ("first_seen_at", Col::Time),
        ("last_seen_at", Col::Time),
    ],
    key: "(credential_id, location)",
    keep: &["first_seen_at"],
};

const PEOPLE: Table = Table {
    name: "people",
    columns: &[
        ("email", Col::Text),
        ("name", Col::Text),
        ("team", Col::Text),
        ("manager_email", Col::Text),
        ("status", Col::Text),
        ("departed_on", Col::Text),
        ("updated_at", Col::Time),
    ],
    key: "(email)",
    keep: &[],
};

const LEDGER: Table = Table {
    name: "ledger",
    columns: &[
        ("seq", Col::Int),
        ("at", Col::Time),
        ("actor", Col::Text),
        ("action", Col::Text),
        ("subject", Col::Text),
        ("payload", Col::Text),
        ("prev_hash", Col::Text),
        ("hash", Col::Text),
    ],
    key: "",
    keep: &[],
};

/// Checkpoint at least this often even when few entries were appended.
const CHECKPOINT_MAX_AGE: Duration = Duration::hours(1);

pub(crate) type Tx =
    Backend<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Transaction<'static, sqlx::Postgres>>;

/// One transaction that changes the register and appends the ledger entries for the change.
///
/// It holds the ledger head lock from start to commit, so concurrent writers (other processes,
/// other servers on the same PostgreSQL) append one after another without gaps.
pub struct WriteTx {
    pub(crate) tx: Tx,
    now: DateTime<Utc>,
    head_seq: i64,
    head_hash: String,
    checkpoint_seq: i64,
    checkpoint_at: Option<DateTime<Utc>>,
    checkpoint_every: i64,
    pending: Vec<Entry>,
    appended: u64,
    pub(crate) changed: bool,
    force_checkpoint: bool,
    signer: Option<Arc<LedgerKey>>,
    /// Indexes dropped for a bulk write, as their `CREATE INDEX` statements, made again before
    /// the commit.
    deferred_indexes: Vec<String>,
    /// A load's own SQLite connection ([`Store::begin_load`]): closed when this ends, after
    /// putting the file back in write-ahead-log mode.
    pub(crate) load: Option<crate::load::LoadPool>,
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

/// `head WHERE (provider, external_id) IN (…keys…)` and the end of an NHI page.
pub(crate) fn by_external_ids<'a, DB: sqlx::Database>(
    head: &str,
    keys: &[(&str, &str)],
) -> sqlx::QueryBuilder<'a, DB>
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut qb = sqlx::QueryBuilder::<DB>::new(head);
    qb.push(" WHERE (provider, external_id) IN (");
    qb.push_values(keys, |mut b, (p, e)| {
        b.push_bind((*p).to_owned()).push_bind((*e).to_owned());
    });
    qb.push(")").push(NHI_JSON_END);
    qb
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
        let tx = match &self.pool {
            Backend::Sqlite(p) => Backend::Sqlite(p.begin().await?),
            Backend::Postgres(p) => Backend::Postgres(p.begin().await?),
        };
        self.write_in(tx, now).await
    }

    /// A write in the transaction `tx`, just begun on one of this store's connections.
    pub(crate) async fn write_in(
        &self,
        mut tx: Tx,
        now: DateTime<Utc>,
    ) -> Result<WriteTx, StoreError> {
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
            deferred_indexes: Vec::new(),
            load: None,
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
        bulk(&mut self.tx, &LEDGER, pending, false, ledger_row).await
    }

    /// Writes `items` into `table` a page at a time, each row's cells made by `row` in the
    /// table's column order; `upsert` replaces rows whose key exists instead of failing.
    async fn bulk<T>(
        &mut self,
        table: &Table,
        items: &[T],
        upsert: bool,
        row: impl for<'r> Fn(&'r T) -> Result<Vec<Cell<'r>>, StoreError>,
    ) -> Result<(), StoreError> {
        bulk(&mut self.tx, table, items, upsert, &row).await
    }

    /// Appends ledger entries for many changes at once: each page of entries is chained here
    /// while the database writes the page before it. Stops at the first error.
    pub async fn append_all<E, I>(&mut self, entries: I) -> Result<(), E>
    where
        E: From<StoreError>,
        I: IntoIterator<Item = Result<NewEntry, E>>,
    {
        self.flush().await?;
        let page = if self.is_postgres() {
            POSTGRES_PAGE
        } else {
            SQLITE_PAGE
        };
        let mut entries = entries.into_iter();
        let (mut seq, mut hash, now) = (self.head_seq, self.head_hash.clone(), self.now);
        let mut chain = || -> Result<Vec<Entry>, E> {
            let mut out = Vec::with_capacity(page);
            for e in entries.by_ref().take(page) {
                let e = Entry::chain(e?, seq, &hash, now);
                seq = e.seq;
                hash.clone_from(&e.hash);
                out.push(e);
            }
            Ok(out)
        };
        let mut current = chain()?;
        while let Some(last) = current.last() {
            let (count, last_seq, last_hash) = (current.len(), last.seq, last.hash.clone());
            let (written, next) = futures_util::future::join(
                bulk(&mut self.tx, &LEDGER, current, false, ledger_row),
                async { chain() },
            )
            .await;
            written?;
            self.appended += count as u64;
            self.head_seq = last_seq;
            self.head_hash = last_hash;
            current = next?;
        }
        Ok(())
    }
}

/// An entry's row; its text moves into the statement (a payload is most of a row's bytes).
fn ledger_row(e: Entry) -> Result<Vec<Cell<'static>>, StoreError> {
    Ok(vec![
        Cell::Int(Some(e.seq)),
        Cell::Time(Some(e.at)),
        Cell::Owned(Some(e.actor)),
        Cell::Owned(Some(e.action)),
        Cell::Owned(Some(e.subject)),
        Cell::Owned(Some(e.payload)),
        Cell::Owned(Some(e.prev_hash)),
        Cell::Owned(Some(e.hash)),
    ])
}

/// See [`WriteTx::bulk`]; a function of the transaction alone, so other fields of the
/// [`WriteTx`] stay usable while it runs. Rows are made from `items` by value: cells that own
/// their text move into the statement's arguments without a copy.
pub(crate) async fn bulk<'a, T, I>(
    tx: &mut Tx,
    table: &Table,
    items: I,
    upsert: bool,
    row: impl Fn(T) -> Result<Vec<Cell<'a>>, StoreError>,
) -> Result<(), StoreError>
where
    I: IntoIterator<Item = T>,
    I::IntoIter: ExactSizeIterator,
{
    let mut items = items.into_iter();
    let total = items.len();
    if total == 0 {
        return Ok(());
    }
    match tx {
        Backend::Sqlite(t) => {
            // One statement text per page size, so the driver prepares it once per connection.
            let full = SQLITE_PAGE.min(total);
            let full_sql = table.sqlite_insert(full, upsert);
            let mut bind = || -> Result<Option<(usize, SqliteArguments<'a>)>, StoreError> {
                let mut args = SqliteArguments::default();
                args.reserve(SQLITE_PAGE.min(items.len()) * table.columns.len(), 0);
                let mut rows = 0;
                for item in items.by_ref().take(SQLITE_PAGE) {
                    rows += 1;
                    for cell in row(item)? {
                        match cell {
                            Cell::Text(v) => args.add(v),
                            Cell::Owned(v) => args.add(v),
                            Cell::Int(v) => args.add(v),
                            Cell::Time(v) => args.add(v.map(time_text)),
                            Cell::Json(v) => args.add(v),
                        }
                        .map_err(|e| StoreError::corrupt("bulk rows", e))?;
                    }
                }
                Ok((rows > 0).then_some((rows, args)))
            };
            let mut next = bind()?;
            while let Some((rows, args)) = next.take() {
                let short = (rows != full).then(|| table.sqlite_insert(rows, upsert));
                let sql = short.as_deref().unwrap_or(&full_sql);
                // SQLite's worker thread runs this page while the next one is bound here.
                let (done, built) = futures_util::future::join(
                    sqlx::query_with(sql, args).execute(&mut **t),
                    async { bind() },
                )
                .await;
                done.map_err(conflict)?;
                next = built?;
            }
        }
        Backend::Postgres(t) => {
            let sql = table.postgres_insert(upsert);
            loop {
                let rows = items
                    .by_ref()
                    .take(POSTGRES_PAGE)
                    .map(&row)
                    .collect::<Result<Vec<_>, _>>()?;
                if rows.is_empty() {
                    break;
                }
                sqlx::query(&sql)
                    .bind(json_page(&rows)?)
                    .execute(&mut **t)
                    .await
                    .map_err(conflict)?;
            }
        }
    }
    Ok(())
}

impl WriteTx {
    /// Inserts NHIs that are not registered yet (faster than [`Self::upsert_nhis`]; an id
    /// already present is a conflict).
    pub async fn insert_nhis(&mut self, nhis: &[Nhi]) -> Result<(), StoreError> {
        self.write_nhis(nhis, false).await
    }

    /// Records where credentials were seen, keeping each location's first sighting.
    pub async fn upsert_locations(
        &mut self,
        locations: &[CredentialLocation],
    ) -> Result<(), StoreError> {
        self.changed |= !locations.is_empty();
        self.bulk(&LOCATIONS, locations, true, |l| {
            Ok(vec![
                Cell::Text(Some(&l.credential_id)),
                Cell::Owned(Some(l.key())),
                Cell::Text(Some(l.source.as_str())),
                Cell::Text(Some(&l.repository)),
                Cell::Text(Some(&l.path)),
                Cell::Int(Some(i64::from(l.line))),
                Cell::Int(Some(i64::from(l.column))),
                Cell::Text(l.commit.as_deref()),
                Cell::Text(l.author.as_deref()),
                Cell::Time(l.committed_at),
                Cell::Text(Some(&l.rule_id)),
                Cell::Time(Some(l.first_seen_at)),
                Cell::Time(Some(l.last_seen_at)),
            ])
        })
        .await
    }

    /// The credentials with these fingerprints.
    pub async fn credentials_by_fingerprints(
        &mut self,
        fingerprints: &[&str],
    ) -> Result<Vec<Credential>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in fingerprints.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE fingerprint IN ("
                ));
                crate::bulk::push_list(&mut qb, chunk);
                for row in qb.build().fetch_all(&mut **t).await? {
                    out.push(credential_from_row!(&row));
                }
            }
        });
        Ok(out)
    }

    /// Every credential known by a non-secret identifier (an access key id), to match against
    /// identifiers a scan finds.
    pub async fn credentials_with_external_ids(&mut self) -> Result<Vec<Credential>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, _DB => {
            let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE external_id IS NOT NULL ORDER BY id");
            for row in sqlx::query(&sql).fetch_all(&mut **t).await? {
                out.push(credential_from_row!(&row));
            }
        });
        Ok(out)
    }

    /// The location keys already recorded for these credentials.
    pub async fn location_keys(
        &mut self,
        credential_ids: &[&str],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in credential_ids.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT credential_id, location FROM credential_locations WHERE credential_id IN (",
                );
                crate::bulk::push_list(&mut qb, chunk);
                let rows: Vec<(String, String)> = qb.build_query_as().fetch_all(&mut **t).await?;
                out.extend(rows);
            }
        });
        Ok(out)
    }

    /// Inserts or replaces NHIs by id.
    pub async fn upsert_nhis(&mut self, nhis: &[Nhi]) -> Result<(), StoreError> {
        self.write_nhis(nhis, true).await
    }

    async fn write_nhis(&mut self, nhis: &[Nhi], upsert: bool) -> Result<(), StoreError> {
        self.changed |= !nhis.is_empty();
        self.bulk(&NHIS, nhis, upsert, |n| {
            Ok(vec![
                Cell::Text(Some(&n.id.0)),
                Cell::Text(Some(n.kind.as_str())),
                Cell::Text(Some(&n.provider)),
                Cell::Text(n.external_id.as_deref()),
                Cell::Text(Some(&n.name)),
                Cell::Text(n.declaration.as_deref()),
                Cell::Text(Some(n.origin.as_str())),
                Cell::Text(Some(n.environment.as_str())),
                Cell::Owned(n.owner.as_ref().map(ToString::to_string)),
                Cell::Owned(n.backup_owner.as_ref().map(ToString::to_string)),
                Cell::Text(n.purpose.as_deref()),
                Cell::json(&n.privilege_ceiling)?,
                Cell::json(&n.observed_permissions)?,
                Cell::Time(n.created_at),
                Cell::Time(n.expires_at),
                Cell::Time(n.last_rotated_at),
                Cell::Time(n.last_used_at),
                Cell::Text(Some(n.last_used_state.as_str())),
                Cell::Time(n.last_reviewed_at),
                Cell::Int(n.review_every.map(|c| i64::from(c.days()))),
                Cell::Time(n.next_review_due),
                Cell::Text(Some(n.status.as_str())),
                Cell::Text(n.supplier.as_deref()),
                Cell::json(&n.tags)?,
                Cell::Time(Some(n.registered_at)),
                Cell::Time(Some(n.updated_at)),
            ])
        })
        .await
    }

    /// Inserts or replaces credentials by id.
    pub async fn upsert_credentials(&mut self, creds: &[Credential]) -> Result<(), StoreError> {
        self.changed |= !creds.is_empty();
        self.bulk(&CREDENTIALS, creds, true, |c| {
            Ok(vec![
                Cell::Text(Some(&c.id)),
                Cell::Text(Some(&c.nhi_id.0)),
                Cell::Text(Some(c.kind.as_str())),
                Cell::Text(c.external_id.as_deref()),
                Cell::Text(c.fingerprint.as_deref()),
                Cell::Text(c.preview.as_deref()),
                Cell::Text(Some(c.status.as_str())),
                Cell::Time(c.created_at),
                Cell::Time(c.expires_at),
                Cell::Time(c.last_rotated_at),
                Cell::Time(c.last_used_at),
                Cell::Text(Some(c.last_used_state.as_str())),
            ])
        })
        .await
    }

    /// Records what sources said, keeping each source's first-seen time.
    pub async fn upsert_observations(&mut self, obs: &[Observation]) -> Result<(), StoreError> {
        self.write_observations(obs, true).await
    }

    /// Records observations of NHIs that have none from these sources yet (faster than
    /// [`Self::upsert_observations`]; an existing one is a conflict).
    pub async fn insert_observations(&mut self, obs: &[Observation]) -> Result<(), StoreError> {
        self.write_observations(obs, false).await
    }

    async fn write_observations(
        &mut self,
        obs: &[Observation],
        upsert: bool,
    ) -> Result<(), StoreError> {
        self.changed |= !obs.is_empty();
        self.bulk(&OBSERVATIONS, obs, upsert, |o| {
            Ok(vec![
                Cell::Text(Some(&o.nhi_id.0)),
                Cell::Text(Some(&o.source)),
                Cell::Text(Some(&o.connector)),
                Cell::Text(Some(&o.connector_version)),
                Cell::Text(Some(&o.locator)),
                Cell::Time(Some(o.first_seen_at)),
                Cell::Time(Some(o.last_seen_at)),
                Cell::Time(o.gone_at),
                Cell::json(&o.facts)?,
            ])
        })
        .await
    }

    /// Inserts or replaces people by email.
    pub async fn upsert_people(&mut self, people: &[Person]) -> Result<(), StoreError> {
        self.changed |= !people.is_empty();
        let now = self.now;
        self.bulk(&PEOPLE, people, true, |p| {
            Ok(vec![
                Cell::Text(Some(&p.email)),
                Cell::Text(Some(&p.name)),
                Cell::Text(p.team.as_deref()),
                Cell::Text(p.manager_email.as_deref()),
                Cell::Text(Some(p.status.as_str())),
                Cell::Owned(p.departed_on.map(|d| d.format("%Y-%m-%d").to_string())),
                Cell::Time(Some(now)),
            ])
        })
        .await
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

    /// The NHIs with these `(provider, external_id)` pairs, as this transaction sees them.
    pub async fn nhis_by_external_ids(
        &mut self,
        keys: &[(&str, &str)],
    ) -> Result<Vec<Nhi>, StoreError> {
        let head = nhi_json_page(self.is_postgres());
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in keys.chunks(BATCH) {
                let json = by_external_ids::<DB>(&head, chunk).build_query_scalar().fetch_one(&mut **t).await?;
                out.extend(nhi_page(json)?);
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
                crate::bulk::push_list(&mut qb, chunk);
                for row in qb.build().fetch_all(&mut **t).await? {
                    out.push(credential_from_row!(&row));
                }
            }
        });
        Ok(out)
    }

    /// Every observation one source holds over one scope (its locator), gone ones included:
    /// what a complete run compares against to mark identities no longer seen.
    pub async fn observations_in_scope(
        &mut self,
        source: &str,
        locator: &str,
    ) -> Result<Vec<Observation>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, _DB => {
            let sql = format!(
                "SELECT {} FROM observations WHERE source = $1 AND locator = $2 ORDER BY nhi_id",
                crate::rows::OBSERVATION_COLUMNS
            );
            let rows = sqlx::query(&sql)
            .bind(source.to_owned())
            .bind(locator.to_owned())
            .fetch_all(&mut **t)
            .await?;
            for r in rows {
                out.push(observation_from_row!(&r));
            }
        });
        Ok(out)
    }

    /// What one source says about each of these NHIs, in whatever scope.
    pub async fn observations_of_nhis(
        &mut self,
        source: &str,
        ids: &[&str],
    ) -> Result<Vec<Observation>, StoreError> {
        let mut out = Vec::new();
        dispatch!(&mut self.tx, t, DB => {
            for chunk in ids.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                    "SELECT {} FROM observations WHERE source = ",
                    crate::rows::OBSERVATION_COLUMNS
                ));
                qb.push_bind(source.to_owned());
                qb.push(" AND nhi_id IN (");
                crate::bulk::push_list(&mut qb, chunk);
                for row in qb.build().fetch_all(&mut **t).await? {
                    out.push(observation_from_row!(&row));
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
                crate::bulk::push_list(&mut qb, chunk);
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

    /// Drops, until this transaction commits, the secondary indexes (not those of a primary
    /// key or a unique constraint, which the writes still check) of each of `tables` that holds
    /// at most `rows` rows; the commit builds them again.
    ///
    /// For a bulk write into a table that is small next to the write: SQLite builds an index
    /// from sorted keys in a fraction of the time it takes to insert the same keys one by one
    /// in random order (100,000 declarations applied to an empty register: 2.7 s with its five
    /// secondary indexes kept, 2.15 s without them, 0.3 s to build them afterwards). Rebuilding
    /// reads the whole table, so a table already larger than the write keeps its indexes.
    /// Schema changes are transactional: a rollback leaves the indexes as they were, and
    /// other connections see them throughout. PostgreSQL keeps its indexes (a no-op).
    /// Returns how many indexes were dropped.
    pub async fn defer_indexes(&mut self, tables: &[&str], rows: u64) -> Result<usize, StoreError> {
        let before = self.deferred_indexes.len();
        let Backend::Sqlite(t) = &mut self.tx else {
            return Ok(0);
        };
        for table in tables {
            let held: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM \"{table}\" LIMIT {})",
                rows.saturating_add(1)
            ))
            .fetch_one(&mut **t)
            .await?;
            if u64::try_from(held).unwrap_or(u64::MAX) > rows {
                continue;
            }
            // Indexes made by CREATE INDEX (origin `c`) without UNIQUE; their SQL rebuilds them.
            let indexes: Vec<(String, String)> = sqlx::query_as(
                "SELECT l.name, s.sql FROM pragma_index_list(?1) AS l \
                 JOIN sqlite_schema AS s ON s.type = 'index' AND s.name = l.name \
                 WHERE l.origin = 'c' AND l.\"unique\" = 0 AND s.sql IS NOT NULL ORDER BY l.name",
            )
            .bind(*table)
            .fetch_all(&mut **t)
            .await?;
            for (name, sql) in indexes {
                sqlx::query(&format!("DROP INDEX \"{name}\""))
                    .execute(&mut **t)
                    .await?;
                self.deferred_indexes.push(sql);
            }
        }
        Ok(self.deferred_indexes.len() - before)
    }

    /// Commits the change and its ledger entries, signing a checkpoint when one is due.
    pub async fn commit(mut self) -> Result<Committed, StoreError> {
        if self.changed && self.appended == 0 {
            return Err(StoreError::Unledgered);
        }
        self.flush().await?;
        if let Backend::Sqlite(t) = &mut self.tx {
            for sql in std::mem::take(&mut self.deferred_indexes) {
                sqlx::query(&sql).execute(&mut **t).await?;
            }
        }
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
        let load = self.load.take();
        let done = match self.tx {
            Backend::Sqlite(t) => t.commit().await,
            Backend::Postgres(t) => t.commit().await,
        };
        crate::load::end(load).await;
        done?;
        Ok(Committed {
            entries: self.appended,
            head_seq,
            checkpoint: checkpoint.map(|c| c.seq),
        })
    }

    /// Abandons the change.
    pub async fn rollback(mut self) -> Result<(), StoreError> {
        let load = self.load.take();
        let done = match self.tx {
            Backend::Sqlite(t) => t.rollback().await,
            Backend::Postgres(t) => t.rollback().await,
        };
        crate::load::end(load).await;
        Ok(done?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::NHI_COLUMNS;

    fn normalised(list: &str) -> String {
        list.split(',')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(", ")
    }

    #[test]
    fn bulk_columns_match_the_read_columns() {
        assert_eq!(NHIS.column_list(), normalised(NHI_COLUMNS));
        assert_eq!(CREDENTIALS.column_list(), normalised(CREDENTIAL_COLUMNS));
    }
}
