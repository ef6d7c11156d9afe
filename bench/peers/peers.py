#!/usr/bin/env python3
# Vendored from the team's shared bench harness (/work/shared/bench, 2026-11-26); keep in sync
# with it rather than editing here.  Paths are relative to this file; BENCH_HOME (default
# ~/.cache/storyhash-bench) holds the venv, the corpus and the results.
"""Side-by-side speed/quality harness for MinHash-LSH near-duplicate tools.

    .venv/bin/python peers.py corpus/dups.jsonl                 # all peers, table + JSON
    .venv/bin/python peers.py corpus/dups_10k.jsonl --repeat 3
    .venv/bin/python peers.py corpus/dups.jsonl --peers floor,rensa,gaoya-native --threads 1,2
    .venv/bin/python peers.py corpus/dups.jsonl \
        --external 'ours=target/release/ourtool --in {corpus} --out {out} -t {threshold} -k {num_perm}'

Every peer runs in its own fresh subprocess (so peak RSS is its own), once for
"sig" (MinHash signatures alone) and once for "e2e" (signatures + LSH insert +
query + verification + union-find clusters).  All Python-fed peers get the SAME
shingles: text.lower().split(), word n-grams (default 5) joined by one space,
built in Python; that shingling cost is measured separately ("floor") and is
included in e2e but not in sig.  Documents are processed in batches
(--batch, default 4096): shingle batch -> signatures -> insert -> query that
batch, so every pair is found by the later document's query and shingles never
all sit in memory.

Semantics, per tool (threshold t, num_perm k):
  datasketch       MinHash.bulk(bytes shingles, num_perm=k) [sha1_hash32, affine32];
                   MinHashLSH(threshold=t, num_perm=k) -> its own (b, r) choice;
                   insertion_session; query(); candidates verified with
                   MinHash.jaccard >= t.
  rensa            sig: RMinHash.digest_matrix_from_token_sets (contiguous matrix);
                   e2e: RMinHash.from_token_sets -> RMinHashLSH(t, k, bands)
                   insert_many / query_all, candidates verified with
                   RMinHash.jaccard >= t.  bands = rensa's own default
                   (RMinHashDeduplicator: 8 for t>=0.8, 16 for t>=0.7, ...).
  rensa-flags      rensa's fastest batch path: digest matrix ->
                   insert_matrix_and_query_duplicate_flags (unverified band
                   collisions, per-doc flags only: no pairs/clusters).
  rensa-rho-flags  same with digest_matrix_from_token_sets_rho (rensa's "rho"
                   sketch: samples token positions, not full-set MinHash).
  gaoya            MinHashStringIndex(hash_size=32, t, num_hashes=k) -> its own
                   (bands, rows) from calculate_minhash_params; fed the Python
                   shingles via par_bulk_insert_tokens / par_bulk_query_tokens
                   (multi-threaded, rayon); gaoya verifies candidates itself.
                   gaoya has no token-level signature-only call, so its "sig"
                   column is signatures + index insert (par_bulk_insert_tokens).
  gaoya-native     same index, gaoya's own Rust tokenizer (analyzer='word',
                   lowercase=True, ngram_range=(n, n): whitespace split, same
                   shingle sets), raw text in: bulk_hash_docs (sig),
                   par_bulk_insert_docs + par_bulk_query (e2e).  No Python
                   shingling at all.
  floor            plain Python: read+parse JSONL, lowercase+split, build
                   shingles.  The floor for any Python-fed tool.
  external:NAME    any command (e.g. the Rust project): see --external.

Quality metrics against the injected ground truth (<corpus>.truth.json or
dups.truth.json next to it): pair precision/recall over verified pairs, recall
restricted to truth pairs whose exact shingle Jaccard >= t, pairwise P/R of the
clusters (all pairs inside each cluster), and doc-level P/R of "is a duplicate"
(the only metric for the *-flags peers).
"""
import argparse
import gc
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.environ.get("BENCH_HOME", os.path.join(os.path.expanduser("~"), ".cache", "storyhash-bench"))
ALL_PEERS = ["floor", "datasketch", "rensa", "rensa-flags", "rensa-rho-flags", "gaoya", "gaoya-native"]
MT_PEERS = {"rensa", "rensa-flags", "rensa-rho-flags", "gaoya", "gaoya-native"}  # use rayon threads


# --------------------------------------------------------------------------
# shared helpers (worker side)
# --------------------------------------------------------------------------

def read_corpus(path, limit=None):
    ids, texts = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and len(ids) >= limit:
                break
            d = json.loads(line)
            ids.append(d["id"])
            texts.append(d["text"])
    return ids, texts


