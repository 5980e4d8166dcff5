//! End-to-end tests of the Kubernetes manifests connector: the real-format corpus, generated
//! charts, bad input, and properties.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

mod corpus;
mod generated;
mod input_errors;
mod properties;

use std::path::{Path, PathBuf};

use keyward_connect::Discovery;
use keyward_model::DiscoveredNhi;

/// The shared corpus's Kubernetes folder, or `None` (saying why) when it is not there.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/k8s"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: corpus not found at {}", dir.display());
        None
    }
}

/// The NHI with this external id.
pub fn nhi<'d>(d: &'d Discovery, external_id: &str) -> &'d DiscoveredNhi {
    d.nhis
        .iter()
        .find(|n| n.external_id == external_id)
        .unwrap_or_else(|| {
            let ids: Vec<_> = d.nhis.iter().map(|n| &n.external_id).collect();
            panic!("no {external_id} among {ids:?}")
        })
}

/// A fact's strings.
pub fn strings(n: &DiscoveredNhi, fact: &str) -> Vec<String> {
    n.facts[fact]
        .as_array()
        .unwrap_or_else(|| panic!("{fact} is not an array on {}", n.external_id))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// A fact's boolean.
pub fn flag(n: &DiscoveredNhi, fact: &str) -> bool {
    n.facts[fact].as_bool().unwrap()
}

/// The external ids of a discovery, in order.
pub fn ids(d: &Discovery) -> Vec<&str> {
    d.nhis.iter().map(|n| n.external_id.as_str()).collect()
}

/// Writes `text` to `dir/name`, creating folders.
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}
