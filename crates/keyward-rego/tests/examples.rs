//! The two example policies under `tests/policies/`.

use keyward_rego::{Backend, RegoCheck, Verdict};
use serde_json::json;

use crate::{both, failures, judge, policy, violation};

#[test]
fn both_examples_compile_for_the_vm_and_name_their_package() {
    for (name, package) in [
        (
            "prod_backup_owner.rego",
            "data.keyward.checks.prod_backup_owner",
        ),
        ("required_tags.rego", "data.keyward.checks.required_tags"),
    ] {
        let (origin, source) = policy(name);
        let check = RegoCheck::compile(&origin, &source).unwrap();
        assert_eq!(check.package(), package);
        assert_eq!(check.origin(), origin);
        assert_eq!(check.backend(), Backend::Vm, "{:?}", check.vm_unsupported());
        assert_eq!(check.vm_unsupported(), None);
    }
}

#[test]
fn a_production_nhi_with_a_backup_owner_passes() {
    let (origin, source) = policy("prod_backup_owner.rego");
    let mut checks = both(&origin, &source);
    let nhi = json!({"kind": "service_account", "environment": "production", "owner": "alice", "backup_owner": "bob"});
    assert_eq!(judge(&mut checks, &nhi, &json!({})), Verdict::Pass);
}

#[test]
fn a_production_nhi_without_a_backup_owner_fails_with_a_string_message() {
    let (origin, source) = policy("prod_backup_owner.rego");
    let mut checks = both(&origin, &source);
    for backup in [json!(null), json!(""), json!("   "), json!(7)] {
        let nhi = json!({"environment": "production", "owner": "alice", "backup_owner": backup});
        assert_eq!(
            failures(judge(&mut checks, &nhi, &json!({}))),
            [violation("production NHI has no backup owner", json!({}))],
            "backup owner {backup}"
        );
    }
    let absent = json!({"environment": "production", "owner": "alice"});
    assert_eq!(
        failures(judge(&mut checks, &absent, &json!({}))),
        [violation("production NHI has no backup owner", json!({}))]
    );
}

#[test]
fn a_backup_owner_who_is_the_owner_fails_with_evidence() {
    let (origin, source) = policy("prod_backup_owner.rego");
    let mut checks = both(&origin, &source);
    let nhi = json!({"environment": "production", "owner": "alice", "backup_owner": "alice"});
    assert_eq!(
        failures(judge(&mut checks, &nhi, &json!({}))),
        [violation(
            "backup owner is the owner",
            json!({"owner": "alice"})
        )]
    );
}

#[test]
fn outside_production_the_backup_owner_check_does_not_apply() {
    let (origin, source) = policy("prod_backup_owner.rego");
    let mut checks = both(&origin, &source);
    assert!(checks.iter().all(RegoCheck::has_applies));
    for nhi in [
        json!({"environment": "staging", "owner": "alice"}),
        json!({"owner": "alice"}),
    ] {
        assert_eq!(judge(&mut checks, &nhi, &json!({})), Verdict::NotApplicable);
    }
}

#[test]
fn missing_tags_are_reported_as_a_field() {
    let (origin, source) = policy("required_tags.rego");
    let mut checks = both(&origin, &source);
    assert!(!checks[0].has_applies());
    let nhi = json!({"kind": "api_key", "tags": {"team": "payments", "owner": " "}});
    let params = json!({"required_tags": ["team", "owner", "cost-center"]});
    assert_eq!(
        failures(judge(&mut checks, &nhi, &params)),
        [violation(
            "missing required tags: cost-center, owner",
            json!({"missing": ["cost-center", "owner"]})
        )]
    );
}

#[test]
fn cost_center_is_required_when_no_tags_are_named() {
    let (origin, source) = policy("required_tags.rego");
    let mut checks = both(&origin, &source);
    let untagged = json!({"kind": "api_key"});
    let expected = [violation(
        "missing required tags: cost-center",
        json!({"missing": ["cost-center"]}),
    )];
    for params in [json!({}), json!(null), json!({"other": 1})] {
        assert_eq!(failures(judge(&mut checks, &untagged, &params)), expected);
    }
    let tagged = json!({"tags": {"cost-center": "cc-42"}});
    assert_eq!(judge(&mut checks, &tagged, &json!({})), Verdict::Pass);
}

#[test]
fn the_required_tags_parameter_decides_the_verdict() {
    let (origin, source) = policy("required_tags.rego");
    let mut checks = both(&origin, &source);
    let nhi = json!({"tags": {"cost-center": "cc-1"}});
    assert_eq!(
        judge(
            &mut checks,
            &nhi,
            &json!({"required_tags": ["cost-center"]})
        ),
        Verdict::Pass
    );
    assert_eq!(
        failures(judge(
            &mut checks,
            &nhi,
            &json!({"required_tags": ["cost-center", "env"]})
        )),
        [violation(
            "missing required tags: env",
            json!({"missing": ["env"]})
        )]
    );
    assert_eq!(
        judge(&mut checks, &nhi, &json!({"required_tags": []})),
        Verdict::Pass
    );
}
