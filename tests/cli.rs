//! The command-line contract of the `growsafe` binary: what `fix`, `check`, `passes` and
//! `explain` write where, and with which exit code (0 clean or fixed; 1 findings, pending changes
//! or an unmet `--require`; 2 usage, I/O or syntax errors).
//!
//! Every test works on small files in its own temporary directory and runs the binary with that
//! directory as its working directory, so output (and snapshots) name files relatively.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::Path;

use serde_json::Value;

#[path = "support/workdir.rs"]
mod workdir;

use workdir::Dir;

/// `heap-snapshot`: an object literal copying two views (shorthand and `key: value`).
const SNAPSHOT: &str = "var HEAP8, HEAP16;\nvar memory = { HEAP8, HEAP16: HEAP16 };\n";
/// [`SNAPSHOT`] after `fix` with the default getter style.
const SNAPSHOT_FIXED: &str = "var HEAP8, HEAP16;\nvar memory = { get HEAP8() { return HEAP8; }, get HEAP16() { return HEAP16; } };\n";
/// `heap-destructure`: a parameter pattern pinning a view.
const DESTRUCTURE: &str = "function f({ memory: { HEAP16 } }) { HEAP16[0] = 1; }\n";
/// [`DESTRUCTURE`] after `fix`.
const DESTRUCTURE_FIXED: &str = "function f({ memory }) { memory.HEAP16[0] = 1; }\n";
/// Reads the view at each use: nothing for any pass to say.
const CLEAN: &str = "var HEAP8;\nfunction f() { return HEAP8[0]; }\n";
/// A syntax error at 1:19 (the second comma).
const BAD: &str = "var a = {HEAP8: 1,,};\n";
const BOM: &str = "\u{feff}";
const PASSES: [&str; 7] = [
    "heap-snapshot",
    "heap-destructure",
    "asyncify-sleep-alloc",
    "stored-heap-view",
    "kept-buffer-view",
    "heap-object-copy",
    "unused-suppression",
];

/// The passes with fixes: the ones `examples/glue.js` exercises.
const FIX_PASSES: [&str; 3] = ["heap-snapshot", "heap-destructure", "asyncify-sleep-alloc"];

/// `examples/glue.js`: all three hazards.
fn glue() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/glue.js")).unwrap()
}

/// `x = ((((…1…))));` with `depth` parentheses.
fn nested_parens(depth: usize) -> String {
    format!("x = {}1{};\n", "(".repeat(depth), ")".repeat(depth))
}

// ---------------------------------------------------------------------------------------------
// Node: syntax-check and run generated code.

/// Whether `node` can be run. On CI (where Node is always installed) its absence is a failure.
#[allow(clippy::print_stderr)]
fn have_node() -> bool {
    let found = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "`node` is required on CI"
    );
    if !found {
        eprintln!("note: `node` not found; skipping the Node checks");
    }
    found
}

/// Runs `node ARG file` on `source`; panics with Node's stderr unless it succeeds.
#[track_caller]
fn node(arg: Option<&str>, source: &str) {
    let dir = Dir::new();
    let file = dir.write("script.js", source);
    let output = std::process::Command::new("node")
        .args(arg)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "node {} failed on:\n{source}\nstderr:\n{}",
        arg.unwrap_or(""),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `node --check`: the text parses as JavaScript.
#[track_caller]
fn node_check(source: &str) {
    if have_node() {
        node(Some("--check"), source);
    }
}

/// Runs `source` followed by `probe` in Node.
#[track_caller]
fn node_run(source: &str, probe: &str) {
    if have_node() {
        node(None, &format!("{source}\n{probe}\n"));
    }
}

// ---------------------------------------------------------------------------------------------
// `fix PATH`: in place.

#[test]
fn fix_rewrites_in_place_and_summarises_per_pass() {
    let dir = Dir::new();
    dir.write("snapshot.js", SNAPSHOT);
    let run = dir.run(&["fix", "snapshot.js"]);
    run.expect(0);
    assert_eq!(dir.read("snapshot.js"), SNAPSHOT_FIXED);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("snapshot.js: fixed 2 heap-snapshot hazard(s) (line 2)"),
        "stderr:\n{}",
        run.stderr
    );
    // The atomic write leaves no temporary file behind.
    assert_eq!(dir.list("."), ["snapshot.js"]);
}

#[test]
fn fix_heap_destructure() {
    let dir = Dir::new();
    dir.write("destructure.js", DESTRUCTURE);
    let run = dir.run(&["fix", "destructure.js"]);
    run.expect(0);
    assert_eq!(dir.read("destructure.js"), DESTRUCTURE_FIXED);
    assert!(
        run.stderr
            .contains("destructure.js: fixed 1 heap-destructure hazard(s) (line 1)"),
        "stderr:\n{}",
        run.stderr
    );
}

