use std::collections::BTreeMap;

use keyward_connect::{Discovery, InputRecord};
use keyward_model::{
    CredentialKind, CredentialStatus, DiscoveredCredential, DiscoveredNhi, Environment, NhiKind,
    OwnerRef, UsageState,
};
use keyward_service::IngestSource;
use keyward_store::testing::backends;
use serde_json::json;

use crate::support::*;

pub fn source() -> IngestSource {
    IngestSource {
        source: "aws-iam".into(),
        connector: "test".into(),
        connector_version: "1".into(),
        locator: "account 123456789012".into(),
        inputs: json!([]),
        parameters: json!({}),
        complete: true,
        started_at: None,
        warnings: Vec::new(),
    }
}

pub fn reported(ext: &str, owner: Option<&str>) -> DiscoveredNhi {
    DiscoveredNhi {
        kind: NhiKind::IamUser,
        provider: "aws".into(),
        external_id: ext.into(),
        name: "payments-ci".into(),
        environment: Some(Environment::Production),
        owner: owner.map(|o| OwnerRef::parse(o).unwrap()),
        purpose: None,
        observed_permissions: vec!["s3:PutObject".into(), "iam:*".into()],
        created_at: Some(at("2024-01-01T00:00:00Z")),
        expires_at: None,
        last_rotated_at: None,
        last_used_at: Some(at("2026-11-20T08:00:00Z")),
        last_used_state: UsageState::Used,
        status: None,
        supplier: None,
        tags: BTreeMap::new(),
        credentials: vec![DiscoveredCredential {
            kind: CredentialKind::AccessKey,
            external_id: Some("AKIA0000000000000001".into()),
            fingerprint: None,
            preview: None,
            status: CredentialStatus::Active,
            created_at: Some(at("2024-01-01T00:00:00Z")),
            expires_at: None,
            last_rotated_at: None,
            last_used_at: Some(at("2026-11-20T08:00:00Z")),
            last_used_state: UsageState::Used,
        }],
        facts: BTreeMap::new(),
    }
}

#[tokio::test]
async fn discovery_merges_into_a_declared_nhi_without_overriding_it() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let f = write(ts.dir.path(), "a.yaml", PAYMENTS);
        svc.apply(&keyward_manifest::load_paths(&[f]).unwrap(), false)
            .await
            .unwrap();
        let ext = "arn:aws:iam::123456789012:user/payments-ci";
        let r = svc
            .ingest(&source(), &[reported(ext, Some("mallory@example.com"))])
            .await
            .unwrap();
        assert_eq!(
            (r.created, r.updated, r.credentials, r.conflicts),
            (0, 1, 1, 1),
            "{}",
            ts.backend()
        );
        let d = svc.show_nhi(ext).await.unwrap();
        assert_eq!(
            d.nhi.owner,
            Some(OwnerRef::Person("alice@example.com".into())),
            "declared owner kept"
        );
        assert_eq!(d.nhi.observed_permissions, ["iam:*", "s3:PutObject"]);
        assert_eq!(d.nhi.last_used_state, UsageState::Used);
        assert_eq!(d.credentials.len(), 1);
        let sources: Vec<_> = d.observations.iter().map(|o| o.source.as_str()).collect();
        assert_eq!(sources, ["aws-iam", "declaration"]);
        let actions: Vec<_> = d.history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["nhi.declared", "nhi.observed", "nhi.conflict"]);

        let again = svc
            .ingest(&source(), &[reported(ext, Some("mallory@example.com"))])
            .await
            .unwrap();
        assert_eq!(
            (again.updated, again.unchanged, again.credentials),
            (0, 1, 0)
        );
        svc.close().await;
    }
}

