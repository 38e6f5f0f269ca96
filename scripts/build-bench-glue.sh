#!/usr/bin/env bash
# build-bench-glue.sh [DEST]
#
# Builds two large real glue files with Debian's emcc 3.1.6 for `just bench` (default DEST:
# <repo>/target/bench-glue): fixtures/e2e/sleep.c linked with -sMAIN_MODULE=1 (every JS
# library function of Emscripten is kept, as in pyodide's glue) and -sASYNCIFY=1, at -O0
# (2.7 MB over 50,000 lines, comments kept) and -O2 (2.9 MB on one line). Emscripten's own
# growableHeap pass reads 3.1.6 glue, so these are the files over 1 MB the peer can be timed on.
#
# Skips a file that is already there; prints why and exits 0 when emcc 3.1.6 is missing (the
# benchmark then runs without these files). Install: apt-get install -y emscripten node-acorn.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$script_dir")"
DEST="${1:-$repo_root/target/bench-glue}"

if ! command -v emcc >/dev/null 2>&1; then
  echo "build-bench-glue: emcc not found, skipping (apt-get install -y emscripten node-acorn)"
  exit 0
fi
version="$(emcc --version | head -n1)"
case "$version" in
  *" 3.1.6 "* | *" 3.1.6") ;;
  *) echo "build-bench-glue: expected emcc 3.1.6, got: $version; skipping"; exit 0 ;;
esac
# -O2 runs tools/acorn-optimizer.js, which needs `require('acorn')` (Debian's node-acorn).
export NODE_PATH="${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs"

mkdir -p "$DEST"
work="$(mktemp -d "${TMPDIR:-/tmp}/growsafe-bench-glue.XXXXXX")"
trap 'rm -rf "$work"' EXIT
for opt in O0 O2; do
  name="emcc-3.1.6-main-module-asyncify-$opt.js"
  if [ -f "$DEST/$name" ]; then
    echo "ok      $name (already built)"
    continue
  fi
  (cd "$work" && emcc "$repo_root/fixtures/e2e/sleep.c" "-$opt" -sMAIN_MODULE=1 -sASYNCIFY=1 \
    -sALLOW_MEMORY_GROWTH=1 -o "main_$opt.js")
  mv -f "$work/main_$opt.js" "$DEST/$name"
  echo "built   $name ($(wc -c <"$DEST/$name" | tr -d ' ') bytes)"
done