#[test]
fn fix_glue_applies_all_three_passes() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    let run = dir.run(&["fix", "glue.js"]);
    run.expect(0);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!("fix_glue_stderr", run.stderr);
    let fixed = dir.read("glue.js");
    assert!(
        fixed.contains("function bindUserSpace({ memory }) {"),
        "{fixed}"
    );
    assert!(fixed.contains("memory.HEAP16[ptr >> 1] = 2;"), "{fixed}");
    assert!(fixed.contains("get HEAP8() { return HEAP8; }"), "{fixed}");
    assert!(
        fixed.contains("Asyncify.currData = Asyncify.growsafeTake();"),
        "{fixed}"
    );
    node_check(&fixed);
}

#[test]
fn fix_quiet_says_nothing() {
    for flag in ["-q", "--quiet"] {
        let dir = Dir::new();
        dir.write("glue.js", glue());
        let run = dir.run(&["fix", flag, "glue.js"]);
        run.expect(0);
        assert_eq!(run.stderr, "", "{flag}");
        assert_eq!(run.stdout, "", "{flag}");
        assert_ne!(dir.read("glue.js"), glue(), "{flag}");
    }
}

#[test]
fn fix_keeps_permissions_bom_and_trailing_newline() {
    let dir = Dir::new();
    let path = dir.write("bom.js", format!("{BOM}{SNAPSHOT}"));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let run = dir.run(&["fix", "bom.js"]);
    run.expect(0);
    assert_eq!(dir.read("bom.js"), format!("{BOM}{SNAPSHOT_FIXED}"));
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    // Lines are counted after the BOM.
    assert!(
        run.stderr
            .contains("bom.js: fixed 2 heap-snapshot hazard(s) (line 2)"),
        "stderr:\n{}",
        run.stderr
    );
}

#[test]
fn fix_keeps_a_missing_trailing_newline_and_crlf() {
    let dir = Dir::new();
    dir.write("no_newline.js", SNAPSHOT.trim_end());
    dir.write("crlf.js", SNAPSHOT.replace('\n', "\r\n"));
    let run = dir.run(&["fix", "-q", "no_newline.js", "crlf.js"]);
    run.expect(0);
    assert_eq!(dir.read("no_newline.js"), SNAPSHOT_FIXED.trim_end());
    assert_eq!(dir.read("crlf.js"), SNAPSHOT_FIXED.replace('\n', "\r\n"));
}

#[test]
fn fix_is_idempotent() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    dir.write("bom.js", format!("{BOM}{SNAPSHOT}"));
    dir.write("destructure.js", DESTRUCTURE);
    let files = ["glue.js", "bom.js", "destructure.js"];
    dir.run(&["fix", "-q", files[0], files[1], files[2]])
        .expect(0);
    let once: Vec<Vec<u8>> = files.iter().map(|f| dir.bytes(f)).collect();
    let inodes: Vec<u64> = files.iter().map(|f| dir.inode(f)).collect();

    let run = dir.run(&["fix", files[0], files[1], files[2]]);
    run.expect(0);
    assert!(!run.stderr.contains(" fixed "), "stderr:\n{}", run.stderr);
    for (i, file) in files.iter().enumerate() {
        assert_eq!(dir.bytes(file), once[i], "{file} changed on the second run");
        // Nothing to change: the file is not even rewritten.
        assert_eq!(
            dir.inode(file),
            inodes[i],
            "{file} was replaced on the second run"
        );
    }
    dir.run(&["fix", "--check", files[0], files[1], files[2]])
        .expect(0);
}

#[test]
fn fix_leaves_a_clean_file_alone() {
    let dir = Dir::new();
    dir.write("clean.js", CLEAN);
    let inode = dir.inode("clean.js");
    let run = dir.run(&["fix", "clean.js"]);
    run.expect(0);
    assert_eq!(run.stderr, "");
    assert_eq!(dir.read("clean.js"), CLEAN);
    assert_eq!(dir.inode("clean.js"), inode);
}

// ---------------------------------------------------------------------------------------------
// `-` and `-o`.

#[test]
fn fix_stdin_to_stdout() {
    let dir = Dir::new();
    let run = dir.run_with_stdin(&["fix", "-"], SNAPSHOT);
    run.expect(0);
    assert_eq!(run.stdout, SNAPSHOT_FIXED);
    assert!(
        run.stderr
            .contains("stdin.js: fixed 2 heap-snapshot hazard(s) (line 2)"),
        "stderr:\n{}",
        run.stderr
    );
    assert!(dir.list(".").is_empty(), "{:?}", dir.list("."));

    // Nothing to change: the input comes back as it was.
    let run = dir.run_with_stdin(&["fix", "-"], CLEAN);
    run.expect(0);
    assert_eq!(run.stdout, CLEAN);

    // A BOM on stdin is kept too.
    let run = dir.run_with_stdin(&["fix", "-q", "-"], format!("{BOM}{SNAPSHOT}"));
    run.expect(0);
    assert_eq!(run.stdout, format!("{BOM}{SNAPSHOT_FIXED}"));
}

