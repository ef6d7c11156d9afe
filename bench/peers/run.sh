#!/usr/bin/env bash
# storyhash vs MinHash/LSH peers (datasketch, rensa, gaoya), same corpus, same run.
#
#   bench/peers/run.sh                          # full corpus (dups.jsonl, 48,769 docs)
#   bench/peers/run.sh ~/.cache/storyhash-bench/corpus/dups_10k.jsonl --repeat 3
#   bench/peers/run.sh my.jsonl --truth my.truth.json --peers floor,gaoya-native
#
# 1. creates $BENCH_HOME/.venv (setup.sh) and the corpus (make_corpus.sh) if absent;
# 2. cargo build --release in the repo root (skipped if STORYHASH_BIN is set or SKIP_BUILD=1);
# 3. runs peers.py on the corpus (first argument, unless it starts with '-'; default
#    $BENCH_HOME/corpus/dups.jsonl) with --peers $PEERS --threads $THREADS plus storyhash as
#    --external (via storyhash_adapter.py), and prints the table, then report_extra.py's
#    cluster-level table and storyhash's own stage timings.
# Every other argument goes to peers.py unchanged (later options win: --peers, --threads,
# --repeat, --wait-idle, --limit, --truth, --json-out, another --external ...).
#
# 4. RUNS=N (default 1) runs the harness N times over (each run times every tool once, so the
#    runs alternate the tools), then prints medians.py's table of the runs: median times, the
#    median of each run's ratio to storyhash, and the quality columns.
# Env: BENCH_HOME (default ~/.cache/storyhash-bench), STORYHASH_BIN (default
# $CARGO_TARGET_DIR or <repo>/target, then /release/storyhash), PEERS (default floor,datasketch,rensa,gaoya,gaoya-native),
# THREADS (default 1,2), RUNS (default 1), STORYHASH_EMIT (clusters|pairs, see README.md),
# SKIP_BUILD=1.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
B="${BENCH_HOME:-$HOME/.cache/storyhash-bench}"
PY="$B/.venv/bin/python"
PEERS="${PEERS:-floor,datasketch,rensa,gaoya,gaoya-native}"
THREADS="${THREADS:-1,2}"

CORPUS="$B/corpus/dups.jsonl"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then CORPUS="$1"; shift; fi

# (a) peers' venv and corpus
if ! { [ -x "$PY" ] && "$PY" -c 'import datasketch, rensa, gaoya.minhash, numpy' 2>/dev/null; }; then
  echo "== setting up $B/.venv" >&2
  "$HERE/setup.sh"
fi
if [ ! -s "$B/corpus/dups.jsonl" ] || [ ! -s "$B/corpus/dups_10k.jsonl" ] || [ ! -s "$B/corpus/dups.truth.json" ]; then
  echo "== building the corpus in $B/corpus (~320 MB download, a few minutes)" >&2
  "$HERE/make_corpus.sh"
fi
[ -f "$CORPUS" ] || { echo "corpus not found: $CORPUS" >&2; exit 1; }

# (b) storyhash
if [ -z "${STORYHASH_BIN:-}" ] && [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== cargo build --release ($REPO)" >&2
  (cd "$REPO" && cargo build --release)
fi
export STORYHASH_BIN="${STORYHASH_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/storyhash}"
[ -x "$STORYHASH_BIN" ] || { echo "storyhash binary not found: $STORYHASH_BIN" >&2; exit 1; }

# (c) the runs; results JSON + .txt go to $B/results/ unless --json-out is given
RUNS="${RUNS:-1}"
case "$RUNS" in ''|*[!0-9]*|0*) echo "RUNS must be a positive integer, not '$RUNS'" >&2; exit 2;; esac
JSON_OUT=""
prev=""
for a in "$@"; do
  case "$a" in --json-out=*) JSON_OUT="${a#--json-out=}";; esac
  [ "$prev" = --json-out ] && JSON_OUT="$a"
  prev="$a"
done
if [ -n "$JSON_OUT" ] && [ "$RUNS" -gt 1 ]; then
  echo "RUNS=$RUNS writes one results file per run to $B/results/; drop --json-out" >&2
  exit 2
fi
# python -I -S: the adapter needs only the stdlib; this keeps its start-up at ~25 ms
EXT="storyhash=$(printf '%q' "$PY") -I -S $(printf '%q' "$HERE/storyhash_adapter.py")"
EXT+=" --corpus {corpus} --out {out} --threshold {threshold} --num-perm {num_perm} --ngram {ngram} --threads {threads}"

echo "== storyhash: $STORYHASH_BIN" >&2
stem="$(basename "$CORPUS")"; stem="${stem%.*}"
outs=()
for run in $(seq 1 "$RUNS"); do
  extra=()
  out="$JSON_OUT"
  if [ -z "$out" ]; then
    mkdir -p "$B/results"
    suffix=""
    if [ "$RUNS" -gt 1 ]; then suffix="-run$run"; fi
    out="$B/results/storyhash-$stem-$(date +%Y%m%d-%H%M%S)$suffix.json"
    extra=(--json-out "$out")
  fi
  [ "$RUNS" -gt 1 ] && echo "== run $run of $RUNS" >&2
  "$PY" "$HERE/peers.py" "$CORPUS" --peers "$PEERS" --threads "$THREADS" --external "$EXT" "${extra[@]}" "$@"
  if [ -f "$out" ]; then "$PY" "$HERE/report_extra.py" "$out"; outs+=("$out"); fi
done
if [ "$RUNS" -gt 1 ]; then
  table="$B/results/storyhash-$stem-$(date +%Y%m%d-%H%M%S)-medians.md"
  echo
  "$PY" "$HERE/medians.py" "${outs[@]}" | tee "$table"
  echo "(also in $table)"
fi
