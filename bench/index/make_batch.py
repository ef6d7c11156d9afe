#!/usr/bin/env python3
"""Inputs for the index benchmark (python3 stdlib only).

    python3 bench/index/make_batch.py reid IN.jsonl OUT.jsonl PREFIX [--limit N]
    python3 bench/index/make_batch.py batch FRESH.jsonl HISTORY.jsonl OUT.jsonl [--copies 1000]

`reid` copies IN with every id prefixed by PREFIX (the scale corpora all number their ids from
a00000000, so two of them cannot share an index as they are), stopping after N lines.
`batch` writes tonight's batch: every article of FRESH with its id prefixed by "new-", then
--copies near-copies of HISTORY articles (every k-th one, three words changed, id "copy-<id>",
published a day later): duplicates the index must find. Deterministic.
"""
import datetime as dt
import json
import sys


def reid(src, dst, prefix, limit=None):
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                break
            r = json.loads(line)
            r["id"] = prefix + str(r["id"])
            out.write(json.dumps(r, ensure_ascii=False) + "\n")


def batch(fresh, history, dst, copies):
    with open(history, encoding="utf-8") as f:
        n = sum(1 for _ in f)
    step = max(1, n // copies)
    with open(dst, "w", encoding="utf-8") as out:
        with open(fresh, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                r["id"] = "new-" + str(r["id"])
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
        made = 0
        with open(history, encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i % step or made >= copies:
                    continue
                r = json.loads(line)
                words = r["text"].split(" ")
                for k in (len(words) // 4, len(words) // 2, 3 * len(words) // 4):
                    words[k] = "changed"
                r["text"] = " ".join(words)
                r["id"] = "copy-" + str(r["id"])
                when = dt.datetime.fromisoformat(r["published"].replace("Z", "+00:00"))
                r["published"] = (when + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
                made += 1


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["reid"] and len(args) in (4, 6):
        limit = int(args[5]) if len(args) == 6 and args[4] == "--limit" else None
        reid(args[1], args[2], args[3], limit)
    elif args[:1] == ["batch"] and len(args) in (4, 6):
        copies = int(args[5]) if len(args) == 6 and args[4] == "--copies" else 1000
        batch(args[1], args[2], args[3], copies)
    else:
        sys.exit(__doc__)
