#!/usr/bin/env bash
# fetch-real-glue.sh [DEST]
#
# Download real, published Emscripten JS glue files from the npm registry for
# growsafe's tests, verify them, and put them in DEST (default:
# <repo>/target/real-glue) under stable names, plus DEST/manifest.tsv.
#
# Every package is pinned to an exact version AND to the tarball's sha512
# integrity (as printed by `npm view <pkg>@<ver> dist.integrity`); every
# extracted file is pinned to its sha256. A file that already exists in DEST
# with the right sha256 is not downloaded again (the script is idempotent and
# makes no network request at all when everything is in place).
#
# Needs only: bash, node + npm (registry access), tar, sha256sum, coreutils.
# gzip is not needed (node's zlib decompresses the tarballs).
#
# Environment:
#   REAL_GLUE_SKIP_LARGE=1   skip packages marked "large" (@php-wasm/node@2.0.22,
#                            a 162 MB tarball; the only 2.0.x php-wasm glue)
#   REAL_GLUE_ONLY=<regex>   only handle files whose DEST name matches this
#                            extended regex (e.g. 'quickjs|wa-sqlite')
#   REAL_GLUE_SET=bench      the benchmark's set instead of the tests': large
#                            real glue (1.2-5.9 MB: pyodide, asm.js builds of
#                            sql.js and zstd-codec, web-ifc, manifold-3d) that
#                            `just bench` fetches into target/bench-glue
#
# See fixtures/real/README.md for what each file is and why it was chosen.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$script_dir")"

case "${1:-}" in
  -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
DEST="${1:-$repo_root/target/real-glue}"
SKIP_LARGE="${REAL_GLUE_SKIP_LARGE:-0}"
ONLY="${REAL_GLUE_ONLY:-}"

for tool in node npm tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "fetch-real-glue: '$tool' not found in PATH" >&2; exit 1; }
done