#[test]
fn fix_stdin_filename_picks_the_language_and_the_name() {
    let dir = Dir::new();
    let ts = "let HEAP8: Int8Array;\nvar m = { HEAP8 };\n";
    let run = dir.run_with_stdin(&["fix", "--stdin-filename", "glue.ts", "-"], ts);
    run.expect(0);
    assert_eq!(
        run.stdout,
        "let HEAP8: Int8Array;\nvar m = { get HEAP8() { return HEAP8; } };\n"
    );
    assert!(
        run.stderr.starts_with("glue.ts: fixed 1 heap-snapshot"),
        "stderr:\n{}",
        run.stderr
    );

    // As JavaScript (the default `stdin.js`) the type annotation is a syntax error.
    let run = dir.run_with_stdin(&["fix", "-"], ts);
    run.expect(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("stdin.js:1:"),
        "stderr:\n{}",
        run.stderr
    );
}

#[test]
fn fix_stdin_may_be_given_once() {
    let run = Dir::new().run_with_stdin(&["fix", "-", "-"], SNAPSHOT);
    run.expect(2);
    assert_eq!(run.stdout, "");
}

#[test]
fn fix_output_writes_elsewhere() {
    let dir = Dir::new();
    dir.write("in.js", SNAPSHOT);
    let run = dir.run(&["fix", "in.js", "-o", "out.js"]);
    run.expect(0);
    assert_eq!(run.stdout, "");
    assert_eq!(dir.read("in.js"), SNAPSHOT);
    assert_eq!(dir.read("out.js"), SNAPSHOT_FIXED);

    // Also from standard input, and with the long flag.
    let run = dir.run_with_stdin(&["fix", "-q", "--output", "out2.js", "-"], DESTRUCTURE);
    run.expect(0);
    assert_eq!(run.stdout, "");
    assert_eq!(dir.read("out2.js"), DESTRUCTURE_FIXED);
}

#[test]
fn fix_output_takes_one_input() {
    let dir = Dir::new();
    dir.write("a.js", SNAPSHOT);
    dir.write("b.js", DESTRUCTURE);
    let run = dir.run(&["fix", "-o", "out.js", "a.js", "b.js"]);
    run.expect(2);
    assert!(
        run.stderr.contains("-o/--output"),
        "stderr:\n{}",
        run.stderr
    );
    assert_eq!(dir.read("a.js"), SNAPSHOT);
    assert_eq!(dir.read("b.js"), DESTRUCTURE);
    assert!(!dir.path("out.js").exists());
}

#[test]
fn fix_output_is_not_written_when_the_input_does_not_parse() {
    let dir = Dir::new();
    dir.write("bad.js", BAD);
    let run = dir.run(&["fix", "bad.js", "-o", "out.js"]);
    run.expect(2);
    assert!(!dir.path("out.js").exists());
}

// ---------------------------------------------------------------------------------------------
// `--check` and `--diff`.

#[test]
fn fix_check_writes_nothing_and_exits_1_on_pending_changes() {
    let dir = Dir::new();
    dir.write("snapshot.js", SNAPSHOT);
    let inode = dir.inode("snapshot.js");
    let run = dir.run(&["fix", "--check", "snapshot.js"]);
    run.expect(1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("snapshot.js: would fix 2 heap-snapshot hazard(s) (line 2)"),
        "stderr:\n{}",
        run.stderr
    );
    assert_eq!(dir.bytes("snapshot.js"), SNAPSHOT.as_bytes());
    assert_eq!(dir.inode("snapshot.js"), inode);

    // From standard input nothing is echoed either.
    let run = dir.run_with_stdin(&["fix", "--check", "-"], SNAPSHOT);
    run.expect(1);
    assert_eq!(run.stdout, "");
}

#[test]
fn fix_check_exits_0_on_a_fixed_file() {
    let dir = Dir::new();
    dir.write("fixed.js", SNAPSHOT_FIXED);
    dir.write("clean.js", CLEAN);
    let run = dir.run(&["fix", "--check", "fixed.js", "clean.js"]);
    run.expect(0);
    assert_eq!(run.stdout, "");
    assert_eq!(dir.read("fixed.js"), SNAPSHOT_FIXED);
}

#[test]
fn fix_check_conflicts_with_diff() {
    let dir = Dir::new();
    dir.write("snapshot.js", SNAPSHOT);
    let run = dir.run(&["fix", "--check", "--diff", "snapshot.js"]);
    run.expect(2);
    assert_eq!(dir.read("snapshot.js"), SNAPSHOT);
}

#[test]
fn fix_diff_prints_a_unified_diff_and_writes_nothing() {
    let dir = Dir::new();
    dir.write("snapshot.js", SNAPSHOT);
    dir.write("destructure.js", DESTRUCTURE);
    dir.write("clean.js", CLEAN);
    let run = dir.run(&["fix", "--diff", "snapshot.js", "clean.js", "destructure.js"]);
    run.expect(1);
    insta::assert_snapshot!("fix_diff", run.stdout);
    assert!(
        run.stderr
            .contains("snapshot.js: would fix 2 heap-snapshot hazard(s)"),
        "stderr:\n{}",
        run.stderr
    );
    assert_eq!(dir.read("snapshot.js"), SNAPSHOT);
    assert_eq!(dir.read("destructure.js"), DESTRUCTURE);
    assert_eq!(dir.read("clean.js"), CLEAN);
}

