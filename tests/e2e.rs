//! End-to-end proof on real Emscripten 3.1.6 builds (`fixtures/e2e`, rebuilt by its `regen.sh`).
//!
//! For each program and optimisation level (and the `-O2 --closure 1` build of the sleep
//! program, whose Asyncify runtime Closure renamed), Node runs the committed glue and a copy
//! fixed by growsafe. The unpatched run must show the bug, the fixed run must not, and the program's
//! other output must be unchanged. Node is required (it is on every CI machine).

#[path = "support/node.rs"]
mod node;

use std::path::{Path, PathBuf};

use growsafe::passes::FixAvailability;
use growsafe::{Lang, Options, PassId, fix_source};

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/e2e")
}

/// Runs `runner` on `glue` under Node; returns stdout.
fn node(runner: &str, glue: &Path) -> String {
    let runner = e2e_dir().join(runner);
    node::stdout([
        "--no-experimental-fetch".as_ref(),
        runner.as_os_str(),
        glue.as_os_str(),
    ])
}

/// The fixed copy of `<name>.js` (with its `.wasm` beside it) in a temporary directory.
fn fixed_copy(name: &str, dir: &Path) -> PathBuf {
    let glue = std::fs::read_to_string(e2e_dir().join(format!("{name}.js"))).unwrap();
    let fixed = fix_source(&glue, Lang::JavaScript, &Options::default()).unwrap();
    assert!(fixed.changed, "{name}: growsafe changed nothing");
    let (lints, left): (Vec<_>, Vec<_>) = fixed
        .remaining
        .findings
        .iter()
        .partition(|f| f.pass.meta().fix == FixAvailability::Never);
    assert!(left.is_empty(), "{name}: hazards left: {left:?}");
    // The lint-only passes report exactly what the C program's EM_JS does on purpose: the
    // sleep probe keeps `HEAPU8.subarray(p, p + 4)` for a timer callback during the sleep.
    // After Closure that view is `K`, known as HEAPU8 by the refresh function's `new Uint8Array`.
    let lints: Vec<_> = lints
        .iter()
        .map(|f| {
            (
                f.pass,
                fixed.text[f.range.start as usize..f.range.end as usize].to_owned(),
            )
        })
        .collect();
    let expected: Vec<(PassId, String)> = if name.starts_with("sleep") {
        let store = if name.ends_with("closure") {
            "d=K.subarray(b,b+4)"
        } else if name.ends_with("O2") {
            "view=HEAPU8.subarray(p,p+4)"
        } else {
            "view = HEAPU8.subarray(p, p + 4)"
        };
        vec![(PassId::KeptBufferView, store.to_owned())]
    } else {
        Vec::new()
    };
    assert_eq!(lints, expected, "{name}: lint findings");
    let again = fix_source(&fixed.text, Lang::JavaScript, &Options::default()).unwrap();
    assert!(!again.changed, "{name}: a second fix changed the output");
    let path = dir.join(format!("{name}.js"));
    std::fs::write(&path, &fixed.text).unwrap();
    std::fs::copy(
        e2e_dir().join(format!("{name}.wasm")),
        dir.join(format!("{name}.wasm")),
    )
    .unwrap();
    path
}

/// The lines that are not bug indicators: the program's own output.
fn program_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| {
            !["BUG", "COUNT:", "RESULT:"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect()
}

fn check(program: &str, level: &str) {
    let name = format!("{program}_{level}");
    let runner = format!("run_{program}.cjs");
    let tmp = tempfile::tempdir().unwrap();

    let unpatched = node(&runner, &e2e_dir().join(format!("{name}.js")));
    let expected_unpatched =
        std::fs::read_to_string(e2e_dir().join(format!("expected/{program}.unpatched.txt")))
            .unwrap();
    assert_eq!(
        unpatched, expected_unpatched,
        "{name}: the unpatched build no longer shows the bug as recorded"
    );

    let fixed = node(&runner, &fixed_copy(&name, tmp.path()));
    let expected_fixed =
        std::fs::read_to_string(e2e_dir().join(format!("expected/{program}.fixed.txt"))).unwrap();
    assert_eq!(
        fixed, expected_fixed,
        "{name}: the fixed build does not behave as expected"
    );
    assert_eq!(
        program_lines(&unpatched),
        program_lines(&fixed),
        "{name}: the program's own output changed"
    );
}

#[test]
fn lockstruct_o0_write_through_captured_views_survives_growth() {
    check("lockstruct", "O0");
}

#[test]
fn lockstruct_o2_write_through_captured_views_survives_growth() {
    check("lockstruct", "O2");
}

#[test]
fn sleep_o0_asyncify_allocates_once_and_views_survive_the_first_sleep() {
    check("sleep", "O0");
}

#[test]
fn sleep_o2_asyncify_allocates_once_and_views_survive_the_first_sleep() {
    check("sleep", "O2");
}

#[test]
fn sleep_closure_renamed_asyncify_allocates_once_and_views_survive_the_first_sleep() {
    let glue = std::fs::read_to_string(e2e_dir().join("sleep_closure.js")).unwrap();
    assert!(
        !glue.contains("Asyncify") && !glue.contains("allocateData"),
        "the closure build is expected to have lost the runtime's names"
    );
    check("sleep", "closure");
}
