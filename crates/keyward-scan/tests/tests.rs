//! Scanning real files: what is read, skipped, suppressed and reported, and that no output
//! holds a secret's value.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use std::path::Path;

use keyward_model::{FingerprintKey, Fingerprinter};
use keyward_rules::{Confidence, RuleSet};
use keyward_scan::{ScanOptions, ScanReport, scan};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A GitHub token with a valid checksum, made here so the repository holds none.
fn github_token(seed: u64) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let random: String = (0..30)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            BASE62[((x >> 33) % 62) as usize] as char
        })
        .collect();
    let mut crc = crc32(random.as_bytes());
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    format!(
        "ghp_{random}{}",
        String::from_utf8(digits.to_vec()).unwrap()
    )
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn write(root: &Path, name: &str, text: &[u8]) {
    let p = root.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn run(root: &Path, options: &ScanOptions) -> ScanReport {
    let rules = RuleSet::builtin().unwrap();
    let fp = Fingerprinter::new(FingerprintKey::from_bytes([7; 32]));
    scan(&[root.to_path_buf()], &rules, &fp, options).unwrap()
}

#[test]
fn finds_reports_and_never_echoes_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let token = github_token(1);
    let other = github_token(2);
    write(
        root,
        "src/deploy.py",
        format!("import os\n\nTOKEN = \"{token}\"\n").as_bytes(),
    );
    write(root, "ci/env.sh", format!("export GH={token}\n").as_bytes());
    write(
        root,
        "src/ok.py",
        format!("T = \"{other}\"  # keyward:allow\n").as_bytes(),
    );
    write(
        root,
        "tests/fixtures/env",
        format!("GH={other}\n").as_bytes(),
    );
    write(root, "build/out.txt", format!("{other}\n").as_bytes());
    write(root, ".gitignore", b"build/\n");
    write(root, "vendored/x.txt", format!("{other}\n").as_bytes());
    write(root, ".keywardignore", b"vendored/\n");
    write(
        root,
        "logo.png",
        &[b"\x89PNG\0\0".as_slice(), token.as_bytes()].concat(),
    );
    write(
        root,
        "big.log",
        format!("{}{token}\n", "x".repeat(2000)).as_bytes(),
    );

    let report = run(
        root,
        &ScanOptions {
            max_file_size: 1000,
            threads: 2,
            ..ScanOptions::default()
        },
    );
    let found: Vec<(String, usize, usize, Confidence)> = report
        .findings
        .iter()
        .map(|f| {
            let rel = Path::new(&f.path)
                .strip_prefix(root)
                .unwrap()
                .display()
                .to_string();
            (rel, f.line, f.column, f.confidence)
        })
        .collect();
    assert_eq!(
        found,
        [
            ("ci/env.sh".to_owned(), 1, 11, Confidence::High),
            ("src/deploy.py".to_owned(), 3, 10, Confidence::High),
            ("tests/fixtures/env".to_owned(), 1, 4, Confidence::Medium),
        ]
    );
    let f = &report.findings[0];
    assert_eq!(f.provider, "github");
    assert_eq!(f.preview, format!("ghp_…({})", token.len()));
    // The same secret in two places has one fingerprint; another secret has another.
    assert_eq!(
        report.findings[0].fingerprint,
        report.findings[1].fingerprint
    );
    assert_ne!(
        report.findings[0].fingerprint,
        report.findings[2].fingerprint
    );
    assert_eq!(report.allowed, 1);
    assert_eq!(report.skipped_binary, 1);
    assert_eq!(report.skipped_large, 1);
    // .gitignore, .keywardignore and the two files they cover are not read; the rest are.
    assert_eq!(report.files, 6);
    let json = serde_json_like(&report);
    for secret in [&token, &other] {
        assert!(!json.contains(secret.as_str()));
        assert!(!json.contains(&secret[4..]));
    }
}

