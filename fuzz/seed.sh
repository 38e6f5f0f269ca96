#!/usr/bin/env bash
# Fills a fuzz corpus directory (default fuzz/corpus/fix) with the repository's JavaScript and
# TypeScript fixtures and real-glue excerpts, each under its content hash as libFuzzer names
# inputs. The same files seed tests/fuzz_invariants.rs. See docs/fuzzing.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$root/fuzz/corpus/fix}"
mkdir -p "$corpus"
n=0
while IFS= read -r -d '' file; do
    cp "$file" "$corpus/$(sha1sum "$file" | cut -c1-40)"
    n=$((n + 1))
done < <(find "$root/fixtures" "$root/examples" -type f \
    \( -name '*.js' -o -name '*.mjs' -o -name '*.cjs' -o -name '*.ts' -o -name '*.js.txt' \) -print0)
echo "seeded $corpus with $n fixtures"
