//! The connectors end to end: on the shared corpus of real files, on documents generated here,
//! and against a TLS server started here.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

mod common;
mod fuzz;
mod ssh_corpus;
mod ssh_generated;
mod tls;
mod x509_corpus;
mod x509_generated;
