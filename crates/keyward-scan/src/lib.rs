//! Keyward's secret scanner for files and directories.
//!
//! Walks the given paths (respecting `.gitignore`, `.ignore` and `.keywardignore`), skips
//! binary and oversized files, runs every file through the detection rules, and reports each
//! credential found as a [`Finding`]: the rule, where it is, a keyed fingerprint and a redacted
//! preview. The secret's value itself never leaves this crate: it is fingerprinted and dropped.
//!
//! A line holding `keyward:allow` suppresses the findings on it; matches in test fixtures and
//! documentation are reported with lowered confidence.

mod archive;
mod baseline;
mod exclude;
mod git;
mod sarif;
#[cfg(feature = "testing")]
pub mod testing;

pub use baseline::{Accepted, Baseline};
pub use exclude::{Excludes, GlobError};
pub use git::{GitOrigin, scan_git};
pub use sarif::{FINGERPRINT_KEY, sarif};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use keyward_model::{CredentialKind, Fingerprinter, NhiKind, SecretValue};
use keyward_rules::{Confidence, RuleSet};

/// The comment that suppresses findings on its line.
pub const ALLOW_MARKER: &[u8] = b"keyward:allow";

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Files larger than this are skipped.
    pub max_file_size: u64,
    /// Worker threads (at least one).
    pub threads: usize,
    /// How deep to read archives within archives; 0 reads no archive.
    pub archive_depth: usize,
    /// The most bytes one archive on disk may unpack to, everything inside it included.
    pub max_archive_bytes: u64,
    /// Paths not to scan.
    pub excludes: Excludes,
    /// Counters a front end may show while the scan runs.
    pub progress: Arc<Progress>,
}

/// Live counts of a running scan, updated by the scanning threads.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files (or blobs) read.
    pub files: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
    /// Findings so far.
    pub findings: AtomicU64,
    /// Blobs to read in a history scan, once known.
    pub blobs_total: AtomicU64,
}

impl Progress {
    fn add(&self, files: u64, bytes: u64, findings: u64) {
        self.files.fetch_add(files, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.findings.fetch_add(findings, Ordering::Relaxed);
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            max_file_size: 10 << 20,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            archive_depth: 3,
            max_archive_bytes: 256 << 20,
            excludes: Excludes::default(),
            progress: Arc::default(),
        }
    }
}

/// One credential found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// The rule that found it.
    pub rule_id: String,
    /// The rule's name.
    pub rule_name: String,
    /// The credential's kind.
    pub kind: CredentialKind,
    /// The kind of NHI it belongs to.
    pub nhi_kind: NhiKind,
    /// Whose credential it is.
    pub provider: String,
    /// The file.
    pub path: String,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based byte column of the secret's first byte.
    pub column: usize,
    /// Keyed fingerprint (HMAC-SHA-256) of the secret.
    pub fingerprint: String,
    /// At most the first four characters and the length.
    pub preview: String,
    /// How sure the match is, lowered in tests and documentation.
    pub confidence: Confidence,
    /// The secret's entropy, bits per byte.
    pub entropy: f64,
    /// The fingerprint of its other half found nearby (the secret key beside an AWS access key
    /// id, and the other way round), when its rule names a pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paired_with: Option<String>,
    /// The repository whose history holds it, as given to the scan, when scanning history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The git blob holding it, when scanning history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// The commit, author and date where it first appears, when scanning history.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitOrigin>,
}

/// What a scan read and found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ScanReport {
    /// Findings, ordered by path, line and column.
    pub findings: Vec<Finding>,
    /// Files read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Files skipped as binary.
    pub skipped_binary: u64,
    /// Files skipped as larger than the limit.
    pub skipped_large: u64,
    /// Findings suppressed by `keyward:allow`.
    pub allowed: u64,
    /// Archives opened.
    pub archives: u64,
    /// What could not be read and was passed over (a corrupt archive, an archive too large).
    pub warnings: Vec<String>,
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A repository's history could not be read.
    #[error("cannot read the git history of `{path}`: {reason}")]
    Git {
        /// The repository.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A path given to scan does not exist or cannot be read.
    #[error("cannot read `{path}`: {reason}")]
    Unreadable {
        /// The path.
        path: String,
        /// What the system said.
        reason: String,
    },
}

