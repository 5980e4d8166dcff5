//! The live connector: the walk over HTTP(S) with reqwest and rustls.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use keyward_connect::{ConnectError, Connector, Discovery, InputRecord};
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::request::{Method, Origin, Reply, Request, Transport};
use crate::walk::{Settings, collect};

/// The most a single response may hold, against a misbehaving endpoint.
const MAX_BODY: usize = 64 << 20;

/// Discovery from an OpenBao (or Vault) server through its HTTP API: connector
/// `openbao-api`. Reads only; see the crate documentation for the paths and what becomes an
/// NHI. `Debug` shows the token as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct OpenBaoApi {
    /// The server's address (`https://bao.example:8200`); a path after the host is kept (a
    /// server behind a proxy prefix), and `/v1/` is added to it.
    pub address: String,
    /// The token to read with; [`crate::DISCOVERY_POLICY`] grants what it needs and no more.
    pub token: SecretString,
    /// The namespace to read (`X-Vault-Namespace`); the root namespace when `None`. Child
    /// namespaces are not descended into: each is a scope of its own.
    pub namespace: Option<String>,
    /// The KV version 2 mounts to read (`secret`); every KV version 2 mount in `sys/mounts`
    /// when `None`. Naming a mount that is not one is an error.
    pub kv_mounts: Option<Vec<String>>,
    /// A PEM file of CA certificates to trust besides the system's (a private CA).
    pub ca_cert: Option<PathBuf>,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long to wait for each whole response.
    pub request_timeout: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
}

impl OpenBaoApi {
    /// The connector's name.
    pub const NAME: &'static str = "openbao-api";

    /// A connector for `address` with `token`: root namespace, every KV version 2 mount,
    /// system CAs, 10 s to connect, 30 s per response, 8 requests at once.
    pub fn new(address: impl Into<String>, token: SecretString) -> Self {
        Self {
            address: address.into(),
            token,
            namespace: None,
            kv_mounts: None,
            ca_cert: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            concurrency: 8,
        }
    }

    async fn run(&self) -> Result<Discovery, ConnectError> {
        let base = base_url(&self.address)?;
        let http = self.client()?;
        let namespace = crate::resolve::normalize_namespace(self.namespace.as_deref());
        let namespace_header = namespace
            .as_deref()
            .map(|n| {
                HeaderValue::from_str(n).map_err(|_| {
                    ConnectError::Usage(format!("`{n}` is not a usable namespace name"))
                })
            })
            .transpose()?;
        let mut token = HeaderValue::from_str(self.token.expose_secret()).map_err(|_| {
            ConnectError::Usage("the token holds characters an HTTP header cannot carry".to_owned())
        })?;
        token.set_sensitive(true);
        let transport = Http {
            client: http,
            base,
            token,
            namespace: namespace_header,
            timeout: self.request_timeout,
        };
        let settings = Settings {
            kv_mounts: self.kv_mounts.clone(),
            concurrency: self.concurrency,
        };
        let collected = collect(&transport, &settings).await?;
        let address = self.address.trim_end_matches('/').to_owned();
        let input =
            InputRecord::endpoint(address.clone(), Some(crate::resolve::identity(&collected)));
        Ok(crate::assemble(
            Self::NAME,
            &address,
            namespace.as_deref(),
            self.kv_mounts.as_deref(),
            collected,
            input,
        ))
    }

    fn client(&self) -> Result<reqwest::Client, ConnectError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("keyward-openbao/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &self.ca_cert {
            let pem = std::fs::read(path).map_err(|source| ConnectError::Io {
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ConnectError::Usage(format!(
                    "{}: not a PEM file of certificates: {e}",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(ConnectError::Usage(format!(
                    "{}: holds no certificate",
                    path.display()
                )));
            }
            builder = builder.tls_certs_merge(certs);
        }
        builder
            .build()
            .map_err(|e| ConnectError::Usage(format!("cannot set up the HTTP client: {e}")))
    }
}

impl Connector for OpenBaoApi {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn discover(&self) -> Result<Discovery, ConnectError> {
        self.run().await
    }
}

/// `https://bao:8200` → `https://bao:8200/v1/`; refuses addresses that are not HTTP(S) or
/// carry credentials.
fn base_url(address: &str) -> Result<Url, ConnectError> {
    let bad =
        |why: &str| ConnectError::Usage(format!("`{address}` is not a usable address: {why}"));
    let mut url = Url::parse(address.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConnectError::Usage(
            "the address must not carry credentials; give the token separately".to_owned(),
        ));
    }
    if url.host_str().is_none() {
        return Err(bad("it names no host"));
    }
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| bad("it cannot have a path"))?
        .pop_if_empty()
        .extend(["v1", ""]);
    Ok(url)
}

