use keyward_checks::Checks;
use keyward_model::{ExceptionState, Finding, FindingState};
use keyward_service::{CheckOptions, ExceptionPolicy, ExceptionRequest, Service, ServiceError};
use keyward_store::testing::backends;
use serde_json::json;

use crate::ingest::{reported, source};
use crate::support::*;

const USER: &str = "arn:aws:iam::123456789012:user/payments-ci";

fn checks() -> Checks {
    Checks::builtin().unwrap()
}

async fn with_admin(svc: &Service, admin: bool) {
    let mut r = reported(USER, Some("alice@example.com"));
    if admin {
        r.facts.insert("admin".into(), json!(true));
    }
    svc.ingest(&source(), &[r]).await.unwrap();
}

/// A register with the payments declarations and an IAM user holding admin, as reported.
async fn admin_estate(ts: &keyward_store::testing::TestStore) -> Service {
    let svc = service(ts, NOW).await;
    let file = write(ts.dir.path(), "a.yaml", PAYMENTS);
    svc.apply_paths(&[file], false).await.unwrap();
    with_admin(&svc, true).await;
    svc
}

fn tally<'a>(r: &'a keyward_service::CheckReport, id: &str) -> &'a keyward_service::CheckTally {
    r.checks.iter().find(|c| c.id == id).unwrap()
}

