//! End-to-end tests of the public API on files written to a temporary directory.

use std::fs;
use std::path::Path;

use keyward_manifest::{MAX_ERRORS, load_paths, load_people_csv};
use keyward_model::{NhiKind, PersonStatus};

fn declaration(name: &str, kind: &str) -> String {
    format!(
        "apiVersion: keyward/v1\nkind: NonHumanIdentity\nmetadata:\n  name: {name}\nspec:\n  kind: {kind}\n  provider: github\n  owner: team:platform\n"
    )
}

fn write(dir: &Path, name: &str, text: &str) -> std::io::Result<()> {
    fs::write(dir.join(name), text)
}

#[test]
fn a_register_and_its_people_load_together() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "bots.yaml", &declaration("release-bot", "bot")).unwrap();
    write(dir, "tokens.yml", &declaration("deploy-token", "token")).unwrap();
    write(
        dir,
        "people.csv",
        "email,name,team,manager_email,status,departed_on\nann@example.com,Ann,platform,,active,\n",
    )
    .unwrap();

    let set = load_paths(&[dir.to_path_buf()]).unwrap();
    let kinds: Vec<_> = set.nhis.iter().map(|n| (n.name.as_str(), n.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("release-bot", NhiKind::Bot),
            ("deploy-token", NhiKind::Token)
        ]
    );
    assert_eq!(set.files.len(), 2);
    assert!(set.files.iter().all(|f| f.sha256.len() == 64));

    let people = load_people_csv(&dir.join("people.csv")).unwrap();
    assert_eq!(people[0].status, PersonStatus::Active);
}

#[test]
fn errors_from_every_file_are_listed_and_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for f in 0..3 {
        let text: Vec<_> = (0..50)
            .map(|d| declaration(&format!("n{f}-{d}"), "robot"))
            .collect();
        write(dir, &format!("f{f}.yaml"), &text.join("---\n")).unwrap();
    }
    let err = load_paths(&[dir.to_path_buf()]).unwrap_err();
    assert_eq!(err.0.len(), MAX_ERRORS + 1);
    let text = err.to_string();
    let lines: Vec<_> = text.lines().collect();
    assert!(lines[0].ends_with("f0.yaml:6: spec.kind: `robot` is not a valid kind (expected one of: service_account, iam_user, iam_role, access_key, api_key, token, oauth_app, certificate, ssh_key, k8s_service_account, ci_secret, workload_identity, bot, other)"), "{}", lines[0]);
    assert!(lines[50].contains("f1.yaml:6: spec.kind"), "{}", lines[50]);
    assert!(
        lines[MAX_ERRORS]
            .ends_with("f2.yaml:6: too many errors: 50 more not shown, the first of them here"),
        "{}",
        lines[MAX_ERRORS]
    );
}
