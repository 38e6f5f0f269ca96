# List the recipes.
default:
    @just --list

# Run the whole test suite (what CI runs).
test:
    cargo test

# Format the code.
fmt:
    cargo fmt --all
    cargo fmt --manifest-path fuzz/Cargo.toml --all

# Lint with clippy, warnings as errors (the fuzz target too).
lint:
    cargo clippy --all-targets -- -D warnings
    cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings

# Regenerate docs/passes/*.md from the pass doc comments.
docs:
    UPDATE_DOCS=1 cargo test --test docs

# Accept changed insta snapshots.
review:
    cargo insta review

# Rebuild the end-to-end fixtures with Debian's emcc 3.1.6 (apt-get install -y emscripten node-acorn).
regen-e2e:
    fixtures/e2e/regen.sh

# Rebuild the build matrix with Debian's emcc 3.1.6 (see fixtures/matrix/README.md: also needs Java and Closure Compiler).
regen-matrix:
    fixtures/matrix/regen.sh

# Show what growsafe does to the bundled example.
example:
    cargo run --quiet -- fix --diff examples/glue.js

# Fuzz the parse → fix → re-parse path for DURATION (seconds, or 90s, 10m, 2h), growing fuzz/corpus/fix (docs/fuzzing.md).
fuzz duration="10m":
    scripts/fuzz.sh {{duration}} fuzz/corpus/fix

# Everything CI checks.
ready:
    cargo fmt --all -- --check
    cargo fmt --manifest-path fuzz/Cargo.toml --all -- --check
    cargo clippy --all-targets -- -D warnings
    cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings
    cargo test
    scripts/fuzz.sh 60s

# Run every docs/integration.md snippet against Debian's emcc (apt-get install -y emscripten node-acorn cmake).
integration:
    scripts/check-integration.sh

# Time check and fix against a bare swc parse on large real glue (ratios, MB/s, growableHeap peer).
bench *FILES:
    cargo bench --bench throughput -- {{FILES}}
