//! X.509 certificates from PEM and DER files: one NHI per certificate, keyed by its SHA-256
//! fingerprint, with what posture checks read (validity, key, signature, CA, self-signed).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keyward_connect::{ConnectError, Connector, Discovery, Inputs, facts};
use keyward_model::{DiscoveredNhi, NhiKind};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use x509_parser::asn1_rs::{Any, Tag};
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AttributeTypeAndValue, SubjectPublicKeyInfo, X509Name};

use crate::{der, pem};

/// The source certificates connectors report under.
pub const SOURCE: &str = "certificates";
/// The provider of certificate NHIs.
pub const PROVIDER: &str = "x509";
/// The most SANs kept in the `sans` fact; `sans_total` says how many there were.
pub const MAX_SANS: usize = 100;

/// File names a directory walk takes as certificates, besides files that start with a PEM
/// BEGIN line.
const EXTENSIONS: &[&str] = &["pem", "crt", "cer", "der", "cert"];

/// Reads certificates from PEM and DER files and directories.
#[derive(Debug, Clone, Default)]
pub struct X509Files {
    /// Files and directories to read; directories are walked for `.pem`, `.crt`, `.cer`,
    /// `.der`, `.cert` files and files that start with `-----BEGIN`.
    pub paths: Vec<PathBuf>,
    /// The scope of the run; `files:<first path>` when not given.
    pub scope: Option<String>,
}

impl Connector for X509Files {
    fn name(&self) -> &'static str {
        "x509-files"
    }

    async fn discover(&self) -> Result<Discovery, ConnectError> {
        self.read()
    }
}

impl X509Files {
    /// The discovery, read synchronously (the connector's `discover` calls this).
    pub fn read(&self) -> Result<Discovery, ConnectError> {
        let first = self.paths.first().ok_or_else(|| {
            ConnectError::Usage("no certificate files or directories given".into())
        })?;
        let found = Inputs::find(&self.paths, accept)?;
        let mut inputs = Inputs::new();
        let mut merged = Merged::default();
        let mut warnings = Vec::new();
        let mut with_keys = Vec::new();
        for path in &found {
            let file = inputs.read(path)?;
            let parsed = parse_certificates(&file.path, &file.bytes)?;
            if parsed.private_key {
                with_keys.push(path.clone());
            }
            if parsed.certificates.is_empty() {
                warnings.push(if parsed.private_key {
                    format!("{}: holds a private key and no certificate", path.display())
                } else {
                    format!("{}: holds no certificate", path.display())
                });
            }
            for nhi in parsed.certificates {
                merged.add(nhi);
            }
        }
        Ok(Discovery {
            source: SOURCE.into(),
            scope: self
                .scope
                .clone()
                .unwrap_or_else(|| format!("files:{}", first.display())),
            complete: true,
            connector: "x509-files",
            connector_version: env!("CARGO_PKG_VERSION"),
            inputs: crate::without_key_digests(inputs, &with_keys),
            parameters: json!({
                "paths": self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "scope": self.scope,
            }),
            nhis: merged.into_nhis(),
            warnings,
        })
    }
}

/// Whether a directory walk takes this file: by extension, or when it starts with a PEM BEGIN
/// line (a bundle named `ca-bundle` or `tls.key`).
fn accept(path: &Path) -> bool {
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)));
    by_name || crate::starts_with(path, b"-----BEGIN")
}

/// What one certificate file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateFile {
    /// The certificates in file order, one NHI each, with fact `paths` naming this file.
    pub certificates: Vec<DiscoveredNhi>,
    /// Whether the file also holds a private key (never read beyond its PEM label).
    pub private_key: bool,
}

