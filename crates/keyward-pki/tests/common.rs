use std::path::{Path, PathBuf};

use keyward_model::DiscoveredNhi;
use serde_json::Value;

/// The shared corpus, or `None` (with a note) when it is not there.
pub fn corpus() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ));
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: no corpus at {}", p.display());
        None
    }
}

/// The NHI with this external id.
pub fn by_id<'a>(nhis: &'a [DiscoveredNhi], id: &str) -> &'a DiscoveredNhi {
    nhis.iter()
        .find(|n| n.external_id == id)
        .unwrap_or_else(|| panic!("no NHI {id}"))
}

/// A fact, or `Value::Null`.
pub fn fact<'a>(n: &'a DiscoveredNhi, key: &str) -> &'a Value {
    n.facts.get(key).unwrap_or(&Value::Null)
}

/// A string array fact.
pub fn strings(n: &DiscoveredNhi, key: &str) -> Vec<String> {
    fact(n, key)
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// A path's file name.
pub fn file_name(p: &str) -> &str {
    Path::new(p.rsplit_once(':').map_or(p, |(a, _)| a))
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
}

/// Random bytes for key material built at test time (never a literal in the repository).
pub fn random_bytes(n: usize) -> Vec<u8> {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let state = RandomState::new();
    let mut out = Vec::with_capacity(n + 8);
    let mut i = 0u64;
    while out.len() < n {
        let mut h = state.build_hasher();
        h.write_u64(i);
        out.extend_from_slice(&h.finish().to_be_bytes());
        i += 1;
    }
    out.truncate(n);
    out
}
