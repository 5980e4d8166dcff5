//! The first load of a register: one write into a store that holds no NHI yet.
//!
//! On SQLite such a load may leave the write-ahead log aside. Through the log, every page of a
//! large load is written twice: into the log as the transaction runs, then into the database
//! file by the checkpoint after the commit, which reads the log back to do it. Under a rollback
//! journal, pages added past the end of the file are written once and need no journal (there
//! is nothing to restore), so a load into a small file writes little more than the file itself.
//! The price is that other connections cannot read while the load writes, which costs nothing
//! when there is nothing to read yet; and SQLite leaves the log only when no other connection
//! has the file open.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::store::Backend;
use crate::{Store, StoreError, WriteTx};

/// A load's own connection to a SQLite file (a pool of one, so its transaction is `'static`
/// like any other), and whether the file left write-ahead-log mode for it.
pub(crate) struct LoadPool {
    pool: SqlitePool,
    direct: bool,
}

/// Whether the register holds any NHI.
const HOLDS_NHIS: &str = "SELECT EXISTS (SELECT 1 FROM nhis)";

/// How long a load waits for the store's other connections to come back idle (a connection
/// returns to its pool shortly after its query ends) before it writes through the log.
const SETTLE: Duration = Duration::from_millis(100);

impl Store {
    /// Starts the write that loads a register holding no NHI; `None` when it holds any (begin
    /// an ordinary [`Store::begin_write`] then). The write lock is held from here, so no other
    /// writer can add an NHI before this commits: the caller has nothing to look up.
    ///
    /// On SQLite, when no other connection has the file open, the load writes the database
    /// file directly under a rollback journal, without the write-ahead log (see the module
    /// notes; [`WriteTx::writes_directly`] says which). This store's idle connections are
    /// closed for it. Others who open the store meanwhile wait for the load to end, as long
    /// as they would wait for any write lock; its commit or rollback puts the file back in
    /// write-ahead-log mode (so does any later open, after a crash). With other connections
    /// open, the load goes through the log like any write. PostgreSQL loads as any write.
    pub async fn begin_load(&self, now: DateTime<Utc>) -> Result<Option<WriteTx>, StoreError> {
        if self.holds_nhis().await? {
            return Ok(None);
        }
        let mut tx = match &self.pool {
            Backend::Sqlite(p) => match load_pool(p).await? {
                Some(pool) => match self.write_on(&pool, now).await {
                    Ok((mut tx, direct)) => {
                        tx.load = Some(LoadPool { pool, direct });
                        tx
                    }
                    Err(e) => {
                        end(Some(LoadPool {
                            pool,
                            direct: false,
                        }))
                        .await;
                        return Err(e);
                    }
                },
                None => self.begin_write(now).await?,
            },
            Backend::Postgres(_) => self.begin_write(now).await?,
        };
        // Another writer may have committed between the look and the lock.
        if tx.holds_nhis().await? {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some(tx))
    }

    /// A write on a load's own connection, and whether that connection writes the file
    /// directly (what SQLite reports, not what was asked of it).
    async fn write_on(
        &self,
        pool: &SqlitePool,
        now: DateTime<Utc>,
    ) -> Result<(WriteTx, bool), StoreError> {
        let mut begun = pool.begin().await?;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *begun)
            .await?;
        let tx = self.write_in(Backend::Sqlite(begun), now).await?;
        Ok((tx, !mode.eq_ignore_ascii_case("wal")))
    }

    /// Whether the register holds any NHI, as last committed.
    pub async fn holds_nhis(&self) -> Result<bool, StoreError> {
        Ok(dispatch!(&self.pool, p, _DB => {
            let held: bool = sqlx::query_scalar(HOLDS_NHIS)
                .fetch_one(p)
                .await?;
            held
        }))
    }
}

impl WriteTx {
    /// Whether the register holds any NHI, as this transaction sees it.
    pub async fn holds_nhis(&mut self) -> Result<bool, StoreError> {
        Ok(dispatch!(&mut self.tx, t, _DB => {
            let held: bool = sqlx::query_scalar(HOLDS_NHIS)
                .fetch_one(&mut **t)
                .await?;
            held
        }))
    }

    /// Whether this write goes into the SQLite file directly, under a rollback journal, rather
    /// than through the write-ahead log ([`Store::begin_load`]).
    pub fn writes_directly(&self) -> bool {
        self.load.as_ref().is_some_and(|l| l.direct)
    }
}

/// Closes `pool`'s idle connections, then opens a connection of its own that takes the file
/// out of write-ahead-log mode, syncing as a rollback journal needs (`FULL`: the journal is on
/// disk before the file is written). `None` when another connection has the file open: one of
/// `pool`'s still in use, or any other's (SQLite then refuses the change at once, without
/// waiting).
async fn load_pool(pool: &SqlitePool) -> Result<Option<SqlitePool>, StoreError> {
    let deadline = Instant::now() + SETTLE;
    while pool.size() > 0 && Instant::now() < deadline {
        match pool.try_acquire() {
            Some(idle) => idle.close().await?,
            None => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
    if pool.size() > 0 {
        return Ok(None);
    }
    let options = (*pool.connect_options())
        .clone()
        .journal_mode(SqliteJournalMode::Delete)
        .synchronous(SqliteSynchronous::Full);
    match SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
    {
        Ok(load) => Ok(Some(load)),
        Err(sqlx::Error::Database(e)) if crate::store::is_busy(e.as_ref()) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// After a load's transaction ends: the file back in write-ahead-log mode, and the load's
/// connection closed. Best effort: the load has ended either way, and every open of the store
/// makes the same change.
pub(crate) async fn end(load: Option<LoadPool>) {
    let Some(LoadPool { pool, .. }) = load else {
        return;
    };
    // On the pool's one connection, once the ended transaction has handed it back.
    let _ = crate::store::enter_wal(&pool).await;
    pool.close().await;
}