#[test]
fn fix_diff_is_empty_when_nothing_changes() {
    let dir = Dir::new();
    dir.write("fixed.js", SNAPSHOT_FIXED);
    dir.write("clean.js", CLEAN);
    let run = dir.run(&["fix", "--diff", "fixed.js", "clean.js"]);
    run.expect(0);
    assert_eq!(run.stdout, "");
}

// ---------------------------------------------------------------------------------------------
// `--require`.

#[test]
fn fix_require_fails_without_asyncify() {
    let dir = Dir::new();
    dir.write("snapshot.js", SNAPSHOT);
    let run = dir.run(&["fix", "--require", "asyncify-sleep-alloc", "snapshot.js"]);
    run.expect(1);
    assert!(
        run.stderr
            .contains("snapshot.js: required pass `asyncify-sleep-alloc`"),
        "stderr:\n{}",
        run.stderr
    );

    // `--quiet` silences the summary, not the reason for the failure.
    dir.write("clean.js", CLEAN);
    let run = dir.run(&["fix", "-q", "--require", "asyncify-sleep-alloc", "clean.js"]);
    run.expect(1);
    assert!(
        run.stderr.contains("asyncify-sleep-alloc"),
        "stderr:\n{}",
        run.stderr
    );
}

#[test]
fn fix_require_passes_on_glue_and_on_its_fixed_output() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    let run = dir.run(&["fix", "--require", "asyncify-sleep-alloc", "glue.js"]);
    run.expect(0);
    assert!(!run.stderr.contains("required"), "stderr:\n{}", run.stderr);
    let fixed = dir.read("glue.js");
    assert_ne!(fixed, glue());

    // Already fixed: still satisfied, and nothing changes.
    let run = dir.run(&[
        "fix",
        "--require",
        "asyncify-sleep-alloc,heap-snapshot",
        "glue.js",
    ]);
    run.expect(0);
    assert!(!run.stderr.contains("required"), "stderr:\n{}", run.stderr);
    assert_eq!(dir.read("glue.js"), fixed);
}

#[test]

fn fix_require_every_pass_is_idempotent() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    dir.write("destructure.js", DESTRUCTURE);
    let require = "heap-snapshot,heap-destructure,asyncify-sleep-alloc";
    dir.run(&["fix", "-q", "--require", require, "glue.js"])
        .expect(0);
    dir.run(&[
        "fix",
        "-q",
        "--require",
        "heap-destructure",
        "destructure.js",
    ])
    .expect(0);
    // The same patch step run again on its own output.
    let run = dir.run(&["fix", "--require", require, "glue.js"]);
    run.expect(0);
    assert!(!run.stderr.contains("required"), "stderr:\n{}", run.stderr);
    let run = dir.run(&["fix", "--require", "heap-destructure", "destructure.js"]);
    run.expect(0);
    assert_eq!(dir.read("destructure.js"), DESTRUCTURE_FIXED);
}

#[test]
fn fix_require_unknown_pass_is_a_usage_error() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    let run = dir.run(&["fix", "--require", "nope", "glue.js"]);
    run.expect(2);
    assert!(run.stderr.contains("--require"), "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains("unknown pass `nope`"),
        "stderr:\n{}",
        run.stderr
    );
    assert_eq!(dir.read("glue.js"), glue());
}

#[test]
fn fix_require_rejects_a_lint_only_pass() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    let run = dir.run(&["fix", "--require", "stored-heap-view", "glue.js"]);
    run.expect(2);
    assert!(run.stderr.contains("lint-only"), "stderr:\n{}", run.stderr);
    assert_eq!(dir.read("glue.js"), glue());
}

// ---------------------------------------------------------------------------------------------
// Lint-only passes: reported by `check`, left alone (with a warning) by `fix`.

const KEPT: &str = "\
var HEAPU8;
function copyIn(bytes) {
  var heap = HEAPU8;
  var ptr = _malloc(bytes.length);
  heap.set(bytes, ptr);
  return ptr;
}
";

