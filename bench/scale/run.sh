#!/usr/bin/env bash
# storyhash scale benchmark: time and peak memory of `storyhash dedup` on 100k / 300k / 1M
# synthetic news articles (~3 KB each), and whether they grow linearly.
#
#   bench/scale/run.sh                 # sizes 100k,300k,1M
#   bench/scale/run.sh 10k,30k         # any list: plain numbers or k / M suffixes
#
# 1. cargo build --release in the repo root (skip: SKIP_BUILD=1 or STORYHASH_BIN=/path);
# 2. generates, for each size, $BENCH_HOME/scale/news-<size>.jsonl with make_scale.py if absent
#    or made by another make_scale.py SCRIPT_VERSION (needs $BENCH_HOME/corpus/base.jsonl, built
#    by bench/peers/make_corpus.sh);
# 3. then, for each size, runs `/usr/bin/time -v storyhash dedup CORPUS --out $BENCH_HOME/scale/out-<size> --quiet`
#    (page cache warmed and earlier writes synced first; all cores unless THREADS=n is set, which adds --threads n),
#    REPEAT times (default 1) in rounds over the sizes, so that a slow minute of the machine
#    does not fall on one size only;
# 4. prints markdown tables via report.py, headed by the disk's speed for synced writes: with
#    REPEAT > 1, each figure is the median of a size's runs (the range of wall times beside it,
#    peak RSS the largest); results go to $BENCH_HOME/scale/results-<time>.{jsonl,md}.
#
# Env: BENCH_HOME (default ~/.cache/storyhash-bench), STORYHASH_BIN, SKIP_BUILD=1, THREADS, REPEAT,
#      SEED (make_scale.py --seed; corpora are then named news-<size>-s<seed>.jsonl),
#      MEAN_BYTES (make_scale.py --mean-bytes: shorter articles, for many millions of them in
#      a few GB, e.g. `MEAN_BYTES=1000 bench/scale/run.sh 10M`; corpora news-<size>-b<n>.jsonl),
#      KEEP_OUT=1 (keep everything in out-<size>; by default only summary.json is kept, as
#      deduped.jsonl is about as large as the corpus).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
B="${BENCH_HOME:-$HOME/.cache/storyhash-bench}"
S="$B/scale"
SIZES="${1:-100k,300k,1M}"
mkdir -p "$S"

to_n() {  # 100k -> 100000, 1M -> 1000000, 2500 -> 2500
  local v="${1,,}"
  case "$v" in
    *k) echo $(( ${v%k} * 1000 )) ;;
    *m) echo $(( ${v%m} * 1000000 )) ;;
    *)  echo $(( v )) ;;
  esac
}

[ -s "$B/corpus/base.jsonl" ] || {
  echo "missing $B/corpus/base.jsonl: run bench/peers/make_corpus.sh first" >&2; exit 1; }

if [ -z "${STORYHASH_BIN:-}" ] && [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== cargo build --release ($REPO)" >&2
  (cd "$REPO" && cargo build --release)
fi
BIN="${STORYHASH_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/storyhash}"
[ -x "$BIN" ] || { echo "storyhash binary not found: $BIN" >&2; exit 1; }

STAMP="$(date +%Y%m%d-%H%M%S)"
RES="$S/results-$STAMP.jsonl"
: > "$RES"
EXTRA=()
[ -n "${THREADS:-}" ] && EXTRA=(--threads "$THREADS")
REV="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
DIRTY="$(cd "$REPO" && git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | wc -l)"

VER="$(sed -n 's/^SCRIPT_VERSION = \([0-9]*\).*/\1/p' "$HERE/make_scale.py")"
# generate every corpus first, so generation does not overlap or directly precede a timed run
for sz in ${SIZES//,/ }; do
  n="$(to_n "$sz")"
  C="$S/news-$sz${SEED:+-s$SEED}${MEAN_BYTES:+-b$MEAN_BYTES}.jsonl"
  # (a corpus of other article lengths than asked for is made again too)
  if [ ! -s "$C" ] || ! grep -qs "\"script_version\": $VER," "$C.meta.json" \
     || ! grep -qs "\"mean_bytes\": ${MEAN_BYTES:-null}," "$C.meta.json"; then
    echo "== generating $C ($n articles)" >&2
    python3 "$HERE/make_scale.py" "$n" "$C" ${SEED:+--seed "$SEED"} \
      ${MEAN_BYTES:+--mean-bytes "$MEAN_BYTES"} --truth "$C.truth.tsv"
  fi
done

# The write stage at 1M waits on the disk (a 2.7 GB deduped.jsonl, synced): its speed, which
# on this VM changes from minute to minute (230 MB/s to 1.1 GB/s), is measured before and after
# the runs and goes into the table's heading.
sync
DISK_MBS="$(python3 "$HERE/report.py" disk "$S")"

REPEAT="${REPEAT:-1}"
case "$REPEAT" in ''|*[!0-9]*) REPEAT=bad;; esac
[ "$REPEAT" != bad ] && [ "$REPEAT" -ge 1 ] || { echo "REPEAT must be a number of runs, 1 or more" >&2; exit 1; }
for rep in $(seq 1 "$REPEAT"); do
  for sz in ${SIZES//,/ }; do
    n="$(to_n "$sz")"
    C="$S/news-$sz${SEED:+-s$SEED}${MEAN_BYTES:+-b$MEAN_BYTES}.jsonl"
    O="$S/out-$sz"
    rm -rf "$O"
    cat "$C" > /dev/null   # warm the page cache so every size is measured the same way
    sync                   # and start each with no earlier writes still on their way to the disk
    load0="$(cut -d' ' -f1 /proc/loadavg)"
    echo "== storyhash dedup $C ($n articles; run $rep of $REPEAT; load $load0)" >&2
    set +e
    /usr/bin/time -v -o "$S/time-$sz.log" "$BIN" dedup "$C" --out "$O" --quiet "${EXTRA[@]}"
    rc=$?
    set -e
    load1="$(cut -d' ' -f1 /proc/loadavg)"
    [ $rc -eq 0 ] || echo "storyhash exited with $rc (see $S/time-$sz.log)" >&2
    python3 "$HERE/report.py" record "$RES" "$n" "$C" "$O" "$S/time-$sz.log" "$load0" "$load1"
    if [ "${KEEP_OUT:-0}" != 1 ] && [ -d "$O" ]; then
      find "$O" -type f ! -name summary.json -delete
    fi
  done
done

sync
DISK_AFTER="$(python3 "$HERE/report.py" disk "$S")"

{
  echo "storyhash $REV (${DIRTY} uncommitted changes in src/Cargo), $(nproc) cores," \
       "threads ${THREADS:-all}, $REPEAT run(s) per size,${MEAN_BYTES:+ articles of $MEAN_BYTES bytes on average (MEAN_BYTES),} $(date -Is); disk $DISK_MBS MB/s" \
       "before the runs, $DISK_AFTER MB/s after (512 MiB written and synced)"
  echo
  python3 "$HERE/report.py" table "$RES"
} | tee "$S/results-$STAMP.md"
echo >&2
echo "results: $RES, $S/results-$STAMP.md" >&2
