//! Scanning a repository's history: every blob reachable from every ref, read once.
//!
//! Commits are visited oldest first; each tree and blob not seen before is walked and recorded
//! with the commit, author, date and path where it first appears, so a secret committed once
//! and deleted later is reported against the commit that introduced it. Trees already seen are
//! not walked again, so the cost follows the number of distinct objects, not of commits.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use gix::ObjectId;
use keyward_model::Fingerprinter;
use keyward_rules::RuleSet;

use crate::{ScanError, ScanOptions, ScanReport, Scanner, merge};

/// Where a blob first appears in history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GitOrigin {
    /// The commit that introduced it (full hex id).
    pub commit: String,
    /// Its author, `Name <email>`.
    pub author: String,
    /// Its author date.
    pub date: DateTime<Utc>,
}

struct Blob {
    id: ObjectId,
    path: String,
    origin: Option<Arc<GitOrigin>>,
}

fn git_error(path: &Path, e: impl std::fmt::Display) -> ScanError {
    ScanError::Git {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Blobs the walk has found but the scanners not yet taken.
const QUEUE: usize = 4096;

/// Scans the history of the repository at `path`. One thread walks commits and trees and
/// hands each new blob to the scanning threads as it finds it, so walking and scanning overlap.
pub fn scan_git(
    path: &Path,
    rules: &RuleSet,
    fingerprints: &Fingerprinter,
    options: &ScanOptions,
) -> Result<ScanReport, ScanError> {
    // No delta-base cache: the default (a 64-entry list searched linearly, holding copies of
    // bases) made history scans slower, and a hash-map cache won a few percent for 50 MB more
    // resident memory on the benchmark history.
    let no_cache = gix::open::Options::default().config_overrides(["core.deltaBaseCacheLimit=0"]);
    let repo = gix::open_opts(path, no_cache).map_err(|e| git_error(path, e))?;
    let (commits, loose) = tips(&repo).map_err(|e| git_error(path, e))?;
    let shared = repo.into_sync();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Blob>(QUEUE);
    let rx = Mutex::new(rx);
    let threads = options.threads.max(1);
    let (walked, scanned) = std::thread::scope(|scope| {
        let shared = &shared;
        let walker = scope.spawn(move || {
            let repo = shared.to_thread_local();
            let walked = walk(&repo, &commits, loose, options, &tx).map_err(|e| git_error(path, e));
            drop(tx);
            walked
        });
        let scanners: Vec<_> = (0..threads)
            .map(|_| {
                let rx = &rx;
                scope.spawn(move || {
                    let repo = shared.to_thread_local();
                    let scanner = Scanner {
                        rules,
                        fingerprints,
                        options,
                    };
                    let mut report = ScanReport::default();
                    let mut failed = None;
                    // Keep taking blobs after a failure, so the walk is never left blocked.
                    while let Some(b) = rx.lock().ok().and_then(|r| r.recv().ok()) {
                        if failed.is_none()
                            && let Err(e) = scan_blob(&repo, &b, &scanner, &mut report)
                        {
                            failed = Some(git_error(path, e));
                        }
                    }
                    failed.map_or(Ok(report), Err)
                })
            })
            .collect();
        let stopped = || git_error(path, "a scanning thread stopped");
        let walked = walker.join().unwrap_or_else(|_| Err(stopped()));
        let scanned: Vec<Result<ScanReport, ScanError>> = scanners
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(stopped())))
            .collect();
        (walked, scanned)
    });
    let order = walked?;
    let mut total = ScanReport::default();
    for r in scanned {
        merge(&mut total, r?);
    }
    first_sightings(&mut total, &order);
    let repository = path.display().to_string();
    for f in &mut total.findings {
        f.repository = Some(repository.clone());
    }
    total.sort();
    Ok(total)
}

/// Walks every commit oldest first, then what refs point at directly, sending each blob not
/// seen before; returns the blobs in the order sent.
fn walk(
    repo: &gix::Repository,
    commits: &[ObjectId],
    loose: Vec<(String, ObjectId, gix::object::Kind)>,
    options: &ScanOptions,
    tx: &std::sync::mpsc::SyncSender<Blob>,
) -> Result<Vec<ObjectId>, Box<dyn std::error::Error + Send + Sync>> {
    let mut seen = gix::hashtable::HashSet::<ObjectId>::default();
    let mut order = Vec::new();
    let send = |b: Blob, order: &mut Vec<ObjectId>| {
        order.push(b.id);
        // Scanners stop taking only when the scan ends.
        let _ = tx.send(b);
    };
    for (label, id, kind) in loose {
        match kind {
            gix::object::Kind::Blob if seen.insert(id) => send(
                Blob {
                    id,
                    path: label,
                    origin: None,
                },
                &mut order,
            ),
            gix::object::Kind::Tree => {
                walk_tree(
                    repo,
                    id,
                    &label,
                    None,
                    &options.excludes,
                    &mut seen,
                    &mut |b| send(b, &mut order),
                )?;
            }
            _ => {}
        }
    }
    for &id in commits {
        let commit = repo.find_commit(id)?;
        let tree = commit.tree_id()?.detach();
        if seen.contains(&tree) {
            continue;
        }
        let author = commit.author()?;
        let seconds = author.time().map_or(0, |t| t.seconds);
        let origin = Arc::new(GitOrigin {
            commit: id.to_hex().to_string(),
            author: format!("{} <{}>", author.name, author.email),
            date: DateTime::from_timestamp(seconds, 0).unwrap_or_default(),
        });
        walk_tree(
            repo,
            tree,
            "",
            Some(&origin),
            &options.excludes,
            &mut seen,
            &mut |b| send(b, &mut order),
        )?;
    }
    options
        .progress
        .blobs_total
        .store(order.len() as u64, std::sync::atomic::Ordering::Relaxed);
    Ok(order)
}