# One row per extracted file, TAB-separated:
#   package@version  tarball-integrity  path-in-tarball(under package/)  dest-name  sha256  bytes  category  traits  size-class
# Rows of the same package must be adjacent.
ENTRIES="$(cat <<'EOF'
@php-wasm/node@2.0.22	sha512-5Ca4EboptlnK98YXQED7hbfSguL86/nbzPAeptiTRystBjvlLEal9WpIhJWUTi+1Ybb/9u+sMUZAvZNEI0Boow==	asyncify/php_8_3.js	php-wasm-2.0.22-node-8-3-asyncify.js	ed627ded59e008902983a05db551940d137d010f68cb57c7d8770c311fd4f26e	1003550	stock-asyncify	prettier,tabs,method-shorthand,name-keyed-callstack	large
@php-wasm/node@2.0.22	sha512-5Ca4EboptlnK98YXQED7hbfSguL86/nbzPAeptiTRystBjvlLEal9WpIhJWUTi+1Ybb/9u+sMUZAvZNEI0Boow==	jspi/php_8_3.js	php-wasm-2.0.22-node-8-3-jspi.js	9a92ac665dc0a5f741bc9c415e60978401f72c90174cd600ed74fa8266f5414e	964978	jspi	prettier,tabs,handleSleep-method	large
@php-wasm/node-8-3@3.1.56	sha512-FGj6HK9zlh+3Zoh/qOSP7WS1zPWvWMW1oBVojRzedW1j5XxlbXydcypUYpAcsdlQdrVFJ3VzSqytXK4QmQwaFQ==	asyncify/php_8_3.js	php-wasm-3.1.56-node-8-3-asyncify.js	a3c35d7a5938fb8ff972aca3e8cc22f9589b7f8e90544f9c26d538dbfab37a2c	373374	patched-cachedData	prettier,tabs,method-shorthand,multi-line-patch	normal
@php-wasm/node-8-3@3.1.56	sha512-FGj6HK9zlh+3Zoh/qOSP7WS1zPWvWMW1oBVojRzedW1j5XxlbXydcypUYpAcsdlQdrVFJ3VzSqytXK4QmQwaFQ==	jspi/php_8_3.js	php-wasm-3.1.56-node-8-3-jspi.js	f19665af8f55356b2517b5a46c33a16d0642f47e73b2830ee68831f6b798774d	420353	jspi	prettier,tabs,handleSleep-arrow	normal
@php-wasm/node-8-3@3.1.20	sha512-d44tJF0PhuQQEt8svtwOnryqnUTyUchsUGziTzw1aaN5C+/pJF3D5L7Gmu9PQn0RXyZua9fpMzuWrIfuWGCiHQ==	asyncify/php_8_3.js	php-wasm-3.1.20-node-8-3-asyncify.js	f7363fa78597d4831f8fad6b0110abb89f276921cdeec442d8e44daf00317bd4	374516	patched-cachedData	not-prettier,2-spaces,double-quotes,one-line-patch	normal
@php-wasm/node-8-3@3.0.54	sha512-BYuCQ/S33infILnfQaYJkmFBnEtUKOEehEbuD9fD92IayfR6YpHMMdxA/loqLXNcCp3j00e7RSBE6j/x0b+0eA==	asyncify/php_8_3.js	php-wasm-3.0.54-node-8-3-asyncify.js	9c685f90e7838d1d362cea79fc077fdd4f4817187a98c6ecc8b805684d23bffd	1082118	stock-asyncify	raw-emscripten-print,method-shorthand,func-keyed-callstack	normal
@jitl/quickjs-wasmfile-debug-asyncify@0.32.0	sha512-EX8zbXwGqCgAE764M+qvkHtyXDi/FUoMBea0JnES7vCM3P7a2+EOZOjGv85wtZ2sJhI1oJ+nekmqpOODFDY+hw==	dist/emscripten-module.mjs	quickjs-0.32.0-debug-asyncify.mjs	a3aa47f0076f0e52020a4bdf7bf9c83c419aa6132a5ecb50d5bf9bc783ea7515	74027	stock-asyncify	whitespace-minified,assertions,method-shorthand,func-keyed-callstack	normal
@jitl/quickjs-wasmfile-release-asyncify@0.32.0	sha512-3oSwPfja12ICz4aIblB58cuY8JlEq5Txt8Cut4VLo+LH47QN+mzCnSgnbB03hWzg1LBcc+VyyI9UOag7a1NF+Q==	dist/emscripten-module.mjs	quickjs-0.32.0-release-asyncify.mjs	a6a03ee5b7f129017a249850bcbba5205f0d8994ef58a94bbe84b05ee0611374	12106	closure	closure,asyncify,object-kept-as-X	normal
wa-sqlite@1.0.0	sha512-Kyybo5/BaJp76z7gDWGk2J6Hthl4NIPsE+swgraEjy3IY6r5zIR02wAs1OJH4XtJp1y3puj3Onp5eMGS0z7nUA==	dist/wa-sqlite-async.mjs	wa-sqlite-1.0.0-async.mjs	8fb02f20ba95fb9ca6cf9a57fa444c2b2d0925588eb8e7bdd95a4b01de71ff86	43847	closure	closure,asyncify,object-collapsed	normal
@journeyapps/wa-sqlite@2.0.6	sha512-0G/z8ze62uW1h0y5XWLjAD+6wDltppBsANUxQzFFVmNLrVyxqAly+JkzSz8ppWkAKO5QNdMqEk9gz43aH5Ukgw==	dist/wa-sqlite-async.mjs	journeyapps-wa-sqlite-2.0.6-async.mjs	1376b2dc6edebbdded8074eaf166e927d46bd8bfd809e355dd90af2b804a3bb9	111863	stock-asyncify	whitespace-minified,method-shorthand,name-keyed-callstack	normal
@journeyapps/wa-sqlite@2.0.6	sha512-0G/z8ze62uW1h0y5XWLjAD+6wDltppBsANUxQzFFVmNLrVyxqAly+JkzSz8ppWkAKO5QNdMqEk9gz43aH5Ukgw==	dist/wa-sqlite-jspi.mjs	journeyapps-wa-sqlite-2.0.6-jspi.mjs	c7af70f41b481a4b7478cfbb3589a31365bc959fcb16f0f7383b74d5b58fc067	113368	jspi	whitespace-minified,handleSleep-arrow	normal
@jsquash/avif@2.1.1	sha512-LMRxd0fMgfCLtobDh0/sFYJMMiRJTNYSEEWvRDKXlAeZ08t3gI5V+1thIT0XjXJ+SVG7Zug9B0XPyx0Ti5VRNA==	codec/enc/avif_enc_mt.js	jsquash-avif-2.1.1-enc-mt.js	b2fbada547e79de2b436a63c5eafcd000f169a6a2e6fc02b80ab8e8926db6ed9	54909	pthreads	whitespace-minified,GROWABLE_HEAP,updateMemoryViews,growMemory	normal
@tensorflow/tfjs-backend-wasm@4.22.0	sha512-/IYhReRIp4jg/wYW0OwbbJZG8ON87mbz0PgkiP3CdcACRSvUN0h8rvC0O3YcDtkTQtFWF/tcXq/KlVDyV49wmA==	wasm-out/tfjs-backend-wasm-threaded-simd.js	tfjs-backend-wasm-4.22.0-threaded-simd.js	d79fba6f8a1648e9e068c73930d4898d99fcc24ca3163a8679464c96a644949f	54834	pthreads	whitespace-minified,GROWABLE_HEAP,updateGlobalBufferAndViews,buffer-global	normal
EOF
)"

