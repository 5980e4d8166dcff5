//! The connector end to end: real workflows from the corpus, generated GitHub and GitLab
//! repositories, bad input, and arbitrary bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod corpus;
mod github;
mod gitlab;
mod props;
mod support;
