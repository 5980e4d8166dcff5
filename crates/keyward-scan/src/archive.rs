//! Reading inside archives (zip and its relatives, tar, tar.gz), nested up to a depth and up to
//! a number of bytes unpacked, so an archive bomb costs a bounded amount of work.
//!
//! An entry is labelled `outer.zip!inner/path`; archives inside archives add another `!`.

use std::io::Read;

use crate::{ScanOptions, ScanReport, Scanner};

/// What kind of archive a name says a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Zip,
    Tar,
    TarGz,
}

/// The archive kind of a file name, if it names one.
pub(crate) fn kind_of(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if [".tar.gz", ".tgz"].iter().any(|e| lower.ends_with(e)) {
        Some(Kind::TarGz)
    } else if lower.ends_with(".tar") {
        Some(Kind::Tar)
    } else if [
        ".zip", ".jar", ".war", ".ear", ".whl", ".nupkg", ".apk", ".aar",
    ]
    .iter()
    .any(|e| lower.ends_with(e))
    {
        Some(Kind::Zip)
    } else {
        None
    }
}

/// How much unpacking is left for one archive on disk and everything inside it.
pub(crate) struct Budget {
    pub bytes_left: u64,
}

/// Scans every regular file inside `data` with `scanner`, one level deeper; problems (a corrupt
/// archive, an exhausted budget) become warnings on `report`, never a failed scan.
pub(crate) fn entries(
    scanner: &Scanner<'_>,
    label: &str,
    data: &[u8],
    kind: Kind,
    depth: usize,
    budget: &mut Budget,
    report: &mut ScanReport,
) {
    report.archives += 1;
    let at = Level { label, depth };
    let result = match kind {
        Kind::Zip => zip_entries(scanner, at, data, budget, report),
        Kind::Tar => tar_entries(scanner, at, data, budget, report),
        Kind::TarGz => tar_entries(
            scanner,
            at,
            flate2::read::GzDecoder::new(data),
            budget,
            report,
        ),
    };
    if let Err(e) = result {
        report
            .warnings
            .push(format!("{label}: not read as an archive: {e}"));
    }
}

/// Which archive is being read, and how deep it lies.
#[derive(Clone, Copy)]
struct Level<'a> {
    label: &'a str,
    depth: usize,
}

/// Reads one entry of at most the size limit and the budget; `None` (with a warning) past them.
fn take(
    label: &str,
    mut r: impl Read,
    size: u64,
    options: &ScanOptions,
    budget: &mut Budget,
    report: &mut ScanReport,
) -> std::io::Result<Option<Vec<u8>>> {
    if size > options.max_file_size {
        report.skipped_large += 1;
        return Ok(None);
    }
    if size > budget.bytes_left {
        report.warnings.push(format!(
            "{label}: skipped: the archive unpacks to more than {} bytes",
            options.max_archive_bytes
        ));
        budget.bytes_left = 0;
        return Ok(None);
    }
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // Never trust the declared size: read at most one byte more than it.
    r.by_ref().take(size + 1).read_to_end(&mut buf)?;
    budget.bytes_left = budget.bytes_left.saturating_sub(buf.len() as u64);
    Ok(Some(buf))
}

fn zip_entries(
    scanner: &Scanner<'_>,
    at: Level<'_>,
    data: &[u8],
    budget: &mut Budget,
    report: &mut ScanReport,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data))?;
    for i in 0..zip.len() {
        let entry = zip.by_index(i)?;
        if !entry.is_file() {
            continue;
        }
        let inner = format!("{}!{}", at.label, entry.name()?);
        let size = entry.size();
        if let Some(bytes) = take(&inner, entry, size, scanner.options, budget, report)? {
            scanner.nested(&inner, &bytes, at.depth + 1, budget, report);
        }
    }
    Ok(())
}

fn tar_entries(
    scanner: &Scanner<'_>,
    at: Level<'_>,
    data: impl Read,
    budget: &mut Budget,
    report: &mut ScanReport,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut tar = tar::Archive::new(data);
    for entry in tar.entries()? {
        let entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let inner = format!("{}!{}", at.label, entry.path()?.display());
        let size = entry.size();
        if let Some(bytes) = take(&inner, entry, size, scanner.options, budget, report)? {
            scanner.nested(&inner, &bytes, at.depth + 1, budget, report);
        }
    }
    Ok(())
}
