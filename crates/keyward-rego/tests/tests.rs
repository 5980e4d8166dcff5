//! Custom checks compiled and evaluated end to end, on both of regorus's backends.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

mod conventions;
mod errors;
mod examples;
mod reuse;

use keyward_rego::{Backend, RegoCheck, Verdict, Violation};
use serde_json::Value;

/// The origin and source of a policy under `tests/policies/`.
fn policy(name: &str) -> (String, String) {
    let path = format!("{}/tests/policies/{name}", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (format!("tests/policies/{name}"), source)
}

/// The same module compiled for the VM and for the interpreter.
fn both(origin: &str, source: &str) -> Vec<RegoCheck> {
    [Backend::Vm, Backend::Interpreter]
        .into_iter()
        .map(|backend| {
            let check = RegoCheck::compile_with(origin, source, backend)
                .unwrap_or_else(|e| panic!("{backend}: {e}"));
            assert_eq!(check.backend(), backend);
            check
        })
        .collect()
}

/// Evaluates `input` on every engine, checks they agree, and returns the verdict.
fn judge(checks: &mut [RegoCheck], input: &Value, params: &Value) -> Verdict {
    let mut verdicts = checks.iter_mut().map(|check| {
        check
            .evaluate(input, params)
            .unwrap_or_else(|e| panic!("{}: {e}", check.backend()))
    });
    let first = verdicts.next().unwrap();
    for other in verdicts {
        assert_eq!(other, first, "the backends disagree on {input}");
    }
    first
}

/// A violation with the given message and fields.
fn violation(message: &str, fields: Value) -> Violation {
    let Value::Object(fields) = fields else {
        panic!("fields must be an object")
    };
    Violation {
        message: message.to_owned(),
        fields,
    }
}

/// The violations of a failing verdict.
fn failures(verdict: Verdict) -> Vec<Violation> {
    match verdict {
        Verdict::Fail(v) => v,
        other => panic!("expected a failure, got {other:?}"),
    }
}
