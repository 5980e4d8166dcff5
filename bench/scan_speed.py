#!/usr/bin/env python3
"""Scanner throughput: Keyward and its peers side by side on the same two inputs.

Corpus A, "source tree": real source files already on this machine (the cargo registry's
sources under ~/.cargo/registry/src, then the Python standard library and site-packages),
hard-linked (or copied) into target/bench-scan/corpus/tree in sorted order until it holds
--tree-mb MB, text files of at most 10 MiB only (Keyward's default limit; binaries, ignore
files and __pycache__ are left out so every tool reads the same bytes), plus a planted
subtree of generated files with real-format secrets (the generator of scan_accuracy.py).

Corpus B, "git history": a bare repository generated with `git fast-import`: a few thousand
commits over real source files edited commit by commit, secrets committed and deleted later,
feature branches merged into develop and develop into main, release tags, and a couple of
unmerged branches; --git-mb MB of distinct blobs.

For each tool and corpus: wall seconds, MB/s (corpus bytes / wall: the tree's file bytes, or
the repository's distinct blob bytes), peak RSS of the whole process tree (max of the child's
ru_maxrss and the sampled sum over its descendants), findings, and for the tree how many of
the planted secrets were found. Every tool gets 2 threads where it has a flag for it. The page
cache is warmed by reading the corpus once; each tool first runs untimed on a small corpus
(which also fills kingfisher's compiled-rule cache) under strace, to check it opens no network
connection. Writes target/bench-scan/speed.json.

Standard library only; the peers are installed by pip into target/bench-scan/venv.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scan_accuracy as acc  # noqa: E402
import scan_common as sc  # noqa: E402

CORPUS = os.path.join(sc.BENCH_DIR, "corpus")
MAX_FILE = 10 << 20
SKIP_NAMES = {".gitignore", ".ignore", ".keywardignore", ".gitleaksignore", ".gitleaks.toml", ".secrets.baseline",
              ".cargo-ok", ".cargo_vcs_info.json"}
SKIP_DIRS = {".git", "__pycache__", ".hg", ".svn"}
PLANTED = "zz-planted"


def sources():
    """Directories the tree corpus is drawn from, in order."""
    home = os.path.expanduser("~")
    out = []
    reg = os.path.join(home, ".cargo", "registry", "src")
    if os.path.isdir(reg):
        out += [os.path.join(reg, d) for d in sorted(os.listdir(reg))]
    stdlib = sysconfig.get_paths()["stdlib"]
    out.append(stdlib)  # includes site-packages
    return [d for d in out if os.path.isdir(d) and not os.path.abspath(d).startswith(sc.REPO)]


def is_text_file(path, size):
    if size == 0 or size > MAX_FILE:
        return False
    try:
        with open(path, "rb") as f:
            return b"\0" not in f.read(8192)
    except OSError:
        return False


def walk_sorted(root):
    """Regular files under root, in sorted order, skipping SKIP_DIRS."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            if name in SKIP_NAMES:
                continue
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                continue
            yield p


def source_files(limit_bytes):
    """(source path, size) of text files from sources(), up to limit_bytes in all."""
    total = 0
    for i, src in enumerate(sources()):
        for p in walk_sorted(src):
            if os.path.abspath(p).startswith(sc.REPO + os.sep):
                continue
            try:
                size = os.path.getsize(p)
            except OSError:
                continue
            if not is_text_file(p, size):
                continue
            yield i, src, p, size
            total += size
            if total >= limit_bytes:
                return


def du(root):
    n = b = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            try:
                b += os.path.getsize(os.path.join(dirpath, f))
                n += 1
            except OSError:
                pass
    return n, b


def cached(manifest, path, params, rebuild, describe):
    """The manifest of a corpus built earlier with the same parameters (logged with
    describe(manifest)), or None."""
    if rebuild or not os.path.isfile(manifest) or not os.path.isdir(path):
        return None
    with open(manifest) as f:
        m = json.load(f)
    if m.get("params") != params:
        return None
    sc.log(f"reusing {os.path.relpath(path, sc.REPO)} ({describe(m)})")
    return m


