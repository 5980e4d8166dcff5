//! No full secret value, of any format the rules know, reaches an output, a log line, the store
//! or an exported ledger bundle.

use std::path::Path;

use keyward_rules::RuleSet;

use crate::support::*;

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[test]
fn planted_secrets_never_leave_the_scanned_files() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    // One file per rule, holding its first example; the secret values are whatever the rules
    // themselves match in it.
    let rules = RuleSet::builtin().unwrap();
    let mut planted: Vec<(String, String)> = Vec::new();
    for (i, rule) in rules.rules().iter().enumerate() {
        let Some(example) = rule.examples().first() else {
            continue;
        };
        env.write(&format!("repo/src/f{i:03}.conf"), &format!("{example}\n"));
        for m in rules.find(example.as_bytes()) {
            let value = &example[m.secret.clone()];
            // Short values (a 6-character password) could occur by chance in binary pages.
            if value.len() >= 12 {
                planted.push((rules.rules()[m.rule].id.clone(), value.to_owned()));
            }
        }
    }
    assert!(
        planted.len() >= 300,
        "only {} planted values",
        planted.len()
    );
    let repo = env.path("repo");
    let r = repo.to_str().unwrap();

    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut keep = |what: &str, o: std::process::Output| {
        outputs.push((format!("{what} stdout"), o.stdout));
        outputs.push((format!("{what} stderr"), o.stderr));
    };
    for format in ["table", "json", "jsonl", "sarif"] {
        keep(format, env.run(&["scan", r, "--format", format]));
    }
    let baseline = env.path("baseline.json");
    keep(
        "write-baseline",
        env.run(&["scan", r, "--write-baseline", baseline.to_str().unwrap()]),
    );
    let discovered = env.run(&["discover", "secrets", r, "--format", "json"]);
    assert!(discovered.status.success(), "{}", stderr(&discovered));
    let report: serde_json::Value = serde_json::from_slice(&discovered.stdout).unwrap();
    keep("discover", discovered);
    let list = env.json(&["inventory", "list", "--format", "json"]);
    let nhis = list.as_array().unwrap();
    assert!(nhis.len() >= 100, "{} NHIs from {report}", nhis.len());
    // Every tenth NHI in detail (credentials, locations, history): a few dozen processes.
    for n in nhis.iter().step_by(10) {
        let id = n["id"].as_str().unwrap();
        keep(id, env.run(&["inventory", "show", id, "--format", "json"]));
    }
    keep("posture", env.run(&["posture", "--format", "json"]));
    let bundle = env.path("bundle");
    keep(
        "ledger export",
        env.run(&["ledger", "export", "--out", bundle.to_str().unwrap()]),
    );
    keep(
        "ledger verify",
        env.run(&["ledger", "verify", "--bundle", bundle.to_str().unwrap()]),
    );

    outputs.push(("inventory list".into(), list.to_string().into_bytes()));
    // Everything Keyward wrote next to the scanned tree: the store (and its write-ahead log, if
    // any), the key, the baseline and the bundle.
    for (path, bytes) in files(env.dir.path()) {
        if !path.starts_with(r) {
            outputs.push((path, bytes));
        }
    }
    assert!(outputs.iter().any(|(p, _)| p.ends_with("keyward.db")));
    let values = aho_corasick::AhoCorasick::new(planted.iter().map(|(_, v)| v)).unwrap();
    let mut leaks = Vec::new();
    for (what, bytes) in &outputs {
        for m in values.find_overlapping_iter(bytes.as_slice()) {
            let rule = &planted[m.pattern().as_usize()].0;
            leaks.push(format!("{rule}: a planted value is in {what}"));
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}
