//! Arbitrary bytes and mutations of valid files never panic: they parse or fail.

use std::path::PathBuf;

use keyward_cicd::{discover_bytes, parse_file};
use proptest::prelude::*;

use crate::github::deploy_workflow;
use crate::support::corpus_dir;

const GITLAB: &str = "include:\n  - local: ci/a.yml\nvariables:\n  X: $DEPLOY_TOKEN\n.t: &t\n  script: [echo $CI_JOB_TOKEN]\njob:\n  <<: *t\n  extends: .t\n  id_tokens: {T: {aud: https://sts.amazonaws.com}}\n  secrets: {S: {vault: a/b@c, token: $T}}\n  script:\n    - !reference [.t, script]\n";

const PATHS: &[&str] = &[
    ".github/workflows/x.yml",
    ".github/actions/a/action.yml",
    ".gitlab-ci.yml",
    "ci/a.yml",
    "sniffed.yaml",
];

fn samples() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = vec![
        (
            PathBuf::from(".github/workflows/deploy.yml"),
            deploy_workflow("0123456789abcdef").into_bytes(),
        ),
        (PathBuf::from(".gitlab-ci.yml"), GITLAB.as_bytes().to_vec()),
    ];
    if let Some(dir) = corpus_dir() {
        for f in ["argo-cd__release.yaml", "ingress-nginx__images.yaml"] {
            out.push((
                PathBuf::from(format!(".github/workflows/{f}")),
                std::fs::read(dir.join(f)).unwrap(),
            ));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        for p in PATHS {
            let _ = parse_file(p.as_ref(), &bytes);
        }
        let files: Vec<(PathBuf, Vec<u8>)> =
            PATHS.iter().map(|p| (PathBuf::from(p), bytes.clone())).collect();
        let _ = discover_bytes("acme/x", &files);
    }

    #[test]
    fn yaml_shaped_noise_never_panics(
        lines in prop::collection::vec(
            prop::sample::select(vec![
                "on: push", "jobs:", "  a:", "    steps:", "      - uses: x/y@v1",
                "        with: {t: '${{ secrets.T }}'}", "    uses: ./.github/workflows/x.yml",
                "    secrets: inherit", "  script: [echo $X_TOKEN]", "  extends: .a",
                ".a: &a", "  <<: *a", "- !reference [.a, script]", "include: ci/a.yml",
                "permissions: write-all", "  environment: prod", "runs:", "  using: composite",
                "\t", "{", "[", "'", "\"", "---", ":", "- - -", "&x", "*x",
            ]),
            0..40,
        )
    ) {
        let text = lines.join("\n");
        let files: Vec<(PathBuf, Vec<u8>)> =
            PATHS.iter().map(|p| (PathBuf::from(p), text.clone().into_bytes())).collect();
        let _ = discover_bytes("acme/x", &files);
    }

    #[test]
    fn mutated_samples_never_panic(
        which in 0usize..4,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let samples = samples();
        let (path, mut bytes) = samples[which % samples.len()].clone();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => {
                    bytes.remove(i);
                }
            }
        }
        let _ = discover_bytes("acme/x", &[(path, bytes)]);
    }
}
