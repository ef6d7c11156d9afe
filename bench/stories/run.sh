#!/usr/bin/env bash
# Same-story clustering: storyhash vs the scikit-learn baseline, on the reporting sets, in one run.
#
#   bench/stories/run.sh
#
# 1. creates the baseline's venv ($BENCH_HOME/stories-venv, setup.sh) and the splits
#    ($BENCH_HOME/stories/*.jsonl, make_splits.py) if absent;
# 2. cargo build --release in the repo root (skipped if STORYHASH_BIN is set or SKIP_BUILD=1);
# 3. tunes the baseline's distance threshold on development data only, once per kind of input,
#    and caches it in $BENCH_HOME/stories/tuned.json (re-tuned when story_baseline.py changes,
#    or with RETUNE=1):  headlines <- dev-uci-mar-apr.jsonl,  bodies <- dev-g5w1h.jsonl;
# 4. on each reporting set runs the baseline (with its kind's threshold) and
#    `storyhash run SET --out DIR --quiet`, each under /usr/bin/time -v (wall time, peak RSS),
#    and scores both with `storyhash eval --truth SET --pred DIR/articles.jsonl --json`;
# 5. runs both on the whole UCI file (266,665 headlines, gzip; the baseline per day) for speed;
# 6. prints one markdown table, also saved with every log under $BENCH_HOME/stories/results/TIME/.
#
# If the binary has no `run` subcommand yet, storyhash's rows say so and the baseline runs alone.
# Env: BENCH_HOME (default ~/.cache/storyhash-bench), STORYHASH_BIN (default
# $CARGO_TARGET_DIR or <repo>/target, then /release/storyhash), SKIP_BUILD=1, RETUNE=1, SKIP_SPEED=1 (no 266 k line).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
B="${BENCH_HOME:-$HOME/.cache/storyhash-bench}"
PY="$B/stories-venv/bin/python"
S="$B/stories"
TIME=/usr/bin/time

[ -x "$TIME" ] || { echo "GNU time is needed at $TIME (apt-get install time)" >&2; exit 1; }

# (1) venv and splits
if ! { [ -x "$PY" ] && "$PY" -c 'import sklearn, scipy, numpy' 2>/dev/null; }; then
  echo "== setting up $B/stories-venv" >&2
  "$HERE/setup.sh"
fi
if [ ! -s "$S/splits.json" ]; then
  echo "== writing the splits into $S" >&2
  BENCH_HOME="$B" "$PY" "$HERE/make_splits.py" --out "$S"
fi