async fn actions(svc: &Service, subject: &str) -> Vec<String> {
    svc.store()
        .ledger_of(subject)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn findings_open_stay_resolve_and_reopen_with_the_ledger() {
    for ts in backends().await {
        let svc = admin_estate(&ts).await;
        let nhi = svc.store().find_nhi(USER).await.unwrap();
        let fid = Finding::id_for("admin-permissions", &nhi.id);

        let first = svc.check(&mut checks()).await.unwrap();
        assert_eq!(first.nhis, 2, "{}", ts.backend());
        assert_eq!(tally(&first, "admin-permissions").failed, 1);
        assert!(first.opened >= 2, "{first:?}");
        let f = svc.store().finding(&fid).await.unwrap();
        assert_eq!(f.state, FindingState::Open);
        assert_eq!(f.evidence["sources"], json!(["aws-iam"]));

        // The same register: nothing opens or resolves, only the run is recorded.
        let before = ledger_len(&svc).await;
        let again = svc.check(&mut checks()).await.unwrap();
        assert_eq!((again.opened, again.resolved, again.updated), (0, 0, 0));
        assert_eq!(ledger_len(&svc).await, before + 1, "only run.recorded");

        with_admin(&svc, false).await;
        let cleared = svc.check(&mut checks()).await.unwrap();
        assert_eq!(tally(&cleared, "admin-permissions").resolved, 1);
        let f = svc.store().finding(&fid).await.unwrap();
        assert_eq!(f.state, FindingState::Resolved);
        assert_eq!(f.resolved_at, Some(at(NOW)));

        with_admin(&svc, true).await;
        let back = svc.check(&mut checks()).await.unwrap();
        assert_eq!(tally(&back, "admin-permissions").reopened, 1);
        let f = svc.store().finding(&fid).await.unwrap();
        assert_eq!((f.state, f.reopen_count), (FindingState::Open, 1));
        let changed = actions(&svc, &nhi.id.0)
            .await
            .into_iter()
            .filter(|a| a == "findings.changed")
            .count();
        assert_eq!(changed, 3, "opened, resolved, reopened");
        assert!(svc.verify_ledger(None).await.unwrap().ok);
        let run = svc.store().latest_run("check").await.unwrap().unwrap();
        assert_eq!(run.id, back.run_id);
        assert!(run.counts["controls"].as_array().unwrap().len() > 10);
        svc.close().await;

        // Later the evidence of an open finding changes: it is updated in place, keeping when
        // it opened, and the reopened one keeps its count.
        let later = Service::open(settings(&ts, "2026-11-28T00:00:00Z"))
            .await
            .unwrap();
        let wid = Finding::id_for("wildcard-permissions", &nhi.id);
        let w = later.store().finding(&wid).await.unwrap();
        let mut r = reported(USER, Some("alice@example.com"));
        r.facts.insert("admin".into(), json!(true));
        r.observed_permissions.push("ec2:*".into());
        later.ingest(&source(), &[r]).await.unwrap();
        let run = later.check(&mut checks()).await.unwrap();
        assert_eq!(tally(&run, "wildcard-permissions").opened, 0);
        assert!(run.updated >= 1, "{run:?}");
        let updated = later.store().finding(&wid).await.unwrap();
        assert_ne!(updated.evidence_digest, w.evidence_digest);
        assert_eq!(updated.opened_at, w.opened_at);
        assert_eq!(updated.reopen_count, 0);
        assert_eq!(updated.last_seen_at, at("2026-11-28T00:00:00Z"));
        let admin = later.store().finding(&fid).await.unwrap();
        assert_eq!((admin.state, admin.reopen_count), (FindingState::Open, 1));
        assert_eq!(admin.reopened_at, Some(at(NOW)));
        later.close().await;
    }
}

fn request(finding: &str, expires: Option<&str>, by: &str) -> ExceptionRequest {
    ExceptionRequest {
        finding: finding.into(),
        reason: "the vendor integration needs it until the migration".into(),
        compensating_controls: "alerting on every admin action".into(),
        expires: expires.map(at),
        requested_by: by.into(),
    }
}

fn refused(r: Result<impl std::fmt::Debug, ServiceError>, words: &str) {
    match r {
        Err(ServiceError::Refused(why)) => assert!(why.contains(words), "{why}"),
        other => panic!("expected a refusal with `{words}`: {other:?}"),
    }
}

#[tokio::test]
async fn an_exception_suppresses_its_finding_until_it_expires_then_the_finding_reopens() {
    for ts in backends().await {
        let policy = ExceptionPolicy {
            approvers: vec!["alice@example.com".into(), "carol@example.com".into()],
            max_days: 365,
        };
        let svc = admin_estate(&ts).await;
        svc.check(&mut checks()).await.unwrap();
        let nhi = svc.store().find_nhi(USER).await.unwrap();
        let fid = Finding::id_for("admin-permissions", &nhi.id);

        let before = ledger_len(&svc).await;
        refused(
            svc.request_exception(request(&fid, None, "alice@example.com"), &policy)
                .await,
            "needs an expiry",
        );
        refused(
            svc.request_exception(
                request(&fid, Some("2026-01-01T00:00:00Z"), "alice@example.com"),
                &policy,
            )
            .await,
            "not in the future",
        );
        refused(
            svc.request_exception(
                request(&fid, Some("2029-01-01T00:00:00Z"), "alice@example.com"),
                &policy,
            )
            .await,
            "more than 365 days",
        );
        assert_eq!(ledger_len(&svc).await, before, "refusals write nothing");

        let e = svc
            .request_exception(
                request(&fid, Some("2026-12-01T00:00:00Z"), "alice@example.com"),
                &policy,
            )
            .await
            .unwrap();
        assert_eq!(e.state, ExceptionState::Requested);
        refused(
            svc.request_exception(
                request(&fid, Some("2026-12-01T00:00:00Z"), "bob@example.com"),
                &policy,
            )
            .await,
            "already has exception",
        );
        refused(
            svc.decide_exception(&e.id, "alice@example.com", true, None, &policy)
                .await,
            "may not decide it",
        );
        refused(
            svc.decide_exception(&e.id, "bob@example.com", true, None, &policy)
                .await,
            "approver role",
        );
        let approved = svc
            .decide_exception(
                &e.id,
                "carol@example.com",
                true,
                Some("ok for a week".into()),
                &policy,
            )
            .await
            .unwrap();
        assert_eq!(approved.state, ExceptionState::Approved);
        assert_eq!(approved.decided_by.as_deref(), Some("carol@example.com"));

        let run = svc
            .check_with(&mut checks(), CheckOptions { most_severe: 100 })
            .await
            .unwrap();
        assert_eq!(tally(&run, "admin-permissions").accepted, 1);
        assert_eq!(run.unaccepted(None), run.open() - 1);
        assert!(!run.most_severe.is_empty());
        assert!(
            !run.most_severe.contains(&fid),
            "accepted findings are not ranked"
        );
        let mut suppressed = false;
        svc.for_each_open_finding(&checks(), |f| {
            if f.finding.id == fid {
                suppressed = f.exception.is_some() && !f.is_unaccepted();
            }
            Ok(())
        })
        .await
        .unwrap();
        assert!(suppressed);
        svc.close().await;

        // The clock passes the expiry: the next run expires it and the finding is open again.
        let later = Service::open(settings(&ts, "2026-12-02T00:00:00Z"))
            .await
            .unwrap();
        let run = later.check(&mut checks()).await.unwrap();
        assert_eq!(run.exceptions_expired, 1);
        assert_eq!(tally(&run, "admin-permissions").accepted, 0);
        assert_eq!(tally(&run, "admin-permissions").failed, 1);
        assert!(
            actions(&later, &e.id)
                .await
                .contains(&"exception.expired".to_owned())
        );
        assert!(
            actions(&later, &nhi.id.0)
                .await
                .contains(&"finding.reopened".to_owned())
        );
        let listed = later.list_exceptions().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].exception.state, ExceptionState::Expired);
        assert!(!listed[0].in_force);
        refused(
            later
                .decide_exception(&e.id, "carol@example.com", true, None, &policy)
                .await,
            "expired",
        );
        assert!(later.verify_ledger(None).await.unwrap().ok);
        later.close().await;
    }
}

