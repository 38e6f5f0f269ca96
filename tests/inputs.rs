//! Which files `check` and `fix` work on: directories (walked without `.gitignore` unless
//! `--respect-gitignore`; hidden files and `node_modules` skipped), glob patterns the shell did
//! not expand, explicit paths (always processed), TypeScript flavours, library files, and the
//! errors when an argument names nothing.
#![cfg(unix)]

use std::fs;

#[path = "support/workdir.rs"]
mod workdir;

use workdir::Dir;

/// `heap-snapshot`: two findings on line 2.
const SNAPSHOT: &str = "var HEAP8, HEAP16;\nvar memory = { HEAP8, HEAP16: HEAP16 };\n";
const SNAPSHOT_FIXED: &str = "var HEAP8, HEAP16;\nvar memory = { get HEAP8() { return HEAP8; }, get HEAP16() { return HEAP16; } };\n";
const CLEAN: &str = "var HEAP8;\nfunction f() { return HEAP8[0]; }\n";

/// The files named in `check` output, in order of first appearance.
fn files_in(stdout: &str) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for line in stdout.lines() {
        if let Some((file, _)) = line.split_once(':')
            && !line.starts_with("Found ")
            && files.last().is_none_or(|last| last != file)
        {
            files.push(file.to_owned());
        }
    }
    files
}

/// A project whose Emscripten output sits in a gitignored `build/`.
fn project() -> Dir {
    let dir = Dir::new();
    fs::create_dir(dir.path(".git")).unwrap();
    dir.write(".gitignore", "build/\n*.log\n");
    dir.write("build/app.js", SNAPSHOT);
    dir.write("build/sub/worker.mjs", SNAPSHOT);
    dir.write("src/clean.js", CLEAN);
    dir
}

// ---------------------------------------------------------------------------------------------
// Directories.

#[test]
fn a_named_directory_is_checked_even_when_gitignored() {
    let dir = project();
    for arg in ["build", "build/", "."] {
        let run = dir.run_concise(&["check", arg]);
        run.expect(1);
        let expected: Vec<String> = ["build/app.js", "build/sub/worker.mjs"]
            .iter()
            .map(|f| match arg {
                "." => format!("./{f}"),
                _ => (*f).to_owned(),
            })
            .collect();
        assert_eq!(files_in(&run.stdout), expected, "{arg}");
    }
}

#[test]
fn respect_gitignore_opts_in() {
    let dir = project();
    let run = dir.run_concise(&["check", "--respect-gitignore", "."]);
    run.expect(0);
    assert_eq!(run.stdout, "");

    // The rules apply below a named directory, not to the directory itself (as in ripgrep).
    let run = dir.run_concise(&["check", "--respect-gitignore", "build"]);
    run.expect(1);
    assert_eq!(
        files_in(&run.stdout),
        ["build/app.js", "build/sub/worker.mjs"]
    );

    // Everything below it ignored: an error that says why.
    dir.write("gen/.gitignore", "*.js\n");
    dir.write("gen/out.js", SNAPSHOT);
    let run = dir.run_concise(&["check", "--respect-gitignore", "gen"]);
    run.expect(2);
    assert!(
        run.stderr
            .contains("`gen`: no JavaScript or TypeScript files found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "`node_modules` and files .gitignore lists are skipped); drop --respect-gitignore"
        ),
        "{}",
        run.stderr
    );
    dir.run_concise(&["check", "gen"]).expect(1);

    // A file named on the command line is processed whatever .gitignore says.
    let run = dir.run_concise(&["check", "--respect-gitignore", "gen/out.js"]);
    run.expect(1);
    assert_eq!(files_in(&run.stdout), ["gen/out.js"]);
}

#[test]
fn hidden_files_and_node_modules_are_skipped() {
    let dir = Dir::new();
    dir.write("out/app.js", SNAPSHOT);
    dir.write("out/node_modules/dep/index.js", SNAPSHOT);
    dir.write("out/.cache/old.js", SNAPSHOT);
    dir.write("out/.hidden.js", SNAPSHOT);
    let run = dir.run_concise(&["check", "out"]);
    run.expect(1);
    assert_eq!(files_in(&run.stdout), ["out/app.js"]);

    // Named explicitly, they are checked.
    for name in ["out/node_modules/dep/index.js", "out/.hidden.js"] {
        let run = dir.run_concise(&["check", name]);
        run.expect(1);
        assert_eq!(files_in(&run.stdout), [name]);
    }
    // A `node_modules` or hidden directory named on the command line is walked.
    let run = dir.run_concise(&["check", "out/node_modules"]);
    assert_eq!(files_in(&run.stdout), ["out/node_modules/dep/index.js"]);
    let run = dir.run_concise(&["check", "out/.cache"]);
    assert_eq!(files_in(&run.stdout), ["out/.cache/old.js"]);
}

