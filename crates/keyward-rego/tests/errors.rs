//! Modules that are refused, and what the refusal says.

use keyward_rego::{Backend, RegoCheck, RegoError, Verdict};
use serde_json::json;

use crate::{both, failures, judge, violation};

fn refuse(origin: &str, source: &str) -> RegoError {
    match RegoCheck::compile(origin, source) {
        Ok(check) => panic!("{origin} compiled: {check:?}"),
        Err(err) => err,
    }
}

#[test]
fn a_syntax_error_names_the_file_line_and_column() {
    let source = "package keyward.checks.broken\n\ndeny contains msg if {\n\tinput.age >\n}\n";
    let err = refuse("policies/broken.rego", source);
    let RegoError::Syntax {
        origin,
        line,
        column,
        message,
    } = &err
    else {
        panic!("expected a syntax error, got {err:?}")
    };
    assert_eq!(
        (origin.as_str(), *line, *column),
        ("policies/broken.rego", 5, 1)
    );
    assert!(!message.is_empty());
    assert!(
        err.to_string().starts_with("`policies/broken.rego`:5:1: "),
        "{err}"
    );
    assert!(!err.to_string().contains('\n'), "{err}");
}

#[test]
fn rego_v0_syntax_is_refused_at_its_position() {
    let source = "package keyward.checks.old\n\ndeny[msg] {\n\tmsg := \"x\"\n}\n";
    let err = refuse("old.rego", source);
    assert!(
        err.to_string()
            .starts_with("`old.rego`:3:11: `if` keyword is required"),
        "{err}"
    );
}

#[test]
fn a_package_outside_keyward_checks_is_refused_by_name() {
    for package in [
        "example.policy",
        "keyward.check.x",
        "keyward.checks",
        "checks.keyward.x",
    ] {
        let source = format!("package {package}\n\ndeny contains \"x\" if true\n");
        let err = refuse("outside.rego", &source);
        assert_eq!(
            err,
            RegoError::PackageOutside {
                origin: "outside.rego".to_owned(),
                package: package.to_owned()
            }
        );
        assert_eq!(
            err.to_string(),
            format!(
                "`outside.rego`: package `{package}` is outside `keyward.checks`; a custom check declares `package keyward.checks.<name>`"
            )
        );
    }
}

#[test]
fn a_package_component_must_be_an_identifier() {
    let source = "package keyward.checks[\"prod-owner\"]\n\ndeny contains \"x\" if true\n";
    let err = refuse("quoted.rego", source);
    assert!(
        matches!(err, RegoError::PackageComponent { ref component, .. } if component == "prod-owner"),
        "{err}"
    );
}

#[test]
fn a_module_without_deny_is_refused() {
    let source = "package keyward.checks.typo\n\ndenny contains \"x\" if true\n";
    let err = refuse("typo.rego", source);
    assert_eq!(
        err.to_string(),
        "`typo.rego`: package `keyward.checks.typo` declares no `deny` rule"
    );
}

