use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a credential's value was seen by a secret scan: a file, or a file in a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialLocation {
    /// The credential seen.
    pub credential_id: String,
    /// `file` (a work tree or directory) or `git` (history).
    pub source: LocationSource,
    /// The scan root: a directory or repository path as given.
    pub repository: String,
    /// The file, relative to the scan root where it lies under it.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based byte column.
    pub column: u32,
    /// The commit that introduced it, for history scans.
    pub commit: Option<String>,
    /// That commit's author.
    pub author: Option<String>,
    /// That commit's author date.
    pub committed_at: Option<DateTime<Utc>>,
    /// The detection rule.
    pub rule_id: String,
    /// First scan that saw it here.
    pub first_seen_at: DateTime<Utc>,
    /// Latest scan that saw it here.
    pub last_seen_at: DateTime<Utc>,
}

impl CredentialLocation {
    /// The key that tells one location from another for the same credential.
    pub fn key(&self) -> String {
        match &self.commit {
            Some(c) => format!(
                "git:{}@{c}:{}:{}:{}",
                self.repository, self.path, self.line, self.column
            ),
            None => format!(
                "file:{}:{}:{}:{}",
                self.repository, self.path, self.line, self.column
            ),
        }
    }
}

/// Which kind of scan saw a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationSource {
    /// Files on disk.
    File,
    /// Git history.
    Git,
}

impl LocationSource {
    /// The stable name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Git => "git",
        }
    }
}

impl std::str::FromStr for LocationSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "file" => Ok(Self::File),
            "git" => Ok(Self::Git),
            _ => Err(format!("`{s}` is not a location source (file, git)")),
        }
    }
}
