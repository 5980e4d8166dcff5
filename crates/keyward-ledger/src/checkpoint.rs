use std::fmt;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::format_at;

/// The installation's Ed25519 key that signs checkpoints.
pub struct LedgerKey(SigningKey);

impl LedgerKey {
    /// A new random key.
    pub fn generate(rng: &mut (impl rand::RngCore + rand::CryptoRng)) -> Self {
        Self(SigningKey::generate(rng))
    }

    /// The key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// The 32-byte seed, for writing the key file.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public half, which verifies checkpoints.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs the chain head at `seq` with hash `head_hash`.
    pub fn checkpoint(&self, seq: i64, head_hash: &str, at: DateTime<Utc>) -> Checkpoint {
        let sig = self
            .0
            .sign(checkpoint_message(seq, head_hash, at).as_bytes());
        Checkpoint {
            seq,
            at,
            head_hash: head_hash.to_owned(),
            public_key: self.public_key().to_hex(),
            signature: hex::encode(sig.to_bytes()),
        }
    }
}

impl fmt::Debug for LedgerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LedgerKey(public {})", self.public_key().to_hex())
    }
}

/// An Ed25519 public key that verifies checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes: [u8; 32] = hex::decode(s.trim()).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok().map(Self)
    }

    /// The key as 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// Whether `cp` carries a valid signature by this key over its fields.
    pub fn verifies(&self, cp: &Checkpoint) -> bool {
        if cp.public_key != self.to_hex() {
            return false;
        }
        let Some(sig) = hex::decode(&cp.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        self.0
            .verify(
                checkpoint_message(cp.seq, &cp.head_hash, cp.at).as_bytes(),
                &Signature::from_bytes(&sig),
            )
            .is_ok()
    }
}

/// A signed statement that the ledger's entry `seq` had hash `head_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last entry covered.
    pub seq: i64,
    /// When it was signed.
    pub at: DateTime<Utc>,
    /// That entry's hash.
    pub head_hash: String,
    /// The signer's public key, hex.
    pub public_key: String,
    /// Ed25519 signature over [`checkpoint_message`], hex.
    pub signature: String,
}

/// The exact text a checkpoint signs.
pub fn checkpoint_message(seq: i64, head_hash: &str, at: DateTime<Utc>) -> String {
    format!(
        "keyward-checkpoint-v1\n{seq}\n{head_hash}\n{}\n",
        format_at(at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_checkpoint_verifies_and_tampering_does_not() {
        let key = LedgerKey::from_seed([9; 32]);
        let at = Utc::now();
        let cp = key.checkpoint(10, "ab", at);
        let pk = key.public_key();
        assert!(pk.verifies(&cp));
        let mut bad = cp.clone();
        bad.seq = 11;
        assert!(!pk.verifies(&bad));
        let other = LedgerKey::from_seed([8; 32]).public_key();
        assert!(!other.verifies(&cp));
        assert_eq!(PublicKey::from_hex(&pk.to_hex()), Some(pk));
    }
}
