//! Keyward's use cases, shared by the CLI and the server.
//!
//! A [`Service`] wraps an open store, the installation's keys, a [`Clock`] and the acting
//! identity. Each use case validates everything first and then makes its whole change in one
//! store transaction with its ledger entries, so bad input writes nothing.

mod apply;
mod check;
mod controls;
mod error;
mod exceptions;
pub mod findings_out;
mod ingest;
mod inventory;
mod keys;
mod ledger;
mod people;
mod posture;
pub mod render;
mod secrets;
mod service;

pub use apply::ApplyReport;
pub use check::{CheckOptions, CheckReport, CheckTally, ControlTally};
pub use controls::{ControlView, ControlsReport};
pub use error::ServiceError;
pub use exceptions::{ExceptionPolicy, ExceptionRequest, ExceptionView};
pub use ingest::{IngestReport, IngestSource};
pub use inventory::NhiDetail;
pub use keys::{KeyError, Keyring};
pub use ledger::{ExportReport, VerifyOutcome, verify_bundle};
pub use people::ImportReport;
pub use posture::{Posture, PostureLine};
pub use secrets::SecretsReport;
pub use service::{InitReport, Service, Settings};

/// The version recorded as the connector version of runs made by this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