def build_tree(tree_mb, seed, rebuild):
    root = os.path.join(CORPUS, "tree")
    manifest = os.path.join(CORPUS, "tree.json")
    params = {"tree_mb": tree_mb, "seed": seed, "sources": sources(), "version": 2}
    m = cached(manifest, root, params, rebuild, lambda m: f"{m['files']} files, {m['bytes'] / 1e6:.0f} MB")
    if m:
        return root, m
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    t0 = time.time()
    planted_files = max(150, tree_mb * 3)
    sc.log(f"building {os.path.relpath(root, sc.REPO)}: {planted_files} generated files with planted secrets, then "
           f"real sources up to {tree_mb} MB")
    labels = acc.generate_corpus(os.path.join(root, PLANTED), planted_files, seed,
                                 os.path.join(CORPUS, "tree-planted-labels.json"))
    budget = tree_mb * 1_000_000 - labels["bytes"]
    linked = copied = 0
    n_files = 0
    for i, src, p, size in source_files(budget):
        prefix = f"src{i}-" + os.path.basename(src.rstrip("/"))
        dest = os.path.join(root, prefix, os.path.relpath(p, src))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        try:
            os.link(p, dest)
            linked += 1
        except OSError:
            shutil.copyfile(p, dest)
            copied += 1
        n_files += 1
    files, total = du(root)
    if total < tree_mb * 1_000_000 * 0.95:
        sc.log(f"note: only {total / 1e6:.0f} MB of text sources on this machine; the tree is smaller than --tree-mb")
    m = {"params": params, "files": files, "bytes": total, "planted_files": planted_files,
         "planted_secrets": len(labels["labels"]), "planted_formats": len(labels["formats"]),
         "hard_linked": linked, "copied": copied, "built_s": round(time.time() - t0, 1)}
    with open(manifest, "w") as f:
        json.dump(m, f, indent=1)
    sc.log(f"  {files} files, {total / 1e6:.0f} MB ({linked} hard-linked, {copied} copied) in {m['built_s']} s")
    return root, m


# --------------------------------------------------------------------------------------------
# Corpus B: a generated git history


AUTHORS = [("Ana Lima", "ana@acme.io"), ("Bo Chen", "bo.chen@acme.io"), ("Chidi Okafor", "chidi@acme.io"),
           ("Dana Weiss", "dana@acme.io"), ("Eitan Levi", "eitan@acme.io"), ("Fatima Zahra", "fz@acme.io"),
           ("Gustav Berg", "gustav@acme.io"), ("Hana Sato", "hana@acme.io"), ("Ivan Petrov", "ivan@acme.io"),
           ("Jo Adeyemi", "jo@acme.io"), ("ci-bot", "ci-bot@users.noreply.acme.io")]
MESSAGES = ["Fix {n} handling in {m}", "Refactor {m}", "Add tests for {m}", "Bump dependencies", "Update {m} docs",
            "Handle empty {n} in {m}", "Speed up {m}", "Remove dead code from {m}", "Rename {n} fields",
            "Log {n} retries", "Review feedback", "WIP", "Merge fixes from review", "Tidy imports in {m}"]


