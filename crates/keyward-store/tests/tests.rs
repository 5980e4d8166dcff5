//! Store conformance: the same behaviour on SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use keyward_ledger::{LedgerKey, NewEntry};
use keyward_model::{
    Environment, IdGenerator, Nhi, NhiKind, NhiStatus, Origin, OwnerRef, UsageState,
};
use keyward_store::testing::{TestStore, backends, journal_mode, query_pairs};
use keyward_store::{NhiFilter, Store, StoreError};
use rand::SeedableRng;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn nhi(i: usize, kind: NhiKind, env: Environment, status: NhiStatus, now: DateTime<Utc>) -> Nhi {
    let mut ids = IdGenerator::new(rand::rngs::StdRng::seed_from_u64(i as u64));
    Nhi {
        id: ids.nhi(now),
        kind,
        provider: "aws".into(),
        external_id: Some(format!("ext-{i}")),
        name: format!("nhi-{i:04}"),
        declaration: None,
        origin: Origin::Discovered,
        environment: env,
        owner: None,
        backup_owner: None,
        purpose: None,
        privilege_ceiling: vec!["s3:GetObject".into()],
        observed_permissions: vec![],
        created_at: Some(now - Duration::days(400)),
        expires_at: None,
        last_rotated_at: None,
        last_used_at: None,
        last_used_state: UsageState::Unknown,
        last_reviewed_at: None,
        review_every: None,
        next_review_due: None,
        status,
        supplier: None,
        tags: BTreeMap::from([("team".into(), "payments".into())]),
        registered_at: now,
        updated_at: now,
    }
}

fn entry(action: &str, subject: &str) -> NewEntry {
    NewEntry {
        actor: "test".into(),
        action: action.into(),
        subject: subject.into(),
        payload: "{}".into(),
    }
}

async fn open(ts: &TestStore) -> Store {
    Store::open(&ts.location, true)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", ts.backend()))
        .with_signer(LedgerKey::from_seed([5; 32]))
}

