//! Offline ledger bundles: a directory that verifies with no database.
//!
//! Layout: `entries.jsonl` (one entry per line, in `seq` order), `checkpoints.jsonl`,
//! `public-key.txt` (the installation's Ed25519 public key, hex) and `manifest.json` (counts,
//! head and each file's SHA-256).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Checkpoint, Entry, PublicKey, Verifier, VerifyReport};

const ENTRIES: &str = "entries.jsonl";
const CHECKPOINTS: &str = "checkpoints.jsonl";
const PUBLIC_KEY: &str = "public-key.txt";
const MANIFEST: &str = "manifest.json";

/// A bundle that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A line of a bundle file is not what it should be.
    #[error("{path}:{line}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The bundle's public key is not the one the verifier was told to expect.
    #[error("the bundle is signed by key `{found}`, not the expected `{expected}`")]
    WrongKey {
        /// The pinned key.
        expected: String,
        /// The bundle's key.
        found: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What `manifest.json` records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// Bundle format version.
    pub format: String,
    /// Entries written.
    pub entries: u64,
    /// Checkpoints written.
    pub checkpoints: u64,
    /// The last entry's sequence number.
    pub head_seq: i64,
    /// The last entry's hash.
    pub head_hash: String,
    /// SHA-256 of `entries.jsonl`.
    pub entries_sha256: String,
    /// SHA-256 of `checkpoints.jsonl`.
    pub checkpoints_sha256: String,
}

/// Writes a bundle, entry by entry.
pub struct BundleWriter {
    dir: PathBuf,
    entries: HashingWriter,
    count: u64,
    head_seq: i64,
    head_hash: String,
}

struct HashingWriter {
    out: BufWriter<File>,
    hash: Sha256,
}

impl HashingWriter {
    fn create(path: &Path) -> Result<Self, BundleError> {
        Ok(Self {
            out: BufWriter::new(File::create(path).map_err(io(path))?),
            hash: Sha256::new(),
        })
    }

    fn line(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hash.update(bytes);
        self.hash.update(b"\n");
        self.out.write_all(bytes)?;
        self.out.write_all(b"\n")
    }

    fn finish(mut self) -> std::io::Result<String> {
        self.out.flush()?;
        Ok(hex::encode(self.hash.finalize()))
    }
}

impl BundleWriter {
    /// Creates `dir` (which must be empty or absent) and starts `entries.jsonl`.
    pub fn create(dir: &Path) -> Result<Self, BundleError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut listing = std::fs::read_dir(dir).map_err(io(dir))?;
        if listing.next().is_some() {
            return Err(BundleError::Io {
                path: dir.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "directory is not empty",
                ),
            });
        }
        let path = dir.join(ENTRIES);
        Ok(Self {
            entries: HashingWriter::create(&path)?,
            dir: dir.to_owned(),
            count: 0,
            head_seq: 0,
            head_hash: crate::GENESIS_HASH.to_owned(),
        })
    }

    /// Appends the next entry.
    pub fn entry(&mut self, e: &Entry) -> Result<(), BundleError> {
        let path = self.dir.join(ENTRIES);
        let line = serde_json::to_vec(e).map_err(|err| BundleError::Io {
            path: path.clone(),
            source: err.into(),
        })?;
        self.entries.line(&line).map_err(io(&path))?;
        self.count += 1;
        self.head_seq = e.seq;
        self.head_hash.clone_from(&e.hash);
        Ok(())
    }

    /// Writes the checkpoints, the public key and the manifest.
    pub fn finish(
        self,
        checkpoints: &[Checkpoint],
        public_key: &PublicKey,
    ) -> Result<Manifest, BundleError> {
        let entries_path = self.dir.join(ENTRIES);
        let entries_sha256 = self.entries.finish().map_err(io(&entries_path))?;
        let cp_path = self.dir.join(CHECKPOINTS);
        let mut cps = HashingWriter::create(&cp_path)?;
        for cp in checkpoints {
            let line = serde_json::to_vec(cp).map_err(|e| BundleError::Io {
                path: cp_path.clone(),
                source: e.into(),
            })?;
            cps.line(&line).map_err(io(&cp_path))?;
        }
        let checkpoints_sha256 = cps.finish().map_err(io(&cp_path))?;
        let pk_path = self.dir.join(PUBLIC_KEY);
        std::fs::write(&pk_path, format!("{}\n", public_key.to_hex())).map_err(io(&pk_path))?;
        let manifest = Manifest {
            format: "keyward-ledger-bundle/v1".into(),
            entries: self.count,
            checkpoints: checkpoints.len() as u64,
            head_seq: self.head_seq,
            head_hash: self.head_hash,
            entries_sha256,
            checkpoints_sha256,
        };
        let m_path = self.dir.join(MANIFEST);
        let text = serde_json::to_string_pretty(&manifest).map_err(|e| BundleError::Io {
            path: m_path.clone(),
            source: e.into(),
        })?;
        std::fs::write(&m_path, text + "\n").map_err(io(&m_path))?;
        Ok(manifest)
    }
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(
    path: &Path,
    mut each: impl FnMut(T) -> bool,
) -> Result<(), BundleError> {
    let file = File::open(path).map_err(io(path))?;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(&line).map_err(|e| BundleError::Malformed {
            path: path.to_owned(),
            line: i + 1,
            reason: e.to_string(),
        })?;
        if !each(value) {
            break;
        }
    }
    Ok(())
}

