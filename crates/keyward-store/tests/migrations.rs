//! Migrations carry an existing register forward: a store written by an earlier schema opens
//! under the current one with its rows intact, on SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::path::Path;

use keyward_store::testing::{TestStore, backends, query_pairs};
use keyward_store::{Location, Store};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{PgPool, SqlitePool};

const NHI: &str = "nhi_0190a3b4c5d6e7f8a9b0c1d2e3f4a5b6";

/// Rows as a store at schema 0004 held them: finding ids were digests then.
const AT_0004: &str = "
INSERT INTO nhis (id, kind, provider, name, origin, environment, privilege_ceiling,
    observed_permissions, last_used_state, status, tags, registered_at, updated_at)
VALUES ('nhi_0190a3b4c5d6e7f8a9b0c1d2e3f4a5b6', 'iam_user', 'aws', 'ci-deployer', 'discovered',
    'production', '[]', '[]', 'unknown', 'active', '{}', '2026-11-01T00:00:00Z',
    '2026-11-01T00:00:00Z');
INSERT INTO findings (id, check_id, nhi_id, state, severity, evidence, evidence_digest,
    opened_at, reopened_at, reopen_count, resolved_at, last_seen_at)
VALUES ('fnd_5d4806ccc40db364b4c11b37', 'admin-permissions', 'nhi_0190a3b4c5d6e7f8a9b0c1d2e3f4a5b6',
    'open', 'critical', '{\"message\": \"admin\"}', '0123456789abcdef', '2026-11-02T00:00:00Z',
    NULL, 0, NULL, '2026-11-03T00:00:00Z'),
    ('fnd_aaaaaaaaaaaaaaaaaaaaaaaa', 'no-owner', 'nhi_0190a3b4c5d6e7f8a9b0c1d2e3f4a5b6',
    'resolved', 'high', '{\"message\": \"no owner\"}', 'fedcba9876543210', '2026-11-02T00:00:00Z',
    NULL, 0, '2026-11-03T00:00:00Z', '2026-11-02T00:00:00Z');
INSERT INTO exceptions (id, finding_id, state, reason, compensating_controls, requested_by,
    requested_at, expires_at)
VALUES ('exc_1', 'fnd_5d4806ccc40db364b4c11b37', 'requested', 'migration', 'alerting',
    'alice@example.com', '2026-11-02T00:00:00Z', '2027-01-01T00:00:00Z');
";

/// A migrator holding this backend's migrations up to `last`.
async fn migrations_up_to(ts: &TestStore, last: u32) -> Migrator {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(ts.backend());
    let to = ts.path(&format!("migrations-{last:04}"));
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        let version: u32 = name[..4].parse().unwrap();
        if version <= last {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
    Migrator::new(to).await.unwrap()
}

/// The rows of a two-column text query on the store.
#[tokio::test]
async fn findings_renamed_by_nhi_and_check_keep_their_state_and_exceptions() {
    for ts in backends().await {
        let old = migrations_up_to(&ts, 4).await;
        match &ts.location {
            Location::Sqlite(p) => {
                let opts = SqliteConnectOptions::new()
                    .filename(p)
                    .create_if_missing(true)
                    .foreign_keys(true);
                let pool = SqlitePool::connect_with(opts).await.unwrap();
                old.run(&pool).await.unwrap();
                sqlx::raw_sql(AT_0004).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Location::Postgres(url) => {
                let pool = PgPool::connect(url).await.unwrap();
                old.run(&pool).await.unwrap();
                sqlx::raw_sql(AT_0004).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }

        let store = Store::open(&ts.location, false).await.unwrap();
        let admin = format!("fnd_{}_admin-permissions", &NHI[4..]);
        let f = store.finding(&admin).await.unwrap();
        assert_eq!(f.check_id, "admin-permissions", "{}", ts.backend());
        assert_eq!(f.evidence["message"], "admin");
        assert_eq!(f.evidence_digest, "0123456789abcdef");
        assert_eq!(f.opened_at.to_rfc3339(), "2026-11-02T00:00:00+00:00");
        let owner = store
            .finding(&format!("fnd_{}_no-owner", &NHI[4..]))
            .await
            .unwrap();
        assert_eq!(owner.state, keyward_model::FindingState::Resolved);
        assert!(store.finding("fnd_5d4806ccc40db364b4c11b37").await.is_err());
        assert_eq!(
            keyward_model::Finding::id_for("admin-permissions", &keyward_model::NhiId(NHI.into())),
            admin
        );

        let exceptions = query_pairs(&ts.location, "SELECT id, finding_id FROM exceptions").await;
        assert_eq!(exceptions, vec![("exc_1".to_owned(), admin.clone())]);
        // The exceptions' reference to their finding is still enforced.
        let orphan = store
            .execute_raw(
                "INSERT INTO exceptions (id, finding_id, state, reason, compensating_controls, \
                 requested_by, requested_at, expires_at) VALUES ('exc_2', 'fnd_gone', \
                 'requested', 'r', 'c', 'bob@example.com', '2026-11-02T00:00:00Z', \
                 '2027-01-01T00:00:00Z')",
            )
            .await;
        assert!(
            orphan.is_err(),
            "{}: orphan exception accepted",
            ts.backend()
        );
        if let Location::Sqlite(_) = ts.location {
            let schema = query_pairs(
                &ts.location,
                "SELECT name, sql FROM sqlite_schema WHERE name = 'findings'",
            )
            .await;
            assert!(schema[0].1.contains("WITHOUT ROWID"), "{schema:?}");
        }
        store.close().await;
    }
}
