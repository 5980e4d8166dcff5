//! Arbitrary bytes and mutations of a valid snapshot never panic the walk or the mapping.

use keyward_openbao::parse_snapshot;
use proptest::prelude::*;
use serde_json::Value;

use crate::common::{snapshot, world};

/// A valid snapshot, built once.
fn sample() -> &'static [u8] {
    static SAMPLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(|| snapshot(&world(6)).bytes())
}

/// Applies edits to bytes: overwrite, delete or insert at positions taken modulo the length.
fn mutate(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(op, at, b) in edits {
        if bytes.is_empty() {
            bytes.push(b);
            continue;
        }
        let i = at % bytes.len();
        match op % 4 {
            0 => bytes[i] = b,
            1 => {
                bytes.remove(i);
            }
            2 => bytes.insert(i, b),
            _ => bytes.truncate(i),
        }
    }
    bytes
}

/// Every value in a JSON tree, depth first, for replacing the `n`th.
fn replace_nth(v: &mut Value, n: &mut usize, with: &Value) -> bool {
    if *n == 0 {
        *v = with.clone();
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| replace_nth(x, n, with)),
        Value::Object(o) => o.values_mut().any(|x| replace_nth(x, n, with)),
        _ => false,
    }
}

fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!(["a/", "", "/"])),
        Just(Value::String("0001-01-01T00:00:00Z".into())),
        Just(Value::String(
            "path \"*\" { capabilities = [\"sudo\"".into()
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_snapshot("p.json".as_ref(), &bytes);
    }

    #[test]
    fn mutated_bytes_never_panic(edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8)) {
        let bytes = mutate(sample().to_vec(), &edits);
        let _ = parse_snapshot("p.json".as_ref(), &bytes);
    }

    #[test]
    fn mutated_values_never_panic(at in 0usize..4000, with in odd_value()) {
        let mut doc: Value = serde_json::from_slice(sample()).unwrap();
        let mut n = at;
        replace_nth(&mut doc, &mut n, &with);
        let bytes = serde_json::to_vec(&doc).unwrap();
        let _ = parse_snapshot("p.json".as_ref(), &bytes);
    }
}
