//! Exit codes, documented in the README.

/// How `keyward` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Done.
    Success = 0,
    /// Something failed (database unreachable, I/O, a key problem).
    Failure = 1,
    /// The command line was wrong.
    Usage = 2,
    /// The input files are invalid; nothing was written.
    InvalidInput = 3,
    /// The ledger failed verification.
    LedgerTampered = 4,
    /// `scan --fail-on-findings` found credentials, or `check --fail-on` found open findings
    /// at or above the severity.
    Findings = 5,
    /// The register's rules refused the request (an approver deciding their own exception,
    /// an exception without an expiry); nothing was written.
    Refused = 6,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}
