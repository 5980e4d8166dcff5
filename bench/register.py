#!/usr/bin/env python3
"""Register benchmark: apply, list and posture on SQLite and PostgreSQL, side by side.

Measures, per backend and on the same generated input:
  * `keyward apply` of 100,000 declared NHIs (100 YAML files) into a fresh store: on SQLite a
    first load, which writes the file directly when nothing else has it open,
  * the same apply into a store already holding one NHI (on SQLite through the write-ahead
    log, and looking every declaration up), and applying the same files again (no change),
  * `keyward inventory list --format json` over 1,000,000 NHIs,
  * `keyward posture` over the same 1,000,000 NHIs,
with wall time, rows per second and peak resident memory of the keyward process, and prints
each figure's ratio to its target and the PostgreSQL/SQLite ratio.

Usage: bench/register.py [--apply N] [--population N] [--backends sqlite,postgres] [--runs N]
PostgreSQL comes from KEYWARD_BENCH_DATABASE_URL, or `.ci/postgres.sh start` when unset.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {"apply": 50_000.0, "list_seconds": 5.0, "rss_mb": 500.0}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed_rss(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (wall seconds, peak resident MiB of that process). Dirty pages the
    setup left are written out first, so the run does not share the disk with their writeback."""
    os.sync()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode()}")
    return secs, usage.ru_maxrss / 1024.0


def postgres_admin_url():
    url = os.environ.get("KEYWARD_BENCH_DATABASE_URL")
    if url:
        return url
    out = sh([os.path.join(REPO, ".ci", "postgres.sh"), "start"], capture_output=True, text=True)
    return out.stdout.strip()


def drop_earlier_runs(admin):
    """Drops the databases earlier runs left (a 1,000,000-NHI population is a few GB)."""
    out = sh(["psql", admin, "-Atc",
              "SELECT datname FROM pg_database WHERE datname LIKE 'keyward\\_bench\\_%'"],
             capture_output=True, text=True)
    for name in out.stdout.split():
        sh(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], stdout=subprocess.DEVNULL)


def fresh_pg_db(admin):
    name = "keyward_bench_" + uuid.uuid4().hex[:12]
    sh(["psql", admin, "-qc", f"CREATE DATABASE {name}"], stdout=subprocess.DEVNULL)
    return admin.rsplit("/", 1)[0] + "/" + name


def store_args(backend, work, label, admin):
    key = os.path.join(work, f"{backend}-{label}.key")
    if backend == "sqlite":
        return ["--db", os.path.join(work, f"{backend}-{label}.db"), "--key", key]
    return ["--database-url", fresh_pg_db(admin), "--key", key]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apply", type=int, default=100_000)
    ap.add_argument("--population", type=int, default=1_000_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--runs", type=int, default=3, help="applies timed per figure (median shown)")
    ap.add_argument("--work", default=os.path.join(REPO, "target", "bench-register"))
    args = ap.parse_args()

    sh(["cargo", "build", "--release", "-q", "-p", "keyward", "-p", "keyward-demo", "--bins"], cwd=REPO)
    bin_dir = os.path.join(REPO, "target", "release")
    keyward = os.path.join(bin_dir, "keyward")
    estate = os.path.join(bin_dir, "keyward-estate")
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    decl = os.path.join(args.work, "declarations")
    sh([estate, "yaml", "--nhis", str(args.apply), "--out", decl])
    size = sum(os.path.getsize(os.path.join(decl, f)) for f in os.listdir(decl))
    print(f"input: {args.apply:,} declarations, {size / 1e6:.1f} MB in {len(os.listdir(decl))} files")

    # One NHI declared before the 100,000, so that apply is not a first load.
    held = os.path.join(args.work, "held.yaml")
    with open(held, "w") as f:
        f.write("apiVersion: keyward/v1\nkind: NonHumanIdentity\nmetadata:\n  name: bench-held\n"
                "spec:\n  kind: iam_role\n  provider: aws\n"
                "  externalId: arn:aws:iam::000000000000:role/bench-held\n")

    admin = None
    results = {}
    for backend in args.backends.split(","):
        if backend == "postgres":
            admin = postgres_admin_url()
            drop_earlier_runs(admin)
        r = results.setdefault(backend, {})
        # Applies run `--runs` times, each into a fresh store (this machine's speed drifts
        # by tens of percent within minutes); the median is reported, with the spread.
        for op, before in (("apply", []), ("apply_nonempty", [held])):
            times = []
            for i in range(args.runs):
                a = store_args(backend, args.work, f"{op}-{i}", admin)
                sh([keyward] + a + ["init"], stdout=subprocess.DEVNULL)
                for f in before:
                    sh([keyward] + a + ["apply", f], stdout=subprocess.DEVNULL)
                times.append(timed_rss([keyward] + a + ["apply", decl]))
            secs, rss = sorted(times)[len(times) // 2]
            r[op] = (secs, args.apply / secs, max(t[1] for t in times))
            r[op + "_spread"] = (min(t[0] for t in times), max(t[0] for t in times))
        secs, rss = timed_rss([keyward] + a + ["apply", decl])
        r["reapply"] = (secs, args.apply / secs, rss)

        p = store_args(backend, args.work, "population", admin)
        t0 = time.perf_counter()
        sh([estate, "populate", "--nhis", str(args.population)] + p, stdout=subprocess.DEVNULL)
        if backend == "postgres":
            # What autovacuum does soon after a bulk load: set the rows' hint bits and the
            # visibility map, so the list measures a register's reads, not the load's aftermath.
            sh(["psql", p[1], "-qc", "VACUUM ANALYZE"], stdout=subprocess.DEVNULL)
        r["populate_seconds"] = time.perf_counter() - t0
        secs, rss = timed_rss([keyward] + p + ["inventory", "list", "--format", "json"])
        r["list"] = (secs, args.population / secs, rss)
        secs, rss = timed_rss([keyward] + p + ["posture", "--format", "json"])
        r["posture"] = (secs, args.population / secs, rss)

    print()
    print(f"{'backend':<9} {'operation':<34} {'wall s':>8} {'rows/s':>12} {'peak MB':>8}  vs target")
    for backend, r in results.items():
        for op, name in (("apply", "apply " + format(args.apply, ",") + " declared NHIs"),
                         ("apply_nonempty", "  the same into a non-empty store"),
                         ("reapply", "  the same again (no change)")):
            s, rate, rss = r[op]
            spread = r.get(op + "_spread")
            runs = f" (median of {args.runs}: {spread[0]:.2f}-{spread[1]:.2f} s)" if spread else ""
            print(f"{backend:<9} {name:<34} {s:8.2f} {rate:12,.0f} {rss:8.0f}  "
                  f"{rate / TARGETS['apply']:.2f}x of 50,000/s{runs}")
        for op in ("list", "posture"):
            s, rate, rss = r[op]
            name = ("inventory list --format json" if op == "list" else "posture") + f" ({args.population:,})"
            print(f"{backend:<9} {name:<34} {s:8.2f} {rate:12,.0f} {rss:8.0f}  "
                  f"{TARGETS['list_seconds'] / s:.2f}x under 5 s, {TARGETS['rss_mb'] / rss:.2f}x under 500 MB")
        print(f"{backend:<9} {'(setup) load ' + format(args.population, ',') + ' NHIs':<34} {r['populate_seconds']:8.2f}")
    if "sqlite" in results and "postgres" in results:
        print()
        for op in ("apply", "list", "posture"):
            ratio = results["postgres"][op][0] / results["sqlite"][op][0]
            print(f"postgres/sqlite wall-time ratio, {op}: {ratio:.2f}")
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
