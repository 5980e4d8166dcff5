use crate::support::*;

#[test]
fn readme_examples_apply_as_shown_and_everything_is_ledgered() {
    let env = Env::sqlite();
    let init = env.ok(&["init"]);
    assert!(init.contains("Ledger public key"), "{init}");
    let key = env.path("keyward.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let people = env.write("people.csv", &readme_example("people-csv"));
    let decl = env.write("nhis/payments.yaml", &readme_example("nhi-yaml"));

    let p = env.json(&[
        "people",
        "import",
        people.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(p["added"].as_u64().unwrap() >= 2, "{p}");
    let a = env.json(&[
        "apply",
        env.path("nhis").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(a["created"].as_u64().unwrap() >= 2, "{a}");
    let before = env.state();
    let again = env.json(&["apply", decl.to_str().unwrap(), "--format", "json"]);
    assert_eq!(again["created"], 0);
    assert_eq!(again["updated"], 0);
    assert_eq!(env.state(), before, "a second apply changes nothing");

    let list = env.json(&["inventory", "list", "--format", "json"]);
    let first = &list.as_array().unwrap()[0];
    for k in [
        "id",
        "kind",
        "provider",
        "external_id",
        "name",
        "environment",
        "owner",
        "purpose",
        "expires_at",
        "last_used_at",
        "last_rotated_at",
        "next_review_due",
        "status",
    ] {
        assert!(first.get(k).is_some(), "JSON lacks {k}: {first}");
    }
    let csv = env.ok(&["inventory", "list", "--format", "csv", "--kind", "iam_user"]);
    assert!(csv.starts_with("id,kind,provider,external_id"), "{csv}");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let table = env.ok(&["inventory", "list", "--env", "production"]);
    assert!(table.contains("payments-ci-deployer"), "{table}");

    let show = env.json(&[
        "inventory",
        "show",
        "arn:aws:iam::123456789012:user/payments-ci",
        "--format",
        "json",
    ]);
    assert_eq!(show["name"], "payments-ci-deployer");
    assert_eq!(show["history"][0]["action"], "nhi.declared");
    assert_eq!(show["observations"][0]["source"], "declaration");
    let text = env.ok(&["inventory", "show", "payments-ci-deployer"]);
    assert!(text.contains("Ledger history (1)"), "{text}");

    let posture = env.json(&["posture", "--format", "json"]);
    assert!(posture["total"].as_i64().unwrap() >= 2);
    assert!(env.ok(&["posture"]).contains("Governance gaps"));
    let runs = env.json(&["runs", "list", "--format", "json"]);
    assert_eq!(
        runs.as_array().unwrap().len(),
        2,
        "people import and the first apply: {runs}"
    );

    let verify = env.ok(&["ledger", "verify"]);
    assert!(verify.starts_with("ledger intact"), "{verify}");
    env.ok(&["ledger", "checkpoint"]);
    env.ok(&[
        "ledger",
        "export",
        "--out",
        env.path("bundle").to_str().unwrap(),
    ]);
    let offline = env.json(&[
        "ledger",
        "verify",
        "--bundle",
        env.path("bundle").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(offline["ok"], true, "{offline}");
}

#[test]
fn a_tampered_ledger_fails_verification_naming_the_seq() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    env.write("a.yaml", &readme_example("nhi-yaml"));
    env.ok(&["apply", "a.yaml"]);
    let db = env.path("keyward.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = keyward_store::Store::open(&keyward_store::Location::Sqlite(db), false)
            .await
            .unwrap();
        let refused = store
            .execute_raw("UPDATE ledger SET actor = 'mallory' WHERE seq = 2")
            .await;
        assert!(refused.is_err(), "the database refuses edits");
        store
            .execute_raw("DROP TRIGGER ledger_no_update")
            .await
            .unwrap();
        store
            .execute_raw(
                "UPDATE ledger SET payload = replace(payload, 'alice', 'mallory') WHERE seq = 2",
            )
            .await
            .unwrap();
        store.close().await;
    });
    let out = env.run(&["ledger", "verify"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("first bad seq 2"), "{text}");
}

#[test]
fn commands_before_init_explain_what_to_do() {
    let env = Env::sqlite();
    let out = env.run(&["inventory", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("is not initialised") && err.contains("help: run `keyward init`"),
        "{err}"
    );
    assert!(
        !env.path("keyward.db").exists(),
        "reading must not create a store"
    );
}

#[test]
fn the_same_flow_on_postgres() {
    let Ok(url) = std::env::var("KEYWARD_TEST_DATABASE_URL") else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI=true needs KEYWARD_TEST_DATABASE_URL"
        );
        eprintln!("note: PostgreSQL CLI flow skipped: KEYWARD_TEST_DATABASE_URL is not set");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ts = rt
        .block_on(keyward_store::testing::backends())
        .pop()
        .unwrap();
    let keyward_store::Location::Postgres(db_url) = &ts.location else {
        panic!("{url} gave no PostgreSQL store")
    };
    let dir = tempfile::tempdir().unwrap();
    let env = Env {
        args: vec![
            "--database-url".into(),
            db_url.clone(),
            "--key".into(),
            dir.path().join("k.key").display().to_string(),
        ],
        dir,
    };
    env.ok(&["init"]);
    env.write("a.yaml", &readme_example("nhi-yaml"));
    env.ok(&["apply", "a.yaml"]);
    let before = env.state();
    env.ok(&["apply", "a.yaml"]);
    assert_eq!(env.state(), before);
    assert!(env.ok(&["ledger", "verify"]).starts_with("ledger intact"));
    let out = env.run(&["apply", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(env.state(), before);
}
