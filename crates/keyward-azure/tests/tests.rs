//! End-to-end tests of the `azure-files` connector on Microsoft Graph documents built here
//! (the shared corpus holds no Entra ID listings).
#![recursion_limit = "256"]
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

mod fixtures;
mod generated;
mod props;
