//! The catalogue crate's integration tests: the embedded data's shape, lookups, and the errors
//! that bad data produces.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod embedded;
mod errors;
mod lookups;
