//! Test support: the backends a conformance test runs against.
//!
//! Always a fresh SQLite file; also a fresh PostgreSQL database when
//! `KEYWARD_TEST_DATABASE_URL` points at a server (CI starts one with `.ci/postgres.sh`). Under
//! `CI=true` a missing PostgreSQL is a failure, never a silent skip.
#![expect(clippy::panic, reason = "test support: failing loudly is the point")]

use std::path::PathBuf;

use sqlx::Connection;

use crate::Location;

/// A store location for one test, and what keeps it alive.
#[derive(Debug)]
pub struct TestStore {
    /// Where the store is.
    pub location: Location,
    /// A directory for the test's files (the SQLite file, the key file).
    pub dir: tempfile::TempDir,
}

impl TestStore {
    /// A fresh SQLite store, in a directory of its own; `None` when no directory can be made.
    pub fn sqlite() -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        Some(Self {
            location: Location::Sqlite(dir.path().join("keyward.db")),
            dir,
        })
    }

    /// A path for a file of this test.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Which backend, for assertion messages.
    pub fn backend(&self) -> &'static str {
        match self.location {
            Location::Sqlite(_) => "sqlite",
            Location::Postgres(_) => "postgres",
        }
    }
}

/// Fresh, empty stores on every backend available.
pub async fn backends() -> Vec<TestStore> {
    let mut out: Vec<TestStore> = TestStore::sqlite().into_iter().collect();
    match std::env::var("KEYWARD_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            if let Some(s) = postgres(&url).await {
                out.push(s);
            }
        }
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !ci,
                "CI=true but KEYWARD_TEST_DATABASE_URL is not set: the PostgreSQL conformance run cannot be skipped"
            );
            // Once per test binary, and past the test harness's capture of `eprintln!`, which
            // would show it only for a failing test: a passing run says what it skipped.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "note: PostgreSQL conformance skipped: set KEYWARD_TEST_DATABASE_URL (see .ci/postgres.sh)"
                );
            });
        }
    }
    out
}

async fn postgres(admin_url: &str) -> Option<TestStore> {
    let name = format!(
        "keyward_test_{}",
        uuid_like(std::process::id(), std::time::SystemTime::now())
    );
    let mut conn = match sqlx::PgConnection::connect(admin_url).await {
        Ok(c) => c,
        Err(e) => panic!("KEYWARD_TEST_DATABASE_URL is set but unreachable: {e}"),
    };
    drop_abandoned(&mut conn).await;
    if let Err(e) = sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
    {
        panic!("cannot create test database {name}: {e}");
    }
    let _ = conn.close().await;
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    let dir = tempfile::tempdir().ok()?;
    Some(TestStore {
        location: Location::Postgres(format!("{base}/{name}")),
        dir,
    })
}

/// Drops the test databases of test processes that are no longer running, so a developer's
/// server does not collect one database per test run. Best effort: a database another process
/// still uses is left alone.
async fn drop_abandoned(conn: &mut sqlx::PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'keyward\\_test\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name
            .strip_prefix("keyward_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|p| p.parse::<u32>().ok());
        let running = pid.is_none_or(|p| {
            p == std::process::id() || std::path::Path::new(&format!("/proc/{p}")).exists()
        });
        if !running {
            let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut *conn)
                .await;
        }
    }
}

fn uuid_like(pid: u32, t: std::time::SystemTime) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{pid}_{nanos}_{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Pairs of text a query returns, read on a connection of its own (what any other reader of
/// the store sees), for asserting on raw rows.
pub async fn query_pairs(location: &Location, sql: &str) -> Vec<(String, String)> {
    let rows = match location {
        Location::Sqlite(p) => {
            let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(p);
            match sqlx::SqlitePool::connect_with(opts).await {
                Ok(pool) => {
                    let rows = sqlx::query_as(sql).fetch_all(&pool).await;
                    pool.close().await;
                    rows
                }
                Err(e) => Err(e),
            }
        }
        Location::Postgres(url) => match sqlx::PgPool::connect(url).await {
            Ok(pool) => {
                let rows = sqlx::query_as(sql).fetch_all(&pool).await;
                pool.close().await;
                rows
            }
            Err(e) => Err(e),
        },
    };
    rows.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The journal mode of a SQLite store's file (`wal` between writes), read on a connection of
/// its own.
pub async fn journal_mode(location: &Location) -> String {
    query_pairs(
        location,
        "SELECT 'mode', journal_mode FROM pragma_journal_mode",
    )
    .await
    .remove(0)
    .1
}
