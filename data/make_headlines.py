"""Builds data/headlines-sample.jsonl: whole stories of the UCI News Aggregator day slice.

Source: ../shared/data/uci-headlines-day-2014-05-06.jsonl (UCI News Aggregator, Gasparetti;
public domain). Takes the stories of 15 to 120 headlines, in order of their story id, while the
total stays under 800 headlines; keeps the source order of lines. Deterministic.

    python3 data/make_headlines.py ../shared/data/uci-headlines-day-2014-05-06.jsonl
"""
import collections
import json
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/uci-headlines-day-2014-05-06.jsonl"
rows = [json.loads(line) for line in open(src, encoding="utf-8")]
sizes = collections.Counter(r["story"] for r in rows)
chosen, total = set(), 0
for story in sorted(sizes):
    n = sizes[story]
    if 15 <= n <= 120 and total + n <= 800:
        chosen.add(story)
        total += n
keep = ("id", "source", "url", "title", "text", "published", "story")
with open("data/headlines-sample.jsonl", "w", encoding="utf-8") as out:
    for r in rows:
        if r["story"] in chosen:
            out.write(json.dumps({k: r[k] for k in keep if k in r}, ensure_ascii=False) + "\n")
print(f"{total} headlines, {len(chosen)} stories")