/// Scans `paths` with `rules`, fingerprinting with `fingerprints`.
pub fn scan(
    paths: &[PathBuf],
    rules: &RuleSet,
    fingerprints: &Fingerprinter,
    options: &ScanOptions,
) -> Result<ScanReport, ScanError> {
    let Some((first, rest)) = paths.split_first() else {
        return Ok(ScanReport::default());
    };
    for p in paths {
        std::fs::metadata(p).map_err(|e| ScanError::Unreadable {
            path: p.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    let excludes = options.excludes.clone();
    let roots: Vec<PathBuf> = paths.to_vec();
    let mut walk = ignore::WalkBuilder::new(first);
    for p in rest {
        walk.add(p);
    }
    walk.add_custom_ignore_filename(".keywardignore")
        // Dotfiles (`.env`, `.npmrc`) are where credentials live; git's own store is not.
        .hidden(false)
        .filter_entry(move |e| {
            e.file_name() != ".git"
                && (excludes.is_empty() || !excludes.excludes(&relative(&roots, e.path())))
        })
        .require_git(false)
        .threads(options.threads.max(1));
    let total = Mutex::new(ScanReport::default());
    let failure: Mutex<Option<ScanError>> = Mutex::new(None);
    walk.build_parallel().run(|| {
        let (total, failure) = (&total, &failure);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    record(
                        failure,
                        ScanError::Unreadable {
                            path: String::new(),
                            reason: e.to_string(),
                        },
                    );
                    return ignore::WalkState::Quit;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let mut one = ScanReport::default();
            if let Err(e) = scan_file(entry.path(), rules, fingerprints, options, &mut one) {
                record(failure, e);
                return ignore::WalkState::Quit;
            }
            if let Ok(mut t) = total.lock() {
                merge(&mut t, one);
            }
            ignore::WalkState::Continue
        })
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut report = total.into_inner().unwrap_or_default();
    report.sort();
    Ok(report)
}

impl ScanReport {
    /// Adds another scan's findings and counts to this one.
    pub fn absorb(&mut self, other: ScanReport) {
        merge(self, other);
    }

    /// Orders findings by path, line, column and rule, so output is the same on every run.
    fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
        });
    }
}

/// `path` from the scan root it lies under, `/`-separated.
fn relative(roots: &[PathBuf], path: &Path) -> String {
    let rel = roots
        .iter()
        .find_map(|r| path.strip_prefix(r).ok())
        .unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn record(slot: &Mutex<Option<ScanError>>, e: ScanError) {
    if let Ok(mut s) = slot.lock() {
        s.get_or_insert(e);
    }
}

fn merge(into: &mut ScanReport, from: ScanReport) {
    into.findings.extend(from.findings);
    into.files += from.files;
    into.bytes += from.bytes;
    into.skipped_binary += from.skipped_binary;
    into.skipped_large += from.skipped_large;
    into.allowed += from.allowed;
    into.archives += from.archives;
    into.warnings.extend(from.warnings);
}

fn scan_file(
    path: &Path,
    rules: &RuleSet,
    fingerprints: &Fingerprinter,
    options: &ScanOptions,
    report: &mut ScanReport,
) -> Result<(), ScanError> {
    let unreadable = |e: std::io::Error| ScanError::Unreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > options.max_file_size {
        report.skipped_large += 1;
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    let label = path.display().to_string();
    Scanner {
        rules,
        fingerprints,
        options,
    }
    .content(&label, &bytes, report);
    Ok(())
}

/// What every file of a scan is scanned with.
pub(crate) struct Scanner<'a> {
    pub(crate) rules: &'a RuleSet,
    pub(crate) fingerprints: &'a Fingerprinter,
    pub(crate) options: &'a ScanOptions,
}

impl Scanner<'_> {
    /// Scans one file's content: inside it when it is an archive (within the options'
    /// limits), else as text unless it is binary.
    pub(crate) fn content(&self, label: &str, bytes: &[u8], report: &mut ScanReport) {
        let mut budget = archive::Budget {
            bytes_left: self.options.max_archive_bytes,
        };
        self.nested(label, bytes, 0, &mut budget, report);
    }

    /// Scans content found `depth` archives deep.
    pub(crate) fn nested(
        &self,
        label: &str,
        bytes: &[u8],
        depth: usize,
        budget: &mut archive::Budget,
        report: &mut ScanReport,
    ) {
        if let Some(kind) = archive::kind_of(label) {
            if depth < self.options.archive_depth {
                archive::entries(self, label, bytes, kind, depth, budget, report);
            } else {
                report.warnings.push(format!(
                    "{label}: not opened: archives nest deeper than {}",
                    self.options.archive_depth
                ));
            }
            return;
        }
        if is_binary(bytes) {
            report.skipped_binary += 1;
            return;
        }
        report.files += 1;
        report.bytes += bytes.len() as u64;
        let before = report.findings.len();
        scan_bytes(label, bytes, self.rules, self.fingerprints, report);
        self.options.progress.add(
            1,
            bytes.len() as u64,
            (report.findings.len() - before) as u64,
        );
    }
}