class History:
    """Writes a fast-import stream; tracks each branch's tree as {path: content}."""

    def __init__(self, out, rng):
        self.out = out
        self.rng = rng
        self.mark = 0
        self.blob_marks = {}   # sha1 -> mark
        self.blob_bytes = 0    # distinct blob bytes
        self.blobs = 0
        self.commits = 0
        self.heads = {}        # branch -> commit mark
        self.trees = {}        # branch -> {path: bytes}
        self.when = 1609459200  # 2021-01-01
        self.planted = 0
        self.removed = 0

    def _mark(self):
        self.mark += 1
        return self.mark

    def blob(self, data):
        h = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        m = self.blob_marks.get(h)
        if m:
            return m
        m = self._mark()
        self.out.write(b"blob\nmark :%d\ndata %d\n" % (m, len(data)))
        self.out.write(data)
        self.out.write(b"\n")
        self.blob_marks[h] = m
        self.blob_bytes += len(data)
        self.blobs += 1
        return m

    def commit(self, branch, new_tree, message, merge_from=None, parent_branch=None):
        """Commits new_tree on branch (first parent: branch head, or parent_branch's head)."""
        old = self.trees.get(branch) if branch in self.heads else self.trees.get(parent_branch, {})
        changes = []
        for p, data in new_tree.items():
            if old.get(p) is not data and old.get(p) != data:
                changes.append((b"M", p, self.blob(data)))
        for p in old:
            if p not in new_tree:
                changes.append((b"D", p, None))
        self.when += self.rng.randint(600, 6 * 3600)
        name, email = self.rng.choice(AUTHORS)
        m = self._mark()
        msg = message.encode()
        w = self.out.write
        w(b"commit refs/heads/%s\nmark :%d\n" % (branch.encode(), m))
        w(b"author %s <%s> %d +0000\n" % (name.encode(), email.encode(), self.when))
        w(b"committer %s <%s> %d +0000\n" % (name.encode(), email.encode(), self.when))
        w(b"data %d\n%s\n" % (len(msg), msg))
        parent = self.heads.get(branch) or (self.heads.get(parent_branch) if parent_branch else None)
        if parent:
            w(b"from :%d\n" % parent)
        if merge_from:
            w(b"merge :%d\n" % self.heads[merge_from])
        for kind, p, bm in changes:
            if kind == b"M":
                w(b"M 100644 :%d %s\n" % (bm, p.encode()))
            else:
                w(b"D %s\n" % p.encode())
        w(b"\n")
        self.heads[branch] = m
        self.trees[branch] = new_tree
        self.commits += 1

    def tag(self, name, branch, message):
        msg = message.encode()
        self.out.write(b"tag %s\nfrom :%d\ntagger Release Bot <release@acme.io> %d +0000\ndata %d\n%s\n"
                       % (name.encode(), self.heads[branch], self.when + 60, len(msg), msg))


def mutate(rng, data, donor):
    """A plausible edit: a few lines inserted from donor, deleted, or changed."""
    lines = data.split(b"\n")
    dl = donor.split(b"\n") or [b""]
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        i = rng.randrange(len(lines) + 1)
        if op < 0.45:
            j = rng.randrange(len(dl))
            lines[i:i] = dl[j:j + rng.randint(1, 12)]
        elif op < 0.75 and len(lines) > 20:
            del lines[i:i + rng.randint(1, 6)]
        elif lines:
            k = min(i, len(lines) - 1)
            lines[k] = lines[k] + b"  # " + rng.choice([b"TODO", b"see #" + str(rng.randrange(9999)).encode(), b"fixme"])
    return b"\n".join(lines)


def secret_line(gen, path):
    """A planted credential line fitting the file's language: (line bytes, format)."""
    fmt = gen.rng.choice([f for f in acc.FORMATS if acc.FORMATS[f][0] in ("token", "url", "password")])
    value, kind, words = gen.value(fmt)
    ext = os.path.splitext(path)[1]
    lang = acc.LANG_OF_EXT.get(ext, "env" if ext in ("", ".env", ".txt", ".toml") else "yaml" if ext in (".yml", ".yaml") else "python")
    if lang not in acc.ASSIGN:
        lang = "python"
    lines, _ = acc.render(gen.rng.choice(acc.ASSIGN[lang]), acc.names(words), value)
    return "\n".join(lines).encode(), fmt