#[test]
fn lint_findings_fail_check_and_fix_warns_without_changing_anything() {
    let dir = Dir::new();
    dir.write("kept.js", KEPT);
    let run = dir.run(&["check", "--format", "concise", "kept.js"]);
    run.expect(1);
    assert!(
        run.stdout.starts_with(
            "kept.js:3:7: stored-heap-view: `heap` keeps `HEAPU8` across `_malloc(…)`"
        ),
        "stdout:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("[no fix: lint only: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(0 fixable with `growsafe fix`)"),
        "{}",
        run.stdout
    );

    let run = dir.run(&["fix", "kept.js"]);
    run.expect(0);
    assert!(
        run.stderr
            .contains("kept.js:3:7: warning: stored-heap-view: "),
        "stderr:\n{}",
        run.stderr
    );
    assert_eq!(dir.read("kept.js"), KEPT);
    dir.run(&["fix", "--check", "kept.js"]).expect(0);
    dir.run(&["check", "--ignore", "stored-heap-view", "kept.js"])
        .expect(0);
}

// ---------------------------------------------------------------------------------------------
// `--heap-style`.

#[test]
fn fix_heap_style_getter_is_the_default() {
    let dir = Dir::new();
    let run = dir.run_with_stdin(&["fix", "-q", "--heap-style", "getter", "-"], SNAPSHOT);
    run.expect(0);
    assert_eq!(run.stdout, SNAPSHOT_FIXED);
    node_check(&run.stdout);
    node_run(
        &run.stdout,
        "HEAP8 = new Int8Array([7]); HEAP16 = new Int16Array([9]);\n\
         if (memory.HEAP8[0] !== 7 || memory.HEAP16[0] !== 9) throw new Error('stale view');",
    );
}

#[test]
fn fix_heap_style_accessor() {
    let dir = Dir::new();
    let run = dir.run_with_stdin(&["fix", "-q", "--heap-style", "accessor", "-"], SNAPSHOT);
    run.expect(0);
    insta::assert_snapshot!("heap_style_accessor", run.stdout);
    node_check(&run.stdout);
    node_run(
        &run.stdout,
        "HEAP8 = new Int8Array([7]); HEAP16 = new Int16Array([9]);\n\
         if (memory.HEAP8.get(0) !== 7 || memory.HEAP16.get(0) !== 9) throw new Error('stale view');\n\
         memory.HEAP16.set(0, 5);\n\
         if (HEAP16[0] !== 5) throw new Error('lost write');",
    );
}

#[test]
fn fix_heap_style_proxy() {
    let dir = Dir::new();
    let run = dir.run_with_stdin(&["fix", "-q", "--heap-style", "proxy", "-"], SNAPSHOT);
    run.expect(0);
    insta::assert_snapshot!("heap_style_proxy", run.stdout);
    node_check(&run.stdout);
    node_run(
        &run.stdout,
        "var stored = memory.HEAP16;\n\
         HEAP8 = new Int8Array([7]); HEAP16 = new Int16Array([9, 8]);\n\
         if (memory.HEAP8[0] !== 7 || stored[0] !== 9 || stored.length !== 2) throw new Error('stale view');\n\
         stored[1] = 5;\n\
         if (HEAP16[1] !== 5) throw new Error('lost write');",
    );
}

#[test]
fn fix_heap_style_rejects_unknown_styles() {
    let dir = Dir::new();
    dir.write("snapshot.js", SNAPSHOT);
    let run = dir.run(&["fix", "--heap-style", "weak", "snapshot.js"]);
    run.expect(2);
    assert_eq!(dir.read("snapshot.js"), SNAPSHOT);
}

// ---------------------------------------------------------------------------------------------
// `--select` and `--ignore`.

/// The pass names in `check` output lines (`path:line:col: pass: message`).
fn passes_in(check_stdout: &str) -> BTreeSet<String> {
    check_stdout
        .lines()
        .filter(|l| !l.starts_with("Found "))
        .map(|l| l.split(':').nth(3).unwrap().trim().to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn select_limits_the_passes() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    let check = dir.run(&[
        "check",
        "--format",
        "concise",
        "--select",
        "heap-snapshot",
        "glue.js",
    ]);
    check.expect(1);
    assert_eq!(passes_in(&check.stdout), set(&["heap-snapshot"]));
    let check = dir.run(&[
        "check",
        "--format",
        "concise",
        "--select",
        "heap-snapshot,heap-destructure",
        "glue.js",
    ]);
    assert_eq!(
        passes_in(&check.stdout),
        set(&["heap-snapshot", "heap-destructure"])
    );

    let run = dir.run(&["fix", "--select", "heap-snapshot", "glue.js"]);
    run.expect(0);
    assert!(
        run.stderr.contains("heap-snapshot"),
        "stderr:\n{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("heap-destructure"),
        "stderr:\n{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("asyncify-sleep-alloc"),
        "stderr:\n{}",
        run.stderr
    );
    let fixed = dir.read("glue.js");
    assert!(fixed.contains("get HEAP8() { return HEAP8; }"), "{fixed}");
    assert!(
        fixed.contains("function bindUserSpace({ memory: { HEAP16, HEAP32 } }) {"),
        "{fixed}"
    );
    assert!(!fixed.contains("growsafe"), "{fixed}");

    // What is left is exactly what the other passes find.
    let check = dir.run(&["check", "--format", "concise", "glue.js"]);
    check.expect(1);
    assert_eq!(
        passes_in(&check.stdout),
        set(&["heap-destructure", "asyncify-sleep-alloc"])
    );
}

#[test]
fn ignore_skips_a_pass() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    let check = dir.run(&[
        "check",
        "--format",
        "concise",
        "--ignore",
        "heap-snapshot",
        "glue.js",
    ]);
    check.expect(1);
    assert_eq!(
        passes_in(&check.stdout),
        set(&["heap-destructure", "asyncify-sleep-alloc"])
    );

    let run = dir.run(&["fix", "--ignore", "heap-snapshot", "glue.js"]);
    run.expect(0);
    assert!(
        !run.stderr.contains("heap-snapshot"),
        "stderr:\n{}",
        run.stderr
    );
    let fixed = dir.read("glue.js");
    assert!(
        fixed.contains("var memory = { HEAP8, HEAP16, HEAP32: HEAP32, HEAPU8: HEAPU8 };"),
        "{fixed}"
    );
    assert!(
        fixed.contains("function bindUserSpace({ memory }) {"),
        "{fixed}"
    );
    assert!(fixed.contains("Asyncify.growsafeTake()"), "{fixed}");

    let check = dir.run(&["check", "--format", "concise", "glue.js"]);
    assert_eq!(passes_in(&check.stdout), set(&["heap-snapshot"]));
    // A file with only ignored hazards is clean.
    dir.run(&["check", "--ignore", "heap-snapshot", "glue.js"])
        .expect(0);
}

#[test]
fn select_and_ignore_reject_unknown_passes() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    for flag in ["--select", "--ignore"] {
        for command in ["fix", "check"] {
            let run = dir.run(&[command, flag, "heap-snapshot,nope", "glue.js"]);
            run.expect(2);
            assert!(
                run.stderr.contains("unknown pass `nope`"),
                "stderr:\n{}",
                run.stderr
            );
        }
    }
    assert_eq!(dir.read("glue.js"), glue());
}

