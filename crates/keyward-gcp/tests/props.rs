//! Whatever the bytes, parsing and merging return a value or an error, never a panic.

use keyward_gcp::{merge, parse_gcp};
use proptest::prelude::*;

use crate::fixtures;

fn samples() -> Vec<Vec<u8>> {
    let mut out = vec![
        fixtures::asset_export().into_bytes(),
        serde_json::to_vec_pretty(&fixtures::account_list()).unwrap(),
        serde_json::to_vec_pretty(&fixtures::ci_keys()).unwrap(),
        serde_json::to_vec_pretty(&fixtures::key_file(fixtures::CI, "k1")).unwrap(),
        serde_json::to_vec_pretty(&fixtures::external_account()).unwrap(),
    ];
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/gcp/cai/forseti-mock_cai_iam_policies.dump"
    );
    if let Ok(b) = std::fs::read(corpus) {
        out.push(b);
    }
    out
}

fn run(bytes: &[u8]) {
    if let Ok(f) = parse_gcp("fuzz.json".as_ref(), bytes) {
        let _ = merge(vec![f], None);
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (
            any::<usize>(),
            prop::sample::select(b"{}[]\",:#\n0tfn\\ ".to_vec())
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
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
                    bytes[i % len] ^= b | 1;
                }
            }
            Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Edit::Delete(i, n) => {
                let start = i % len;
                let end = (start + n).min(bytes.len());
                if start < end {
                    bytes.drain(start..end);
                }
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        run(&bytes);
    }

    #[test]
    fn mutated_samples_never_panic(which in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..6)) {
        let samples = samples();
        let sample = samples[which.index(samples.len())].clone();
        run(&apply(sample, &edits));
    }
}
