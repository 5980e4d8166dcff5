use keyward_ledger::PublicKey;
use keyward_service::{Service, verify_bundle};
use keyward_store::testing::{TestStore, backends};

use crate::support::*;

async fn populated(ts: &TestStore) -> Service {
    let svc = service(ts, NOW).await;
    let f = write(ts.dir.path(), "a.yaml", PAYMENTS);
    svc.apply(&keyward_manifest::load_paths(&[f]).unwrap(), false)
        .await
        .unwrap();
    svc.checkpoint().await.unwrap();
    svc
}

/// Lets a test act as an attacker with direct database access.
async fn disable_guards(svc: &Service) {
    let sql = if svc.store().is_postgres() {
        "ALTER TABLE ledger DISABLE TRIGGER USER; ALTER TABLE ledger_checkpoints DISABLE TRIGGER USER"
    } else {
        "DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_no_delete; DROP TRIGGER checkpoints_no_delete"
    };
    svc.store().execute_raw(sql).await.unwrap();
}

#[tokio::test]
async fn intact_ledger_verifies_with_checkpoints() {
    for ts in backends().await {
        let svc = populated(&ts).await;
        let o = svc.verify_ledger(None).await.unwrap();
        assert!(o.ok, "{}: {:?}", ts.backend(), o.problem);
        assert_eq!(
            o.head_seq, 4,
            "init, 2 declarations and the run; a checkpoint adds no entry"
        );
        assert!(o.checkpoints >= 2);
        assert_eq!(o.key_source, "key file");
        svc.close().await;
    }
}

#[tokio::test]
async fn each_kind_of_tampering_names_the_first_bad_seq() {
    let cases: [(&str, &str, i64); 4] = [
        (
            "edit",
            "UPDATE ledger SET actor = 'mallory' WHERE seq = 3",
            3,
        ),
        ("delete", "DELETE FROM ledger WHERE seq = 2", 2),
        (
            "insert",
            "INSERT INTO ledger (seq, at, actor, action, subject, payload, prev_hash, hash) \
             SELECT 100, at, actor, action, subject, payload, prev_hash, hash FROM ledger WHERE seq = 2",
            2,
        ),
        (
            "reorder",
            "UPDATE ledger SET seq = 1002 WHERE seq = 2; UPDATE ledger SET seq = 2 WHERE seq = 3; \
             UPDATE ledger SET seq = 3 WHERE seq = 1002",
            2,
        ),
    ];
    for (what, sql, bad) in cases {
        for ts in backends().await {
            let svc = populated(&ts).await;
            disable_guards(&svc).await;
            svc.store().execute_raw(sql).await.unwrap();
            let o = svc.verify_ledger(None).await.unwrap();
            assert!(!o.ok, "{what} on {}", ts.backend());
            if what == "insert" {
                // A copied entry placed past the head leaves seq 5 missing.
                assert_eq!(
                    o.first_bad_seq,
                    Some(5),
                    "{what} on {}: {:?}",
                    ts.backend(),
                    o.problem
                );
            } else {
                assert_eq!(
                    o.first_bad_seq,
                    Some(bad),
                    "{what} on {}: {:?}",
                    ts.backend(),
                    o.problem
                );
            }
            svc.close().await;
        }
    }
}

#[tokio::test]
async fn truncation_and_forged_checkpoints_are_caught() {
    for ts in backends().await {
        let svc = populated(&ts).await;
        disable_guards(&svc).await;
        svc.store()
            .execute_raw("DELETE FROM ledger WHERE seq >= 4")
            .await
            .unwrap();
        let o = svc.verify_ledger(None).await.unwrap();
        assert_eq!(
            o.first_bad_seq,
            Some(4),
            "{}: {:?}",
            ts.backend(),
            o.problem
        );
        assert!(o.problem.unwrap().contains("tail deleted"));
        svc.close().await;
    }
}

#[tokio::test]
async fn export_verifies_offline_and_detects_edits_to_the_bundle() {
    for ts in backends().await {
        let svc = populated(&ts).await;
        let dir = ts.path("bundle");
        let r = svc.export_ledger(&dir).await.unwrap();
        assert_eq!(r.manifest.entries, 4);
        let pk = PublicKey::from_hex(&svc.verify_ledger(None).await.unwrap().public_key).unwrap();
        svc.close().await;
        let o = verify_bundle(&dir, Some(&pk)).unwrap();
        assert!(o.ok, "{:?}", o.problem);
        let entries = dir.join("entries.jsonl");
        let text = std::fs::read_to_string(&entries).unwrap();
        std::fs::write(
            &entries,
            text.replacen("payments-ci-deployer", "payments-ci-deployex", 1),
        )
        .unwrap();
        let o = verify_bundle(&dir, None).unwrap();
        assert!(!o.ok);
        assert_eq!(o.first_bad_seq, Some(2), "{}", ts.backend());
    }
}
