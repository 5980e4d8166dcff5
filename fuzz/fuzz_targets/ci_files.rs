//! GitHub Actions workflows and GitLab CI files, analysed together.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let files = vec![
        (PathBuf::from(".github/workflows/fuzz.yml"), data.to_vec()),
        (PathBuf::from(".gitlab-ci.yml"), data.to_vec()),
    ];
    let _ = keyward_cicd::discover_bytes("fuzz/repo", &files);
});
