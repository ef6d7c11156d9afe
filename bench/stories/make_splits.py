#!/usr/bin/env python3
"""Writes the development and reporting splits of the labeled news data, deterministically.

    python3 bench/stories/make_splits.py [--data /work/shared/data] [--out $BENCH_HOME/stories]

Standard library only. Every split is JSON Lines with the input lines copied byte for byte, in
input order:

development (tuning only)
  dev-uci-mar-apr.jsonl   UCI headlines published in March or April 2014 (from the 266 k gz file)
  dev-g5w1h.jsonl         Giveme5W1H articles of every other story: the distinct story labels
                          sorted, those at even positions (0, 2, 4, ...)
reporting (never tuned on)
  report-g5w1h.jsonl      Giveme5W1H articles of the other stories (odd positions); bodies
  report-uci-day.jsonl    the UCI day slice, uci-headlines-day-2014-05-06.jsonl, as is
  report-uci-may.jsonl    UCI headlines published in May 2014 (from the gz file)
speed
  uci-all.jsonl.gz        a link to the whole gz file (266,665 headlines, March to May)

The day slice lies inside May (all its ids are May headlines of the gz file): it is the same
kind of data as report-uci-may.jsonl, scored on its own as a one-day batch. No UCI story spans
April and May, so no story is cut by the dev/report boundary (checked, and recorded).

splits.json records, per split, the articles, stories, bytes and SHA-256, and the checks above.
"""

import argparse
import gzip
import hashlib
import json
import os
import sys
from collections import defaultdict

UCI_ALL = "uci-headlines-2014-03-to-05.jsonl.gz"
UCI_DAY = "uci-headlines-day-2014-05-06.jsonl"
G5W1H = "giveme5w1h-stories.jsonl"


def write_atomic(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        for line in lines:
            f.write(line if line.endswith(b"\n") else line + b"\n")
    os.replace(tmp, path)


def describe(path):
    h = hashlib.sha256()
    n = 0
    stories = set()
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            h.update(line)
            n += 1
            stories.add(json.loads(line)["story"])
    return {
        "articles": n,
        "stories": len(stories),
        "bytes": os.path.getsize(path),
        "sha256": h.hexdigest(),
    }


def main():
    default_out = os.path.join(
        os.environ.get("BENCH_HOME", os.path.expanduser("~/.cache/storyhash-bench")), "stories"
    )
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="/work/shared/data", help="directory of the labeled data")
    ap.add_argument("--out", default=default_out, help="where the splits go (default: %(default)s)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)

    # UCI: by the month of `published` (a date, YYYY-MM-DD).
    by_month = defaultdict(list)
    stories_by_month = defaultdict(set)
    with gzip.open(os.path.join(args.data, UCI_ALL), "rb") as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            month = record["published"][:7]
            by_month[month].append(line)
            stories_by_month[month].add(record["story"])
    unexpected = sorted(set(by_month) - {"2014-03", "2014-04", "2014-05"})
    if unexpected:
        sys.exit(f"make_splits: unexpected months in {UCI_ALL}: {unexpected}")
    write_atomic(out("dev-uci-mar-apr.jsonl"), by_month["2014-03"] + by_month["2014-04"])
    write_atomic(out("report-uci-may.jsonl"), by_month["2014-05"])
    dev_stories = stories_by_month["2014-03"] | stories_by_month["2014-04"]
    straddling = len(dev_stories & stories_by_month["2014-05"])

    # The day slice, as is; check it lies inside May.
    with open(os.path.join(args.data, UCI_DAY), "rb") as f:
        day = [line for line in f if line.strip()]
    write_atomic(out("report-uci-day.jsonl"), day)
    may_ids = {json.loads(line)["id"] for line in by_month["2014-05"]}
    day_in_may = sum(json.loads(line)["id"] in may_ids for line in day)

    # Giveme5W1H: by story label, every other one of the sorted labels.
    with open(os.path.join(args.data, G5W1H), "rb") as f:
        g5 = [line for line in f if line.strip()]
    labels = sorted({json.loads(line)["story"] for line in g5})
    dev_labels = set(labels[0::2])
    write_atomic(out("dev-g5w1h.jsonl"), [l for l in g5 if json.loads(l)["story"] in dev_labels])
    write_atomic(
        out("report-g5w1h.jsonl"), [l for l in g5 if json.loads(l)["story"] not in dev_labels]
    )

    link = out("uci-all.jsonl.gz")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.abspath(os.path.join(args.data, UCI_ALL)), link)

    names = [
        "dev-uci-mar-apr.jsonl",
        "dev-g5w1h.jsonl",
        "report-g5w1h.jsonl",
        "report-uci-day.jsonl",
        "report-uci-may.jsonl",
    ]
    manifest = {
        "data": os.path.abspath(args.data),
        "splits": {name: describe(out(name)) for name in names},
        "checks": {
            "uci_day_slice_ids_in_may": f"{day_in_may} of {len(day)}",
            "uci_stories_in_both_mar_apr_and_may": straddling,
            "g5w1h_stories_dev_report": [len(dev_labels), len(labels) - len(dev_labels)],
        },
    }
    tmp = out("splits.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, out("splits.json"))
    for name, d in manifest["splits"].items():
        print(f"{name:<24} {d['articles']:>7} articles {d['stories']:>5} stories", file=sys.stderr)
    print(f"checks: {json.dumps(manifest['checks'])}", file=sys.stderr)


if __name__ == "__main__":
    main()