/// Parses one file's bytes: PEM (any number of blocks, text around them ignored, non-certificate
/// blocks skipped) or DER (one or more concatenated certificates). A malformed block, bad
/// base64 or bad DER is an error naming the line (PEM) or byte offset (DER).
pub fn parse_certificates(path: &Path, bytes: &[u8]) -> Result<CertificateFile, ConnectError> {
    let mut certificates = Vec::new();
    let mut private_key = false;
    if pem::has_begin_line(bytes) {
        let blocks = pem::blocks(path, bytes, is_certificate_label, |_| false)?;
        for b in blocks {
            private_key |= b.label.ends_with("PRIVATE KEY");
            let Some(der) = b.der else { continue };
            let trailing_allowed = b.label == "TRUSTED CERTIFICATE";
            let cert = describe_one(&der, trailing_allowed).map_err(|(offset, message)| {
                ConnectError::syntax(
                    path,
                    b.line,
                    1,
                    format!("`{}` block: byte {offset} of its DER: {message}", b.label),
                )
            })?;
            certificates.push(cert);
        }
    } else {
        if bytes.first() != Some(&0x30) {
            return Err(ConnectError::Corrupt {
                path: path.to_owned(),
                offset: 0,
                message: "neither PEM (no BEGIN line) nor a DER certificate (no SEQUENCE)".into(),
            });
        }
        let mut at = 0;
        while at < bytes.len() {
            let end =
                der::tlv_end(bytes, at).map_err(|(offset, message)| ConnectError::Corrupt {
                    path: path.to_owned(),
                    offset: offset as u64,
                    message,
                })?;
            let cert = describe_one(&bytes[at..end], false).map_err(|(offset, message)| {
                ConnectError::Corrupt {
                    path: path.to_owned(),
                    offset: (at + offset) as u64,
                    message,
                }
            })?;
            certificates.push(cert);
            at = end;
        }
    }
    let file = path.display().to_string();
    for c in &mut certificates {
        c.facts.insert("paths".into(), json!([file]));
        c.facts
            .insert("private_key_in_file".into(), Value::Bool(private_key));
    }
    Ok(CertificateFile {
        certificates,
        private_key,
    })
}

/// PEM labels that hold a certificate (RFC 7468 and the OpenSSL variants).
fn is_certificate_label(label: &str) -> bool {
    matches!(
        label,
        "CERTIFICATE" | "X509 CERTIFICATE" | "X.509 CERTIFICATE" | "TRUSTED CERTIFICATE"
    )
}

/// Describes one DER certificate, or says at which offset and why it is malformed. OpenSSL's
/// `TRUSTED CERTIFICATE` appends trust settings after the certificate (`trailing_allowed`);
/// anywhere else, bytes after it mean the block is not one certificate.
fn describe_one(der: &[u8], trailing_allowed: bool) -> Result<DiscoveredNhi, (usize, String)> {
    let end = der::tlv_end(der, 0)?;
    if end < der.len() && !trailing_allowed {
        return Err((end, "bytes after the certificate".into()));
    }
    let (_, cert) = X509Certificate::from_der(&der[..end]).map_err(|e| (0, x509_message(&e)))?;
    Ok(describe(&cert, &der[..end]))
}

fn x509_message(e: &x509_parser::nom::Err<X509Error>) -> String {
    match e {
        x509_parser::nom::Err::Incomplete(_) => "truncated certificate".into(),
        x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => {
            format!("not a valid X.509 certificate: {e}")
        }
    }
}

/// The NHI for a parsed certificate; `der` is its encoding, whose SHA-256 is its identity.
pub(crate) fn describe(cert: &X509Certificate<'_>, der: &[u8]) -> DiscoveredNhi {
    let fingerprint = hex::encode(Sha256::digest(der));
    let subject = name_string(cert.subject());
    let issuer = name_string(cert.issuer());
    let not_before = time(cert.validity().not_before.timestamp());
    let not_after = time(cert.validity().not_after.timestamp());

    let mut sans = Vec::new();
    let mut first_san = None;
    let mut is_ca = false;
    let mut subject_key_id = None;
    let mut authority_key_id = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for n in &san.general_names {
                    let (shown, plain) = general_name(n);
                    if first_san.is_none() && !plain.is_empty() {
                        first_san = Some(plain);
                    }
                    sans.push(shown);
                }
            }
            ParsedExtension::BasicConstraints(bc) => is_ca = bc.ca,
            ParsedExtension::SubjectKeyIdentifier(k) => subject_key_id = Some(k.0),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                authority_key_id = a.key_identifier.as_ref().map(|k| k.0);
            }
            _ => {}
        }
    }
    sans.sort();
    sans.dedup();
    let sans_total = sans.len();
    sans.truncate(MAX_SANS);

    let common_name = cert
        .subject()
        .iter_common_name()
        .last()
        .map(attribute_value)
        .filter(|s| !s.is_empty());
    let name = common_name
        .or(first_san)
        .or_else(|| (!subject.is_empty()).then(|| subject.clone()))
        .unwrap_or_else(|| format!("sha256:{fingerprint}"));

    let mut nhi = DiscoveredNhi::new(
        NhiKind::Certificate,
        PROVIDER,
        format!("sha256:{fingerprint}"),
        name,
    );
    nhi.created_at = not_before;
    nhi.expires_at = not_after;
    let f = &mut nhi.facts;
    let key = key_info(cert.public_key());
    f.insert(facts::KEY_TYPE.into(), json!(key.kind));
    if let Some(bits) = key.bits {
        f.insert(facts::KEY_BITS.into(), json!(bits));
    }
    if let Some(curve) = key.curve {
        f.insert("curve".into(), json!(curve));
    }
    f.insert(
        facts::SIGNATURE_ALGORITHM.into(),
        json!(signature_name(&cert.signature_algorithm.algorithm)),
    );
    f.insert("serial".into(), json!(serial_hex(cert.raw_serial())));
    f.insert("not_before".into(), json!(not_before.map(crate::rfc3339)));
    f.insert("not_after".into(), json!(not_after.map(crate::rfc3339)));
    if let (Some(a), Some(b)) = (not_before, not_after) {
        f.insert(facts::VALIDITY_DAYS.into(), json!((b - a).num_days()));
    }
    f.insert("is_ca".into(), json!(is_ca));
    let names_match = cert.subject().as_raw() == cert.issuer().as_raw() || subject == issuer;
    f.insert(
        "self_signed".into(),
        json!(names_match && self_signature_holds(cert, &key, subject_key_id, authority_key_id)),
    );
    f.insert("subject".into(), json!(subject));
    f.insert("issuer".into(), json!(issuer));
    if sans_total > 0 {
        f.insert("sans".into(), json!(sans));
        f.insert("sans_total".into(), json!(sans_total));
    }
    nhi
}

