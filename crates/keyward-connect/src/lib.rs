//! The interface every discovery connector implements, and what connectors share.
//!
//! A connector reads one kind of source (an AWS account, Kubernetes manifests, CI workflows,
//! certificates, an OpenBao server) and returns a [`Discovery`]: the NHIs it saw, in the
//! register's terms ([`keyward_model::DiscoveredNhi`]), with the provenance an auditor asks
//! for — which connector and version, which inputs with their SHA-256, which parameters, and
//! whether the run saw the whole population of its scope (so identities it no longer sees can
//! be marked). Connectors never write to the register; the service merges a discovery in one
//! transaction with its ledger entries, or writes nothing.
//!
//! Shared here so every connector behaves the same on bad input: [`ConnectError`] names the
//! file, line and column, and the field path where one is known; [`Inputs`] reads files and
//! directories (gzip included) and records each one's digest; [`parse_json`] turns a document
//! into typed values and reports a bad field as `file:line:column: field.path: reason`.

mod discovery;
mod error;
pub mod facts;
mod input;
mod json;
mod time;

pub use discovery::{Connector, Discovery, InputRecord};
pub use error::ConnectError;
pub use input::{InputFile, Inputs};
pub use json::{
    json_lines, parse_json, parse_json_at, parse_json_lines, parse_json_seed, position_of,
};
pub use time::{parse_date_or_time, parse_time};
