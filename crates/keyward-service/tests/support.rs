use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use keyward_model::FixedClock;
use keyward_service::{Service, Settings};
use keyward_store::testing::TestStore;

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

pub const NOW: &str = "2026-11-22T09:00:00Z";

pub fn settings(ts: &TestStore, now: &str) -> Settings {
    Settings {
        location: ts.location.clone(),
        key_path: ts.path("keyward.key"),
        actor: "user:tester@example.com".into(),
        clock: Arc::new(FixedClock(at(now))),
    }
}

/// An initialised store, opened at `now`.
pub async fn service(ts: &TestStore, now: &str) -> Service {
    Service::init(settings(ts, now), 1000).await.unwrap();
    Service::open(settings(ts, now)).await.unwrap()
}

pub fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

pub async fn ledger_len(svc: &Service) -> i64 {
    svc.verify_ledger(None).await.unwrap().head_seq
}

pub const PAYMENTS: &str = r#"apiVersion: keyward/v1
kind: NonHumanIdentity
metadata:
  name: payments-ci-deployer
  labels: {team: payments}
spec:
  kind: iam_user
  provider: aws
  externalId: arn:aws:iam::123456789012:user/payments-ci
  environment: production
  owner: alice@example.com
  backupOwner: team:payments
  purpose: Deploys the payments service from CI
  privilegeCeiling: ["s3:PutObject", "ecs:UpdateService"]
  expires: 2027-03-31
  reviewEvery: 90d
  supplier: null
---
apiVersion: keyward/v1
kind: NonHumanIdentity
metadata:
  name: grafana-reader
spec:
  kind: service_account
  provider: gcp
  externalId: grafana@obs-prod.iam.gserviceaccount.com
  environment: production
  owner: team:platform
  purpose: Reads metrics for dashboards
  reviewEvery: 180d
  lastReviewed: 2026-01-10
"#;