#[tokio::test]
async fn schema_accepts_every_model_value_and_reads_back_equal() {
    for ts in backends().await {
        let store = open(&ts).await;
        let now = t("2026-11-22T10:00:00.123456Z");
        let mut all = Vec::new();
        let mut i = 0;
        for kind in NhiKind::ALL {
            for env in Environment::ALL {
                let status = NhiStatus::ALL[i % NhiStatus::ALL.len()];
                let mut n = nhi(i, *kind, *env, status, now);
                if i % 3 == 0 {
                    n.last_used_state = UsageState::Used;
                    n.last_used_at = Some(now - Duration::days(3));
                    n.owner = Some(OwnerRef::parse("team:payments").unwrap());
                    n.review_every = keyward_model::Cadence::from_days(90);
                    n.next_review_due = Some(now + Duration::days(90));
                }
                all.push(n);
                i += 1;
            }
        }
        let mut tx = store.begin_write(now).await.unwrap();
        tx.upsert_nhis(&all).await.unwrap();
        tx.append(entry("nhi.discovered", "batch")).await.unwrap();
        tx.commit().await.unwrap();

        let mut back = Vec::new();
        store
            .for_each_nhi(&NhiFilter::default(), now, |n| {
                back.push(n);
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(back, all, "{}", ts.backend());
        // Lookups decode through the JSON form; they must agree with the listing.
        for n in &all {
            assert_eq!(
                &store.find_nhi(&n.id.0).await.unwrap(),
                n,
                "{}",
                ts.backend()
            );
        }
        store.close().await;
    }
}

#[tokio::test]
async fn ledger_refuses_update_and_delete() {
    for ts in backends().await {
        let store = open(&ts).await;
        let mut tx = store.begin_write(Utc::now()).await.unwrap();
        tx.append(entry("x", "s")).await.unwrap();
        tx.commit().await.unwrap();
        for sql in [
            "UPDATE ledger SET actor = 'mallory'",
            "DELETE FROM ledger",
            "UPDATE ledger_checkpoints SET signature = 'x'",
            "DELETE FROM ledger_checkpoints",
        ] {
            let err = store.execute_raw(sql).await.unwrap_err();
            assert!(
                err.to_string().contains("append-only"),
                "{}: {sql}: {err}",
                ts.backend()
            );
        }
        if store.is_postgres() {
            let err = store.execute_raw("TRUNCATE ledger").await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        store.close().await;
    }
}

#[tokio::test]
async fn a_change_without_its_ledger_entry_is_refused_and_rolled_back() {
    for ts in backends().await {
        let store = open(&ts).await;
        let now = Utc::now();
        let mut tx = store.begin_write(now).await.unwrap();
        tx.upsert_nhis(&[nhi(
            1,
            NhiKind::ApiKey,
            Environment::Test,
            NhiStatus::Active,
            now,
        )])
        .await
        .unwrap();
        assert!(matches!(tx.commit().await, Err(StoreError::Unledgered)));
        assert_eq!(
            store.count_nhis(&NhiFilter::default(), now).await.unwrap(),
            0,
            "{}",
            ts.backend()
        );
        store.close().await;
    }
}

#[tokio::test]
async fn concurrent_writers_append_without_gaps() {
    for ts in backends().await {
        let store = open(&ts).await;
        let mut tasks = Vec::new();
        for w in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    let mut tx = store.begin_write(Utc::now()).await.unwrap();
                    tx.append(entry("w", &format!("{w}-{i}"))).await.unwrap();
                    tx.append(entry("w", &format!("{w}-{i}b"))).await.unwrap();
                    tx.commit().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let mut seqs = Vec::new();
        let mut prev = keyward_ledger::GENESIS_HASH.to_owned();
        store
            .for_each_entry(|e| {
                assert_eq!(e.prev_hash, prev);
                prev.clone_from(&e.hash);
                seqs.push(e.seq);
                Ok::<_, StoreError>(true)
            })
            .await
            .unwrap();
        assert_eq!(seqs, (1..=80).collect::<Vec<i64>>(), "{}", ts.backend());
        store.close().await;
    }
}

#[tokio::test]
async fn checkpoints_are_signed_when_due_and_on_request() {
    for ts in backends().await {
        let store = open(&ts).await;
        let now = t("2026-11-22T10:00:00Z");
        let mut tx = store.begin_write(now).await.unwrap();
        tx.insert_installation("pk", "fk", 3).await.unwrap();
        tx.append(entry("installation.initialised", "installation"))
            .await
            .unwrap();
        tx.request_checkpoint();
        assert_eq!(tx.commit().await.unwrap().checkpoint, Some(1));
        // One entry, within the hour: not due.
        let mut tx = store.begin_write(now + Duration::minutes(1)).await.unwrap();
        tx.append(entry("a", "s")).await.unwrap();
        assert_eq!(tx.commit().await.unwrap().checkpoint, None);
        // Three entries since the last checkpoint: due.
        let mut tx = store.begin_write(now + Duration::minutes(2)).await.unwrap();
        tx.append(entry("b", "s")).await.unwrap();
        tx.append(entry("c", "s")).await.unwrap();
        assert_eq!(tx.commit().await.unwrap().checkpoint, Some(4));
        // An hour later a single entry is checkpointed too.
        let mut tx = store
            .begin_write(now + Duration::minutes(70))
            .await
            .unwrap();
        tx.append(entry("d", "s")).await.unwrap();
        assert_eq!(tx.commit().await.unwrap().checkpoint, Some(5));
        let cps = store.checkpoints().await.unwrap();
        assert_eq!(cps.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![1, 4, 5]);
        let pk = LedgerKey::from_seed([5; 32]).public_key();
        assert!(cps.iter().all(|c| pk.verifies(c)), "{}", ts.backend());
        store.close().await;
    }
}

#[tokio::test]
async fn filters_select_the_same_rows_on_both_backends() {
    for ts in backends().await {
        let store = open(&ts).await;
        let now = t("2026-11-22T10:00:00Z");
        let mut a = nhi(
            1,
            NhiKind::IamUser,
            Environment::Production,
            NhiStatus::Active,
            now,
        );
        a.expires_at = Some(now + Duration::days(10));
        a.owner = Some(OwnerRef::parse("alice@example.com").unwrap());
        let mut b = nhi(
            2,
            NhiKind::ApiKey,
            Environment::Staging,
            NhiStatus::Active,
            now,
        );
        b.expires_at = Some(now - Duration::days(1));
        b.next_review_due = Some(now - Duration::days(5));
        b.backup_owner = Some(OwnerRef::parse("alice@example.com").unwrap());
        let mut c = nhi(
            3,
            NhiKind::ApiKey,
            Environment::Production,
            NhiStatus::Revoked,
            now,
        );
        c.declaration = Some("c".into());
        c.provider = "stripe".into();
        let mut tx = store.begin_write(now).await.unwrap();
        tx.upsert_nhis(&[a, b, c]).await.unwrap();
        tx.append(entry("x", "s")).await.unwrap();
        tx.commit().await.unwrap();
        let names = |f: NhiFilter| {
            let store = store.clone();
            async move {
                let mut out = Vec::new();
                store
                    .for_each_nhi(&f, now, |n| {
                        out.push(n.name);
                        Ok::<_, StoreError>(())
                    })
                    .await
                    .unwrap();
                out.sort();
                out
            }
        };
        let all = NhiFilter::default();
        assert_eq!(
            names(all.clone()).await,
            ["nhi-0001", "nhi-0002", "nhi-0003"]
        );
        assert_eq!(
            names(NhiFilter {
                kind: Some(NhiKind::ApiKey),
                ..all.clone()
            })
            .await,
            ["nhi-0002", "nhi-0003"]
        );
        assert_eq!(
            names(NhiFilter {
                environment: Some(Environment::Production),
                ..all.clone()
            })
            .await,
            ["nhi-0001", "nhi-0003"]
        );
        assert_eq!(
            names(NhiFilter {
                provider: Some("stripe".into()),
                ..all.clone()
            })
            .await,
            ["nhi-0003"]
        );
        assert_eq!(
            names(NhiFilter {
                owner: Some(OwnerRef::parse("alice@example.com").unwrap()),
                ..all.clone()
            })
            .await,
            ["nhi-0001", "nhi-0002"]
        );
        assert_eq!(
            names(NhiFilter {
                status: Some(NhiStatus::Revoked),
                ..all.clone()
            })
            .await,
            ["nhi-0003"]
        );
        assert_eq!(
            names(NhiFilter {
                unowned: true,
                ..all.clone()
            })
            .await,
            ["nhi-0002", "nhi-0003"]
        );
        assert_eq!(
            names(NhiFilter {
                expiring_within: Some(Duration::days(30)),
                ..all.clone()
            })
            .await,
            ["nhi-0001"]
        );
        assert_eq!(
            names(NhiFilter {
                expired: true,
                ..all.clone()
            })
            .await,
            ["nhi-0002"]
        );
        assert_eq!(
            names(NhiFilter {
                review_overdue: true,
                ..all.clone()
            })
            .await,
            ["nhi-0002"]
        );
        assert_eq!(
            names(NhiFilter {
                undeclared: true,
                ..all.clone()
            })
            .await,
            ["nhi-0001", "nhi-0002"]
        );
        assert_eq!(
            store
                .count_nhis(
                    &NhiFilter {
                        kind: Some(NhiKind::ApiKey),
                        ..all
                    },
                    now
                )
                .await
                .unwrap(),
            2
        );
        store.close().await;
    }
}

#[tokio::test]
async fn unique_external_id_per_provider_is_a_conflict() {
    for ts in backends().await {
        let store = open(&ts).await;
        let now = Utc::now();
        let a = nhi(
            1,
            NhiKind::IamUser,
            Environment::Production,
            NhiStatus::Active,
            now,
        );
        let mut b = nhi(
            2,
            NhiKind::IamUser,
            Environment::Production,
            NhiStatus::Active,
            now,
        );
        b.external_id = a.external_id.clone();
        let mut tx = store.begin_write(now).await.unwrap();
        let err = tx.upsert_nhis(&[a, b]).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict(_)),
            "{}: {err}",
            ts.backend()
        );
        tx.rollback().await.unwrap();
        store.close().await;
    }
}

#[tokio::test]
async fn a_missing_sqlite_file_is_not_created_by_readers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.db");
    let err = Store::open(&keyward_store::Location::Sqlite(path.clone()), false)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Uninitialised(_)));
    assert!(!path.exists());
}

