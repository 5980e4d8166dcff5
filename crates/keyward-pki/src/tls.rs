//! Certificates a live TLS endpoint presents: connect, complete the handshake, record the chain.

use std::sync::Arc;
use std::time::Duration;

use keyward_connect::{ConnectError, Connector, Discovery, InputRecord, Inputs};
use keyward_model::DiscoveredNhi;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::x509::{self, Merged};

/// How long connecting and the handshake may each take when no timeout is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the certificate chains live TLS endpoints present.
#[derive(Debug, Clone)]
pub struct X509Tls {
    /// Endpoints as `host:port` (`[v6addr]:port` for IPv6; port 443 when left out).
    pub endpoints: Vec<String>,
    /// The name sent as SNI; each endpoint's host when not given (none for an IP address).
    pub server_name: Option<String>,
    /// The scope of the run; `tls:<first endpoint>` when not given.
    pub scope: Option<String>,
    /// Limit for connecting, and again for the handshake.
    pub timeout: Duration,
}

impl X509Tls {
    /// A connector for these endpoints with the default timeout, SNI and scope.
    pub fn new(endpoints: Vec<String>) -> Self {
        Self {
            endpoints,
            server_name: None,
            scope: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl Connector for X509Tls {
    fn name(&self) -> &'static str {
        "x509-tls"
    }

    async fn discover(&self) -> Result<Discovery, ConnectError> {
        let first = self
            .endpoints
            .first()
            .ok_or_else(|| ConnectError::Usage("no TLS endpoint given".into()))?;
        let config = Arc::new(client_config()?);
        let mut inputs = Inputs::new();
        let mut merged = Merged::default();
        for endpoint in &self.endpoints {
            let seen = fetch(endpoint, self.server_name.as_deref(), self.timeout, &config).await?;
            inputs.record(InputRecord::endpoint(
                format!("tls://{endpoint}"),
                Some(seen.negotiated),
            ));
            for nhi in parse_chain(endpoint, &seen.chain)? {
                merged.add(nhi);
            }
        }
        Ok(Discovery {
            source: x509::SOURCE.into(),
            scope: self.scope.clone().unwrap_or_else(|| format!("tls:{first}")),
            // The chain an endpoint presents is all it has to show for this scope: a
            // certificate it no longer presents has been replaced there.
            complete: true,
            connector: "x509-tls",
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs: inputs.into_records(),
            parameters: json!({
                "endpoints": self.endpoints,
                "server_name": self.server_name,
                "scope": self.scope,
                "timeout_secs": self.timeout.as_secs_f64(),
            }),
            nhis: merged.into_nhis(),
            warnings: Vec::new(),
        })
    }
}

/// Describes the chain an endpoint presented (leaf first, DER each): one NHI per
/// certificate, with facts `endpoints` and `chain_position` (0 = leaf).
pub fn parse_chain(endpoint: &str, chain: &[Vec<u8>]) -> Result<Vec<DiscoveredNhi>, ConnectError> {
    chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let (rest, cert) = X509Certificate::from_der(der).map_err(|e| {
                ConnectError::endpoint(
                    format!("tls://{endpoint}"),
                    format!("certificate {i} of the chain is not valid X.509: {e}"),
                )
            })?;
            if !rest.is_empty() {
                return Err(ConnectError::endpoint(
                    format!("tls://{endpoint}"),
                    format!("certificate {i} of the chain has bytes after it"),
                ));
            }
            let mut nhi = x509::describe(&cert, der);
            nhi.facts.insert("endpoints".into(), json!([endpoint]));
            nhi.facts.insert("chain_position".into(), json!(i));
            Ok(nhi)
        })
        .collect()
}

/// What one handshake showed.
struct Seen {
    chain: Vec<Vec<u8>>,
    negotiated: String,
}

async fn fetch(
    endpoint: &str,
    server_name: Option<&str>,
    limit: Duration,
    config: &Arc<ClientConfig>,
) -> Result<Seen, ConnectError> {
    let locator = format!("tls://{endpoint}");
    let fail = |m: String| ConnectError::endpoint(&locator, m);
    let (host, port) = split_endpoint(endpoint).map_err(ConnectError::Usage)?;
    let name = ServerName::try_from(server_name.unwrap_or(host).to_owned()).map_err(|e| {
        ConnectError::Usage(format!(
            "`{}` is not a server name: {e}",
            server_name.unwrap_or(host)
        ))
    })?;
    let tcp = tokio::time::timeout(limit, TcpStream::connect((host, port)))
        .await
        .map_err(|_| fail(format!("connect timed out after {limit:?}")))?
        .map_err(|e| fail(format!("connect: {e}")))?;
    let tls = tokio::time::timeout(
        limit,
        TlsConnector::from(Arc::clone(config)).connect(name, tcp),
    )
    .await
    .map_err(|_| fail(format!("TLS handshake timed out after {limit:?}")))?
    .map_err(|e| fail(format!("TLS handshake: {e}")))?;
    let (_, conn) = tls.get_ref();
    let chain = conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|c| c.as_ref().to_vec())
        .collect::<Vec<_>>();
    if chain.is_empty() {
        return Err(fail("presented no certificate".into()));
    }
    let negotiated = format!(
        "{} {}",
        conn.protocol_version()
            .and_then(|v| v.as_str())
            .unwrap_or("unknown"),
        conn.negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or("unknown"),
    );
    Ok(Seen { chain, negotiated })
}

/// Splits `host:port`, `[v6]:port` or a bare host (port 443).
fn split_endpoint(endpoint: &str) -> Result<(&str, u16), String> {
    let bad = || format!("`{endpoint}` is not `host:port`");
    if let Some(rest) = endpoint.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if after.is_empty() => 443,
            None => return Err(bad()),
        };
        return Ok((host, port));
    }
    match endpoint.split_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(':') => {
            Ok((host, port.parse().map_err(|_| bad())?))
        }
        None if !endpoint.is_empty() => Ok((endpoint, 443)),
        _ => Err(bad()),
    }
}

fn client_config() -> Result<ClientConfig, ConnectError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::Usage(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordOnly(provider)))
        .with_no_client_auth())
}

/// Accepts whatever chain the server presents, without validating it: the point is to
/// inventory the certificates an endpoint serves (expired, self-signed, from an unknown CA —
/// those are exactly the findings), not to trust the connection. Nothing is sent over it.
#[derive(Debug)]
struct RecordOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for RecordOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    // Handshake signatures are not checked either: a server whose key the library refuses
    // (RSA under 2048 bits) still has its chain recorded.
    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    // Offered as well as the provider's: old servers sign their TLS 1.2 handshakes with SHA-1,
    // and since nothing is verified, offering it costs nothing.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = self.0.signature_verification_algorithms.supported_schemes();
        for s in [
            SignatureScheme::RSA_PKCS1_SHA1,
            SignatureScheme::ECDSA_SHA1_Legacy,
        ] {
            if !schemes.contains(&s) {
                schemes.push(s);
            }
        }
        schemes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_endpoints() {
        assert_eq!(
            split_endpoint("example.com:8443"),
            Ok(("example.com", 8443))
        );
        assert_eq!(split_endpoint("example.com"), Ok(("example.com", 443)));
        assert_eq!(split_endpoint("[::1]:443"), Ok(("::1", 443)));
        assert_eq!(split_endpoint("[::1]"), Ok(("::1", 443)));
        assert!(split_endpoint("::1").is_err());
        assert!(split_endpoint("host:port").is_err());
        assert!(split_endpoint("").is_err());
    }
}
