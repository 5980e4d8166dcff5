//! The requests the discovery walk makes, and what answers them: the live server over HTTP
//! or a recorded snapshot. Keeping the walk generic over [`Transport`] lets the same code run
//! offline on recorded responses, in tests and under a fuzzer.

use std::future::Future;
use std::path::PathBuf;

use keyward_connect::ConnectError;
use serde_json::Value;

/// An HTTP method of the API as the walk uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// `GET`.
    Get,
    /// `LIST` (sent as `GET …?list=true`).
    List,
    /// `POST` with a JSON body.
    Post,
}

impl Method {
    /// The name used in snapshot keys.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::List => "LIST",
            Self::Post => "POST",
        }
    }
}

/// One API request: a method, a path below `/v1/` and, for `POST`, a body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    /// The method.
    pub method: Method,
    /// The path below `/v1/`, without a leading slash; a trailing `/` is kept (KV folders).
    pub path: String,
    /// A query string sent with it (without `?`).
    pub query: Option<&'static str>,
    /// The JSON body of a `POST`.
    pub body: Option<Value>,
    /// Sent without namespace and without token: `sys/health` answers only in the root
    /// namespace and needs no authentication.
    pub root_unauthenticated: bool,
}

impl Request {
    /// `GET path`.
    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            path: path.into(),
            query: None,
            body: None,
            root_unauthenticated: false,
        }
    }

    /// `LIST path`.
    pub(crate) fn list(path: impl Into<String>) -> Self {
        Self {
            method: Method::List,
            path: path.into(),
            query: None,
            body: None,
            root_unauthenticated: false,
        }
    }

    /// `POST path` with a JSON body.
    pub(crate) fn post(path: impl Into<String>, body: Value) -> Self {
        Self {
            method: Method::Post,
            path: path.into(),
            query: None,
            body: Some(body),
            root_unauthenticated: false,
        }
    }

    /// The key of this request in a snapshot: `GET sys/mounts`, `LIST auth/approle/role`,
    /// `POST auth/token/lookup-accessor {"accessor":"…"}` (the body as compact JSON with
    /// sorted keys).
    pub(crate) fn key(&self) -> String {
        let mut key = format!("{} {}", self.method.as_str(), self.path);
        if let Some(q) = self.query {
            key.push('?');
            key.push_str(q);
        }
        if let Some(b) = &self.body {
            key.push(' ');
            key.push_str(&b.to_string());
        }
        key
    }

    /// `GET sys/health`, which standbys answer too, sent outside any namespace and without
    /// the token.
    pub(crate) fn health() -> Self {
        Self {
            query: Some("standbyok=true&perfstandbyok=true"),
            root_unauthenticated: true,
            ..Self::get("sys/health")
        }
    }
}

/// Where a response body came from, so a parse error names it and its position: an
/// endpoint's URL (positions within the body), or a snapshot file (positions within the file,
/// the body starting at `line`:`column`).
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    /// The URL or file named in errors.
    pub path: PathBuf,
    /// 1-based line where the body starts.
    pub line: usize,
    /// 1-based column where the body starts.
    pub column: usize,
}

impl Origin {
    /// A body that is a whole document of its own (an HTTP response).
    pub(crate) fn whole(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            line: 1,
            column: 1,
        }
    }

    /// The position in the origin of a 1-based position within the body.
    pub(crate) fn position(&self, line: usize, column: usize) -> (usize, usize) {
        if line <= 1 {
            (self.line, self.column + column.saturating_sub(1))
        } else {
            (self.line + line - 1, column)
        }
    }
}

/// An answer: the HTTP status and the body.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The body as received.
    pub body: Vec<u8>,
    /// Where it came from.
    pub origin: Origin,
    /// The endpoint as named in errors (URL without credentials, or the snapshot key).
    pub endpoint: String,
}

/// What answers the walk's requests.
pub(crate) trait Transport: Sync {
    /// Sends one request. Fails only when no answer came (unreachable, TLS, timeout, a
    /// request missing from a snapshot); an HTTP error status is an answer.
    fn send(&self, request: &Request) -> impl Future<Output = Result<Reply, ConnectError>> + Send;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_name_method_path_and_body() {
        assert_eq!(Request::get("sys/mounts").key(), "GET sys/mounts");
        assert_eq!(
            Request::list("secret/metadata/").key(),
            "LIST secret/metadata/"
        );
        assert_eq!(
            Request::health().key(),
            "GET sys/health?standbyok=true&perfstandbyok=true"
        );
        assert_eq!(
            Request::post("auth/token/lookup-accessor", json!({"accessor": "abc"})).key(),
            r#"POST auth/token/lookup-accessor {"accessor":"abc"}"#
        );
    }

    #[test]
    fn positions_in_an_embedded_body_are_shifted() {
        let o = Origin {
            path: "s.json".into(),
            line: 3,
            column: 10,
        };
        assert_eq!(o.position(1, 1), (3, 10));
        assert_eq!(o.position(1, 5), (3, 14));
        assert_eq!(o.position(2, 4), (4, 4));
        assert_eq!(Origin::whole("u").position(2, 7), (2, 7));
    }
}
