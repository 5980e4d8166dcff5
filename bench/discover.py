#!/usr/bin/env python3
"""Discovery benchmark: CloudTrail ingest throughput, and AWS IAM authorization details against
cloudsplaining (speed, and which principals each calls admin).

CloudTrail. `keyward-estate cloudtrail` writes --cloudtrail-mb MB (default 1,000) of
uncompressed S3 delivery files of --file-mb MB each (default 10), one account's
`{"Records":[…]}` document per file under `AWSLogs/<account>/CloudTrail/<region>/<y>/<m>/<d>/`,
as an organization trail delivers them. The corpus is cached under target/bench-discover/ with
its parameters and reused by later runs. The page cache is warmed by reading it once; then,
--repeat times (default 3), `keyward --db <fresh> init` and a timed
`keyward --db <fresh> discover cloudtrail DIR`: wall seconds, MB/s of uncompressed JSON (10^6
bytes), its ratio to the 200 MB/s target, CPU seconds and peak RSS (ru_maxrss of the process).
Median and spread are printed: this machine's speed varies by up to 40% within a session.

Authorization details. `keyward-estate auth-details` writes --roles roles (default 10,000)
and --users users (default 5,000), with admins planted at known places (FILE.admins.json).
Timed: `keyward discover aws --auth-details FILE` into a fresh store, and cloudsplaining (PyPI,
0.9.1 pinned, in target/bench-discover/venv) `scan --input-file FILE --output DIR
--skip-open-report` (it always renders its HTML report too), once with its default exclusions (which skip the AdministratorAccess
policy, service-role paths and more) and once with an exclusions file that excludes nothing.
cloudsplaining reads policy documents only as JSON objects, as the AWS CLI and boto3 write
them; the generator URL-encodes a quarter of the inline ones as the raw IAM API returns them,
so cloudsplaining gets a copy with those decoded (Keyward reads the original; the copy is made
untimed). The same comparison runs on the real sample
/work/shared/corpus/aws/authorization-details/cloudsplaining-example.json (no planted admins,
no timing target).

Admin, per tool:
  * Keyward: NHIs whose `aws-iam` observation has the fact `admin: true`, read from the SQLite
    store (tables `nhis` and `observations`).
  * cloudsplaining has no admin verdict. Taken as admin: a user or role (not excluded) with a
    policy of its own or of one of its groups whose `ServiceWildcard` finding covers every
    service prefix policy_sentry knows, which is what an Allow of `*` without a condition
    produces (cloudsplaining's PolicyDocument.service_wildcard). The `*:*` spelling is
    reported by it as the single service `*`; it is counted as admin too.

Writes target/bench-discover/results.json (results-quick.json with --quick, results-<part>.json
for one part). Standard library only; cloudsplaining is installed by pip into the venv (--venv
to use another).

Usage: bench/discover.py [--cloudtrail-mb 1000] [--roles 10000] [--users 5000] [--repeat 3]
       bench/discover.py --quick        # 100 MB, 1,000 roles, 500 users, 2 repeats
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(REPO, "target", "bench-discover")
BIN = os.path.join(REPO, "target", "release")
KEYWARD = os.path.join(BIN, "keyward")
ESTATE = os.path.join(BIN, "keyward-estate")
SAMPLE = "/work/shared/corpus/aws/authorization-details/cloudsplaining-example.json"
TARGET_MBS = 200.0
CLOUDSPLAINING_PIN = "0.9.1"  # the version this script was written against; --unpinned takes the newest


def log(msg=""):
    print(msg, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


class Run:
    """Wall and CPU seconds and peak RSS (MiB) of one measured process."""

    def __init__(self, wall, cpu, rss, code, stderr):
        self.wall, self.cpu, self.rss, self.code, self.stderr = wall, cpu, rss, code, stderr


def measured(cmd, stdout=subprocess.DEVNULL, cwd=None, env=None, timeout=None, ok=(0,)):
    """Runs cmd, returning its Run; the peak RSS is the child's ru_maxrss (from wait4)."""
    err_path = os.path.join(WORK, "last-stderr.txt")
    with open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                                env=env)
        deadline = None if timeout is None else t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()  # the process this run started, by its id
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - t0
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    with open(err_path, "rb") as f:
        tail = f.read()[-3000:].decode("utf-8", "replace")
    if code not in ok:
        sys.exit(f"failed ({code}): {' '.join(cmd)}\n{tail}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, code, tail)


def spread(values):
    return f"{min(values):.2f}–{max(values):.2f}" if len(values) > 1 else f"{values[0]:.2f}"


def table(headers, rows):
    cols = list(zip(*([headers] + [[str(c) for c in r] for r in rows])))
    widths = [max(len(c) for c in col) for col in cols]
    fmt = lambda cells: "  ".join(  # noqa: E731
        f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths)] + [fmt([str(c) for c in r]) for r in rows])


