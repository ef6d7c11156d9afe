#!/usr/bin/env python3
"""Run storyhash as an `--external` peer of peers.py.

peers.py runs (see run.sh for the exact template):

    PY storyhash_adapter.py --corpus {corpus} --out {out} --threshold {threshold} \
        --num-perm {num_perm} --ngram {ngram} --threads {threads}

This runs

    $STORYHASH_BIN dedup CORPUS --out TMPDIR --threshold T --num-perm K --ngram N \
        --threads THREADS --quiet

(STORYHASH_BIN defaults to <repo>/target/release/storyhash), then turns
TMPDIR/duplicates.jsonl (one cluster per line: {"cluster", "size", "canonical",
"members": [{"id", "source", "title", "similarity"}, ...]}) into the harness's
output file:

    {"clusters": [[canonical, member, ...], ...], "timings": {...}}

`timings` is copied from TMPDIR/summary.json's "timings" object (stage ->
seconds) when present, with one key added: `peak_rss_mb`, storyhash's own peak
resident memory (getrusage of the adapter's children, in MiB). The harness's
figure is the maximum over the process tree, which at some thread counts is
the harness's own memory, counted in the child it forks before that child
execs the adapter. (The same effect puts a floor of about 12 MiB, the adapter's
own, under this figure: a child starts with its parent's high-water mark.)  Ids are written exactly as storyhash wrote them, which
must be as the corpus has them (strings stay strings).

STORYHASH_EMIT=pairs writes {"pairs": [...]} with every pair inside each
cluster instead (see README.md: peers.py scores a "clusters" answer by its
canonical->member edges only in the P/R columns).

The harness times this whole process; the conversion uses only the stdlib
and is small next to the dedup itself.  Extra arguments after `--` are passed
to storyhash unchanged.
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv):
    opts = {"corpus": None, "out": None, "threshold": None, "num-perm": None, "ngram": None, "threads": None}
    extra = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            extra = argv[i + 1:]
            break
        if a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            i += 1
        elif a.startswith("--") and i + 1 < len(argv):
            k, v = a[2:], argv[i + 1]
            i += 2
        else:
            sys.exit(f"storyhash_adapter: unexpected argument {a!r}\n\n{__doc__}")
        if k not in opts:
            sys.exit(f"storyhash_adapter: unknown option --{k}\n\n{__doc__}")
        opts[k] = v
    for k in ("corpus", "out"):
        if opts[k] is None:
            sys.exit(f"storyhash_adapter: --{k} is required\n\n{__doc__}")
    return opts, extra


def main():
    opts, extra = parse_args(sys.argv[1:])
    binary = os.environ.get("STORYHASH_BIN") or os.path.join(REPO, "target", "release", "storyhash")
    emit = os.environ.get("STORYHASH_EMIT", "clusters")
    if emit not in ("clusters", "pairs"):
        sys.exit(f"storyhash_adapter: STORYHASH_EMIT must be clusters or pairs, not {emit!r}")
    out = os.path.abspath(opts["out"])
    # next to {out}: the harness's own temp dir, same file system
    tmp = tempfile.mkdtemp(prefix="storyhash-", dir=os.path.dirname(out))
    try:
        res_dir = os.path.join(tmp, "out")
        cmd = [binary, "dedup", opts["corpus"], "--out", res_dir]
        for k in ("threshold", "num-perm", "ngram", "threads"):
            if opts[k] is not None:
                cmd += [f"--{k}", opts[k]]
        cmd += ["--quiet"] + extra
        try:
            rc = subprocess.call(cmd)
        except OSError as e:
            sys.exit(f"storyhash_adapter: cannot run {binary}: {e} (set STORYHASH_BIN or cargo build --release)")
        if rc != 0:
            print(f"storyhash_adapter: storyhash exited with {rc}: {' '.join(cmd)}", file=sys.stderr)
            sys.exit(rc if 0 < rc < 256 else 1)

        clusters = []
        with open(os.path.join(res_dir, "duplicates.jsonl"), encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                c = json.loads(line)
                canon = c.get("canonical")
                ids = [] if canon is None else [canon]
                for m in c.get("members", ()):
                    mid = m["id"] if isinstance(m, dict) else m
                    if mid != canon:
                        ids.append(mid)
                if len(ids) >= 2:
                    clusters.append(ids)

        result = {}
        if emit == "pairs":
            result["pairs"] = [[c[i], c[j]] for c in clusters
                               for i in range(len(c)) for j in range(i + 1, len(c))]
        else:
            result["clusters"] = clusters
        summary_path = os.path.join(res_dir, "summary.json")
        if os.path.exists(summary_path):
            with open(summary_path, encoding="utf-8") as fh:
                summary = json.load(fh)
            if isinstance(summary, dict):
                if isinstance(summary.get("timings"), dict):
                    result["timings"] = summary["timings"]
                if isinstance(summary.get("lsh"), dict):
                    result["lsh"] = summary["lsh"]
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result.setdefault("timings", {})["peak_rss_mb"] = peak_kib / 1024.0
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, ensure_ascii=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
