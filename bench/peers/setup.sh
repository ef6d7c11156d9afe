#!/usr/bin/env bash
# Vendored from the team's shared bench harness (/work/shared/bench, 2026-11-26); keep in sync
# with it rather than editing here.  Paths are relative to this file; BENCH_HOME (default
# ~/.cache/storyhash-bench) holds the venv, the corpus and the results.
# Create .venv with the benchmarked peers (pip only).  Idempotent.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${BENCH_HOME:-$HOME/.cache/storyhash-bench}"; mkdir -p "$WORK"
[ -x "$WORK/.venv/bin/python" ] || python3 -m venv "$WORK/.venv"
"$WORK/.venv/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
"$WORK/.venv/bin/python" -c 'import datasketch, rensa, gaoya.minhash, numpy; print("peers OK")'
