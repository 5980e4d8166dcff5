//! `keyward ledger`: verify, checkpoint and export the ledger.

use std::path::Path;

use keyward_ledger::bundle::{BundleWriter, Manifest};
use keyward_ledger::{PublicKey, Verifier, VerifyReport};
use keyward_store::StoreError;
use serde::Serialize;

use crate::{Service, ServiceError};

/// The result of verifying a ledger, with which key it was checked against.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyOutcome {
    /// Whether the ledger is intact.
    pub ok: bool,
    /// Entries checked.
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// The last entry.
    pub head_seq: i64,
    /// Its hash.
    pub head_hash: String,
    /// The first bad sequence number.
    pub first_bad_seq: Option<i64>,
    /// What is wrong there.
    pub problem: Option<String>,
    /// The public key used.
    pub public_key: String,
    /// Where that key came from (`key file`, `pinned`, `store`, `bundle`).
    pub key_source: &'static str,
}

impl VerifyOutcome {
    pub(crate) fn from_report(r: VerifyReport, key: &PublicKey, key_source: &'static str) -> Self {
        Self {
            ok: r.ok(),
            entries: r.entries,
            checkpoints: r.checkpoints,
            head_seq: r.head_seq,
            head_hash: r.head_hash,
            first_bad_seq: r.problem.as_ref().map(keyward_ledger::Problem::seq),
            problem: r.problem.map(|p| p.to_string()),
            public_key: key.to_hex(),
            key_source,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// The bundle directory.
    pub dir: String,
    /// Its manifest.
    pub manifest: Manifest,
}

impl Service {
    /// The key to verify with: a pinned key, else the key file's, else the store's record.
    fn verifying_key(
        &self,
        pinned: Option<&PublicKey>,
    ) -> Result<(PublicKey, &'static str), ServiceError> {
        if let Some(p) = pinned {
            return Ok((p.clone(), "pinned"));
        }
        if let Some(k) = &self.keyring {
            return Ok((k.ledger.public_key(), "key file"));
        }
        Err(ServiceError::KeyRequired {
            path: self.settings.key_path.display().to_string(),
        })
    }

    /// Recomputes the whole chain and checks every checkpoint.
    pub async fn verify_ledger(
        &self,
        pinned: Option<&PublicKey>,
    ) -> Result<VerifyOutcome, ServiceError> {
        let (key, source) = match self.verifying_key(pinned) {
            Ok(k) => k,
            Err(_) => {
                // Without a key file or pin, trust the key recorded at init: this still proves the
                // chain's integrity, though not against someone who can rewrite that record too.
                let inst =
                    self.store.installation().await?.ok_or_else(|| {
                        StoreError::Uninitialised(self.store.location().redacted())
                    })?;
                let key = PublicKey::from_hex(&inst.ledger_public_key).ok_or_else(|| {
                    StoreError::Corrupt {
                        column: "ledger_public_key",
                        reason: "not an Ed25519 public key".into(),
                    }
                })?;
                (key, "store")
            }
        };
        let mut v = Verifier::new(key.clone(), self.store.checkpoints().await?);
        self.store
            .for_each_entry(|e| Ok::<_, ServiceError>(v.push(&e)))
            .await?;
        Ok(VerifyOutcome::from_report(v.finish(), &key, source))
    }

    /// Signs a checkpoint of the current head now.
    pub async fn checkpoint(&self) -> Result<Option<i64>, ServiceError> {
        let mut tx = self.begin().await?;
        tx.request_checkpoint();
        Ok(tx.commit().await?.checkpoint)
    }

    /// Writes an offline bundle (entries, checkpoints, public key) to `dir`.
    pub async fn export_ledger(&self, dir: &Path) -> Result<ExportReport, ServiceError> {
        let inst = self
            .store
            .installation()
            .await?
            .ok_or_else(|| StoreError::Uninitialised(self.store.location().redacted()))?;
        let key =
            PublicKey::from_hex(&inst.ledger_public_key).ok_or_else(|| StoreError::Corrupt {
                column: "ledger_public_key",
                reason: "not an Ed25519 public key".into(),
            })?;
        let checkpoints = self.store.checkpoints().await?;
        let mut w = BundleWriter::create(dir)?;
        self.store
            .for_each_entry(|e| {
                w.entry(&e)?;
                Ok::<_, ServiceError>(true)
            })
            .await?;
        let manifest = w.finish(&checkpoints, &key)?;
        Ok(ExportReport {
            dir: dir.display().to_string(),
            manifest,
        })
    }
}

/// Verifies an exported bundle with no store.
pub fn verify_bundle(
    dir: &Path,
    pinned: Option<&PublicKey>,
) -> Result<VerifyOutcome, ServiceError> {
    let report = keyward_ledger::bundle::verify_dir(dir, pinned)?;
    let key_text = std::fs::read_to_string(dir.join("public-key.txt"))
        .map_err(ServiceError::io(format!("reading {}", dir.display())))?;
    let key = PublicKey::from_hex(&key_text).ok_or_else(|| ServiceError::Io {
        context: format!("{}/public-key.txt", dir.display()),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not a public key"),
    })?;
    Ok(VerifyOutcome::from_report(
        report,
        &key,
        if pinned.is_some() { "pinned" } else { "bundle" },
    ))
}
