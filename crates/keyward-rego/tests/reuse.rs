//! Deterministic findings and engines reused across many NHIs, clones and threads.

use keyward_rego::{PreparedInput, RegoCheck, Verdict};
use serde_json::{Value, json};

use crate::{both, failures, judge, policy};

const MANY: &str = r#"package keyward.checks.many

import rego.v1

deny contains sprintf("permission `%s` is a wildcard", [p]) if {
	some p in input.permissions
	endswith(p, "*")
}

deny contains {"msg": "credential is old", "credential": c.id, "age_days": c.age_days} if {
	some c in input.credentials
	c.age_days > 90
}

deny contains "no owner" if not input.owner
"#;

fn nhi(i: usize) -> Value {
    let permissions: Vec<String> = (0..6)
        .map(|k| {
            if i.is_multiple_of(4) && k % 2 == 0 {
                format!("svc{k}:*")
            } else {
                format!("svc{k}:Get")
            }
        })
        .collect();
    let credentials: Vec<Value> = (0..3)
        .map(|k| {
            let age = if i.is_multiple_of(2) {
                (i * 37 + k * 53) % 200
            } else {
                k * 10
            };
            json!({"id": format!("c{}", (i * 7 + k * 3) % 10), "age_days": age})
        })
        .collect();
    let mut doc =
        json!({"id": format!("nhi-{i}"), "permissions": permissions, "credentials": credentials});
    if !i.is_multiple_of(3) {
        doc["owner"] = json!("team");
    }
    doc
}

#[test]
fn violations_are_sorted_by_message_then_fields() {
    let mut checks = both("many.rego", MANY);
    let nhi = json!({
        "permissions": ["b:*", "a:*"],
        "credentials": [{"id": "z", "age_days": 91}, {"id": "a", "age_days": 200}, {"id": "a", "age_days": 95}],
    });
    let seen: Vec<(String, Option<Value>, Option<Value>)> =
        failures(judge(&mut checks, &nhi, &json!({})))
            .into_iter()
            .map(|v| {
                (
                    v.message,
                    v.fields.get("credential").cloned(),
                    v.fields.get("age_days").cloned(),
                )
            })
            .collect();
    // Fields compare name by name (`age_days` before `credential`), numbers by value.
    let expected = [
        ("credential is old", Some(json!("z")), Some(json!(91))),
        ("credential is old", Some(json!("a")), Some(json!(95))),
        ("credential is old", Some(json!("a")), Some(json!(200))),
        ("no owner", None, None),
        ("permission `a:*` is a wildcard", None, None),
        ("permission `b:*` is a wildcard", None, None),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(m, c, a)| (m.to_owned(), c, a))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn an_unordered_deny_array_comes_out_sorted_and_once() {
    let source =
        "package keyward.checks.array\n\ndeny := [\"c\", \"a\", {\"msg\": \"b\"}, \"a\"] if true\n";
    let mut checks = both("array.rego", source);
    let messages: Vec<String> = failures(judge(&mut checks, &json!({}), &json!({})))
        .into_iter()
        .map(|v| v.message)
        .collect();
    assert_eq!(messages, ["a", "b", "c"]);
}

#[test]
fn nothing_leaks_from_one_nhi_to_the_next() {
    let (origin, source) = policy("prod_backup_owner.rego");
    let mut checks = both(&origin, &source);
    let failing = json!({"environment": "production", "owner": "alice"});
    let passing = json!({"environment": "production", "owner": "alice", "backup_owner": "bob"});
    let other = json!({"environment": "dev"});
    for _ in 0..3 {
        assert!(matches!(
            judge(&mut checks, &failing, &json!({})),
            Verdict::Fail(_)
        ));
        assert_eq!(judge(&mut checks, &passing, &json!({})), Verdict::Pass);
        assert_eq!(
            judge(&mut checks, &other, &json!({})),
            Verdict::NotApplicable
        );
    }
}

#[test]
fn a_reused_engine_judges_like_a_fresh_one_for_each_nhi() {
    let inputs: Vec<Value> = (0..200).map(nhi).collect();
    let mut reused = both("many.rego", MANY);
    let in_sequence: Vec<Verdict> = inputs
        .iter()
        .map(|i| judge(&mut reused, i, &json!({})))
        .collect();
    let fresh: Vec<Verdict> = inputs
        .iter()
        .map(|i| judge(&mut both("many.rego", MANY), i, &json!({})))
        .collect();
    assert_eq!(in_sequence, fresh);
    assert!(in_sequence.contains(&Verdict::Pass));
    assert!(
        in_sequence
            .iter()
            .any(|v| matches!(v, Verdict::Fail(f) if f.len() > 2))
    );
    // A second pass over the same engines gives identical findings.
    let again: Vec<Verdict> = inputs
        .iter()
        .map(|i| judge(&mut reused, i, &json!({})))
        .collect();
    assert_eq!(again, in_sequence);
}

#[test]
fn clones_on_worker_threads_judge_like_the_original() {
    let inputs: Vec<Value> = (0..300).map(nhi).collect();
    for original in both("many.rego", MANY) {
        let mut single = original.clone();
        let expected: Vec<Verdict> = inputs
            .iter()
            .map(|i| single.evaluate(i, &json!({})).unwrap())
            .collect();
        let halves: Vec<Vec<Verdict>> = std::thread::scope(|scope| {
            let workers: Vec<_> = inputs
                .chunks(inputs.len() / 2)
                .map(|chunk| {
                    let mut check: RegoCheck = original.clone();
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|i| check.evaluate(i, &json!({})).unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert_eq!(halves.concat(), expected, "{}", original.backend());
    }
}

#[test]
fn a_clone_keeps_the_parameters_it_was_given() {
    let source = "package keyward.checks.limit\n\ndeny contains \"over\" if input.n > object.get(data.params, \"limit\", 10)\n";
    for mut check in both("limit.rego", source) {
        let params = json!({"limit": 100});
        assert_eq!(
            check.evaluate(&json!({"n": 50}), &params).unwrap(),
            Verdict::Pass
        );
        let mut clone = check.clone();
        assert_eq!(
            clone.evaluate(&json!({"n": 50}), &params).unwrap(),
            Verdict::Pass
        );
        assert!(matches!(
            clone.evaluate(&json!({"n": 50}), &json!({})).unwrap(),
            Verdict::Fail(_)
        ));
        assert_eq!(
            check.evaluate(&json!({"n": 50}), &params).unwrap(),
            Verdict::Pass
        );
    }
}

#[test]
fn a_prepared_input_judges_like_the_json_it_came_from() {
    let (origin, source) = policy("required_tags.rego");
    let mut tags = both(&origin, &source);
    let mut many = both("many.rego", MANY);
    for i in 0..100 {
        let json = nhi(i);
        let prepared = PreparedInput::new(&json);
        // One conversion shared by every check and backend.
        for checks in [&mut tags, &mut many] {
            for check in checks.iter_mut() {
                assert_eq!(
                    check.evaluate_prepared(&prepared, &json!({})).unwrap(),
                    check.evaluate(&json, &json!({})).unwrap()
                );
            }
        }
    }
    let err = tags[0]
        .evaluate_prepared(&PreparedInput::from(&json!("nhi")), &json!({}))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`data.keyward.checks.required_tags`: input must be a JSON object, found a string"
    );
}
