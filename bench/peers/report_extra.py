#!/usr/bin/env python3
"""Print what the peers.py table leaves out, from its results JSON.

    python report_extra.py RESULTS.json

Per peer and thread count: cluster-level pair precision/recall (every pair
inside each reported cluster against the truth pairs; this is the fair
comparison between the peers, which report verified pairs, and storyhash, which
reports clusters), doc-level P/R, the largest cluster, e2e CPU seconds, and the
stage timings an external tool reported about itself (storyhash's summary.json
"timings", which exclude process start-up and, per stage, show what reading
the input cost).
"""
import json
import sys


def f(v, spec):
    return "-" if v is None else format(v, spec)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as fh:
        res = json.load(fh)
    rows = [s for s in res["summary"] if s["peer"] != "floor"]
    if not rows:
        return
    print()
    hdr = (f"{'peer':18s} {'thr':>3s} {'e2e s':>7s} {'cpu s':>7s} {'clusters':>8s} {'largest':>7s} "
           f"{'clP':>6s} {'clR':>6s} {'clF1':>6s} {'docP':>6s} {'docR':>6s}")
    print("cluster-level quality (all pairs inside each cluster vs truth):")
    print(hdr)
    print("-" * len(hdr))
    for s in rows:
        q = s.get("quality") or {}
        print(f"{s['peer']:18s} {str(s.get('threads') or '-'):>3s} {f(s.get('e2e_s'), '.2f'):>7s} "
              f"{f(s.get('e2e_cpu_s'), '.2f'):>7s} {f(s.get('clusters'), 'd'):>8s} "
              f"{f(q.get('largest_cluster'), 'd'):>7s} {f(q.get('cluster_pair_precision'), '.3f'):>6s} "
              f"{f(q.get('cluster_pair_recall'), '.3f'):>6s} {f(q.get('cluster_pair_f1'), '.3f'):>6s} "
              f"{f(q.get('doc_precision'), '.3f'):>6s} {f(q.get('doc_recall'), '.3f'):>6s}")
        for e in s.get("errors", []):
            print(f"   ERROR {e}")
    for s in rows:
        rep = s.get("reported") or {}
        tm = rep.get("timings")
        if isinstance(tm, dict) and tm:
            parts = []
            for k, v in tm.items():
                if k == "peak_rss_mb":
                    parts.append(f"own peak RSS={v:.0f} MB")
                else:
                    parts.append(f"{k}={v:.3f}s" if isinstance(v, (int, float)) else f"{k}={v}")
            print(f"{s['peer']} thr={s.get('threads')} own timings: " + " ".join(parts))
        if "signature_s" in rep:
            print(f"{s['peer']} thr={s.get('threads')} own signature_s: {rep['signature_s']}")
    ext = [s for s in rows if s["peer"].startswith("external:")]
    if ext:
        print("external rows: e2e s = wall time of the whole process, including start-up and reading + "
              "parsing the JSONL file; the Python peers' e2e starts from texts already in memory.")


if __name__ == "__main__":
    main()