#[test]
fn a_walk_picks_javascript_and_typescript_by_extension() {
    let dir = Dir::new();
    for ext in ["js", "mjs", "cjs", "ts", "mts", "cts", "tsx"] {
        dir.write(&format!("d/a.{ext}"), SNAPSHOT);
    }
    for other in ["a.jsx", "a.json", "a.wasm", "a.js.map", "README"] {
        dir.write(&format!("d/{other}"), "not javascript {");
    }
    let run = dir.run_concise(&["check", "d"]);
    run.expect(1);
    assert_eq!(
        files_in(&run.stdout),
        [
            "d/a.cjs", "d/a.cts", "d/a.js", "d/a.mjs", "d/a.mts", "d/a.ts", "d/a.tsx"
        ]
    );
}

#[test]
fn walked_files_are_sorted_and_named_once() {
    let dir = Dir::new();
    for name in ["d/z.js", "d/b/y.js", "d/a.js", "d/b.js", "d/b/a/x.js"] {
        dir.write(name, SNAPSHOT);
    }
    let run = dir.run_concise(&["check", "d/z.js", "d", "d/a.js"]);
    run.expect(1);
    // Arguments keep their order; a directory's files are sorted by path, component by
    // component; a file found again is not checked twice.
    assert_eq!(
        files_in(&run.stdout),
        ["d/z.js", "d/a.js", "d/b/a/x.js", "d/b/y.js", "d/b.js"]
    );
    assert!(
        run.stdout
            .ends_with("Found 10 hazards (10 fixable with `growsafe fix`).\n")
    );
}

#[test]
fn fix_rewrites_every_file_of_a_directory() {
    let dir = project();
    let run = dir.run_concise(&["fix", "build"]);
    run.expect(0);
    assert_eq!(dir.read("build/app.js"), SNAPSHOT_FIXED);
    assert_eq!(dir.read("build/sub/worker.mjs"), SNAPSHOT_FIXED);
    assert_eq!(
        run.stderr,
        "build/app.js: fixed 2 heap-snapshot hazard(s) (line 2)\nbuild/sub/worker.mjs: fixed 2 heap-snapshot hazard(s) (line 2)\n"
    );
    // Nothing left: `fix --check` passes.
    dir.run_concise(&["fix", "--check", "."]).expect(0);
}

#[test]
fn an_empty_directory_is_an_error() {
    let dir = Dir::new();
    dir.write("empty/readme.txt", "nothing here");
    dir.write("good.js", SNAPSHOT);
    for command in ["check", "fix"] {
        let run = dir.run_concise(&[command, "empty", "good.js"]);
        run.expect(2);
        assert!(
            run.stderr.contains(
                "growsafe: error: `empty`: no JavaScript or TypeScript files found (looked for .js .mjs .cjs .ts .mts .cts .tsx; hidden files and `node_modules` are skipped)"
            ),
            "{}",
            run.stderr
        );
    }
    // The other argument was still processed (and fixed by the `fix` run).
    assert_eq!(dir.read("good.js"), SNAPSHOT_FIXED);
}

#[test]
fn output_takes_one_file_not_a_directory() {
    let dir = Dir::new();
    dir.write("one/app.js", SNAPSHOT);
    let run = dir.run_concise(&["fix", "one", "-o", "out.js"]);
    run.expect(2);
    assert!(run.stderr.contains("-o/--output"), "{}", run.stderr);
    assert!(!dir.path("out.js").exists());
    assert_eq!(dir.read("one/app.js"), SNAPSHOT);
}

#[cfg(unix)]
#[test]
fn a_walk_does_not_follow_symlinks() {
    let dir = Dir::new();
    dir.write("elsewhere/glue.js", SNAPSHOT);
    dir.write("build/app.js", CLEAN);
    std::os::unix::fs::symlink("../elsewhere/glue.js", dir.path("build/link.js")).unwrap();
    let run = dir.run_concise(&["fix", "build"]);
    run.expect(0);
    assert_eq!(dir.read("elsewhere/glue.js"), SNAPSHOT);
}

// ---------------------------------------------------------------------------------------------
// Globs.

#[test]
fn globs_are_expanded_when_the_shell_did_not() {
    let dir = project();
    dir.write("build/notes.txt", "x");
    dir.write("build/sub/deep/more.js", SNAPSHOT);
    let run = dir.run_concise(&["check", "build/**/*.js"]);
    run.expect(1);
    assert_eq!(
        files_in(&run.stdout),
        ["build/app.js", "build/sub/deep/more.js"]
    );
    // `*` does not cross `/`.
    let run = dir.run_concise(&["check", "build/*.js"]);
    assert_eq!(files_in(&run.stdout), ["build/app.js"]);
    // A pattern from the current directory names files without `./`.
    dir.write("top.js", SNAPSHOT);
    let run = dir.run_concise(&["check", "*.js"]);
    assert_eq!(files_in(&run.stdout), ["top.js"]);
    // Braces and character classes; a directory the pattern matches is walked.
    let run = dir.run_concise(&["check", "build/{app,none}.js", "build/s[u]b"]);
    assert_eq!(
        files_in(&run.stdout),
        [
            "build/app.js",
            "build/sub/deep/more.js",
            "build/sub/worker.mjs"
        ]
    );
    let run = dir.run_concise(&["check", "build/su*"]);
    assert_eq!(
        files_in(&run.stdout),
        ["build/sub/deep/more.js", "build/sub/worker.mjs"]
    );
}