#[tokio::test]
async fn undeclared_nhis_are_created_and_later_adopted_by_a_declaration() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let ext = "arn:aws:iam::123456789012:user/payments-ci";
        let r = svc.ingest(&source(), &[reported(ext, None)]).await.unwrap();
        assert_eq!(r.created, 1);
        let before = svc.show_nhi(ext).await.unwrap();
        assert_eq!(before.nhi.declaration, None);
        assert_eq!(before.nhi.owner, None);
        let f = write(ts.dir.path(), "a.yaml", PAYMENTS);
        let a = svc
            .apply(&keyward_manifest::load_paths(&[f]).unwrap(), false)
            .await
            .unwrap();
        assert_eq!((a.adopted, a.created), (1, 1), "{}", ts.backend());
        let after = svc.show_nhi(ext).await.unwrap();
        assert_eq!(after.nhi.id, before.nhi.id, "one NHI, not two");
        assert_eq!(
            after.nhi.declaration.as_deref(),
            Some("payments-ci-deployer")
        );
        assert_eq!(
            after.nhi.observed_permissions,
            ["iam:*", "s3:PutObject"],
            "discovered facts kept"
        );
        svc.close().await;
    }
}

fn discovery(source: &str, complete: bool, nhis: Vec<DiscoveredNhi>) -> Discovery {
    Discovery {
        source: source.into(),
        scope: "aws:123456789012".into(),
        complete,
        connector: "test-connector",
        connector_version: "1.2.3",
        inputs: vec![InputRecord::endpoint(
            "http://127.0.0.1:1",
            Some("123456789012".into()),
        )],
        parameters: json!({"region": "eu-west-1"}),
        nhis,
        warnings: vec!["one record skipped".into()],
    }
}

fn role(name: &str, admin: bool) -> DiscoveredNhi {
    let mut d = DiscoveredNhi::new(
        NhiKind::IamRole,
        "aws",
        format!("arn:aws:iam::123456789012:role/{name}"),
        name,
    );
    d.facts.insert("admin".into(), json!(admin));
    d
}

