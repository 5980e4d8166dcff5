use keyward_model::{NhiKind, OwnerRef};
use keyward_service::{Service, ServiceError};
use keyward_store::NhiFilter;
use keyward_store::testing::{TestStore, backends, journal_mode};

use crate::support::*;

#[tokio::test]
async fn apply_creates_then_is_idempotent() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let file = write(ts.dir.path(), "decl/payments.yaml", PAYMENTS);
        let set = keyward_manifest::load_paths(std::slice::from_ref(&file)).unwrap();
        let r = svc.apply(&set, false).await.unwrap();
        assert_eq!(
            (r.created, r.updated, r.unchanged),
            (2, 0, 0),
            "{}",
            ts.backend()
        );
        let head = ledger_len(&svc).await;

        let again = svc.apply(&set, false).await.unwrap();
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
        assert_eq!(again.ledger_entries, 0);
        assert_eq!(again.run_id, None);
        assert_eq!(
            ledger_len(&svc).await,
            head,
            "a no-op apply writes no ledger entry"
        );

        let n = svc.show_nhi("payments-ci-deployer").await.unwrap();
        assert_eq!(n.nhi.kind, NhiKind::IamUser);
        assert_eq!(
            n.nhi.owner,
            Some(OwnerRef::Person("alice@example.com".into()))
        );
        assert_eq!(n.nhi.expires_at, Some(at("2027-03-31T00:00:00Z")));
        assert_eq!(
            n.nhi.next_review_due,
            Some(at("2027-02-20T09:00:00Z")),
            "90 days from registration"
        );
        assert_eq!(n.history.len(), 1);
        assert_eq!(n.history[0].action, "nhi.declared");
        assert_eq!(n.observations[0].source, "declaration");
        let by_ext = svc
            .show_nhi("arn:aws:iam::123456789012:user/payments-ci")
            .await
            .unwrap();
        assert_eq!(by_ext.nhi.id, n.nhi.id);
        let by_id = svc.show_nhi(&n.nhi.id.0).await.unwrap();
        assert_eq!(by_id.nhi.id, n.nhi.id);
        let g = svc.show_nhi("grafana-reader").await.unwrap();
        assert_eq!(
            g.nhi.next_review_due,
            Some(at("2026-07-09T00:00:00Z")),
            "180 days from last review"
        );
        svc.close().await;
    }
}

#[tokio::test]
async fn changed_declaration_updates_with_a_diff_in_the_ledger() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let file = write(ts.dir.path(), "d.yaml", PAYMENTS);
        svc.apply(
            &keyward_manifest::load_paths(std::slice::from_ref(&file)).unwrap(),
            false,
        )
        .await
        .unwrap();
        write(
            ts.dir.path(),
            "d.yaml",
            &PAYMENTS.replace("owner: alice@example.com", "owner: bob@example.com"),
        );
        let set = keyward_manifest::load_paths(&[file]).unwrap();
        let dry = svc.apply(&set, true).await.unwrap();
        assert_eq!((dry.updated, dry.unchanged, dry.ledger_entries), (1, 1, 0));
        assert_eq!(
            svc.show_nhi("payments-ci-deployer")
                .await
                .unwrap()
                .nhi
                .owner,
            Some(OwnerRef::Person("alice@example.com".into())),
            "dry run writes nothing"
        );
        let r = svc.apply(&set, false).await.unwrap();
        assert_eq!((r.updated, r.unchanged), (1, 1), "{}", ts.backend());
        let d = svc.show_nhi("payments-ci-deployer").await.unwrap();
        assert_eq!(d.history.len(), 2);
        let payload: serde_json::Value = serde_json::from_str(&d.history[1].payload).unwrap();
        assert_eq!(payload["changes"]["owner"]["from"], "alice@example.com");
        assert_eq!(payload["changes"]["owner"]["to"], "bob@example.com");
        assert_eq!(
            payload["changes"].as_object().unwrap().len(),
            1,
            "{payload}"
        );
        svc.close().await;
    }
}