/// Whether a certificate whose subject and issuer names match was signed by its own key: the
/// signature is checked when the crypto library can (RSA 2048–8192, ECDSA P-256/P-384 with
/// SHA-256/384, Ed25519); otherwise a CA key identifier that differs from its own says no, and
/// the names alone say yes.
fn self_signature_holds(
    cert: &X509Certificate<'_>,
    key: &KeyInfo,
    subject_key_id: Option<&[u8]>,
    authority_key_id: Option<&[u8]>,
) -> bool {
    if let (Some(s), Some(a)) = (subject_key_id, authority_key_id)
        && s != a
    {
        return false;
    }
    match cert.verify_signature(None) {
        Ok(()) => true,
        Err(X509Error::SignatureVerificationError) => {
            // The library also refuses RSA keys outside its size range; that says nothing
            // about who signed.
            let sha1 = signature_name(&cert.signature_algorithm.algorithm).starts_with("sha1");
            let min = if sha1 { 1024 } else { 2048 };
            key.kind == "rsa" && key.bits.is_some_and(|b| b < min || b > 8192)
        }
        Err(_) => true,
    }
}

fn time(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// The serial as lowercase hex, without the sign byte DER adds before a high bit.
fn serial_hex(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    hex::encode(&raw[start.min(raw.len())..])
}

/// A SAN as shown in the `sans` fact (`DNS:host`, `IP:addr`, `email:…`, `URI:…`), and its
/// plain value for naming.
fn general_name(n: &GeneralName<'_>) -> (String, String) {
    let (kind, value) = match n {
        GeneralName::DNSName(s) => ("DNS", (*s).to_owned()),
        GeneralName::RFC822Name(s) => ("email", (*s).to_owned()),
        GeneralName::URI(s) => ("URI", (*s).to_owned()),
        GeneralName::IPAddress(b) => ("IP", ip_string(b)),
        GeneralName::DirectoryName(name) => ("DirName", name_string(name)),
        GeneralName::RegisteredID(oid) => ("RID", oid.to_id_string()),
        GeneralName::OtherName(oid, _) => ("othername", oid.to_id_string()),
        GeneralName::X400Address(_) => ("X400Name", String::new()),
        GeneralName::EDIPartyName(_) => ("EdiPartyName", String::new()),
        GeneralName::Invalid(_, b) => ("invalid", hex::encode(b)),
    };
    (format!("{kind}:{value}"), value)
}

fn ip_string(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        // A name constraint's address and mask, or malformed: shown as hex.
        _ => hex::encode(b),
    }
}

