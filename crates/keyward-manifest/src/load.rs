//! Finding manifest files, reading them in parallel, and the checks that span files.

use std::collections::hash_map::{Entry, RandomState};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::io;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use keyward_model::DeclaredNhi;
use sha2::{Digest, Sha256};

use crate::error::{ManifestError, ManifestErrors};
use crate::yaml::{Outcome, ParsedFile, parse_file};

/// Every declaration read by one load, and the files they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestSet {
    /// The declarations, in file order then document order.
    pub nhis: Vec<DeclaredNhi>,
    /// The files read, in the order they were read.
    pub files: Vec<SourceFile>,
}

/// One file read by a load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path, as given or as found under a given directory.
    pub path: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// How many non-empty documents it holds.
    pub documents: usize,
}

/// One file's part of a streamed load, delivered in file order.
///
/// Path-level problems (a missing path, a directory without YAML) arrive first, in a part
/// with no `source`. A file's `errors` include its duplicates of names and external ids
/// declared in earlier files; once any part has had an error, later parts carry only errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadedFile {
    /// The file read, or `None` for path-level problems and files that could not be read.
    pub source: Option<SourceFile>,
    /// Its valid declarations, in document order.
    pub nhis: Vec<DeclaredNhi>,
    /// Its problems, in line order.
    pub errors: Vec<ManifestError>,
}

/// Reads every YAML file at or under `paths`, all or nothing.
///
/// Files are read as given; directories are walked recursively in name order for `*.yaml` and
/// `*.yml`, skipping hidden entries and not following symbolic links to directories. A file
/// reached twice is read once.
pub fn load_paths(paths: &[PathBuf]) -> Result<ManifestSet, ManifestErrors> {
    let mut set = ManifestSet::default();
    let mut errors = Vec::new();
    stream_paths(paths, |part| {
        set.files.extend(part.source);
        set.nhis.extend(part.nhis);
        errors.extend(part.errors);
        true
    });
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(ManifestErrors::capped(errors))
    }
}

/// Reads the same files as [`load_paths`], parsing them in parallel, and hands each file's part
/// to `deliver` in file order as soon as it and every file before it are read, so a caller can
/// act on the first files while later ones are parsed. Memory stays bounded by the files in
/// flight. Stops early when `deliver` returns `false`.
pub fn stream_paths(paths: &[PathBuf], mut deliver: impl FnMut(LoadedFile) -> bool) {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        let label = path.display().to_string();
        match fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                errors.push(ManifestError::new(&label, 0, "", "path does not exist"));
            }
            Err(e) => errors.push(ManifestError::new(&label, 0, "", io_reason(&e))),
            Ok(m) if m.is_dir() => {
                let (files_before, errors_before) = (files.len(), errors.len());
                walk(path, &mut files, &mut errors);
                if files.len() == files_before && errors.len() == errors_before {
                    errors.push(ManifestError::new(
                        &label,
                        0,
                        "",
                        "directory holds no `.yaml` or `.yml` file",
                    ));
                }
            }
            Ok(_) => files.push(path.clone()),
        }
    }
    let mut seen = HashSet::new();
    files.retain(|p| seen.insert(fs::canonicalize(p).unwrap_or_else(|_| p.clone())));

    let mut keys = Keys {
        failed: !errors.is_empty(),
        ..Keys::default()
    };
    if !errors.is_empty()
        && !deliver(LoadedFile {
            errors,
            ..LoadedFile::default()
        })
    {
        return;
    }
    read_in_order(&files, &RandomState::new(), |outcome| {
        deliver(keys.admit(outcome))
    });
}

/// Parses one file's text, labelled `path_label` in sources and errors, all or nothing.
pub fn parse_str(path_label: &str, text: &str) -> Result<Vec<DeclaredNhi>, ManifestErrors> {
    let mut parsed = parse_file(path_label, text);
    hash_keys(&mut parsed, &RandomState::new());
    let part = Keys::default().admit(FileOutcome {
        label: path_label.to_owned(),
        source: None,
        parsed,
    });
    if part.errors.is_empty() {
        Ok(part.nhis)
    } else {
        Err(ManifestErrors::capped(part.errors))
    }
}

/// A lower-case description of an I/O failure, without the OS's error number.
pub(crate) fn io_reason(e: &io::Error) -> String {
    let reason = match e.kind() {
        io::ErrorKind::NotFound => "not found".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => {
            let text = e.to_string();
            let mut chars = text.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_lowercase().chain(chars).collect::<String>()
            })
        }
    };
    format!("cannot read: {reason}")
}

