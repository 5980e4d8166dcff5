//! Arbitrary bytes and mutations of valid samples never panic: every parser returns a
//! discovery or an error.

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;

use keyward_pki::{parse_certificates, parse_chain, parse_ssh};

use crate::common::corpus;
use crate::ssh_generated::{ed25519_blob, put};

/// Valid inputs of every shape the parsers take, and the name each is parsed under.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let pki = crate::x509_generated::pki();
    let mut out = vec![
        (
            "bundle.pem",
            format!("{}{}{}", pki.leaf_pem, pki.ca_pem, pki.leaf_key_pem).into_bytes(),
        ),
        ("leaf.der", pki.leaf_der.clone()),
    ];
    let key = ed25519_blob();
    let mut cert = Vec::new();
    put(&mut cert, b"ssh-ed25519-cert-v01@openssh.com");
    put(&mut cert, &[9; 32]);
    cert.extend_from_slice(&key[15..]);
    cert.extend_from_slice(&7u64.to_be_bytes());
    cert.extend_from_slice(&2u32.to_be_bytes());
    put(&mut cert, b"web-1");
    let mut principals = Vec::new();
    put(&mut principals, b"web-1.internal");
    put(&mut cert, &principals);
    cert.extend_from_slice(&0u64.to_be_bytes());
    cert.extend_from_slice(&u64::MAX.to_be_bytes());
    for _ in 0..3 {
        put(&mut cert, b"");
    }
    put(&mut cert, &ed25519_blob());
    let mut sig = Vec::new();
    put(&mut sig, b"ssh-ed25519");
    put(&mut sig, &[1; 64]);
    put(&mut cert, &sig);
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    out.push((
        "authorized_keys",
        format!(
            "command=\"echo hi\",no-pty ssh-ed25519 {} a@b\nssh-ed25519-cert-v01@openssh.com {} c\n",
            b64(&key),
            b64(&cert)
        )
        .into_bytes(),
    ));
    if let Some(c) = corpus() {
        for f in [
            "ssh/openssh-hostkeys-known_hosts",
            "ssh/openssh-sshkey-testdata/rsa_1_sha512-cert.pub",
            "ssh/openssh-sshkey-testdata/mldsa44_ed25519_1-cert.pub",
            "x509/badssl-prod-chain/wildcard-ecc256.pem",
        ] {
            let name = if f.contains("known_hosts") {
                "known_hosts"
            } else if f.ends_with(".pem") {
                "c.pem"
            } else {
                "k.pub"
            };
            out.push((name, std::fs::read(c.join(f)).unwrap()));
        }
    }
    out
}

#[test]
fn the_samples_mutated_are_valid() {
    for (name, bytes) in samples() {
        let path = Path::new(name);
        let keys = if name.ends_with(".pem") || name.ends_with(".der") {
            parse_certificates(path, &bytes).unwrap().certificates.len()
        } else {
            parse_ssh(path, &bytes).unwrap().keys.len()
        };
        assert!(keys > 0, "{name}");
    }
}

fn parse_all(name: &str, bytes: &[u8]) {
    let _ = parse_certificates(Path::new(name), bytes);
    let _ = parse_ssh(Path::new(name), bytes);
    let _ = parse_ssh(Path::new("known_hosts"), bytes);
    let _ = parse_chain("fuzz:443", &[bytes.to_vec()]);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        parse_all("x.pem", &bytes);
        let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
        pem.extend_from_slice(&bytes);
        parse_all("y.pem", &pem);
        let mut der = vec![0x30, 0x82];
        der.extend_from_slice(&bytes);
        parse_all("z.der", &der);
        let mut ssh = b"ssh-ed25519 ".to_vec();
        ssh.extend_from_slice(&bytes);
        parse_all("authorized_keys", &ssh);
    }

    #[test]
    fn mutated_samples_never_panic(
        which in any::<Index>(),
        edits in proptest::collection::vec((any::<Index>(), any::<u8>(), 0u8..3), 1..8),
        cut in any::<Index>(),
    ) {
        thread_local!(static SAMPLES: Vec<(&'static str, Vec<u8>)> = samples());
        SAMPLES.with(|s| {
            let (name, sample) = which.get(s);
            let mut bytes = sample.clone();
            for (at, byte, op) in &edits {
                if bytes.is_empty() { break; }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = *byte,
                    1 => bytes.insert(i, *byte),
                    _ => { bytes.remove(i); }
                }
            }
            parse_all(name, &bytes);
            let short = &bytes[..cut.index(bytes.len() + 1)];
            parse_all(name, short);
            // DER inside a valid PEM wrapper, so mutations reach the X.509 parser.
            if name.ends_with(".der") {
                use base64::Engine;
                let pem = format!(
                    "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                    base64::engine::general_purpose::STANDARD.encode(&bytes)
                );
                parse_all("w.pem", pem.as_bytes());
            }
        });
    }
}
