use std::collections::BTreeMap;

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
