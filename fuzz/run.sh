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
[ ${#targets[@]} -gt 0 ] || targets=(manifest_yaml people_csv rule_file baseline archive matcher
  aws_auth_details aws_credential_report cloudtrail k8s_audit k8s_manifests ci_files x509 ssh gcp azure openbao_snapshot)
corpus=${KEYWARD_CORPUS:-../../shared/corpus}
# Files of the project's own that each target starts from (copied into its corpus).
seeds() {
  case "$1" in
    manifest_yaml) echo ../README.md ../data/rules/cloud.yaml ;;
    people_csv) echo ../README.md ;;
    rule_file|matcher) ls ../data/rules/*.yaml ;;
    baseline|archive) ;;
    # Real-format samples from public projects (see ../../shared/corpus/README.md).
    aws_auth_details) ls "$corpus"/aws/authorization-details/*.json ;;
    aws_credential_report) ls "$corpus"/aws/credential-report/*.csv ;;
    cloudtrail) find "$corpus"/aws/cloudtrail -name '*.json' ;;
    k8s_audit) find "$corpus"/k8s/audit -name '*.json' | head -n 20 ;;
    k8s_manifests) find "$corpus"/k8s -maxdepth 2 -name '*.yaml' ;;
    ci_files) ls "$corpus"/ci/github-actions/* ;;
    x509) find "$corpus"/x509 -name '*.pem' | head -n 30 ;;
    ssh) find "$corpus"/ssh -type f | head -n 30 ;;
    gcp) ls "$corpus"/gcp/cai/* "$corpus"/gcp/credentials/*.json ;;
    azure|openbao_snapshot) ;;
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
