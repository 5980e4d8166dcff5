//! Scanning a repository's history: every blob reachable from every ref, read once.
//!
//! Commits are visited oldest first; each tree and blob not seen before is walked and recorded
//! with the commit, author, date and path where it first appears, so a secret committed once
//! and deleted later is reported against the commit that introduced it. Trees already seen are
//! not walked again, so the cost follows the number of distinct objects, not of commits.

use std::collections::HashSet;
use std::path::Path;

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
    origin: Option<usize>,
}

fn git_error(path: &Path, e: impl std::fmt::Display) -> ScanError {
    ScanError::Git {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Scans the history of the repository at `path`.
pub fn scan_git(
    path: &Path,
    rules: &RuleSet,
    fingerprints: &Fingerprinter,
    options: &ScanOptions,
) -> Result<ScanReport, ScanError> {
    let err = |e: &dyn std::fmt::Display| git_error(path, e);
    let repo = gix::open(path).map_err(|e| err(&e))?;
    let (commits, loose) = tips(&repo).map_err(|e| err(&e))?;
    let mut origins: Vec<GitOrigin> = Vec::with_capacity(commits.len());
    let mut blobs: Vec<Blob> = Vec::new();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    for (label, id, kind) in loose {
        match kind {
            gix::object::Kind::Blob if seen.insert(id) => blobs.push(Blob {
                id,
                path: label,
                origin: None,
            }),
            gix::object::Kind::Tree => {
                walk_tree(
                    &repo,
                    id,
                    &label,
                    None,
                    &options.excludes,
                    &mut seen,
                    &mut blobs,
                )
                .map_err(|e| err(&e))?;
            }
            _ => {}
        }
    }
    for id in commits {
        let commit = repo.find_commit(id).map_err(|e| err(&e))?;
        let tree = commit.tree_id().map_err(|e| err(&e))?.detach();
        if seen.contains(&tree) {
            continue;
        }
        let author = commit.author().map_err(|e| err(&e))?;
        let seconds = author.time().map_or(0, |t| t.seconds);
        origins.push(GitOrigin {
            commit: id.to_hex().to_string(),
            author: format!("{} <{}>", author.name, author.email),
            date: DateTime::from_timestamp(seconds, 0).unwrap_or_default(),
        });
        let at = origins.len() - 1;
        walk_tree(
            &repo,
            tree,
            "",
            Some(at),
            &options.excludes,
            &mut seen,
            &mut blobs,
        )
        .map_err(|e| err(&e))?;
    }

    options
        .progress
        .blobs_total
        .store(blobs.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let shared = repo.into_sync();
    let threads = options.threads.max(1).min(blobs.len().max(1));
    let chunk = blobs.len().div_ceil(threads).max(1);
    let results: Vec<Result<ScanReport, ScanError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = blobs
            .chunks(chunk)
            .map(|part| {
                let shared = &shared;
                let origins = &origins;
                scope.spawn(move || {
                    let repo = shared.to_thread_local();
                    let mut report = ScanReport::default();
                    for b in part {
                        scan_blob(&repo, b, origins, rules, fingerprints, options, &mut report)
                            .map_err(|e| git_error(path, e))?;
                    }
                    Ok(report)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(git_error(path, "a scanning thread stopped")))
            })
            .collect()
    });
    let mut total = ScanReport::default();
    for r in results {
        merge(&mut total, r?);
    }
    first_sightings(&mut total, &blobs);
    total.sort();
    Ok(total)
}

/// Keeps, for each secret at each path, the blob that brought it there first: later revisions
/// of a file that still hold the same secret add no finding. Blobs are listed in history order.
fn first_sightings(report: &mut ScanReport, blobs: &[Blob]) {
    let order: std::collections::HashMap<String, usize> = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id.to_hex().to_string(), i))
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
    let mut commits: Vec<(i64, ObjectId)> = Vec::new();
    if !starts.is_empty() {
        for info in repo.rev_walk(starts).all()? {
            let info = info?;
            let time = repo.find_commit(info.id)?.time().map_or(0, |t| t.seconds);
            commits.push((time, info.id));
        }
    }
    commits.sort();
    Ok((commits.into_iter().map(|(_, id)| id).collect(), loose))
}

fn walk_tree(
    repo: &gix::Repository,
    root: ObjectId,
    prefix: &str,
    origin: Option<usize>,
    excludes: &crate::Excludes,
    seen: &mut HashSet<ObjectId>,
    blobs: &mut Vec<Blob>,
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
            let name = if dir.is_empty() {
                e.filename.to_string()
            } else {
                format!("{dir}/{}", e.filename)
            };
            // An excluded path is not marked seen: the same object elsewhere is still scanned.
            if !excludes.is_empty() && excludes.excludes(&name) {
                continue;
            }
            if e.mode.is_tree() {
                if seen.insert(child) {
                    stack.push((child, name));
                }
            } else if e.mode.is_blob_or_symlink() && seen.insert(child) {
                blobs.push(Blob {
                    id: child,
                    path: name,
                    origin,
                });
            }
        }
    }
    Ok(())
}

fn scan_blob(
    repo: &gix::Repository,
    blob: &Blob,
    origins: &[GitOrigin],
    rules: &RuleSet,
    fingerprints: &Fingerprinter,
    options: &ScanOptions,
    report: &mut ScanReport,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let header = repo.find_header(blob.id)?;
    if header.size() > options.max_file_size {
        report.skipped_large += 1;
        return Ok(());
    }
    let data = repo.find_blob(blob.id)?;
    let before = report.findings.len();
    Scanner {
        rules,
        fingerprints,
        options,
    }
    .content(&blob.path, &data.data, report);
    let origin = blob.origin.and_then(|i| origins.get(i));
    for f in &mut report.findings[before..] {
        f.blob = Some(blob.id.to_hex().to_string());
        f.git = origin.cloned();
    }
    Ok(())
}