/// Verifies a bundle directory. With `pinned`, the bundle must carry exactly that public key;
/// without it, the bundle's own key is trusted (which proves integrity since signing, not
/// origin).
pub fn verify_dir(dir: &Path, pinned: Option<&PublicKey>) -> Result<VerifyReport, BundleError> {
    let pk_path = dir.join(PUBLIC_KEY);
    let text = std::fs::read_to_string(&pk_path).map_err(io(&pk_path))?;
    let key = PublicKey::from_hex(&text).ok_or_else(|| BundleError::Malformed {
        path: pk_path.clone(),
        line: 1,
        reason: "not an Ed25519 public key in hex".into(),
    })?;
    if let Some(p) = pinned
        && *p != key
    {
        return Err(BundleError::WrongKey {
            expected: p.to_hex(),
            found: key.to_hex(),
        });
    }
    let mut checkpoints = Vec::new();
    read_jsonl(&dir.join(CHECKPOINTS), |cp: Checkpoint| {
        checkpoints.push(cp);
        true
    })?;
    let mut v = Verifier::new(key, checkpoints);
    read_jsonl(&dir.join(ENTRIES), |e: Entry| v.push(&e))?;
    Ok(v.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GENESIS_HASH, LedgerKey, NewEntry};
    use chrono::Utc;

    #[test]
    fn bundle_round_trips_and_detects_edits() {
        let dir = tempfile::tempdir().unwrap();
        let key = LedgerKey::from_seed([3; 32]);
        let mut w = BundleWriter::create(dir.path()).unwrap();
        let mut prev = (0, GENESIS_HASH.to_owned());
        for i in 0..3 {
            let e = Entry::chain(
                NewEntry {
                    actor: "a".into(),
                    action: "x".into(),
                    subject: format!("s{i}"),
                    payload: "{\"k\":\"v\\u00e9\"}".into(),
                },
                prev.0,
                &prev.1,
                Utc::now(),
            );
            w.entry(&e).unwrap();
            prev = (e.seq, e.hash);
        }
        let cp = key.checkpoint(prev.0, &prev.1, Utc::now());
        let m = w.finish(&[cp], &key.public_key()).unwrap();
        assert_eq!(m.entries, 3);
        let r = verify_dir(dir.path(), Some(&key.public_key())).unwrap();
        assert!(r.ok(), "{:?}", r.problem);

        let other = LedgerKey::from_seed([4; 32]).public_key();
        assert!(matches!(
            verify_dir(dir.path(), Some(&other)),
            Err(BundleError::WrongKey { .. })
        ));

        let path = dir.path().join(ENTRIES);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("s1", "s9", 1)).unwrap();
        let r = verify_dir(dir.path(), None).unwrap();
        assert_eq!(r.problem.map(|p| p.seq()), Some(2));
    }
}
