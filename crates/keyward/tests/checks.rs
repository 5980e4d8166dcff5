use crate::support::*;

fn repo(path: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
        .display()
        .to_string()
}

/// A store with the README's people and declarations, and the README's `keyward.toml`.
fn estate() -> Env {
    let env = Env::sqlite();
    env.ok(&["init"]);
    let people = env.write("people.csv", &readme_example("people-csv"));
    env.write("nhis/payments.yaml", &readme_example("nhi-yaml"));
    env.write("keyward.toml", &readme_example("keyward-toml"));
    env.ok(&["people", "import", people.to_str().unwrap()]);
    env.ok(&["apply", env.path("nhis").to_str().unwrap()]);
    env
}

#[test]
fn check_records_findings_and_reports_them_in_every_format() {
    let env = estate();
    let first = env.json(&["check", "--format", "json"]);
    let findings = first["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{first}");
    assert!(first["run"]["opened"].as_u64().unwrap() >= findings.len() as u64);
    let f = &findings[0];
    for field in [
        "id",
        "check_id",
        "nhi_id",
        "severity",
        "evidence",
        "opened_at",
        "remediation",
    ] {
        assert!(!f[field].is_null(), "{field}: {f}");
    }
    // keyward.toml turned environment-unknown off.
    assert!(
        findings
            .iter()
            .all(|f| f["check_id"] != "environment-unknown")
    );

    let again = env.json(&["check", "--format", "json"]);
    assert_eq!(again["run"]["opened"], 0);
    assert_eq!(again["findings"].as_array().unwrap().len(), findings.len());

    let table = env.ok(&["check"]);
    assert!(table.contains("open findings"), "{table}");
    let gate = env.run(&["check", "--fail-on", "low"]);
    assert_eq!(gate.status.code(), Some(5), "{}", stderr(&gate));
    let bad = env.run(&["check", "--fail-on", "urgent"]);
    assert_ne!(bad.status.code(), Some(0));

    let sarif: serde_json::Value =
        serde_json::from_str(&env.ok(&["check", "--format", "sarif"])).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.len() >= 30);

    let ocsf: serde_json::Value =
        serde_json::from_str(&env.ok(&["check", "--format", "ocsf"])).unwrap();
    let events = ocsf.as_array().unwrap();
    assert_eq!(events.len(), findings.len());
    assert!(
        events
            .iter()
            .all(|e| e["class_uid"] == 2003 && e["type_uid"] == 200_301)
    );
    assert!(events.iter().all(|e| e["compliance"]["status"] == "Fail"));
}

#[test]
fn exceptions_need_an_expiry_and_a_different_approver() {
    let env = estate();
    let run = env.json(&["check", "--format", "json"]);
    let fid = run["findings"][0]["id"].as_str().unwrap().to_owned();
    let base = [
        "exception",
        "request",
        fid.as_str(),
        "--reason",
        "migration in progress",
        "--compensating-controls",
        "daily access review",
        "--requested-by",
        "alice@example.com",
    ];
    let before = env.state();
    let no_expiry = env.run(&base);
    assert_eq!(no_expiry.status.code(), Some(6), "{}", stderr(&no_expiry));
    assert!(stderr(&no_expiry).contains("needs an expiry"));
    let bad_date = env.run(&[&base[..], &["--expires", "next week"]].concat());
    assert_ne!(bad_date.status.code(), Some(0));
    assert_eq!(env.state(), before, "nothing written");

    let far = env.run(&[&base[..], &["--expires", "2099-01-01"]].concat());
    assert_eq!(far.status.code(), Some(6), "keyward.toml allows 180 days");
    let soon = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let e = env.json(&[&base[..], &["--expires", &soon, "--format", "json"]].concat());
    assert_eq!(e["state"], "requested");
    let id = e["id"].as_str().unwrap();
    let own = env.run(&["exception", "approve", id, "--by", "alice@example.com"]);
    assert_eq!(own.status.code(), Some(6), "{}", stderr(&own));
    let not_role = env.run(&["exception", "approve", id, "--by", "bob@example.com"]);
    assert_eq!(not_role.status.code(), Some(6));
    assert!(stderr(&not_role).contains("approver role"));
    env.ok(&["exception", "approve", id, "--by", "ciso@example.com"]);
    let list = env.json(&["exception", "list", "--format", "json"]);
    assert_eq!(list[0]["state"], "approved");
    assert_eq!(list[0]["in_force"], true);
    let after = env.json(&["check", "--format", "json"]);
    let accepted = after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == fid.as_str())
        .unwrap();
    assert_eq!(accepted["exception"]["id"], id);
    let ledger = env.ok(&["ledger", "verify"]);
    assert!(
        ledger.contains("intact") || ledger.contains("ok"),
        "{ledger}"
    );
}

#[test]
fn controls_show_every_annex_a_control_and_how_it_is_evidenced() {
    let env = estate();
    let none = env.ok(&["controls", "--framework", "iso27001"]);
    assert!(none.contains("No check run yet"), "{none}");
    env.ok(&["check"]);
    let r = env.json(&["controls", "--framework", "iso27001", "--format", "json"]);
    let controls = r["controls"].as_array().unwrap();
    assert_eq!(controls.len(), 93);
    let a59 = controls.iter().find(|c| c["id"] == "A.5.9").unwrap();
    assert!(a59["automated"].as_bool().unwrap());
    assert!(a59["in_scope"].as_u64().unwrap() >= 2, "{a59}");
    assert!(
        a59["evidenced_by"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "inventory_snapshot")
    );
    assert!(controls.iter().all(|c| !c["scope"].is_null()));
    let physical = controls.iter().find(|c| c["id"] == "A.7.1").unwrap();
    assert_eq!(physical["scope"], "outside");
    let all = env.json(&["controls", "--format", "json"]);
    assert_eq!(all["controls"].as_array().unwrap().len(), 10 + 93 + 106);
    let bad = env.run(&["controls", "--framework", "soc2"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("iso27001"));
}

#[test]
fn a_bad_setting_is_reported_at_its_line_and_nothing_runs() {
    let env = estate();
    env.write(
        "keyward.toml",
        "[checks.not-rotated]\nmax_age_days = 30\nmax_age = 3\n",
    );
    let before = env.state();
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("keyward.toml:3: checks.not-rotated.max_age"),
        "{err}"
    );
    assert_eq!(env.state(), before);
}

#[test]
fn the_readme_rego_examples_run() {
    let env = estate();
    let policies = repo("examples/policies");
    let test = env.ok(&["checks", "test", "--policies", &policies]);
    assert!(
        test.contains("inline cases give their expected result"),
        "{test}"
    );
    let run = env.json(&["check", "--policies", &policies, "--format", "json"]);
    let tally: Vec<&serde_json::Value> = run["run"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "required-tags" || c["id"] == "supplier-expiry-horizon")
        .collect();
    assert_eq!(tally.len(), 2);
    assert!(
        tally.iter().any(|c| c["applicable"].as_u64().unwrap() > 0),
        "{tally:?}"
    );
}