// ---------------------------------------------------------------------------------------------
// `check`.

#[test]
fn check_prints_findings() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    dir.write("destructure.js", DESTRUCTURE);
    let run = dir.run(&["check", "--format", "concise", "glue.js", "destructure.js"]);
    run.expect(1);
    insta::assert_snapshot!("check_concise", run.stdout);
    for line in run.stdout.lines().filter(|l| !l.starts_with("Found ")) {
        let mut parts = line.splitn(5, ':');
        let path = parts.next().unwrap();
        assert!(["glue.js", "destructure.js"].contains(&path), "{line}");
        assert!(parts.next().unwrap().parse::<u32>().is_ok(), "{line}");
        assert!(parts.next().unwrap().parse::<u32>().is_ok(), "{line}");
        assert!(PASSES.contains(&parts.next().unwrap().trim()), "{line}");
    }
    assert_eq!(dir.read("glue.js"), glue());
    assert_eq!(dir.read("destructure.js"), DESTRUCTURE);
}

#[test]
fn check_clean_files_exit_0() {
    let dir = Dir::new();
    dir.write("clean.js", CLEAN);
    dir.write("fixed.js", SNAPSHOT_FIXED);
    let run = dir.run(&["check", "--format", "concise", "clean.js", "fixed.js"]);
    run.expect(0);
    assert_eq!(run.stdout, "");
}

#[test]
fn check_reads_stdin() {
    let run = Dir::new().run_with_stdin(&["check", "--format", "concise", "-"], SNAPSHOT);
    run.expect(1);
    assert!(
        run.stdout.starts_with("stdin.js:2:16: heap-snapshot: "),
        "stdout:\n{}",
        run.stdout
    );
}

#[test]
fn check_positions_do_not_count_the_bom() {
    let dir = Dir::new();
    dir.write("plain.js", SNAPSHOT);
    dir.write("bom.js", format!("{BOM}{SNAPSHOT}"));
    let plain = dir.run(&["check", "--format", "concise", "plain.js"]);
    let bom = dir.run(&["check", "--format", "concise", "bom.js"]);
    bom.expect(1);
    assert_eq!(bom.stdout.replace("bom.js", "plain.js"), plain.stdout);
    assert!(
        bom.stdout.starts_with("bom.js:2:16: heap-snapshot: "),
        "stdout:\n{}",
        bom.stdout
    );

    let plain = dir.run(&["check", "--format", "json", "plain.js"]);
    let bom = dir.run(&["check", "--format", "json", "bom.js"]);
    assert_eq!(bom.stdout.replace("bom.js", "plain.js"), plain.stdout);
}

