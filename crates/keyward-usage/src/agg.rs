//! What both log connectors share: distinct-value sets, signals of human use, and reading
//! files in parallel into partial aggregates.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use keyward_connect::{ConnectError, InputRecord, Inputs};
use keyward_model::Facts;
use serde_json::{Value, json};

/// The distinct values of one field seen for one identity. Kept whole so that the reported
/// total is exact; only the emitted list is capped.
#[derive(Debug, Default)]
pub(crate) struct Distinct(HashSet<String>);

impl Distinct {
    /// Adds a value, copying it only when new.
    pub(crate) fn add(&mut self, v: &str) {
        if !self.0.contains(v) {
            self.0.insert(v.to_owned());
        }
    }

    /// Adds every value of another set.
    pub(crate) fn merge(&mut self, other: Distinct) {
        if self.0.is_empty() {
            self.0 = other.0;
        } else {
            self.0.extend(other.0);
        }
    }

    /// How many distinct values.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none was seen.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values, sorted.
    pub(crate) fn sorted(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.0.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Puts the first `cap` values in sorted order under `name` and the count of all of them
    /// under `<name>_total`; nothing when none was seen.
    pub(crate) fn emit(&self, facts: &mut Facts, name: &str, cap: usize) {
        if self.0.is_empty() {
            return;
        }
        let mut v = self.sorted();
        v.truncate(cap);
        facts.insert(name.to_owned(), json!(v));
        facts.insert(format!("{name}_total"), json!(self.0.len()));
    }
}

/// The later of two optional times.
pub(crate) fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    a.max(b)
}

