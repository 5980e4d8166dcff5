use std::fmt;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret's value, held only in memory and wiped on drop; never printed.
pub struct SecretValue(SecretString);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The redacted preview of this value.
    pub fn preview(&self) -> String {
        preview(self.0.expose_secret())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue({})", self.preview())
    }
}

/// A redacted preview: at most the first four characters, then the length, e.g. `AKIA…(20)`.
///
/// Values of eight characters or fewer show no characters at all, since four would be half the
/// secret.
pub fn preview(value: &str) -> String {
    let len = value.chars().count();
    let shown: String = if len > 8 {
        value.chars().take(4).collect()
    } else {
        String::new()
    };
    format!("{shown}…({len})")
}

/// The per-installation key behind credential fingerprints.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FingerprintKey([u8; 32]);

impl FingerprintKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key bytes, for writing the key file.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A non-secret identifier of the key, so a store can tell whether it is used with the key
    /// that made its fingerprints.
    pub fn key_id(&self) -> String {
        Fingerprinter::new(self.clone()).digest(b"keyward key id")[..16].to_owned()
    }
}

impl fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FingerprintKey({})", self.key_id())
    }
}

/// Computes keyed fingerprints (HMAC-SHA-256) of secret values.
#[derive(Clone, Debug)]
pub struct Fingerprinter {
    key: FingerprintKey,
}

impl Fingerprinter {
    /// A fingerprinter with the installation's key.
    pub fn new(key: FingerprintKey) -> Self {
        Self { key }
    }

    /// The lower-case hex HMAC-SHA-256 of a secret value.
    pub fn fingerprint(&self, value: &SecretValue) -> String {
        self.digest(value.0.expose_secret().as_bytes())
    }

    fn digest(&self, bytes: &[u8]) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_bytes()) else {
            // HMAC accepts keys of any length; this branch cannot be taken.
            return String::new();
        };
        mac.update(bytes);
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_shows_at_most_four_characters_and_the_length() {
        assert_eq!(preview("AKIAABCDEFGHIJKLMNOP"), "AKIA…(20)");
        assert_eq!(preview("hunter2"), "…(7)");
        assert_eq!(preview(""), "…(0)");
    }

    #[test]
    fn fingerprints_are_keyed() {
        let v = SecretValue::new("correct horse battery staple");
        let a = Fingerprinter::new(FingerprintKey::from_bytes([1; 32]));
        let b = Fingerprinter::new(FingerprintKey::from_bytes([2; 32]));
        assert_eq!(a.fingerprint(&v), a.fingerprint(&v));
        assert_ne!(a.fingerprint(&v), b.fingerprint(&v));
        assert_eq!(a.fingerprint(&v).len(), 64);
        assert!(!format!("{v:?}").contains("horse"));
    }
}