#[test]
fn unknown_functions_and_unsafe_variables_are_refused_at_compile_time() {
    // regorus points at the call's parenthesis (and counts a tab as four columns).
    let unknown = "package keyward.checks.u\n\ndeny contains msg if {\n  input.x > 1\n  msg := frobnicate(input.x)\n}\n";
    let err = refuse("unknown.rego", unknown);
    assert_eq!(
        err.to_string(),
        "`unknown.rego`:5:20: unknown function: 'frobnicate'"
    );
    let unsafe_var = "package keyward.checks.u\n\ndeny contains msg if {\n\tinput.x > 1\n}\n";
    let err = refuse("unsafe.rego", unsafe_var);
    assert!(matches!(err, RegoError::Syntax { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("msg"), "{err}");
    // Environment-reading builtins are not compiled in.
    let runtime = "package keyward.checks.u\n\ndeny contains \"x\" if opa.runtime().env.HOME\n";
    let err = refuse("runtime.rego", runtime);
    assert!(err.to_string().contains("opa.runtime"), "{err}");
}

#[test]
fn what_the_vm_cannot_compile_runs_on_the_interpreter() {
    let source = r#"package keyward.checks.printing

deny contains "prod" if {
	print("environment:", input.environment)
	input.environment == "production"
}
"#;
    let mut check = RegoCheck::compile("printing.rego", source).unwrap();
    assert_eq!(check.backend(), Backend::Interpreter);
    let reason = check.vm_unsupported().unwrap();
    assert!(reason.contains("print"), "{reason}");
    assert_eq!(
        failures(
            check
                .evaluate(&json!({"environment": "production"}), &json!({}))
                .unwrap()
        ),
        [violation("prod", json!({}))]
    );
    assert_eq!(
        check
            .evaluate(&json!({"environment": "dev"}), &json!({}))
            .unwrap(),
        Verdict::Pass
    );

    let err = RegoCheck::compile_with("printing.rego", source, Backend::Vm).unwrap_err();
    assert!(matches!(err, RegoError::VmUnsupported { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("`printing.rego`: the VM backend cannot run this module: "),
        "{err}"
    );
}

#[test]
fn with_runs_on_the_interpreter() {
    let source = r#"package keyward.checks.mocked

prod if input.environment == "production"

deny contains "would fail in production" if prod with input.environment as "production"
"#;
    let mut check = RegoCheck::compile("mocked.rego", source).unwrap();
    assert_eq!(check.backend(), Backend::Interpreter);
    assert!(check.vm_unsupported().unwrap().contains("with"));
    assert_eq!(
        failures(
            check
                .evaluate(&json!({"environment": "dev"}), &json!({}))
                .unwrap()
        ),
        [violation("would fail in production", json!({}))]
    );
}

const CONFLICT: &str = "package keyward.checks.conflict\n\nlevel := 1 if input.a\n\nlevel := 2 if input.b\n\ndeny contains \"x\" if level > 0\n";

#[test]
fn a_runtime_error_names_the_package_and_leaves_the_engine_usable() {
    let mut check =
        RegoCheck::compile_with("conflict.rego", CONFLICT, Backend::Interpreter).unwrap();
    let err = check
        .evaluate(&json!({"a": true, "b": true}), &json!({}))
        .unwrap_err();
    assert_eq!(
        err,
        RegoError::Evaluation {
            package: "data.keyward.checks.conflict".to_owned(),
            message: "`conflict.rego`:5:1: rule conflicts with rule at conflict.rego:3:1"
                .to_owned(),
        }
    );
    assert_eq!(
        err.to_string(),
        "`data.keyward.checks.conflict`: evaluation failed: `conflict.rego`:5:1: rule conflicts with rule at conflict.rego:3:1"
    );
    assert_eq!(
        failures(check.evaluate(&json!({"b": true}), &json!({})).unwrap()),
        [violation("x", json!({}))]
    );
}

/// Pins a difference between the backends: regorus's VM leaves a complete rule whose
/// definitions disagree undefined, where the interpreter (and OPA) fail.
#[test]
fn the_vm_leaves_conflicting_rules_undefined() {
    let mut check = RegoCheck::compile("conflict.rego", CONFLICT).unwrap();
    assert_eq!(check.backend(), Backend::Vm);
    assert_eq!(
        check
            .evaluate(&json!({"a": true, "b": true}), &json!({}))
            .unwrap(),
        Verdict::Pass
    );
    let mut checks = both("conflict.rego", CONFLICT);
    assert_eq!(
        failures(judge(&mut checks, &json!({"a": true}), &json!({}))),
        [violation("x", json!({}))]
    );
}

#[test]
fn a_runaway_evaluation_is_stopped_on_the_vm() {
    let source = "package keyward.checks.runaway\n\ndeny contains \"x\" if {\n  some i in numbers.range(1, 5000)\n  some j in numbers.range(1, 5000)\n  i * j < 0\n}\n";
    let mut check = RegoCheck::compile_with("runaway.rego", source, Backend::Vm).unwrap();
    let err = check.evaluate(&json!({}), &json!({})).unwrap_err();
    assert!(matches!(err, RegoError::Evaluation { .. }), "{err}");
    assert!(err.to_string().contains("10000000"), "{err}");
}