def build_git(git_mb, seed, rebuild):
    repo = os.path.join(CORPUS, "history.git")
    manifest = os.path.join(CORPUS, "history.json")
    params = {"git_mb": git_mb, "seed": seed, "sources": sources(), "version": 2}
    m = cached(manifest, repo, params, rebuild,
               lambda m: f"{m['commits']} commits, {m['blob_bytes'] / 1e6:.0f} MB of blobs")
    if m:
        return repo, m
    if not shutil.which("git"):
        return None, {"error": "git not installed"}
    if os.path.exists(repo):
        shutil.rmtree(repo)
    t0 = time.time()
    rng = random.Random(seed)
    gen = acc.Generator(seed + 11)
    target = git_mb * 1_000_000
    n_commits = max(200, min(6000, git_mb * 20))
    sc.log(f"building {os.path.relpath(repo, sc.REPO)}: ~{n_commits} commits, ~{git_mb} MB of distinct blobs")
    # File pool: real sources of 1-48 KB, read once.
    pool = []
    pool_bytes = 0
    for _, src, p, size in source_files(max(target // 2, 8_000_000)):
        if 1000 <= size <= 48_000:
            with open(p, "rb") as f:
                data = f.read()
            rel = os.path.relpath(p, src)
            parts = rel.split(os.sep)
            # crate-1.2.3/src/x.rs -> crate/src/x.rs: versions do not belong in a repo's paths
            parts[0] = parts[0].rsplit("-", 1)[0] if "-" in parts[0] else parts[0]
            pool.append(("/".join(parts), data))
            pool_bytes += size
    if not pool:
        return None, {"error": "no source files found to build the history from"}
    gen_root = os.path.join(CORPUS, "history-generated")
    acc.generate_corpus(gen_root, max(60, git_mb * 2), seed + 12)
    generated = []
    for dirpath, _, files in os.walk(gen_root):
        for fn in sorted(files):
            full = os.path.join(dirpath, fn)
            with open(full, "rb") as f:
                generated.append(("services/" + os.path.relpath(full, gen_root).replace(os.sep, "/"), f.read()))
    generated.sort()
    shutil.rmtree(gen_root)

    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", repo], check=True)
    stream_path = os.path.join(CORPUS, "history.fi")
    with open(stream_path, "wb") as out:
        h = History(out, rng)
        avg = max(1, pool_bytes // len(pool))
        # Initial import: a slice of the pool.
        first = {p: d for p, d in pool[: max(50, len(pool) // 8)]}
        next_pool = len(first)
        h.commit("main", first, "Initial import")
        h.commit("develop", dict(first), "Start develop", parent_branch="main")
        live_secrets = []  # (branch, path, original data, due commit)
        features = []      # [name, base tree, remaining commits, merge?]
        release = 0
        gi = 0
        while h.commits < n_commits and h.blob_bytes < target or h.commits < 10:
            remaining = max(1, n_commits - h.commits)
            budget = max(avg, (target - h.blob_bytes) // remaining)
            # Which branch moves: an open feature branch most of the time.
            if features and rng.random() < 0.7:
                feat = rng.choice(features)
                branch = feat[0]
            else:
                feat = None
                branch = "develop" if rng.random() < 0.85 else "main"
            tree = dict(h.trees[branch])
            paths = sorted(tree)
            changed = 0
            msg = rng.choice(MESSAGES).format(n=rng.choice(acc.NOUNS), m=os.path.splitext(os.path.basename(rng.choice(paths)))[0])
            while changed < budget and changed < 40 * avg:
                r = rng.random()
                if r < 0.08 and next_pool < len(pool):
                    p, d = pool[next_pool]
                    next_pool += 1
                    tree[p] = d
                    changed += len(d)
                elif r < 0.12 and gi < len(generated):
                    p, d = generated[gi]
                    gi += 1
                    tree[p] = d
                    changed += len(d)
                elif r < 0.14 and len(tree) > 40:
                    del tree[rng.choice(paths)]
                else:
                    p = rng.choice(paths)
                    if p in tree:
                        tree[p] = mutate(rng, tree[p], rng.choice(pool)[1])
                        changed += len(tree[p])
            # Now and then a credential goes in, to be removed some commits later.
            if rng.random() < 0.06:
                p = rng.choice(sorted(tree))
                line, fmt = secret_line(gen, p)
                lines = tree[p].split(b"\n")
                at = rng.randrange(len(lines) + 1)
                original = tree[p]
                tree[p] = b"\n".join(lines[:at] + [line] + lines[at:])
                msg = rng.choice(["Add config for {m}", "Wire up {m} credentials", "Quick fix for {m}"]).format(
                    m=os.path.splitext(os.path.basename(p))[0])
                h.planted += 1
                if rng.random() < 0.8:
                    live_secrets.append((branch, p, original, h.commits + rng.randint(1, 25)))
            h.commit(branch, tree, msg)
            # Remove credentials whose time has come (on the branch they were added to).
            for s in [s for s in live_secrets if s[3] <= h.commits]:
                live_secrets.remove(s)
                b, p, original, _ = s
                if b not in h.trees or p not in h.trees[b]:
                    continue
                t2 = dict(h.trees[b])
                t2[p] = original
                h.commit(b, t2, "Remove leaked credential")
                h.removed += 1
            if feat is not None:
                feat[2] -= 1
                if feat[2] <= 0:
                    features.remove(feat)
                    if feat[3]:
                        base, ft, dev = feat[1], h.trees[feat[0]], dict(h.trees["develop"])
                        for p in set(base) | set(ft):
                            if base.get(p) != ft.get(p):
                                if p in ft:
                                    dev[p] = ft[p]
                                else:
                                    dev.pop(p, None)
                        h.commit("develop", dev, f"Merge branch '{feat[0]}' into develop", merge_from=feat[0])
            if len(features) < 3 and rng.random() < 0.04:
                name = f"feature/{rng.choice(acc.ADJS)}-{rng.choice(acc.NOUNS)}-{h.commits}"
                h.commit(name, dict(h.trees["develop"]), f"Start {name}", parent_branch="develop")
                features.append([name, h.trees[name], rng.randint(5, 60), rng.random() < 0.85])
            if h.commits >= (release + 1) * max(100, n_commits // 8):
                release += 1
                h.commit("main", dict(h.trees["develop"]), "Merge branch 'develop'", merge_from="develop")
                h.tag(f"v1.{release}.0", "main", f"Release 1.{release}.0")
        stats = {"commits": h.commits, "blobs": h.blobs, "blob_bytes": h.blob_bytes, "branches": len(h.heads),
                 "tags": release, "secrets_committed": h.planted, "secrets_removed_later": h.removed}
    with open(stream_path, "rb") as f:
        p = subprocess.run(["git", "-C", repo, "fast-import", "--quiet"], stdin=f, capture_output=True)
    if p.returncode != 0:
        return None, {"error": f"git fast-import failed (stream kept at {stream_path}): "
                      + p.stderr.decode(errors="replace")[-500:]}
    os.remove(stream_path)
    subprocess.run(["git", "-C", repo, "repack", "-a", "-d", "-q"], check=True)
    subprocess.run(["git", "-C", repo, "config", "gc.auto", "0"], check=True)
    pack_bytes = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(os.path.join(repo, "objects")) for f in fs)
    m = {"params": params, **stats, "pack_bytes": pack_bytes, "generated_files": len(generated),
         "built_s": round(time.time() - t0, 1)}
    with open(manifest, "w") as f:
        json.dump(m, f, indent=1)
    sc.log(f"  {h.commits} commits on {len(h.heads)} branches, {release} tags, {h.blobs} blobs = {h.blob_bytes / 1e6:.0f} MB "
           f"(pack {pack_bytes / 1e6:.0f} MB); {h.planted} secrets committed, {h.removed} removed later; {m['built_s']} s")
    gen.close()
    return repo, m


# --------------------------------------------------------------------------------------------


def warm(root):
    """Reads every file under root once (page cache)."""
    n = 0
    buf = bytearray(1 << 20)
    for dirpath, _, files in os.walk(root):
        for fn in files:
            try:
                with open(os.path.join(dirpath, fn), "rb", buffering=0) as f:
                    while True:
                        k = f.readinto(buf)
                        if not k:
                            break
                        n += k
            except OSError:
                pass
    return n


def small_inputs():
    """A small directory and a small repository for the untimed warm-up and network check."""
    d = os.path.join(sc.BENCH_DIR, "warmup")
    tree = os.path.join(d, "tree")
    repo = os.path.join(d, "repo")
    if not os.path.isdir(repo):
        if os.path.exists(d):
            shutil.rmtree(d)
        acc.generate_corpus(tree, 40, 5)
        env = dict(os.environ, GIT_AUTHOR_NAME="w", GIT_AUTHOR_EMAIL="w@x", GIT_COMMITTER_NAME="w", GIT_COMMITTER_EMAIL="w@x")
        subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
        shutil.copytree(tree, os.path.join(repo, "src"))
        subprocess.run(["git", "-C", repo, "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", repo, "commit", "-qm", "warm-up"], check=True, env=env)
    return tree, repo


def measure(tool, target, label, git, timeout, repeat):
    """Timed runs of tool on target; returns the result dict (best wall of `repeat`)."""
    res = {"tool": tool.name, "version": tool.version, "threads": tool.threads_note}
    if tool.problem:
        res.update(status="not run", reason=tool.problem)
        sc.log(f"  {tool.name}: NOT RUN: {tool.problem}")
        return res
    if git and not tool.supports_git():
        res.update(status="not run", reason=tool.git_unsupported_reason())
        sc.log(f"  {tool.git_unsupported_reason()}")
        return res
    walls = []
    for k in range(repeat):
        argv, stdout, cwd = tool.command(target, label, git=git)
        res["invocation"] = sc.fmt_cmd(argv, cwd)
        if k == 0:
            sc.log(f"  {tool.name}: {res['invocation']}")
        r = sc.run_measured(argv, stdout_path=stdout, cwd=cwd, env=tool.env(), timeout=timeout,
                            stderr_path=os.path.join(tool.work, f"{tool.name}-{label}.stderr"))
        if r.error or r.timed_out or r.code not in sc.OK_CODES[tool.name]:
            reason = r.error or (f"killed after {timeout:.0f} s (--timeout)" if r.timed_out else
                                 f"exit code {r.code}: {r.stderr_tail[-400:]}")
            res.update(status="timeout" if r.timed_out else "failed", reason=reason, wall_s=round(r.wall or 0, 2))
            sc.log(f"    {res['status'].upper()}: {reason}")
            return res
        walls.append(r.wall)
        if r.wall <= min(walls):
            res["peak_rss_mb"] = round(sc.mib(r.peak_rss), 1)
            res["processes"] = r.procs
    res["walls_s"] = [round(w, 3) for w in walls]
    res["wall_s"] = round(min(walls), 3)
    try:
        rows = tool.findings(label, target)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        res.update(status="failed", reason=f"report unreadable: {e}")
        sc.log(f"    FAILED: {res['reason']}")
        return res
    res["findings"] = len(rows)
    res["distinct_secrets"] = len({ex.get("secret") for _, _, _, ex in rows if ex.get("secret")})
    res["status"] = "ok"
    res["_rows"] = rows
    sc.log(f"    {res['wall_s']:.2f} s, {res['peak_rss_mb']:.0f} MB peak RSS, {len(rows)} findings "
           f"({res['distinct_secrets']} distinct values)")
    return res


def fmt_rate(v):
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}" if v >= 0.1 else f"{v:.3f}"


def print_table(title, corpus_bytes, results, tree_labels=None):
    sc.log(f"\n{title}")
    rows = []
    for x in results:
        if x.get("status") == "ok":
            x["mb_s"] = round(corpus_bytes / 1e6 / x["wall_s"], 3) if x["wall_s"] else None
            extra = ""
            if tree_labels is not None:
                extra = f"{x.get('planted_found', 0)}/{len(tree_labels['labels'])}"
            rows.append([x["tool"], x["threads"], f"{x['wall_s']:.2f}", fmt_rate(x["mb_s"]), f"{x['peak_rss_mb']:.0f}",
                         x["findings"], x["distinct_secrets"]] + ([extra] if tree_labels is not None else []))
        else:
            rows.append([x["tool"], x.get("threads", ""), "-", "-", "-", x.get("status", ""), "-"]
                        + (["-"] if tree_labels is not None else []))
    hdr = ["tool", "threads", "wall s", "MB/s", "peak RSS MB", "findings", "distinct"] + (
        ["planted found"] if tree_labels is not None else [])
    sc.log(sc.table(hdr, rows, align=["<", "<"] + [">"] * (len(hdr) - 2)))
    kw = next((x for x in results if x["tool"] == "keyward" and x.get("status") == "ok"), None)
    peers = [x for x in results if x["tool"] != "keyward" and x.get("status") == "ok"]
    summary = {}
    if kw and peers:
        fastest = max(peers, key=lambda x: x["mb_s"])
        summary["keyward_vs_fastest_peer"] = {"peer": fastest["tool"], "ratio": round(kw["mb_s"] / fastest["mb_s"], 2)}
        summary["keyward_rss_vs_peers"] = {x["tool"]: round(kw["peak_rss_mb"] / x["peak_rss_mb"], 2) for x in peers if x["peak_rss_mb"]}
        sc.log(f"Keyward throughput / fastest peer ({fastest['tool']}, {fastest['mb_s']:.1f} MB/s): "
               f"{summary['keyward_vs_fastest_peer']['ratio']:.2f}x")
        sc.log("Keyward peak RSS / peer's: " + ", ".join(f"{k} {v:.2f}x" for k, v in summary["keyward_rss_vs_peers"].items()))
    elif not kw:
        sc.log("Keyward did not run on this corpus: no ratios")
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", default=",".join(sc.ALL_TOOLS), help="comma-separated tools to run (default: %(default)s)")
    ap.add_argument("--tree-mb", type=int, default=400, help="MB of files in the source-tree corpus (default: %(default)s)")
    ap.add_argument("--git-mb", type=int, default=150, help="MB of distinct blobs in the git-history corpus (default: %(default)s)")
    ap.add_argument("--corpora", default="tree,git", help="which corpora to run: tree, git or both (default: %(default)s)")
    ap.add_argument("--git-tools", default="keyward,kingfisher,gitleaks,betterleaks",
                    help="tools run on the git corpus (credsweeper --git also works but scans every commit "
                         "separately: ~26 min for the 400-commit --quick history; detect-secrets has no git mode; "
                         "default: %(default)s)")
    ap.add_argument("--quick", action="store_true", help="smoke test: 30 MB tree, 20 MB history")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per tool and corpus (the best is reported) (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=20261201, help="generator seed (default: %(default)s)")
    ap.add_argument("--venv", default=None, help="reuse the peers' venv at this path (default: create or reuse "
                                                  "target/bench-scan/venv)")
    ap.add_argument("--unpinned", action="store_true", help="install the newest peers instead of the pinned versions")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds before a tool's run is killed (default 1800, or 600 with --quick)")
    ap.add_argument("--rebuild-corpus", action="store_true", help="rebuild the corpora even if cached")
    ap.add_argument("--no-network-check", action="store_true", help="skip the warm-up run under strace")
    args = ap.parse_args()
    if args.quick:
        if args.tree_mb == ap.get_default("tree_mb"):
            args.tree_mb = 30
        if args.git_mb == ap.get_default("git_mb"):
            args.git_mb = 20
    if args.timeout is None:
        args.timeout = 600.0 if args.quick else 1800.0
    tools_wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    git_tools = [t.strip() for t in args.git_tools.split(",") if t.strip()]
    unknown = [t for t in tools_wanted + git_tools if t not in sc.ALL_TOOLS]
    if unknown:
        sys.exit(f"error: unknown tools {unknown}; choose from {sc.ALL_TOOLS}")
    corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    if "keyward" in tools_wanted:
        sc.require_keyward()
    os.makedirs(CORPUS, exist_ok=True)
    work = os.path.join(sc.BENCH_DIR, "speed-reports")
    os.makedirs(work, exist_ok=True)
    venv, problems = sc.setup_venv(args.venv or sc.DEFAULT_VENV, tools_wanted, unpinned=args.unpinned,
                                   reuse_only=bool(args.venv))
    tools = sc.make_tools(tools_wanted, venv, work, problems)
    sc.log("\ntools:")
    for t in tools:
        sc.log(f"  {t.name:15} {t.version or '-'}" + (f"   NOT RUN: {t.problem}" if t.problem else f"   [{t.threads_note}]"))
    if "keyward" in tools_wanted and "git" in corpora and not sc.keyward_has_git():
        sc.log("keyward: --git not supported by this build")

    out = {"machine": sc.machine_info(), "args": vars(args), "tools": {t.name: {"version": t.version, "problem": t.problem,
                                                                              "threads": t.threads_note} for t in tools},
           "corpora": {}}
    inputs = {}
    if "tree" in corpora:
        root, m = build_tree(args.tree_mb, args.seed, args.rebuild_corpus)
        inputs["tree"] = (root, m)
    if "git" in corpora:
        repo, m = build_git(args.git_mb, args.seed, args.rebuild_corpus)
        if repo is None:
            sc.log(f"git corpus not built: {m.get('error')}")
        else:
            inputs["git"] = (repo, m)

    # Untimed warm-up of every tool on a small input (under strace: no network).
    small_tree, small_repo = small_inputs()
    sc.log("\nwarm-up (untimed" + ("" if args.no_network_check else ", under strace -f -e trace=connect") + "):")
    for t in tools:
        if t.problem:
            continue
        for git in ([False, True] if "git" in inputs else [False]):
            if git and (not t.supports_git() or t.name not in git_tools):
                continue
            argv, stdout, cwd = t.command(small_repo if git else small_tree, "warmup" + ("-git" if git else ""), git=git)
            if args.no_network_check or t.name == "keyward":
                r = sc.run_measured(argv, stdout_path=stdout, cwd=cwd, env=t.env(), timeout=300)
                bad = None
            else:
                bad, r = sc.network_check(argv, cwd=cwd, env=t.env(), stdout_path=stdout, timeout=300)
                if r is None:
                    r = sc.run_measured(argv, stdout_path=stdout, cwd=cwd, env=t.env(), timeout=300)
            what = "git" if git else "dir"
            if r.timed_out:
                sc.log(f"  {t.name} ({what}): warm-up killed after 300 s")
            elif r.code not in sc.OK_CODES[t.name]:
                sc.log(f"  {t.name} ({what}): warm-up exit code {r.code}: {r.stderr_tail[-300:]}")
            elif bad:
                sc.log(f"  {t.name} ({what}): {len(bad)} network connect() attempt(s), e.g. {bad[0][:160]}")
            elif bad is None:
                sc.log(f"  {t.name} ({what}): ok")
            else:
                sc.log(f"  {t.name} ({what}): ok, no network connections attempted")

    summaries = {}
    for cname in ("tree", "git"):
        if cname not in inputs:
            continue
        target, m = inputs[cname]
        git = cname == "git"
        corpus_bytes = m["blob_bytes"] if git else m["bytes"]
        t0 = time.time()
        warmed = warm(target)
        sc.log(f"\n{cname}: page cache warmed ({warmed / 1e6:.0f} MB read in {time.time() - t0:.1f} s); timed runs:")
        tree_labels = None
        if not git:
            with open(os.path.join(CORPUS, "tree-planted-labels.json")) as f:
                tree_labels = json.load(f)
        results = []
        for t in tools:
            if git and t.name not in git_tools:
                why = t.git_unsupported_reason() if not t.supports_git() else (
                    f"{t.name}: not in --git-tools" + (" (its --git mode scans every commit separately; "
                                                        "~26 min for the 400-commit --quick history)"
                                                        if t.name == "credsweeper" else ""))
                sc.log(f"  {why}")
                results.append({"tool": t.name, "version": t.version, "threads": t.threads_note,
                                "status": "not run", "reason": why})
                continue
            res = measure(t, target, cname, git, args.timeout, max(1, args.repeat))
            rows = res.pop("_rows", None)
            if rows is not None and tree_labels is not None:
                planted = [(p[len(PLANTED) + 1:], ln, rule, ex) for p, ln, rule, ex in rows if p.startswith(PLANTED + "/")]
                s = acc.score(planted, tree_labels)
                res["planted_found"] = s["tp"]
                res["planted_false_positive_lines"] = s["fp"]
            results.append(res)
        if git:
            title = (f"Corpus B, git history: {m['commits']} commits, {m['branches']} refs + {m['tags']} tags, "
                     f"{m['blobs']} blobs = {corpus_bytes / 1e6:.0f} MB (MB/s = distinct blob bytes / wall)")
        else:
            title = (f"Corpus A, source tree: {m['files']} files, {corpus_bytes / 1e6:.0f} MB, "
                     f"{m['planted_secrets']} planted secrets in {PLANTED}/ (MB/s = file bytes / wall)")
        summaries[cname] = print_table(title, corpus_bytes, results, tree_labels)
        sc.log("findings: as each tool reports them; distinct: distinct secret values among them (Keyward: "
               "distinct fingerprints)" + ("; on history, tools differ in what one finding is (per blob, per commit that "
                                           "adds the line, or deduplicated): compare distinct" if git else ""))
        out["corpora"][cname] = {"path": os.path.relpath(target, sc.REPO), "bytes": corpus_bytes,
                                 "manifest": {k: v for k, v in m.items() if k != "params"}, "results": results,
                                 "summary": summaries[cname]}
    path = os.path.join(sc.BENCH_DIR, "speed.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    sc.log(f"\nwrote {os.path.relpath(path, sc.REPO)}")


if __name__ == "__main__":
    main()