#[tokio::test]
async fn facts_are_kept_per_source_and_a_complete_run_marks_what_it_no_longer_sees() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        let b = ts.backend();
        let first = svc
            .discover(
                &discovery(
                    "aws-iam",
                    true,
                    vec![role("deploy", true), role("audit", false)],
                ),
                at(NOW),
            )
            .await
            .unwrap();
        assert_eq!((first.created, first.no_longer_seen), (2, 0), "{b}");
        let run = svc.store().runs(5).await.unwrap().remove(0);
        assert_eq!(run.connector, "test-connector");
        assert_eq!(run.connector_version, "1.2.3");
        assert_eq!(run.inputs[0]["identity"], "123456789012");
        assert_eq!(run.parameters["scope"], "aws:123456789012");
        assert_eq!(run.parameters["region"], "eu-west-1");
        assert_eq!(run.counts["added"], 2);
        assert_eq!(run.counts["warnings"][0], "one record skipped");
        assert_eq!(first.run_id.as_deref(), Some(run.id.as_str()));

        let deploy = svc
            .show_nhi("arn:aws:iam::123456789012:role/deploy")
            .await
            .unwrap();
        let o = &deploy.observations[0];
        assert_eq!(
            (o.source.as_str(), o.locator.as_str()),
            ("aws-iam", "aws:123456789012")
        );
        assert_eq!(o.facts["admin"], json!(true), "{b}");
        assert_eq!(o.gone_at, None);

        // The same input again: nothing written, not even a run.
        let entries = svc.verify_ledger(None).await.unwrap().entries;
        let again = svc
            .discover(
                &discovery(
                    "aws-iam",
                    true,
                    vec![role("audit", false), role("deploy", true)],
                ),
                at(NOW),
            )
            .await
            .unwrap();
        assert_eq!(
            (again.unchanged, again.updated, again.run_id),
            (2, 0, None),
            "{b}"
        );
        assert_eq!(svc.verify_ledger(None).await.unwrap().entries, entries);

        // A fact that changes is an update with its diff in the ledger.
        let changed = svc
            .discover(
                &discovery(
                    "aws-iam",
                    true,
                    vec![role("audit", false), role("deploy", false)],
                ),
                at(NOW),
            )
            .await
            .unwrap();
        assert_eq!((changed.updated, changed.unchanged), (1, 1), "{b}");
        let deploy = svc
            .show_nhi("arn:aws:iam::123456789012:role/deploy")
            .await
            .unwrap();
        let last = deploy.history.last().unwrap();
        assert_eq!(last.action, "nhi.observed");
        let payload: serde_json::Value = serde_json::from_str(&last.payload).unwrap();
        assert_eq!(
            payload["facts"]["admin"],
            json!({"from": true, "to": false})
        );

        // A partial run (usage logs) that omits `deploy` marks nothing.
        let partial = svc
            .discover(
                &discovery("aws-iam", false, vec![role("audit", false)]),
                at(NOW),
            )
            .await
            .unwrap();
        assert_eq!((partial.no_longer_seen, partial.run_id), (0, None), "{b}");

        // A complete run without `deploy` marks it, and keeps it.
        let gone = svc
            .discover(
                &discovery("aws-iam", true, vec![role("audit", false)]),
                at(NOW),
            )
            .await
            .unwrap();
        assert_eq!((gone.no_longer_seen, gone.unchanged), (1, 1), "{b}");
        let deploy = svc
            .show_nhi("arn:aws:iam::123456789012:role/deploy")
            .await
            .unwrap();
        assert_eq!(deploy.observations[0].gone_at, Some(at(NOW)));
        assert_eq!(deploy.history.last().unwrap().action, "nhi.unseen");
        let run = svc.store().runs(1).await.unwrap().remove(0);
        assert_eq!(run.counts["no_longer_seen"], 1);
        // Marked once, not on every later run.
        let still = svc
            .discover(
                &discovery("aws-iam", true, vec![role("audit", false)]),
                at(NOW),
            )
            .await
            .unwrap();
        assert_eq!((still.no_longer_seen, still.run_id), (0, None), "{b}");

        // Seen again: the mark clears.
        let back = svc
            .discover(
                &discovery(
                    "aws-iam",
                    true,
                    vec![role("audit", false), role("deploy", false)],
                ),
                at(NOW),
            )
            .await
            .unwrap();
        assert_eq!(back.updated, 1, "{b}");
        let deploy = svc
            .show_nhi("arn:aws:iam::123456789012:role/deploy")
            .await
            .unwrap();
        assert_eq!(deploy.observations[0].gone_at, None);
        let payload: serde_json::Value =
            serde_json::from_str(&deploy.history.last().unwrap().payload).unwrap();
        assert_eq!(payload["seen_again"], json!(true));
        svc.verify_ledger(None).await.unwrap();
        svc.close().await;
    }
}

#[tokio::test]
async fn one_identity_seen_by_two_sources_is_one_nhi_with_two_observations() {
    for ts in backends().await {
        let svc = service(&ts, NOW).await;
        svc.discover(
            &discovery("aws-iam", true, vec![role("deploy", true)]),
            at(NOW),
        )
        .await
        .unwrap();
        let mut used = role("deploy", true);
        used.facts = BTreeMap::from([("source_addresses".into(), json!(["203.0.113.7"]))]);
        used.last_used_at = Some(at("2026-11-30T10:00:00Z"));
        used.last_used_state = UsageState::Used;
        let r = svc
            .discover(&discovery("cloudtrail", false, vec![used]), at(NOW))
            .await
            .unwrap();
        assert_eq!((r.created, r.updated), (0, 1), "{}", ts.backend());
        let d = svc
            .show_nhi("arn:aws:iam::123456789012:role/deploy")
            .await
            .unwrap();
        let sources: Vec<_> = d.observations.iter().map(|o| o.source.as_str()).collect();
        assert_eq!(sources, ["aws-iam", "cloudtrail"]);
        assert_eq!(d.observations[0].facts["admin"], json!(true));
        assert_eq!(
            d.observations[1].facts["source_addresses"][0],
            "203.0.113.7"
        );
        assert_eq!(d.nhi.last_used_at, Some(at("2026-11-30T10:00:00Z")));
        svc.close().await;
    }
}
