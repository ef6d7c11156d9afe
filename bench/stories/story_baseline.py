#!/usr/bin/env python3
"""Same-story baseline: scikit-learn TF-IDF + average-link agglomerative clustering on cosine
distance, within a time window.

    story_baseline.py cluster INPUT --out DIR --threshold T [--window auto|day|none]
    story_baseline.py tune DEV.jsonl --name KIND --cache FILE [--grid 0.50:0.995:0.005]

Each article is represented by its title and the lead of its text (the first --lead-chars
characters, default 500; headline-only sets have an empty text) as a TfidfVectorizer vector:
unigrams and bigrams, sublinear tf, English stop words, L2-normalized rows, IDF fitted on the
whole input. Articles are clustered by AgglomerativeClustering(linkage="average",
distance_threshold=T, n_clusters=None) on cosine distance. The distance is computed once per
window from the sparse normalized vectors, 1 - X Xᵀ, and passed as metric="precomputed": for
L2-normalized rows this is exactly metric="cosine" (which scikit-learn only accepts on dense
input, and computes from the dense matrix at vocabulary-size cost per pair). An article whose
vector is empty is at distance 1 from everything.

Time window (--window): "day" clusters the articles of each calendar day of `published`
separately (no story crosses midnight; articles without a date form one group of their own);
"none" clusters the whole input at once; "auto" (default) is "day" for inputs of more than
5,000 articles and "none" otherwise, so that Giveme5W1H (stories spanning weeks, a few hundred
articles) is clustered whole and the UCI headline sets (tens of thousands) per day.

cluster writes DIR/articles.jsonl, one {"id", "story"} per input article in input order (ids as
the input gave them, story an integer), which `storyhash eval --pred DIR/articles.jsonl` reads,
and DIR/baseline.json with the parameters, counts and stage times.

tune searches the threshold on development data only: it builds the average-link tree of each
window once (scipy's linkage, which is what AgglomerativeClustering runs) and cuts it at every
grid value the way AgglomerativeClustering(distance_threshold=T) does (merges at distance < T
are kept), scores each cut by B-cubed F1 against the file's `story` labels, keeps the best
(the smallest T on a tie), then re-runs the real AgglomerativeClustering at that T and checks
that it gives the same score. The result is merged into the JSON cache file under KIND
({"KIND": {"threshold": T, "bcubed_f1": ..., "dev": ..., "grid": ...}}).
"""

import argparse
import gzip
import hashlib
import json
import os
import sys
import time
from collections import defaultdict

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

AUTO_DAY_WINDOW_ABOVE = 5000


def read_articles(path, lead_chars):
    """Ids, texts (title + lead), day keys and story labels (None when absent) of a JSONL file."""
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    ids, texts, days, stories = [], [], [], []
    with opener(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            ids.append(r["id"])
            title = r.get("title") or ""
            lead = (r.get("text") or "")[:lead_chars]
            texts.append(f"{title}. {lead}" if lead else title)
            days.append((r.get("published") or "")[:10])
            stories.append(r.get("story"))
    return ids, texts, days, stories


def vectorize(texts, stop_words):
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        stop_words=None if stop_words == "none" else stop_words,
        dtype=np.float32,
    )
    return vectorizer.fit_transform(texts)


def windows(days, window):
    """Index arrays of the groups clustered separately, in order of first appearance."""
    if window == "auto":
        window = "day" if len(days) > AUTO_DAY_WINDOW_ABOVE else "none"
    if window == "none":
        return window, [np.arange(len(days))]
    groups = defaultdict(list)
    for i, day in enumerate(days):
        groups[day].append(i)
    return window, [np.asarray(g) for g in groups.values()]


def cosine_distances(X):
    """Square cosine-distance matrix of L2-normalized sparse rows, float32 like the vectors
    (scipy's linkage computes in float64 from it), zero diagonal."""
    dist = (X @ X.T).toarray()
    np.subtract(np.float32(1.0), dist, out=dist)
    np.clip(dist, 0.0, 2.0, out=dist)
    np.fill_diagonal(dist, 0.0)
    return dist


def cluster_window(X, threshold):
    """Labels 0..k-1 of one window by scikit-learn's AgglomerativeClustering."""
    if X.shape[0] == 1:
        return np.zeros(1, dtype=np.int64)
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage="average",
        distance_threshold=threshold,
    )
    return model.fit_predict(cosine_distances(X))


def cluster_all(X, groups, threshold):
    labels = np.empty(X.shape[0], dtype=np.int64)
    offset = 0
    for idx in groups:
        window_labels = cluster_window(X[idx], threshold)
        labels[idx] = window_labels + offset
        offset += int(window_labels.max()) + 1
    return labels


def bcubed(truth, pred):
    """B-cubed precision, recall and F1 (averaged over items) from two label arrays.
    Items without a true label are singletons."""
    truth = np.asarray([t if t is not None else f"\0singleton{i}" for i, t in enumerate(truth)])
    _, t = np.unique(truth, return_inverse=True)
    _, p = np.unique(np.asarray(pred), return_inverse=True)
    n = len(t)
    cells, counts = np.unique(np.stack([t, p]), axis=1, return_counts=True)
    a = np.bincount(t)
    b = np.bincount(p)
    sq = counts.astype(np.float64) ** 2
    precision = float((sq / b[cells[1]]).sum() / n)
    recall = float((sq / a[cells[0]]).sum() / n)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def parse_grid(spec):
    lo, hi, step = (float(x) for x in spec.split(":"))
    n = int(round((hi - lo) / step)) + 1
    return [round(lo + i * step, 6) for i in range(n)]


