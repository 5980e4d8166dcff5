//! Whatever the bytes, reading and resolving return: never a panic.

use std::path::Path;

use keyward_kube::parse_manifests;
use proptest::prelude::*;

use crate::corpus_dir;

/// Fragments that steer mutations into YAML's corners.
const FRAGMENTS: &[&str] = &[
    "\n",
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "'",
    "\"",
    "\t",
    "---\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "kind: List\nitems:\n",
    "kind: ClusterRole\n",
    "aggregationRule:\n  clusterRoleSelectors:\n  - {}\n",
    "subjects:\n- kind: Group\n  name: system:serviceaccounts\n",
    "null",
    "~",
    "#",
    "|\n",
    ">-\n",
];

fn sample() -> Vec<u8> {
    match corpus_dir() {
        Some(dir) => std::fs::read(dir.join("ingress-nginx-cloud-deploy.yaml")).unwrap(),
        None => {
            b"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: b}\n".to_vec()
        }
    }
}

fn read(name: &str, bytes: &[u8]) {
    if let Ok(m) = parse_manifests(Path::new(name), bytes) {
        let resolved = m.resolve("c", "default");
        let mut ids: Vec<_> = resolved.nhis.iter().map(|n| &n.external_id).collect();
        let before = ids.clone();
        ids.sort();
        assert_eq!(ids, before, "NHIs are sorted");
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, usize),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(i, f)| Edit::Insert(i, f)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match *e {
            Edit::Truncate(i) => bytes.truncate(i % len),
            Edit::Flip(i, b) => {
                if !bytes.is_empty() {
                    bytes[i % len] = b;
                }
            }
            Edit::Insert(i, f) => {
                let at = (i % len).min(bytes.len());
                bytes.splice(at..at, FRAGMENTS[f].bytes());
            }
            Edit::Delete(i, n) => {
                let at = (i % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read("x.yaml", &bytes);
        read("x.json", &bytes);
    }

    #[test]
    fn mutated_manifests_never_panic(edits in proptest::collection::vec(edit(), 1..6)) {
        let bytes = apply(sample(), &edits);
        read("m.yaml", &bytes);
    }

    #[test]
    fn yaml_shaped_noise_never_panics(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..40)) {
        let text: String = parts.iter().map(|&i| FRAGMENTS[i]).collect();
        read("n.yaml", text.as_bytes());
        read("n.json", text.as_bytes());
    }
}