#[test]
fn check_json() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    dir.write("destructure.js", DESTRUCTURE);
    let run = dir.run(&["check", "--format", "json", "glue.js", "destructure.js"]);
    run.expect(1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert!(report["remarks"].is_array());
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 7, "{report:#}");
    let text = glue();
    for f in findings {
        for field in [
            "path",
            "pass",
            "message",
            "line",
            "column",
            "end_line",
            "end_column",
            "start",
            "end",
            "fix",
            "no_fix_reason",
        ] {
            assert!(f.get(field).is_some(), "finding lacks `{field}`: {f:#}");
        }
        assert!(PASSES.contains(&f["pass"].as_str().unwrap()), "{f:#}");
        assert!(!f["message"].as_str().unwrap().is_empty(), "{f:#}");
        for field in ["line", "column", "end_line", "end_column"] {
            assert!(f[field].as_u64().unwrap() >= 1, "{f:#}");
        }
        let (start, end) = (f["start"].as_u64().unwrap(), f["end"].as_u64().unwrap());
        assert!(start <= end, "{f:#}");
        // Either a fix or the reason there is none.
        assert!(
            f["fix"].is_object() != f["no_fix_reason"].is_string(),
            "{f:#}"
        );
        if f["path"] == "glue.js" {
            // `line` is 1-based and agrees with `start` (byte offset).
            let line = text[..usize::try_from(start).unwrap()]
                .matches('\n')
                .count()
                + 1;
            assert_eq!(
                f["line"].as_u64().unwrap(),
                u64::try_from(line).unwrap(),
                "{f:#}"
            );
        } else {
            assert_eq!(f["path"], "destructure.js", "{f:#}");
        }
    }
    let passes: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["pass"].as_str().unwrap())
        .collect();
    assert_eq!(passes, BTreeSet::from(FIX_PASSES));

    // A small report in full.
    dir.write("snapshot.js", SNAPSHOT);
    let run = dir.run(&["check", "--format", "json", "snapshot.js"]);
    run.expect(1);
    insta::assert_snapshot!("check_json_snapshot", run.stdout);
}

#[test]
fn check_json_on_a_fixed_file() {
    let dir = Dir::new();
    dir.write("glue.js", glue());
    dir.run(&["fix", "-q", "glue.js"]).expect(0);
    let run = dir.run(&["check", "--format", "json", "glue.js"]);
    run.expect(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["findings"], Value::Array(Vec::new()));
    let remarks = report["remarks"].as_array().unwrap();
    assert!(!remarks.is_empty(), "{report:#}");
    for r in remarks {
        assert_eq!(r["path"], "glue.js");
        assert_eq!(r["kind"], "already-fixed", "{r:#}");
    }
}

// ---------------------------------------------------------------------------------------------
// Errors: one file's error is reported, the others are still processed, exit 2.

#[test]
fn parse_error_names_the_place_and_leaves_the_file() {
    let dir = Dir::new();
    dir.write("bad.js", BAD);
    dir.write("bad3.js", format!("// a comment\n\n{BAD}"));
    dir.write("good.js", SNAPSHOT);
    let run = dir.run(&["fix", "bad.js", "good.js", "bad3.js"]);
    run.expect(2);
    assert!(
        run.stderr.contains("bad.js:1:19: syntax error"),
        "stderr:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("bad3.js:3:19: syntax error"),
        "stderr:\n{}",
        run.stderr
    );
    assert_eq!(dir.read("bad.js"), BAD);
    assert_eq!(dir.read("bad3.js"), format!("// a comment\n\n{BAD}"));
    assert_eq!(dir.read("good.js"), SNAPSHOT_FIXED);
    assert!(
        run.stderr.contains("good.js: fixed 2 heap-snapshot"),
        "stderr:\n{}",
        run.stderr
    );
}

#[test]
fn parse_error_in_check_still_reports_the_other_files() {
    let dir = Dir::new();
    dir.write("bad.js", BAD);
    dir.write("good.js", SNAPSHOT);
    let run = dir.run(&["check", "--format", "concise", "bad.js", "good.js"]);
    run.expect(2);
    assert!(
        run.stderr.contains("bad.js:1:19: syntax error"),
        "stderr:\n{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("good.js:2:16: heap-snapshot: "),
        "stdout:\n{}",
        run.stdout
    );
}

#[test]
fn parse_error_on_stdin_writes_nothing_to_stdout() {
    let run = Dir::new().run_with_stdin(&["fix", "-"], BAD);
    run.expect(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("stdin.js:1:19: syntax error"),
        "stderr:\n{}",
        run.stderr
    );
}

#[test]
fn missing_path() {
    let dir = Dir::new();
    dir.write("good.js", SNAPSHOT);
    let run = dir.run(&["fix", "missing.js", "good.js"]);
    run.expect(2);
    assert!(run.stderr.contains("missing.js"), "stderr:\n{}", run.stderr);
    assert_eq!(dir.read("good.js"), SNAPSHOT_FIXED);
    assert!(!dir.path("missing.js").exists());

    let run = dir.run(&["check", "missing.js"]);
    run.expect(2);
    assert!(run.stderr.contains("missing.js"), "stderr:\n{}", run.stderr);
}

