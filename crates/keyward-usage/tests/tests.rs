//! End-to-end tests: the connectors on the real-format samples of the shared corpus and on
//! logs generated here, and parsers that never panic on any input.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

mod cloudtrail;
mod common;
mod k8s;
mod props;
