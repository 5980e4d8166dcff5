//! Times `load_paths` on a generated register: 100 files of 1,000 declarations each.
//!
//! Run with `cargo bench -p keyward-manifest`. The peer, run side by side on the same files, is
//! saphyr's own loader (`MarkedYaml::load_from_str`) on one thread, which only parses and checks
//! nothing; the ratio says how `load_paths` (parallel, fully validated) compares with it.

use std::path::PathBuf;
use std::time::Instant;

use saphyr::{LoadableYamlNode, MarkedYaml};

const FILES: usize = 100;
const PER_FILE: usize = 1_000;
const RUNS: usize = 5;

fn document(i: usize) -> String {
    let t = i % 37;
    format!(
        "---
# Declared by team-{t}; reviewed quarterly.
apiVersion: keyward/v1
kind: NonHumanIdentity
metadata:
  name: service-{i}-deployer
  labels: {{team: team-{t}, tier: backend}}
spec:
  kind: iam_user
  provider: aws
  externalId: arn:aws:iam::123456789012:user/service-{i}-deployer
  environment: production
  owner: owner{t}@example.com
  backupOwner: team:team-{t}
  purpose: Deploys service {i} from CI to production
  privilegeCeiling: [\"s3:PutObject\", \"ecs:UpdateService\"]
  expires: 2027-03-31
  reviewEvery: 90d
  status: active
  lastRotated: 2026-09-01T10:00:00Z
"
    )
}

/// The best of `RUNS` timings of `f`, in seconds.
fn best(
    mut f: impl FnMut() -> Result<(), Box<dyn std::error::Error>>,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mut best = f64::MAX;
    for _ in 0..RUNS {
        let start = Instant::now();
        f()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut texts = Vec::with_capacity(FILES);
    for f in 0..FILES {
        let text: String = (0..PER_FILE).map(|d| document(f * PER_FILE + d)).collect();
        std::fs::write(dir.path().join(format!("team-{f:03}.yaml")), &text)?;
        texts.push(text);
    }
    let megabytes = texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    let paths: [PathBuf; 1] = [dir.path().to_path_buf()];

    let ours = best(|| {
        let set = keyward_manifest::load_paths(&paths)?;
        assert_eq!(set.nhis.len(), FILES * PER_FILE);
        Ok(())
    })?;
    let peer = best(|| {
        for text in &texts {
            assert_eq!(MarkedYaml::load_from_str(text)?.len(), PER_FILE);
        }
        Ok(())
    })?;

    println!(
        "{} declarations, {megabytes:.1} MB, best of {RUNS}, {} threads available",
        FILES * PER_FILE,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!(
        "keyward_manifest::load_paths   {ours:.3} s  {:>5.0} MB/s",
        megabytes / ours
    );
    println!(
        "saphyr MarkedYaml (1 thread)   {peer:.3} s  {:>5.0} MB/s",
        megabytes / peer
    );
    println!("ratio (peer / ours)            {:.2}", peer / ours);
    Ok(())
}
