use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use keyward_ledger::LedgerKey;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::{Location, StoreError};

/// A value per backend; see `dispatch!`.
#[derive(Debug, Clone)]
pub(crate) enum Backend<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// An open store.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Backend<SqlitePool, PgPool>,
    pub(crate) location: Location,
    pub(crate) signer: Option<Arc<LedgerKey>>,
}

/// How long a SQLite connection waits for another's lock before it gives up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Puts a SQLite file in write-ahead-log mode (it stays so; a no-op after the first time). The
/// change needs a moment with the file to itself and SQLite does not wait for one, so while a
/// load has the file out of the log this retries, as long as a write would wait for its lock.
pub(crate) async fn enter_wal(pool: &SqlitePool) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(2);
    loop {
        match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL")
            .fetch_one(pool)
            .await
        {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::Database(e))
                if is_busy(e.as_ref()) && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `SQLITE_BUSY`, in any of its extended forms.
pub(crate) fn is_busy(e: &dyn sqlx::error::DatabaseError) -> bool {
    e.code()
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 5)
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the store and brings its schema up to date. A SQLite file is created only when
    /// `create` is set, so a mistyped path is an error rather than a new empty register.
    pub async fn open(location: &Location, create: bool) -> Result<Self, StoreError> {
        let pool = match location {
            Location::Sqlite(path) => {
                if !create && !path.exists() {
                    return Err(StoreError::Uninitialised(location.redacted()));
                }
                let opts = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(create)
                    // Write-ahead-log mode is set once below, not by every connection: a
                    // connection opened while a load has the file out of it (see
                    // `Store::begin_load`) reads as the file says once the load ends.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(BUSY_TIMEOUT)
                    // Large pages: a 100,000-NHI apply makes 18,000 write calls instead of 157,000
                    // with 4 KiB pages (and took 30% less time); takes effect when the file is made.
                    .page_size(32768)
                    .pragma("cache_size", "-65536")
                    .pragma("temp_store", "memory")
                    .pragma("mmap_size", "268435456") // reads without a system call per page
                    // Rows cross from the SQLite worker thread in this many at a time; the default
                    // of 50 makes streaming large lists pay a thread wake-up every few rows.
                    .row_buffer_size(4096);
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(opts)
                    .await?;
                enter_wal(&pool).await?;
                SQLITE_MIGRATIONS.run(&pool).await?;
                Backend::Sqlite(pool)
            }
            Location::Postgres(url) => {
                let opts = PgConnectOptions::from_str(url)?.application_name("keyward");
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?;
                POSTGRES_MIGRATIONS.run(&pool).await?;
                Backend::Postgres(pool)
            }
        };
        Ok(Self {
            pool,
            location: location.clone(),
            signer: None,
        })
    }

    /// The same store, signing checkpoints with `key` when writes reach a checkpoint.
    pub fn with_signer(mut self, key: LedgerKey) -> Self {
        self.signer = Some(Arc::new(key));
        self
    }

    /// Where the store lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Flushes a SQLite store's write-ahead log to disk in the background while the result
    /// lives (see [`crate::BackgroundFlush`]); `None` for PostgreSQL.
    pub fn flush_in_background(&self) -> Option<crate::BackgroundFlush> {
        match &self.location {
            Location::Sqlite(path) => Some(crate::BackgroundFlush::start(path)),
            Location::Postgres(_) => None,
        }
    }

    /// Closes every connection, checkpointing SQLite's write-ahead log.
    pub async fn close(&self) {
        dispatch!(&self.pool, p, _DB => p.close().await);
    }

    /// Runs raw SQL; for tests that need to act as an attacker with database access.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(dispatch!(&self.pool, p, _DB => sqlx::raw_sql(sql).execute(p).await?.rows_affected()))
    }

    /// Whether this is the PostgreSQL backend.
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Backend::Postgres(_))
    }
}
