//! Keyward's domain model.
//!
//! A non-human identity ([`Nhi`]) answers four questions: who owns it ([`OwnerRef`]), what it may
//! do (privilege ceiling and observed permissions), when it expires, and how it is reviewed
//! ([`Cadence`]). Credentials ([`Credential`]) belong to an NHI and are known only by keyed
//! fingerprint ([`Fingerprinter`]). People and teams ([`Person`]) own NHIs. Time is injected
//! through [`Clock`] so expiry and review logic is testable.

mod clock;
mod discovered;
mod enums;
mod finding;
pub mod instant;
mod location;
mod nhi;
mod owner;
mod pattern;
mod person;
mod secret;

pub use clock::{Clock, FixedClock, SystemClock};
pub use discovered::{DiscoveredCredential, DiscoveredNhi, Facts};
pub use enums::{
    CredentialKind, CredentialStatus, Environment, ExceptionState, FindingState, NhiKind,
    NhiStatus, Origin, ParseEnumError, PersonStatus, Severity, UsageState,
};
pub use finding::{EvidenceHasher, Finding, RiskException, evidence_digest};
pub use location::{CredentialLocation, LocationSource};
pub use nhi::{
    Cadence, CadenceError, Credential, DeclaredNhi, IdGenerator, Nhi, NhiId, Observation,
};
pub use owner::{OwnerRef, OwnerRefError};
pub use pattern::pattern_covers;
pub use person::Person;
pub use secret::{FingerprintKey, Fingerprinter, SecretValue, preview};
