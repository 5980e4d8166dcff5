//! The `keyward` binary end to end, as a user runs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod bad_input;
mod checks;
mod discover;
mod flow;
mod no_secret_anywhere;
mod rules;
mod scan;
mod support;
