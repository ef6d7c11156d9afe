#!/usr/bin/env python3
"""Scale-benchmark bookkeeping for run.sh (python3 stdlib only).

    report.py record RESULTS.jsonl SIZE CORPUS OUTDIR TIME_V_LOG LOAD_BEFORE LOAD_AFTER
        append one run (parsed /usr/bin/time -v output + OUTDIR/summary.json + CORPUS.meta.json)
    report.py table RESULTS.jsonl
        print the markdown tables and the linearity check for the runs in RESULTS.jsonl; several
        runs of one size (run.sh's REPEAT) make one row of their medians, the range of wall
        times beside the median and peak RSS the largest of them
    report.py disk DIR
        print how fast DIR's disk takes durable writes, in MB/s: 512 MiB written, then fsynced
        (the write stage at 1M ends with a 2.7 GB deduped.jsonl reaching the disk)
"""
import json
import os
import re
import sys

STAGE_ORDER = ["scan_and_sign", "boilerplate", "candidates", "verify", "cluster", "write", "total"]


def parse_time_v(path):
    r = {}
    for line in open(path, errors="replace"):
        line = line.strip()
        k, _, v = line.rpartition(": ")
        if k.startswith("Elapsed (wall clock) time"):
            parts = [float(x) for x in v.split(":")]
            secs = 0.0
            for p in parts:
                secs = secs * 60 + p
            r["wall_s"] = secs
        elif k == "Maximum resident set size (kbytes)":
            r["max_rss_kb"] = int(v)
        elif k == "User time (seconds)":
            r["user_s"] = float(v)
        elif k == "System time (seconds)":
            r["sys_s"] = float(v)
        elif k == "Exit status":
            r["exit_status"] = int(v)
        elif k == "Percent of CPU this job got":
            r["cpu_pct"] = int(v.rstrip("%") or 0)
    return r


def record(args):
    out, size, corpus, outdir, tlog, load0, load1 = args
    rec = {"size": int(size), "corpus": corpus, "corpus_bytes": os.path.getsize(corpus),
           "load_before": load0, "load_after": load1}
    rec.update(parse_time_v(tlog))
    meta = corpus + ".meta.json"
    if os.path.exists(meta):
        rec["injected_copies"] = json.load(open(meta)).get("near_dup_copies")
    sp = os.path.join(outdir, "summary.json")
    if os.path.exists(sp):
        s = json.load(open(sp))
        rec["articles"] = s.get("articles_in")
        rec["text_bytes"] = (s.get("stats") or {}).get("text_bytes")
        rec["duplicates_removed"] = s.get("duplicates_removed")
        rec["duplicate_clusters"] = s.get("duplicate_clusters")
        rec["candidate_pairs"] = (s.get("stats") or {}).get("candidate_pairs")
        rec["timings"] = s.get("timings") or {}
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")


def fmt(x, nd=1):
    return "-" if x is None else ("{:,.%df}" % nd).format(x)


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def merge_runs(group):
    """One row for the runs of one size: medians, the wall times' range, the largest peak RSS,
    the load before the first run and after the last; a count that differs between the runs
    (it should not: the output is deterministic) is kept as a list, to be seen."""
    if len(group) == 1:
        return dict(group[0], reps=1)
    r = dict(group[0])
    r["reps"] = len(group)
    walls = [g.get("wall_s") for g in group if g.get("wall_s") is not None]
    r["wall_s"] = median(walls)
    r["wall_range"] = (min(walls), max(walls)) if walls else None
    for k in ("user_s", "sys_s", "cpu_pct"):
        r[k] = median(g.get(k) for g in group)
    r["max_rss_kb"] = max(g.get("max_rss_kb", 0) for g in group)
    r["exit_status"] = max(g.get("exit_status", 0) for g in group)
    r["load_after"] = group[-1].get("load_after")
    for k in ("duplicates_removed", "duplicate_clusters", "candidate_pairs"):
        vals = sorted({g.get(k) for g in group}, key=lambda v: (v is None, v))
        r[k] = vals[0] if len(vals) == 1 else vals
    keys = {k for g in group for k in (g.get("timings") or {})}
    r["timings"] = {k: median((g.get("timings") or {}).get(k) for g in group) for k in keys}
    return r


