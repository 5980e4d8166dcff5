//! Every class of bad input: a clear `file:line: field: reason`, exit code 3, nothing written.

use crate::support::*;

const GOOD: &str = "apiVersion: keyward/v1
kind: NonHumanIdentity
metadata:
  name: good-one
spec:
  kind: api_key
  provider: stripe
  externalId: acct_1/key_1
  environment: production
  owner: team:payments
";

fn doc(name: &str, extra: &str) -> String {
    format!(
        "apiVersion: keyward/v1\nkind: NonHumanIdentity\nmetadata:\n  name: {name}\nspec:\n  kind: api_key\n  provider: stripe\n{extra}"
    )
}

#[test]
fn each_bad_document_fails_the_whole_apply_and_writes_nothing() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    env.write("base.yaml", GOOD);
    env.ok(&["apply", "base.yaml"]);
    let before = env.state();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "syntax",
            "apiVersion: keyward/v1\nkind: [unclosed\n".into(),
            "bad.yaml:3: invalid YAML",
        ),
        (
            "unknown field",
            doc("x", "  enviroment: production\n"),
            "bad.yaml:8: spec.enviroment: unknown field",
        ),
        (
            "bad date",
            doc("x", "  expires: 2027-13-01\n"),
            "bad.yaml:8: spec.expires: `2027-13-01` is not a date",
        ),
        (
            "impossible date",
            doc("x", "  expires: 2027-02-30\n"),
            "bad.yaml:8: spec.expires",
        ),
        (
            "duplicate name",
            GOOD.replace("externalId: acct_1/key_1", "externalId: other"),
            "metadata.name: duplicate name `good-one`",
        ),
        (
            "unknown kind",
            doc("x", "").replace("kind: api_key", "kind: robot"),
            "bad.yaml:6: spec.kind: `robot` is not a valid kind",
        ),
        (
            "unknown environment",
            doc("x", "  environment: prod\n"),
            "bad.yaml:8: spec.environment: `prod` is not a valid environment",
        ),
        (
            "bad owner",
            doc("x", "  owner: alice\n"),
            "bad.yaml:8: spec.owner",
        ),
        (
            "bad cadence",
            doc("x", "  reviewEvery: sometimes\n"),
            "bad.yaml:8: spec.reviewEvery",
        ),
        (
            "wrong apiVersion",
            doc("x", "").replace("keyward/v1", "keyward/v2"),
            "bad.yaml:1: apiVersion",
        ),
    ];
    for (what, text, expected) in cases {
        env.write("bad.yaml", &text);
        // The good file comes first, so a half-applied import would show.
        env.write("first.yaml", &doc("would-be-created", ""));
        let out = env.run(&["apply", "first.yaml", "base.yaml", "bad.yaml"]);
        assert_eq!(out.status.code(), Some(3), "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(expected),
            "{what}: expected `{expected}` in:\n{err}"
        );
        assert!(err.contains("nothing was written"), "{what}: {err}");
        assert_eq!(env.state(), before, "{what}: something was written");
    }
}

#[test]
fn bad_people_csv_fails_whole_and_writes_nothing() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    let before = env.state();
    let header = "email,name,team,manager_email,status,departed_on\n";
    let cases = [
        (
            "missing column",
            "email,name,team,status,departed_on\n".to_owned(),
            "manager_email",
        ),
        (
            "bad email",
            format!("{header}ok@example.com,Ok,,,active,\nnot-an-email,X,,,active,\n"),
            "people.csv:3: email",
        ),
        (
            "bad status",
            format!("{header}a@example.com,A,,,gone,\n"),
            "people.csv:2: status",
        ),
        (
            "bad date",
            format!("{header}a@example.com,A,,,departed,2026-02-31\n"),
            "people.csv:2: departed_on",
        ),
        (
            "departed without date",
            format!("{header}a@example.com,A,,,departed,\n"),
            "people.csv:2: departed_on",
        ),
        (
            "duplicate",
            format!("{header}a@example.com,A,,,active,\nA@example.com,B,,,active,\n"),
            "people.csv:3: email",
        ),
    ];
    for (what, text, expected) in cases {
        env.write("people.csv", &text);
        let out = env.run(&["people", "import", "people.csv"]);
        assert_eq!(out.status.code(), Some(3), "{what}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{what}: expected `{expected}` in {}",
            stderr(&out)
        );
        assert_eq!(env.state(), before, "{what}");
        let people = env.json(&["people", "list", "--format", "json"]);
        assert_eq!(people.as_array().unwrap().len(), 0, "{what}");
    }
}

#[test]
fn bad_command_line_values_are_usage_errors() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    let out = env.run(&["inventory", "list", "--kind", "robot"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--kind"), "{}", stderr(&out));
    let out = env.run(&["inventory", "list", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.run(&["inventory", "show", "no-such-nhi"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("NHI `no-such-nhi` not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_closed_output_ends_the_output_not_the_exit_code() {
    let env = Env::sqlite();
    env.ok(&["init"]);
    let header = "email,name,team,manager_email,status,departed_on\n";
    env.write(
        "people.csv",
        &format!("{header}a@example.com,A,,,gone,\nb@example.com,B,,,gone,\n"),
    );
    let before = env.state();
    // Errors written to a reader that has gone (`2>&1 | head -1`): still exit 3, nothing written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = env
        .command(&["people", "import", "people.csv"])
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3));
    assert_eq!(env.state(), before);
    // A listing whose reader stops early (`| head`) is not a failure.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = env
        .command(&["inventory", "list", "--format", "csv"])
        .stdout(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
