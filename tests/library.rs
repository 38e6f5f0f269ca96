//! Emscripten JS library sources (`--js-library` files with `#if` lines and `{{{ }}}` macros)
//! and their TypeScript consumers: findings at the real source positions, what `fix` does and
//! refuses, and a robustness run over Emscripten's own `src/library*.js` when installed.
//!
//! Fixtures: `fixtures/library/` (modelled on php-wasm before WordPress/wordpress-playground#3317,
//! where the stale heap captures lived in a library file and a TypeScript consumer).

use std::fs;
use std::path::{Path, PathBuf};

use growsafe::{
    CheckOutput, Error, HeapStyle, Lang, Options, PassId, Variant, check_source, fix_source,
};

fn fixture(name: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/library")
        .join(name);
    let text = fs::read_to_string(&path).unwrap();
    (path, text)
}

/// `(line, column, pass)` of every finding.
fn positions(text: &str, out: &CheckOutput) -> Vec<(u32, u32, &'static str)> {
    out.analysis
        .findings
        .iter()
        .map(|f| {
            let (line, col) = out.lines.line_col(text, f.range.start);
            (line, col, f.pass.name())
        })
        .collect()
}

/// The 1-based line of the `// OK` marker: nothing may be reported from there on.
fn ok_line(text: &str) -> u32 {
    let index = text
        .lines()
        .position(|l| l.trim_start().starts_with("// OK"))
        .expect("the fixture has an `// OK` section");
    u32::try_from(index + 1).unwrap()
}