/// The text of a file's bytes, or where it stops being UTF-8.
pub(crate) fn utf8<'b>(label: &str, bytes: &'b [u8]) -> Result<&'b str, ManifestError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        ManifestError::new(label, line, "", "file is not valid UTF-8")
    })
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<ManifestError>) {
    let entries = match fs::read_dir(dir).and_then(|rd| rd.collect::<Result<Vec<_>, _>>()) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(ManifestError::new(
                &dir.display().to_string(),
                0,
                "",
                io_reason(&e),
            ));
            return;
        }
    };
    let mut entries: Vec<_> = entries
        .into_iter()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, files, errors);
        } else if is_yaml_name(&path) && (kind.is_file() || (kind.is_symlink() && path.is_file())) {
            files.push(path);
        }
    }
}

fn is_yaml_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == "yaml" || ext == "yml")
}

struct FileOutcome {
    label: String,
    source: Option<SourceFile>,
    parsed: ParsedFile,
}

fn read_one(path: &Path, state: &RandomState) -> FileOutcome {
    let label = path.display().to_string();
    let failed = |error: ManifestError| ParsedFile {
        errors: vec![error],
        ..ParsedFile::default()
    };
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let parsed = failed(ManifestError::new(&label, 0, "", io_reason(&e)));
            return FileOutcome {
                label,
                source: None,
                parsed,
            };
        }
    };
    let mut parsed = match utf8(&label, &bytes) {
        Ok(text) => parse_file(&label, text),
        Err(e) => failed(e),
    };
    hash_keys(&mut parsed, state);
    let source = SourceFile {
        path: label.clone(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        documents: parsed.docs.len(),
    };
    FileOutcome {
        label,
        source: Some(source),
        parsed,
    }
}

/// Lowers the calling thread's scheduling priority (nice 10; Linux sets it per thread): the
/// parsers run ahead of the apply that consumes them, so when cores are short they give way to
/// its planner and writer rather than compete with them (100,000 declarations on 2 cores:
/// 2.5 s → 2.4 s; the parsers still finish well before the writer). Not done where the call
/// would lower the whole process.
fn yield_to_writers() {
    #[cfg(target_os = "linux")]
    {
        // Best effort: a thread that cannot lower its priority parses all the same.
        let _ = rustix::process::setpriority_process(None, 10);
    }
}

/// Reads and parses every file, one worker per core taking the next file as it finishes one,
/// and hands the outcomes to `each` in `files` order until it returns `false`.
fn read_in_order(
    files: &[PathBuf],
    state: &RandomState,
    mut each: impl FnMut(FileOutcome) -> bool,
) {
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(files.len());
    if workers <= 1 {
        for path in files {
            if !each(read_one(path, state)) {
                return;
            }
        }
        return;
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        // Bounded: while `each` is busy, workers stop a few files ahead.
        let (sender, outcomes) = std::sync::mpsc::sync_channel(workers * 2);
        for _ in 0..workers {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                yield_to_writers();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else {
                        break;
                    };
                    if sender.send((i, read_one(path, state))).is_err() {
                        break; // the reader stopped early
                    }
                }
            });
        }
        drop(sender);
        // Outcomes arrive in completion order; hold the early ones until their turn. The
        // receiver never blocks on `each`'s account, so a worker waiting to send cannot hold up
        // the file that is due.
        let mut early = BTreeMap::new();
        let mut due = 0;
        for (i, outcome) in outcomes {
            early.insert(i, outcome);
            while let Some(outcome) = early.remove(&due) {
                due += 1;
                if !each(outcome) {
                    return;
                }
            }
        }
    });
}

/// Where each key was first declared, by the key's precomputed hash.
type FirstDeclared<K> = HashMap<Prehashed<K>, String, PrehashedState>;

/// Where `key` was declared before, or `None` after recording `source` as its first place.
fn first_declared<K: Eq>(
    seen: &mut FirstDeclared<K>,
    key: Prehashed<K>,
    source: &str,
) -> Option<String> {
    match seen.entry(key) {
        Entry::Occupied(first) => Some(first.get().clone()),
        Entry::Vacant(v) => {
            v.insert(source.to_owned());
            None
        }
    }
}

/// The names and external ids declared so far in a load, to find duplicates across files.
#[derive(Default)]
struct Keys {
    names: FirstDeclared<Box<str>>,
    ids: FirstDeclared<(Box<str>, Box<str>)>,
    /// Whether any earlier part had an error: later parts then carry only their errors.
    failed: bool,
}