/// The earlier of two optional times, an unknown time being no time.
pub(crate) fn earlier(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A time as the facts write it (RFC 3339, UTC, `Z`).
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// User agents of one kind seen for an identity, with the latest time one was used.
#[derive(Debug, Default)]
pub(crate) struct AgentSignal {
    /// The matching user agents.
    pub(crate) agents: Distinct,
    /// The latest use with one of them.
    pub(crate) at: Option<DateTime<Utc>>,
}

impl AgentSignal {
    /// Records a use with a matching agent.
    pub(crate) fn add(&mut self, agent: &str, at: Option<DateTime<Utc>>) {
        self.agents.add(agent);
        self.at = later(self.at, at);
    }

    /// Adds another identity-part's uses.
    pub(crate) fn merge(&mut self, other: AgentSignal) {
        self.agents.merge(other.agents);
        self.at = later(self.at, other.at);
    }

    /// The `human_use` object for this signal, when any agent matched.
    pub(crate) fn signal(&self, signal: &str, what: &str) -> Option<Value> {
        if self.agents.is_empty() {
            return None;
        }
        Some(human_use(
            signal,
            format!("{what}: {}", listing(&self.agents, 5)),
            self.at,
        ))
    }
}

/// One `human_use` object.
pub(crate) fn human_use(signal: &str, detail: String, at: Option<DateTime<Utc>>) -> Value {
    json!({"signal": signal, "detail": detail, "at": at.map(rfc3339)})
}

/// Up to `cap` values, sorted, joined with `; `, and how many more there are.
fn listing(values: &Distinct, cap: usize) -> String {
    let all = values.sorted();
    let mut out = all[..all.len().min(cap)].join("; ");
    if all.len() > cap {
        out.push_str(&format!(" (and {} more)", all.len() - cap));
    }
    out
}

/// Whether a user agent is a web browser's.
pub(crate) fn is_browser(agent: &str) -> bool {
    // CloudTrail writes some agents as a bracketed list (`[Mozilla/5.0 (…)]`).
    agent.trim_start_matches('[').starts_with("Mozilla/")
}

/// Whether `haystack` contains `needle` (ASCII lowercase), ignoring ASCII case.
pub(crate) fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A set of partial results of one connector, one per worker: read from files, merged into
/// one. Merging is commutative (unions, sums, maxima), so the result does not depend on which
/// worker read which file.
pub(crate) trait Partial: Default + Send {
    /// Reads one file's content into this partial.
    fn read(&mut self, path: &Path, bytes: &[u8]) -> Result<(), ConnectError>;

    /// Adds another worker's partial.
    fn merge(&mut self, other: Self);
}

/// What one worker returns: its partial, the inputs it read (by file index) and the first
/// error it met (with its file index).
type WorkerResult<P> = (P, Vec<(usize, InputRecord)>, Option<(usize, ConnectError)>);

/// Reads `files` on `threads` workers into one partial, with the input records in the files'
/// order. When files fail, the error is the one of the first failing file in input order,
/// whichever worker met it first, so runs report the same error every time.
pub(crate) fn read_all<P: Partial>(
    files: &[PathBuf],
    threads: usize,
) -> Result<(P, Vec<InputRecord>), ConnectError> {
    let next = AtomicUsize::new(0);
    let first_failed = AtomicUsize::new(usize::MAX);
    let threads = threads.clamp(1, files.len().max(1));
    let results: Vec<WorkerResult<P>> = if threads == 1 {
        vec![work(files, &next, &first_failed)]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| s.spawn(|| work::<P>(files, &next, &first_failed)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut total = P::default();
    let mut records = Vec::with_capacity(files.len());
    let mut error: Option<(usize, ConnectError)> = None;
    for (part, recs, err) in results {
        total.merge(part);
        records.extend(recs);
        if let Some((i, e)) = err
            && error.as_ref().is_none_or(|(j, _)| i < *j)
        {
            error = Some((i, e));
        }
    }
    if let Some((_, e)) = error {
        return Err(e);
    }
    records.sort_by_key(|(i, _)| *i);
    Ok((total, records.into_iter().map(|(_, r)| r).collect()))
}

fn work<P: Partial>(
    files: &[PathBuf],
    next: &AtomicUsize,
    first_failed: &AtomicUsize,
) -> WorkerResult<P> {
    let mut part = P::default();
    let mut records = Vec::new();
    loop {
        // Files are handed out in input order, so every file before a failed one has been
        // taken by some worker and the first failure in input order is always found.
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= files.len() || i > first_failed.load(Ordering::Relaxed) {
            return (part, records, None);
        }
        let mut inputs = Inputs::new();
        let result = inputs
            .read(&files[i])
            .and_then(|file| part.read(&file.path, &file.bytes));
        records.extend(inputs.into_records().into_iter().map(|r| (i, r)));
        if let Err(e) = result {
            first_failed.fetch_min(i, Ordering::Relaxed);
            return (part, records, Some((i, e)));
        }
    }
}

/// Whether a file found in a directory is a log this crate reads, by its name: `.json`,
/// `.jsonl`, `.ndjson` or `.log`, gzipped or not.
pub(crate) fn is_log_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".json", ".jsonl", ".ndjson", ".log"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_emits_sorted_capped_with_total() {
        let mut d = Distinct::default();
        for v in ["c", "a", "b", "a"] {
            d.add(v);
        }
        let mut facts = Facts::new();
        d.emit(&mut facts, "things", 2);
        assert_eq!(facts["things"], json!(["a", "b"]));
        assert_eq!(facts["things_total"], json!(3));
        let mut facts = Facts::new();
        Distinct::default().emit(&mut facts, "things", 2);
        assert!(facts.is_empty());
    }

    #[test]
    fn agent_signal_lists_a_few_and_counts_the_rest() {
        let mut s = AgentSignal::default();
        for i in 0..7 {
            s.add(&format!("kubectl/v1.{i}"), None);
        }
        let v = s.signal("kubectl_use", "kubectl").unwrap();
        assert_eq!(
            v["detail"],
            "kubectl: kubectl/v1.0; kubectl/v1.1; kubectl/v1.2; kubectl/v1.3; kubectl/v1.4 (and 2 more)"
        );
        assert_eq!(v["at"], Value::Null);
        assert!(AgentSignal::default().signal("x", "y").is_none());
    }

    #[test]
    fn browsers_and_case() {
        assert!(is_browser("Mozilla/5.0 (Macintosh)"));
        assert!(is_browser("[Mozilla/5.0 (Macintosh)]"));
        assert!(!is_browser("Mozilla"));
        assert!(contains_ignore_case("os/macOS#14", "macos"));
        assert!(!contains_ignore_case("Linux", "darwin"));
    }

    #[test]
    fn log_file_names() {
        for yes in ["a.json", "a.json.gz", "b.JSONL", "audit.log", "x.ndjson.gz"] {
            assert!(is_log_file(Path::new(yes)), "{yes}");
        }
        for no in ["LICENSE.txt", "a.yaml", "json"] {
            assert!(!is_log_file(Path::new(no)), "{no}");
        }
    }

    #[derive(Default)]
    struct Count(u64);

    impl Partial for Count {
        fn read(&mut self, path: &Path, bytes: &[u8]) -> Result<(), ConnectError> {
            if bytes.starts_with(b"bad") {
                return Err(ConnectError::syntax(path, 1, 1, "bad"));
            }
            self.0 += bytes.len() as u64;
            Ok(())
        }

        fn merge(&mut self, other: Self) {
            self.0 += other.0;
        }
    }

    #[test]
    fn reads_in_parallel_and_reports_the_first_failure_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for i in 0..40 {
            let p = dir.path().join(format!("{i:02}.json"));
            let body = if i == 17 || i == 31 {
                "bad".to_owned()
            } else {
                "x".repeat(i)
            };
            std::fs::write(&p, body).unwrap();
            files.push(p);
        }
        for threads in [1, 2, 4] {
            let err = read_all::<Count>(&files, threads).err().unwrap();
            assert!(err.to_string().contains("17.json"), "{err}");
        }
        files.retain(|p| !p.ends_with("17.json") && !p.ends_with("31.json"));
        for threads in [1, 2, 3] {
            let (total, records) = read_all::<Count>(&files, threads).unwrap();
            assert_eq!(
                total.0,
                (0..40u64).filter(|i| *i != 17 && *i != 31).sum::<u64>()
            );
            let order: Vec<_> = records.iter().map(|r| r.locator.clone()).collect();
            let want: Vec<_> = files.iter().map(|p| p.display().to_string()).collect();
            assert_eq!(order, want);
        }
    }
}