/// Every preprocessor line and macro of a file, in order.
fn preprocessor_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .filter(|l| l.trim_start().starts_with('#'))
        .map(str::to_owned)
        .collect();
    let mut rest = text;
    while let Some(open) = rest.find("{{{") {
        let Some(close) = rest[open + 3..].find("}}}") else {
            break;
        };
        let end = open + 3 + close + 3;
        out.push(rest[open..end].to_owned());
        rest = &rest[end..];
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The fixtures.

#[test]
fn library_findings_are_at_the_real_source_positions() {
    let (_, text) = fixture("phpwasm_library.js");
    let out = check_source(&text, Lang::JavaScript, &Options::default()).unwrap();
    // The table in the fixture's header, position by position.
    assert_eq!(
        positions(&text, &out),
        [
            (33, 31, "heap-destructure"),
            (52, 22, "heap-snapshot"),
            (52, 29, "heap-snapshot"),
            (52, 37, "heap-snapshot"),
            (52, 53, "heap-snapshot"),
            (60, 13, "stored-heap-view"),
            (65, 7, "stored-heap-view"),
            (80, 13, "heap-destructure"),
            (85, 23, "heap-snapshot"),
            (87, 23, "heap-snapshot"),
            (100, 11, "kept-buffer-view"),
            (105, 14, "heap-object-copy"),
        ]
    );
    assert!(
        positions(&text, &out)
            .iter()
            .all(|&(line, _, _)| line < ok_line(&text))
    );
    // The source text at each finding is what the table says.
    let at = |i: usize| &text[out.analysis.findings[i].range.as_usize()];
    assert!(at(0).starts_with("memory: { HEAP16, HEAP32 }"), "{}", at(0));
    assert!(at(5).starts_with("h = PHPWASM.memory.HEAP16"), "{}", at(5));
    assert!(at(6).starts_with("this.view = HEAPU8"), "{}", at(6));
    assert!(at(7).starts_with("{ HEAP32 }"), "{}", at(7));
    assert_eq!(at(8), "HEAP8");
    assert_eq!(at(9), "HEAPU8: HEAPU8");
    assert!(
        at(10).starts_with("mem8 = new Uint8Array(wasmMemory.buffer)"),
        "{}",
        at(10)
    );
    assert!(at(11).starts_with("...PHPWASM.memory"), "{}", at(11));

    // `js_fd_lock` has two alternative headers: the branches parse only separately, every
    // branch is still checked, and nothing is offered as a fix.
    let library = out.library.as_ref().expect("a library file");
    assert!(library.split());
    assert_eq!(
        library.checked,
        [Variant::FirstBranches, Variant::LastBranches]
    );
    assert_eq!(library.failed.len(), 1);
    assert_eq!(library.failed[0].variant, Variant::AllBranches);
    assert_eq!((library.failed[0].line, library.failed[0].column), (77, 24));
    assert!(library.unchecked.is_empty(), "{:?}", library.unchecked);
    assert_eq!((library.directives, library.macros), (15, 10));
    for f in &out.analysis.findings {
        assert!(f.fix.is_none());
        let reason = f.no_fix_reason.as_deref().unwrap();
        assert!(
            reason.contains("parse only separately") || reason.starts_with("lint only"),
            "{reason}"
        );
    }
}

#[test]
fn library_that_does_not_parse_together_is_left_alone_by_fix() {
    let (_, text) = fixture("phpwasm_library.js");
    let out = fix_source(&text, Lang::JavaScript, &Options::default()).unwrap();
    assert!(!out.changed);
    assert_eq!(out.text, text);
    assert_eq!(out.remaining.findings.len(), 12);
    assert!(out.library.unwrap().split());
}

#[test]
fn typescript_consumer_findings_and_fix() {
    let (_, text) = fixture("wasm-user-space.ts");
    let out = check_source(&text, Lang::TypeScript, &Options::default()).unwrap();
    // A tab is one column.
    assert_eq!(
        positions(&text, &out),
        [
            (40, 3, "heap-destructure"),
            (62, 8, "heap-destructure"),
            (67, 8, "stored-heap-view"),
            (78, 3, "stored-heap-view"),
        ]
    );
    assert!(out.library.is_none());
    assert!(
        out.analysis
            .findings
            .iter()
            .all(|f| f.fix.is_some() == (f.pass == PassId::HeapDestructure))
    );

    let fixed = fix_source(&text, Lang::TypeScript, &Options::default()).unwrap();
    assert!(fixed.changed);
    assert!(
        fixed.text.contains(
            "export function bindUserSpace({\n\t\tmemory,\n\t\tconstants,\n\t}: UserSpaceContext)"
        ),
        "{}",
        fixed.text
    );
    assert!(
        fixed
            .text
            .contains("\t\tmemory.HEAP64[(flockPtr + FLOCK_L_START) >> 3] = start;"),
        "{}",
        fixed.text
    );
    assert!(
        fixed
            .text
            .contains("\treturn memory.HEAPU8.slice(ptr, ptr + len);"),
        "{}",
        fixed.text
    );
    // The lint-only captures stay, reported.
    assert_eq!(
        fixed
            .remaining
            .findings
            .iter()
            .filter(|f| f.fix.is_none())
            .count(),
        2
    );
    assert!(fixed.remaining.findings.iter().all(|f| f.fix.is_none()));
    let again = fix_source(&fixed.text, Lang::TypeScript, &Options::default()).unwrap();
    assert!(!again.changed);
}

// ---------------------------------------------------------------------------------------------
// Fixing a library whose branches parse together.

/// A `--js-library` file whose `#if` branches parse together, shaped like the e2e lockstruct
/// library.
const TOGETHER: &str = "\
mergeInto(LibraryManager.library, {
  $bindUserSpace: function ({ memory: { HEAP16, HEAP32 } }) {
    return {
      updateFlockStruct(ptr) {
        HEAP16[(ptr + {{{ C_STRUCTS.flock.l_type }}}) >> 1] = {{{ cDefs.F_UNLCK }}};
#if ASSERTIONS
        assert(HEAP32[ptr >> 2] !== undefined);
#endif
        HEAP32[(ptr + {{{ C_STRUCTS.flock.l_pid }}}) >> 2] = 0;
      },
    };
  },
  lock_bind__deps: ['$bindUserSpace'],
  lock_bind: function () {
    var memory = { HEAP8, HEAP16, HEAP32 };
#if ASYNCIFY
    {{{ makeSetValue('LOCKS.flag', 0, '1', 'i32') }}};
#endif
    LOCKS.userSpace = bindUserSpace({ memory });
  },
});
";

const TOGETHER_FIXED: &str = "\
mergeInto(LibraryManager.library, {
  $bindUserSpace: function ({ memory }) {
    return {
      updateFlockStruct(ptr) {
        memory.HEAP16[(ptr + {{{ C_STRUCTS.flock.l_type }}}) >> 1] = {{{ cDefs.F_UNLCK }}};
#if ASSERTIONS
        assert(memory.HEAP32[ptr >> 2] !== undefined);
#endif
        memory.HEAP32[(ptr + {{{ C_STRUCTS.flock.l_pid }}}) >> 2] = 0;
      },
    };
  },
  lock_bind__deps: ['$bindUserSpace'],
  lock_bind: function () {
    var memory = { get HEAP8() { return HEAP8; }, get HEAP16() { return HEAP16; }, get HEAP32() { return HEAP32; } };
#if ASYNCIFY
    {{{ makeSetValue('LOCKS.flag', 0, '1', 'i32') }}};
#endif
    LOCKS.userSpace = bindUserSpace({ memory });
  },
});
";

