#!/usr/bin/env python3
"""Builds data/sample.jsonl: real news articles plus injected near-duplicate copies.

Usage (from the repository root):

    python3 data/make_sample.py [SOURCE_JSONL] > data/sample.jsonl

SOURCE_JSONL defaults to /work/shared/data/giveme5w1h-stories.jsonl (the Giveme5W1H
news_cluster examples as JSON Lines, one article per line). The output is byte-identical on
every run for the same source file: the story selection is a pure function of the data and the
copies come from a fixed-seed generator. Standard library only.

What it writes, one JSON object per line with the fields id, source, url, title, text, published
and story (all strings):

1. Real articles, in source-file order. Whole stories are taken (so every same-story group is
   complete), cheapest stories first (by mean encoded record size, then story name), as long as
   they fit in ORIGINALS_BUDGET bytes.
2. N_COPIES injected syndicated copies of some of those articles, appended at the end. A copy
   has the id "<original id>-copyN", an aggregator outlet as source, a publication time a few
   hours after the original, and the same story label. Its text is the original's with
   syndication-style edits: a byline header, a share-widget footer or "Also Read" line, a word
   or two changed, sometimes a sentence dropped, sometimes curly quotes straightened (or the
   reverse) and paragraphs spaced differently.
"""

import datetime
import json
import random
import re
import sys
from collections import defaultdict

SEED = 5_351_001
ORIGINALS_BUDGET = 345_000
N_COPIES = 20
FIELDS = ["id", "source", "url", "title", "text", "published", "story"]
DEFAULT_SOURCE = "/work/shared/data/giveme5w1h-stories.jsonl"

AGGREGATORS = ["aggregator.example", "newswire-mirror.example", "dailyfeed.example"]
BYLINES = [
    "By Staff Reporter",
    "By Wire Desk | {agg}",
    "By News Desk",
    "Written by Aggregator Staff",
    "Posted by admin",
]
FOOTERS = [
    "Share this:\nTwitter\n\nFacebook\n\nLike this: Like Loading...",
    "Share this:\nTwitter\n\nFacebook\n\nWhatsApp\n\nTelegram\n\nLinkedIn\n\n\n\nLike this: Like Loading...",
    "Share on Facebook Share on Twitter Share via Email",
    "Copyright {year} {agg}. All rights reserved.",
    "Click here to sign up for our daily newsletter.",
]
# Word swaps a copy editor might make; only words present in the text are used.
SWAPS = {
    "said": "stated",
    "says": "states",
    "told": "informed",
    "people": "individuals",
    "officials": "authorities",
    "about": "around",
    "after": "following",
    "many": "numerous",
    "began": "started",
    "started": "began",
    "big": "large",
    "large": "big",
    "help": "assist",
    "but": "however",
    "show": "reveal",
    "new": "fresh",
}

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def encoded(record):
    """The record as one output line (without the newline)."""
    return json.dumps({k: record[k] for k in FIELDS}, ensure_ascii=False)


def select_stories(rows):
    """Whole stories, cheapest first, within ORIGINALS_BUDGET bytes."""
    by_story = defaultdict(list)
    for r in rows:
        by_story[r["story"]].append(r)
    sizes = {s: sum(len(encoded(r).encode()) + 1 for r in rs) for s, rs in by_story.items()}
    order = sorted(by_story, key=lambda s: (sizes[s] / len(by_story[s]), s))
    chosen, total = set(), 0
    for s in order:
        if total + sizes[s] <= ORIGINALS_BUDGET:
            chosen.add(s)
            total += sizes[s]
    return chosen


def swap_words(text, rng, n):
    """Replaces up to n whole words found in SWAPS."""
    for _ in range(n):
        hits = [m for m in re.finditer(r"\b[a-z]+\b", text) if m.group(0) in SWAPS]
        if not hits:
            break
        m = rng.choice(hits)
        text = text[: m.start()] + SWAPS[m.group(0)] + text[m.end() :]
    return text


def drop_sentence(text, rng):
    """Drops one sentence (never the first) from a paragraph of two or more."""
    paragraphs = text.split("\n")
    multi = [i for i, p in enumerate(paragraphs) if len(SENTENCE_END.split(p)) >= 2]
    if not multi:
        return text
    i = rng.choice(multi)
    sentences = SENTENCE_END.split(paragraphs[i])
    del sentences[rng.randrange(1, len(sentences))]
    paragraphs[i] = " ".join(sentences)
    return "\n".join(paragraphs)


def flip_quotes(text, rng):
    """Straightens curly quotes, or curls straight apostrophes when there are none."""
    if any(c in text for c in "‘’“”"):
        for a, b in [("‘", "'"), ("’", "'"), ("“", '"'), ("”", '"')]:
            text = text.replace(a, b)
        return text
    return re.sub(r"(?<=\w)'(?=\w)", "’", text)


def make_copy(orig, n, rng, titles):
    """One syndicated copy of `orig`."""
    agg = rng.choice(AGGREGATORS)
    text = orig["text"]
    text = swap_words(text, rng, rng.randint(1, 2))
    if rng.random() < 0.5:
        text = drop_sentence(text, rng)
    if rng.random() < 0.4:
        text = flip_quotes(text, rng)
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    if rng.random() < 0.4 and len(paragraphs) >= 3:
        other = rng.choice([t for t in titles if t != orig["title"]])
        paragraphs.insert(rng.randrange(1, len(paragraphs)), f"Also Read: {other}")
    published = datetime.datetime.fromisoformat(orig["published"])
    published += datetime.timedelta(hours=rng.randint(2, 30), minutes=rng.randint(0, 59))
    header = rng.choice(BYLINES).format(agg=agg)
    footer = rng.choice(FOOTERS).format(agg=agg, year=published.year)
    sep = rng.choice(["\n", "\n\n"])
    text = header + "\n" + sep.join(paragraphs) + "\n\n" + footer
    slug = re.sub(r"[^a-z0-9]+", "-", orig["title"].lower()).strip("-")[:60]
    return {
        "id": f"{orig['id']}-copy{n}",
        "source": agg,
        "url": f"https://{agg}/{published:%Y/%m/%d}/{slug}",
        "title": orig["title"] if rng.random() < 0.6 else f"{orig['title']} | {agg}",
        "text": text,
        "published": published.isoformat(timespec="seconds"),
        "story": orig["story"],
    }


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SOURCE
    with open(source, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    stories = select_stories(rows)
    originals = [r for r in rows if r["story"] in stories]

    rng = random.Random(SEED)
    titles = sorted({r["title"] for r in originals})
    # Copy articles with a real body; the first few picked get two copies.
    eligible = sorted((r for r in originals if len(r["text"]) >= 800), key=lambda r: r["id"])
    picked = rng.sample(eligible, N_COPIES - 3)
    plan = [(r, 1) for r in picked] + [(r, 2) for r in picked[:3]]
    copies = [make_copy(orig, n, rng, titles) for orig, n in plan]

    out = sys.stdout
    for r in originals + copies:
        out.write(encoded(r) + "\n")
    print(
        f"make_sample: {len(originals)} articles from {len(stories)} stories, "
        f"{len(copies)} injected copies",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