/// Every string the report holds, joined, as any output format would print them.
fn serde_json_like(r: &ScanReport) -> String {
    r.findings
        .iter()
        .map(|f| format!("{f:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_missing_path_is_an_error_naming_it() {
    let rules = RuleSet::builtin().unwrap();
    let fp = Fingerprinter::new(FingerprintKey::from_bytes([7; 32]));
    let e = scan(
        &["/no/such/dir".into()],
        &rules,
        &fp,
        &ScanOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with("cannot read `/no/such/dir`"),
        "{e}"
    );
}

fn git(repo: &Path, args: &[&str], date: &str) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "Dana Dev")
        .env("GIT_AUTHOR_EMAIL", "dana@example.com")
        .env("GIT_COMMITTER_NAME", "Dana Dev")
        .env("GIT_COMMITTER_EMAIL", "dana@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap_or_else(|e| panic!("git is needed to build test repositories: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn commit_all(repo: &Path, msg: &str, date: &str) -> String {
    git(repo, &["add", "-A"], date);
    git(repo, &["commit", "-q", "-m", msg], date);
    git(repo, &["rev-parse", "HEAD"], date)
}

#[test]
fn history_reports_the_commit_that_introduced_a_deleted_secret() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let token = github_token(3);
    let branch_token = github_token(4);
    git(repo, &["init", "-q", "-b", "main"], "2026-01-01T00:00:00Z");
    write(repo, "app/config.py", b"DEBUG = True\n");
    write(repo, "README.md", b"# app\n");
    commit_all(repo, "start", "2026-01-01T10:00:00Z");
    write(
        repo,
        "app/config.py",
        format!("DEBUG = True\nGH = \"{token}\"\n").as_bytes(),
    );
    let leak = commit_all(repo, "add token", "2026-01-02T10:00:00Z");
    // A later revision that still holds it is the same secret at the same path: no new finding.
    write(
        repo,
        "app/config.py",
        format!("DEBUG = False\nGH = \"{token}\"\n").as_bytes(),
    );
    commit_all(repo, "edit", "2026-01-02T12:00:00Z");
    // The same content committed again elsewhere is the same blob: reported once.
    write(
        repo,
        "app/copy.py",
        format!("DEBUG = True\nGH = \"{token}\"\n").as_bytes(),
    );
    commit_all(repo, "copy", "2026-01-03T10:00:00Z");
    write(repo, "app/config.py", b"DEBUG = True\n");
    std::fs::remove_file(repo.join("app/copy.py")).unwrap();
    commit_all(repo, "remove token", "2026-01-04T10:00:00Z");
    git(
        repo,
        &["checkout", "-q", "-b", "feature"],
        "2026-01-05T00:00:00Z",
    );
    write(
        repo,
        "deploy.sh",
        format!("export T={branch_token}\n").as_bytes(),
    );
    let branch = commit_all(repo, "branch work", "2026-01-05T10:00:00Z");
    git(repo, &["checkout", "-q", "main"], "2026-01-06T00:00:00Z");
    git(
        repo,
        &["tag", "-a", "v1", "-m", "release"],
        "2026-01-06T00:00:00Z",
    );
    // Packed objects read the same as loose ones.
    git(repo, &["gc", "-q"], "2026-01-06T00:00:00Z");
    std::fs::remove_dir_all(repo.join("app")).unwrap();

    let rules = RuleSet::builtin().unwrap();
    let fp = Fingerprinter::new(FingerprintKey::from_bytes([7; 32]));
    let r = keyward_scan::scan_git(repo, &rules, &fp, &ScanOptions::default()).unwrap();
    let got: Vec<(String, usize, String, String, String)> = r
        .findings
        .iter()
        .map(|f| {
            let g = f.git.clone().unwrap();
            (
                f.path.clone(),
                f.line,
                g.commit,
                g.author,
                g.date.to_rfc3339(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "app/config.py".to_owned(),
                2,
                leak,
                "Dana Dev <dana@example.com>".to_owned(),
                "2026-01-02T10:00:00+00:00".to_owned()
            ),
            (
                "deploy.sh".to_owned(),
                1,
                branch,
                "Dana Dev <dana@example.com>".to_owned(),
                "2026-01-05T10:00:00+00:00".to_owned()
            ),
        ]
    );
    assert!(
        r.findings
            .iter()
            .all(|f| f.blob.as_ref().is_some_and(|b| b.len() == 40))
    );
    // Blobs: three versions of config.py, README.md and deploy.sh (copy.py is one of config.py's).
    assert_eq!(r.files, 5);
    // Excluded paths are not read from history either.
    let options = ScanOptions {
        excludes: keyward_scan::Excludes::new(&["*.sh".to_owned()]).unwrap(),
        ..ScanOptions::default()
    };
    let r2 = keyward_scan::scan_git(repo, &rules, &fp, &options).unwrap();
    assert_eq!((r2.findings.len(), r2.files), (1, 4));
    let e = keyward_scan::scan_git(&repo.join("nowhere"), &rules, &fp, &ScanOptions::default())
        .unwrap_err();
    assert!(
        e.to_string().starts_with("cannot read the git history of"),
        "{e}"
    );
}

#[test]
fn history_order_follows_ancestry_not_dates() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let (first, second) = (github_token(6), github_token(7));
    git(repo, &["init", "-q", "-b", "main"], "2026-01-01T00:00:00Z");
    // Three commits within one second: the secret's commit is the first, whatever the ids.
    write(repo, "a.py", format!("T = \"{first}\"\n").as_bytes());
    let leak = commit_all(repo, "leak", "2026-02-01T10:00:00Z");
    write(repo, "b.py", b"x = 1\n");
    commit_all(repo, "more", "2026-02-01T10:00:00Z");
    write(repo, "c.py", b"y = 2\n");
    commit_all(repo, "and more", "2026-02-01T10:00:00Z");
    // A clock set wrong: a commit dated a month before its parent still comes after it.
    write(repo, "d.py", format!("U = \"{second}\"\n").as_bytes());
    let skewed_parent = commit_all(repo, "leak again", "2026-03-01T10:00:00Z");
    write(repo, "e.py", b"z = 3\n");
    commit_all(repo, "from a wrong clock", "2026-01-15T10:00:00Z");

    let rules = RuleSet::builtin().unwrap();
    let fp = Fingerprinter::new(FingerprintKey::from_bytes([7; 32]));
    let r = keyward_scan::scan_git(repo, &rules, &fp, &ScanOptions::default()).unwrap();
    let got: Vec<(&str, &str)> = r
        .findings
        .iter()
        .map(|f| (f.path.as_str(), f.git.as_ref().unwrap().commit.as_str()))
        .collect();
    assert_eq!(
        got,
        [("a.py", leak.as_str()), ("d.py", skewed_parent.as_str())]
    );
}

fn sarif_schema() -> Option<serde_json::Value> {
    keyward_scan::testing::sarif_schema().unwrap()
}

#[test]
fn sarif_output_validates_against_the_official_schema() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let token = github_token(5);
    git(repo, &["init", "-q", "-b", "main"], "2026-01-01T00:00:00Z");
    write(
        repo,
        "src/my app/deploy.py",
        format!("GH = \"{token}\"\n").as_bytes(),
    );
    write(
        repo,
        "tests/env",
        format!("GH={}\n", github_token(6)).as_bytes(),
    );
    commit_all(repo, "leak", "2026-01-02T10:00:00Z");
    let rules = RuleSet::builtin().unwrap();
    let fp = Fingerprinter::new(FingerprintKey::from_bytes([7; 32]));
    let files = scan(&[repo.to_path_buf()], &rules, &fp, &ScanOptions::default()).unwrap();
    let history = keyward_scan::scan_git(repo, &rules, &fp, &ScanOptions::default()).unwrap();
    assert_eq!((files.findings.len(), history.findings.len()), (2, 2));
    // The work tree is read, git's own object store is not.
    assert_eq!((files.files, files.skipped_binary), (2, 0));
    let log = keyward_scan::sarif(&history.findings, &rules, "0.1.0");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/my%20app/deploy.py"
    );
    assert_eq!(
        result["partialFingerprints"][keyward_scan::FINGERPRINT_KEY],
        history.findings[0].fingerprint
    );
    assert_eq!(result["properties"]["date"], "2026-01-02T10:00:00+00:00");
    assert!(!log.to_string().contains(&token));
    let Some(schema) = sarif_schema() else {
        return;
    };
    let validator = jsonschema::validator_for(&schema).unwrap();
    for log in [
        keyward_scan::sarif(&files.findings, &rules, "0.1.0"),
        log,
        keyward_scan::sarif(&[], &rules, "0.1.0"),
    ] {
        let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
    // The validator is not lenient: a wrong version and a line 0 are refused.
    let mut bad = keyward_scan::sarif(&files.findings, &rules, "0.1.0");
    bad["version"] = "2.0.0".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = keyward_scan::sarif(&files.findings, &rules, "0.1.0");
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!validator.is_valid(&bad));
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in files {
        w.start_file(*name, opts).unwrap();
        std::io::Write::write_all(&mut w, data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_gz_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, name, *data).unwrap();
    }
    t.into_inner().unwrap().finish().unwrap()
}