#[tokio::test]
async fn invalid_input_writes_nothing() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let good = write(ts.dir.path(), "in/a.yaml", PAYMENTS);
        let bad = write(
            ts.dir.path(),
            "in/b.yaml",
            "apiVersion: keyward/v1\nkind: NonHumanIdentity\nmetadata:\n  name: x\nspec:\n  kind: iam_user\n  provider: aws\n  expires: 2027-02-30\n",
        );
        let head = ledger_len(&svc).await;
        let err =
            keyward_manifest::load_paths(&[good.parent().unwrap().to_path_buf()]).unwrap_err();
        assert!(err.to_string().contains("b.yaml:8: spec.expires"), "{err}");
        let _ = bad;
        assert_eq!(ledger_len(&svc).await, head);
        assert_eq!(
            svc.store()
                .count_nhis(&NhiFilter::default(), at(NOW))
                .await
                .unwrap(),
            0
        );
        svc.close().await;
    }
}

#[tokio::test]
async fn external_id_held_by_another_declaration_is_refused_with_its_location() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let a = write(ts.dir.path(), "a.yaml", PAYMENTS);
        svc.apply(&keyward_manifest::load_paths(&[a]).unwrap(), false)
            .await
            .unwrap();
        let renamed = PAYMENTS.replace("name: payments-ci-deployer", "name: payments-deployer");
        let b = write(ts.dir.path(), "b.yaml", &renamed);
        let head = ledger_len(&svc).await;
        let err = svc
            .apply(&keyward_manifest::load_paths(&[b]).unwrap(), false)
            .await
            .unwrap_err();
        let ServiceError::Invalid(errs) = err else {
            panic!("{err}")
        };
        assert_eq!(errs.0.len(), 1, "{errs}");
        assert!(
            errs.0[0].to_string().contains("b.yaml:1: spec.externalId:"),
            "{errs}"
        );
        assert!(
            errs.0[0]
                .to_string()
                .contains("already declared by `payments-ci-deployer`"),
            "{errs}"
        );
        assert_eq!(ledger_len(&svc).await, head, "{}", ts.backend());
        svc.close().await;
    }
}

#[tokio::test]
async fn changes_need_the_key_file() {
    for ts in backends().await {
        Service::init(settings(&ts, NOW), 1000).await.unwrap();
        std::fs::remove_file(ts.path("keyward.key")).unwrap();
        let svc = keyward_service::Service::open(settings(&ts, NOW))
            .await
            .unwrap();
        let f = write(ts.dir.path(), "a.yaml", PAYMENTS);
        let err = svc
            .apply(&keyward_manifest::load_paths(&[f]).unwrap(), false)
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::KeyRequired { .. }), "{err}");
        svc.close().await;
    }
}

/// `n` declarations of IAM roles named `{prefix}-{i}`, as one file's text.
fn roles(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "apiVersion: keyward/v1\nkind: NonHumanIdentity\nmetadata:\n  name: {prefix}-{i}\nspec:\n  kind: iam_role\n  provider: aws\n  externalId: arn:aws:iam::123456789012:role/{prefix}-{i}\n  owner: team:platform\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

#[tokio::test]
async fn streamed_apply_writes_in_rounds_and_is_idempotent() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let dir = ts.dir.path().join("decl");
        for f in 0..5 {
            write(&dir, &format!("f{f}.yaml"), &roles(&format!("r{f}"), 3));
        }
        let head = ledger_len(&svc).await;
        let paths = [dir.clone()];
        let dry = svc.apply_paths_in_rounds(&paths, true, 4).await.unwrap();
        assert_eq!((dry.files, dry.declarations, dry.created), (5, 15, 15));
        assert_eq!(ledger_len(&svc).await, head, "a dry run writes nothing");

        let r = svc.apply_paths_in_rounds(&paths, false, 4).await.unwrap();
        assert_eq!(
            (r.files, r.declarations, r.created, r.unchanged),
            (5, 15, 15, 0),
            "{}",
            ts.backend()
        );
        assert_eq!(r.ledger_entries, 16, "one per NHI and one for the run");
        let count = svc
            .store()
            .count_nhis(&NhiFilter::default(), at(NOW))
            .await
            .unwrap();
        assert_eq!(count, 15);
        let n = svc.show_nhi("r4-2").await.unwrap();
        assert_eq!(n.history.len(), 1);
        assert!(
            n.observations[0].locator.ends_with("f4.yaml:21"),
            "{:?}",
            n.observations
        );

        let again = svc.apply_paths_in_rounds(&paths, false, 4).await.unwrap();
        assert_eq!(
            (again.created, again.unchanged, again.ledger_entries),
            (0, 15, 0)
        );
        // The same files in one round give the same answer.
        let whole = svc.apply_paths(&paths, false).await.unwrap();
        assert_eq!(whole, again);
        svc.close().await;
    }
}

