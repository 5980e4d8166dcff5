use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{ConnectError, InputRecord};

/// The most a single compressed input may expand to, against decompression bombs.
const MAX_EXPANDED: u64 = 4 << 30;

/// One input file as read: its path and its bytes (decompressed when it was gzip).
#[derive(Debug, Clone)]
pub struct InputFile {
    /// The path as found.
    pub path: PathBuf,
    /// The content, gunzipped when the file was gzip.
    pub bytes: Vec<u8>,
}

impl InputFile {
    /// The content as UTF-8, or a syntax error naming the line and column of the first bad byte.
    pub fn text(&self) -> Result<&str, ConnectError> {
        std::str::from_utf8(&self.bytes).map_err(|e| {
            let good = &self.bytes[..e.valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let column =
                good.len() - good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
            ConnectError::syntax(&self.path, line, column, "not valid UTF-8")
        })
    }
}

/// The inputs of one run: finds files, reads them and records each one's digest for the run's
/// provenance.
#[derive(Debug, Default)]
pub struct Inputs {
    records: Vec<InputRecord>,
}

impl Inputs {
    /// No inputs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The files under `paths`: each file as given, and every file under each directory
    /// (recursively, hidden entries skipped) that `accept` takes, in sorted order so runs are
    /// reproducible. A path that does not exist is an error.
    pub fn find(
        paths: &[PathBuf],
        accept: impl Fn(&Path) -> bool,
    ) -> Result<Vec<PathBuf>, ConnectError> {
        let mut out = Vec::new();
        for p in paths {
            let meta = std::fs::metadata(p).map_err(|source| ConnectError::Io {
                path: p.clone(),
                source,
            })?;
            if meta.is_dir() {
                walk(p, &accept, &mut out)?;
            } else {
                out.push(p.clone());
            }
        }
        Ok(out)
    }

    /// Reads one file, gunzipping it when it starts with the gzip magic, and records its path,
    /// size and SHA-256 (of the bytes on disk).
    pub fn read(&mut self, path: &Path) -> Result<InputFile, ConnectError> {
        let raw = std::fs::read(path).map_err(|source| ConnectError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.records.push(InputRecord {
            kind: "file",
            locator: path.display().to_string(),
            sha256: Some(hex::encode(Sha256::digest(&raw))),
            bytes: Some(raw.len() as u64),
            identity: None,
        });
        let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
            gunzip(path, &raw)?
        } else {
            raw
        };
        Ok(InputFile {
            path: path.to_owned(),
            bytes,
        })
    }

    /// Records an input that is not a file (an endpoint a live connector read).
    pub fn record(&mut self, record: InputRecord) {
        self.records.push(record);
    }

    /// Everything read, in order.
    pub fn into_records(self) -> Vec<InputRecord> {
        self.records
    }
}

fn walk(
    dir: &Path,
    accept: &impl Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
) -> Result<(), ConnectError> {
    let io = |source| ConnectError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let kind = e.file_type().map_err(io)?;
        if kind.is_dir() {
            walk(&path, accept, out)?;
        } else if kind.is_file() && accept(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn gunzip(path: &Path, raw: &[u8]) -> Result<Vec<u8>, ConnectError> {
    let mut decoder = flate2::read::MultiGzDecoder::new(raw).take(MAX_EXPANDED + 1);
    let mut out = Vec::with_capacity(raw.len() * 4);
    decoder
        .read_to_end(&mut out)
        .map_err(|e| ConnectError::Corrupt {
            path: path.to_owned(),
            offset: out.len() as u64,
            message: format!("gzip: {e}"),
        })?;
    if out.len() as u64 > MAX_EXPANDED {
        return Err(ConnectError::Corrupt {
            path: path.to_owned(),
            offset: MAX_EXPANDED,
            message: format!("expands to more than {MAX_EXPANDED} bytes"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn finds_files_in_order_and_records_digests_of_what_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.json"), "{}").unwrap();
        std::fs::write(dir.path().join("sub/a.json"), "[]").unwrap();
        std::fs::write(dir.path().join("skip.txt"), "x").unwrap();
        std::fs::write(dir.path().join(".hidden.json"), "x").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"Records\":[]}").unwrap();
        let gz = gz.finish().unwrap();
        std::fs::write(dir.path().join("c.json.gz"), &gz).unwrap();

        let found = Inputs::find(&[dir.path().to_owned()], |p| {
            p.to_string_lossy().contains(".json")
        })
        .unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["b.json", "c.json.gz", "sub/a.json"]);

        let mut inputs = Inputs::new();
        let file = inputs.read(&found[1]).unwrap();
        assert_eq!(file.text().unwrap(), "{\"Records\":[]}");
        let rec = &inputs.into_records()[0];
        assert_eq!(rec.bytes, Some(gz.len() as u64));
        assert_eq!(
            rec.sha256.as_deref(),
            Some(hex::encode(Sha256::digest(&gz)).as_str())
        );
    }

    #[test]
    fn a_missing_path_or_truncated_gzip_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = Inputs::find(std::slice::from_ref(&missing), |_| true).unwrap_err();
        assert!(err.to_string().starts_with(&missing.display().to_string()));

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&[b'x'; 10_000]).unwrap();
        let gz = gz.finish().unwrap();
        let cut = dir.path().join("cut.json.gz");
        std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
        let err = Inputs::new().read(&cut).unwrap_err();
        assert!(matches!(err, ConnectError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("cut.json.gz: byte"), "{err}");
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let f = InputFile {
            path: "x.json".into(),
            bytes: b"{\n  \"a\": \"\xff\"\n}".to_vec(),
        };
        assert_eq!(
            f.text().unwrap_err().to_string(),
            "x.json:2:9: not valid UTF-8"
        );
    }
}
