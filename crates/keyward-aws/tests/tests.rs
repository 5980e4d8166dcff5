//! End-to-end tests of the AWS IAM connectors: on the corpus's real-format samples, on
//! documents generated here (a credential report with its root row, large generated
//! accounts), on arbitrary and mutated bytes, and live against the moto emulator.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

mod corpus;
mod generated;
#[cfg(feature = "api")]
mod live;
mod props;

use std::path::PathBuf;

use keyward_model::DiscoveredNhi;

/// A file of the shared corpus, or `None` (with the reason printed) when the corpus is absent.
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/"
    ))
    .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: corpus file {} is not here", p.display());
        None
    }
}

/// The NHI with this external id.
pub fn nhi<'a>(nhis: &'a [DiscoveredNhi], external_id: &str) -> &'a DiscoveredNhi {
    match nhis.iter().find(|n| n.external_id == external_id) {
        Some(n) => n,
        None => panic!("no NHI `{external_id}`"),
    }
}

/// A fact as a list of strings.
pub fn strings(n: &DiscoveredNhi, fact: &str) -> Vec<String> {
    n.facts
        .get(fact)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
