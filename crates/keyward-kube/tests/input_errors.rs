//! Bad input fails the whole run, naming the file, line, column and field.

use keyward_connect::ConnectError;
use keyward_kube::{KubeManifests, parse_manifests};

use crate::{corpus_dir, write};

const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: web\n";

/// Runs on a good file and then `b-bad.<ext>`, which must fail the run.
fn run_on_file(ext: &str, text: &[u8]) -> ConnectError {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "a-good.yaml", SA);
    let bad = write(dir.path(), &format!("b-bad.{ext}"), text);
    let err = KubeManifests::new(vec![good, bad]).run().unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains(&format!("b-bad.{ext}:")), "{shown}");
    err
}

fn run_on(text: &[u8]) -> ConnectError {
    run_on_file("yaml", text)
}

#[test]
fn malformed_yaml_names_line_and_column() {
    let err = run_on(
        b"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n   namespace: web\n",
    );
    assert!(
        matches!(
            err,
            ConnectError::Syntax {
                line: 5,
                column: 13,
                ..
            }
        ),
        "{err}"
    );
    let err = run_on(format!("{SA}---\nkind: Role\nrules: [{{verbs: [get]}}\n").as_bytes());
    assert!(matches!(err, ConnectError::Syntax { line: 9, .. }), "{err}");
    let err = run_on(b"kind: ServiceAccount\nmetadata:\n\tname: app\n");
    assert!(matches!(err, ConnectError::Syntax { line: 3, .. }), "{err}");
}

#[test]
fn truncated_corpus_files_fail_where_they_stop() {
    let Some(dir) = corpus_dir() else { return };
    let text = std::fs::read_to_string(dir.join("ingress-nginx-cloud-deploy.yaml")).unwrap();
    // Cut inside a quoted scalar: the file ends before the quote closes.
    let cut = text
        .find("\"true\"")
        .map(|i| i + 2)
        .unwrap_or(text.len() / 2);
    let err = parse_manifests("cut.yaml".as_ref(), &text.as_bytes()[..cut]).unwrap_err();
    assert!(matches!(err, ConnectError::Syntax { .. }), "{err}");
    assert!(err.to_string().starts_with("cut.yaml:"), "{err}");

    let json = r#"{"apiVersion": "v1", "kind": "List", "items": [{"kind": "ServiceAccount", "metadata": {"name": "a"}}"#;
    let err = run_on_file("json", json.as_bytes());
    assert_eq!(
        err.to_string().rsplit_once("b-bad.json:").unwrap().1,
        "1:100: EOF while parsing a list"
    );
}

#[test]
fn wrong_types_name_the_field() {
    let err = run_on(format!("{SA}automountServiceAccountToken: \"yes\"\n").as_bytes());
    assert_eq!(
        err.to_string().rsplit_once("b-bad.yaml:").unwrap().1,
        "6:31: automountServiceAccountToken: expected true or false, found the string `yes`"
    );
    let err = run_on(
        b"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: view}\nsubjects:\n- kind: Group\n  name: [system:serviceaccounts]\n",
    );
    assert_eq!(
        err.to_string().rsplit_once("b-bad.yaml:").unwrap().1,
        "7:9: subjects[0].name: expected a string, found a sequence"
    );
    let err = run_on(
        b"apiVersion: v1\nkind: List\nitems:\n- kind: ServiceAccount\n  metadata:\n    name: a\n    labels:\n      app.kubernetes.io/name: {a: b}\n",
    );
    assert_eq!(
        err.to_string().rsplit_once("b-bad.yaml:").unwrap().1,
        "8:31: items[0].metadata.labels[\"app.kubernetes.io/name\"]: expected a string, found a mapping"
    );
    let err = run_on(b"apiVersion: v1\nkind: List\nitems: [1, 2]\n");
    assert!(
        err.to_string()
            .contains("items[0]: expected a mapping, found a scalar"),
        "{err}"
    );
    let err = run_on(
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      serviceAccountName: a/b\n",
    );
    assert!(
        err.to_string().contains(
            "spec.template.spec.serviceAccountName: `a/b` is not a valid Kubernetes name"
        ),
        "{err}"
    );
}

#[test]
fn bad_dates_and_missing_names_are_field_errors() {
    let err = run_on(b"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  creationTimestamp: 2026-02-30T10:00:00Z\n");
    assert!(
        matches!(
            err,
            ConnectError::Field {
                line: 5,
                column: 22,
                ..
            }
        ),
        "{err}"
    );
    let err = run_on(b"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  namespace: web\n");
    assert!(err.to_string().contains("missing `metadata.name`"), "{err}");
    let err = run_on(
        b"apiVersion: v1\nkind: Secret\ntype: kubernetes.io/service-account-token\nmetadata: {name: t}\n",
    );
    assert!(
        err.to_string()
            .contains("needs the annotation `kubernetes.io/service-account.name`"),
        "{err}"
    );
    let err = run_on(
        b"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: agg}\naggregationRule:\n  clusterRoleSelectors:\n  - matchExpressions: [{key: a, operator: Like}]\n",
    );
    assert!(
        err.to_string()
            .contains("`Like` is not a selector operator"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_and_corrupt_gzip_are_positioned() {
    let err = run_on(b"kind: ServiceAccount\nmetadata:\n  name: \xff\n");
    assert_eq!(
        err.to_string().rsplit_once("b-bad.yaml:").unwrap().1,
        "3:9: not valid UTF-8"
    );
    let dir = tempfile::tempdir().unwrap();
    let gz = write(dir.path(), "x.yaml.gz", [0x1f, 0x8b, 8, 0, 0, 0]);
    let err = KubeManifests::new(vec![gz]).run().unwrap_err();
    assert!(matches!(err, ConnectError::Corrupt { .. }), "{err}");
}

#[test]
fn usage_errors() {
    let err = KubeManifests::new(Vec::new()).run().unwrap_err();
    assert!(matches!(err, ConnectError::Usage(_)), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let mut c = KubeManifests::new(vec![dir.path().to_owned()]);
    c.cluster = "prod/eu".into();
    assert!(matches!(c.run().unwrap_err(), ConnectError::Usage(_)));
    let missing = KubeManifests::new(vec![dir.path().join("nope")])
        .run()
        .unwrap_err();
    assert!(matches!(missing, ConnectError::Io { .. }), "{missing}");
    // An empty directory is an empty population, not an error.
    let empty = KubeManifests::new(vec![dir.path().to_owned()])
        .run()
        .unwrap();
    assert!(empty.nhis.is_empty());
}