def table(args):
    runs = [json.loads(l) for l in open(args[0]) if l.strip()]
    if not runs:
        sys.exit("no runs in " + args[0])
    sizes = []
    for r in runs:
        if r["size"] not in sizes:
            sizes.append(r["size"])
    runs = [merge_runs([r for r in runs if r["size"] == size]) for size in sizes]
    reps = max(r["reps"] for r in runs)
    if reps > 1:
        print("Medians of {} runs per size (wall: median, and the fastest to the slowest run).\n"
              .format(" / ".join(str(r["reps"]) for r in runs)))
    print("| articles | MB text | wall s | articles/s | MB/s | CPU % | peak RSS MB | RSS B/article "
          "| dups removed / injected | load (1 min) before → after |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in runs:
        n = r.get("articles") or r["size"]
        mb = (r.get("text_bytes") or r["corpus_bytes"]) / 1e6
        w = r.get("wall_s")
        rss = r.get("max_rss_kb", 0) * 1024
        wall = fmt(w, 2)
        if r.get("wall_range"):
            wall += " ({}–{})".format(fmt(r["wall_range"][0], 2), fmt(r["wall_range"][1], 2))
        removed = r.get("duplicates_removed")
        removed = ", ".join(fmt(v, 0) for v in removed) if isinstance(removed, list) \
            else fmt(removed, 0)
        print("| {:,} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} → {} |".format(
            n, fmt(mb), wall, fmt(n / w if w else None, 0), fmt(mb / w if w else None),
            fmt(r.get("cpu_pct"), 0), fmt(rss / 2**20, 0), fmt(rss / n, 0),
            removed, fmt(r.get("injected_copies"), 0),
            r.get("load_before", "?"), r.get("load_after", "?")))
        if r.get("exit_status"):
            print("|  | **exit status %d** |" % r["exit_status"])

    keys = []
    for r in runs:
        for k in (r.get("timings") or {}):
            if k not in keys:
                keys.append(k)
    keys.sort(key=lambda k: (STAGE_ORDER.index(k) if k in STAGE_ORDER else len(STAGE_ORDER) - 1, k))
    if keys:
        print("\nstoryhash's own stage timings (seconds, summary.json `timings`):\n")
        print("| articles | " + " | ".join(keys) + " |")
        print("|---:|" + "---:|" * len(keys))
        for r in runs:
            t = r.get("timings") or {}
            print("| {:,} | ".format(r.get("articles") or r["size"])
                  + " | ".join(fmt(t.get(k), 3) for k in keys) + " |")

    if len(runs) > 1:
        b = runs[0]
        bn = b.get("articles") or b["size"]
        print("\nGrowth vs {:,} articles (per-article ratio 1.00 = perfectly linear):\n".format(bn))
        print("| articles | × articles | × wall | × wall per article | × peak RSS | × RSS per article |"
              + "".join(" × %s per article |" % k for k in keys if k != "total"))
        print("|---:|---:|---:|---:|---:|---:|" + "---:|" * len([k for k in keys if k != "total"]))
        verdict = []
        for r in runs[1:]:
            n = r.get("articles") or r["size"]
            x = n / bn
            tw = r["wall_s"] / b["wall_s"]
            tr = r["max_rss_kb"] / b["max_rss_kb"]
            cells = []
            for k in keys:
                if k == "total":
                    continue
                t0, t1 = (b.get("timings") or {}).get(k), (r.get("timings") or {}).get(k)
                cells.append(fmt(t1 / t0 / x, 2) if t0 and t1 is not None else "-")
            print("| {:,} | {:.1f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |".format(
                n, x, tw, tw / x, tr, tr / x) + "".join(" %s |" % c for c in cells))
            verdict.append((n, tw / x, tr / x))
        print()
        for n, pw, pr in verdict:
            def word(p):
                return "linear" if 0.8 <= p <= 1.25 else ("sub-linear" if p < 0.8 else "super-linear")
            print("- {:,}: time {} (×{:.2f} per article), memory {} (×{:.2f} per article)".format(
                n, word(pw), pw, word(pr), pr))


def disk(args):
    import time
    path = os.path.join(args[0], ".disk-speed-test")
    block = os.urandom(1 << 20)
    start = time.perf_counter()
    try:
        with open(path, "wb") as f:
            for _ in range(512):
                f.write(block)
            f.flush()
            os.fsync(f.fileno())
        secs = time.perf_counter() - start
    finally:
        if os.path.exists(path):
            os.remove(path)
    print("{:.0f}".format(512 * (1 << 20) / secs / 1e6))


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    {"record": record, "table": table, "disk": disk}[cmd](rest)
