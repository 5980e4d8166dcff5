//! Helpers shared by the tests.

use std::path::{Path, PathBuf};

use keyward_cicd::CiFilesConnector;
use keyward_connect::Discovery;
use keyward_model::DiscoveredNhi;
use serde_json::Value;

/// The corpus of real workflows, or `None` (with a note) when it is not there.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/ci/github-actions"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: corpus not found at {}", dir.display());
        None
    }
}

/// Writes `text` at `root/name`, creating directories.
pub fn write(root: &Path, name: &str, text: &str) {
    let p = root.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Runs the connector on `paths` for `repository`.
pub fn run(paths: &[PathBuf], repository: &str) -> Discovery {
    CiFilesConnector::new(paths.to_vec())
        .with_repository(repository)
        .read()
        .unwrap()
}

/// The NHI with this external id.
pub fn nhi<'a>(d: &'a Discovery, external_id: &str) -> &'a DiscoveredNhi {
    d.nhis
        .iter()
        .find(|n| n.external_id == external_id)
        .unwrap_or_else(|| {
            panic!(
                "no {external_id} among {:?}",
                d.nhis.iter().map(|n| &n.external_id).collect::<Vec<_>>()
            )
        })
}

/// The names of the NHIs, in order.
pub fn names(d: &Discovery) -> Vec<&str> {
    d.nhis.iter().map(|n| n.name.as_str()).collect()
}

/// A fact's strings.
pub fn strings(n: &DiscoveredNhi, fact: &str) -> Vec<String> {
    match n.facts.get(fact) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        None => Vec::new(),
        Some(other) => panic!("{fact} is not a list of strings: {other}"),
    }
}

/// Whether a fact is `true`.
pub fn flag(n: &DiscoveredNhi, fact: &str) -> bool {
    match n.facts.get(fact) {
        Some(Value::Bool(b)) => *b,
        None => false,
        Some(other) => panic!("{fact} is not a bool: {other}"),
    }
}

/// A fact's objects.
pub fn objects<'a>(n: &'a DiscoveredNhi, fact: &str) -> Vec<&'a Value> {
    match n.facts.get(fact) {
        Some(Value::Array(items)) => items.iter().collect(),
        None => Vec::new(),
        Some(other) => panic!("{fact} is not a list: {other}"),
    }
}

/// The `name` of each consumer.
pub fn consumer_names(n: &DiscoveredNhi) -> Vec<String> {
    objects(n, "consumers")
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A pseudo-random string of `len` characters from `alphabet`, so no secret-shaped literal
/// sits in the repository.
pub fn random(seed: u64, len: usize, alphabet: &[u8]) -> String {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            alphabet[((x >> 33) % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

/// Upper-case letters and digits.
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
