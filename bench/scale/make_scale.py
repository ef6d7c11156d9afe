#!/usr/bin/env python3
"""Synthetic news-length corpus for storyhash scale benchmarks (python3 stdlib only).

    python3 bench/scale/make_scale.py N OUT.jsonl [--seed S] [--dup-rate 0.10] [--base FILE] [--truth FILE]
                                      [--mean-bytes 2900]

Writes N JSON Lines articles {id, title, source, published, text} built from real English
sentences of the peer-bench base corpus ($BENCH_HOME/corpus/base.jsonl, BENCH_HOME defaulting to
~/.cache/storyhash-bench; built by bench/peers/make_corpus.sh).  Deterministic: the same base file,
N, seed and dup rate give byte-identical output, and the first n articles of a larger corpus are
*not* guaranteed equal to a smaller one (sizes are generated independently).

* Originals (~90%): 4-12 passages (runs of 1-6 consecutive sentences) from as many different base
  documents, regrouped into paragraphs of 2-4 sentences separated by blank lines, until a target
  length drawn from a skewed distribution (mean ~3 KB, 600 B - 12 KB) is reached.  --mean-bytes
  scales that distribution (its range stays 1/5 to 4x the mean): short articles reach many
  millions of articles in a few GB, for memory per article at 10M.  Sentences come
  from a pool of ~0.6M unique filtered prose sentences, so two originals share (almost) no word
  5-grams.  Title: the lead sentence's first words.  Source: one of 200 outlets (Zipf-like weights).
* Near-duplicates (~--dup-rate): a copy of a random one of the last 20,000 articles written (an
  original or itself a copy), with 1-3 small edits: drop a sentence, change 1-5 words, add a
  byline paragraph, add a "Share this: Twitter Facebook"-style footer; usually under another
  outlet, published 10 minutes - 3 days later, the title sometimes suffixed with the outlet.
* published: RFC 3339 UTC timestamps within March 2025.

Streams to OUT (constant memory apart from the sentence pool, ~0.5 GB).  Prints articles, copies
and bytes on stderr and writes OUT.meta.json.  --truth FILE writes "copy_id<TAB>source_id" lines.
"""
import argparse
import bisect
import datetime as dt
import json
import math
import os
import re
import sys
import time

import random

SCRIPT_VERSION = 2

# ---------------------------------------------------------------- sentence pool
_PARA = re.compile(r"\n\s*\n")
_SENT = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z])")
# code, markup, paths, URLs, identifiers like os.path / e.g., ellipses
_JUNK = re.compile(r"[{}<>=_/\\|#$@%^*~`\[\];]|\.\.|::|[A-Za-z0-9]\.[A-Za-z0-9]")
_ENDOK = re.compile(r"[a-z][.!?][\"')]?$")


def load_pool(base_path):
    """Unique prose sentences, in base-file order, plus for each the index one past the end of
    its document's run (so passages never cross documents)."""
    sents, ends, seen = [], [], set()
    with open(base_path, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            start = len(sents)
            for para in _PARA.split(doc.get("text") or ""):
                para = " ".join(para.split())
                if len(para) < 40:
                    continue
                for s in _SENT.split(para):
                    n = len(s)
                    if n < 40 or n > 400 or not s[0].isupper() or not _ENDOK.search(s, n - 3):
                        continue
                    if _JUNK.search(s):
                        continue
                    words = s.split()
                    if len(words) < 7 or sum(w.isalpha() for w in words) < 0.75 * len(words):
                        continue
                    if s in seen:
                        continue
                    seen.add(s)
                    sents.append(s)
            ends.extend([len(sents)] * (len(sents) - start))
    return sents, ends


# ---------------------------------------------------------------- outlets, people
_PLACES = ("Springfield Riverton Fairview Greenville Kingston Ashford Bristol Clayton Dover "
           "Easton Franklin Georgetown Hamilton Irvington Jackson Kent Lancaster Madison Newport "
           "Oakland Princeton Quincy Richmond Salem Trenton Union Vernon Warren Yorktown Zion "
           "Bayside Cedar Delta Elmwood Falls Glenwood Harbor Inland Lakeside Midland Northfield "
           "Pinecrest Ridgeway Southport Tidewater Valley Westfield").split()
_MASTS = ("Times", "Herald", "Post", "Tribune", "Gazette", "Observer", "Chronicle", "Courier",
          "Daily News", "Journal", "Ledger", "Sentinel", "Star", "Examiner", "Register", "Dispatch")
_WIRES = ["Reuters", "Associated Press", "AFP", "Bloomberg", "United Press International",
          "Press Association", "Canadian Press", "DPA", "EFE", "Kyodo News"]
_FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
          "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa "
          "Anthony Betty Mark Sandra Paul Ashley Steven Emily Andrew Donna Kenneth Michelle").split()
_LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
         "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
         "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott").split()
_FOOTERS = ("Share this: Twitter Facebook", "Share this:\nTwitter\nFacebook",
            "Share this: Twitter Facebook Email Print", "Share this article: Facebook Twitter WhatsApp",
            "Like this: Like Loading...", "Follow us on Twitter and Facebook for the latest news.",
            "Copyright {outlet}. All rights reserved.",
            "(Reporting by {name}; Editing by {name2})")


def make_outlets(rng, n=200):
    names = list(_WIRES)
    while len(names) < n:
        cand = "The %s %s" % (rng.choice(_PLACES), rng.choice(_MASTS))
        if cand not in names:
            names.append(cand)
    rng.shuffle(names)
    cum, tot = [], 0.0
    for rank in range(1, n + 1):
        tot += 1.0 / rank ** 0.8
        cum.append(tot)
    return names, cum


# ---------------------------------------------------------------- generation
def main():
    bench_home = os.environ.get("BENCH_HOME") or os.path.expanduser("~/.cache/storyhash-bench")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of articles")
    ap.add_argument("out", help="output .jsonl path ('-' for stdout)")
    ap.add_argument("--seed", type=int, default=20250301)
    ap.add_argument("--dup-rate", type=float, default=0.10)
    ap.add_argument("--base", default=os.path.join(bench_home, "corpus", "base.jsonl"))
    ap.add_argument("--truth", help="write copy_id<TAB>source_id lines here")
    ap.add_argument("--mean-bytes", type=int, default=None,
                    help="mean article length (default ~2,900 B: mu 7.85, 600 B - 12 KB)")
    a = ap.parse_args()
    if a.mean_bytes is not None and a.mean_bytes < 5:
        sys.exit("--mean-bytes must be at least 5")
    if not os.path.exists(a.base):
        sys.exit("base corpus not found: %s (build it with bench/peers/make_corpus.sh)" % a.base)

    t0 = time.time()
    sents, ends = load_pool(a.base)
    nsent = len(sents)
    print("pool: %d sentences from %s (%.1fs)" % (nsent, a.base, time.time() - t0), file=sys.stderr)

    if a.mean_bytes is None:
        mu, lo, hi = 7.85, 600, 12000
    else:
        # lognormal mean = exp(mu + sigma^2 / 2), sigma 0.5
        mu = math.log(a.mean_bytes) - 0.125
        lo, hi = max(1, a.mean_bytes // 5), a.mean_bytes * 4
    rng = random.Random(a.seed)
    outlets, outlet_cum = make_outlets(rng)
    outlet_tot = outlet_cum[-1]
    month0 = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
    epoch0 = int(month0.timestamp())
    month_s = 31 * 86400

    def rfc3339(ts):
        return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    rnd, rint, rchoice = rng.random, rng.randint, rng.choice
    bis = bisect.bisect

    def pick_outlet():
        return outlets[bis(outlet_cum, rnd() * outlet_tot)]

    def original():
        # target length: skewed (mean ~3 KB); clamp 600 B - 12 KB
        target = min(hi, max(lo, int(rng.lognormvariate(mu, 0.5))))
        chosen, size = [], 0
        while size < target:
            g = rng.randrange(nsent)
            e = min(ends[g], g + rint(1, 6))
            for s in sents[g:e]:
                chosen.append(s)
                size += len(s) + 1
                if size >= target:
                    break
        # paragraphs of 2-4 sentences (a leftover single sentence joins the previous one): a
        # one-sentence paragraph would recur verbatim in many articles of a big outlet at 1M
        # articles (each pool sentence is drawn ~60 times) and look like outlet boilerplate
        paras, i, m = [], 0, len(chosen)
        while i < m:
            k = rint(2, 4)
            if m - i - k == 1:
                k += 1
            paras.append(chosen[i:i + k])
            i += k
        lead = chosen[0].split()
        title = " ".join(lead[:rint(6, 12)]).rstrip(",;:.!?\"')")
        return paras, title

    def edit_copy(paras, title, outlet):
        paras = [list(p) for p in paras]
        pre, post = [], []
        edits = rng.sample(("drop", "words", "byline", "footer"), rint(1, 3))
        if "drop" in edits:
            nsent_art = sum(len(p) for p in paras)
            if nsent_art > 3:
                pi = rng.randrange(len(paras))
                del paras[pi][rng.randrange(len(paras[pi]))]
                if not paras[pi]:
                    del paras[pi]
        if "words" in edits:
            for _ in range(rint(1, 5)):
                pi = rng.randrange(len(paras))
                si = rng.randrange(len(paras[pi]))
                w = paras[pi][si].split(" ")
                donor = sents[rng.randrange(nsent)].split(" ")
                w[rng.randrange(len(w))] = donor[rng.randrange(len(donor))]
                paras[pi][si] = " ".join(w)
        if "byline" in edits:
            by = "By %s %s" % (rchoice(_FIRST), rchoice(_LAST))
            pre.append(by if rnd() < 0.5 else "%s, %s" % (by, outlet))
        if "footer" in edits:
            post.append(rchoice(_FOOTERS).format(
                outlet=outlet, name="%s %s" % (rchoice(_FIRST), rchoice(_LAST)),
                name2="%s %s" % (rchoice(_FIRST), rchoice(_LAST))))
        if rnd() < 0.3:
            title = "%s | %s" % (title, outlet)
        return paras, title, pre, post

    out = sys.stdout if a.out == "-" else open(a.out + ".tmp", "w", encoding="utf-8")
    truth = open(a.truth, "w") if a.truth else None
    ring, RING = [], 20000
    dumps = json.dumps
    copies, nbytes, text_bytes, buf = 0, 0, 0, []
    for n in range(a.n):
        aid = "a%08d" % n
        pre = post = ()
        if ring and rnd() < a.dup_rate:
            src = ring[rng.randrange(len(ring))]
            sid, paras0, title0, ts0, outlet0 = src
            outlet = outlet0 if rnd() < 0.15 else pick_outlet()
            paras, title, pre, post = edit_copy(paras0, title0, outlet)
            ts = min(epoch0 + month_s - 1, ts0 + rint(600, 3 * 86400))
            copies += 1
            if truth:
                truth.write("%s\t%s\n" % (aid, sid))
        else:
            paras, title = original()
            outlet = pick_outlet()
            ts = epoch0 + rng.randrange(month_s)
        body = [" ".join(p) for p in paras]
        text = "\n\n".join([*pre, *body, *post])
        rec = {"id": aid, "title": title, "source": outlet, "published": rfc3339(ts), "text": text}
        line = dumps(rec, ensure_ascii=False) + "\n"
        buf.append(line)
        text_bytes += len(text)  # chars; ~bytes (pool is almost all ASCII)
        item = (aid, paras, title, ts, outlet)
        if len(ring) < RING:
            ring.append(item)
        else:
            ring[n % RING] = item
        if len(buf) >= 2000:
            s = "".join(buf)
            nbytes += len(s.encode("utf-8")) if not s.isascii() else len(s)
            out.write(s)
            buf = []
    if buf:
        s = "".join(buf)
        nbytes += len(s.encode("utf-8")) if not s.isascii() else len(s)
        out.write(s)
    if out is not sys.stdout:
        out.close()
        os.replace(a.out + ".tmp", a.out)
        meta = {"script_version": SCRIPT_VERSION, "articles": a.n, "near_dup_copies": copies,
                "bytes": nbytes, "text_chars": text_bytes, "seed": a.seed, "dup_rate": a.dup_rate, "mean_bytes": a.mean_bytes,
                "base": a.base, "base_bytes": os.path.getsize(a.base), "pool_sentences": nsent,
                "seconds": round(time.time() - t0, 1)}
        with open(a.out + ".meta.json", "w") as f:
            json.dump(meta, f, indent=1)
    if truth:
        truth.close()
    print("wrote %d articles (%d near-dup copies), %d bytes (%.1f MB), %.1f MB text, in %.1fs -> %s"
          % (a.n, copies, nbytes, nbytes / 1e6, text_bytes / 1e6, time.time() - t0, a.out),
          file=sys.stderr)


if __name__ == "__main__":
    main()