#[test]
fn library_that_parses_together_is_fixed_around_its_macros() {
    let out = check_source(TOGETHER, Lang::JavaScript, &Options::default()).unwrap();
    assert_eq!(
        positions(TOGETHER, &out),
        [
            (2, 31, "heap-destructure"),
            (15, 20, "heap-snapshot"),
            (15, 27, "heap-snapshot"),
            (15, 35, "heap-snapshot"),
        ]
    );
    let library = out.library.unwrap();
    assert_eq!(library.checked, [Variant::AllBranches]);
    assert!(!library.split());

    let fixed = fix_source(TOGETHER, Lang::JavaScript, &Options::default()).unwrap();
    assert_eq!(fixed.text, TOGETHER_FIXED);
    assert_eq!(preprocessor_text(&fixed.text), preprocessor_text(TOGETHER));
    assert!(fixed.remaining.findings.is_empty());
    let again = fix_source(&fixed.text, Lang::JavaScript, &Options::default()).unwrap();
    assert!(!again.changed);
}

#[test]
fn a_fix_that_would_edit_a_macro_is_dropped() {
    // With accessor objects, `HEAP16[i] = v` becomes `memory.HEAP16.set(i, v)`: the edits
    // around the index and the value abut the macros.
    let text = "var L = {\n  g: function ({ memory: { HEAP16 } }) {\n    HEAP16[{{{ C_STRUCTS.x }}}] = {{{ cDefs.Y }}};\n  },\n};\n";
    let options = Options {
        heap_style: HeapStyle::Accessor,
        ..Options::default()
    };
    let out = check_source(text, Lang::JavaScript, &options).unwrap();
    assert_eq!(out.analysis.findings.len(), 1);
    let finding = &out.analysis.findings[0];
    assert_eq!(finding.pass, PassId::HeapDestructure);
    assert!(finding.fix.is_none());
    assert_eq!(
        finding.no_fix_reason.as_deref(),
        Some("the fix would edit a `{{{ }}}` macro of this Emscripten JS library")
    );
    let fixed = fix_source(text, Lang::JavaScript, &options).unwrap();
    assert!(!fixed.changed);

    // The getter style reads `memory.HEAP16[…]`, which leaves the macros alone.
    let fixed = fix_source(text, Lang::JavaScript, &Options::default()).unwrap();
    assert_eq!(
        fixed.text,
        "var L = {\n  g: function ({ memory }) {\n    memory.HEAP16[{{{ C_STRUCTS.x }}}] = {{{ cDefs.Y }}};\n  },\n};\n"
    );
}

#[test]
fn a_macro_used_as_an_operator_fragment_parses() {
    // library_pthread.js in 3.1.6: the macro expands to `* 2` or nothing.
    let text = "var L = {\n  f: function (n) {\n    var m = n {{{ WASM_BIGINT ? '* 2' : '' }}};\n    return { HEAP8 };\n  },\n};\n";
    let out = check_source(text, Lang::JavaScript, &Options::default()).unwrap();
    assert_eq!(positions(text, &out), [(4, 14, "heap-snapshot")]);
}

// ---------------------------------------------------------------------------------------------
// Branches that parse only separately, or not at all.

