//! Certificates from the corpus: every file listed in `x509/INDEX.tsv` parses, with the
//! index's count, names and validity; known samples give the facts OpenSSL reports.

use chrono::{DateTime, NaiveDateTime, Utc};
use keyward_connect::Connector;
use keyward_model::NhiKind;
use keyward_pki::{X509Files, parse_certificates};
use serde_json::json;

use crate::common::{by_id, corpus, fact, strings};

/// OpenSSL's RFC 2253 output escapes non-ASCII as `\XX` bytes; this writes them as UTF-8.
fn unescape_hex(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn openssl_time(s: &str) -> DateTime<Utc> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    NaiveDateTime::parse_from_str(&s, "%b %d %H:%M:%S %Y GMT")
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .and_utc()
}

#[test]
fn every_indexed_file_parses_with_the_index_figures() {
    let Some(c) = corpus() else { return };
    let index = std::fs::read_to_string(c.join("x509/INDEX.tsv")).unwrap();
    let on = "2026-11-22T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let (mut checked, mut missing, mut valid) = (0, Vec::new(), 0);
    for row in index.lines().skip(1).map(str::trim_end) {
        let cols: Vec<&str> = row.split('\t').collect();
        let [file, count, subject, issuer, not_before, not_after, status] = cols[..] else {
            panic!("bad index row {row}");
        };
        let path = c.join(file);
        if !path.exists() {
            missing.push(file.to_owned());
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let got = parse_certificates(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got.certificates.len(),
            count.parse::<usize>().unwrap(),
            "{file}"
        );
        assert!(!got.private_key, "{file}");
        let first = &got.certificates[0];
        assert_eq!(first.kind, NhiKind::Certificate);
        assert_eq!(first.provider, "x509");
        assert_eq!(
            fact(first, "subject"),
            &json!(unescape_hex(subject)),
            "{file}"
        );
        assert_eq!(
            fact(first, "issuer"),
            &json!(unescape_hex(issuer)),
            "{file}"
        );
        assert_eq!(first.created_at, Some(openssl_time(not_before)), "{file}");
        assert_eq!(first.expires_at, Some(openssl_time(not_after)), "{file}");
        let is_valid = first.created_at.unwrap() <= on && on <= first.expires_at.unwrap();
        assert_eq!(is_valid, status == "valid", "{file}: {status}");
        valid += usize::from(is_valid);
        checked += 1;
    }
    // The index lists a certifi bundle the corpus does not ship.
    assert_eq!(missing, ["x509/certifi/cacert.pem"]);
    assert_eq!(checked, 70);
    assert_eq!(valid, 11);
}

#[tokio::test]
async fn a_directory_run_merges_copies_and_repeats_exactly() {
    let Some(c) = corpus() else { return };
    let connector = X509Files {
        paths: vec![c.join("x509"), c.join("gcp/credentials")],
        scope: None,
    };
    assert_eq!(connector.name(), "x509-files");
    let d = connector.discover().await.unwrap();
    assert_eq!(d.source, "certificates");
    assert_eq!(d.scope, format!("files:{}", c.join("x509").display()));
    assert!(d.complete);
    // 70 certificate files (INDEX.tsv, licences and JSON are not taken), 1 699 distinct
    // certificates among their 2 067 blocks.
    assert_eq!(d.inputs.len(), 70);
    assert!(
        d.inputs
            .iter()
            .all(|i| i.sha256.as_ref().is_some_and(|s| s.len() == 64))
    );
    assert_eq!(d.nhis.len(), 1699);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert!(
        d.nhis
            .windows(2)
            .all(|w| w[0].external_id < w[1].external_id)
    );

    // cfssl ships the same CA twice: one NHI, both files.
    let ca = d
        .nhis
        .iter()
        .find(|n| {
            strings(n, "paths")
                .iter()
                .any(|p| p.ends_with("api__generator__testdata__ca.pem"))
        })
        .unwrap();
    let paths: Vec<String> = strings(ca, "paths")
        .iter()
        .map(|p| crate::common::file_name(p).to_owned())
        .collect();
    assert!(
        paths.contains(&"api__testdata__ca.pem".to_owned()),
        "{paths:?}"
    );

    let again = connector.discover().await.unwrap();
    assert_eq!(again, d);
}

#[test]
fn known_samples_give_openssl_s_figures() {
    let Some(c) = corpus() else { return };
    let first = |file: &str| {
        let p = c.join("x509").join(file);
        let got = parse_certificates(&p, &std::fs::read(&p).unwrap()).unwrap();
        got.certificates.into_iter().next().unwrap()
    };

    let ecc = first("badssl-prod-chain/wildcard-ecc256.pem");
    assert_eq!(
        ecc.external_id,
        "sha256:ca22444424108fbdd854f23d78c9f656bb092221c334074fed08999d5a93c357"
    );
    assert_eq!(ecc.name, "*.badssl.com");
    assert_eq!(fact(&ecc, "key_type"), "ecdsa");
    assert_eq!(fact(&ecc, "curve"), "P-256");
    assert_eq!(fact(&ecc, "key_bits"), 256);
    assert_eq!(fact(&ecc, "signature_algorithm"), "ecdsa-with-SHA384");
    assert_eq!(fact(&ecc, "serial"), "02bdaf10ac9cda0543db7ca8d4e87efe");
    assert_eq!(
        strings(&ecc, "sans"),
        ["DNS:*.badssl.com", "DNS:badssl.com"]
    );
    assert_eq!(fact(&ecc, "sans_total"), 2);
    assert_eq!(fact(&ecc, "is_ca"), false);
    assert_eq!(fact(&ecc, "self_signed"), false);
    assert_eq!(fact(&ecc, "not_after"), "2022-02-10T12:00:00Z");
    assert_eq!(fact(&ecc, "validity_days"), 736);
    assert_eq!(fact(&ecc, "private_key_in_file"), false);

    let p384 = first("badssl-prod-chain/wildcard-ecc384.pem");
    assert_eq!(
        (fact(&p384, "curve"), fact(&p384, "key_bits")),
        (&json!("P-384"), &json!(384))
    );
    assert_eq!(
        fact(&first("badssl-prod-chain/wildcard-rsa8192.pem"), "key_bits"),
        8192
    );
    assert_eq!(
        fact(&first("badssl-prod-chain/wildcard-rsa4096.pem"), "key_bits"),
        4096
    );

    let sha1 = first("badssl-prod-chain/wildcard-sha1-2016.pem");
    assert_eq!(fact(&sha1, "signature_algorithm"), "sha1WithRSAEncryption");
    // A high first byte: DER's sign byte is not part of the serial.
    assert_eq!(fact(&sha1, "serial"), "db5f7805bb9875b0dd7e03408f89b89c");

    let own = first("badssl-prod-chain/wildcard-self-signed.pem");
    assert_eq!(fact(&own, "self_signed"), true);
    assert_eq!(fact(&own, "is_ca"), false);
    assert_eq!(fact(&own, "key_type"), "rsa");
    assert_eq!(fact(&own, "key_bits"), 2048);

    let many = first("badssl-prod-chain/subdomain-10000-sans.pem");
    assert_eq!(strings(&many, "sans").len(), 100);
    assert_eq!(fact(&many, "sans_total"), 10000);
    assert_eq!(many.name, "10000-sans.badssl.com");

    let nameless = first("badssl-prod-chain/subdomain-no-subject.pem");
    assert_eq!(fact(&nameless, "subject"), "");
    assert_eq!(nameless.name, "no-subject.badssl.com");
    let no_cn = first("badssl-prod-chain/subdomain-no-common-name.pem");
    assert!(no_cn.name.ends_with("badssl.com"), "{}", no_cn.name);
    assert!(!fact(&no_cn, "subject").as_str().unwrap().contains("CN="));

    let dsa = first("cfssl-testdata/bundler__testdata__dsa2048.pem");
    assert_eq!(fact(&dsa, "key_type"), "dsa");
    assert_eq!(fact(&dsa, "key_bits"), 2048);
    assert_eq!(fact(&dsa, "signature_algorithm"), "dsaWithSHA1");
    assert_eq!(fact(&dsa, "is_ca"), true);

    // A 512-bit self-signed CA from 1970, which no crypto library will verify: the names say.
    let old = first("cfssl-testdata/crl__testdata__ca.pem");
    assert_eq!(fact(&old, "key_bits"), 512);
    assert_eq!(fact(&old, "self_signed"), true);
    assert_eq!(fact(&old, "not_before"), "1970-01-01T00:16:40Z");
    assert_eq!(fact(&old, "validity_days"), 1);
    assert_eq!(fact(&old, "serial"), "01");

    let far = first("cfssl-testdata/bundler__testdata__inter-L1.pem");
    assert_eq!(fact(&far, "not_after"), "2116-01-25T05:25:00Z");

    let idn = first("badssl-prod-chain/subdomain-xn--n1aae7f7o.pem");
    assert_eq!(idn.name, "ѕрооғ.badssl.com");
}

#[test]
fn bundles_mark_roots_self_signed_and_ca() {
    let Some(c) = corpus() else { return };
    let p = c.join("x509/cfssl-testdata/bundler__testdata__nss.pem");
    let got = parse_certificates(&p, &std::fs::read(&p).unwrap()).unwrap();
    assert_eq!(got.certificates.len(), 143);
    let gte = &got.certificates[0];
    assert_eq!(
        fact(gte, "subject"),
        "CN=GTE CyberTrust Global Root,OU=GTE CyberTrust Solutions\\, Inc.,O=GTE Corporation,C=US"
    );
    assert_eq!(gte.name, "GTE CyberTrust Global Root");
    assert_eq!(fact(gte, "self_signed"), true);
    assert_eq!(
        fact(gte, "is_ca"),
        false,
        "a v1 root has no basicConstraints"
    );
    let roots = got
        .certificates
        .iter()
        .filter(|n| fact(n, "self_signed") == true)
        .count();
    assert!(roots > 130, "{roots} of 143 NSS roots self-signed");

    let chain = c.join("gcp/credentials/google-auth-library-python__trust_chain_with_leaf.pem");
    let got = parse_certificates(&chain, &std::fs::read(&chain).unwrap()).unwrap();
    assert_eq!(got.certificates.len(), 2);
    assert_eq!(got.certificates[0].name, "unit-tests");
    let _ = by_id(&got.certificates, &got.certificates[1].external_id);
}
