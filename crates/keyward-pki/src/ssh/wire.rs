//! The SSH wire format (RFC 4251 §5): big-endian integers and length-prefixed strings, and
//! what OpenSSH builds from them: public key blobs and certificates (PROTOCOL.certkeys).

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use sha2::{Digest, Sha256};

/// Where and why a blob could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError {
    /// Byte offset in the blob.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, WireError> {
    Err(WireError {
        offset,
        message: message.into(),
    })
}

/// Reads a blob front to back.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], WireError> {
        match self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end))
        {
            Some(b) => {
                self.pos += n;
                Ok(b)
            }
            None => err(
                self.pos,
                format!(
                    "truncated {what}: needs {n} bytes, {} left",
                    self.buf.len() - self.pos
                ),
            ),
        }
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, WireError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, WireError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// A length-prefixed byte string.
    pub(crate) fn string(&mut self, what: &str) -> Result<&'a [u8], WireError> {
        let at = self.pos;
        let n = self.u32(what)?;
        self.take(n as usize, what).map_err(|mut e| {
            e.offset = at;
            e
        })
    }

    /// A length-prefixed string that must be UTF-8.
    pub(crate) fn text(&mut self, what: &str) -> Result<&'a str, WireError> {
        let at = self.pos;
        let b = self.string(what)?;
        std::str::from_utf8(b).or_else(|_| err(at, format!("{what} is not UTF-8")))
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self, what: &str) -> Result<(), WireError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            err(
                self.pos,
                format!("{} bytes after the {what}", self.buf.len() - self.pos),
            )
        }
    }
}

/// A name read from a blob, fit for a message: escaped, and cut when long.
pub(crate) fn shown(s: &str) -> String {
    let mut out: String = s.escape_debug().take(64).collect();
    if out.len() < s.escape_debug().count() {
        out.push('…');
    }
    out
}

/// The OpenSSH fingerprint of a blob: `SHA256:` and the unpadded base64 of its SHA-256.
pub(crate) fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

/// The number of significant bits of an mpint (a leading zero byte only carries the sign).
fn mpint_bits(b: &[u8]) -> u64 {
    crate::x509::bit_length(b)
}

/// What a public key is, read from its blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// The wire name (`ssh-ed25519`, `ssh-rsa-cert-v01@openssh.com`).
    pub wire_type: String,
    /// The short algorithm name (`rsa`, `ecdsa`, `ed25519`, `ecdsa-sk`, `mldsa44-ed25519`).
    pub key_type: String,
    /// Size in bits, when the algorithm has one.
    pub bits: Option<u64>,
    /// The EC curve (`nistp256`).
    pub curve: Option<String>,
    /// A security key's application (`ssh:`).
    pub application: Option<String>,
    /// The fingerprint of the plain public key (for a certificate, the key it certifies).
    pub key_fingerprint: String,
    /// What the certificate says, when the blob is one.
    pub cert: Option<Cert>,
}

/// An OpenSSH certificate's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cert {
    pub serial: u64,
    /// `user` or `host`.
    pub cert_type: String,
    pub key_id: String,
    pub principals: Vec<String>,
    pub valid_after: u64,
    pub valid_before: u64,
    /// Name and value, sorted by name.
    pub critical_options: Vec<(String, String)>,
    /// Names, sorted.
    pub extensions: Vec<String>,
    /// Fingerprint of the CA key that signed it.
    pub signing_ca: String,
    /// The CA key's short algorithm name.
    pub signing_ca_key_type: String,
    /// The signature's algorithm (`ssh-ed25519`, `rsa-sha2-512`).
    pub signature_algorithm: String,
}

/// How a base key type's public fields are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Rsa,
    Dsa,
    Ecdsa,
    EcdsaSk,
    Ed25519,
    Ed25519Sk,
    Ed448,
    /// One opaque string (the ML-DSA hybrids).
    Opaque,
}

/// The plain key types read here: wire name, short name, layout.
const TYPES: &[(&str, &str, Layout)] = &[
    ("ssh-rsa", "rsa", Layout::Rsa),
    ("ssh-dss", "dsa", Layout::Dsa),
    ("ecdsa-sha2-nistp256", "ecdsa", Layout::Ecdsa),
    ("ecdsa-sha2-nistp384", "ecdsa", Layout::Ecdsa),
    ("ecdsa-sha2-nistp521", "ecdsa", Layout::Ecdsa),
    ("ssh-ed25519", "ed25519", Layout::Ed25519),
    ("ssh-ed448", "ed448", Layout::Ed448),
    (
        "sk-ecdsa-sha2-nistp256@openssh.com",
        "ecdsa-sk",
        Layout::EcdsaSk,
    ),
    (
        "sk-ssh-ed25519@openssh.com",
        "ed25519-sk",
        Layout::Ed25519Sk,
    ),
    (
        "ssh-mldsa44-ed25519@openssh.com",
        "mldsa44-ed25519",
        Layout::Opaque,
    ),
    (
        "ssh-mldsa65-ed25519@openssh.com",
        "mldsa65-ed25519",
        Layout::Opaque,
    ),
    (
        "ssh-mldsa87-ed25519@openssh.com",
        "mldsa87-ed25519",
        Layout::Opaque,
    ),
];