#[test]
fn unchecked_branches_are_reported() {
    // The middle branch of a three-way chain whose branches do not parse together is in
    // neither the first-branch nor the last-branch reading.
    let text = "\
var L = {
#if A
  f: function (a, b) {
#elif B
  f: function (a) { var m = { HEAP8 };
#else
  f: function () {
#endif
    return { HEAP16 };
  },
};
";
    let out = check_source(text, Lang::JavaScript, &Options::default()).unwrap();
    assert_eq!(positions(text, &out), [(9, 14, "heap-snapshot")]);
    let library = out.library.unwrap();
    assert!(library.split());
    assert_eq!(library.unchecked.len(), 1);
    let unchecked = library.unchecked[0];
    assert_eq!(
        (
            unchecked.directive_line,
            unchecked.first_line,
            unchecked.last_line
        ),
        (4, 5, 5)
    );
}

#[test]
fn no_variant_parses_is_a_clear_error() {
    let text = "\
var L = {
#if A
  f: function (a, b) {
#else
  f: function (a) {
#endif
    return 1 1;
  },
};
";
    let err = check_source(text, Lang::JavaScript, &Options::default()).unwrap_err();
    let Error::Syntax {
        message,
        line,
        column,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!((*line, *column), (7, 14), "{message}");
    assert!(message.contains("Emscripten JS library"), "{message}");
    assert!(message.contains("`#if` branches"), "{message}");
    assert!(matches!(
        fix_source(text, Lang::JavaScript, &Options::default()),
        Err(Error::Syntax { .. })
    ));

    // Different places per reading: each is named.
    let text = "\
var L = {
#if A
  f: function (a, b) { x x;
#else
  f: function (a) { y y;
#endif
  },
};
";
    let err = check_source(text, Lang::JavaScript, &Options::default()).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("3:"), "{message}");
    assert!(message.contains("with only the last branch"), "{message}");
    assert!(message.contains("at 5:"), "{message}");
    assert!(
        message.contains("parse in none of the ways growsafe tries"),
        "{message}"
    );
}

#[test]
fn misplaced_directive_is_a_syntax_error() {
    let text = "var a = 1;\n  #endif\n";
    let err = check_source(text, Lang::JavaScript, &Options::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "2:3: syntax error: `#endif` without a matching `#if` (Emscripten preprocessor)"
    );
}

#[test]
fn typescript_is_never_read_as_a_library() {
    // A private field named like a directive, in TypeScript, stays a private field.
    let text = "class A {\n  #if = 1;\n}\nvar m = { HEAP8 };\n";
    let out = check_source(text, Lang::TypeScript, &Options::default()).unwrap();
    assert!(out.library.is_none());
    assert_eq!(positions(text, &out), [(4, 11, "heap-snapshot")]);
}

// ---------------------------------------------------------------------------------------------
// Emscripten's own library sources.

/// Runs `check` and `fix` over every `src/library*.js` of an installed Emscripten (Debian's
/// 3.1.6 puts them in /usr/share/emscripten/src). Skipped, with a note, when there is none.
#[test]
#[allow(clippy::print_stderr)]
fn emscripten_library_sources() {
    let dir = Path::new("/usr/share/emscripten/src");
    let Ok(entries) = fs::read_dir(dir) else {
        eprintln!(
            "note: {} not found; skipping the Emscripten library check",
            dir.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("library") && name.ends_with(".js")
        })
        .collect();
    files.sort();
    let version = fs::read_to_string(dir.join("../emscripten-version.txt")).unwrap_or_default();
    let version = version.trim().trim_matches('"');

    let (mut plain, mut together, mut separately, mut unchecked) = (0, 0, 0, 0);
    let mut failed = Vec::new();
    for path in &files {
        let text = fs::read_to_string(path).unwrap();
        match check_source(&text, Lang::JavaScript, &Options::default()) {
            Ok(out) => {
                for f in &out.analysis.findings {
                    assert!(f.range.end as usize <= text.len());
                    assert!(text.is_char_boundary(f.range.start as usize));
                }
                match out.library {
                    None => plain += 1,
                    Some(library) if library.split() => {
                        separately += 1;
                        unchecked += library.unchecked.len();
                    }
                    Some(_) => together += 1,
                }
            }
            Err(Error::Syntax {
                message,
                line,
                column,
            }) => failed.push(format!(
                "{}:{line}:{column}: {message}",
                path.file_name().unwrap().to_string_lossy()
            )),
            Err(e) => panic!("{}: {e}", path.display()),
        }
        // Fixing never breaks a library or touches its preprocessor lines and macros.
        match fix_source(&text, Lang::JavaScript, &Options::default()) {
            Ok(out) => assert_eq!(
                preprocessor_text(&out.text),
                preprocessor_text(&text),
                "{}",
                path.display()
            ),
            Err(Error::Syntax { .. }) => {}
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    eprintln!(
        "Emscripten {version} library sources: {} files; {plain} without preprocessor lines or macros, {together} parse with all `#if` branches together, {separately} only branch by branch ({unchecked} branches unchecked), {} do not parse{}",
        files.len(),
        failed.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(":\n  {}", failed.join("\n  "))
        }
    );
    assert!(!files.is_empty());
    if version == "3.1.6" {
        // Measured when this test was written: every file parses, every branch is checked.
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!((plain, together, separately, unchecked), (9, 45, 4, 0));
    }
}