#[tokio::test]
async fn streamed_apply_reports_every_error_and_writes_nothing() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let held = write(ts.dir.path(), "held.yaml", PAYMENTS);
        svc.apply_paths(&[held], false).await.unwrap();
        let head = ledger_len(&svc).await;

        let dir = roles_dir(&ts);
        // Takes the external id that payments-ci-deployer already declares.
        write(
            &dir,
            "b.yaml",
            &PAYMENTS
                .replace("name: payments-ci-deployer", "name: thief")
                .replace("name: grafana-reader", "name: grafana-reader-2")
                .replace("externalId: grafana@", "externalId: grafana-2@"),
        );
        write(&dir, "c.yaml", &roles("c", 3));
        write(
            &dir,
            "d.yaml",
            &roles("d", 2).replace("kind: iam_role", "kind: robot"),
        );
        write(&dir, "e.yaml", &roles("e", 3));
        let err = refused_in_rounds(&svc, &dir).await;
        let ServiceError::Invalid(errs) = err else {
            panic!("{err}")
        };
        let got: Vec<String> = errs
            .0
            .iter()
            .map(|e| e.to_string().replace(&format!("{}/", dir.display()), ""))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got[0].starts_with("b.yaml:1: spec.externalId: ")
                && got[0].contains("already declared by `payments-ci-deployer`"),
            "{got:?}"
        );
        assert!(
            got[1].starts_with("d.yaml:6: spec.kind: `robot`"),
            "{got:?}"
        );
        assert!(
            got[2].starts_with("d.yaml:16: spec.kind: `robot`"),
            "{got:?}"
        );
        assert_eq!(ledger_len(&svc).await, head, "{}", ts.backend());
        assert_eq!(nhi_count(&svc).await, 2, "only what was there before");
        svc.close().await;
    }
}

#[tokio::test]
async fn a_first_apply_in_conflict_with_itself_writes_nothing_and_leaves_the_store_usable() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let head = ledger_len(&svc).await;
        let dir = roles_dir(&ts);
        // Second names for a-0's and a-1's external ids: with the register empty there is
        // nothing to look up, and the declarations are checked against each other.
        write(
            &dir,
            "b.yaml",
            &roles("a", 2).replace("name: a-", "name: b-"),
        );
        let text = refused_in_rounds(&svc, &dir).await.to_string();
        assert!(
            text.contains("b.yaml:8: spec.externalId: duplicate external id"),
            "{text}"
        );
        assert!(
            text.contains("b.yaml:18: spec.externalId: duplicate"),
            "{text}"
        );
        assert_eq!(ledger_len(&svc).await, head, "{}", ts.backend());
        assert_eq!(nhi_count(&svc).await, 0, "{}", ts.backend());

        // The same store takes the first file, then sees the second as what it is.
        let first = svc.apply_paths(&[dir.join("a.yaml")], false).await.unwrap();
        assert_eq!(first.created, 3, "{}", ts.backend());
        let err = svc
            .apply_paths(&[dir.join("b.yaml")], false)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("already declared by `a-0`"),
            "{err}"
        );
        if let keyward_store::Location::Sqlite(_) = ts.location {
            assert_eq!(journal_mode(&ts.location).await, "wal");
        }
        svc.close().await;
    }
}

/// A directory of declarations for `ts`, holding `a.yaml`: three roles, `a-0` to `a-2`.
fn roles_dir(ts: &TestStore) -> std::path::PathBuf {
    let dir = ts.dir.path().join("decl");
    write(&dir, "a.yaml", &roles("a", 3));
    dir
}

/// Applies every file in `dir` in rounds of two declarations, expecting the apply refused.
async fn refused_in_rounds(svc: &Service, dir: &std::path::Path) -> ServiceError {
    svc.apply_paths_in_rounds(&[dir.to_path_buf()], false, 2)
        .await
        .unwrap_err()
}

/// How many NHIs the register holds.
async fn nhi_count(svc: &Service) -> i64 {
    svc.store()
        .count_nhis(&NhiFilter::default(), at(NOW))
        .await
        .unwrap()
}
