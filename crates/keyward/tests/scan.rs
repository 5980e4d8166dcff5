//! `keyward scan` as CI runs it: formats, exit codes, and no secret in any output.

use crate::support::*;

/// An access key id made at run time, so the repository holds none.
fn key_id() -> String {
    format!("AKIA{}", "ZQ4RT7MX2WKB5NJV")
}

#[test]
fn scan_reports_in_every_format_and_gates_ci() {
    let env = Env::sqlite();
    let key = key_id();
    env.write(
        "repo/app/settings.py",
        &format!("AWS_ACCESS_KEY_ID = \"{key}\"\n"),
    );
    env.write("repo/app/clean.py", "print('hello')\n");
    let repo = env.path("repo");
    let repo = repo.to_str().unwrap();

    let json = env.json(&["scan", repo, "--format", "json"]);
    let findings = json.as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json}");
    let f = &findings[0];
    for field in [
        "rule_id",
        "rule_name",
        "kind",
        "provider",
        "path",
        "line",
        "column",
        "fingerprint",
        "preview",
        "confidence",
    ] {
        assert!(!f[field].is_null(), "no `{field}` in {f}");
    }
    assert_eq!(f["rule_id"], "aws.access-key-id");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some(22))
    );
    assert_eq!(f["preview"], "AKIA…(20)");

    let o = env.run(&["scan", repo, "--format", "jsonl"]);
    assert!(o.status.success());
    let lines = String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(lines.lines().count(), 1);
    let unkeyed =
        serde_json::from_str::<serde_json::Value>(lines.trim()).unwrap()["fingerprint"].clone();
    assert_eq!(unkeyed, f["fingerprint"]);
    assert!(
        stderr(&o).contains("fingerprints are unkeyed"),
        "{}",
        stderr(&o)
    );

    let o = env.run(&["scan", repo, "--fail-on-findings"]);
    assert_eq!(o.status.code(), Some(5));
    let table = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(
        table.contains("settings.py:1:22  aws.access-key-id  AKIA…(20)  high"),
        "{table}"
    );
    for out in [&table, &stderr(&o), &lines, &json.to_string()] {
        assert!(!out.contains(&key), "secret printed: {out}");
    }

    // With an installation key the fingerprint is keyed, and differs.
    env.ok(&["init"]);
    let keyed = env.json(&["scan", repo, "--format", "json"]);
    assert_ne!(keyed[0]["fingerprint"], unkeyed);

    let clean = env.path("repo/app/clean.py");
    let o = env.run(&["scan", clean.to_str().unwrap(), "--fail-on-findings"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let o = env.run(&["scan", "no-such-dir"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot read `no-such-dir`"),
        "{}",
        stderr(&o)
    );
}

/// Runs `git` in `dir` with a fixed identity and no user or system configuration.
fn git_in(dir: &std::path::Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ci")
        .env("GIT_AUTHOR_EMAIL", "ci@example.com")
        .env("GIT_COMMITTER_NAME", "Ci")
        .env("GIT_COMMITTER_EMAIL", "ci@example.com")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn scan_git_and_sarif_from_the_command_line() {
    let env = Env::sqlite();
    let repo = env.path("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| git_in(&repo, args);
    git(&["init", "-q", "-b", "main"]);
    env.write("repo/cfg.env", &format!("AWS_ACCESS_KEY_ID={}\n", key_id()));
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "leak"]);
    env.write("repo/cfg.env", "AWS_ACCESS_KEY_ID=\n");
    git(&["commit", "-qam", "remove"]);
    let r = repo.to_str().unwrap();
    // The work tree is clean now; history is not.
    assert_eq!(
        env.json(&["scan", r, "--format", "json"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let found = env.json(&["scan", "--git", r, "--format", "json"]);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["author"], "Ci <ci@example.com>");
    assert_eq!(found[0]["commit"].as_str().unwrap().len(), 40);
    let sarif = env.json(&["scan", "--git", r, "--format", "sarif"]);
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "aws.access-key-id"
    );
    assert!(!sarif.to_string().contains(&key_id()));
    assert_eq!(found[0]["repository"], r);
    // Two repositories with the same file: each finding names its repository.
    let other = env.path("other");
    std::fs::create_dir_all(&other).unwrap();
    let git2 = |args: &[&str]| git_in(&other, args);
    git2(&["init", "-q", "-b", "main"]);
    env.write(
        "other/cfg.env",
        &format!("AWS_ACCESS_KEY_ID={}\n", key_id()),
    );
    git2(&["add", "-A"]);
    git2(&["commit", "-q", "-m", "leak too"]);
    let o2 = other.to_str().unwrap();
    let table = env.ok(&["scan", "--git", r, o2]);
    assert!(table.contains(&format!("{r}/cfg.env:1:19")), "{table}");
    assert!(table.contains(&format!("{o2}/cfg.env:1:19")), "{table}");
    let o = env.run(&["scan", "--git", env.path("").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot read the git history of"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_baseline_accepts_known_findings_and_reports_new_ones() {
    let env = Env::sqlite();
    let key = key_id();
    env.write("repo/a.env", &format!("AWS_ACCESS_KEY_ID={key}\n"));
    let repo = env.path("repo");
    let r = repo.to_str().unwrap();
    let o = env.run(&["scan", r, "--write-baseline", "base.json"]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("baseline accepting 1 findings"),
        "{}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(env.path("base.json")).unwrap();
    assert!(!text.contains(&key), "the baseline holds the secret");
    // The accepted secret, even moved to another file, is not reported.
    std::fs::remove_file(env.path("repo/a.env")).unwrap();
    env.write("repo/b.env", &format!("\nAWS_ACCESS_KEY_ID={key}\n"));
    let o = env.run(&["scan", r, "--baseline", "base.json", "--fail-on-findings"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 in the baseline"), "{}", stderr(&o));
    // A new secret is.
    env.write(
        "repo/c.env",
        &format!("AWS_ACCESS_KEY_ID=AKIA{}\n", "M3KQ7WZ2XR5TJNBV"),
    );
    let o = env.run(&["scan", r, "--baseline", "base.json", "--fail-on-findings"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    // A baseline made with another key is refused, naming why; so is a broken one.
    env.ok(&["init"]);
    let o = env.run(&["scan", r, "--baseline", "base.json"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o)
            .contains("base.json: fingerprint_key_id: the baseline was made with fingerprint key"),
        "{}",
        stderr(&o)
    );
    env.write("broken.json", "{\n  \"version\": 1,\n  \"oops\": 2\n}\n");
    let o = env.run(&["scan", r, "--baseline", "broken.json"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("broken.json:3: not a baseline"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn discover_secrets_records_each_secret_once_and_then_nothing_new() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    let key = key_id();
    env.write("repo/a.env", &format!("AWS_ACCESS_KEY_ID={key}\n"));
    env.write("repo/b/c.sh", &format!("export AWS_ACCESS_KEY_ID={key}\n"));
    let repo = env.path("repo");
    let r = repo.to_str().unwrap();
    std::fs::write(env.path("repo/broken.zip"), b"PK\x03\x04 not really a zip").unwrap();
    let o = env.run(&["discover", "secrets", r]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(
        stderr(&o).contains("warning: ")
            && stderr(&o).contains("broken.zip: not read as an archive"),
        "{}",
        stderr(&o)
    );
    assert!(out.contains("2 findings, 1 distinct secrets"), "{out}");
    assert!(out.contains("1 new undeclared NHIs"), "{out}");
    let list = env.json(&["inventory", "list", "--undeclared", "--format", "json"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["provider"], "aws");
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let shown = env.ok(&["inventory", "show", &id]);
    assert!(shown.contains("Seen in (2)"), "{shown}");
    assert!(shown.contains("a.env:1:19"), "{shown}");
    assert!(!shown.contains(&key), "secret shown: {shown}");
    let again = env.ok(&["discover", "secrets", r]);
    assert!(again.contains("nothing new"), "{again}");
    env.ok(&["ledger", "verify"]);
    // Without the key file nothing is recorded.
    std::fs::remove_file(env.path("keyward.key")).unwrap();
    let o = env.run(&["discover", "secrets", r]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("key file"), "{}", stderr(&o));
}

#[test]
fn keyward_toml_excludes_paths_and_bad_config_is_refused() {
    let env = Env::sqlite();
    let key = key_id();
    env.write(
        "repo/vendor/lib/a.env",
        &format!("AWS_ACCESS_KEY_ID={key}\n"),
    );
    env.write("repo/web/app.min.js", &format!("var k=\"{key}\";\n"));
    env.write("repo/src/b.env", &format!("AWS_ACCESS_KEY_ID={key}\n"));
    let count = |args: &[&str]| env.json(args).as_array().unwrap().len();
    assert_eq!(count(&["scan", "repo", "--format", "json"]), 3);
    env.write(
        "keyward.toml",
        "[scan]\nexclude = [\"vendor/**\", \"*.min.js\"]\n",
    );
    assert_eq!(count(&["scan", "repo", "--format", "json"]), 1);
    // An explicit file wins; a missing one is an error, not defaults.
    env.write("other.toml", "[scan]\nexclude = [\"src\"]\n");
    assert_eq!(
        count(&["--config", "other.toml", "scan", "repo", "--format", "json"]),
        2
    );
    let o = env.run(&["--config", "nope.toml", "scan", "repo"]);
    assert_eq!(o.status.code(), Some(3));
    env.write(
        "keyward.toml",
        "[scan]\nexclude = [\"vendor/**\"]\nmax_size = 3\n",
    );
    let o = env.run(&["scan", "repo"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("keyward.toml:3: unknown field `max_size`"),
        "{}",
        stderr(&o)
    );
    env.write("keyward.toml", "[scan]\nexclude = [\n  \"a/[\",\n]\n");
    let o = env.run(&["scan", "repo"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("keyward.toml:3: scan.exclude: `a/[` is not a glob"),
        "{}",
        stderr(&o)
    );
}
