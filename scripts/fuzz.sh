#!/usr/bin/env bash
# Fuzzes growsafe's parse → analyse → fix → re-parse path (fuzz/fuzz_targets/fix.rs) for a
# bounded time, on stable Rust; exits non-zero when libFuzzer finds a crash. See docs/fuzzing.md.
#
#   scripts/fuzz.sh [DURATION] [CORPUS]
#
# DURATION: seconds, or a number with an s/m/h suffix (default 60s). CORPUS: the corpus
# directory, seeded from the fixtures first and grown by the run (default: a temporary one,
# deleted afterwards). Crashes land in fuzz/artifacts/fix/. Extra libFuzzer flags can be passed
# in FUZZ_ARGS (e.g. FUZZ_ARGS='-workers=2 -jobs=2'). FUZZ_CODEGEN_UNITS=16 (CI sets it) lets
# the big crates' codegen use both cores, for a target that runs ~15 % slower than with
# cargo-fuzz's default of one codegen unit.
set -euo pipefail
cd "$(dirname "$0")/.."

# The cargo-fuzz CI installs, from crates.io.
CARGO_FUZZ_VERSION=0.13.2

duration="${1:-60s}"
seconds=0
if [[ "$duration" =~ ^([0-9]+)([smh]?)$ ]]; then
    n=$((10#${BASH_REMATCH[1]}))
    case "${BASH_REMATCH[2]}" in
        h) seconds=$((n * 3600)) ;;
        m) seconds=$((n * 60)) ;;
        *) seconds=$n ;;
    esac
fi
[[ "$seconds" -gt 0 ]] || {
    echo "fuzz.sh: bad duration '$duration' (seconds, or e.g. 90s, 10m, 2h)" >&2
    exit 2
}

if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    cargo install cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked
fi
# libfuzzer-sys compiles libFuzzer itself, which needs a C++ compiler.
command -v c++ >/dev/null || { apt-get update -qq && apt-get install -y -qq g++; }

if [[ $# -ge 2 ]]; then
    corpus="$2"
else
    corpus="$(mktemp -d)"
    trap 'rm -rf "$corpus"' EXIT
fi
fuzz/seed.sh "$corpus"

# `--sanitizer none` keeps to stable Rust: without a sanitizer cargo-fuzz passes rustc no `-Z`
# flag (and growsafe forbids unsafe code, so ASan would add little). `--release` leaves debug
# assertions to fuzz/Cargo.toml's profile: on for growsafe, off for swc's parser.
build=(--release --sanitizer none)
[[ -z "${FUZZ_CODEGEN_UNITS:-}" ]] || build+=(--codegen-units "$FUZZ_CODEGEN_UNITS")
cargo fuzz build fix "${build[@]}"
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
if ! cargo fuzz run fix "${build[@]}" "$corpus" -- \
    -dict=fuzz/dict/js.dict \
    -max_total_time="$seconds" \
    -timeout=30 \
    -print_final_stats=1 \
    ${FUZZ_ARGS:-}; then
    echo "fuzz.sh: libFuzzer found a crash; the input is in fuzz/artifacts/fix/." >&2
    echo "Reproduce: cargo fuzz run fix ${build[*]} fuzz/artifacts/fix/<file>" >&2
    echo "Then see docs/fuzzing.md to minimise it and turn it into a regression test." >&2
    exit 1
fi