impl Keys {
    /// One file's part: its valid declarations and its errors, including duplicates of earlier
    /// declarations (in this file or before), in line order.
    fn admit(&mut self, outcome: FileOutcome) -> LoadedFile {
        let FileOutcome {
            label,
            source,
            parsed: file,
        } = outcome;
        let mut errors = file.errors;
        for (doc, hashes) in file.docs.iter().zip(&file.key_hashes) {
            if let (Some(name), Some(hash)) = (doc.name(), hashes.0)
                && let Some(first) =
                    first_declared(&mut self.names, Prehashed(hash, name.into()), doc.source())
            {
                errors.push(ManifestError::new(
                    &label,
                    doc.name_line,
                    "metadata.name",
                    format!("duplicate name `{name}` (first declared at {first})"),
                ));
            }
            if let (Some((provider, id)), Some(hash)) = (doc.external_id(), hashes.1)
                && let Some(first) = first_declared(
                    &mut self.ids,
                    Prehashed(hash, (provider.into(), id.into())),
                    doc.source(),
                )
            {
                errors.push(ManifestError::new(
                    &label,
                    doc.external_id_line,
                    "spec.externalId",
                    format!(
                        "duplicate external id `{id}` for provider `{provider}` (first declared at {first})"
                    ),
                ));
            }
        }
        errors.sort_by_key(|e| e.line);
        self.failed |= !errors.is_empty();
        let nhis = if self.failed {
            Vec::new()
        } else {
            file.docs
                .into_iter()
                .filter_map(|d| match d.outcome {
                    Outcome::Valid(nhi) => Some(nhi),
                    Outcome::Invalid(_) => None,
                })
                .collect()
        };
        LoadedFile {
            source,
            nhis,
            errors,
        }
    }
}

/// A key whose hash was computed beforehand, on the worker that parsed it, so that the one
/// serial step of a load only compares.
#[derive(Clone, Copy)]
struct Prehashed<T>(u64, T);

impl<T: PartialEq> PartialEq for Prehashed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 && self.1 == other.1
    }
}

impl<T: PartialEq> Eq for Prehashed<T> {}

impl<T> Hash for Prehashed<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

/// Passes a [`Prehashed`] key's hash through unchanged.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else rather than lose it.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type PrehashedState = BuildHasherDefault<PassThrough>;

