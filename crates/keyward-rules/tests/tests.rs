//! The embedded rules and loading user rules.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use std::collections::BTreeSet;
use std::path::Path;

use keyward_rules::{Confidence, RuleSet, RulesError};

#[test]
fn every_embedded_rule_passes_its_examples() {
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e}"));
    let report = set.check();
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| format!("{} ({}): {}", f.rule, f.source, f.reason))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(report.rules >= 150, "{} rules", report.rules);
    assert!(report.examples >= report.rules);
    assert!(report.negative_examples >= report.rules);
}

#[test]
fn the_embedded_rules_cover_the_formats_the_product_claims() {
    let set = RuleSet::builtin().unwrap();
    let ids: BTreeSet<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
    let providers: BTreeSet<&str> = set.rules().iter().map(|r| r.provider.as_str()).collect();
    for p in [
        "aws",
        "gcp",
        "azure",
        "github",
        "gitlab",
        "bitbucket",
        "slack",
        "discord",
        "stripe",
        "twilio",
        "sendgrid",
        "datadog",
        "npm",
        "pypi",
        "okta",
        "openai",
        "anthropic",
        "vault",
        "generic",
    ] {
        assert!(providers.contains(p), "no rule for `{p}`");
    }
    // Private keys of every armour the product names, and JWTs.
    for needle in ["rsa", "ec", "openssh", "pgp", "pkcs8", "putty", "jwt"] {
        assert!(
            ids.iter()
                .any(|id| id.split(['.', '-']).any(|part| part == needle)),
            "no rule id mentions `{needle}`"
        );
    }
    let checksummed = set.rules().iter().filter(|r| r.checksum.is_some()).count();
    assert!(checksummed >= 4, "{checksummed} checksummed rules");
    assert!(set.rules().iter().any(|r| r.pair.is_some()));
    assert!(set.rules().iter().any(|r| r.confidence == Confidence::Low));
}

#[test]
fn a_match_reports_the_secret_not_the_context() {
    let set = RuleSet::builtin().unwrap();
    // Built at run time so the repository holds no live-looking key.
    let key = format!("AKIA{}", "Q7ZRM4XK2WJ5TNBV");
    let text = format!("aws_access_key_id = {key}\n");
    let found = set.find(text.as_bytes());
    let m = found
        .iter()
        .find(|m| set.rules()[m.rule].provider == "aws")
        .unwrap_or_else(|| panic!("no AWS match in {found:?}"));
    assert_eq!(&text.as_bytes()[m.secret.clone()], key.as_bytes());
    // The documentation key is a placeholder, not a finding.
    assert!(
        set.find(b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE")
            .iter()
            .all(|m| set.rules()[m.rule].provider != "aws")
    );
}

fn user_rules(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const USER_RULE: &str = "rules:\n  - id: acme.deploy-key\n    name: Acme deploy key\n    provider: acme\n    credential: api_key\n    nhi_kind: api_key\n    confidence: high\n    keywords: [\"acme_dk_\"]\n    pattern: '\\b(?P<secret>acme_dk_[a-z0-9]{24})\\b'\n    min_entropy: 3.0\n    examples: ['ACME_KEY=acme_dk_q8w7e6r5t4y3u2i1o9p8a7s6']\n    negative_examples: ['acme_dk_tooshort']\n";

#[test]
fn user_rules_load_beside_the_embedded_ones() {
    let dir = tempfile::tempdir().unwrap();
    user_rules(dir.path(), "acme.yaml", USER_RULE);
    let set = RuleSet::load(true, &[dir.path()]).unwrap();
    assert!(set.get("acme.deploy-key").is_some());
    assert!(set.check().failures.is_empty());
    let only = RuleSet::load(false, &[dir.path()]).unwrap();
    assert_eq!(only.rules().len(), 1);
    assert_ne!(only.version(), set.version());
}

fn errors(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    user_rules(dir.path(), "bad.yaml", text);
    match RuleSet::load(false, &[dir.path()]) {
        Err(RulesError::Invalid(e)) => {
            e.0.iter()
                .map(|e| {
                    e.to_string()
                        .replace(&dir.path().display().to_string(), "DIR")
                })
                .collect()
        }
        Ok(_) => panic!("loaded"),
    }
}

#[test]
fn bad_rules_name_file_line_and_field() {
    assert_eq!(
        errors(&USER_RULE.replace("[a-z0-9]{24})", "[a-z0-9]{24}")),
        ["DIR/bad.yaml:2: rules.acme.deploy-key.pattern: invalid pattern: unclosed group"]
    );
    // Parses, but compiles past the size limit: a user's rule is compiled when loaded.
    let huge = errors(&USER_RULE.replace("[a-z0-9]{24})", "[a-z0-9]{24}(?:[a-z0-9]{1000}){1000})"));
    assert_eq!(huge.len(), 1, "{huge:?}");
    assert!(
        huge[0].starts_with("DIR/bad.yaml:2: rules.acme.deploy-key.pattern: invalid pattern: "),
        "{huge:?}"
    );
    assert_eq!(
        errors(&USER_RULE.replace("(?P<secret>", "(?P<value>")),
        [
            "DIR/bad.yaml:2: rules.acme.deploy-key.pattern: unknown group `value` (only `secret` and `id` are named)",
            "DIR/bad.yaml:2: rules.acme.deploy-key.pattern: the pattern has no `(?P<secret>…)` group"
        ]
    );
    assert_eq!(
        errors(&USER_RULE.replace("    examples:", "    pair: acme.secret\n    examples:")),
        ["DIR/bad.yaml:2: rules.acme.deploy-key.pair: no rule `acme.secret` to pair with"]
    );
    let twice = format!("{USER_RULE}{}", &USER_RULE["rules:\n".len()..]);
    assert_eq!(
        errors(&twice),
        ["DIR/bad.yaml:2: rules.acme.deploy-key.id: duplicate rule id (first at DIR/bad.yaml:2)"]
    );
    let unknown = errors(&USER_RULE.replace("    examples:", "    severity: high\n    examples:"));
    assert_eq!(unknown.len(), 1);
    assert!(
        unknown[0].starts_with("DIR/bad.yaml:11: unknown field `severity`, expected one of"),
        "{unknown:?}"
    );
    assert_eq!(
        errors(&USER_RULE.replace("ACME_KEY=acme_dk_", "ACME_KEY=")),
        ["DIR/bad.yaml:2: rules.acme.deploy-key.examples: example 1 holds none of the keywords"]
    );
}

#[test]
fn a_failing_example_is_reported_not_loaded_silently() {
    let dir = tempfile::tempdir().unwrap();
    user_rules(
        dir.path(),
        "acme.yaml",
        &USER_RULE.replace(
            "['acme_dk_tooshort']",
            "['acme_dk_q8w7e6r5t4y3u2i1o9p8a7s6']",
        ),
    );
    let set = RuleSet::load(false, &[dir.path()]).unwrap();
    let report = set.check();
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].reason, "negative example 1 matches");
}

