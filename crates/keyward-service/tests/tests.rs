//! Service conformance: every use case, on SQLite and PostgreSQL, with a fixed clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod apply;
mod checks;
mod ingest;
mod ledger;
mod people_posture;
mod secrets;
mod support;