/// Computes each document's name and external-id hashes with `state` (a keyed SipHash, so
/// crafted names cannot force collisions).
fn hash_keys(file: &mut ParsedFile, state: &RandomState) {
    file.key_hashes = file
        .docs
        .iter()
        .map(|d| {
            (
                d.name().map(|n| state.hash_one(n)),
                d.external_id().map(|k| state.hash_one(k)),
            )
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, external_id: &str) -> String {
        format!(
            "apiVersion: keyward/v1\nkind: NonHumanIdentity\nmetadata:\n  name: {name}\nspec:\n  kind: iam_role\n  provider: aws\n  externalId: {external_id}\n"
        )
    }

    fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    fn messages(e: &ManifestErrors, root: &Path) -> Vec<String> {
        let prefix = format!("{}/", root.display());
        e.0.iter()
            .map(|e| e.to_string().replace(&prefix, ""))
            .collect()
    }

    #[test]
    fn walks_directories_in_name_order_skipping_hidden_and_other_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(root, "b/two.yml", &doc("two", "r2"));
        write(
            root,
            "a.yaml",
            &format!("{}---\n{}", doc("one", "r1"), doc("zero", "r0")),
        );
        write(root, "b/c/three.yaml", &doc("three", "r3"));
        write(root, "b/notes.txt", "not yaml");
        write(root, ".hidden.yaml", "not: [valid");
        write(root, ".git/config.yaml", "not: [valid");
        write(root, "b/empty.yaml", "# nothing yet\n");
        let explicit = write(root, "other/extra.conf", &doc("four", "r4"));

        let set = load_paths(&[root.to_path_buf(), explicit, root.join("a.yaml")]).unwrap();
        let names: Vec<_> = set.nhis.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["one", "zero", "three", "two", "four"]);
        let files: Vec<_> = set
            .files
            .iter()
            .map(|f| {
                (
                    f.path.replace(&format!("{}/", root.display()), ""),
                    f.documents,
                )
            })
            .collect();
        assert_eq!(
            files,
            [
                ("a.yaml".to_owned(), 2),
                ("b/c/three.yaml".to_owned(), 1),
                ("b/empty.yaml".to_owned(), 0),
                ("b/two.yml".to_owned(), 1),
                ("other/extra.conf".to_owned(), 1),
            ]
        );
        assert_eq!(
            set.files[0].sha256,
            hex::encode(Sha256::digest(fs::read(root.join("a.yaml")).unwrap()))
        );
        assert_eq!(set.nhis[1].source, format!("{}/a.yaml:10", root.display()));
    }

    #[test]
    fn duplicates_across_files_name_the_first() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            root,
            "a.yaml",
            &format!(
                "# team a
{}",
                doc("x", "arn:1")
            ),
        );
        write(
            root,
            "b.yaml",
            &format!(
                "{}---
{}",
                doc("y", "arn:2"),
                doc("x", "arn:1")
            ),
        );
        let err = load_paths(&[root.to_path_buf()]).unwrap_err();
        assert_eq!(
            messages(&err, root),
            [
                "b.yaml:13: metadata.name: duplicate name `x` (first declared at a.yaml:2)",
                "b.yaml:17: spec.externalId: duplicate external id `arn:1` for provider `aws` (first declared at a.yaml:2)",
            ]
        );
    }

    #[test]
    fn missing_paths_empty_directories_and_bad_files_are_all_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir(root.join("empty")).unwrap();
        write(root, "empty/readme.md", "no yaml here");
        write(
            root,
            "bad/a.yaml",
            "apiVersion: keyward/v1
kind: [
",
        );
        write(
            root,
            "bad/b.yaml",
            &doc("ok", "r1").replace("iam_role", "robot"),
        );
        fs::write(root.join("bad/c.yaml"), b"# fine\nname: \xff\n").unwrap();
        let err =
            load_paths(&[root.join("nope"), root.join("empty"), root.join("bad")]).unwrap_err();
        let got = messages(&err, root);
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[0], "nope: path does not exist");
        assert_eq!(got[1], "empty: directory holds no `.yaml` or `.yml` file");
        assert!(
            got[2].starts_with("bad/a.yaml:3: invalid YAML: "),
            "{got:?}"
        );
        assert!(
            got[3].starts_with("bad/b.yaml:6: spec.kind: `robot` is not a valid kind"),
            "{got:?}"
        );
        assert_eq!(got[4], "bad/c.yaml:2: file is not valid UTF-8");
    }

    #[test]
    fn streaming_delivers_files_in_order_and_stops_when_asked() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for i in 0..30 {
            write(
                root,
                &format!("f{i:02}.yaml"),
                &doc(&format!("n{i:02}"), &format!("r{i}")),
            );
        }
        write(root, "f10.yaml", &doc("n03", "r10")); // a duplicate of an earlier file's name
        let mut parts = Vec::new();
        stream_paths(&[root.join("missing"), root.to_path_buf()], |part| {
            parts.push(part);
            true
        });
        assert_eq!(
            parts.len(),
            31,
            "the path problem first, then one part per file"
        );
        assert_eq!(
            messages(&ManifestErrors(parts[0].errors.clone()), root),
            ["missing: path does not exist"]
        );
        assert!(parts[0].source.is_none() && parts[0].nhis.is_empty());
        for (i, part) in parts[1..].iter().enumerate() {
            let path = part
                .source
                .as_ref()
                .unwrap()
                .path
                .replace(&format!("{}/", root.display()), "");
            assert_eq!(path, format!("f{i:02}.yaml"));
            // After the first error, parts carry only errors.
            assert!(part.nhis.is_empty(), "{path}");
        }
        assert_eq!(
            messages(&ManifestErrors(parts[11].errors.clone()), root),
            ["f10.yaml:4: metadata.name: duplicate name `n03` (first declared at f03.yaml:1)"]
        );

        let mut seen = 0;
        stream_paths(&[root.to_path_buf()], |part| {
            seen += 1;
            assert_eq!(part.nhis.len(), 1);
            seen < 5
        });
        assert_eq!(seen, 5, "nothing is delivered once the caller stops");
    }

    #[test]
    fn many_files_load_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for i in 0..40 {
            let text: String = (0..5)
                .map(|j| doc(&format!("n{i:02}-{j}"), &format!("r{i}-{j}")))
                .collect::<Vec<_>>()
                .join("---\n");
            write(root, &format!("f{i:02}.yaml"), &text);
        }
        let set = load_paths(&[root.to_path_buf()]).unwrap();
        assert_eq!(set.nhis.len(), 200);
        let mut sorted = set.nhis.clone();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(set.nhis, sorted);
        assert!(load_paths(&[]).unwrap().nhis.is_empty());
    }
}