#[test]
fn non_utf8_input() {
    let dir = Dir::new();
    let bytes = b"var HEAP8;\nvar m = { HEAP8 }; // \xff\xfe\n";
    dir.write("latin1.js", bytes);
    for command in ["fix", "check"] {
        let run = dir.run(&[command, "latin1.js"]);
        run.expect(2);
        assert!(run.stderr.contains("latin1.js"), "stderr:\n{}", run.stderr);
        assert!(run.stderr.contains("not UTF-8"), "stderr:\n{}", run.stderr);
        assert_eq!(dir.bytes("latin1.js"), bytes);
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = Dir::new();
    for args in [
        &[][..],
        &["fix"],
        &["check"],
        &["frobnicate"],
        &["check", "--format", "xml", "a.js"],
    ] {
        let run = dir.run(args);
        run.expect(2);
        assert_eq!(run.stdout, "", "{args:?}");
    }
    let help = dir.run(&["--help"]);
    help.expect(0);
    assert!(help.stdout.contains("fix"), "{}", help.stdout);
}

// ---------------------------------------------------------------------------------------------
// Deep nesting never crashes.

#[test]
fn deep_nesting_fails_cleanly() {
    let dir = Dir::new();
    let deep = nested_parens(100_000);
    dir.write("deep.js", &deep);
    let brackets = format!("x = {}1{};\n", "[".repeat(100_000), "]".repeat(100_000));
    dir.write("brackets.js", &brackets);
    for (file, text) in [("deep.js", &deep), ("brackets.js", &brackets)] {
        for command in ["fix", "check"] {
            // `run` fails the test if the process dies of a signal.
            let run = dir.run(&[command, file]);
            assert!(
                run.code.is_some_and(|c| [0, 2].contains(&c)),
                "{command} {file}: exit {:?}\n{}",
                run.code,
                run.stderr
            );
            if run.code == Some(2) {
                assert!(
                    run.stderr
                        .starts_with(&format!("growsafe: error: {file}:1:")),
                    "stderr:\n{}",
                    run.stderr
                );
                assert_eq!(run.stderr.lines().count(), 1, "stderr:\n{}", run.stderr);
            }
            assert_eq!(&dir.read(file), text);
        }
    }
}

#[test]
fn moderate_nesting_parses() {
    let dir = Dir::new();
    let text = nested_parens(2_500);
    dir.write("nested.js", &text);
    let run = dir.run(&["check", "--format", "concise", "nested.js"]);
    run.expect(0);
    assert_eq!(run.stdout, "");
    dir.run(&["fix", "nested.js"]).expect(0);
    assert_eq!(dir.read("nested.js"), text);
}

#[test]

fn deep_arrow_chain_does_not_crash() {
    let dir = Dir::new();
    dir.write("arrows.js", format!("x = {}1;\n", "a=>".repeat(1_000_000)));
    for command in ["check", "fix"] {
        let run = dir.run(&[command, "arrows.js"]);
        assert!(
            run.code.is_some_and(|c| [0, 2].contains(&c)),
            "{command}: exit {:?}\n{}",
            run.code,
            run.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// `passes` and `explain`.

#[test]
fn passes_lists_every_pass() {
    let run = Dir::new().run(&["passes"]);
    run.expect(0);
    let names: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, PASSES);
    insta::assert_snapshot!("passes", run.stdout);
}

#[test]
fn explain_prints_markdown() {
    for pass in PASSES {
        let run = Dir::new().run(&["explain", pass]);
        run.expect(0);
        assert!(
            run.stdout.starts_with(&format!("# {pass}\n")),
            "{}",
            run.stdout
        );
        let docs = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/passes")
            .join(format!("{pass}.md"));
        assert_eq!(run.stdout, fs::read_to_string(docs).unwrap());
    }
}

#[test]
fn explain_unknown_pass() {
    let run = Dir::new().run(&["explain", "nope"]);
    run.expect(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("unknown pass `nope`"),
        "stderr:\n{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Symlinks.

#[test]
fn fix_through_a_symlink_replaces_the_target() {
    let dir = Dir::new();
    let target = dir.write("build/glue.js", glue());
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    fs::create_dir(dir.path("links")).unwrap();
    symlink("../build/glue.js", dir.path("links/glue.js")).unwrap();

    let run = dir.run(&["fix", "links/glue.js"]);
    run.expect(0);
    assert!(
        run.stderr.contains("links/glue.js: fixed"),
        "stderr:\n{}",
        run.stderr
    );
    let link = fs::symlink_metadata(dir.path("links/glue.js")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert_eq!(
        fs::read_link(dir.path("links/glue.js")).unwrap(),
        Path::new("../build/glue.js")
    );
    let fixed = dir.read("build/glue.js");
    assert_ne!(fixed, glue());
    assert!(fixed.contains("Asyncify.growsafeTake()"), "{fixed}");
    assert_eq!(
        fs::metadata(&target).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    assert_eq!(dir.list("build"), ["glue.js"]);
    assert_eq!(dir.list("links"), ["glue.js"]);

    // Through the link, the fixed file is stable.
    dir.run(&["fix", "--check", "links/glue.js"]).expect(0);
}