# (2) storyhash
if [ -z "${STORYHASH_BIN:-}" ] && [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== cargo build --release ($REPO)" >&2
  (cd "$REPO" && cargo build --release)
fi
BIN="${STORYHASH_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/storyhash}"
[ -x "$BIN" ] || { echo "storyhash binary not found: $BIN" >&2; exit 1; }
"$BIN" eval --help >/dev/null 2>&1 || { echo "$BIN has no eval subcommand" >&2; exit 1; }
HAVE_RUN=1
"$BIN" run --help >/dev/null 2>&1 || { HAVE_RUN=0; echo "== $BIN has no run subcommand yet: storyhash is skipped" >&2; }

# (3) the baseline's thresholds, tuned on development data only
TUNED="$S/tuned.json"
SCRIPT_SHA="$(sha256sum "$HERE/story_baseline.py" | cut -d' ' -f1)"
tuned() {  # tuned KIND -> the threshold, or nothing when absent or stale
  [ -s "$TUNED" ] || return 0
  "$PY" - "$TUNED" "$1" "$SCRIPT_SHA" <<'EOF'
import json, sys
entry = json.load(open(sys.argv[1])).get(sys.argv[2])
if entry and entry.get("script_sha256") == sys.argv[3]:
    print(entry["threshold"])
EOF
}
for pair in headlines:dev-uci-mar-apr.jsonl bodies:dev-g5w1h.jsonl; do
  kind="${pair%%:*}"; dev="${pair#*:}"
  if [ "${RETUNE:-0}" = 1 ] || [ -z "$(tuned "$kind")" ]; then
    echo "== tuning the baseline's threshold for $kind on $dev" >&2
    "$PY" "$HERE/story_baseline.py" tune "$S/$dev" --name "$kind" --cache "$TUNED"
  fi
done
T_HEADLINES="$(tuned headlines)"
T_BODIES="$(tuned bodies)"
echo "== baseline thresholds (cosine distance): headlines $T_HEADLINES, bodies $T_BODIES" >&2

# (4, 5) the runs
R="$S/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$R"
cp "$TUNED" "$R/tuned.json"
measure() {  # measure DIR CMD... : runs CMD under time -v, logs into DIR
  mkdir -p "$1"
  local dir="$1"; shift
  if "$TIME" -v -o "$dir/time.txt" "$@" >"$dir/stdout.txt" 2>"$dir/stderr.txt"; then
    echo ok >"$dir/status"
  else
    echo "failed ($?)" >"$dir/status"
    echo "   failed: $* (see $dir/stderr.txt)" >&2
  fi
}
score() {  # score SET DIR
  if [ -s "$2/articles.jsonl" ]; then
    "$BIN" eval --truth "$1" --pred "$2/articles.jsonl" --json >"$2/eval.json" 2>"$2/eval.err" ||
      echo "   eval failed: see $2/eval.err" >&2
  fi
}
run_both() {  # run_both NAME SET THRESHOLD
  local name="$1" set="$2" threshold="$3"
  echo "== $name: baseline (T=$threshold)" >&2
  measure "$R/$name/baseline" "$PY" "$HERE/story_baseline.py" cluster "$set" \
    --out "$R/$name/baseline" --threshold "$threshold" --quiet
  if [ "$HAVE_RUN" = 1 ]; then
    echo "== $name: storyhash run" >&2
    measure "$R/$name/storyhash" "$BIN" run "$set" --out "$R/$name/storyhash" --quiet
  fi
}
for spec in "g5w1h-report:$S/report-g5w1h.jsonl:$T_BODIES" \
            "uci-day:$S/report-uci-day.jsonl:$T_HEADLINES" \
            "uci-may:$S/report-uci-may.jsonl:$T_HEADLINES"; do
  IFS=: read -r name set threshold <<<"$spec"
  run_both "$name" "$set" "$threshold"
  for tool in baseline storyhash; do score "$set" "$R/$name/$tool"; done
done
if [ "${SKIP_SPEED:-0}" != 1 ]; then
  run_both uci-all "$S/uci-all.jsonl.gz" "$T_HEADLINES"
fi

# (6) the table
"$PY" - "$R" "$HAVE_RUN" "$(nproc)" <<'EOF' | tee "$R/results.md"
import json, os, re, sys
root, have_run, cores = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
sets = [("g5w1h-report", "Giveme5W1H, reporting half (bodies)"),
        ("uci-day", "UCI day slice 2014-05-06 (headlines)"),
        ("uci-may", "UCI May 2014 (headlines)")]

def timing(d):
    try:
        text = open(os.path.join(d, "time.txt")).read()
    except OSError:
        return None, None
    wall = re.search(r"Elapsed \(wall clock\) time.*: (.+)", text).group(1).strip()
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return seconds, rss / 1024

def status(d):
    try:
        return open(os.path.join(d, "status")).read().strip()
    except OSError:
        return "not run"

print("| set | tool | B³ P | B³ R | B³ F1 | pair F1 | ARI | NMI | clusters pred/true | s | peak MB |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, title in sets:
    for tool in ("baseline", "storyhash"):
        d = os.path.join(root, name, tool)
        if tool == "storyhash" and not have_run:
            print(f"| {title} | storyhash | (no `run` yet) | | | | | | | | |")
            continue
        try:
            e = json.load(open(os.path.join(d, "eval.json")))
        except (OSError, ValueError):
            print(f"| {title} | {tool} | {status(d)} | | | | | | | | |")
            continue
        s, mb = timing(d)
        print(f"| {title} | {tool} | {e['bcubed_precision']:.3f} | {e['bcubed_recall']:.3f} "
              f"| **{e['bcubed_f1']:.3f}** | {e['pairwise_f1']:.3f} | {e['ari']:.3f} | {e['nmi']:.3f} "
              f"| {e['clusters_pred']}/{e['clusters_true']} | {s:.2f} | {mb:.0f} |")
speed = os.path.join(root, "uci-all")
if os.path.isdir(speed):
    line = []
    for tool in ("storyhash", "baseline"):
        s, mb = timing(os.path.join(speed, tool))
        if s is None or status(os.path.join(speed, tool)) != "ok":
            line.append(f"{tool} {status(os.path.join(speed, tool))}")
        else:
            line.append(f"{tool} {s:.1f} s, {mb:.0f} MB peak")
    ratio = ""
    (s1, m1), (s2, m2) = timing(os.path.join(speed, "storyhash")), timing(os.path.join(speed, "baseline"))
    if s1 and s2 and status(os.path.join(speed, "storyhash")) == "ok":
        ratio = f" (baseline/storyhash: time {s2 / s1:.1f}×, peak memory {m2 / m1:.1f}×)"
    print(f"\nWhole UCI file (266,665 headlines, gzip; baseline per day): {'; '.join(line)}{ratio}.")
tuned = json.load(open(os.path.join(root, "tuned.json")))
print("\nBaseline thresholds (cosine distance, tuned on development data only): "
      + "; ".join(f"{k} {v['threshold']} (dev B³ F1 {v['bcubed_f1']:.3f} on {os.path.basename(v['dev'])})"
                  for k, v in sorted(tuned.items()))
      + f". Machine: {cores} cores; storyhash on all of them, the baseline single-threaded. "
      + f"Logs: {root}")
EOF
