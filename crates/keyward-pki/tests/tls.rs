//! The live connector against TLS servers started here (rustls on 127.0.0.1 with certificates
//! rcgen makes at test time): real handshakes, no mocks.

use std::sync::Arc;
use std::time::Duration;

use keyward_connect::{ConnectError, Connector};
use keyward_pki::X509Tls;
use rcgen::{CertificateParams, DnType, KeyPair, date_time_ymd};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::common::{fact, strings};
use crate::x509_generated::pki;

/// Serves `chain` with `key` on a free local port until the test ends; returns the port.
async fn serve(chain: Vec<Vec<u8>>, key: Vec<u8>) -> u16 {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            chain.into_iter().map(CertificateDer::from).collect(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0u8; 1];
                    let _ = tls.read(&mut buf).await;
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn records_the_chain_an_endpoint_presents_without_trusting_it() {
    let pki = pki();
    let leaf_key = KeyPair::from_pem(&pki.leaf_key_pem).unwrap();
    let port = serve(
        vec![pki.leaf_der.clone(), pki.ca_der.clone()],
        leaf_key.serialize_der(),
    )
    .await;

    // An expired, self-signed certificate: served and recorded all the same.
    let old_key = KeyPair::generate().unwrap();
    let mut old = CertificateParams::new(vec!["old.internal.example".to_owned()]).unwrap();
    old.distinguished_name
        .push(DnType::CommonName, "old.internal.example");
    old.not_before = date_time_ymd(2019, 1, 1);
    old.not_after = date_time_ymd(2021, 1, 1);
    let old_cert = old.self_signed(&old_key).unwrap();
    let old_port = serve(vec![old_cert.der().to_vec()], old_key.serialize_der()).await;

    let ip = format!("127.0.0.1:{port}");
    let named = format!("localhost:{port}");
    let expired = format!("127.0.0.1:{old_port}");
    let connector = X509Tls {
        server_name: None,
        scope: None,
        timeout: Duration::from_secs(5),
        endpoints: vec![ip.clone(), named.clone(), expired.clone()],
    };
    assert_eq!(connector.name(), "x509-tls");
    let d = connector.discover().await.unwrap();
    assert_eq!(d.source, "certificates");
    assert_eq!(d.scope, format!("tls:{ip}"));
    assert!(d.complete);
    let locators: Vec<_> = d.inputs.iter().map(|i| i.locator.clone()).collect();
    assert_eq!(
        locators,
        [
            format!("tls://{ip}"),
            format!("tls://{named}"),
            format!("tls://{expired}")
        ]
    );
    assert!(d.inputs.iter().all(|i| i.kind == "endpoint"));
    assert!(
        d.inputs[0]
            .identity
            .as_deref()
            .is_some_and(|s| s.starts_with("TLSv1_3 TLS13_")),
        "{:?}",
        d.inputs[0].identity
    );
    assert_eq!(d.parameters["endpoints"][2], serde_json::json!(expired));

    assert_eq!(d.nhis.len(), 3);
    let leaf = d
        .nhis
        .iter()
        .find(|n| n.name == "api.internal.example")
        .unwrap();
    assert_eq!(fact(leaf, "chain_position"), 0);
    let mut both = vec![ip.clone(), named.clone()];
    both.sort();
    assert_eq!(strings(leaf, "endpoints"), both);
    assert_eq!(fact(leaf, "key_type"), "ecdsa");
    assert_eq!(leaf.facts.get("paths"), None);
    let ca = d
        .nhis
        .iter()
        .find(|n| n.name == "Keyward Test Root")
        .unwrap();
    assert_eq!(fact(ca, "chain_position"), 1);
    assert_eq!(fact(ca, "self_signed"), true);
    let gone = d
        .nhis
        .iter()
        .find(|n| n.name == "old.internal.example")
        .unwrap();
    assert_eq!(gone.expires_at, "2021-01-01T00:00:00Z".parse().ok());
    assert_eq!(strings(gone, "endpoints"), std::slice::from_ref(&expired));
    assert_eq!(fact(gone, "self_signed"), true);

    // With SNI set, the same server answers the same chain.
    let sni = X509Tls {
        server_name: Some("api.internal.example".into()),
        scope: Some("tls:api".into()),
        ..X509Tls::new(vec![ip.clone()])
    };
    let d2 = sni.discover().await.unwrap();
    assert_eq!(d2.scope, "tls:api");
    assert_eq!(d2.nhis.len(), 2);
}

#[tokio::test]
async fn unreachable_and_silent_endpoints_fail_naming_them() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = X509Tls::new(vec![format!("127.0.0.1:{port}")])
        .discover()
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectError::Endpoint { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("tls://127.0.0.1:{port}: connect: ")),
        "{e}"
    );

    // Accepts the connection and never answers the ClientHello.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            held.push(tcp);
        }
    });
    let e = X509Tls {
        timeout: Duration::from_millis(300),
        ..X509Tls::new(vec![format!("127.0.0.1:{port}")])
    }
    .discover()
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("tls://127.0.0.1:{port}: TLS handshake timed out after 300ms")
    );

    let e = X509Tls::new(vec!["no port:x".into()])
        .discover()
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectError::Usage(_)), "{e}");
    let e = X509Tls::new(Vec::new()).discover().await.unwrap_err();
    assert!(matches!(e, ConnectError::Usage(_)), "{e}");
}
