#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, seeded with the project's own inputs.
#   fuzz/run.sh [SECONDS] [TARGET…]
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Crashes land in
# fuzz/artifacts/TARGET/ and make the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(manifest_yaml people_csv rule_file baseline archive matcher)
# Files of the project's own that each target starts from (copied into its corpus).
seeds() {
  case "$1" in
    manifest_yaml) echo ../README.md ../data/rules/cloud.yaml ;;
    people_csv) echo ../README.md ;;
    rule_file|matcher) ls ../data/rules/*.yaml ;;
    baseline|archive) ;;
  esac
}
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  for f in $(seeds "$t"); do cp "$f" "corpus/$t/seed-$(basename "$f")"; done
  if ! cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
      -max_total_time="$secs" -rss_limit_mb=2560 -timeout=20 -max_len=65536; then
    echo "fuzz target $t failed; see fuzz/artifacts/$t/" >&2
    status=1
  fi
done
exit $status
