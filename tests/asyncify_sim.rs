//! The Asyncify runtimes emcc 3.1.6 cannot build (newer releases, MEMORY64, Closure output of
//! their templates), run before and after `growsafe fix` against the simulated wasm module of
//! `tests/support/asyncify_sim.cjs`: eight sleeps, the stack size doubled halfway where the
//! runtime allows it, and a heap that grows on the first data block.
//!
//! Unfixed, every sleep mallocs and frees a block and a view taken in `startAsync` dies. Fixed,
//! one block serves every sleep (a second one after the stack size changed, the first freed),
//! no view dies, and every header `asyncify_start_unwind` sees is right for the current stack
//! size. Node is required, as for the end-to-end tests.

#[path = "support/node.rs"]
mod node;

use std::path::{Path, PathBuf};

use growsafe::{Lang, Options, PassId, fix_source};

const SLEEPS: u64 = 8;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/asyncify_sleep_alloc")
        .join(name)
}

fn simulate(glue: &Path, args: &[&str]) -> serde_json::Value {
    let simulator = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/asyncify_sim.cjs");
    let mut argv = vec![simulator.into_os_string(), glue.as_os_str().to_owned()];
    argv.extend(args.iter().map(Into::into));
    let stdout = node::stdout(argv);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{}: no report ({e}):\n{stdout}", glue.display()))
}

fn count(report: &serde_json::Value, key: &str) -> u64 {
    report[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
}

/// `settable`: whether the program can change the stack size (it cannot once Closure folded it).
fn check(name: &str, args: &[&str], settable: bool) {
    let path = fixture(name);
    let before = simulate(&path, args);
    assert_eq!(before["done"], true, "{name}: {before}");
    assert_eq!(count(&before, "sleeps"), SLEEPS, "{name}: {before}");
    assert_eq!(
        (count(&before, "mallocs"), count(&before, "frees")),
        (SLEEPS, SLEEPS),
        "{name}: the unfixed runtime should malloc and free per sleep: {before}"
    );
    assert!(
        count(&before, "deadViews") > 0,
        "{name}: the unfixed runtime should lose a view to growth: {before}"
    );

    let text = std::fs::read_to_string(&path).unwrap();
    let options = Options {
        select: Some(vec![PassId::AsyncifySleepAlloc]),
        ..Options::default()
    };
    let fixed = fix_source(&text, Lang::JavaScript, &options).unwrap();
    assert_eq!(fixed.applied.len(), 1, "{name}: not fixed");
    let tmp = tempfile::tempdir().unwrap();
    let fixed_path = tmp.path().join(name);
    std::fs::write(&fixed_path, &fixed.text).unwrap();
    let after = simulate(&fixed_path, args);
    assert_eq!(after["done"], true, "{name}: {after}");
    assert_eq!(
        after["results"], before["results"],
        "{name}: program output"
    );
    assert_eq!(count(&after, "sleeps"), SLEEPS, "{name}: {after}");
    let (mallocs, frees) = if settable { (2, 1) } else { (1, 0) };
    assert_eq!(
        (count(&after, "mallocs"), count(&after, "frees")),
        (mallocs, frees),
        "{name}: the fixed runtime should reuse one block: {after}"
    );
    assert_eq!(count(&after, "deadViews"), 0, "{name}: {after}");
    assert_eq!(
        after["headerErrors"],
        serde_json::json!([]),
        "{name}: headers"
    );
}

#[test]
fn stock_3_1_6() {
    check("stock_3_1_6_O0.js", &[], true);
    check("stock_3_1_6_O2.js", &[], true);
}

#[test]
fn v3_1_30_direct_exports() {
    check("v3_1_30_O0.js", &[], true);
}

#[test]
fn v3_1_45_method_shorthand() {
    check("v3_1_45.js", &[], true);
}

#[test]
fn v3_1_70_minified_main_loop() {
    check("v3_1_70_minified.js", &[], true);
}

#[test]
fn v4_0_20_raw_print() {
    check("v4_0_20_raw.js", &[], true);
}

#[test]
fn v5_0_minified_assertions() {
    check("v5_0_minified.js", &[], true);
}

#[test]
fn v6_0_8() {
    check("v6_0_8.js", &[], true);
}

#[test]
fn memory64_header_24_bigint_stores() {
    check("memory64_4_0_20.js", &["--header", "24"], true);
}

#[test]
fn memory64_bigint_pointers() {
    check(
        "memory64_bigint_pointers.js",
        &["--header", "24", "--bigint-pointers"],
        true,
    );
}

#[test]
fn closure_compiled_templates() {
    let closure = ["--closure-glue", "--stack-size", "4096"];
    check("closure_v6_0_8.js", &closure, true);
    check(
        "closure_memory64.js",
        &[&closure[..], &["--header", "24"]].concat(),
        false,
    );
    check(
        "closure_memory64_dynamic.js",
        &[&closure[..], &["--header", "24"]].concat(),
        true,
    );
}
