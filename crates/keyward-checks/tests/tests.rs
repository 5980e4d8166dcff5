//! The checks' data and behaviour: every built-in has metadata and vice versa, every inline
//! case passes, and `keyward.toml` settings apply per environment.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::collections::BTreeMap;

use keyward_checks::builtins::BUILTINS;
use keyward_checks::{CheckError, Checks, Expect, Outcome, Subject, case_epoch};
use keyward_model::Environment;

fn builtin() -> Checks {
    match Checks::builtin() {
        Ok(c) => c,
        Err(e) => panic!("the embedded checks do not load: {e}"),
    }
}

#[test]
fn every_builtin_has_metadata_and_every_check_file_entry_has_logic() {
    let checks = builtin();
    let ids: Vec<&str> = checks.all().iter().map(|c| c.id()).collect();
    for (id, _) in BUILTINS {
        assert!(
            ids.contains(id),
            "built-in `{id}` has no entry in data/checks"
        );
    }
    assert_eq!(ids.len(), BUILTINS.len());
}

#[test]
fn at_least_thirty_checks_and_two_per_owasp_risk() {
    let checks = builtin();
    assert!(checks.all().len() >= 30, "{}", checks.all().len());
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for c in checks.all() {
        if let Some(o) = &c.meta.owasp {
            *per.entry(o.clone()).or_default() += 1;
        }
    }
    for n in 1..=10 {
        let risk = format!("NHI{n}");
        assert!(
            per.get(&risk).copied().unwrap_or(0) >= 2,
            "{risk} has fewer than two checks: {per:?}"
        );
    }
}

#[test]
fn every_check_is_mapped_and_can_both_fail_and_not_fail() {
    let checks = builtin();
    for c in checks.all() {
        let m = &c.meta;
        assert!(!m.iso27001.is_empty(), "{}: no Annex A control", m.id);
        assert!(!m.nist_csf.is_empty(), "{}: no CSF subcategory", m.id);
        assert!(
            m.cases.iter().any(|k| k.expect == Expect::Fail),
            "{}: no case that fails",
            m.id
        );
        assert!(
            m.cases.iter().any(|k| k.expect != Expect::Fail),
            "{}: no case that does not fail",
            m.id
        );
    }
}

