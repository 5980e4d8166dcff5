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
    /// `scan --fail-on-findings` found credentials.
    Findings = 5,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}
