#!/usr/bin/env python3
"""Stories through a persistent index, one night per day, against one run over everything.

    python3 bench/stories/nightly.py SET.jsonl [--bin storyhash] [--work DIR] [--link auto|off|T ...]
                                     [--args "--text-field title"]

Splits SET (JSON Lines with `published` and a true `story` label) by UTC day, runs
`storyhash run DAY.jsonl --index IDX --out ...` for each day in order (a fresh index per
--link value, passed as --story-link-threshold), exports the index (every article with the
story it ended in) and scores it with `storyhash eval` (B-cubed F1); then the same SET in one
`storyhash run`. --args adds options to every run (nightly and one). Prints one markdown table.
Only python3's standard library.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("set")
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "../../target/release/storyhash"))
    ap.add_argument("--work", default="/tmp/storyhash-nightly")
    ap.add_argument("--link", nargs="+", default=["auto"],
                    help="values of --story-link-threshold: auto, off or a cosine")
    ap.add_argument("--args", default="", help="more storyhash options for every run, one string")
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    days_dir = os.path.join(args.work, "days")
    os.makedirs(days_dir)
    days = {}
    with open(args.set, encoding="utf-8") as f:
        for line in f:
            day = (json.loads(line).get("published") or "undated")[:10]
            days.setdefault(day, []).append(line)
    names = []
    for day in sorted(days):
        path = os.path.join(days_dir, f"{day}.jsonl")
        with open(path, "w", encoding="utf-8") as out:
            out.writelines(days[day])
        names.append(path)

    def f1(pred):
        out = subprocess.run([args.bin, "eval", "--truth", args.set, "--pred", pred, "--json"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)["bcubed_f1"]

    extra = shlex.split(args.args)
    rows = []
    for link in args.link:
        idx = os.path.join(args.work, f"idx-{link}")
        clock = time.time()
        for day in names:
            subprocess.run([args.bin, "run", day, "--out", os.path.join(args.work, "out"), "--index", idx,
                            "--story-link-threshold", link, "--quiet", *extra], check=True)
        secs = time.time() - clock
        pred = os.path.join(args.work, f"export-{link}.jsonl")
        with open(pred, "w") as out:
            subprocess.run([args.bin, "index", "export", idx], check=True, stdout=out)
        rows.append((f"nightly, {len(names)} batches, link {link}", f1(pred), secs))
    clock = time.time()
    one = os.path.join(args.work, "one")
    subprocess.run([args.bin, "run", args.set, "--out", one, "--quiet", *extra], check=True)
    rows.append(("one run over all", f1(os.path.join(one, "articles.jsonl")), time.time() - clock))
    print(f"| {os.path.basename(args.set)} {args.args} | B-cubed F1 | seconds |")
    print("|---|---:|---:|")
    for name, score, secs in rows:
        print(f"| {name} | {score:.4f} | {secs:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