/// The server over HTTP.
struct Http {
    client: reqwest::Client,
    base: Url,
    token: HeaderValue,
    namespace: Option<HeaderValue>,
    timeout: Duration,
}

impl Http {
    /// The request's URL, each path segment percent-encoded, and the same without query for
    /// messages.
    fn url(&self, request: &Request) -> (Url, String) {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.extend(request.path.split('/'));
        }
        let shown = url.to_string();
        match (request.method, request.query) {
            (Method::List, _) => url.set_query(Some("list=true")),
            (_, Some(q)) => url.set_query(Some(q)),
            _ => {}
        }
        (url, shown)
    }

    async fn exchange(&self, request: &Request) -> Result<Reply, ConnectError> {
        let (url, shown) = self.url(request);
        let mut builder = match request.method {
            Method::Get | Method::List => self.client.get(url),
            Method::Post => self
                .client
                .post(url)
                .header(CONTENT_TYPE, "application/json")
                .body(
                    request
                        .body
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                ),
        };
        if !request.root_unauthenticated {
            builder = builder.header("X-Vault-Token", self.token.clone());
            if let Some(ns) = &self.namespace {
                builder = builder.header("X-Vault-Namespace", ns.clone());
            }
        }
        let fail = |e: reqwest::Error| ConnectError::endpoint(&shown, describe(&e, self.timeout));
        let mut response = builder.send().await.map_err(fail)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(ConnectError::endpoint(
                    &shown,
                    format!("the response is larger than {MAX_BODY} bytes"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            body,
            origin: Origin::whole(&shown),
            endpoint: shown,
        })
    }
}

impl Transport for Http {
    fn send(&self, request: &Request) -> impl Future<Output = Result<Reply, ConnectError>> + Send {
        self.exchange(request)
    }
}

/// What went wrong with a request that got no answer, from the error's chain of causes
/// (`connection refused`, `invalid peer certificate: UnknownIssuer`), without the URL the
/// top-level message repeats.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let mut parts: Vec<String> = Vec::new();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        cause = c.source();
    }
    let detail = if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    };
    if e.is_connect() {
        format!("cannot connect: {detail}")
    } else {
        detail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_keep_a_proxy_prefix_and_refuse_credentials() {
        assert_eq!(
            base_url("https://bao.example:8200").unwrap().as_str(),
            "https://bao.example:8200/v1/"
        );
        assert_eq!(
            base_url("https://proxy.example/bao/").unwrap().as_str(),
            "https://proxy.example/bao/v1/"
        );
        assert!(base_url("ftp://x").is_err());
        assert!(base_url("not a url").is_err());
        let err = base_url("https://u:secretpw@bao.example").unwrap_err();
        assert!(!err.to_string().contains("secretpw"), "{err}");
    }

    #[test]
    fn segments_are_encoded_and_lists_get_their_query() {
        let http = Http {
            client: reqwest::Client::new(),
            base: base_url("http://127.0.0.1:8200").unwrap(),
            token: HeaderValue::from_static("x"),
            namespace: None,
            timeout: Duration::from_secs(1),
        };
        let (url, shown) = http.url(&Request::list("secret/metadata/a b?/"));
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8200/v1/secret/metadata/a%20b%3F/?list=true"
        );
        assert_eq!(shown, "http://127.0.0.1:8200/v1/secret/metadata/a%20b%3F/");
        let (url, _) = http.url(&Request::health());
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8200/v1/sys/health?standbyok=true&perfstandbyok=true"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = format!("s.{}", "q".repeat(24));
        let api = OpenBaoApi::new("http://127.0.0.1:8200", SecretString::from(token.clone()));
        let shown = format!("{api:?}");
        assert!(!shown.contains(&token), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }
}