def cmd_cluster(args):
    clock = time.perf_counter()
    ids, texts, days, _ = read_articles(args.input, args.lead_chars)
    t_read = time.perf_counter() - clock
    X = vectorize(texts, args.stop_words)
    t_vec = time.perf_counter() - clock - t_read
    window, groups = windows(days, args.window)
    labels = cluster_all(X, groups, args.threshold)
    t_cluster = time.perf_counter() - clock - t_read - t_vec
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "articles.jsonl")
    with open(path + ".tmp", "w") as f:
        for article_id, label in zip(ids, labels):
            f.write(json.dumps({"id": article_id, "story": int(label)}) + "\n")
    os.replace(path + ".tmp", path)
    summary = {
        "input": args.input,
        "articles": len(ids),
        "clusters": int(labels.max()) + 1 if len(ids) else 0,
        "threshold": args.threshold,
        "window": window,
        "windows": len(groups),
        "largest_window": max((len(g) for g in groups), default=0),
        "lead_chars": args.lead_chars,
        "stop_words": args.stop_words,
        "features": X.shape[1],
        "seconds": {
            "read": round(t_read, 3),
            "vectorize": round(t_vec, 3),
            "cluster": round(t_cluster, 3),
            "total": round(time.perf_counter() - clock, 3),
        },
    }
    with open(os.path.join(args.out, "baseline.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    if not args.quiet:
        print(json.dumps(summary), file=sys.stderr)


def cmd_tune(args):
    clock = time.perf_counter()
    ids, texts, days, stories = read_articles(args.dev, args.lead_chars)
    if all(s is None for s in stories):
        sys.exit(f"story_baseline: {args.dev} has no `story` labels to tune on")
    X = vectorize(texts, args.stop_words)
    window, groups = windows(days, args.window)
    grid = parse_grid(args.grid)
    # One average-link tree per window, cut at every grid value.
    trees = []
    for idx in groups:
        if len(idx) == 1:
            trees.append(None)
            continue
        condensed = squareform(cosine_distances(X[idx]), checks=False)
        trees.append(linkage(condensed, method="average"))
    results = []
    for threshold in grid:
        labels = np.empty(len(ids), dtype=np.int64)
        offset = 0
        # AgglomerativeClustering keeps merges at distance < T; fcluster keeps those <= t.
        cut = np.nextafter(threshold, -np.inf)
        for idx, tree in zip(groups, trees):
            if tree is None:
                window_labels = np.zeros(1, dtype=np.int64)
            else:
                window_labels = fcluster(tree, cut, criterion="distance") - 1
            labels[idx] = window_labels + offset
            offset += int(window_labels.max()) + 1
        p, r, f1 = bcubed(stories, labels)
        results.append((threshold, p, r, f1, offset))
        if args.verbose:
            print(
                f"T={threshold:.3f} B3 P={p:.4f} R={r:.4f} F1={f1:.4f} clusters={offset}",
                file=sys.stderr,
            )
    best = max(results, key=lambda x: (round(x[3], 12), -x[0]))
    threshold = best[0]
    # The real thing at the chosen threshold must score the same.
    check = bcubed(stories, cluster_all(X, groups, threshold))
    if abs(check[2] - best[3]) > 1e-9:
        sys.exit(
            f"story_baseline: tree cut and AgglomerativeClustering disagree at T={threshold}: "
            f"{best[3]} vs {check[2]}"
        )
    entry = {
        "threshold": threshold,
        "bcubed_precision": round(best[1], 6),
        "bcubed_recall": round(best[2], 6),
        "bcubed_f1": round(best[3], 6),
        "clusters": best[4],
        "dev": os.path.abspath(args.dev),
        "articles": len(ids),
        "window": window,
        "grid": args.grid,
        "lead_chars": args.lead_chars,
        "stop_words": args.stop_words,
        "seconds": round(time.perf_counter() - clock, 1),
        # run.sh re-tunes when this script changes.
        "script_sha256": hashlib.sha256(open(__file__, "rb").read()).hexdigest(),
    }
    cache = {}
    if os.path.exists(args.cache):
        with open(args.cache) as f:
            cache = json.load(f)
    cache[args.name] = entry
    with open(args.cache + ".tmp", "w") as f:
        json.dump(cache, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(args.cache + ".tmp", args.cache)
    print(json.dumps({args.name: entry}), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--lead-chars", type=int, default=500, help="characters of text after the title")
        p.add_argument("--window", choices=["auto", "day", "none"], default="auto")
        p.add_argument(
            "--stop-words",
            choices=["english", "none"],
            default="english",
            help="TfidfVectorizer stop words (default %(default)s: better on both dev sets)",
        )

    c = sub.add_parser("cluster", help="cluster INPUT into DIR/articles.jsonl")
    c.add_argument("input")
    c.add_argument("--out", required=True)
    c.add_argument("--threshold", type=float, required=True, help="cosine distance threshold")
    c.add_argument("--quiet", action="store_true")
    common(c)
    c.set_defaults(func=cmd_cluster)

    t = sub.add_parser("tune", help="grid-search the threshold on development data")
    t.add_argument("dev")
    t.add_argument("--name", required=True, help="key of the tuned value in the cache")
    t.add_argument("--cache", required=True, help="JSON file the tuned value is merged into")
    t.add_argument("--grid", default="0.50:0.995:0.005", help="LO:HI:STEP (default %(default)s)")
    t.add_argument("--verbose", action="store_true", help="print every grid point")
    common(t)
    t.set_defaults(func=cmd_tune)

    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
