#!/usr/bin/env bash
# Creates the story baseline's venv, ${BENCH_HOME:-~/.cache/storyhash-bench}/stories-venv, with
# the pinned requirements (pip only, from PyPI).  Idempotent: an existing venv is brought up to
# the pins.  PYTHON picks the interpreter (default python3; CPython 3.11 is what the pins were
# checked on).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${BENCH_HOME:-$HOME/.cache/storyhash-bench}"
VENV="$WORK/stories-venv"
mkdir -p "$WORK"
[ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
"$VENV/bin/python" -c 'import sklearn, numpy, scipy; print("stories venv OK: scikit-learn", sklearn.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__)'