#[tokio::test]
async fn long_lists_page_through_every_row_in_order() {
    for ts in backends().await {
        let store = open(&ts).await;
        let now = t("2026-11-22T10:00:00Z");
        // More than one page.
        let all: Vec<Nhi> = (0..4500)
            .map(|i| {
                let mut n = nhi(i, NhiKind::Token, Environment::Test, NhiStatus::Active, now);
                n.name = format!("tok-{:04}", i / 2);
                n
            })
            .collect();
        let mut tx = store.begin_write(now).await.unwrap();
        tx.upsert_nhis(&all).await.unwrap();
        tx.append(entry("x", "s")).await.unwrap();
        tx.commit().await.unwrap();
        let mut seen = Vec::new();
        let n = store
            .for_each_nhi(&NhiFilter::default(), now, |n| {
                seen.push((n.name, n.id.0));
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        assert_eq!(n, 4500, "{}", ts.backend());
        let mut expected: Vec<(String, String)> =
            all.into_iter().map(|n| (n.name, n.id.0)).collect();
        expected.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(seen, expected, "{}", ts.backend());
        store.close().await;
    }
}

#[tokio::test]
async fn filter_values_are_data_never_sql() {
    for ts in backends().await {
        let store = open(&ts).await;
        let now = t("2026-11-22T10:00:00Z");
        let providers = ["it's", r"back\slash'", "x' OR 'a'='a"];
        let all: Vec<Nhi> = providers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut n = nhi(i, NhiKind::Token, Environment::Test, NhiStatus::Active, now);
                n.provider = (*p).into();
                n
            })
            .collect();
        let mut tx = store.begin_write(now).await.unwrap();
        tx.upsert_nhis(&all).await.unwrap();
        tx.append(entry("x", "s")).await.unwrap();
        tx.commit().await.unwrap();
        for (p, expected) in [
            ("it's", vec!["it's"]),
            (r"back\slash'", vec![r"back\slash'"]),
            ("x' OR 'a'='a", vec!["x' OR 'a'='a"]),
            ("' OR 1=1 --", vec![]),
            (r"\", vec![]),
        ] {
            let mut seen = Vec::new();
            store
                .for_each_nhi(
                    &NhiFilter {
                        provider: Some(p.into()),
                        ..NhiFilter::default()
                    },
                    now,
                    |n| {
                        seen.push(n.provider);
                        Ok::<_, StoreError>(())
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{}: {p}: {e}", ts.backend()));
            assert_eq!(seen, expected, "{}: {p}", ts.backend());
        }
        store.close().await;
    }
}

#[tokio::test]
async fn append_all_chains_on_from_single_appends_across_pages() {
    for ts in backends().await {
        let store = open(&ts).await;
        let now = t("2026-11-22T10:00:00Z");
        let mut tx = store.begin_write(now).await.unwrap();
        tx.append(entry("first", "s")).await.unwrap();
        // More entries than one page on either backend.
        tx.append_all((0..4321).map(|i| Ok::<_, StoreError>(entry("many", &format!("s{i}")))))
            .await
            .unwrap();
        tx.append(entry("last", "s")).await.unwrap();
        let c = tx.commit().await.unwrap();
        assert_eq!((c.entries, c.head_seq), (4323, 4323), "{}", ts.backend());
        let mut prev = "0".repeat(64);
        let mut seqs = Vec::new();
        store
            .for_each_entry(|e| {
                assert_eq!(e.prev_hash, prev, "{}: seq {}", ts.backend(), e.seq);
                assert_eq!(
                    e.recompute_hash(),
                    e.hash,
                    "{}: seq {}",
                    ts.backend(),
                    e.seq
                );
                prev.clone_from(&e.hash);
                seqs.push(e.seq);
                Ok::<_, StoreError>(true)
            })
            .await
            .unwrap();
        assert_eq!(seqs, (1..=4323).collect::<Vec<_>>(), "{}", ts.backend());

        // An error part-way stops the appends and fails the write; nothing is committed.
        let mut tx = store.begin_write(now).await.unwrap();
        let err = tx
            .append_all((0..3000).map(|i| {
                if i == 2500 {
                    Err(StoreError::Conflict("stop".into()))
                } else {
                    Ok(entry("x", "s"))
                }
            }))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{}", ts.backend());
        tx.rollback().await.unwrap();
        let mut n = 0;
        store
            .for_each_entry(|_| {
                n += 1;
                Ok::<_, StoreError>(true)
            })
            .await
            .unwrap();
        assert_eq!(n, 4323, "{}", ts.backend());
        store.close().await;
    }
}

/// NHIs 0..n: active production IAM users.
fn active_iam_users(n: usize, now: DateTime<Utc>) -> Vec<Nhi> {
    (0..n)
        .map(|i| {
            nhi(
                i,
                NhiKind::IamUser,
                Environment::Production,
                NhiStatus::Active,
                now,
            )
        })
        .collect()
}

/// Every index's definition, from a connection of its own (what other readers see).
async fn index_definitions(ts: &TestStore) -> Vec<(String, String)> {
    let sql = match &ts.location {
        keyward_store::Location::Sqlite(_) => {
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
        }
        keyward_store::Location::Postgres(_) => {
            "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1"
        }
    };
    query_pairs(&ts.location, sql).await
}

#[tokio::test]
async fn deferred_indexes_are_built_again_at_commit_and_kept_by_a_rollback() {
    for ts in backends().await {
        let store = open(&ts).await;
        let sqlite = matches!(ts.location, keyward_store::Location::Sqlite(_));
        let before = index_definitions(&ts).await;
        assert!(before.iter().any(|(n, _)| n == "nhis_owner"), "{before:?}");
        let now = Utc::now();
        let tables = ["nhis", "observations", "ledger"];

        // Rolled back: the indexes are as they were.
        let mut tx = store.begin_write(now).await.unwrap();
        let dropped = tx.defer_indexes(&tables, 10).await.unwrap();
        // nhis: owner, expires_at, next_review_due; observations: source and locator; ledger:
        // subject. Unique constraints and primary keys stay.
        assert_eq!(dropped, if sqlite { 5 } else { 0 }, "{}", ts.backend());
        assert_eq!(
            index_definitions(&ts).await,
            before,
            "other readers keep them"
        );
        tx.rollback().await.unwrap();
        assert_eq!(index_definitions(&ts).await, before, "{}", ts.backend());

        // Committed: rebuilt over the rows written meanwhile, with the same definitions.
        let mut tx = store.begin_write(now).await.unwrap();
        tx.defer_indexes(&tables, 10).await.unwrap();
        let mut rows = active_iam_users(3, now);
        rows[1].owner = Some(OwnerRef::Team("payments".into()));
        tx.insert_nhis(&rows).await.unwrap();
        tx.append(entry("nhi.created", "nhi:x")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(index_definitions(&ts).await, before, "{}", ts.backend());
        let owned = NhiFilter {
            owner: Some(OwnerRef::Team("payments".into())),
            ..NhiFilter::default()
        };
        assert_eq!(
            store.count_nhis(&owned, now).await.unwrap(),
            1,
            "{}",
            ts.backend()
        );
        if sqlite {
            let check = query_pairs(
                &ts.location,
                "SELECT 'integrity', integrity_check FROM pragma_integrity_check",
            )
            .await;
            assert_eq!(check, vec![("integrity".to_owned(), "ok".to_owned())]);
        }

        // A unique constraint still refuses a duplicate while the other indexes are away.
        let mut tx = store.begin_write(now).await.unwrap();
        tx.defer_indexes(&tables, 10).await.unwrap();
        let mut dup = rows[0].clone();
        dup.id = nhi(
            9,
            NhiKind::IamUser,
            Environment::Production,
            NhiStatus::Active,
            now,
        )
        .id;
        let err = tx.insert_nhis(&[dup]).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict(_)),
            "{}: {err}",
            ts.backend()
        );
        tx.rollback().await.unwrap();
        assert_eq!(index_definitions(&ts).await, before, "{}", ts.backend());

        // A table holding more rows than the write keeps its indexes.
        let mut tx = store.begin_write(now).await.unwrap();
        assert_eq!(tx.defer_indexes(&["nhis"], 2).await.unwrap(), 0);
        assert_eq!(
            tx.defer_indexes(&["nhis"], 3).await.unwrap(),
            if sqlite { 3 } else { 0 },
            "{}",
            ts.backend()
        );
        tx.rollback().await.unwrap();
        store.close().await;
    }
}

#[tokio::test]
async fn listed_nhis_carry_the_sources_that_still_see_them() {
    for ts in backends().await {
        let store = open(&ts).await;
        let now = Utc::now();
        // Ids count up with `i`, so the NHIs list in this order.
        let mut rows = active_iam_users(5, now);
        rows.sort_by(|a, b| a.id.0.cmp(&b.id.0));
        rows[3].environment = Environment::Staging; // filtered out below, between two listed
        let seen = |i: usize, source: &str| {
            keyward_model::Observation::new(rows[i].id.clone(), source, "c", "1", "here", now)
        };
        let mut gone = seen(1, "aws-iam");
        gone.gone_at = Some(now);
        let obs = vec![
            seen(0, "kubernetes"),
            seen(0, "aws-iam"),
            gone,
            seen(3, "aws-iam"),
            seen(4, "declaration"),
        ];
        let mut tx = store.begin_write(now).await.unwrap();
        tx.insert_nhis(&rows).await.unwrap();
        tx.insert_observations(&obs).await.unwrap();
        tx.append(entry("nhi.created", "nhi:x")).await.unwrap();
        tx.commit().await.unwrap();

        let filter = NhiFilter {
            environment: Some(Environment::Production),
            ..NhiFilter::default()
        };
        let mut listed = Vec::new();
        store
            .for_each_nhi_with_sources(&filter, now, |n, s| {
                listed.push((n.name, s.to_vec()));
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        let name = |i: usize| rows[i].name.clone();
        let strings = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            listed,
            vec![
                (name(0), strings(&["aws-iam", "kubernetes"])),
                (name(1), vec![]),
                (name(2), vec![]),
                (name(4), strings(&["declaration"])),
            ],
            "{}",
            ts.backend()
        );
        store.close().await;
    }
}

/// A load begun into `store`'s empty register, with `n` NHIs and one ledger entry written.
async fn load_of(store: &Store, n: usize, now: DateTime<Utc>) -> keyward_store::WriteTx {
    let mut tx = store
        .begin_load(now)
        .await
        .unwrap()
        .expect("empty register");
    tx.insert_nhis(&active_iam_users(n, now)).await.unwrap();
    tx.append(entry("nhi.created", "nhi:x")).await.unwrap();
    tx
}

#[tokio::test]
async fn a_first_load_writes_an_empty_sqlite_register_without_the_log_and_puts_it_back() {
    for ts in backends().await {
        let sqlite = matches!(ts.location, keyward_store::Location::Sqlite(_));
        let store = open(&ts).await;
        let now = Utc::now();

        // Rolled back: nothing written, and the file is back in write-ahead-log mode.
        let tx = load_of(&store, 3, now).await;
        assert_eq!(tx.writes_directly(), sqlite, "{}", ts.backend());
        tx.rollback().await.unwrap();
        assert!(!store.holds_nhis().await.unwrap(), "{}", ts.backend());
        if sqlite {
            assert_eq!(journal_mode(&ts.location).await, "wal");
        }

        // Committed: the rows and their entry are there, the file whole and in the log again.
        let mut tx = load_of(&store, 3, now).await;
        assert_eq!(tx.writes_directly(), sqlite, "{}", ts.backend());
        assert!(tx.holds_nhis().await.unwrap(), "its own rows");
        let done = tx.commit().await.unwrap();
        assert_eq!(done.entries, 1, "{}", ts.backend());
        let all = store.count_nhis(&NhiFilter::default(), now).await.unwrap();
        assert_eq!(all, 3, "{}", ts.backend());
        assert_eq!(store.ledger_of("nhi:x").await.unwrap().len(), 1);
        if sqlite {
            assert_eq!(journal_mode(&ts.location).await, "wal");
            let check = query_pairs(
                &ts.location,
                "SELECT 'integrity', integrity_check FROM pragma_integrity_check",
            )
            .await;
            assert_eq!(check, vec![("integrity".to_owned(), "ok".to_owned())]);
        }

        // A register that holds NHIs is not loaded, and nothing is left locked.
        assert!(store.holds_nhis().await.unwrap());
        assert!(
            store.begin_load(now).await.unwrap().is_none(),
            "{}",
            ts.backend()
        );
        let tx = store.begin_write(now).await.unwrap();
        tx.rollback().await.unwrap();
    }
}

#[tokio::test]
async fn a_first_load_goes_through_the_log_while_another_connection_has_the_file_open() {
    let ts = TestStore::sqlite().unwrap();
    let store = open(&ts).await;
    let other = open(&ts).await;
    assert!(!other.holds_nhis().await.unwrap()); // its pool now holds the file open
    let now = Utc::now();
    let tx = load_of(&store, 2, now).await;
    assert!(
        !tx.writes_directly(),
        "another connection has the file open"
    );
    // The other reads on, the register as last committed, while the load is open.
    assert!(!other.holds_nhis().await.unwrap());
    tx.commit().await.unwrap();
    assert!(other.holds_nhis().await.unwrap());
    assert_eq!(journal_mode(&ts.location).await, "wal");
}

#[tokio::test]
async fn a_store_opened_during_a_direct_load_waits_for_its_commit() {
    let ts = TestStore::sqlite().unwrap();
    let store = open(&ts).await;
    let now = Utc::now();
    let tx = load_of(&store, 4, now).await;
    assert!(tx.writes_directly());
    // Opening puts the file in write-ahead-log mode, which waits for the load's lock; had it
    // not waited, it would count the register as committed before the load: empty.
    let location = ts.location.clone();
    let reader = tokio::spawn(async move {
        let s = Store::open(&location, false).await.unwrap();
        s.count_nhis(&NhiFilter::default(), Utc::now())
            .await
            .unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!reader.is_finished(), "the open waits for the load");
    tx.commit().await.unwrap();
    assert_eq!(reader.await.unwrap(), 4);
    assert_eq!(journal_mode(&ts.location).await, "wal");
}