/// The certificate wire name for a plain type (`ssh-rsa` → `ssh-rsa-cert-v01@openssh.com`).
fn cert_name(base: &str) -> String {
    format!(
        "{}-cert-v01@openssh.com",
        base.strip_suffix("@openssh.com").unwrap_or(base)
    )
}

/// The plain type entry for a wire name, and whether the name is its certificate form.
fn lookup(wire: &str) -> Option<(&'static str, &'static str, Layout, bool)> {
    TYPES.iter().find_map(|&(name, short, layout)| {
        if wire == name {
            Some((name, short, layout, false))
        } else if wire == cert_name(name) {
            Some((name, short, layout, true))
        } else {
            None
        }
    })
}

/// Whether a token is a key type this reader knows (plain or certificate).
pub(crate) fn is_key_type(token: &str) -> bool {
    lookup(token).is_some()
}

/// Reads a public key or certificate blob.
pub(crate) fn parse_key(blob: &[u8]) -> Result<Key, WireError> {
    parse_blob(blob, true)
}

fn parse_blob(blob: &[u8], cert_allowed: bool) -> Result<Key, WireError> {
    let mut r = Reader::new(blob);
    let wire = r.text("key type")?;
    let Some((base, short, layout, is_cert)) = lookup(wire) else {
        return err(0, format!("unknown key type `{}`", shown(wire)));
    };
    if is_cert && !cert_allowed {
        return err(0, "a certificate cannot sign a certificate");
    }
    if is_cert {
        r.string("certificate nonce")?;
    }
    let fields_at = r.pos();
    let (bits, curve, application) = key_fields(&mut r, base, layout)?;
    let fields = &blob[fields_at..r.pos()];
    let key_fingerprint = if is_cert {
        // The certified key's own blob: its plain type name, then the same fields.
        let mut plain = Vec::with_capacity(fields.len() + base.len() + 4);
        plain.extend_from_slice(&(base.len() as u32).to_be_bytes());
        plain.extend_from_slice(base.as_bytes());
        plain.extend_from_slice(fields);
        fingerprint(&plain)
    } else {
        fingerprint(blob)
    };
    let cert = if is_cert {
        Some(cert_fields(&mut r)?)
    } else {
        None
    };
    r.finish(if is_cert { "certificate" } else { "key" })?;
    Ok(Key {
        wire_type: wire.to_owned(),
        key_type: short.to_owned(),
        bits,
        curve,
        application,
        key_fingerprint,
        cert,
    })
}

type Fields = (Option<u64>, Option<String>, Option<String>);

fn key_fields(r: &mut Reader<'_>, base: &str, layout: Layout) -> Result<Fields, WireError> {
    Ok(match layout {
        Layout::Rsa => {
            r.string("RSA exponent")?;
            let n = r.string("RSA modulus")?;
            (Some(mpint_bits(n)), None, None)
        }
        Layout::Dsa => {
            let p = r.string("DSA p")?;
            for what in ["DSA q", "DSA g", "DSA y"] {
                r.string(what)?;
            }
            (Some(mpint_bits(p)), None, None)
        }
        Layout::Ecdsa | Layout::EcdsaSk => {
            let at = r.pos();
            let curve = r.text("curve")?;
            let bits = match curve {
                "nistp256" => 256,
                "nistp384" => 384,
                "nistp521" => 521,
                other => return err(at, format!("unknown curve `{}`", shown(other))),
            };
            if !base.contains(curve) {
                return err(
                    at,
                    format!("curve `{curve}` does not match key type `{base}`"),
                );
            }
            r.string("EC point")?;
            let app = if layout == Layout::EcdsaSk {
                Some(r.text("application")?.to_owned())
            } else {
                None
            };
            (Some(bits), Some(curve.to_owned()), app)
        }
        Layout::Ed25519 | Layout::Ed25519Sk => {
            let at = r.pos();
            let pk = r.string("Ed25519 key")?;
            if pk.len() != 32 {
                return err(at, format!("Ed25519 key is {} bytes, not 32", pk.len()));
            }
            let app = if layout == Layout::Ed25519Sk {
                Some(r.text("application")?.to_owned())
            } else {
                None
            };
            (Some(256), None, app)
        }
        Layout::Ed448 => {
            r.string("Ed448 key")?;
            (Some(456), None, None)
        }
        Layout::Opaque => {
            r.string("public key")?;
            (None, None, None)
        }
    })
}

