/// What can go wrong in the store. Callers match variants, never message text.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// The store has not been initialised with `keyward init`.
    #[error("the store at {0} is not initialised")]
    Uninitialised(String),
    /// The store was already initialised.
    #[error("the store at {0} is already initialised")]
    AlreadyInitialised(String),
    /// A change was about to be committed without its ledger entry.
    #[error("refusing to commit a change that wrote no ledger entry")]
    Unledgered,
    /// A value read back is not one the model knows: the database was edited by hand.
    #[error("corrupt value in column `{column}`: {reason}")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// SQLite refused a statement issued through its C API (large reads).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub(crate) fn corrupt(column: &'static str, reason: impl ToString) -> Self {
        Self::Corrupt {
            column,
            reason: reason.to_string(),
        }
    }
}
