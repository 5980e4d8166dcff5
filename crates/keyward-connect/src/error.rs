use std::path::PathBuf;

/// Why a connector could not read its source. Every variant names where: the file with line
/// and column when known, or the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The input is not well-formed (bad JSON, YAML, CSV, PEM, gzip, truncated).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A binary input (gzip, DER) is corrupt or truncated at a byte offset.
    #[error("{}: byte {offset}: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset where reading failed.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// The input is well-formed but a field holds a value that cannot be right (a bad date,
    /// an unknown enum value, a missing required field).
    #[error("{}:{line}:{column}: {field}: {reason}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when the format gives none).
        line: usize,
        /// 1-based column (0 when the format gives none).
        column: usize,
        /// The field's path in the document (`UserDetailList[3].CreateDate`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// An endpoint could not be reached or answered with an error.
    #[error("{endpoint}: {message}")]
    Endpoint {
        /// The endpoint's URL, without credentials.
        endpoint: String,
        /// What happened.
        message: String,
    },
    /// The request itself cannot be served (no inputs given, conflicting options).
    #[error("{0}")]
    Usage(String),
}

impl ConnectError {
    /// A syntax error at a position in a file.
    pub fn syntax(
        path: impl Into<PathBuf>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        Self::Syntax {
            path: path.into(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A bad field at a position in a file.
    pub fn field(
        path: impl Into<PathBuf>,
        (line, column): (usize, usize),
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Field {
            path: path.into(),
            line,
            column,
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An endpoint that failed.
    pub fn endpoint(endpoint: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Endpoint {
            endpoint: endpoint.into(),
            message: message.to_string(),
        }
    }
}
