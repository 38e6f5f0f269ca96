//! Fuzz target for the parse → analyse → fix → re-parse path: any UTF-8 text, in JavaScript and
//! TypeScript, in every heap style. The invariants live in `tests/support/invariants.rs`, which
//! `cargo test` also runs over the fixtures and mutations of them (`tests/fuzz_invariants.rs`).
//! See docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for lang in invariants::LANGS {
        if let Err(violation) = invariants::check(text, lang) {
            panic!("invariant violated: {violation}");
        }
    }
});