# The benchmark's set (REAL_GLUE_SET=bench): files over 1 MB of other shapes than the tests'.
BENCH_ENTRIES="$(cat <<'EOF'
pyodide@314.0.8	sha512-74Wq1kXOC+CCEzAfxuRAO701nAcCMLjf8NrwvWpu8S41dVMXwXmLQ05dYB+F4e46AdnGo0oq7YHSVUpHsoarLQ==	pyodide.asm.mjs	pyodide-314.0.8-asm.mjs	22514b8be6980e28a02c8b1d6387ce8dfe666fc4edf8d547cff5dce29ff4d972	1250259	bench	main-module,one-line	normal
zstd-codec@0.1.5	sha512-v3fyjpK8S/dpY/X5WxqTK3IoCnp/ZOLxn144GZVlNUjtwAchzrVo03h+oMATFhCIiJ5KTr4V3vDQQYz4RU684g==	lib/zstd-codec-binding.js	zstd-codec-0.1.5-binding.js	abc1a38a63c292235707ca767783cf9c2f50d69b4a48a2ec2ec683e605018a0f	1316404	bench	asm.js,factory-function	normal
manifold-3d@3.5.4	sha512-WWsme5HabwLHVcWPHT9m+s7mdmDVSEvCny+uXH1E7jEc8FbFUgM75C3Dh6NVw57Eeh3Ow7+xHCuXfxDMOemi9A==	dist/worker.bundled.js	manifold-3d-3.5.4-worker-bundled.js	b078f5b07807ce6bf541449e135bf444cd7ca721475b52cdfec0a92e20fb9079	1734944	bench	bundle	normal
sql.js@1.17.0	sha512-HNdo5+2eSTEm7iLcfXUd2mjZX3Oe+5mJ0uDgIpirS7gSLHhZIw9kWDWxNcDVeFGEIBxJlkgo525g0CZJoH8GgA==	dist/sql-asm-debug.js	sql.js-1.17.0-asm-debug.js	c7fc03b167cfa8f3fde0d3fcb4d5f351f0d13381f6df3a3e610a8c7b084e61b4	5668047	bench	asm.js,debug	normal
web-ifc@0.0.78	sha512-LGKMNYFVNyz9vVERN0iz+zvPQJqT7MEGBxslzcuuhwDDOA116LmJLKkg8sZ5SEvQJSc5NRVMWgpRNkDmuoQoJg==	web-ifc-api.js	web-ifc-0.0.78-api.js	1edb1dd8e8dba63757932f62001f1b2ee812d86594b6ffc5e1e8beebe1f16690	5909050	bench	bundle	normal
EOF
)"
case "${REAL_GLUE_SET:-tests}" in
  tests) ;;
  bench) ENTRIES="$BENCH_ENTRIES" ;;
  *) echo "fetch-real-glue: REAL_GLUE_SET is 'tests' or 'bench', not '$REAL_GLUE_SET'" >&2; exit 2 ;;
esac

tmp_root="$(mktemp -d "${TMPDIR:-/tmp}/growsafe-real-glue.XXXXXX")"
trap 'rm -rf "$tmp_root"' EXIT

mkdir -p "$DEST"

file_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# SRI string ("sha512-<base64>") of a file, streamed through node's crypto.
file_sri_sha512() {
  node -e '
    const h = require("crypto").createHash("sha512");
    require("fs").createReadStream(process.argv[1])
      .on("data", (d) => h.update(d))
      .on("error", (e) => { console.error(e.message); process.exit(1); })
      .on("end", () => console.log("sha512-" + h.digest("base64")));
  ' "$1"
}

# Extract one member of a .tgz to stdout (gunzip via node, so no gzip binary needed).
tgz_member() {
  node -e 'process.stdin.pipe(require("zlib").createGunzip()).pipe(process.stdout)' <"$1" \
    | tar -xOf - "$2"
}

selected() { [ -z "$ONLY" ] || [[ "$1" =~ $ONLY ]]; }

