//! Parsers never panic: on arbitrary bytes, and on valid logs with bytes changed, cut or
//! inserted, they return the identities or an error.

use std::path::Path;

use keyward_usage::{generate_cloudtrail, parse_cloudtrail, parse_k8s_audit};
use proptest::prelude::*;

fn k8s_sample() -> Vec<u8> {
    let lines = [
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ci/secrets","verb":"get","user":{"username":"system:serviceaccount:ci:deployer","groups":["system:serviceaccounts"]},"impersonatedUser":{"username":"system:serviceaccount:app:web"},"sourceIPs":["10.0.0.9"],"userAgent":"kubectl/v1.29.2 (darwin/arm64)","objectRef":{"resource":"secrets","subresource":"x","namespace":"ci"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2024-05-01T10:00:00.000001Z","stageTimestamp":"2024-05-01T10:00:00.2Z","annotations":{"authorization.k8s.io/decision":"allow"}}"#,
        r#"{"_test_name":"t","log":{"kind":"EventList","items":[{"verb":"list","user":{"username":"system:serviceaccount:a:b"},"stage":"RequestReceived"}]}}"#,
    ];
    lines.join("\n").into_bytes()
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, byte, op) in edits {
        if bytes.is_empty() {
            break;
        }
        let i = at % bytes.len();
        match op % 3 {
            0 => bytes[i] = byte,
            1 => bytes.insert(i, byte),
            _ => bytes.truncate(i),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_cloudtrail(Path::new("x.json"), &bytes);
        let _ = parse_k8s_audit(Path::new("x.log"), &bytes, "c");
    }

    #[test]
    fn mutated_cloudtrail_never_panics(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        let bytes = mutate(generate_cloudtrail(4, 9), &edits);
        let _ = parse_cloudtrail(Path::new("x.json"), &bytes);
    }

    #[test]
    fn mutated_audit_logs_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        let bytes = mutate(k8s_sample(), &edits);
        let _ = parse_k8s_audit(Path::new("x.log"), &bytes, "c");
    }
}

#[test]
fn the_unmutated_samples_parse() {
    assert_eq!(
        parse_cloudtrail(Path::new("x.json"), &generate_cloudtrail(4, 9))
            .unwrap()
            .len(),
        4
    );
    let nhis = parse_k8s_audit(Path::new("x.log"), &k8s_sample(), "c").unwrap();
    let ids: Vec<_> = nhis.iter().map(|n| n.external_id.as_str()).collect();
    assert_eq!(ids, ["c/a/b", "c/app/web", "c/ci/deployer"]);
}
