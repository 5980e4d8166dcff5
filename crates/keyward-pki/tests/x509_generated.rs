//! Certificates generated here with rcgen: bundles with keys, DER, gzip, directories, and
//! every way a file can be broken.

use std::io::Write;
use std::path::Path;

use keyward_connect::{ConnectError, Connector};
use keyward_pki::{X509Files, parse_certificates};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, PKCS_ED25519,
    PKCS_RSA_SHA256, RsaKeySize, SanType, SerialNumber, date_time_ymd,
};
use serde_json::json;

use crate::common::{by_id, fact, file_name, strings};

/// A CA (Ed25519) and two leaves it signed (ECDSA P-256 and RSA 2048), with their keys.
pub struct Pki {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub leaf_pem: String,
    pub leaf_der: Vec<u8>,
    pub leaf_key_pem: String,
    pub leaf_key_der: Vec<u8>,
    pub rsa_pem: String,
}

pub fn pki() -> Pki {
    let ca_key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "Keyward Test Root");
    ca.distinguished_name
        .push(DnType::OrganizationName, "Keyward, Inc.");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.not_before = date_time_ymd(2025, 1, 1);
    ca.not_after = date_time_ymd(2035, 1, 1);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec![
        "localhost".to_owned(),
        "api.internal.example".to_owned(),
    ])
    .unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("10.0.0.7".parse().unwrap()));
    leaf.distinguished_name
        .push(DnType::CommonName, "api.internal.example");
    leaf.not_before = date_time_ymd(2025, 6, 1);
    leaf.not_after = date_time_ymd(2027, 6, 1);
    leaf.serial_number = Some(SerialNumber::from(vec![0x01, 0x02, 0x03]));
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();

    let rsa_key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap();
    let mut rsa = CertificateParams::new(vec!["legacy.internal.example".to_owned()]).unwrap();
    rsa.distinguished_name
        .push(DnType::CommonName, "legacy.internal.example");
    let rsa_cert = rsa.self_signed(&rsa_key).unwrap();

    Pki {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().to_vec(),
        leaf_pem: leaf_cert.pem(),
        leaf_der: leaf_cert.der().to_vec(),
        leaf_key_pem: leaf_key.serialize_pem(),
        leaf_key_der: leaf_key.serialize_der(),
        rsa_pem: rsa_cert.pem(),
    }
}

fn sha256(der: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(der)))
}

#[tokio::test]
async fn a_directory_of_bundles_der_and_keys() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A server's file: leaf, chain and key together, as nginx and HAProxy take them.
    let bundle = format!(
        "# api server\n{}{}{}",
        pki.leaf_pem, pki.ca_pem, pki.leaf_key_pem
    );
    std::fs::write(d.join("tls.pem"), &bundle).unwrap();
    std::fs::write(d.join("ca.crt"), &pki.ca_der).unwrap();
    std::fs::write(d.join("legacy.cer"), &pki.rsa_pem).unwrap();
    std::fs::create_dir(d.join("keys")).unwrap();
    std::fs::write(d.join("keys/server.key"), &pki.leaf_key_pem).unwrap();
    std::fs::write(d.join("notes.txt"), "not a certificate").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(pki.ca_pem.as_bytes()).unwrap();
    let gz_path = d.join("archive").join("ca.pem.gz");
    std::fs::create_dir(d.join("archive")).unwrap();
    std::fs::write(&gz_path, gz.finish().unwrap()).unwrap();

    let run = X509Files {
        paths: vec![d.to_owned(), gz_path.clone()],
        scope: None,
    }
    .discover()
    .await
    .unwrap();
    assert_eq!(run.scope, format!("files:{}", d.display()));
    let read: Vec<_> = run
        .inputs
        .iter()
        .map(|i| file_name(&i.locator).to_owned())
        .collect();
    assert_eq!(
        read,
        ["ca.crt", "server.key", "legacy.cer", "tls.pem", "ca.pem.gz"]
    );
    assert_eq!(run.nhis.len(), 3);
    assert_eq!(
        run.warnings,
        [format!(
            "{}: holds a private key and no certificate",
            d.join("keys/server.key").display()
        )]
    );

    let ca = by_id(&run.nhis, &sha256(&pki.ca_der));
    assert_eq!(ca.name, "Keyward Test Root");
    assert_eq!(
        fact(ca, "subject"),
        "O=Keyward\\, Inc.,CN=Keyward Test Root"
    );
    assert_eq!(fact(ca, "issuer"), fact(ca, "subject"));
    assert_eq!(fact(ca, "self_signed"), true);
    assert_eq!(fact(ca, "is_ca"), true);
    assert_eq!(fact(ca, "key_type"), "ed25519");
    assert_eq!(fact(ca, "signature_algorithm"), "ED25519");
    assert_eq!(fact(ca, "validity_days"), 3652);
    let files: Vec<_> = strings(ca, "paths")
        .iter()
        .map(|p| file_name(p).to_owned())
        .collect();
    assert_eq!(
        files,
        ["ca.pem.gz", "ca.crt", "tls.pem"],
        "sorted by full path"
    );
    assert_eq!(fact(ca, "private_key_in_file"), true, "tls.pem holds a key");

    let leaf = by_id(&run.nhis, &sha256(&pki.leaf_der));
    assert_eq!(leaf.name, "api.internal.example");
    assert_eq!(
        strings(leaf, "sans"),
        ["DNS:api.internal.example", "DNS:localhost", "IP:10.0.0.7"]
    );
    assert_eq!(fact(leaf, "sans_total"), 3);
    assert_eq!(
        fact(leaf, "issuer"),
        "O=Keyward\\, Inc.,CN=Keyward Test Root"
    );
    assert_eq!(fact(leaf, "self_signed"), false);
    assert_eq!(fact(leaf, "is_ca"), false);
    assert_eq!(fact(leaf, "key_type"), "ecdsa");
    assert_eq!(fact(leaf, "curve"), "P-256");
    assert_eq!(fact(leaf, "signature_algorithm"), "ED25519");
    assert_eq!(fact(leaf, "serial"), "010203");
    assert_eq!(fact(leaf, "not_before"), "2025-06-01T00:00:00Z");
    assert_eq!(leaf.expires_at, "2027-06-01T00:00:00Z".parse().ok());
    assert_eq!(fact(leaf, "validity_days"), 730);
    assert_eq!(fact(leaf, "private_key_in_file"), true);

    let rsa = run
        .nhis
        .iter()
        .find(|n| n.name == "legacy.internal.example")
        .unwrap();
    assert_eq!(fact(rsa, "key_type"), "rsa");
    assert_eq!(fact(rsa, "key_bits"), 2048);
    assert_eq!(fact(rsa, "signature_algorithm"), "sha256WithRSAEncryption");
    assert_eq!(fact(rsa, "self_signed"), true);
    assert_eq!(fact(rsa, "private_key_in_file"), false);

    // The key's value is nowhere in what the run returns.
    let out = serde_json::to_string(&run).unwrap();
    let key_body: Vec<&str> = pki
        .leaf_key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(key_body.iter().all(|l| !out.contains(l)));
    assert!(!out.contains(&hex::encode(&pki.leaf_key_der)));
}

