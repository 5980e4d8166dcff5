//! Keyward's posture checks.
//!
//! A check judges one NHI — its [`Subject`]: register fields, what its sources say, its
//! credentials and where they leaked, its owner's standing — and passes, fails with
//! [`Evidence`], or does not apply. The built-ins cover all ten OWASP NHI Top 10 (2025) risks
//! and the register's governance; their logic is in [`builtins`], and everything else about
//! them — title, rationale, severity, parameters with per-environment defaults, ISO/IEC
//! 27001:2022 Annex A and NIST CSF 2.0 mappings, remediation, inline test cases — is data in
//! `data/checks/*.yaml`, embedded. Custom checks are the same metadata with a Rego module
//! (`rego:`), evaluated by an embedded interpreter ([`Checks::load_policies`]).
//! `keyward.toml`'s `[checks.<id>]` tables turn checks off, change severities and set
//! parameters, per environment too ([`Checks::configure`]).

pub mod builtins;
mod custom;
mod meta;
mod outcome;
mod params;
pub mod paths;
mod set;
mod subject;

pub use keyward_model::Severity;
pub use meta::{Case, CheckMeta, Expect, ParamSpec, ParamValue};
pub use outcome::{Evidence, Outcome};
pub use params::Params;
pub use paths::PathClass;
pub use set::{CaseFailure, Check, Checks, case_epoch};
pub use subject::{CredentialSubject, Gone, Place, Standing, Subject};

/// Why checks could not be loaded, configured or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// A check file is malformed.
    #[error("{file}:{line}: {field}: {reason}")]
    Data {
        /// The file.
        file: String,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A `keyward.toml` setting is wrong.
    #[error("{field}: {reason}")]
    Config {
        /// The setting (`checks.not-rotated.max_age_days`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read.
    #[error("cannot read `{path}`: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A Rego module failed to compile or evaluate.
    #[error("{0}")]
    Rego(String),
    /// A request that cannot be met.
    #[error("{0}")]
    Usage(String),
}
