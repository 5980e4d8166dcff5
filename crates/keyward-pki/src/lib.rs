//! Discovery of certificates and SSH keys, the NHIs that live as files and on endpoints.
//!
//! Three connectors, each returning a [`keyward_connect::Discovery`]:
//!
//! - [`X509Files`] (`x509-files`, source `certificates`, provider `x509`): PEM files with any
//!   number of `CERTIFICATE` blocks (text around them, as in CA bundles, is ignored; other
//!   blocks are skipped and a private key among them only noted), DER files (detected by
//!   content), and directories of them. One NHI of kind `certificate` per certificate, keyed
//!   `sha256:<hex of the DER>`; the same certificate in several files is one NHI.
//! - [`X509Tls`] (`x509-tls`, same source): connects to `host:port`, completes a TLS
//!   handshake without validating the chain (the point is inventory) and records the chain
//!   the endpoint presents.
//! - [`SshFiles`] (`ssh-files`, source `ssh`, provider `ssh`): `authorized_keys` (with
//!   options), `.pub` files, OpenSSH certificates, `known_hosts` (markers, hashed hosts) and
//!   private key files, and directories of them. One NHI of kind `ssh_key` per key blob,
//!   keyed by its OpenSSH fingerprint `SHA256:<unpadded base64>`; a certificate is its own
//!   blob, so its own NHI, and names the key it certifies in `key_fingerprint`.
//!
//! Secrets are never kept: a private key's body is checked for PEM shape and never decoded,
//! except the front of an OpenSSH private key, which holds the public key in clear and is
//! all that is read; and a file that holds a private key is recorded as an input without its
//! SHA-256 (an unkeyed digest of a secret is a fingerprint of it), with its size only. Bad input is a [`keyward_connect::ConnectError`] naming the file and the
//! line and column (PEM, text) or byte offset (DER); [`parse_certificates`] and [`parse_ssh`]
//! parse one file from memory, for fuzzing.
//!
//! # Facts
//!
//! Shared names from [`keyward_connect::facts`]: `key_type` (string), `key_bits` (number),
//! `signature_algorithm` (string), `validity_days` (number). Besides those:
//!
//! Certificates (`x509-files`, `x509-tls`):
//! - `subject`, `issuer` (string): the distinguished names as RFC 4514 writes them
//!   (`CN=*.badssl.com,O=Lucas Garron,…`, most specific first; UTF-8 kept as is).
//! - `serial` (string): the serial number, lowercase hex.
//! - `sans` (`[string]`): subject alternative names as `DNS:…`, `IP:…`, `email:…`, `URI:…`,
//!   `DirName:…`, sorted, at most [`MAX_SANS`]; `sans_total` (number): how many there are.
//! - `not_before`, `not_after` (string, RFC 3339): the validity period (also `created_at`
//!   and `expires_at`).
//! - `key_type` is `rsa`, `ecdsa`, `ed25519`, `ed448`, `dsa` (else the key algorithm's OID);
//!   `curve` (string): the EC curve (`P-256`, `P-384`, `P-521`, `secp256k1`, …).
//! - `signature_algorithm`: OpenSSL's name (`sha1WithRSAEncryption`, `ecdsa-with-SHA384`),
//!   else the OID.
//! - `self_signed` (bool): subject equals issuer, and the signature verifies with the
//!   certificate's own key where the crypto library can check it (else the names and key
//!   identifiers decide).
//! - `is_ca` (bool): basicConstraints says CA.
//! - `paths` (`[string]`): the files it was found in, sorted (`x509-files`).
//! - `private_key_in_file` (bool): a file it was found in also holds a private key
//!   (`x509-files`).
//! - `endpoints` (`[string]`): the `host:port`s that presented it; `chain_position`
//!   (number): its lowest position in a presented chain, 0 for the leaf (`x509-tls`).
//!
//! SSH keys (`ssh-files`):
//! - `key_type`: `rsa`, `dsa`, `ecdsa`, `ed25519`, `ed448`, `ecdsa-sk`, `ed25519-sk`,
//!   `mldsa44-ed25519` (and 65/87); `key_bits`: RSA modulus or DSA prime bits, EC curve size,
//!   256 for Ed25519 (none for ML-DSA); `curve` (string): `nistp256`, `nistp384`, `nistp521`.
//! - `ssh_type` (string): the key type as written (`ssh-ed25519-cert-v01@openssh.com`).
//! - `security_key` (bool) and `application` (string, `ssh:`): a FIDO key (`sk-*`).
//! - `comment` (string): the line's comment (also the name; else the file name, or for a
//!   host key its first plain host pattern).
//! - `options` (`[string]`): `authorized_keys` options as written (`command="…"`, `no-pty`),
//!   sorted, unioned over the lines that grant the key.
//! - `paths` (`[string]`): where it was found, as `file:line`, sorted.
//! - `host_key` (bool): found in `known_hosts`; `hosts` (`[string]`): its host patterns as
//!   written (hashed ones stay hashed), sorted.
//! - `cert_authority` (bool): a CA key (`@cert-authority` in `known_hosts`, option
//!   `cert-authority` in `authorized_keys`).
//! - `revoked` (bool): `@revoked` in `known_hosts` (status `revoked` too).
//! - `private_key_file` (bool): a private key file holds it; `private_key_encrypted` (bool):
//!   every such file is passphrase-protected; `private_key_format` (string, `pem`): the
//!   private key is in a PEM format whose public half is not in the file, so it is known by
//!   external id `file:<path>` unless a `.pub` sits beside it.
//! - Certificates: `certificate` (true), `key_fingerprint` (string: the certified key's
//!   fingerprint, as `ssh-keygen -l` shows), `cert_type` (`user`/`host`), `key_id` (string),
//!   `serial` (number), `principals` (`[string]`, sorted), `valid_after` (RFC 3339; also
//!   `created_at`), `valid_before` (RFC 3339 or `forever`; also `expires_at`),
//!   `critical_options` (object: name → value), `extensions` (`[string]`, sorted),
//!   `signing_ca` (string: the CA key's fingerprint), `signing_ca_key_type` (string),
//!   `signature_algorithm` (`ssh-ed25519`, `rsa-sha2-512`).