# --------------------------------------------------------------------------------------------
# Keyward


def fresh_store(name):
    """(--db, --key) arguments of a new, initialised SQLite store under WORK."""
    db = os.path.join(WORK, f"{name}.db")
    for p in (db, db + "-wal", db + "-shm", db[:-3] + ".key"):
        if os.path.exists(p):
            os.remove(p)
    args = ["--db", db, "--key", db[:-3] + ".key"]
    sh([KEYWARD] + args + ["init"], stdout=subprocess.DEVNULL)
    return args, db


def keyward_admins(db):
    """External ids (ARNs) of the NHIs whose aws-iam observation says admin: true."""
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT n.external_id, o.facts FROM observations o JOIN nhis n ON n.id = o.nhi_id "
            "WHERE o.source = 'aws-iam' AND o.gone_at IS NULL").fetchall()
    finally:
        con.close()
    seen = {arn for arn, _ in rows}
    return {arn for arn, facts in rows if json.loads(facts).get("admin") is True}, seen


# --------------------------------------------------------------------------------------------
# cloudsplaining


def setup_venv(path, unpinned=False):
    py = os.path.join(path, "bin", "python")
    if not os.path.isfile(py):
        log(f"creating venv {os.path.relpath(path, REPO)}")
        sh([sys.executable, "-m", "venv", path])

    def version():
        return subprocess.run([py, "-c", "import importlib.metadata as m; print(m.version('cloudsplaining'))"],
                              capture_output=True, text=True).stdout.strip()

    have = version()
    if not have or (not unpinned and have != CLOUDSPLAINING_PIN):
        spec = "cloudsplaining" if unpinned else f"cloudsplaining=={CLOUDSPLAINING_PIN}"
        log(f"pip install {spec}")
        sh([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", spec])
        have = version()
    prefixes = int(subprocess.run(
        [py, "-c", "from policy_sentry.querying.all import get_all_service_prefixes as g; print(len(g()))"],
        capture_output=True, text=True, check=True).stdout.strip())
    return os.path.join(path, "bin", "cloudsplaining"), have, prefixes


NO_EXCLUSIONS = """# Excludes nothing: every policy, role, user and group is evaluated.
policies: [""]
roles: [""]
users: [""]
groups: [""]
exclude-actions: [""]
include-actions: ["s3:GetObject", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
                  "secretsmanager:GetSecretValue", "rds:CopyDBSnapshot", "rds:CreateDBSnapshot"]
known-accounts: [""]
"""


def cloudsplaining_run(binary, doc, label, exclusions, timeout):
    """Runs cloudsplaining on doc; returns (Run, path of its iam-results JSON)."""
    out = os.path.join(WORK, f"cloudsplaining-{label}")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    cmd = [binary, "scan", "--input-file", doc, "--output", out, "--skip-open-report"]
    if exclusions:
        cmd += ["--exclusions-file", exclusions]
    r = measured(cmd, timeout=timeout)
    name = os.path.splitext(os.path.basename(doc))[0]
    results = os.path.join(out, f"iam-results-{name}.json")
    if not os.path.exists(results):
        sys.exit(f"cloudsplaining wrote no {results}:\n{r.stderr}")
    return r, results, cmd


def cloudsplaining_admins(results_path, prefixes):
    """ARNs of users and roles with a policy (own or a group's) whose ServiceWildcard covers
    every service prefix (an unconditional Allow of `*`), or names the service `*` (`*:*`)."""
    with open(results_path) as f:
        res = json.load(f)
    sections = ("inline_policies", "customer_managed_policies", "aws_managed_policies")
    admin_policy = {}  # (section, policy id) -> "all" (every prefix) or "star" (service `*`)
    for section in sections:
        for pid, p in (res.get(section) or {}).items():
            found = set((p.get("ServiceWildcard") or {}).get("findings") or [])
            if len(found) >= prefixes:
                admin_policy[(section, pid)] = "all"
            elif "*" in found:
                admin_policy[(section, pid)] = "star"

    def kinds(principal):
        return {admin_policy[(s, pid)] for s in sections for pid in (principal.get(s) or {})
                if (s, pid) in admin_policy}

    admins, star_only = set(), set()
    for kind in ("users", "roles"):
        for p in (res.get(kind) or {}).values():
            if p.get("is_excluded"):
                continue
            how = kinds(p)
            for g in (p.get("groups") or {}).values() if kind == "users" else []:
                how |= kinds(g)
            if how:
                admins.add(p["arn"])
                if how == {"star"}:
                    star_only.add(p["arn"])
    return admins, star_only


def decoded_copy(src, dst):
    """dst: src with URL-encoded policy documents decoded into JSON objects, as the AWS CLI
    and boto3 write them. Returns how many were decoded."""
    count = 0

    def walk(v):
        nonlocal count
        if isinstance(v, dict):
            for k, x in v.items():
                if k in ("PolicyDocument", "AssumeRolePolicyDocument", "Document") and isinstance(x, str):
                    v[k] = json.loads(urllib.parse.unquote(x))
                    count += 1
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    with open(src) as f:
        doc = json.load(f)
    walk(doc)
    with open(dst, "w") as f:
        json.dump(doc, f, indent=2)
    return count


# --------------------------------------------------------------------------------------------
# Why a principal is (or is not) admin, read from the input, to explain disagreements


def admin_grants(doc_path):
    """{arn: (path, [how it is given `*`])} for every user and role of the document."""
    with open(doc_path) as f:
        doc = json.load(f)

    def stars(document):
        if isinstance(document, str):
            document = json.loads(urllib.parse.unquote(document))
        out = []
        st = document.get("Statement", [])
        for s in st if isinstance(st, list) else [st]:
            if s.get("Effect") != "Allow":
                continue
            acts = s.get("Action", [])
            acts = [acts] if isinstance(acts, str) else acts
            res = s.get("Resource", [])
            res = [res] if isinstance(res, str) else res
            for a in acts:
                if a in ("*", "*:*"):
                    out.append(f"Allow {a} on {','.join(res)}" + (" with a condition" if s.get("Condition") else ""))
            if "NotAction" in s:
                out.append("Allow NotAction " + json.dumps(s["NotAction"]))
        return out

    managed = {}
    for p in doc.get("Policies", []):
        for v in p.get("PolicyVersionList", []):
            if v.get("IsDefaultVersion"):
                managed[p["Arn"]] = stars(v["Document"])
    groups = {}
    for g in doc.get("GroupDetailList", []):
        how = []
        for a in g.get("AttachedManagedPolicies", []):
            how += [f"{a['PolicyName']}: {x}" for x in managed.get(a["PolicyArn"], [])]
        for p in g.get("GroupPolicyList", []):
            how += [f"inline {p['PolicyName']}: {x}" for x in stars(p["PolicyDocument"])]
        groups[g["GroupName"]] = how
    out = {}
    for kind, inline_key in (("UserDetailList", "UserPolicyList"), ("RoleDetailList", "RolePolicyList")):
        for p in doc.get(kind, []):
            how = []
            for a in p.get("AttachedManagedPolicies", []):
                how += [f"{a['PolicyName']}: {x}" for x in managed.get(a["PolicyArn"], [])]
                if a["PolicyArn"] not in managed:
                    how.append(f"{a['PolicyName']} (document not in the input)")
            for ip in p.get(inline_key, []):
                how += [f"inline {ip['PolicyName']}: {x}" for x in stars(ip["PolicyDocument"])]
            for g in p.get("GroupList", []):
                how += [f"group {g} → {x}" for x in groups.get(g, [])]
            out[p["Arn"]] = (p.get("Path", "/"), how)
    return out


def compare(kw, cs, planted, why, limit=10):
    """Prints the admin comparison; returns it as a dict."""
    out = {"keyward": len(kw), "cloudsplaining": len(cs), "both": len(kw & cs)}
    rows = [("Keyward", len(kw)), ("cloudsplaining", len(cs)), ("both", len(kw & cs))]
    if planted is not None:
        rows.append(("planted", len(planted)))
    log(table(["admins flagged", "count"], rows))
    if planted is not None:
        prec = []
        for name, s in (("Keyward", kw), ("cloudsplaining", cs)):
            tp = len(s & planted)
            p = tp / len(s) if s else 1.0
            r = tp / len(planted) if planted else 1.0
            prec.append((name, tp, len(s - planted), len(planted - s), f"{p:.3f}", f"{r:.3f}"))
            out[name.lower() + "_vs_planted"] = {"tp": tp, "fp": len(s - planted), "fn": len(planted - s),
                                                 "precision": p, "recall": r}
        log()
        log(table(["vs planted admins", "TP", "FP", "FN", "precision", "recall"], prec))
    for name, a, b in (("Keyward only", kw, cs), ("cloudsplaining only", cs, kw)):
        diff = sorted(a - b)
        out[name.replace(" ", "_").lower()] = diff
        log(f"\n{name} ({len(diff)}){':' if diff else ''}")
        for arn in diff[:limit]:
            path, how = why.get(arn, ("?", []))
            tag = ""
            if planted is not None:
                tag = " [planted]" if arn in planted else " [not planted]"
            log(f"  {arn}{tag}\n      path {path}; {'; '.join(how) or 'no * grant in the input'}")
        if len(diff) > limit:
            log(f"  … and {len(diff) - limit} more")
    if planted is not None:
        missed = sorted(planted - kw - cs)
        out["planted_missed_by_both"] = missed
        if missed:
            log(f"\nplanted, flagged by neither ({len(missed)}): " + ", ".join(missed[:limit]))
    return out


# --------------------------------------------------------------------------------------------
# The two parts


def cloudtrail_corpus(args):
    d = os.path.join(WORK, f"cloudtrail-{args.cloudtrail_mb}mb-{args.file_mb}mb-files-seed{args.seed}")
    manifest = os.path.join(d, "manifest.json")
    params = {"mb": args.cloudtrail_mb, "file_mb": args.file_mb, "seed": args.seed}
    if not args.regenerate and os.path.isfile(manifest):
        with open(manifest) as f:
            m = json.load(f)
        if m.get("params") == params:
            log(f"reusing {os.path.relpath(d, REPO)}: {m['files']} files, {m['bytes'] / 1e6:,.1f} MB")
            return os.path.join(d, "logs"), m
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    logs = os.path.join(d, "logs")
    t0 = time.perf_counter()
    sh([ESTATE, "cloudtrail", "--mb", str(args.cloudtrail_mb), "--file-mb", str(args.file_mb), "--out", logs,
        "--seed", str(args.seed)])
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(logs) for f in fs]
    m = {"params": params, "files": len(files), "bytes": sum(os.path.getsize(p) for p in files),
         "generated_seconds": time.perf_counter() - t0}
    with open(manifest, "w") as f:
        json.dump(m, f, indent=2)
    return logs, m


def warm(root):
    n = 0
    for dp, _, fs in os.walk(root):
        for name in fs:
            with open(os.path.join(dp, name), "rb") as f:
                while chunk := f.read(8 << 20):
                    n += len(chunk)
    return n


def bench_cloudtrail(args, results):
    log("== CloudTrail ==")
    logs, m = cloudtrail_corpus(args)
    t0 = time.perf_counter()
    warm(logs)
    log(f"page cache warmed in {time.perf_counter() - t0:.1f} s")
    runs = []
    for i in range(args.repeat):
        store, db = fresh_store("cloudtrail")
        out = os.path.join(WORK, "cloudtrail-discover.json")
        with open(out, "wb") as f:
            r = measured([KEYWARD] + store + ["discover", "cloudtrail", logs, "--format", "json"], stdout=f)
        mbs = m["bytes"] / 1e6 / r.wall
        runs.append({"wall": r.wall, "cpu": r.cpu, "rss_mib": r.rss, "mb_per_s": mbs})
        log(f"run {i + 1}: {r.wall:.2f} s, {mbs:,.0f} MB/s, CPU {r.cpu:.2f} s, peak RSS {r.rss:.0f} MiB")
    con_nhis = count_rows(db)
    walls = [x["wall"] for x in runs]
    rates = [x["mb_per_s"] for x in runs]
    med = statistics.median(rates)
    log()
    log(table(["CloudTrail ingest", "files", "MB", "wall s", "MB/s", "CPU s", "peak RSS MiB", "vs 200 MB/s"], [
        (f"median of {len(runs)}", m["files"], f"{m['bytes'] / 1e6:,.0f}", f"{statistics.median(walls):.2f}",
         f"{med:,.0f}", f"{statistics.median(x['cpu'] for x in runs):.2f}",
         f"{max(x['rss_mib'] for x in runs):.0f}", f"{med / TARGET_MBS:.2f}x"),
        ("spread", "", "", spread(walls), f"{min(rates):,.0f}–{max(rates):,.0f}", "", "",
         f"{min(rates) / TARGET_MBS:.2f}–{max(rates) / TARGET_MBS:.2f}x"),
    ]))
    log(f"NHIs in the store after the run: {con_nhis:,}")
    results["cloudtrail"] = {"corpus": m, "runs": runs, "median_mb_per_s": med, "target_mb_per_s": TARGET_MBS,
                             "nhis": con_nhis, "command": "keyward --db DB discover cloudtrail DIR --format json"}


def count_rows(db):
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT count(*) FROM nhis").fetchone()[0]
    finally:
        con.close()


def keyward_aws(doc, label, repeat):
    runs = []
    for _ in range(repeat):
        store, db = fresh_store(label)
        r = measured([KEYWARD] + store + ["discover", "aws", "--auth-details", doc, "--format", "json"])
        runs.append(r)
    admins, seen = keyward_admins(db)
    return runs, admins, seen


def bench_auth(args, results):
    log("\n== AWS authorization details ==")
    cs_bin, cs_version, prefixes = setup_venv(args.venv, args.unpinned)
    log(f"cloudsplaining {cs_version} ({prefixes} service prefixes in its policy_sentry database)")
    excl_none = os.path.join(WORK, "exclusions-none.yml")
    with open(excl_none, "w") as f:
        f.write(NO_EXCLUSIONS)

    doc = os.path.join(WORK, f"auth-{args.roles}r-{args.users}u-seed{args.seed}.json")
    if args.regenerate or not os.path.isfile(doc + ".admins.json"):
        sh([ESTATE, "auth-details", "--roles", str(args.roles), "--users", str(args.users), "--out", doc,
            "--seed", str(args.seed)])
    decoded = doc[:-5] + "-decoded.json"
    if args.regenerate or not os.path.isfile(decoded) or os.path.getmtime(decoded) < os.path.getmtime(doc):
        n = decoded_copy(doc, decoded)
        log(f"decoded {n} URL-encoded policy documents for cloudsplaining into {os.path.relpath(decoded, REPO)}")
    with open(doc + ".admins.json") as f:
        planted = set(json.load(f))
    size = os.path.getsize(doc) / 1e6
    log(f"input: {args.roles:,} roles, {args.users:,} users, {size:.1f} MB, {len(planted)} planted admins")

    kruns, kw, seen = keyward_aws(doc, "aws", args.repeat)
    kw_dec = keyward_aws(decoded, "aws-decoded", 1)[1]
    r_def, res_def, cmd_def = cloudsplaining_run(cs_bin, decoded, "default", None, args.timeout)
    log(f"cloudsplaining, default exclusions: {r_def.wall:.1f} s")
    r_none, res_none, cmd_none = cloudsplaining_run(cs_bin, decoded, "no-exclusions", excl_none, args.timeout)
    log(f"cloudsplaining, no exclusions: {r_none.wall:.1f} s")
    cs_def, _ = cloudsplaining_admins(res_def, prefixes)
    cs_none, cs_star = cloudsplaining_admins(res_none, prefixes)

    kwalls = [r.wall for r in kruns]
    kmed = statistics.median(kwalls)
    log()
    log(table(["tool", "wall s", "CPU s", "peak RSS MiB", "cloudsplaining/Keyward"], [
        (f"Keyward discover aws (median of {len(kruns)}; {spread(kwalls)})", f"{kmed:.2f}",
         f"{statistics.median(r.cpu for r in kruns):.2f}", f"{max(r.rss for r in kruns):.0f}", ""),
        ("cloudsplaining scan, default exclusions", f"{r_def.wall:.2f}", f"{r_def.cpu:.2f}", f"{r_def.rss:.0f}",
         f"{r_def.wall / kmed:.1f}x"),
        ("cloudsplaining scan, no exclusions", f"{r_none.wall:.2f}", f"{r_none.cpu:.2f}", f"{r_none.rss:.0f}",
         f"{r_none.wall / kmed:.1f}x"),
    ]))
    log(f"Keyward saw {len(seen):,} identities; on the decoded copy it flags "
        f"{'the same admins' if kw_dec == kw else f'{len(kw_dec)} admins (differs!)'}")
    why = admin_grants(doc)
    log("\n-- admins: Keyward vs cloudsplaining with no exclusions --")
    log(f"({len(cs_star)} of cloudsplaining's only through a policy whose ServiceWildcard is `*`: "
        f"an Allow of `*:*`)")
    cmp_none = compare(kw, cs_none, planted, why)
    cmp_none["cloudsplaining_via_star_colon_star_only"] = len(cs_star)
    log("\n-- admins: Keyward vs cloudsplaining with its default exclusions --")
    cmp_def = compare(kw, cs_def, planted, why, limit=5)
    results["auth_details"] = {
        "roles": args.roles, "users": args.users, "bytes": os.path.getsize(doc), "planted_admins": len(planted),
        "cloudsplaining_version": cs_version, "service_prefixes": prefixes,
        "keyward": {"walls": kwalls, "cpu": [r.cpu for r in kruns], "rss_mib": [r.rss for r in kruns]},
        "cloudsplaining_default": {"wall": r_def.wall, "cpu": r_def.cpu, "rss_mib": r_def.rss, "command": cmd_def},
        "cloudsplaining_no_exclusions": {"wall": r_none.wall, "cpu": r_none.cpu, "rss_mib": r_none.rss,
                                         "command": cmd_none},
        "keyward_same_on_decoded_copy": kw_dec == kw,
        "admins_no_exclusions": cmp_none, "admins_default_exclusions": cmp_def,
    }

    if os.path.isfile(SAMPLE) and not args.no_sample:
        log(f"\n== Real sample: {SAMPLE} ==")
        kr, kw_s, seen_s = keyward_aws(SAMPLE, "aws-sample", 1)
        why_s = admin_grants(SAMPLE)
        rs_none, res_s_none, _ = cloudsplaining_run(cs_bin, SAMPLE, "sample-no-exclusions", excl_none, args.timeout)
        rs_def, res_s_def, _ = cloudsplaining_run(cs_bin, SAMPLE, "sample-default", None, args.timeout)
        log(f"{len(seen_s)} identities; Keyward {kr[0].wall:.2f} s, cloudsplaining {rs_none.wall:.2f} s "
            f"(no exclusions), {rs_def.wall:.2f} s (default)")
        log("\n-- admins: Keyward vs cloudsplaining with no exclusions --")
        s_none = compare(kw_s, cloudsplaining_admins(res_s_none, prefixes)[0], None, why_s,
                         limit=50)
        log("\n-- admins: Keyward vs cloudsplaining with its default exclusions --")
        s_def = compare(kw_s, cloudsplaining_admins(res_s_def, prefixes)[0], None,
                        why_s, limit=50)
        results["sample"] = {"path": SAMPLE, "identities": len(seen_s), "keyward_admins": sorted(kw_s),
                             "admins_no_exclusions": s_none, "admins_default_exclusions": s_def}


def main():
    global WORK
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cloudtrail-mb", type=int, default=1000)
    ap.add_argument("--file-mb", type=int, default=10, help="size of each CloudTrail delivery file")
    ap.add_argument("--roles", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="100 MB of CloudTrail, 1,000 roles, 500 users, 2 repeats")
    ap.add_argument("--parts", default="cloudtrail,auth", help="cloudtrail, auth, or both")
    ap.add_argument("--no-sample", action="store_true", help="skip the real cloudsplaining example")
    ap.add_argument("--regenerate", action="store_true", help="rebuild cached inputs")
    ap.add_argument("--no-build", action="store_true", help="use the binaries in target/release as they are")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds for each cloudsplaining run")
    ap.add_argument("--venv", default=os.path.join(WORK, "venv"))
    ap.add_argument("--unpinned", action="store_true", help="install the newest cloudsplaining, not 0.9.1")
    ap.add_argument("--work", default=WORK)
    args = ap.parse_args()
    if args.quick:
        args.cloudtrail_mb, args.roles, args.users, args.repeat = 100, 1000, 500, 2
    WORK = os.path.abspath(args.work)
    os.makedirs(WORK, exist_ok=True)

    if not args.no_build:
        sh(["cargo", "build", "--release", "-q", "-p", "keyward", "-p", "keyward-demo", "--bins"], cwd=REPO)
    parts = set(args.parts.split(","))
    log(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    results = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "cores": os.cpu_count(),
               "load_avg_1m_at_start": os.getloadavg()[0], "args": vars(args)}
    if "cloudtrail" in parts:
        bench_cloudtrail(args, results)
    if "auth" in parts:
        bench_auth(args, results)
    # A partial or quick run does not overwrite the full run's figures.
    name = "results" + ("-quick" if args.quick else "") + ("" if parts >= {"cloudtrail", "auth"} else
                                                           "-" + "-".join(sorted(parts)))
    path = os.path.join(WORK, name + ".json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2, default=str)
    log(f"\nresults: {os.path.relpath(path, REPO)}")


if __name__ == "__main__":
    main()