fn err(path: &str, bytes: &[u8]) -> String {
    parse_certificates(Path::new(path), bytes)
        .unwrap_err()
        .to_string()
}

#[test]
fn broken_files_name_the_line_or_byte() {
    let pki = pki();
    let lines: Vec<&str> = pki.leaf_pem.lines().collect();

    let cut = lines[..lines.len() - 3].join("\n");
    let two = format!("{}{}", pki.ca_pem, cut);
    let ca_lines = pki.ca_pem.lines().count();
    assert_eq!(
        err("cut.pem", two.as_bytes()),
        format!(
            "cut.pem:{}:1: `BEGIN CERTIFICATE` block has no END line",
            ca_lines + 1
        )
    );

    let mut bad = lines.clone();
    let broken = format!("{}!{}", &bad[3][..10], &bad[3][11..]);
    bad[3] = &broken;
    assert_eq!(
        err("bad.pem", bad.join("\n").as_bytes()),
        "bad.pem:4:11: not base64 in `CERTIFICATE` block"
    );

    // Well-formed base64 of something that is not a certificate: the PKCS#8 key.
    let wrong = pki.leaf_key_pem.replace("PRIVATE KEY", "CERTIFICATE");
    let e = err("wrong.pem", wrong.as_bytes());
    assert!(
        e.starts_with(
            "wrong.pem:1:1: `CERTIFICATE` block: byte 0 of its DER: not a valid X.509 certificate"
        ),
        "{e}"
    );

    let der = &pki.leaf_der[..pki.leaf_der.len() - 20];
    assert_eq!(
        err("cut.der", der),
        format!(
            "cut.der: byte 1: length {} runs past the end of its input (at byte {})",
            pki.leaf_der.len() - 4,
            der.len()
        )
    );
    let mut junk = pki.ca_der.clone();
    junk.extend_from_slice(&[0x30, 0x82, 0xff]);
    assert_eq!(
        err("two.der", &junk),
        format!("two.der: byte {}: truncated length", pki.ca_der.len() + 3)
    );
    assert_eq!(
        err("x.crt", b"\x01\x02"),
        "x.crt: byte 0: neither PEM (no BEGIN line) nor a DER certificate (no SEQUENCE)"
    );
    let mut trailing = pki.ca_pem.clone();
    trailing.push_str(
        &pki.leaf_pem
            .replace("-----END CERTIFICATE-----", "-----END X509 CRL-----"),
    );
    assert!(
        err("t.pem", trailing.as_bytes()).contains("END line does not match `BEGIN CERTIFICATE`")
    );
}

#[tokio::test]
async fn one_bad_file_fails_the_run_and_nothing_is_returned() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.pem"), &pki.ca_pem).unwrap();
    std::fs::write(dir.path().join("b.pem"), &pki.leaf_pem[..200]).unwrap();
    let e = X509Files {
        paths: vec![dir.path().to_owned()],
        scope: None,
    }
    .discover()
    .await
    .unwrap_err();
    assert!(matches!(e, ConnectError::Syntax { line: 1, .. }), "{e}");
    assert!(e.to_string().contains("b.pem:1:1"), "{e}");

    let e = X509Files::default().discover().await.unwrap_err();
    assert!(matches!(e, ConnectError::Usage(_)), "{e}");
    let e = X509Files {
        paths: vec![dir.path().join("missing")],
        scope: None,
    }
    .discover()
    .await
    .unwrap_err();
    assert!(matches!(e, ConnectError::Io { .. }), "{e}");
    assert_eq!(
        json!(
            e.to_string()
                .ends_with("missing: No such file or directory (os error 2)")
        ),
        json!(true)
    );
}