#[test]
fn matches_do_not_depend_on_where_the_text_lies_in_a_file() {
    let set = RuleSet::builtin().unwrap();
    let filler = "lorem ipsum dolor sit amet, consectetur\n".repeat(300);
    let key = format!("AKIA{}", "Q7ZRM4XK2WJ5TNBV");
    // Found far into a file, not found glued to a word: the bytes before a keyword's search
    // window still count for word boundaries.
    let deep = format!("{filler}id = {key}\n{filler}");
    assert!(
        set.find(deep.as_bytes())
            .iter()
            .any(|m| deep.as_bytes()[m.secret.clone()] == *key.as_bytes())
    );
    let glued = format!("{filler}x{}{key}\n", "y".repeat(40));
    assert!(
        set.find(glued.as_bytes())
            .iter()
            .all(|m| glued.as_bytes()[m.secret.clone()] != *key.as_bytes())
    );
    // Every rule's examples still match, once, amid other text.
    let mut missed = Vec::new();
    for (i, r) in set.rules().iter().enumerate() {
        for (n, ex) in r.examples().iter().enumerate() {
            let text = format!("{filler}{ex}\n{filler}");
            let hits = set
                .find(text.as_bytes())
                .into_iter()
                .filter(|m| m.rule == i)
                .count();
            if hits == 0 {
                missed.push(format!("{} example {}", r.id, n + 1));
            }
        }
    }
    assert!(missed.is_empty(), "{missed:?}");
}

#[test]
fn a_token_with_a_wrong_checksum_is_reported_by_no_rule() {
    let set = RuleSet::builtin().unwrap();
    // `ghp_` and 36 base62 characters whose last six are not the CRC of the rest.
    let fake = format!("ghp_{}{}", "Q4sT9xLm2Pv7Rk3Wn8Yb5Hc1Jd6Fg0", "AAAAAA");
    for line in [
        format!("GH_TOKEN=\"{fake}\""),
        format!("token: {fake}"),
        format!("export GITHUB_TOKEN={fake}"),
    ] {
        let found = set.find(line.as_bytes());
        assert!(
            found.is_empty(),
            "{line}: {:?}",
            found
                .iter()
                .map(|m| &set.rules()[m.rule].id)
                .collect::<Vec<_>>()
        );
    }
}
