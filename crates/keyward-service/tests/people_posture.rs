use keyward_store::testing::backends;

use crate::support::*;

const PEOPLE: &str = "email,name,team,manager_email,status,departed_on
alice@example.com,Alice Adams,payments,carol@example.com,active,
bob@example.com,Bob Brown,platform,carol@example.com,active,
carol@example.com,Carol Chen,,,active,
";

#[tokio::test]
async fn people_import_is_idempotent_and_records_departures() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let people = keyward_manifest::parse_people_csv("people.csv", PEOPLE).unwrap();
        let r = svc
            .import_people("people.csv", "sha", &people)
            .await
            .unwrap();
        assert_eq!(
            (r.added, r.updated, r.unchanged),
            (3, 0, 0),
            "{}",
            ts.backend()
        );
        let head = ledger_len(&svc).await;
        let again = svc
            .import_people("people.csv", "sha", &people)
            .await
            .unwrap();
        assert_eq!(
            (again.added, again.unchanged, again.ledger_entries),
            (0, 3, 0)
        );
        assert_eq!(ledger_len(&svc).await, head);

        let left = PEOPLE.replace(
            "alice@example.com,Alice Adams,payments,carol@example.com,active,",
            "alice@example.com,Alice Adams,payments,carol@example.com,departed,2026-11-01",
        );
        let people = keyward_manifest::parse_people_csv("people.csv", &left).unwrap();
        let r = svc
            .import_people("people.csv", "sha2", &people)
            .await
            .unwrap();
        assert_eq!((r.updated, r.departed, r.unchanged), (1, 1, 2));
        let history = svc
            .store()
            .ledger_of("person:alice@example.com")
            .await
            .unwrap();
        assert_eq!(
            history
                .iter()
                .map(|e| e.action.as_str())
                .collect::<Vec<_>>(),
            ["person.added", "person.departed"]
        );
        svc.close().await;
    }
}

#[tokio::test]
async fn posture_counts_each_gap_at_a_fixed_time() {
    for ts in backends().await {
        // Registered on NOW; judged a year later, when the 90-day review is overdue and the
        // 2027-03-31 expiry has passed.
        let svc = service(&ts, NOW).await;
        let people = keyward_manifest::parse_people_csv(
            "people.csv",
            &PEOPLE.replace(",active,\nbob", ",departed,2026-10-01\nbob"),
        )
        .unwrap();
        svc.import_people("people.csv", "sha", &people)
            .await
            .unwrap();
        let unowned = PAYMENTS.to_owned()
            + "---\napiVersion: keyward/v1\nkind: NonHumanIdentity\nmetadata:\n  name: orphan\nspec:\n  kind: api_key\n  provider: stripe\n  environment: staging\n";
        let f = write(ts.dir.path(), "a.yaml", &unowned);
        svc.apply(&keyward_manifest::load_paths(&[f]).unwrap(), false)
            .await
            .unwrap();
        svc.close().await;

        let later = keyward_service::Service::open(settings(&ts, "2027-11-22T09:00:00Z"))
            .await
            .unwrap();
        let p = later.posture(30).await.unwrap();
        assert_eq!((p.total, p.live), (3, 3), "{}", ts.backend());
        let gap = |k: &str| p.gaps.iter().find(|g| g.key == k).unwrap().count;
        assert_eq!(gap("unowned"), 1);
        assert_eq!(gap("owner_departed"), 1, "alice departed");
        assert_eq!(gap("no_expiry"), 2);
        assert_eq!(gap("expired_active"), 1);
        assert_eq!(
            gap("review_overdue"),
            2,
            "payments (90d) and grafana (180d from January)"
        );
        assert_eq!(gap("never_reviewed"), 2);
        assert_eq!(gap("no_review_cadence"), 1);
        assert_eq!(gap("undeclared"), 0);
        let pct = p.gaps.iter().find(|g| g.key == "unowned").unwrap().percent;
        assert_eq!(pct, 33.3);
        assert_eq!(
            p.by_kind
                .iter()
                .map(|(k, n)| (k.as_str(), *n))
                .collect::<Vec<_>>(),
            [("api_key", 1), ("iam_user", 1), ("service_account", 1)]
        );

        let now = later.posture(30).await.unwrap();
        assert_eq!(now, p, "same clock, same answer");
        later.close().await;
    }
}
