//! End-to-end tests of the `gcp-files` connector: on the shared corpus's real exports and
//! credential files, and on gcloud- and asset-inventory-shaped documents built here.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

mod corpus;
mod fixtures;
mod generated;
mod props;

use keyward_connect::Discovery;
use keyward_model::DiscoveredNhi;

/// The NHI with this external id.
pub fn nhi<'a>(d: &'a Discovery, id: &str) -> &'a DiscoveredNhi {
    d.nhis
        .iter()
        .find(|n| n.external_id == id)
        .unwrap_or_else(|| panic!("no NHI `{id}` among {:?}", ids(d)))
}

/// Every NHI's external id, in order.
pub fn ids(d: &Discovery) -> Vec<&str> {
    d.nhis.iter().map(|n| n.external_id.as_str()).collect()
}

/// A fact's value as a string list.
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
