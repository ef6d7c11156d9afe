#!/usr/bin/env python3
"""Medians over several full runs of the peer harness, as one Markdown table.

    python medians.py RESULTS_1.json RESULTS_2.json ...

Each RESULTS file is one run of peers.py (what `bench/peers/run.sh` writes; `RUNS=N run.sh`
makes N of them and calls this). A run times every tool once, one after another, so the runs
alternate the tools and the VM's drift falls on all of them alike.

Per tool and thread count it prints the median end-to-end time with its range, and how much
faster storyhash is: the median over the runs of that run's ratio (the tool's time divided by
storyhash's at the same thread count, in the same run), with its range. A ratio taken within
one run is what this machine's speed drift does not move; the ratio of the medians is printed
beside it. Peak RSS is the median of the harness's figures, but for storyhash, whose adapter
reports its own (the harness's maximum over the process tree can be the harness's own memory,
in the child it forks before the exec). The quality columns are the same in
every run for a deterministic tool; where a figure differs between runs its range is printed.
"""
import json
import statistics
import sys

STORYHASH = "external:storyhash"


def fmt_range(values, spec, unit=""):
    lo, mid, hi = min(values), statistics.median(values), max(values)
    if len(values) == 1:
        return format(mid, spec) + unit
    return f"{format(mid, spec)}{unit} ({format(lo, spec)}–{format(hi, spec)})"


def peak_rss(row):
    """The tool's own peak RSS in MiB: what storyhash's adapter reports of its child, else the
    harness's figure (the maximum over the process tree)."""
    own = ((row.get("reported") or {}).get("timings") or {}).get("peak_rss_mb")
    return own if isinstance(own, (int, float)) else row["peak_rss_mb"]


def quality(values, spec=".3f"):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    if format(lo, spec) == format(hi, spec):
        return format(lo, spec)
    return f"{format(lo, spec)}–{format(hi, spec)}"


def load(paths):
    runs = []
    for p in paths:
        with open(p) as fh:
            res = json.load(fh)
        rows = {}
        for s in res["summary"]:
            if s["peer"] == "floor" or s.get("e2e_s") is None:
                continue
            rows[(s["peer"], s.get("threads") or 1)] = s
        runs.append((p, res, rows))
    runs.sort(key=lambda r: r[1]["started"])
    return runs


def main():
    paths = sys.argv[1:]
    if not paths:
        sys.exit(__doc__)
    runs = load(paths)
    keys = []
    for _, _, rows in runs:
        for k in rows:
            if k not in keys:
                keys.append(k)
    # storyhash first, then the peers as the harness ordered them.
    order = list(keys)
    keys.sort(key=lambda k: (k[0] != STORYHASH, order.index(k)))
    corpus = runs[0][1]["corpus"]
    env = runs[0][1]["env"]
    print(f"{len(runs)} runs of the harness, {runs[0][1]['started']} to {runs[-1][1]['started']}; "
          f"{corpus['docs']:,} documents, {corpus['mb']:.0f} MB of text; "
          f"{env.get('cpu_model')}, {env.get('cpus')} CPUs")
    print()
    print("| tool | threads | end to end s, median (range) | storyhash faster by, median of the runs' "
          "ratios (range) | ratio of the medians | peak RSS MiB | cluster precision | cluster recall "
          "| duplicate docs found |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    missing = []
    for peer, th in keys:
        rows = [(rows[(peer, th)], rows.get((STORYHASH, th))) for _, _, rows in runs
                if (peer, th) in rows]
        if len(rows) < len(runs):
            missing.append(f"{peer} at {th} thread(s): {len(runs) - len(rows)} run(s) without a time")
        times = [r["e2e_s"] for r, _ in rows]
        if peer == STORYHASH:
            ratio = ratio_of_medians = "-"
        else:
            both = [(r["e2e_s"], s["e2e_s"]) for r, s in rows if s and s.get("e2e_s")]
            ratios = [theirs / ours for theirs, ours in both]
            ratio = fmt_range(ratios, ".1f", "×") if ratios else "-"
            # Over the runs that timed both, as the ratios are.
            ratio_of_medians = (f"{statistics.median(t for t, _ in both) / statistics.median(o for _, o in both):.1f}×"
                                if both else "-")
        q = [r.get("quality") or {} for r, _ in rows]
        name = "storyhash" if peer == STORYHASH else peer
        print(f"| {name} | {th} | {fmt_range(times, '.2f')} | {ratio} | {ratio_of_medians} | "
              f"{statistics.median(peak_rss(r) for r, _ in rows):.0f} | "
              f"{quality([x.get('cluster_pair_precision') for x in q])} | "
              f"{quality([x.get('cluster_pair_recall') for x in q])} | "
              f"{quality([x.get('doc_recall') for x in q])} |")
    print()
    for th in sorted({k[1] for k in keys}):
        peers = [k for k in keys if k[1] == th and k[0] != STORYHASH]
        if not peers or (STORYHASH, th) not in keys:
            continue
        med = {k: statistics.median(rows[k]["e2e_s"] for _, _, rows in runs if k in rows)
               for k in peers}
        fastest = min(peers, key=med.get)
        ratios = [rows[fastest]["e2e_s"] / rows[(STORYHASH, th)]["e2e_s"] for _, _, rows in runs
                  if fastest in rows and (STORYHASH, th) in rows]
        if not ratios:
            print(f"At {th} thread(s) no run timed both storyhash and {fastest[0]}.")
            continue
        print(f"At {th} thread(s) the fastest peer is {fastest[0]} ({med[fastest]:.2f} s median): "
              f"storyhash is {statistics.median(ratios):.1f}× faster (median of {len(ratios)} runs' "
              f"ratios, {min(ratios):.1f}× to {max(ratios):.1f}×).")
    for m in missing:
        print(f"WARNING: {m}")


if __name__ == "__main__":
    main()