/// A distinguished name as RFC 4514 writes it: most specific RDN first, `,` between RDNs,
/// `+` within one, special characters escaped; non-ASCII kept as UTF-8.
pub(crate) fn name_string(name: &X509Name<'_>) -> String {
    let rdns: Vec<_> = name.iter_rdn().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = attr.attr_type().to_id_string();
            match attribute_short_name(&oid) {
                Some(short) => {
                    out.push_str(short);
                    out.push('=');
                    match string_value(attr.attr_value()) {
                        Some(v) => escape_into(&mut out, &v),
                        None => {
                            out.push('#');
                            out.push_str(&hex::encode(attr.attr_value().as_bytes()));
                        }
                    }
                }
                None => {
                    // RFC 4514: an unknown type is written as its OID, its value as hex DER.
                    let _ = write!(out, "{oid}=#");
                    out.push_str(&hex::encode(any_der(attr.attr_value())));
                }
            }
        }
    }
    out
}

/// An attribute's value as text (empty when it is not a string).
fn attribute_value(attr: &AttributeTypeAndValue<'_>) -> String {
    string_value(attr.attr_value()).unwrap_or_default()
}

/// The text of a directory string, whatever its ASN.1 string type.
fn string_value(v: &Any<'_>) -> Option<String> {
    let data = v.data;
    match v.tag() {
        // T.61 and the rest in practice carry UTF-8 or Latin-1; either is read.
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::GeneralString
        | Tag::GraphicString
        | Tag::T61String
        | Tag::VideotexString => Some(match std::str::from_utf8(data) {
            Ok(s) => s.to_owned(),
            Err(_) => latin1(data),
        }),
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        Tag::UniversalString => Some(
            data.chunks(4)
                .map(|c| {
                    let mut b = [0u8; 4];
                    b[..c.len()].copy_from_slice(c);
                    char::from_u32(u32::from_be_bytes(b)).unwrap_or('\u{fffd}')
                })
                .collect(),
        ),
        _ => None,
    }
}

fn latin1(data: &[u8]) -> String {
    data.iter().map(|&b| char::from(b)).collect()
}

/// The DER of an `Any` value (tag, length, content), for RFC 4514's `#hex` form.
fn any_der(v: &Any<'_>) -> Vec<u8> {
    let data = v.data;
    let mut out = Vec::with_capacity(data.len() + 6);
    // Universal class, tag number from the header; long tag numbers do not occur in names.
    let constructed = if v.header.is_constructed() { 0x20 } else { 0 };
    out.push((v.tag().0 as u8 & 0x1f) | constructed);
    let len = data.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(data);
    out
}

fn escape_into(out: &mut String, v: &str) {
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:02X}");
                }
            }
            c => out.push(c),
        }
    }
}

/// The short names OpenSSL and RFC 4514 give attribute types.
fn attribute_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.2.840.113549.1.9.2" => "unstructuredName",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// The OpenSSL name of a signature algorithm, or its OID when it has none here.
pub(crate) fn signature_name(oid: &Oid<'_>) -> String {
    let id = oid.to_id_string();
    match id.as_str() {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.1" => "dsa_with_SHA224",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        _ => return id,
    }
    .to_owned()
}

/// A certificate's public key: algorithm, size, curve.
pub(crate) struct KeyInfo {
    pub kind: String,
    pub bits: Option<u64>,
    pub curve: Option<&'static str>,
}

/// The key's type (`rsa`, `ecdsa`, `ed25519`, `ed448`, `dsa`, else its OID), size in bits
/// (RSA modulus, EC field, DSA prime) and EC curve.
pub(crate) fn key_info(spki: &SubjectPublicKeyInfo<'_>) -> KeyInfo {
    let alg = spki.algorithm.algorithm.to_id_string();
    let params = spki.algorithm.parameters.as_ref();
    match alg.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => KeyInfo {
            kind: "rsa".into(),
            bits: rsa_modulus(&spki.subject_public_key.data).map(bit_length),
            curve: None,
        },
        "1.2.840.10045.2.1" => {
            let curve = params
                .and_then(|p| p.clone().oid().ok())
                .and_then(|o| curve_name(&o.to_id_string()));
            KeyInfo {
                kind: "ecdsa".into(),
                bits: curve.map(|(_, bits)| bits),
                curve: curve.map(|(name, _)| name),
            }
        }
        "1.3.101.110" | "1.3.101.112" => KeyInfo {
            kind: if alg.ends_with("112") {
                "ed25519"
            } else {
                "x25519"
            }
            .into(),
            bits: Some(256),
            curve: None,
        },
        "1.3.101.111" | "1.3.101.113" => KeyInfo {
            kind: if alg.ends_with("113") {
                "ed448"
            } else {
                "x448"
            }
            .into(),
            bits: Some(448),
            curve: None,
        },
        "1.2.840.10040.4.1" => KeyInfo {
            kind: "dsa".into(),
            bits: params.and_then(dsa_prime).map(bit_length),
            curve: None,
        },
        _ => KeyInfo {
            kind: alg,
            bits: None,
            curve: None,
        },
    }
}

