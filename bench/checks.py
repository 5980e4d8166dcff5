#!/usr/bin/env python3
"""Posture-check benchmark: every built-in check over a generated register, on SQLite and
PostgreSQL, and one custom Rego check over the same register.

Per backend, on the same generated population (default 1,000,000 NHIs):
  * `keyward check` on a register no check has seen (every finding opens, and is written with
    its ledger entries),
  * `keyward check` again (the steady state: the findings are what they were, only the run is
    recorded), with the default table of the 20 most severe findings,
  * the same with `--format json`, which lists every open finding,
  * `keyward check --policies bench/policies` (the built-ins plus one Rego check,
    `required-tags`), run twice, the second figure reported,
each with wall time, NHIs per second and peak resident memory of the keyward process, printed
against the targets (built-ins within 10 s, peak memory within 1 GB).

Usage: bench/checks.py [--population N] [--backends sqlite,postgres]
PostgreSQL comes from KEYWARD_BENCH_DATABASE_URL, or `.ci/postgres.sh start` when unset.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import register  # noqa: E402  (the shared runners: timed_rss, store_args, PostgreSQL set-up)

REPO = register.REPO
TARGET_SECONDS = 10.0
TARGET_RSS_MB = 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--population", type=int, default=1_000_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--work", default=os.path.join(REPO, "target", "bench-checks"))
    args = ap.parse_args()

    register.sh(["cargo", "build", "--release", "-q", "-p", "keyward", "-p", "keyward-demo", "--bins"], cwd=REPO)
    bin_dir = os.path.join(REPO, "target", "release")
    keyward = os.path.join(bin_dir, "keyward")
    estate = os.path.join(bin_dir, "keyward-estate")
    policies = os.path.join(REPO, "bench", "policies")
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)

    admin = None
    results = {}
    for backend in args.backends.split(","):
        if backend == "postgres":
            admin = register.postgres_admin_url()
            register.drop_earlier_runs(admin)
        r = results.setdefault(backend, {})
        p = register.store_args(backend, args.work, "population", admin)
        t0 = time.perf_counter()
        register.sh([estate, "populate", "--nhis", str(args.population)] + p, stdout=subprocess.DEVNULL)
        r["populate_seconds"] = time.perf_counter() - t0
        check = [keyward] + p + ["check", "--limit", "20"]
        out = os.path.join(args.work, f"{backend}-first.txt")
        with open(out, "wb") as f:
            r["first"] = register.timed_rss(check, stdout=f)
        with open(out) as f:
            m = re.search(r"Findings this run: (\d+) opened", f.read())
        r["opened"] = int(m.group(1)) if m else 0
        with open(os.devnull, "wb") as f:
            r["steady"] = register.timed_rss(check, stdout=f)
            r["json"] = register.timed_rss([keyward] + p + ["check", "--format", "json"], stdout=f)
            rego = check + ["--policies", policies]
            register.timed_rss(rego, stdout=f)
            r["rego"] = register.timed_rss(rego, stdout=f)

    n = args.population
    print()
    print(f"{'backend':<9} {'run':<44} {'wall s':>8} {'NHIs/s':>10} {'peak MB':>8}  vs target")
    for backend, r in results.items():
        rows = [
            ("first", f"check, all findings new ({r['opened']:,} opened)"),
            ("steady", "check again, nothing changed (top 20 table)"),
            ("json", "check again, every finding as JSON"),
            ("rego", "check with one Rego check (second run)"),
        ]
        for key, name in rows:
            s, rss = r[key]
            print(f"{backend:<9} {name:<44} {s:8.2f} {n / s:10,.0f} {rss:8.0f}  "
                  f"{TARGET_SECONDS / s:.2f}x under 10 s, {TARGET_RSS_MB / rss:.2f}x under 1 GB")
        print(f"{backend:<9} {'(setup) load ' + format(n, ',') + ' NHIs':<44} {r['populate_seconds']:8.2f}")
    if "sqlite" in results and "postgres" in results:
        print()
        for key in ("first", "steady", "rego"):
            ratio = results["postgres"][key][0] / results["sqlite"][key][0]
            print(f"postgres/sqlite wall-time ratio, {key}: {ratio:.2f}")
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
