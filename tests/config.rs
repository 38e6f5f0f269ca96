//! `growsafe.toml` discovery and precedence, and `growsafe-ignore` suppression comments, end to end.
#![cfg(unix)]

use std::fs;
use std::path::Path;

#[path = "support/workdir.rs"]
mod workdir;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let run = workdir::run(workdir::command_in(dir, args));
    (
        run.code.expect("growsafe died of a signal"),
        run.stdout,
        run.stderr,
    )
}

const SNAPSHOT: &str = "var HEAP8, HEAP16;\nvar memory = { HEAP8, HEAP16 };\n";

#[test]
fn the_closest_config_applies_and_the_command_line_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("build/sub")).unwrap();
    fs::write(root.join("growsafe.toml"), "ignore = [\"heap-snapshot\"]\n").unwrap();
    fs::write(root.join("build/sub/app.js"), SNAPSHOT).unwrap();

    // Found two directories up: heap-snapshot is ignored, so nothing to report.
    let (code, stdout, _) = run(root, &["check", "--format", "concise", "build/sub/app.js"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    // --no-config drops the file; --select does not undo the file's ignore.
    let (code, _, _) = run(root, &["check", "--no-config", "build/sub/app.js"]);
    assert_eq!(code, 1);
    let (code, _, _) = run(
        root,
        &["check", "--select", "heap-snapshot", "build/sub/app.js"],
    );
    assert_eq!(code, 0);
    // A closer file wins over the one above it, without merging.
    fs::write(
        root.join("build/growsafe.toml"),
        "heap-style = \"accessor\"\n",
    )
    .unwrap();
    let (code, _, _) = run(root, &["fix", "-q", "build/sub/app.js"]);
    assert_eq!(code, 0);
    let fixed = fs::read_to_string(root.join("build/sub/app.js")).unwrap();
    assert!(
        fixed.contains("HEAP8: { get(offset) { return HEAP8[offset]; }"),
        "{fixed}"
    );
}

#[test]
fn overrides_match_paths_relative_to_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("src")).unwrap();
    fs::write(
        root.join("growsafe.toml"),
        "[[overrides]]\nfiles = [\"src/**/*.js\"]\nheap-style = \"proxy\"\n",
    )
    .unwrap();
    fs::write(root.join("src/lib.js"), SNAPSHOT).unwrap();
    fs::write(root.join("app.js"), SNAPSHOT).unwrap();
    assert_eq!(run(root, &["fix", "-q", "src/lib.js", "app.js"]).0, 0);
    assert!(
        fs::read_to_string(root.join("src/lib.js"))
            .unwrap()
            .contains("new Proxy({}")
    );
    assert!(
        fs::read_to_string(root.join("app.js"))
            .unwrap()
            .contains("get HEAP8() { return HEAP8; }")
    );
}

#[test]
fn an_explicit_config_and_its_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("app.js"), SNAPSHOT).unwrap();
    fs::write(
        root.join("strict.toml"),
        "select = [\"heap-destructure\"]\n",
    )
    .unwrap();
    assert_eq!(
        run(root, &["check", "--config", "strict.toml", "app.js"]).0,
        0
    );

    fs::write(root.join("bad.toml"), "select = [\"heap-snapshots\"]\n").unwrap();
    let (code, _, stderr) = run(root, &["check", "--config", "bad.toml", "app.js"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("unknown pass `heap-snapshots`"),
        "{stderr}"
    );

    fs::write(root.join("growsafe.toml"), "colour = true\n").unwrap();
    let (code, _, stderr) = run(root, &["check", "app.js"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("growsafe.toml") && stderr.contains("unknown field `colour`"),
        "{stderr}"
    );
}

#[test]
fn suppressions_silence_the_next_line_or_the_file_and_unused_ones_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(
        root.join("lib.js"),
        "var HEAP8, HEAP16;\n\
         // growsafe-ignore: heap-snapshot the object is rebuilt after every growth\n\
         var a = { HEAP8 };\n\
         var b = { HEAP16 };\n\
         // growsafe-ignore: heap-destructure, heap-snapshop nothing here\n\
         var c = 1;\n",
    )
    .unwrap();
    let (code, stdout, _) = run(root, &["check", "--format", "concise", "lib.js"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("lib.js:"))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("lib.js:4:11: heap-snapshot:"),
        "{stdout}"
    );
    assert!(
        lines[1]
            .starts_with("lib.js:5:4: unused-suppression: `heap-snapshop` is not a growsafe rule"),
        "{stdout}"
    );
    assert!(
        lines[2]
            .starts_with("lib.js:5:4: unused-suppression: unused suppression: `heap-destructure`"),
        "{stdout}"
    );

    // `fix` leaves the suppressed snapshot alone and fixes the other.
    assert_eq!(run(root, &["fix", "-q", "lib.js"]).0, 0);
    let fixed = fs::read_to_string(root.join("lib.js")).unwrap();
    assert!(
        fixed.contains("var a = { HEAP8 };") && fixed.contains("get HEAP16()"),
        "{fixed}"
    );

    // A file-level suppression; a rule that did not run is not judged.
    fs::write(root.join("all.js"), "// growsafe-ignore-file: heap-snapshot, heap-destructure generated\nvar HEAP8;\nvar a = { HEAP8 };\n").unwrap();
    let (code, stdout, _) = run(
        root,
        &[
            "check",
            "--format",
            "concise",
            "--select",
            "heap-snapshot,unused-suppression",
            "all.js",
        ],
    );
    assert_eq!((code, stdout.as_str()), (0, ""));
    let (code, stdout, _) = run(root, &["check", "--format", "concise", "all.js"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("unused suppression: `heap-destructure` reports nothing on this file"),
        "{stdout}"
    );
}