fn cert_fields(r: &mut Reader<'_>) -> Result<Cert, WireError> {
    let serial = r.u64("serial")?;
    let type_at = r.pos();
    let cert_type = match r.u32("certificate type")? {
        1 => "user",
        2 => "host",
        n => {
            return err(
                type_at,
                format!("certificate type {n} is neither user (1) nor host (2)"),
            );
        }
    };
    let key_id = r.text("key id")?.to_owned();
    let mut principals = Vec::new();
    let list_at = r.pos();
    let list = r.string("principals")?;
    let mut pr = Reader::new(list);
    while pr.pos() < list.len() {
        principals.push(
            pr.text("principal")
                .map_err(|e| shift(e, list_at))?
                .to_owned(),
        );
    }
    principals.sort();
    let valid_after = r.u64("valid after")?;
    let valid_before = r.u64("valid before")?;
    let mut critical_options = options(r, "critical options")?;
    critical_options.sort();
    let mut extensions: Vec<String> = options(r, "extensions")?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    extensions.sort();
    r.string("reserved")?;
    let ca_at = r.pos();
    let ca = r.string("signature key")?;
    let signing_ca_key_type = parse_blob(ca, false)
        .map_err(|e| shift(e, ca_at + 4))?
        .key_type;
    let sig_at = r.pos();
    let sig = r.string("signature")?;
    let signature_algorithm = Reader::new(sig)
        .text("signature algorithm")
        .map_err(|e| shift(e, sig_at + 4))?
        .to_owned();
    Ok(Cert {
        serial,
        cert_type: cert_type.to_owned(),
        key_id,
        principals,
        valid_after,
        valid_before,
        critical_options,
        extensions,
        signing_ca: fingerprint(ca),
        signing_ca_key_type,
        signature_algorithm,
    })
}

/// A packed list of (name, data) where data, when not empty, holds one string.
fn options(r: &mut Reader<'_>, what: &str) -> Result<Vec<(String, String)>, WireError> {
    let at = r.pos() + 4;
    let list = r.string(what)?;
    let mut lr = Reader::new(list);
    let mut out = Vec::new();
    while lr.pos() < list.len() {
        let name = lr.text("option name").map_err(|e| shift(e, at))?.to_owned();
        let data = lr.string("option data").map_err(|e| shift(e, at))?;
        let value = if data.is_empty() {
            String::new()
        } else {
            let mut dr = Reader::new(data);
            match dr.text("option value") {
                Ok(v) if dr.finish("value").is_ok() => v.to_owned(),
                // Not the usual one-string value: kept as hex rather than dropped.
                _ => hex::encode(data),
            }
        };
        out.push((name, value));
    }
    Ok(out)
}

fn shift(mut e: WireError, by: usize) -> WireError {
    e.offset += by;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    }

    #[test]
    fn reads_an_ed25519_key_and_its_fingerprint() {
        let mut blob = Vec::new();
        s(&mut blob, b"ssh-ed25519");
        s(&mut blob, &[7u8; 32]);
        let k = parse_key(&blob).unwrap();
        assert_eq!(k.key_type, "ed25519");
        assert_eq!(k.bits, Some(256));
        assert_eq!(k.key_fingerprint, fingerprint(&blob));
        assert!(k.cert.is_none());
    }

    #[test]
    fn truncation_and_trailing_bytes_name_the_offset() {
        let mut blob = Vec::new();
        s(&mut blob, b"ssh-rsa");
        s(&mut blob, &[1, 0, 1]);
        let e = parse_key(&blob).unwrap_err();
        assert_eq!(e.offset, 18);
        assert!(e.message.contains("RSA modulus"), "{e:?}");
        s(&mut blob, &[0x00, 0xc0, 0, 0]);
        assert_eq!(parse_key(&blob).unwrap().bits, Some(24));
        blob.push(0);
        assert_eq!(parse_key(&blob).unwrap_err().offset, blob.len() - 1);
        assert!(parse_key(&[0, 0, 0, 3, b'x', b'y', b'z']).is_err());
    }

    #[test]
    fn names_certificate_types() {
        assert_eq!(cert_name("ssh-rsa"), "ssh-rsa-cert-v01@openssh.com");
        assert_eq!(
            cert_name("sk-ssh-ed25519@openssh.com"),
            "sk-ssh-ed25519-cert-v01@openssh.com"
        );
        assert!(is_key_type("ssh-mldsa44-ed25519-cert-v01@openssh.com"));
        assert!(!is_key_type("ssh-XXX"));
    }
}