have_ok() { [ -f "$DEST/$1" ] && [ "$(file_sha256 "$DEST/$1")" = "$2" ]; }

fetched=0 cached=0 skipped=0 failed=0
specs="$(printf '%s\n' "$ENTRIES" | cut -f1 | awk '!seen[$0]++')"

while IFS= read -r spec; do
  [ -n "$spec" ] || continue
  rows="$(printf '%s\n' "$ENTRIES" | awk -F'\t' -v s="$spec" '$1 == s')"

  # Which of this package's (selected) files are missing or wrong?
  need=""
  while IFS=$'\t' read -r _ _ _ name sha _ _ _ _; do
    selected "$name" || continue
    if have_ok "$name" "$sha"; then
      echo "ok      $name (already present, sha256 verified)"
      cached=$((cached + 1))
    else
      need="$need$name "
    fi
  done <<<"$rows"
  [ -n "$need" ] || continue

  integrity="$(printf '%s\n' "$rows" | head -n1 | cut -f2)"
  size_class="$(printf '%s\n' "$rows" | head -n1 | cut -f9)"
  if [ "$size_class" = large ] && [ "$SKIP_LARGE" = 1 ]; then
    echo "skip    $spec (large tarball; REAL_GLUE_SKIP_LARGE=1): $need"
    skipped=$((skipped + $(wc -w <<<"$need")))
    continue
  fi

  pkdir="$tmp_root/pack.$fetched.$RANDOM"
  mkdir -p "$pkdir"
  echo "fetch   $spec ..."
  t0=$SECONDS
  if ! (cd "$pkdir" && npm pack --loglevel=error --ignore-scripts --pack-destination "$pkdir" "$spec" >/dev/null); then
    echo "FAIL    npm pack $spec" >&2
    failed=$((failed + $(wc -w <<<"$need")))
    continue
  fi
  tgz=""
  for f in "$pkdir"/*.tgz; do [ -f "$f" ] && tgz="$f" && break; done
  if [ -z "$tgz" ]; then
    echo "FAIL    npm pack $spec produced no tarball" >&2
    failed=$((failed + $(wc -w <<<"$need")))
    continue
  fi
  got="$(file_sri_sha512 "$tgz")"
  if [ "$got" != "$integrity" ]; then
    echo "FAIL    $spec: tarball integrity mismatch" >&2
    echo "          expected $integrity" >&2
    echo "          got      $got" >&2
    failed=$((failed + $(wc -w <<<"$need")))
    rm -rf "$pkdir"
    continue
  fi
  echo "        tarball $(wc -c <"$tgz" | tr -d ' ') bytes, integrity ok ($((SECONDS - t0))s)"

  while IFS=$'\t' read -r _ _ path name sha bytes _ _ _; do
    case " $need " in *" $name "*) ;; *) continue ;; esac
    out="$DEST/.$name.partial"
    if ! tgz_member "$tgz" "package/$path" >"$out"; then
      echo "FAIL    $name: package/$path not found in $spec" >&2
      rm -f "$out"; failed=$((failed + 1)); continue
    fi
    got_sha="$(file_sha256 "$out")"
    if [ "$got_sha" != "$sha" ]; then
      echo "FAIL    $name: sha256 mismatch (expected $sha, got $got_sha)" >&2
      rm -f "$out"; failed=$((failed + 1)); continue
    fi
    chmod 0644 "$out"
    mv -f "$out" "$DEST/$name"
    echo "wrote   $name ($bytes bytes) <- $spec package/$path"
    fetched=$((fetched + 1))
  done <<<"$rows"
  rm -rf "$pkdir"
done <<<"$specs"

# Manifest: every file of the table that is present and verified in DEST.
manifest_tmp="$DEST/.manifest.tsv.partial"
{
  printf 'file\tpackage\tpath\tcategory\ttraits\tbytes\tsha256\n'
  while IFS=$'\t' read -r spec _ path name sha bytes category traits _; do
    [ -n "$spec" ] || continue
    have_ok "$name" "$sha" || continue
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$spec" "package/$path" "$category" "$traits" "$bytes" "$sha"
  done <<<"$ENTRIES"
} >"$manifest_tmp"
mv -f "$manifest_tmp" "$DEST/manifest.tsv"

echo "done: $fetched fetched, $cached already present, $skipped skipped, $failed failed -> $DEST (manifest.tsv: $(($(wc -l <"$DEST/manifest.tsv") - 1)) files)"
[ "$failed" -eq 0 ]
