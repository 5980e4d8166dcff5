//! What `deny`, `applies`, `input` and `data.params` mean, shown on small inline modules.

use keyward_rego::{RegoCheck, RegoError, Verdict};
use serde_json::json;

use crate::{both, failures, judge, violation};

const STALE: &str = r#"package keyward.checks.stale_credentials

max_age := object.get(data.params, "max_age_days", 90)

deny contains {"msg": sprintf("credential `%s` is %d days old", [c.id, c.age_days]), "credential": c.id, "age_days": c.age_days} if {
	some c in input.credentials
	c.age_days > max_age
}
"#;

#[test]
fn the_same_nhi_passes_or_fails_by_a_threshold_parameter() {
    let mut checks = both("stale.rego", STALE);
    let nhi = json!({"credentials": [{"id": "k1", "age_days": 120}, {"id": "k2", "age_days": 10}]});
    let expected = [violation(
        "credential `k1` is 120 days old",
        json!({"credential": "k1", "age_days": 120}),
    )];
    // Back and forth on the same engines: a parameter change must take effect each time.
    assert_eq!(
        failures(judge(&mut checks, &nhi, &json!({"max_age_days": 90}))),
        expected
    );
    assert_eq!(
        judge(&mut checks, &nhi, &json!({"max_age_days": 365})),
        Verdict::Pass
    );
    assert_eq!(failures(judge(&mut checks, &nhi, &json!({}))), expected);
    assert_eq!(
        judge(&mut checks, &nhi, &json!({"max_age_days": 120})),
        Verdict::Pass
    );
    assert_eq!(
        failures(judge(&mut checks, &nhi, &json!({"max_age_days": 5}))).len(),
        2
    );
}

#[test]
fn an_undefined_deny_passes() {
    let source = "package keyward.checks.flagged\n\ndeny := [\"flagged\"] if input.flagged\n";
    let mut checks = both("flagged.rego", source);
    assert_eq!(
        judge(&mut checks, &json!({"flagged": false}), &json!({})),
        Verdict::Pass
    );
    assert_eq!(judge(&mut checks, &json!({}), &json!({})), Verdict::Pass);
    assert_eq!(
        failures(judge(&mut checks, &json!({"flagged": true}), &json!({}))),
        [violation("flagged", json!({}))]
    );
}

#[test]
fn an_empty_deny_set_passes() {
    let source = "package keyward.checks.never\n\ndeny contains \"x\" if input.kind == \"never\"\n";
    let mut checks = both("never.rego", source);
    assert_eq!(
        judge(&mut checks, &json!({"kind": "api_key"}), &json!({})),
        Verdict::Pass
    );
}

#[test]
fn import_rego_v1_and_plain_v1_modules_judge_alike() {
    let body = "\ndeny contains msg if {\n\tsome p in input.permissions\n\tendswith(p, \"*\")\n\tmsg := sprintf(\"wildcard `%s`\", [p])\n}\n";
    let plain = format!("package keyward.checks.wildcards\n{body}");
    let imported = format!("package keyward.checks.wildcards\n\nimport rego.v1\n{body}");
    let nhi = json!({"permissions": ["s3:GetObject", "iam:*", "ec2:*"]});
    let expected = [
        violation("wildcard `ec2:*`", json!({})),
        violation("wildcard `iam:*`", json!({})),
    ];
    for source in [plain, imported] {
        let mut checks = both("wildcards.rego", &source);
        assert_eq!(failures(judge(&mut checks, &nhi, &json!({}))), expected);
    }
}

#[test]
fn object_members_keep_every_field_but_msg_as_evidence() {
    let source = r#"package keyward.checks.evidence

deny contains {"msg": "m", "count": 2, "ratio": 0.5, "ok": false, "none": null, "list": ["a", 1], "nested": {"k": {"v": true}}, "set": {"b", "a"}} if true
"#;
    let mut checks = both("evidence.rego", source);
    assert_eq!(
        failures(judge(&mut checks, &json!({}), &json!({}))),
        [violation(
            "m",
            json!({"count": 2, "ratio": 0.5, "ok": false, "none": null, "list": ["a", 1], "nested": {"k": {"v": true}}, "set": ["a", "b"]})
        )]
    );
}

