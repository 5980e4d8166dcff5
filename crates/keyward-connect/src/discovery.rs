use std::future::Future;

use keyward_model::DiscoveredNhi;
use serde::Serialize;
use serde_json::Value;

use crate::ConnectError;

/// One input a run read: a file with its digest, or an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputRecord {
    /// `file` or `endpoint`.
    pub kind: &'static str,
    /// The file's path as given, or the endpoint's URL (never with credentials in it).
    pub locator: String,
    /// SHA-256 of the file's bytes as read (before decompression), hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The file's size in bytes as read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// What the endpoint said it is (account id, server version), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

impl InputRecord {
    /// An endpoint a live connector read, with what it said it is.
    pub fn endpoint(url: impl Into<String>, identity: Option<String>) -> Self {
        Self {
            kind: "endpoint",
            locator: url.into(),
            sha256: None,
            bytes: None,
            identity,
        }
    }
}

/// What one connector run saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discovery {
    /// The source, stable across connectors reading the same system (`aws-iam`, `kubernetes`,
    /// `github-actions`): an NHI has one observation per source.
    pub source: String,
    /// The population the run covers within its source (an AWS account, a cluster, a
    /// repository). Identities this source saw before in the same scope and not in a complete
    /// run are marked no longer seen.
    pub scope: String,
    /// Whether the run saw the whole population of its scope. Usage logs are a window, not a
    /// population: they update what they mention and never mark anything unseen.
    pub complete: bool,
    /// The connector that read it.
    pub connector: &'static str,
    /// The connector's version.
    pub connector_version: &'static str,
    /// Every input read, in the order read.
    pub inputs: Vec<InputRecord>,
    /// The parameters the run was given.
    pub parameters: Value,
    /// The NHIs seen, one per identity: the connector merges what several inputs say about the
    /// same identity before returning.
    pub nhis: Vec<DiscoveredNhi>,
    /// Things worth telling the user that did not stop the run (a record of an unknown type
    /// skipped, a policy document that could not be resolved).
    pub warnings: Vec<String>,
}

/// A configured connector: it reads its source and returns what it saw, or fails naming the
/// input and position; it writes nothing anywhere.
pub trait Connector {
    /// The connector's stable name, as recorded in runs and observations.
    fn name(&self) -> &'static str;

    /// Reads the source.
    fn discover(&self) -> impl Future<Output = Result<Discovery, ConnectError>> + Send;
}
