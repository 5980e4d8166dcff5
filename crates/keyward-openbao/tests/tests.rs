//! End-to-end tests of the OpenBao connector: live against a real OpenBao dev server (when a
//! `bao` binary is at hand), on snapshots generated here in the server's exact response
//! shapes, on the real responses of the corpus audit log, and on arbitrary and mutated
//! snapshots.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests fail loudly"
)]

mod common;
mod corpus;
mod generated;
#[cfg(feature = "api")]
mod live;
mod props;