/// The modulus of an RSAPublicKey (SEQUENCE { INTEGER n, INTEGER e }).
fn rsa_modulus(key: &[u8]) -> Option<&[u8]> {
    let (_, seq) = Any::from_der(key).ok()?;
    let (_, n) = Any::from_der(seq.data).ok()?;
    (n.tag() == Tag::Integer).then_some(n.data)
}

/// The prime `p` of DSA parameters (SEQUENCE { INTEGER p, INTEGER q, INTEGER g }).
fn dsa_prime<'a>(params: &Any<'a>) -> Option<&'a [u8]> {
    if params.tag() != Tag::Sequence {
        return None;
    }
    let (_, p) = Any::from_der(params.data).ok()?;
    (p.tag() == Tag::Integer).then_some(p.data)
}

/// The number of significant bits in a big-endian unsigned integer.
pub(crate) fn bit_length(b: &[u8]) -> u64 {
    let Some(i) = b.iter().position(|&x| x != 0) else {
        return 0;
    };
    (b.len() - i) as u64 * 8 - u64::from(b[i].leading_zeros())
}

/// A named curve's common name and field size.
fn curve_name(oid: &str) -> Option<(&'static str, u64)> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => ("P-256", 256),
        "1.3.132.0.34" => ("P-384", 384),
        "1.3.132.0.35" => ("P-521", 521),
        "1.3.132.0.33" => ("P-224", 224),
        "1.2.840.10045.3.1.1" => ("P-192", 192),
        "1.3.132.0.10" => ("secp256k1", 256),
        "1.3.36.3.3.2.8.1.1.7" => ("brainpoolP256r1", 256),
        "1.3.36.3.3.2.8.1.1.11" => ("brainpoolP384r1", 384),
        "1.3.36.3.3.2.8.1.1.13" => ("brainpoolP512r1", 512),
        _ => return None,
    })
}

/// Certificates seen in one run, merged by fingerprint: the files and endpoints each was
/// found at are unioned.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    by_id: BTreeMap<String, DiscoveredNhi>,
}

impl Merged {
    /// Adds one sighting.
    pub(crate) fn add(&mut self, nhi: DiscoveredNhi) {
        let Some(held) = self.by_id.get_mut(&nhi.external_id) else {
            self.by_id.insert(nhi.external_id.clone(), nhi);
            return;
        };
        for key in ["paths", "endpoints"] {
            union_array(&mut held.facts, key, nhi.facts.get(key));
        }
        if nhi.facts.get("private_key_in_file") == Some(&Value::Bool(true)) {
            held.facts
                .insert("private_key_in_file".into(), Value::Bool(true));
        }
        if let Some(p) = nhi.facts.get("chain_position").and_then(Value::as_u64) {
            let lower = held
                .facts
                .get("chain_position")
                .and_then(Value::as_u64)
                .is_none_or(|h| p < h);
            if lower {
                held.facts.insert("chain_position".into(), json!(p));
            }
        }
    }

    /// The NHIs sorted by external id.
    pub(crate) fn into_nhis(self) -> Vec<DiscoveredNhi> {
        self.by_id.into_values().collect()
    }
}

/// Unions a sorted string array fact with another sighting's.
pub(crate) fn union_array(facts: &mut keyward_model::Facts, key: &str, more: Option<&Value>) {
    let Some(Value::Array(more)) = more else {
        return;
    };
    let mut all: Vec<String> = facts
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(more)
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    all.sort();
    all.dedup();
    facts.insert(key.into(), json!(all));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths_ignore_sign_bytes() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0x00]), 9);
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(serial_hex(&[0x00, 0xab, 0x01]), "ab01");
        assert_eq!(serial_hex(&[0x00]), "00");
    }

    #[test]
    fn escapes_as_rfc_4514() {
        let mut s = String::new();
        escape_into(&mut s, "#Superfish, Inc. ");
        assert_eq!(s, "\\#Superfish\\, Inc.\\ ");
    }

    #[test]
    fn a_file_that_is_neither_pem_nor_der_names_byte_zero() {
        let e = parse_certificates(Path::new("x.crt"), b"hello").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.crt: byte 0: neither PEM (no BEGIN line) nor a DER certificate (no SEQUENCE)"
        );
    }
}