def shingle(text, n):
    toks = text.lower().split()
    if len(toks) < n:
        return [" ".join(toks)]
    return [" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)]


def proc_status():
    out = {}
    with open("/proc/self/status") as fh:
        for ln in fh:
            if ln.startswith(("VmRSS:", "VmHWM:")):
                k, v = ln.split(":")
                out[k] = int(v.split()[0]) / 1024.0  # MiB
    return out


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class UnionFind:
    def __init__(self, n):
        self.p = list(range(n))

    def find(self, x):
        p = self.p
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.p[rb] = ra
            else:
                self.p[ra] = rb


def clusters_from_pairs(n, pairs):
    uf = UnionFind(n)
    for a, b in pairs:
        uf.union(a, b)
    groups = {}
    for a, b in pairs:
        for x in (a, b):
            r = uf.find(x)
            groups.setdefault(r, set()).add(x)
    return [sorted(g) for g in groups.values()]


def batches(n, size):
    for s in range(0, n, size):
        yield s, min(n, s + size)


# --------------------------------------------------------------------------
# peers: each has sig(texts, ctx) and e2e(texts, ctx) -> dict
# ctx: n (ngram), k (num_perm), t (threshold), batch, timers
# --------------------------------------------------------------------------

class Timer:
    def __init__(self):
        self.acc = {}

    def add(self, key, dt):
        self.acc[key] = self.acc.get(key, 0.0) + dt


def peer_floor(texts, ctx, mode):
    tm = ctx["timer"]
    t0 = time.perf_counter()
    ntok = 0
    for t in texts:
        ntok += len(t.lower().split())
    tm.add("tokenize_s", time.perf_counter() - t0)
    t0 = time.perf_counter()
    nsh = 0
    for s, e in batches(len(texts), ctx["batch"]):
        sh = [shingle(t, ctx["n"]) for t in texts[s:e]]
        nsh += sum(len(x) for x in sh)
        del sh
    tm.add("shingle_s", time.perf_counter() - t0)
    return {"tokens": ntok, "shingles": nsh}


def _ds_params(t, k):
    from datasketch import MinHashLSH
    lsh = MinHashLSH(threshold=t, num_perm=k)
    return lsh.b, lsh.r


def peer_datasketch(texts, ctx, mode):
    from datasketch import MinHash, MinHashLSH
    tm, n, k, t = ctx["timer"], ctx["n"], ctx["k"], ctx["t"]
    N = len(texts)
    mhs = []
    if mode == "sig":
        for s, e in batches(N, ctx["batch"]):
            t0 = time.perf_counter()
            sh = [shingle(x, n) for x in texts[s:e]]
            t1 = time.perf_counter()
            b = [[x.encode("utf-8") for x in doc] for doc in sh]
            mhs.extend(MinHash.bulk(b, num_perm=k))
            t2 = time.perf_counter()
            tm.add("shingle_s", t1 - t0)
            tm.add("sig_s", t2 - t1)
            del sh, b
        return {"signatures": len(mhs)}
    lsh = MinHashLSH(threshold=t, num_perm=k)
    cand = set()
    for s, e in batches(N, ctx["batch"]):
        sh = [shingle(x, n) for x in texts[s:e]]
        b = [[x.encode("utf-8") for x in doc] for doc in sh]
        del sh
        new = MinHash.bulk(b, num_perm=k)
        del b
        mhs.extend(new)
        with lsh.insertion_session() as sess:
            for i, m in enumerate(new, s):
                sess.insert(i, m, check_duplication=False)
        for i, m in enumerate(new, s):
            for j in lsh.query(m):
                if j != i:
                    cand.add((j, i) if j < i else (i, j))
    pairs = [(a, b) for a, b in cand if mhs[a].jaccard(mhs[b]) >= t]
    cl = clusters_from_pairs(N, pairs)
    return {"pairs": pairs, "clusters": cl, "candidates": len(cand),
            "lsh": {"bands": lsh.b, "rows": lsh.r, "hashes_used": lsh.b * lsh.r}}


def rensa_bands(t, k):
    if t >= 0.9:
        sel = 4
    elif t >= 0.8:
        sel = 8
    elif t >= 0.7:
        sel = 16
    elif t >= 0.5:
        sel = 32
    else:
        sel = max(1, k // 2)
    if k % sel == 0:
        return sel
    return next(b for b in range(min(sel, k), 0, -1) if k % b == 0)


def peer_rensa(texts, ctx, mode, variant="rensa"):
    from rensa import RMinHash, RMinHashLSH
    tm, n, k, t = ctx["timer"], ctx["n"], ctx["k"], ctx["t"]
    seed = 42
    N = len(texts)
    bands = ctx.get("bands") or rensa_bands(t, k)
    rho = variant == "rensa-rho-flags"
    mk_matrix = RMinHash.digest_matrix_from_token_sets_rho if rho else RMinHash.digest_matrix_from_token_sets
    if mode == "sig":
        mats = []
        for s, e in batches(N, ctx["batch"]):
            t0 = time.perf_counter()
            sh = [shingle(x, n) for x in texts[s:e]]
            t1 = time.perf_counter()
            mats.append(mk_matrix(sh, k, seed))
            t2 = time.perf_counter()
            tm.add("shingle_s", t1 - t0)
            tm.add("sig_s", t2 - t1)
            del sh
        return {"signatures": sum(m.len() for m in mats)}
    lsh = RMinHashLSH(t, k, bands)
    info = {"bands": bands, "rows": k // bands, "hashes_used": (k // bands) * bands}
    if variant in ("rensa-flags", "rensa-rho-flags"):
        # pass 1: digest matrices per batch, insert_matrix; pass 2:
        # query_duplicate_flags_matrix -> True iff the doc shares >= 1 band
        # with any other doc (unverified).  (insert_matrix_and_query_duplicate_flags
        # in one pass would leave the first member of each group unflagged.)
        mats = []
        for s, e in batches(N, ctx["batch"]):
            sh = [shingle(x, n) for x in texts[s:e]]
            m = mk_matrix(sh, k, seed)
            del sh
            lsh.insert_matrix(m, start_key=s)
            mats.append(m)
        flags = []
        for m in mats:
            flags.extend(lsh.query_duplicate_flags_matrix(m))
        return {"flags": [i for i, f in enumerate(flags) if f], "lsh": info}
    mhs = []
    cand = set()
    for s, e in batches(N, ctx["batch"]):
        sh = [shingle(x, n) for x in texts[s:e]]
        new = RMinHash.from_token_sets(sh, k, seed)
        del sh
        mhs.extend(new)
        lsh.insert_many(new, start_key=s)
        for i, res in enumerate(lsh.query_all(new), s):
            for j in res:
                if j != i:
                    cand.add((j, i) if j < i else (i, j))
    pairs = [(a, b) for a, b in cand if mhs[a].jaccard(mhs[b]) >= t]
    cl = clusters_from_pairs(N, pairs)
    return {"pairs": pairs, "clusters": cl, "candidates": len(cand), "lsh": info}


def _gaoya_index(ctx, native):
    import gaoya.minhash as gm
    n = ctx["n"]
    return gm.MinHashStringIndex(hash_size=32, jaccard_threshold=ctx["t"], num_bands=None, band_size=None,
                                 num_hashes=ctx["k"], analyzer="word", lowercase=True,
                                 ngram_range=(n, n), id_container="set")


def _gaoya_info(idx):
    s = str(idx)  # "MinHashIndex<u32> { threshold = 0.8, num_hashes = 126, bands = 21, rows_per_band = 6, ..."
    import re
    m = re.search(r"num_hashes = (\d+), bands = (\d+), rows_per_band = (\d+)", s)
    return {"bands": int(m.group(2)), "rows": int(m.group(3)), "hashes_used": int(m.group(1))} if m else {}


def peer_gaoya(texts, ctx, mode, native=False):
    tm, n = ctx["timer"], ctx["n"]
    N = len(texts)
    idx = _gaoya_index(ctx, native)
    inner = idx.minhash_index
    info = _gaoya_info(idx)
    if mode == "sig":
        if native:
            sigs = 0
            for s, e in batches(N, ctx["batch"]):
                t0 = time.perf_counter()
                out = inner.bulk_hash_docs(texts[s:e])
                tm.add("sig_s", time.perf_counter() - t0)
                sigs += len(out)
                del out
            return {"signatures": sigs, "lsh": info}
        for s, e in batches(N, ctx["batch"]):
            t0 = time.perf_counter()
            sh = [shingle(x, n) for x in texts[s:e]]
            t1 = time.perf_counter()
            inner.par_bulk_insert_tokens(list(range(s, e)), sh)
            t2 = time.perf_counter()
            tm.add("shingle_s", t1 - t0)
            tm.add("sig_s", t2 - t1)
            del sh
        return {"signatures": inner.size(), "lsh": info, "sig_note": "signatures + index insert"}
    pairs = set()
    for s, e in batches(N, ctx["batch"]):
        ids = list(range(s, e))
        if native:
            docs = texts[s:e]
            inner.par_bulk_insert_docs(ids, docs)
            res = inner.par_bulk_query(docs)
        else:
            sh = [shingle(x, n) for x in texts[s:e]]
            inner.par_bulk_insert_tokens(ids, sh)
            res = inner.par_bulk_query_tokens(sh)
            del sh
        for i, r in zip(ids, res):
            for j in r:
                if j != i:
                    pairs.add((j, i) if j < i else (i, j))
    pairs = list(pairs)
    cl = clusters_from_pairs(N, pairs)
    return {"pairs": pairs, "clusters": cl, "candidates": None, "lsh": info}


PEER_FUNCS = {
    "floor": peer_floor,
    "datasketch": peer_datasketch,
    "rensa": lambda tx, c, m: peer_rensa(tx, c, m, "rensa"),
    "rensa-flags": lambda tx, c, m: peer_rensa(tx, c, m, "rensa-flags"),
    "rensa-rho-flags": lambda tx, c, m: peer_rensa(tx, c, m, "rensa-rho-flags"),
    "gaoya": lambda tx, c, m: peer_gaoya(tx, c, m, native=False),
    "gaoya-native": lambda tx, c, m: peer_gaoya(tx, c, m, native=True),
}


def tool_version(peer):
    from importlib.metadata import version, PackageNotFoundError
    name = {"datasketch": "datasketch", "gaoya": "gaoya"}.get(peer.split("-")[0], peer.split("-")[0])
    if peer == "floor":
        return platform.python_version()
    try:
        return version(name)
    except PackageNotFoundError:
        return None


# --------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------

def load_truth(path, ids):
    present = set(ids)
    with open(path) as fh:
        tr = json.load(fh)
    pairs = {}
    for a, b, j in tr["pairs"]:
        if a in present and b in present:
            pairs[(a, b) if a < b else (b, a)] = j
    fam_docs = set()
    for a, b in pairs:
        fam_docs.add(a)
        fam_docs.add(b)
    return pairs, fam_docs


def pr(tp, npred, ntrue):
    p = tp / npred if npred else None
    r = tp / ntrue if ntrue else None
    f = 2 * p * r / (p + r) if p and r else None
    return p, r, f


def quality(res, ids, truth_pairs, fam_docs, t):
    q = {}
    true_set = set(truth_pairs)
    true_hi = {p for p, j in truth_pairs.items() if j >= t}
    if "pairs" in res:
        found = {(ids[a], ids[b]) if ids[a] < ids[b] else (ids[b], ids[a]) for a, b in res["pairs"]}
        tp = len(found & true_set)
        p, r, f = pr(tp, len(found), len(true_set))
        q.update(pair_precision=p, pair_recall=r, pair_f1=f,
                 pair_recall_at_t=(len(found & true_hi) / len(true_hi)) if true_hi else None,
                 false_pairs=len(found) - tp)
        implied = set()
        for c in res["clusters"]:
            names = sorted(ids[i] for i in c)
            for x in range(len(names)):
                for y in range(x + 1, len(names)):
                    implied.add((names[x], names[y]))
        tpc = len(implied & true_set)
        p, r, f = pr(tpc, len(implied), len(true_set))
        q.update(cluster_pair_precision=p, cluster_pair_recall=r, cluster_pair_f1=f,
                 largest_cluster=max((len(c) for c in res["clusters"]), default=0))
        dup_docs = {ids[i] for c in res["clusters"] for i in c}
    else:
        dup_docs = {ids[i] for i in res.get("flags", [])}
    tpd = len(dup_docs & fam_docs)
    p, r, f = pr(tpd, len(dup_docs), len(fam_docs))
    q.update(doc_precision=p, doc_recall=r, doc_f1=f, dup_docs=len(dup_docs))
    q.update(truth_pairs=len(true_set), truth_pairs_at_t=len(true_hi), truth_dup_docs=len(fam_docs))
    return q


# --------------------------------------------------------------------------
# worker entry
# --------------------------------------------------------------------------

def worker(args):
    t0 = time.perf_counter()
    ids, texts = read_corpus(args.corpus, args.limit)
    read_s = time.perf_counter() - t0
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    # warm up imports outside the timed region
    if args.worker != "floor":
        {"datasketch": lambda: __import__("datasketch"), "gaoya": lambda: __import__("gaoya.minhash"),
         "rensa": lambda: __import__("rensa")}[args.worker.split("-")[0]]()
        # tiny warm-up run (permutation caches, thread pools)
        ctx = {"n": args.ngram, "k": args.num_perm, "t": args.threshold, "batch": args.batch,
               "timer": Timer(), "bands": args.rensa_bands}
        PEER_FUNCS[args.worker](texts[:64], ctx, args.mode)
    gc.collect()
    base = proc_status()
    reset_ok = reset_peak_rss()
    ctx = {"n": args.ngram, "k": args.num_perm, "t": args.threshold, "batch": args.batch,
           "timer": Timer(), "bands": args.rensa_bands}
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    res = PEER_FUNCS[args.worker](texts, ctx, args.mode)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    st = proc_status()
    out = {
        "peer": args.worker, "mode": args.mode, "version": tool_version(args.worker),
        "docs": len(texts), "text_bytes": nbytes, "read_s": read_s, "wall_s": wall,
        "cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
        "timers": ctx["timer"].acc,
        "rss_before_mb": base.get("VmRSS"),
        "peak_rss_mb": st.get("VmHWM") if reset_ok else max(st.get("VmHWM", 0), 0),
        "peak_rss_reset": reset_ok,
        "threads": os.environ.get("RAYON_NUM_THREADS"),
    }
    for k in ("signatures", "tokens", "shingles", "candidates", "lsh", "sig_note"):
        if k in res:
            out[k] = res[k]
    if args.mode == "e2e" and args.worker != "floor":
        out["n_pairs"] = len(res["pairs"]) if "pairs" in res else None
        out["n_clusters"] = len(res["clusters"]) if "clusters" in res else None
        out["n_flagged"] = len(res["flags"]) if "flags" in res else None
        if args.truth:
            tp, fam = load_truth(args.truth, ids)
            out["quality"] = quality(res, ids, tp, fam, args.threshold)
    print("RESULT " + json.dumps(out))


# --------------------------------------------------------------------------
# external command peer
# --------------------------------------------------------------------------

def run_external(name, cmd_tmpl, args, ids_cache):
    """Run an external dedup command.  Placeholders: {corpus} {out} {threshold}
    {num_perm} {ngram} {threads}.  The command must write to {out} either JSON
    {"pairs": [[id, id], ...]} / {"clusters": [[id, ...], ...]} (optionally
    "timings": {...}, "signature_s": float) or JSONL lines [id, id].
    Wall time and peak RSS of the whole process (incl. reading the corpus) are
    measured here."""
    with tempfile.TemporaryDirectory() as td:
        outp = os.path.join(td, "out.json")
        corpus = args.corpus
        if args.limit:
            corpus = os.path.join(td, "limited.jsonl")
            with open(args.corpus) as src, open(corpus, "w") as dst:
                for i, ln in enumerate(src):
                    if i >= args.limit:
                        break
                    dst.write(ln)
        cmd = cmd_tmpl.format(corpus=shlex.quote(corpus), out=shlex.quote(outp), threshold=args.threshold,
                              num_perm=args.num_perm, ngram=args.ngram, threads=args.threads_now)
        env = dict(os.environ)
        env["RAYON_NUM_THREADS"] = str(args.threads_now)
        if args.wait_idle:
            wait_idle(args.wait_idle)
        b0 = cpu_busy_s()
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, shell=True, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        foreign = max(0.0, (cpu_busy_s() - b0) - (ru.ru_utime + ru.ru_stime))
        if status != 0:
            return {"peer": f"external:{name}", "mode": "e2e", "error": f"exit status {status}"}
        ids = ids_cache()
        index = {d: i for i, d in enumerate(ids)}
        with open(outp) as fh:
            txt = fh.read()
        extra = {}
        try:
            obj = json.loads(txt)
        except json.JSONDecodeError:
            obj = {"pairs": [json.loads(l) for l in txt.splitlines() if l.strip()]}
        if isinstance(obj, list):
            obj = {"pairs": obj}
        pairs = [(index[a], index[b]) for a, b in obj.get("pairs", [])]
        if "clusters" in obj and not pairs:
            for c in obj["clusters"]:
                cc = [index[x] for x in c]
                pairs += [(cc[0], x) for x in cc[1:]]
        res = {"pairs": pairs, "clusters": clusters_from_pairs(len(ids), pairs)}
        out = {"peer": f"external:{name}", "mode": "e2e", "docs": len(ids), "wall_s": wall,
               "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024.0,
               "n_pairs": len(pairs), "n_clusters": len(res["clusters"]), "includes_read": True,
               "foreign_cpu_s": round(foreign, 2),
               "reported": {k: obj[k] for k in ("timings", "signature_s", "lsh") if k in obj}}
        if args.truth:
            tp, fam = load_truth(args.truth, ids)
            out["quality"] = quality(res, ids, tp, fam, args.threshold)
        return out


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

def find_truth(corpus):
    d = os.path.dirname(os.path.abspath(corpus))
    stem = os.path.basename(corpus).rsplit(".", 1)[0]
    for cand in (os.path.join(d, stem + ".truth.json"), os.path.join(d, stem.split("_")[0] + ".truth.json")):
        if os.path.exists(cand):
            return cand
    return None


def cpu_busy_s():
    """System-wide busy CPU seconds so far (all cores), from /proc/stat."""
    with open("/proc/stat") as fh:
        f = fh.readline().split()[1:]
    v = [int(x) for x in f]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    return busy / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait, limit=0.15):
    """Wait (up to max_wait s) until other processes use < limit of all cores,
    sampled over 1 s.  Returns the last measured busy fraction."""
    t_end = time.time() + max_wait
    while True:
        b0 = cpu_busy_s()
        time.sleep(1.0)
        frac = (cpu_busy_s() - b0) / (os.cpu_count() or 1)
        if frac < limit or time.time() >= t_end:
            return frac
        print(f"  (machine busy: {frac:.0%} of all cores used by other processes; waiting)",
              file=sys.stderr, flush=True)
        time.sleep(4.0)


def run_worker(peer, mode, args, threads):
    cmd = [sys.executable, os.path.abspath(__file__), args.corpus, "--worker", peer, "--mode", mode,
           "--ngram", str(args.ngram), "--num-perm", str(args.num_perm), "--threshold", str(args.threshold),
           "--batch", str(args.batch)]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if args.truth and mode == "e2e":
        cmd += ["--truth", args.truth]
    if args.rensa_bands:
        cmd += ["--rensa-bands", str(args.rensa_bands)]
    env = dict(os.environ)
    env["RAYON_NUM_THREADS"] = str(threads)
    # keep numpy/BLAS single-threaded so only the tools' own threading counts
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = "1"
    idle_before = wait_idle(args.wait_idle) if args.wait_idle else None
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0 = cpu_busy_s()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    b1 = cpu_busy_s()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            # CPU time burnt by *other* processes while this worker ran (noise
            # indicator: ~0 on an otherwise idle machine)
            r["foreign_cpu_s"] = round(max(0.0, (b1 - b0) - own), 2)
            r["other_busy_before"] = idle_before
            return r
    return {"peer": peer, "mode": mode, "error": (p.stderr or p.stdout)[-2000:]}


def fmt(v, spec):
    if v is None:
        return "-"
    return format(v, spec)


def summarize(rows, corpus_info):
    """Merge sig + e2e rows per (peer, threads) into table rows."""
    table = {}
    for r in rows:
        key = (r["peer"], r.get("threads"))
        t = table.setdefault(key, {"peer": r["peer"], "threads": r.get("threads")})
        if "error" in r:
            t.setdefault("errors", []).append(f"{r.get('mode')}: {r['error'][-300:]}")
            continue
        docs = r["docs"]
        mb = r["text_bytes"] / 1e6 if r.get("text_bytes") else corpus_info.get("mb")
        if r["peer"] == "floor":
            tm = r["timers"]
            t["read_s"] = r["read_s"]
            t["tokenize_s"] = tm.get("tokenize_s")
            t["shingle_s"] = tm.get("shingle_s")
            t["docs"] = docs
            t["mb"] = mb
            continue
        if r["mode"] == "sig":
            tm = r["timers"]
            s = tm.get("sig_s", r["wall_s"])
            t["sig_s"] = s
            t["sig_docs_s"] = docs / s
            t["sig_mb_s"] = mb / s
            t["sig_peak_rss_mb"] = r["peak_rss_mb"]
            t["sig_foreign_cpu_s"] = r.get("foreign_cpu_s")
            t["sig_note"] = r.get("sig_note")
            t["shingle_s_in_sig_run"] = tm.get("shingle_s")
        else:
            t["e2e_foreign_cpu_s"] = r.get("foreign_cpu_s")
            t["e2e_s"] = r["wall_s"]
            t["e2e_docs_s"] = docs / r["wall_s"]
            t["e2e_mb_s"] = (mb / r["wall_s"]) if mb else None
            t["e2e_cpu_s"] = r.get("cpu_s")
            t["peak_rss_mb"] = r["peak_rss_mb"]
            t["rss_before_mb"] = r.get("rss_before_mb")
            t["pairs"] = r.get("n_pairs")
            t["clusters"] = r.get("n_clusters")
            t["flagged"] = r.get("n_flagged")
            t["candidates"] = r.get("candidates")
            t["lsh"] = r.get("lsh")
            t["quality"] = r.get("quality")
            t["version"] = r.get("version")
            if r.get("reported"):
                t["reported"] = r["reported"]
            t["docs"] = docs
            t["mb"] = mb
        t.setdefault("version", r.get("version"))
    return list(table.values())


def print_table(summary, corpus_info, args):
    print()
    print(f"corpus: {corpus_info['path']}  docs={corpus_info['docs']}  text={corpus_info['mb']:.1f} MB  "
          f"ngram={args.ngram} num_perm={args.num_perm} threshold={args.threshold}  "
          f"batch={args.batch}")
    fl = [s for s in summary if s["peer"] == "floor" and "read_s" in s]
    if fl:
        f = fl[0]
        d, mb = f["docs"], f["mb"]
        print("python floor: "
              f"read+parse JSONL {f['read_s']:.2f}s ({d / f['read_s']:,.0f} docs/s, {mb / f['read_s']:.1f} MB/s) | "
              f"lower+split {f['tokenize_s']:.2f}s ({d / f['tokenize_s']:,.0f} docs/s, {mb / f['tokenize_s']:.1f} MB/s) | "
              f"lower+split+5-gram shingles {f['shingle_s']:.2f}s ({d / f['shingle_s']:,.0f} docs/s, "
              f"{mb / f['shingle_s']:.1f} MB/s)")
    hdr = (f"{'peer':18s} {'thr':>3s} {'sig docs/s':>11s} {'sig MB/s':>9s} {'e2e s':>8s} {'e2e docs/s':>11s} "
           f"{'e2e MB/s':>9s} {'peakRSS MB':>10s} {'bands x r':>9s} {'pairs':>7s} {'clusters':>8s} "
           f"{'P':>6s} {'R':>6s} {'R@J>=t':>6s} {'docP':>6s} {'docR':>6s}")
    print(hdr)
    print("-" * len(hdr))
    for s in summary:
        if s["peer"] == "floor":
            continue
        q = s.get("quality") or {}
        lsh = s.get("lsh") or {}
        br = f"{lsh.get('bands')}x{lsh.get('rows')}" if lsh else "-"
        pairs = s.get("pairs") if s.get("pairs") is not None else (
            f"{s['flagged']}f" if s.get("flagged") is not None else None)
        print(f"{s['peer']:18s} {str(s.get('threads') or '-'):>3s} {fmt(s.get('sig_docs_s'), ',.0f'):>11s} "
              f"{fmt(s.get('sig_mb_s'), '.2f'):>9s} {fmt(s.get('e2e_s'), '.2f'):>8s} "
              f"{fmt(s.get('e2e_docs_s'), ',.0f'):>11s} {fmt(s.get('e2e_mb_s'), '.2f'):>9s} "
              f"{fmt(s.get('peak_rss_mb'), ',.0f'):>10s} {br:>9s} {str(pairs if pairs is not None else '-'):>7s} "
              f"{fmt(s.get('clusters'), 'd'):>8s} {fmt(q.get('pair_precision'), '.3f'):>6s} "
              f"{fmt(q.get('pair_recall'), '.3f'):>6s} {fmt(q.get('pair_recall_at_t'), '.3f'):>6s} "
              f"{fmt(q.get('doc_precision'), '.3f'):>6s} {fmt(q.get('doc_recall'), '.3f'):>6s}")
        for e in s.get("errors", []):
            print(f"   ERROR {e}")
        fc = max(s.get("e2e_foreign_cpu_s") or 0, s.get("sig_foreign_cpu_s") or 0)
        if fc > max(0.5, 0.05 * (s.get("e2e_s") or 0)):
            print(f"   WARNING: other processes used {fc:.1f} CPU-s during this peer's runs (timings noisy)")
    print("sig = MinHash signatures only, from ready shingles (gaoya: +index insert; gaoya-native: from raw "
          "text incl. its own tokenizing). e2e = shingle+sig+LSH insert+query+verify+union-find, from texts "
          "in memory.  P/R = verified pairs vs injected truth; R@J>=t = recall on truth pairs with exact "
          "Jaccard >= t; docP/docR = 'is a duplicate' per doc (only metric for *-flags).  peakRSS = VmHWM "
          "of the e2e run incl. the corpus held in memory (see rss_before_mb in JSON).")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?")
    ap.add_argument("--show", metavar="RESULTS_JSON", help="re-print the table of a recorded run and exit")
    ap.add_argument("--peers", default=",".join(ALL_PEERS),
                    help="comma list from: " + ",".join(ALL_PEERS))
    ap.add_argument("--external", action="append", default=[],
                    help="NAME=COMMAND template, see run_external (repeatable)")
    ap.add_argument("--limit", type=int, help="use only the first N docs")
    ap.add_argument("--truth", help="ground truth JSON (default: auto next to the corpus)")
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--threads", default=str(os.cpu_count() or 1),
                    help="comma list of thread counts for multi-threaded peers (RAYON_NUM_THREADS)")
    ap.add_argument("--rensa-bands", type=int, default=None, help="override rensa's band count")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is kept")
    ap.add_argument("--modes", default="sig,e2e")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--wait-idle", type=int, default=600,
                    help="before each run wait up to N s for other processes to go idle (0: don't)")
    ap.add_argument("--json-out", help="results JSON (default: results/<corpus>-<time>.json)")
    # internal
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        worker(args)
        return
    if args.show:
        with open(args.show) as fh:
            res = json.load(fh)
        p = res["params"]
        ns = argparse.Namespace(ngram=p["ngram"], num_perm=p["num_perm"], threshold=p["threshold"],
                                batch=p["batch"])
        print_table(res["summary"], res["corpus"], ns)
        return
    if not args.corpus:
        ap.error("corpus is required")

    if args.truth is None:
        args.truth = find_truth(args.corpus)
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    threads_list = [int(x) for x in args.threads.split(",")]
    modes = args.modes.split(",")
    rows = []
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    for peer in peers:
        if peer not in PEER_FUNCS:
            sys.exit(f"unknown peer {peer}")
        for th in (threads_list if peer in MT_PEERS else [1]):
            for mode in (["sig"] if peer == "floor" else modes):
                if peer == "rensa-flags" and mode == "sig":
                    continue  # identical to rensa's sig (same digest-matrix call)
                best = None
                for rep in range(args.repeat):
                    r = run_worker(peer, mode, args, th)
                    r["threads"] = th if peer in MT_PEERS else 1
                    print(f"  {peer:16s} {mode:3s} thr={r['threads']} rep={rep + 1}: "
                          + (f"{r['wall_s']:.2f}s peakRSS={r['peak_rss_mb']:.0f}MB" if "wall_s" in r
                             else "ERROR " + r.get("error", "")[-500:]), file=sys.stderr, flush=True)
                    if "error" in r:
                        best = r
                        break
                    key = r["timers"].get("sig_s", r["wall_s"]) if mode == "sig" else r["wall_s"]
                    if best is None or key < best["_key"]:
                        best = r
                        best["_key"] = key
                best.pop("_key", None)
                rows.append(best)
    ids_holder = {}

    def ids_cache():
        if "ids" not in ids_holder:
            ids_holder["ids"] = read_corpus(args.corpus, args.limit)[0]
        return ids_holder["ids"]

    for ext in args.external:
        name, cmd = ext.split("=", 1)
        for th in threads_list:
            args.threads_now = th
            best = None
            for rep in range(args.repeat):
                r = run_external(name, cmd, args, ids_cache)
                r["threads"] = th
                if "error" in r:
                    best = r
                    break
                if best is None or r["wall_s"] < best["wall_s"]:
                    best = r
            print(f"  external:{name} thr={th}: " + (f"{best['wall_s']:.2f}s" if "wall_s" in best else best["error"]),
                  file=sys.stderr)
            rows.append(best)

    ndocs, nbytes = 0, 0
    with open(args.corpus, encoding="utf-8") as fh:
        for line in fh:
            if args.limit and ndocs >= args.limit:
                break
            ndocs += 1
            nbytes += len(json.loads(line)["text"].encode("utf-8"))
    corpus_info = {"path": args.corpus, "docs": ndocs, "mb": nbytes / 1e6, "truth": args.truth}
    summary = summarize(rows, corpus_info)
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        print_table(summary, corpus_info, args)
    table = buf.getvalue()
    print(table, end="")
    env = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
           "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                              if l.startswith("model name")), None),
           "mem_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30}
    result = {"started": started, "corpus": corpus_info,
              "params": {"ngram": args.ngram, "num_perm": args.num_perm, "threshold": args.threshold,
                         "batch": args.batch, "threads": threads_list, "repeat": args.repeat,
                         "shingles": "text.lower().split(), word n-grams joined by ' '"},
              "env": env, "summary": summary, "raw": rows}
    out = args.json_out
    if not out:
        os.makedirs(os.path.join(WORK, "results"), exist_ok=True)
        stem = os.path.basename(args.corpus).rsplit(".", 1)[0] + (f"-limit{args.limit}" if args.limit else "")
        out = os.path.join(WORK, "results", f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    result["table"] = table
    with open(out, "w") as fh:
        json.dump(result, fh, indent=1, default=str)
    with open(out.rsplit(".", 1)[0] + ".txt", "w") as fh:
        fh.write(table)
    print(f"\nJSON: {out} (table also in {out.rsplit('.', 1)[0]}.txt)")


if __name__ == "__main__":
    main()
