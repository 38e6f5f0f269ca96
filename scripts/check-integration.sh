#!/usr/bin/env bash
# check-integration.sh: runs every snippet of docs/integration.md against Debian's emcc 3.1.6.
#
# Needs: emscripten node-acorn cmake make (apt-get install -y emscripten node-acorn cmake make)
# and node. It builds docs/integration/app.c with the Makefile, the CMake project, the
# Dockerfile's RUN commands (no Docker engine needed: the commands run here), and emcc's
# `--js-transform` hook; checks growsafe patched each glue and that it still runs in Node;
# and runs the GitHub Actions job's growsafe commands. Exit 0 when everything holds.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
snippets="$repo/docs/integration"
for tool in emcc emcmake cmake make node cargo; do
  command -v "$tool" >/dev/null || { echo "check-integration: '$tool' not found (apt-get install -y emscripten node-acorn cmake make)" >&2; exit 2; }
done
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"   # node-acorn, for emcc's optimizer at -O2

cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$(mktemp -d)"; cp "$repo/target/release/growsafe" "$bin/"; export PATH="$bin:$PATH"
work="$(mktemp -d)"; trap 'rm -rf "$work" "$bin"' EXIT
fail=0
patched() { # glue name: growsafe's Asyncify cache is in the glue and the program runs
  if grep -q growsafeTake "$1" && node --no-experimental-fetch "$1" | grep -q "slept 3 times"; then
    echo "ok: $2"
  else
    echo "FAIL: $2 ($1 not patched or does not run)"; fail=1
  fi
}

# Makefile post-build step.
mkdir "$work/make"; cp "$snippets/app.c" "$snippets/Makefile" "$work/make/"
make -s -C "$work/make" >/dev/null
patched "$work/make/app.js" "Makefile post-build step"

# CMake POST_BUILD command.
mkdir "$work/cmake"; cp "$snippets/app.c" "$snippets/CMakeLists.txt" "$work/cmake/"
emcmake cmake -S "$work/cmake" -B "$work/cmake/build" >/dev/null
cmake --build "$work/cmake/build" >/dev/null
patched "$work/cmake/build/app.js" "CMake POST_BUILD command"

# Dockerfile: run its RUN steps that build and patch (the image's own setup is skipped).
mkdir "$work/docker"; cp "$snippets/app.c" "$work/docker/"
grep -E '^RUN (emcc|growsafe) ' "$snippets/Dockerfile" | sed 's/^RUN //' | while read -r step; do
  (cd "$work/docker" && bash -c "$step")
done
patched "$work/docker/app.js" "Dockerfile RUN steps"

# emcc --js-transform hook (emcc appends the glue's path to the command).
mkdir "$work/hook"; cp "$snippets/app.c" "$work/hook/"
(cd "$work/hook" && emcc -O2 -sALLOW_MEMORY_GROWTH=1 -sASYNCIFY=1 -sENVIRONMENT=node app.c \
  --js-transform "growsafe fix -q" -o app.js)
patched "$work/hook/app.js" "emcc --js-transform"

# --require fails the build when the glue has no Asyncify runtime to patch.
mkdir "$work/require"; cp "$snippets/app.c" "$work/require/"
(cd "$work/require" && emcc -O2 -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node app.c -o app.js 2>/dev/null) || true
if [ -f "$work/require/app.js" ] && growsafe fix -q --require asyncify-sleep-alloc "$work/require/app.js" 2>/dev/null; then
  echo "FAIL: --require passed on glue without Asyncify"; fail=1
else
  echo "ok: --require fails on glue it cannot patch"
fi

# GitHub Actions job: its growsafe commands on a tree with sources and build output.
mkdir -p "$work/gha/src" "$work/gha/build"
cp "$work/make/app.js" "$work/gha/build/app.js"
printf 'var HEAP8;\nvar memory = { HEAP8 };\n' > "$work/gha/src/lib.js"
grep -E '^ *- run: growsafe ' "$snippets/github-workflow.yml" | sed 's/^ *- run: //' | while read -r step; do
  set +e; (cd "$work/gha" && bash -c "$step" >/dev/null); code=$?; set -e
  if [ "$code" -le 1 ]; then echo "ok: workflow step \`$step\` (exit $code)"; else echo "FAIL: workflow step \`$step\` (exit $code)"; exit 1; fi
done

exit "$fail"
