#!/usr/bin/env bash
# Browser test of report.html: two real runs of `storyhash run` (near-duplicates and stories; the
# sample corpus and a corpus of hostile titles, outlets, ids, URLs and texts) loaded from disk in headless Chromium. Needs Debian's chromium
# and this directory's node_modules (`npm ci --prefix tests/browser`); .ci/run installs both.
#
#   tests/browser/run.sh                                         # checks, screenshot in a temp dir
#   tests/browser/run.sh --screenshot docs/report-screenshot.png  # also refreshes the README's
#
# The binary is a release build by default; STORYHASH_BIN names another (CI passes the debug
# build that `cargo test` already made, which writes the same page).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

screenshot="$tmp/report.png"
if [[ "${1:-}" == "--screenshot" ]]; then
  screenshot="$(realpath -m "${2:?--screenshot needs a file}")"
fi

cd "$root"
bin="${STORYHASH_BIN:-}"
if [[ -z "$bin" ]]; then
  cargo build --release --locked --quiet
  bin="$root/target/release/storyhash"
fi
"$bin" run data/sample.jsonl --out "$tmp/sample"
"$bin" run "$here/injection.jsonl" --out "$tmp/injection"
echo "report.html: sample $(wc -c <"$tmp/sample/report.html") bytes," \
  "injection $(wc -c <"$tmp/injection/report.html") bytes"

node "$here/report.test.mjs" --sample "$tmp/sample" --injection "$tmp/injection" \
  --screenshot "$screenshot"
