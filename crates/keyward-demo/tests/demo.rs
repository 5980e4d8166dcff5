//! `keyward demo` end to end: the sample estate, its discovery and its leaked credentials.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;
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
    // Slack webhook and a database URL; in the second repository, the same Stripe key twice.
    let s = &report.secrets;
    assert_eq!((s.findings, s.secrets), (9, 5), "{s:?}");
    assert_eq!(
        s.linked, 2,
        "the key id and its secret belong to an inventoried key: {s:?}"
    );
    assert_eq!(s.created_nhis, 3, "{s:?}");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    let second = demo().await.unwrap();
    assert_ne!(second.store, report.store, "each run makes a fresh store");
    assert_eq!(
        second.secrets.findings, 9,
        "the same seed gives the same estate"
    );
}

/// Every OWASP NHI Top 10 risk has a finding that came through a real connector or the secret
/// scanner, not one set by hand.
#[tokio::test]
async fn every_owasp_risk_has_a_finding_on_the_demo_estate() {
    let out = tempfile::tempdir().unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-06-01T09:30:00Z")
        .unwrap()
        .to_utc();
    let started = std::time::Instant::now();
    let report = keyward_demo::run(
        out.path(),
        keyward_demo::DEFAULT_NHIS,
        2027,
        "user:demo@example.com",
        Arc::new(FixedClock(now)),
    )
    .await
    .unwrap();
    eprintln!("demo took {:?}", started.elapsed());

    let mut fired: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in &report.check.checks {
        if let Some(risk) = &t.owasp {
            let list = fired.entry(risk.clone()).or_default();
            if t.failed > 0 {
                list.push(format!("{} ({})", t.id, t.failed));
            }
        }
        eprintln!(
            "{:<32} {:<6} {:>5} {:>5}",
            t.id,
            t.owasp.as_deref().unwrap_or("-"),
            t.applicable,
            t.failed
        );
    }
    for risk in (1..=10).map(|n| format!("NHI{n}")) {
        assert!(
            fired.get(&risk).is_some_and(|l| !l.is_empty()),
            "no check of {risk} failed; fired per risk: {fired:#?}"
        );
    }
    let failed = |id: &str| {
        report
            .check
            .checks
            .iter()
            .find(|t| t.id == id)
            .map_or(0, |t| t.failed)
    };
    for id in [
        "unpinned-action-holds-secret",
        "third-party-holds-secret",
        "static-key-where-federation",
        "weak-key",
        "password-auth",
        "admin-permissions",
        "cluster-admin",
        "oidc-trust-without-subject",
        "static-cloud-key-in-ci",
        "untrusted-code-with-secrets",
        "shared-across-environments",
        "reused-across-repositories",
        "shared-by-workloads",
        "used-from-many-addresses",
        "console-use",
        "workstation-use",
    ] {
        assert!(
            failed(id) > 0,
            "`{id}` did not fire; fired per risk: {fired:#?}"
        );
    }
    for (connector, r) in &report.discovery {
        assert!(r.reported > 0, "{connector} reported nothing");
    }
    for c in [
        "aws-iam-files",
        "cloudtrail-files",
        "k8s-manifests",
        "k8s-audit-files",
        "ci-files",
        "ssh-files",
    ] {
        assert!(report.discovery.contains_key(c), "{c} did not run");
    }
    eprintln!("{:#?}", report.discovery_warnings);
}