#[test]
fn a_glob_matching_nothing_is_an_error() {
    let dir = project();
    for command in ["check", "fix"] {
        let run = dir.run_concise(&[command, "dist/**/*.js", "build/app.js"]);
        run.expect(2);
        assert!(
            run.stderr.contains(
                "growsafe: error: no JavaScript or TypeScript files match `dist/**/*.js`"
            ),
            "{}",
            run.stderr
        );
    }
    // The other argument was processed.
    assert_eq!(dir.read("build/app.js"), SNAPSHOT_FIXED);

    dir.write("gen/.gitignore", "*.js\n");
    dir.write("gen/out.js", SNAPSHOT);
    let run = dir.run_concise(&["check", "--respect-gitignore", "gen/*.js"]);
    run.expect(2);
    assert!(
        run.stderr.contains("drop --respect-gitignore"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_file_whose_name_looks_like_a_glob_is_a_file() {
    let dir = Dir::new();
    dir.write("a[1].js", SNAPSHOT);
    let run = dir.run_concise(&["check", "a[1].js"]);
    run.expect(1);
    assert_eq!(files_in(&run.stdout), ["a[1].js"]);
}

// ---------------------------------------------------------------------------------------------
// TypeScript flavours.

#[test]
fn tsx_and_mts_consumers_parse() {
    let dir = Dir::new();
    dir.write(
        "view.tsx",
        "export function View({ memory: { HEAPU8 } }: Props) {\n  return <span>{HEAPU8[0]}</span>;\n}\n",
    );
    dir.write(
        "glue.mts",
        "import type { Memory } from './types.mjs';\nlet HEAP8: Int8Array;\nexport const memory = { HEAP8 } satisfies Partial<Memory>;\n",
    );
    let run = dir.run_concise(&["check", "."]);
    run.expect(1);
    assert_eq!(
        run.stdout,
        "./glue.mts:3:25: heap-snapshot: property `HEAP8` snapshots `HEAP8` once; the copy goes dead when memory grows [fix: Turn `HEAP8` into a getter]\n\
         ./view.tsx:1:24: heap-destructure: destructuring pins `HEAPU8` in a local; it goes dead when memory grows [fix: Read the view through `memory` at each use]\n\
         Found 2 hazards (2 fixable with `growsafe fix`).\n"
    );
    let run = dir.run_concise(&["fix", "-q", "."]);
    run.expect(0);
    assert_eq!(
        dir.read("view.tsx"),
        "export function View({ memory }: Props) {\n  return <span>{memory.HEAPU8[0]}</span>;\n}\n"
    );
    assert_eq!(
        dir.read("glue.mts"),
        "import type { Memory } from './types.mjs';\nlet HEAP8: Int8Array;\nexport const memory = { get HEAP8() { return HEAP8; } } satisfies Partial<Memory>;\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Library files on the command line.

#[test]
fn check_notes_how_a_library_was_read() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/library");
    let run = Dir::new().run_concise(&["check", fixtures]);
    run.expect(1);
    assert_eq!(
        files_in(&run.stdout)
            .iter()
            .map(|f| f.rsplit('/').next().unwrap())
            .collect::<Vec<_>>(),
        ["phpwasm_library.js", "wasm-user-space.ts"]
    );
    assert!(
        run.stdout
            .ends_with("Found 16 hazards (2 fixable with `growsafe fix`).\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(
            "phpwasm_library.js:77:24: note: the `#if` branches of this Emscripten JS library do not parse together"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn check_names_the_branches_it_could_not_read() {
    let dir = Dir::new();
    dir.write(
        "lib.js",
        "var L = {\n#if A\n  f: function (a, b) {\n#elif B\n  f: function (a) { var m = { HEAP8 };\n#else\n  f: function () {\n#endif\n    return 1;\n  },\n};\n",
    );
    let run = dir.run_concise(&["check", "lib.js"]);
    run.expect(0);
    assert_eq!(
        run.stderr,
        "lib.js:5:15: note: the `#if` branches of this Emscripten JS library do not parse together (Expected ident), so growsafe checked it twice, keeping only the first, then only the last branch of each `#if` in the way; `fix` leaves it alone\n\
         lib.js:5: note: lines 5-5 (the branch at line 4) were not checked: no reading that keeps them parses\n"
    );
}

#[test]
fn fix_on_a_library_whose_branches_parse_only_separately_says_why() {
    let dir = Dir::new();
    let source = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/library/phpwasm_library.js"
    ))
    .unwrap();
    dir.write("lib.js", &source);
    let run = dir.run_concise(&["fix", "lib.js"]);
    run.expect(0);
    assert_eq!(dir.read("lib.js"), source);
    assert!(
        run.stderr
            .contains("lib.js:52:22: warning: heap-snapshot: ")
            && run
                .stderr
                .contains("(not fixed: this library's `#if` branches parse only separately"),
        "{}",
        run.stderr
    );
    // A build guard fails on it.
    let run = dir.run_concise(&["fix", "--require", "heap-snapshot", "lib.js"]);
    run.expect(1);
}