#[test]
fn every_inline_case_passes() {
    let mut checks = builtin();
    let failures = checks.run_cases();
    let total: usize = checks.all().iter().map(|c| c.meta.cases.len()).sum();
    assert!(total >= 100, "{total} cases");
    assert!(
        failures.is_empty(),
        "{}",
        failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_wrong_expectation_is_reported() {
    // The case runner must be able to fail: flip every case and see each reported.
    let mut checks = builtin();
    let mut flipped = checks.clone();
    let failures = flipped.run_cases_with(|case| {
        case.expect = match case.expect {
            Expect::Fail => Expect::Pass,
            _ => Expect::Fail,
        };
    });
    assert_eq!(
        failures.len(),
        checks
            .all()
            .iter()
            .map(|c| c.meta.cases.len())
            .sum::<usize>()
    );
    assert!(checks.run_cases().is_empty());
}

fn subject(env: Environment, rotated: &str) -> Subject {
    let mut s: Subject = match serde_json::from_value(serde_json::json!({
        "kind": "access_key",
        "last_rotated_at": rotated,
    })) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    s.environment = env;
    s
}

fn outcome(checks: &mut Checks, id: &str, s: &Subject) -> Outcome {
    let mut got = None;
    let r = checks.evaluate(s, case_epoch(), |c, o| {
        if c.id() == id {
            got = Some(o);
        }
    });
    assert!(r.is_ok());
    got.unwrap_or(Outcome::NotApplicable)
}

#[test]
fn parameters_resolve_per_environment_and_keyward_toml_overrides_them() {
    let mut checks = builtin();
    let prod = subject(Environment::Production, "2026-01-15T00:00:00Z");
    let dev = subject(Environment::Development, "2026-01-15T00:00:00Z");
    assert!(matches!(
        outcome(&mut checks, "not-rotated", &prod),
        Outcome::Fail(_)
    ));
    assert_eq!(outcome(&mut checks, "not-rotated", &dev), Outcome::Pass);

    let table: toml::Table = match toml::from_str(
        "[not-rotated]\nmax_age_days = 30\n[not-rotated.production]\nmax_age_days = 400\n",
    ) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert!(checks.configure(&table).is_ok());
    assert_eq!(outcome(&mut checks, "not-rotated", &prod), Outcome::Pass);
    assert!(matches!(
        outcome(&mut checks, "not-rotated", &dev),
        Outcome::Fail(_)
    ));

    let off: toml::Table = match toml::from_str("[not-rotated]\nenabled = false\n") {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert!(checks.configure(&off).is_ok());
    assert!(checks.enabled().all(|c| c.id() != "not-rotated"));
}

#[test]
fn bad_settings_name_the_field() {
    let mut checks = builtin();
    for (text, field, words) in [
        ("[nope]\nx = 1\n", "checks.nope", "not a check"),
        (
            "[not-rotated]\nmax_age = 1\n",
            "checks.not-rotated.max_age",
            "not a parameter",
        ),
        (
            "[not-rotated]\nmax_age_days = \"x\"\n",
            "checks.not-rotated.max_age_days",
            "whole number",
        ),
        (
            "[not-rotated]\nseverity = \"urgent\"\n",
            "checks.not-rotated.severity",
            "not a valid severity",
        ),
        (
            "[not-rotated]\nenabled = 1\n",
            "checks.not-rotated.enabled",
            "true or false",
        ),
        (
            "[not-rotated.production]\nkinds = [1]\n",
            "checks.not-rotated.production.kinds",
            "list of strings",
        ),
    ] {
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        match checks.configure(&table) {
            Err(CheckError::Config { field: f, reason }) => {
                assert_eq!(f, field, "{text}");
                assert!(reason.contains(words), "{text}: {reason}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn retired_identities_are_not_judged() {
    let mut checks = builtin();
    let s: Subject = match serde_json::from_value(serde_json::json!({"status": "retired"})) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut judged = 0;
    let r = checks.evaluate(&s, case_epoch(), |_, o| {
        if o != Outcome::NotApplicable {
            judged += 1;
        }
    });
    assert!(r.is_ok());
    assert_eq!(judged, 0);
}

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies")
}

#[test]
fn the_worked_rego_examples_load_and_their_cases_pass() {
    let mut checks = builtin();
    let builtins = checks.all().len();
    if let Err(e) = checks.load_policies(&examples()) {
        panic!("{e}");
    }
    assert_eq!(checks.all().len(), builtins + 2);
    assert!(checks.get("required-tags").is_some_and(|c| c.is_custom()));
    let failures = checks.run_cases();
    assert!(failures.is_empty(), "{failures:?}");
    // A custom check's parameters come from keyward.toml like a built-in's.
    let table: toml::Table = match toml::from_str("[supplier-expiry-horizon]\nmax_days = 1000\n") {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert!(checks.configure(&table).is_ok());
    let s: Subject = match serde_json::from_value(serde_json::json!({
        "supplier": "acme", "expires_at": "2028-06-01T00:00:00Z"
    })) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        outcome(&mut checks, "supplier-expiry-horizon", &s),
        Outcome::Pass
    );
}

#[test]
fn bad_custom_checks_are_refused_naming_the_file() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let write = |name: &str, text: &str| {
        if let Err(e) = std::fs::write(dir.path().join(name), text) {
            panic!("{e}");
        }
    };
    let meta = "checks:\n  - id: broken\n    title: t\n    severity: low\n    rationale: r\n    remediation: m\n    iso27001: [A.5.9]\n    rego: broken.rego\n";
    write("broken.yaml", meta);
    write(
        "broken.rego",
        "package keyward.checks.broken\n\ndeny contains msg if {\n  msg := \n}\n",
    );
    let mut checks = builtin();
    match checks.load_policies(dir.path()) {
        Err(CheckError::Rego(m)) => assert!(m.contains("broken.rego"), "{m}"),
        other => panic!("{other:?}"),
    }
    write("broken.yaml", &meta.replace("A.5.9", "A.9.9"));
    match builtin().load_policies(dir.path()) {
        Err(CheckError::Data {
            file,
            field,
            reason,
            ..
        }) => {
            assert!(file.ends_with("broken.yaml"), "{file}");
            assert_eq!(field, "broken.iso27001");
            assert!(reason.contains("A.9.9"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    write("broken.yaml", &meta.replace("id: broken", "id: unowned"));
    write(
        "broken.rego",
        "package keyward.checks.broken\n\ndeny contains \"x\" if { false }\n",
    );
    match builtin().load_policies(dir.path()) {
        Err(CheckError::Data { field, reason, .. }) => {
            assert_eq!(field, "unowned.id");
            assert!(reason.contains("another check"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}