mod der;
mod pem;
mod ssh;
#[cfg(feature = "tls")]
mod tls;
mod x509;

use std::io::Read;
use std::path::Path;

pub use ssh::{PROVIDER as SSH_PROVIDER, SOURCE as SSH_SOURCE, SshFile, SshFiles, parse_ssh};
#[cfg(feature = "tls")]
pub use tls::{DEFAULT_TIMEOUT, X509Tls, parse_chain};
pub use x509::{
    CertificateFile, MAX_SANS, PROVIDER as X509_PROVIDER, SOURCE as X509_SOURCE, X509Files,
    parse_certificates,
};

/// The run's input records, without the SHA-256 of files that hold a private key: an
/// unkeyed digest of a secret is a fingerprint of it, which a discovery never carries.
fn without_key_digests(
    inputs: keyward_connect::Inputs,
    with_keys: &[std::path::PathBuf],
) -> Vec<keyward_connect::InputRecord> {
    let keyed: std::collections::HashSet<String> =
        with_keys.iter().map(|p| p.display().to_string()).collect();
    let mut records = inputs.into_records();
    for r in &mut records {
        if r.kind == "file" && keyed.contains(&r.locator) {
            r.sha256 = None;
        }
    }
    records
}

/// A time as the facts write it: RFC 3339 in UTC with `Z`, whole seconds.
fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether the file's first bytes, after blanks, are `prefix`. A file that cannot be opened
/// says no, so a directory walk does not take it.
fn starts_with(path: &Path, prefix: &[u8]) -> bool {
    let mut head = Vec::with_capacity(256);
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    if f.take(256).read_to_end(&mut head).is_err() {
        return false;
    }
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    head[start..].starts_with(prefix)
}