#[test]
fn applies_may_be_defaulted_false_or_left_undefined() {
    for applies in [
        "default applies := false\n\napplies if input.kind == \"api_key\"\n",
        "applies if input.kind == \"api_key\"\n",
    ] {
        let source =
            format!("package keyward.checks.keys\n\n{applies}\ndeny contains \"key\" if true\n");
        let mut checks = both("keys.rego", &source);
        assert_eq!(
            judge(&mut checks, &json!({"kind": "role"}), &json!({})),
            Verdict::NotApplicable
        );
        assert_eq!(
            failures(judge(&mut checks, &json!({"kind": "api_key"}), &json!({}))),
            [violation("key", json!({}))]
        );
    }
}

#[test]
fn a_failing_builtin_leaves_its_expression_undefined() {
    let source =
        "package keyward.checks.numbers\n\ndeny contains \"big\" if to_number(input.size) > 10\n";
    let mut checks = both("numbers.rego", source);
    assert_eq!(
        judge(&mut checks, &json!({"size": "lots"}), &json!({})),
        Verdict::Pass
    );
    assert_eq!(
        failures(judge(&mut checks, &json!({"size": "11"}), &json!({}))),
        [violation("big", json!({}))]
    );
}

#[test]
fn bad_deny_members_are_errors_naming_the_package_and_the_member() {
    for (member, found) in [
        ("42", "number `42`"),
        ("{\"message\": \"x\"}", "object `{\"message\":\"x\"}`"),
        ("{\"msg\": 1}", "object `{\"msg\":1}`"),
        ("[\"x\"]", "array `[\"x\"]`"),
    ] {
        let source = format!("package keyward.checks.bad\n\ndeny contains {member} if true\n");
        for mut check in both("bad.rego", &source) {
            let err = check.evaluate(&json!({}), &json!({})).unwrap_err();
            assert!(matches!(err, RegoError::DenyMember { .. }), "{err}");
            assert_eq!(
                err.to_string(),
                format!(
                    "`data.keyward.checks.bad`: a `deny` member must be a string or an object with a string `msg`, found {found}"
                )
            );
        }
    }
}

#[test]
fn deny_must_be_a_collection_and_applies_a_boolean() {
    let source = "package keyward.checks.shapes\n\ndeny := \"no\" if true\n";
    for mut check in both("shapes.rego", source) {
        let err = check.evaluate(&json!({}), &json!({})).unwrap_err();
        assert!(matches!(err, RegoError::DenyNotCollection { .. }), "{err}");
        assert!(err.to_string().contains("found string `\"no\"`"), "{err}");
    }
    let source =
        "package keyward.checks.shapes\n\napplies := \"yes\"\n\ndeny contains \"x\" if true\n";
    for mut check in both("shapes.rego", source) {
        let err = check.evaluate(&json!({}), &json!({})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`data.keyward.checks.shapes`: `applies` must be a boolean, found string `\"yes\"`"
        );
    }
}

#[test]
fn input_and_params_must_be_objects() {
    let mut check = RegoCheck::compile(
        "never.rego",
        "package keyward.checks.never\n\ndeny contains \"x\" if false\n",
    )
    .unwrap();
    let err = check.evaluate(&json!(["nhi"]), &json!({})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`data.keyward.checks.never`: input must be a JSON object, found an array"
    );
    let err = check.evaluate(&json!({}), &json!(3)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`data.keyward.checks.never`: params must be a JSON object, found a number"
    );
    // A refused parameter set leaves the engine usable.
    assert_eq!(
        check.evaluate(&json!({}), &json!({})).unwrap(),
        Verdict::Pass
    );
}

#[test]
fn the_crate_documentation_example_judges_as_it_says() {
    let source = "package keyward.checks.prod_backup_owner\n\napplies if input.environment == \"production\"\n\ndeny contains \"production NHI has no backup owner\" if not has_backup_owner\n\n# Undefined, and so not a backup owner, unless a non-blank string.\nhas_backup_owner if trim_space(input.backup_owner) != \"\"\n";
    let mut checks = both("doc.rego", source);
    for backup in [json!(null), json!(""), json!(3)] {
        let nhi = json!({"environment": "production", "backup_owner": backup});
        assert_eq!(
            failures(judge(&mut checks, &nhi, &json!({}))),
            [violation("production NHI has no backup owner", json!({}))]
        );
    }
    let nhi = json!({"environment": "production", "backup_owner": "bob"});
    assert_eq!(judge(&mut checks, &nhi, &json!({})), Verdict::Pass);
}