/// Scans one file's content labelled `label`, as a scan of files does: inside it when its name
/// says it is an archive (within the options' depth and size limits), else as text unless it is
/// binary.
pub fn scan_content(
    label: &str,
    bytes: &[u8],
    rules: &RuleSet,
    fingerprints: &Fingerprinter,
    options: &ScanOptions,
    report: &mut ScanReport,
) {
    Scanner {
        rules,
        fingerprints,
        options,
    }
    .content(label, bytes, report);
}

/// Whether the start of a file looks binary (a NUL byte in the first 8 KiB).
fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}

/// Scans one buffer labelled `path`, adding its findings to `report`.
pub fn scan_bytes(
    path: &str,
    bytes: &[u8],
    rules: &RuleSet,
    fingerprints: &Fingerprinter,
    report: &mut ScanReport,
) {
    let lowered = is_fixture_or_doc(path);
    let first = report.findings.len();
    let mut lines = LineIndex::new(bytes);
    for m in strongest(rules, rules.find(bytes)) {
        let (line, line_start) = lines.locate(m.secret.start);
        let line_end = memchr::memchr(b'\n', &bytes[m.secret.start..])
            .map_or(bytes.len(), |i| m.secret.start + i);
        if memchr::memmem::find(&bytes[line_start..line_end], ALLOW_MARKER).is_some() {
            report.allowed += 1;
            continue;
        }
        let rule = &rules.rules()[m.rule];
        let value =
            SecretValue::new(String::from_utf8_lossy(&bytes[m.secret.clone()]).into_owned());
        let confidence = if lowered {
            rule.confidence.lowered()
        } else {
            rule.confidence
        };
        report.findings.push(Finding {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            kind: rule.credential,
            nhi_kind: rule.nhi_kind,
            provider: rule.provider.clone(),
            path: path.to_owned(),
            line,
            column: m.secret.start - line_start + 1,
            fingerprint: fingerprints.fingerprint(&value),
            preview: value.preview(),
            confidence,
            entropy: (m.entropy * 1000.0).round() / 1000.0,
            paired_with: None,
            repository: None,
            blob: None,
            git: None,
        });
    }
    pair_up(rules, &mut report.findings[first..]);
}

/// How many lines apart two halves of one credential may lie.
const PAIR_LINES: usize = 10;

