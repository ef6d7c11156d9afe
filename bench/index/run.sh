#!/usr/bin/env bash
# Index benchmark: time and peak memory to add a batch of 10,000 articles to persistent indexes
# of 100k and 1M articles, against the same batch run without an index.
#
#   bench/index/run.sh              # sizes 100k,1M
#   bench/index/run.sh 100k         # any of the scale corpora's sizes
#
# 1. cargo build --release in the repo root (skip: SKIP_BUILD=1 or STORYHASH_BIN=/path);
# 2. the history corpora are the scale benchmark's ($BENCH_HOME/scale/news-<size>.jsonl, made by
#    bench/scale/run.sh, which needs bench/peers/make_corpus.sh's base corpus); each index is
#    built once with `storyhash dedup news-<size>.jsonl --index $BENCH_HOME/index/idx-<size>`
#    (timed: that is one night of <size> articles) and reused;
# 3. tonight's batch: 9,000 fresh articles (make_scale.py, another seed, ids prefixed `new-`) and
#    1,000 near-copies of indexed articles (make_batch.py), so the index has something to find;
# 4. REPS times (default 3) per size: copy the index, `/usr/bin/time -v storyhash dedup batch
#    --index COPY --out ...`; and the batch alone without an index. Medians in a markdown table,
#    saved with the logs under $BENCH_HOME/index/results-<time>/.
#
# Env: BENCH_HOME (default ~/.cache/storyhash-bench), STORYHASH_BIN, SKIP_BUILD=1, REPS.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
B="${BENCH_HOME:-$HOME/.cache/storyhash-bench}"
S="$B/index"
SIZES="${1:-100k,1M}"
REPS="${REPS:-3}"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "GNU time is needed at $TIME (apt-get install time)" >&2; exit 1; }
mkdir -p "$S"

if [ -z "${STORYHASH_BIN:-}" ] && [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== cargo build --release ($REPO)" >&2
  (cd "$REPO" && cargo build --release)
fi
BIN="${STORYHASH_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/storyhash}"
[ -x "$BIN" ] || { echo "storyhash binary not found: $BIN" >&2; exit 1; }

if [ ! -s "$S/fresh-9k.jsonl" ]; then
  echo "== making 9,000 fresh articles" >&2
  python3 "$REPO/bench/scale/make_scale.py" 9000 "$S/fresh-9k.jsonl" --seed 4242
fi

R="$S/results-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$R"
measure() {  # measure NAME CMD... -> appends one JSON line to $R/runs.jsonl
  local name="$1"; shift
  "$TIME" -v -o "$R/$name.time" "$@" 2> "$R/$name.err" || { cat "$R/$name.err" >&2; exit 1; }
  python3 - "$R/$name.time" "$name" >> "$R/runs.jsonl" <<'PY'
import json, sys, re
t = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", t).group(1).split(":")
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
print(json.dumps({"name": sys.argv[2], "seconds": secs, "rss_mb": rss / 1024}))
PY
}

IFS=',' read -ra LIST <<< "$SIZES"
for size in "${LIST[@]}"; do
  corpus="$B/scale/news-$size.jsonl"
  [ -s "$corpus" ] || { echo "missing $corpus: run bench/scale/run.sh $size first" >&2; exit 1; }
  idx="$S/idx-$size"
  if [ ! -s "$idx/MANIFEST" ]; then
    echo "== building the $size index (one night of $size articles)" >&2
    rm -rf "$idx" "$S/build-out-$size"
    measure "build-$size" "$BIN" dedup "$corpus" --index "$idx" --out "$S/build-out-$size" --quiet
    rm -f "$S/build-out-$size/deduped.jsonl"
  fi
  if [ ! -s "$S/batch-$size.jsonl" ]; then
    python3 "$HERE/make_batch.py" batch "$S/fresh-9k.jsonl" "$corpus" "$S/batch-$size.jsonl" --copies 1000
  fi
  cat "$idx"/* > /dev/null; cat "$S/batch-$size.jsonl" > /dev/null  # page cache
  for rep in $(seq "$REPS"); do
    echo "== adding 10k to the $size index ($rep/$REPS)" >&2
    rm -rf "$S/work" "$R/out-$size"
    cp -r "$idx" "$S/work"
    measure "add-$size-$rep" "$BIN" dedup "$S/batch-$size.jsonl" --index "$S/work" --out "$R/out-$size" --quiet
    cp "$R/out-$size/summary.json" "$R/summary-$size-$rep.json"
    du -sb "$S/work" | cut -f1 > "$R/bytes-$size"
    "$BIN" index stats "$S/work" --json > "$R/stats-$size.json"
    echo "== the same batch without an index ($rep/$REPS)" >&2
    rm -rf "$R/out-alone"
    measure "alone-$size-$rep" "$BIN" dedup "$S/batch-$size.jsonl" --out "$R/out-alone" --quiet
  done
  rm -rf "$S/work"
done

python3 - "$R" "$SIZES" "$REPS" <<'PY' | tee "$R/table.md"
import json, statistics, sys, os
R, sizes, reps = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
runs = {}
for l in open(os.path.join(R, "runs.jsonl")):
    r = json.loads(l); runs[r["name"]] = r
def med(prefix, key):
    return statistics.median(runs[f"{prefix}-{i}"][key] for i in range(1, reps + 1))
print(f"Adding a batch of 10,000 articles (9,000 new, 1,000 near-copies of indexed ones) to an index; medians of {reps}.")
print()
print("| index | on disk, after the add | add 10k: wall | peak RSS | same batch, no index | ratio | found in the index | index stages (open / match) |")
print("|---|---|---|---|---|---|---|---|")
for size in sizes:
    st = json.load(open(os.path.join(R, f"stats-{size}.json")))
    summs = [json.load(open(os.path.join(R, f"summary-{size}-{i}.json"))) for i in range(1, reps + 1)]
    idx = summs[0]["stats"]["index"]
    stage = lambda k: statistics.median(s["timings"].get(k, 0) for s in summs)
    add, alone = med(f"add-{size}", "seconds"), med(f"alone-{size}", "seconds")
    print(f"| {idx['articles_before']:,} articles | {int(open(os.path.join(R, f'bytes-{size}')).read()) / 1e6:,.0f} MB "
          f"| {add:.2f} s | {med(f'add-{size}', 'rss_mb'):.0f} MiB | {alone:.2f} s, {med(f'alone-{size}', 'rss_mb'):.0f} MiB "
          f"| {add / alone:.1f}x | {idx['duplicates_of_earlier']:,} duplicates of earlier articles "
          f"| {stage('index_open'):.2f} s / {stage('index_match'):.2f} s |")
for name, r in sorted(runs.items()):
    if name.startswith("build-"):
        print(f"\nBuilding the {name[6:]} index (one night of that many articles): {r['seconds']:.1f} s, {r['rss_mb']:.0f} MiB peak.")
PY
echo "results: $R" >&2