#[test]
fn archives_are_read_inside_within_their_limits() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let token = github_token(7);
    let inner = zip_of(&[("conf/app.env", format!("GH={token}\n").as_bytes())]);
    write(
        root,
        "release.tar.gz",
        &tar_gz_of(&[("dist/bundle.jar", &inner), ("README", b"hi\n")]),
    );
    write(root, "broken.zip", b"PK\x03\x04 not really a zip");
    let report = run(root, &ScanOptions::default());
    let found: Vec<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(found.len(), 1, "{report:?}");
    assert!(
        found[0].ends_with("release.tar.gz!dist/bundle.jar!conf/app.env"),
        "{}",
        found[0]
    );
    assert_eq!(report.archives, 3, "{report:?}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("broken.zip: not read as an archive")),
        "{:?}",
        report.warnings
    );

    // One level only: the jar inside is not opened, and says so.
    let shallow = run(
        root,
        &ScanOptions {
            archive_depth: 1,
            ..ScanOptions::default()
        },
    );
    assert!(shallow.findings.is_empty());
    assert!(
        shallow
            .warnings
            .iter()
            .any(|w| w.contains("bundle.jar: not opened")),
        "{:?}",
        shallow.warnings
    );
    // An unpacking budget smaller than the jar skips it.
    let small = run(
        root,
        &ScanOptions {
            max_archive_bytes: 16,
            ..ScanOptions::default()
        },
    );
    assert!(small.findings.is_empty());
    assert!(
        small
            .warnings
            .iter()
            .any(|w| w.contains("unpacks to more than 16 bytes")),
        "{:?}",
        small.warnings
    );
    // Not opening archives at all.
    let none = run(
        root,
        &ScanOptions {
            archive_depth: 0,
            ..ScanOptions::default()
        },
    );
    assert!(none.findings.is_empty());
}

#[test]
fn the_two_halves_of_an_aws_key_are_paired() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let id = format!("AKIA{}", "RX4MZQ7TW2KJ5NBV");
    let secret = format!("{}{}", "q8Z3mT7vK2pX9wR4nL6yB1", "cF5hJ0dS8gA3eU7iO2");
    write(
        root,
        "aws.env",
        format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n").as_bytes(),
    );
    write(
        root,
        "alone.env",
        format!("AWS_ACCESS_KEY_ID={id}\n").as_bytes(),
    );
    let r = run(root, &ScanOptions::default());
    let in_pair: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.path.ends_with("aws.env"))
        .collect();
    assert_eq!(in_pair.len(), 2, "{r:?}");
    assert_eq!(
        in_pair[0].paired_with.as_ref(),
        Some(&in_pair[1].fingerprint)
    );
    assert_eq!(
        in_pair[1].paired_with.as_ref(),
        Some(&in_pair[0].fingerprint)
    );
    let alone = r
        .findings
        .iter()
        .find(|f| f.path.ends_with("alone.env"))
        .unwrap();
    assert_eq!(alone.paired_with, None);
}
