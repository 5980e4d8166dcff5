//! `keyward rules`: the embedded rules check out, and broken user rules are named precisely.

use crate::support::*;

#[test]
fn embedded_rules_pass_their_examples() {
    let env = Env::sqlite();
    let out = env.ok(&["rules", "check"]);
    assert!(out.contains("all "), "{out}");
    assert!(out.contains("negative examples"), "{out}");
    let list = env.json(&["rules", "list", "--format", "json"]);
    let rules = list.as_array().unwrap();
    assert!(rules.len() >= 150, "{} rules", rules.len());
    assert!(
        rules
            .iter()
            .all(|r| r["id"].is_string() && r["keywords"].is_array())
    );
    // The JSON names no internals.
    assert!(
        rules
            .iter()
            .all(|r| r.get("regex").is_none() && r.get("examples").is_none())
    );
}

#[test]
fn the_readme_rule_example_loads_and_passes() {
    let env = Env::sqlite();
    env.write("rules/readme.yaml", &readme_example("rule-yaml"));
    let dir = env.path("rules");
    let out = env.ok(&[
        "rules",
        "check",
        "--no-builtin",
        "--rules",
        dir.to_str().unwrap(),
    ]);
    assert!(out.starts_with("1 rules"), "{out}");
}

const RULE: &str = "rules:
  - id: acme.key
    name: Acme key
    provider: acme
    credential: api_key
    nhi_kind: api_key
    confidence: high
    keywords: [\"acme_\"]
    pattern: '\\b(?P<secret>acme_[a-z0-9]{16})\\b'
    examples: ['k = acme_z9y8x7w6v5u4t3s2']
    negative_examples: ['k = acme_short']
";

#[test]
fn user_rules_are_checked_and_bad_ones_exit_3() {
    let env = Env::sqlite();
    env.write("rules/acme.yaml", RULE);
    let dir = env.path("rules");
    let dir = dir.to_str().unwrap();
    let out = env.ok(&["rules", "check", "--rules", dir, "--no-builtin"]);
    assert!(out.starts_with("1 rules"), "{out}");

    env.write(
        "rules/acme.yaml",
        &RULE.replace("['k = acme_short']", "['k = acme_a1b2c3d4e5f6g7h8']"),
    );
    let o = env.run(&["rules", "check", "--rules", dir, "--no-builtin"]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(
        err.contains("acme.yaml:2: rules.acme.key: negative example 1 matches"),
        "{err}"
    );

    env.write(
        "rules/acme.yaml",
        &RULE.replace("confidence: high", "confidence: sure"),
    );
    let o = env.run(&["rules", "list", "--rules", dir]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("acme.yaml:7: unknown variant `sure`"), "{err}");
}
