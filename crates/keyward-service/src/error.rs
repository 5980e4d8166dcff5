use keyward_ledger::bundle::BundleError;
use keyward_manifest::ManifestErrors;
use keyward_store::StoreError;

use crate::KeyError;

/// Why a use case failed. Input errors ([`ServiceError::Invalid`]) name file, line and field.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is invalid; nothing was written.
    #[error("{0}")]
    Invalid(ManifestErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key file is missing, unreadable or malformed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The key file does not belong to this store's installation.
    #[error(
        "the key file {path} does not belong to this store (its public key is {found}, the store's is {expected})"
    )]
    KeyMismatch {
        /// The key file.
        path: String,
        /// The store's public key.
        expected: String,
        /// The key file's public key.
        found: String,
    },
    /// A change was asked for without the installation's key file.
    #[error("changing the register needs the installation's key file ({path})")]
    KeyRequired {
        /// Where the key file was looked for.
        path: String,
    },
    /// A ledger bundle could not be written or read.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// Checks could not be loaded, configured or evaluated.
    #[error(transparent)]
    Check(#[from] keyward_checks::CheckError),
    /// A request the register's rules refuse (an approver approving their own exception, an
    /// exception without an expiry); nothing was written.
    #[error("{0}")]
    Refused(String),
    /// Output could not be written.
    #[error("{context}: {source}")]
    Io {
        /// What was being written.
        context: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl ServiceError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

impl From<ManifestErrors> for ServiceError {
    fn from(e: ManifestErrors) -> Self {
        Self::Invalid(e)
    }
}
