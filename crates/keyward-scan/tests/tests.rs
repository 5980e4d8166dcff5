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
