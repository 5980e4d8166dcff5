//! `keyward demo` end to end: the sample estate, its discovery and its leaked credentials.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;

use keyward_model::FixedClock;

#[tokio::test]
async fn the_demo_builds_an_estate_and_finds_its_leaked_credentials() {
    let out = tempfile::tempdir().unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-06-01T09:30:00Z")
        .unwrap()
        .to_utc();
    let demo = || {
        keyward_demo::run(
            out.path(),
            320,
            7,
            "user:demo@example.com",
            Arc::new(FixedClock(now)),
        )
    };
    let report = demo().await.unwrap();
    assert!(report.posture.total >= 320, "{:?}", report.posture.total);
    assert!(report.apply.created > 0 && report.people.added > 0);

    // Two environment files with one inventoried AWS key and its secret, a Stripe key, a
    // Slack webhook and a database URL.
    let s = &report.secrets;
    assert_eq!((s.findings, s.secrets), (7, 5), "{s:?}");
    assert_eq!(
        s.linked, 2,
        "the key id and its secret belong to an inventoried key: {s:?}"
    );
    assert_eq!(s.created_nhis, 3, "{s:?}");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    let second = demo().await.unwrap();
    assert_ne!(second.store, report.store, "each run makes a fresh store");
    assert_eq!(
        second.secrets.findings, 7,
        "the same seed gives the same estate"
    );
}