/// Keeps, for each secret at each path, the blob that brought it there first: later revisions
/// of a file that still hold the same secret add no finding. Blobs are listed in history order.
fn first_sightings(report: &mut ScanReport, blobs: &[ObjectId]) {
    let order: std::collections::HashMap<String, usize> = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| (b.to_hex().to_string(), i))
        .collect();
    let rank = |f: &crate::Finding| {
        f.blob
            .as_ref()
            .and_then(|b| order.get(b))
            .copied()
            .unwrap_or(usize::MAX)
    };
    report
        .findings
        .sort_by_cached_key(|f| (f.fingerprint.clone(), f.path.clone(), rank(f), f.line));
    report.findings.dedup_by(|later, first| {
        later.fingerprint == first.fingerprint && later.path == first.path
    });
}

/// The commits reachable from every ref (and a detached HEAD), oldest first; and the trees
/// and blobs that refs point at directly.
#[expect(clippy::type_complexity, reason = "a private pair of lists")]
fn tips(
    repo: &gix::Repository,
) -> Result<
    (Vec<ObjectId>, Vec<(String, ObjectId, gix::object::Kind)>),
    Box<dyn std::error::Error + Send + Sync>,
> {
    let mut starts = Vec::new();
    let mut loose = Vec::new();
    let platform = repo.references()?;
    let mut refs: Vec<(String, ObjectId)> = Vec::new();
    for r in platform.all()? {
        let mut r = r?;
        let name = r.name().as_bstr().to_string();
        let id = r.peel_to_id()?.detach();
        refs.push((name, id));
    }
    if let Ok(head) = repo.head_id() {
        refs.push(("HEAD".into(), head.detach()));
    }
    for (name, id) in refs {
        let kind = repo.find_header(id)?.kind();
        if kind == gix::object::Kind::Commit {
            starts.push(id);
        } else {
            loose.push((name, id, kind));
        }
    }
    // `git log --date-order`: no commit before its children, otherwise newest first; reversed,
    // each commit comes after its parents. Dates alone do not order history: commits made
    // within one second (scripts, rebases) share a date, and clocks skew.
    let mut commits = Vec::new();
    if !starts.is_empty() {
        for info in repo
            .rev_walk(starts)
            .sorting(gix::revision::walk::Sorting::DateOrder)
            .all()?
        {
            commits.push(info?.id);
        }
    }
    commits.reverse();
    Ok((commits, loose))
}

fn walk_tree(
    repo: &gix::Repository,
    root: ObjectId,
    prefix: &str,
    origin: Option<&Arc<GitOrigin>>,
    excludes: &crate::Excludes,
    seen: &mut gix::hashtable::HashSet<ObjectId>,
    found: &mut dyn FnMut(Blob),
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if !seen.insert(root) {
        return Ok(());
    }
    let mut stack = vec![(root, prefix.to_owned())];
    while let Some((id, dir)) = stack.pop() {
        let tree = repo.find_tree(id)?;
        let decoded = tree.decode()?;
        for e in &decoded.entries {
            let child = e.oid.to_owned();
            // Most entries of a changed tree are objects seen before: no path for them.
            if !(e.mode.is_tree() || e.mode.is_blob_or_symlink()) || seen.contains(&child) {
                continue;
            }
            let name = if dir.is_empty() {
                e.filename.to_string()
            } else {
                format!("{dir}/{}", e.filename)
            };
            // An excluded path is not marked seen: the same object elsewhere is still scanned.
            if !excludes.is_empty() && excludes.excludes(&name) {
                continue;
            }
            seen.insert(child);
            if e.mode.is_tree() {
                stack.push((child, name));
            } else {
                found(Blob {
                    id: child,
                    path: name,
                    origin: origin.cloned(),
                });
            }
        }
    }
    Ok(())
}

fn scan_blob(
    repo: &gix::Repository,
    blob: &Blob,
    scanner: &Scanner<'_>,
    report: &mut ScanReport,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let header = repo.find_header(blob.id)?;
    if header.size() > scanner.options.max_file_size {
        report.skipped_large += 1;
        return Ok(());
    }
    let data = repo.find_blob(blob.id)?;
    let before = report.findings.len();
    scanner.content(&blob.path, &data.data, report);
    for f in &mut report.findings[before..] {
        f.blob = Some(blob.id.to_hex().to_string());
        f.git = blob.origin.as_deref().cloned();
    }
    Ok(())
}
