//! The installation's key file: the ledger signing key and the fingerprint key.

use std::io::Write;
use std::path::Path;

use keyward_ledger::LedgerKey;
use keyward_model::FingerprintKey;
use rand::RngCore;
use zeroize::Zeroizing;

/// A key file that cannot be created or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not a Keyward key file.
    #[error("{path}:{line}: {reason}")]
    Malformed {
        /// The key file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Others can read the file.
    #[error("{path}: key file is readable by other users (mode {mode:o})")]
    TooOpen {
        /// The key file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// There is no key file.
    #[error("{path}: no key file")]
    Missing {
        /// Where it was looked for.
        path: String,
    },
}

/// The installation's two secrets.
pub struct Keyring {
    /// Signs ledger checkpoints.
    pub ledger: LedgerKey,
    /// Keys credential fingerprints.
    pub fingerprint: FingerprintKey,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({:?}, {:?})", self.ledger, self.fingerprint)
    }
}

const HEADER: &str = "# Keyward installation keys. Secret: never share or commit this file.";

impl Keyring {
    /// New random keys.
    pub fn generate(rng: &mut (impl RngCore + rand::CryptoRng)) -> Self {
        let ledger = LedgerKey::generate(rng);
        let mut fp = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(fp.as_mut());
        Self {
            ledger,
            fingerprint: FingerprintKey::from_bytes(*fp),
        }
    }

    /// Writes a new key file readable only by its owner; refuses to overwrite one.
    pub fn create(&self, path: &Path) -> Result<(), KeyError> {
        let err = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(err)?;
        let seed = Zeroizing::new(hex::encode(self.ledger.seed()));
        let fp = Zeroizing::new(hex::encode(self.fingerprint.as_bytes()));
        let text = Zeroizing::new(format!(
            "{HEADER}\nledger-signing-key ed25519:{}\nfingerprint-key hmac-sha256:{}\n",
            *seed, *fp
        ));
        f.write_all(text.as_bytes()).map_err(err)?;
        f.sync_all().map_err(err)
    }

    /// Reads a key file, refusing one that others can read.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing { path: shown });
            }
            Err(source) => {
                return Err(KeyError::Io {
                    path: shown,
                    source,
                });
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen { path: shown, mode });
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyError::Io {
                    path: shown.clone(),
                    source,
                })?,
            );
        let mut ledger = None;
        let mut fingerprint = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| KeyError::Malformed {
                path: shown.clone(),
                line: i + 1,
                reason: reason.to_owned(),
            };
            let (name, value) = line
                .split_once(' ')
                .ok_or_else(|| bad("expected `name value`"))?;
            let bytes = |prefix: &str| -> Result<Zeroizing<[u8; 32]>, KeyError> {
                let hexed = value
                    .strip_prefix(prefix)
                    .ok_or_else(|| bad(&format!("expected a value starting `{prefix}`")))?;
                let v = Zeroizing::new(hex::decode(hexed).map_err(|_| bad("key is not hex"))?);
                let mut out = Zeroizing::new([0u8; 32]);
                if v.len() != 32 {
                    return Err(bad("key is not 32 bytes"));
                }
                out.copy_from_slice(&v);
                Ok(out)
            };
            match name {
                "ledger-signing-key" => ledger = Some(LedgerKey::from_seed(*bytes("ed25519:")?)),
                "fingerprint-key" => {
                    fingerprint = Some(FingerprintKey::from_bytes(*bytes("hmac-sha256:")?));
                }
                other => return Err(bad(&format!("unknown key `{other}`"))),
            }
        }
        let missing = |what: &str| KeyError::Malformed {
            path: shown.clone(),
            line: text.lines().count(),
            reason: format!("no `{what}` line"),
        };
        Ok(Self {
            ledger: ledger.ok_or_else(|| missing("ledger-signing-key"))?,
            fingerprint: fingerprint.ok_or_else(|| missing("fingerprint-key"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn key_file_round_trips_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyward.key");
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let k = Keyring::generate(&mut rng);
        k.create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let back = Keyring::load(&path).unwrap();
        assert_eq!(back.ledger.public_key(), k.ledger.public_key());
        assert_eq!(back.fingerprint.key_id(), k.fingerprint.key_id());
        assert!(
            matches!(k.create(&path), Err(KeyError::Io { .. })),
            "never overwrites"
        );
    }

    #[cfg(unix)]
    #[test]
    fn readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        Keyring::generate(&mut rng).create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Keyring::load(&path),
            Err(KeyError::TooOpen { .. })
        ));
    }

    #[test]
    fn malformed_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "# c\nledger-signing-key ed25519:zz\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = Keyring::load(&path).unwrap_err().to_string();
        assert!(e.ends_with(":2: key is not hex"), "{e}");
    }
}