/// Marks findings whose rule names a pair with the nearest finding of that rule in the same
/// file, within [`PAIR_LINES`].
fn pair_up(rules: &RuleSet, found: &mut [Finding]) {
    // Each rule's findings by line, so each finding looks for its partner by binary search.
    let mut by_rule: std::collections::HashMap<&str, Vec<(usize, &str)>> =
        std::collections::HashMap::new();
    for f in found.iter() {
        by_rule
            .entry(f.rule_id.as_str())
            .or_default()
            .push((f.line, f.fingerprint.as_str()));
    }
    for lines in by_rule.values_mut() {
        lines.sort_unstable();
    }
    let partners: Vec<Option<String>> = found
        .iter()
        .map(|f| {
            let pair = rules.get(&f.rule_id)?.pair.as_deref()?;
            let lines = by_rule.get(pair)?;
            let at = lines.partition_point(|(l, _)| *l < f.line);
            // The nearest line on either side; the earlier one wins a tie.
            [at.checked_sub(1), Some(at)]
                .into_iter()
                .flatten()
                .filter_map(|i| lines.get(i))
                .filter(|(l, _)| l.abs_diff(f.line) <= PAIR_LINES)
                .min_by_key(|(l, _)| l.abs_diff(f.line))
                .map(|(_, fp)| (*fp).to_owned())
        })
        .collect();
    for (f, p) in found.iter_mut().zip(partners) {
        f.paired_with = p;
    }
}

/// Where matches of several rules overlap (a GitHub token that is also a generic `TOKEN =`
/// assignment), keeps the most confident, then the longest, then the first rule's.
fn strongest(rules: &RuleSet, mut found: Vec<keyward_rules::Match>) -> Vec<keyward_rules::Match> {
    let rank = |m: &keyward_rules::Match| {
        (
            std::cmp::Reverse(rules.rules()[m.rule].confidence),
            std::cmp::Reverse(m.secret.len()),
            m.rule,
        )
    };
    found.sort_by_key(rank);
    // Kept spans never overlap, so sorted by start their ends are sorted too: only the kept
    // span starting last before a candidate's end can overlap it.
    let mut kept: std::collections::BTreeMap<usize, keyward_rules::Match> =
        std::collections::BTreeMap::new();
    for m in found {
        let overlaps = kept
            .range(..m.secret.end)
            .next_back()
            .is_some_and(|(_, k)| k.secret.end > m.secret.start);
        if !overlaps && !m.secret.is_empty() {
            kept.insert(m.secret.start, m);
        }
    }
    kept.into_values().collect()
}

/// Paths whose matches are more likely samples than live credentials.
fn is_fixture_or_doc(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let doc = [".md", ".rst", ".adoc", ".txt"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    doc || lower.split(['/', '\\']).any(|part| {
        matches!(
            part,
            "test"
                | "tests"
                | "testdata"
                | "fixtures"
                | "fixture"
                | "examples"
                | "example"
                | "docs"
                | "doc"
                | "spec"
                | "mocks"
                | "__tests__"
                | "samples"
        )
    })
}

/// Finds the line of an offset, for offsets asked in increasing order or not.
struct LineIndex<'a> {
    bytes: &'a [u8],
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            starts: Vec::new(),
        }
    }

    /// The 1-based line holding `offset` and the offset where that line starts.
    fn locate(&mut self, offset: usize) -> (usize, usize) {
        if self.starts.is_empty() {
            self.starts.push(0);
            self.starts
                .extend(memchr::memchr_iter(b'\n', self.bytes).map(|i| i + 1));
        }
        let i = self.starts.partition_point(|&s| s <= offset);
        (i, self.starts[i - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_their_starts() {
        let mut idx = LineIndex::new(b"ab\ncd\n\nef");
        assert_eq!(idx.locate(0), (1, 0));
        assert_eq!(idx.locate(4), (2, 3));
        assert_eq!(idx.locate(6), (3, 6));
        assert_eq!(idx.locate(8), (4, 7));
    }

    #[test]
    fn fixtures_and_docs_are_told_apart() {
        assert!(is_fixture_or_doc("repo/tests/data/key.pem"));
        assert!(is_fixture_or_doc("README.md"));
        assert!(!is_fixture_or_doc("src/config/prod.yaml"));
        assert!(!is_fixture_or_doc("src/latest/config.yaml"));
    }
}