#[tokio::test]
async fn a_run_names_its_most_severe_findings_as_a_full_listing_ranks_them() {
    for ts in backends().await {
        let svc = admin_estate(&ts).await;
        let mut set = checks();
        let mut all = Vec::new();
        let full = svc.check(&mut set).await.unwrap();
        assert!(full.most_severe.is_empty(), "none asked for");
        svc.for_each_open_finding(&set, |f| {
            all.push(f);
            Ok(())
        })
        .await
        .unwrap();
        assert!(all.len() >= 3, "{}", all.len());
        assert_eq!(full.open(), all.len() as u64);
        all.sort_by(|a, b| {
            (
                std::cmp::Reverse(a.finding.severity),
                &a.finding.check_id,
                &a.nhi.name,
            )
                .cmp(&(
                    std::cmp::Reverse(b.finding.severity),
                    &b.finding.check_id,
                    &b.nhi.name,
                ))
        });
        let high = all
            .iter()
            .filter(|f| f.finding.severity >= keyward_model::Severity::High)
            .count() as u64;
        assert_eq!(full.unaccepted(Some(keyward_model::Severity::High)), high);
        for keep in [1, 2, all.len(), all.len() + 5] {
            let run = svc
                .check_with(&mut set, CheckOptions { most_severe: keep })
                .await
                .unwrap();
            let expected: Vec<&str> = all
                .iter()
                .take(keep)
                .map(|f| f.finding.id.as_str())
                .collect();
            assert_eq!(run.most_severe, expected, "{keep} on {}", ts.backend());
            let views = svc.findings_by_id(&set, &run.most_severe).await.unwrap();
            let ids: Vec<&str> = views.iter().map(|f| f.finding.id.as_str()).collect();
            assert_eq!(ids, expected, "in the order asked");
        }
        svc.close().await;
    }
}

#[tokio::test]
async fn findings_of_a_check_switched_off_stay_as_they_were_and_are_not_reported() {
    let ts = backends().await.remove(0);
    let svc = admin_estate(&ts).await;
    svc.check(&mut checks()).await.unwrap();
    let nhi = svc.store().find_nhi(USER).await.unwrap();
    let fid = Finding::id_for("admin-permissions", &nhi.id);

    let mut off = checks();
    off.configure(&toml::from_str("[admin-permissions]\nenabled = false\n").unwrap())
        .unwrap();
    let run = svc.check(&mut off).await.unwrap();
    assert!(run.checks.iter().all(|c| c.id != "admin-permissions"));
    assert_eq!((run.opened, run.resolved), (0, 0));
    let mut listed = Vec::new();
    let n = svc
        .for_each_open_finding(&off, |f| {
            listed.push(f.finding.id);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(n as usize, listed.len());
    assert!(!listed.contains(&fid), "not reported while off");
    assert_eq!(run.open(), n, "the table's count is the listing's");
    assert_eq!(
        svc.store().finding(&fid).await.unwrap().state,
        FindingState::Open,
        "left as it was"
    );

    // Fixed while the check was off, then switched back on: the finding resolves. (Every
    // other finding is as the last run left it; the change is in which checks run.)
    with_admin(&svc, false).await;
    let run = svc.check(&mut checks()).await.unwrap();
    assert_eq!((run.opened, run.resolved, run.updated), (0, 1, 0));
    assert_eq!(
        svc.store().finding(&fid).await.unwrap().state,
        FindingState::Resolved
    );
    let again = svc.check(&mut checks()).await.unwrap();
    assert_eq!((again.opened, again.resolved, again.updated), (0, 0, 0));
    assert_eq!(again.open(), run.open());
    svc.close().await;
}

#[tokio::test]
async fn check_sarif_validates_and_ocsf_events_are_compliance_findings() {
    let ts = backends().await.remove(0);
    let svc = admin_estate(&ts).await;
    let mut set = checks();
    let report = svc.check(&mut set).await.unwrap();
    let mut all = Vec::new();
    svc.for_each_open_finding(&set, |f| {
        all.push(f);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(all.len() as u64, report.opened);
    let mut out = Vec::new();
    keyward_service::findings_out::write_sarif(&set, &all, &mut out).unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        all.len()
    );
    if let Some(schema) = keyward_scan::testing::sarif_schema().unwrap() {
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    for f in &all {
        let e = keyward_service::findings_out::ocsf_event(f, report.at);
        assert_eq!(
            (e["class_uid"].as_u64(), e["category_uid"].as_u64()),
            (Some(2003), Some(2))
        );
        assert_eq!(e["type_uid"], 200_301);
        assert_eq!(e["finding_info"]["uid"], f.finding.id.as_str());
        assert_eq!(e["compliance"]["control"], f.finding.check_id.as_str());
        assert!((1..=5).contains(&e["severity_id"].as_u64().unwrap()));
    }
    svc.close().await;
}
