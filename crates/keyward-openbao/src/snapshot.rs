//! Recorded responses: a JSON document that answers the walk's requests without a server,
//! for tests, fuzzing and offline review.
//!
//! ```json
//! {
//!   "address": "https://bao.example:8200",
//!   "namespace": null,
//!   "kv_mounts": null,
//!   "responses": {
//!     "GET sys/health?standbyok=true&perfstandbyok=true": {"version": "2.7.2", …},
//!     "GET sys/auth": {"data": {"token/": {"type": "token"}}},
//!     "LIST auth/token/accessors": {"data": {"keys": ["…"]}},
//!     "POST auth/token/lookup-accessor {\"accessor\":\"…\"}": {"data": {…}},
//!     "LIST secret/metadata/": null
//!   }
//! }
//! ```
//!
//! Each key is a request as the walk sends it (method, path below `/v1/`, for `POST` the body
//! as compact JSON with sorted keys); each value is the response body the server gave, with
//! status 200, or `null` for a 404. `namespace` and `kv_mounts` are optional and mean what
//! they mean for [`crate::OpenBaoApi`].

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use keyward_connect::{ConnectError, Discovery, InputRecord};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::request::{Origin, Reply, Request, Transport};
use crate::response::parse_at;
use crate::walk::{Settings, collect};

/// The name of the offline connector recorded on a discovery made from a snapshot.
pub const SNAPSHOT_CONNECTOR: &str = "openbao-snapshot";

#[derive(Deserialize)]
struct Document<'a> {
    address: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    kv_mounts: Option<Vec<String>>,
    #[serde(borrow)]
    responses: BTreeMap<String, &'a RawValue>,
}

/// The responses of a snapshot, by request key.
struct Snapshot<'a> {
    path: PathBuf,
    bytes: &'a [u8],
    /// The offset of each line's first byte, so positions cost a search, not a scan.
    line_starts: Vec<usize>,
    responses: BTreeMap<String, &'a RawValue>,
}

impl<'a> Snapshot<'a> {
    fn new(path: &Path, bytes: &'a [u8], responses: BTreeMap<String, &'a RawValue>) -> Self {
        let line_starts = std::iter::once(0).chain(newlines(bytes)).collect();
        Self {
            path: path.to_owned(),
            bytes,
            line_starts,
            responses,
        }
    }

    /// Where a raw value starts in the file.
    fn origin_of(&self, raw: &RawValue) -> Origin {
        // `raw` borrows from `bytes`, so its address lies within them.
        let offset = (raw.get().as_ptr() as usize)
            .saturating_sub(self.bytes.as_ptr() as usize)
            .min(self.bytes.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        Origin {
            path: self.path.clone(),
            line,
            column: offset - start + 1,
        }
    }
}

/// The offsets just after each newline.
fn newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
}

impl Transport for Snapshot<'_> {
    fn send(&self, request: &Request) -> impl Future<Output = Result<Reply, ConnectError>> + Send {
        let key = request.key();
        let found = self.responses.get(&key).map(|raw| {
            let body = raw.get();
            let (status, body) = if body == "null" {
                (404, br#"{"errors":[]}"#.to_vec())
            } else {
                (200, body.as_bytes().to_vec())
            };
            Reply {
                status,
                body,
                origin: self.origin_of(raw),
                endpoint: format!("{}: `{key}`", self.path.display()),
            }
        });
        let path = self.path.clone();
        async move {
            found.ok_or_else(|| {
                ConnectError::field(
                    path,
                    (0, 0),
                    "responses",
                    format!("no response recorded for `{key}`"),
                )
            })
        }
    }
}

/// Runs the discovery walk on a recorded snapshot (the format above) and returns what it
/// would have found on the server. Every response is parsed as the live connector parses it,
/// so an error names the snapshot file, the line and column in it, and the field path.
pub fn parse_snapshot(path: &Path, bytes: &[u8]) -> Result<Discovery, ConnectError> {
    let origin = Origin::whole(path);
    let doc: Document<'_> = parse_at(bytes, &origin)?;
    let namespace = crate::resolve::normalize_namespace(doc.namespace.as_deref());
    let settings = Settings {
        kv_mounts: doc.kv_mounts.clone(),
        concurrency: 1,
    };
    let snapshot = Snapshot::new(path, bytes, doc.responses);
    let collected = block_on(collect(&snapshot, &settings)).ok_or_else(|| {
        ConnectError::Usage("the snapshot walk did not finish (a request never answered)".into())
    })??;
    let input = InputRecord {
        kind: "file",
        locator: path.display().to_string(),
        sha256: Some(hex::encode(Sha256::digest(bytes))),
        bytes: Some(bytes.len() as u64),
        identity: Some(crate::resolve::identity(&collected)),
    };
    Ok(crate::assemble(
        SNAPSHOT_CONNECTOR,
        &doc.address,
        namespace.as_deref(),
        doc.kv_mounts.as_deref(),
        collected,
        input,
    ))
}

/// Drives a future whose every step is immediately ready (a snapshot never waits); `None`
/// if it keeps waiting. Stream combinators may return pending once in a while to yield,
/// having woken themselves, so it polls again rather than giving up at the first.
fn block_on<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..10_000_000u32 {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_a_full_scan() {
        let text = "{\n  \"a\": {\"x\": 1},\n\n  \"b\": [1,\n 2]\n}";
        let doc: BTreeMap<String, &RawValue> = serde_json::from_str(text).unwrap();
        let snap = Snapshot::new(Path::new("s.json"), text.as_bytes(), doc.clone());
        for raw in doc.values() {
            let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            let o = snap.origin_of(raw);
            assert_eq!(
                (o.line, o.column),
                keyward_connect::position_of(text.as_bytes(), offset)
            );
        }
    }
}
