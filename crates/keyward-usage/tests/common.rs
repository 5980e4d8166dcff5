//! What the test modules share.

use std::io::Write;
use std::path::{Path, PathBuf};

use keyward_model::DiscoveredNhi;

/// A file of the shared corpus, or `None` (after saying why) when the corpus is not there.
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let p = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ))
    .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is missing", p.display());
        None
    }
}

/// The NHI with this external id.
pub fn by_id<'a>(nhis: &'a [DiscoveredNhi], id: &str) -> &'a DiscoveredNhi {
    nhis.iter()
        .find(|n| n.external_id == id)
        .unwrap_or_else(|| panic!("no NHI {id}"))
}

/// Gzips bytes.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A small deterministic generator for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
