#!/usr/bin/env bash
# Fetches the official SARIF 2.1.0 schema (as shipped in Microsoft's @microsoft/jest-sarif npm
# package) into target/sarif-schema/ and prints its path, for the SARIF validation test:
#   export KEYWARD_SARIF_SCHEMA=$(.ci/sarif-schema.sh)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir="$repo/target/sarif-schema"
schema="$dir/sarif-2.1.0-rtm.5.json"
if [ ! -s "$schema" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null)
  tar -xzf "$dir"/microsoft-jest-sarif-1.0.0-beta.0.tgz -C "$dir" package/lib/schemas/sarif-2.1.0-rtm.5.json
  mv "$dir/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$schema"
  rm -rf "$dir/package" "$dir"/microsoft-jest-sarif-*.tgz
fi
echo "$schema"
