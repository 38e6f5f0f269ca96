//! Fixture tests: one insta snapshot per `fixtures/<pass>/<case>.{js,ts}`, holding the findings
//! (with fix titles or reasons) and the unified diff of the fixed file.
//!
//! Beyond the snapshot, every fixture must: re-parse after fixing, converge, be unchanged by a
//! second `fix`, carry a fix on every finding of an always-fixable pass and none on a lint-only
//! pass, and title every fix.
//! A `.accessor.` / `.proxy.` infix in the file name selects that `--heap-style`.
//!
//! `fixtures/views/` holds glue modelled on the printed text of Emscripten versions (each says
//! which on its first line); it runs `heap-snapshot` and `heap-destructure` together.

use std::fmt::Write as _;
use std::path::Path;

use growsafe::passes::FixAvailability;
use growsafe::{HeapStyle, Lang, Options, PassId, check_source, fix_source};

fn options(path: &Path, passes: &[PassId]) -> Options {
    let name = path.file_name().unwrap().to_string_lossy();
    let heap_style = if name.contains(".accessor.") {
        HeapStyle::Accessor
    } else if name.contains(".proxy.") {
        HeapStyle::Proxy
    } else {
        HeapStyle::Getter
    };
    Options {
        heap_style,
        select: Some(passes.to_vec()),
        ignore: Vec::new(),
    }
}

fn run(passes: &[PassId], path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let lang = Lang::from_path(path);
    let options = options(path, passes);
    let checked = check_source(&text, lang, &options).unwrap();
    let mut out = String::new();
    for f in &checked.analysis.findings {
        let (line, col) = checked.lines.line_col(&text, f.range.start);
        let help = match (&f.fix, &f.no_fix_reason) {
            (Some(fix), _) => format!("fix: {}", fix.title),
            (None, Some(reason)) => format!("no fix: {reason}"),
            (None, None) => "no fix".to_owned(),
        };
        writeln!(out, "{line}:{col}: {}: {}\n  = {help}", f.pass, f.message).unwrap();
        let pass = f.pass;
        if let Some(fix) = &f.fix {
            assert!(!fix.title.is_empty(), "fix without a title");
            assert_ne!(
                pass.meta().fix,
                FixAvailability::Never,
                "{pass} is lint-only but emitted a fix"
            );
        } else {
            assert_ne!(
                pass.meta().fix,
                FixAvailability::Always,
                "{pass} declares fixes always but emitted none"
            );
        }
    }
    for r in &checked.analysis.remarks {
        let line = r
            .range
            .map_or(0, |range| checked.lines.line_col(&text, range.start).0);
        writeln!(out, "{line}: note ({:?}): {}", r.kind, r.message).unwrap();
    }

    // fix_source re-parses its output and refuses text that does not parse.
    let fixed = fix_source(&text, lang, &options).unwrap();
    let again = fix_source(&fixed.text, lang, &options).unwrap();
    assert!(
        !again.changed,
        "a second fix changed the output of {}:\n{}",
        path.display(),
        again.text
    );
    assert!(
        again.remaining.findings.iter().all(|f| f.fix.is_none()),
        "fixable findings remain after fixing"
    );

    out.push_str("\n----- fixed -----\n");
    let diff = similar::TextDiff::from_lines(&text, &fixed.text);
    write!(out, "{}", diff.unified_diff().context_radius(2)).unwrap();
    out
}

fn fixtures(pass: PassId, dir: &str) {
    insta::glob!("../fixtures", &format!("{dir}/*.*s"), |path| {
        insta::assert_snapshot!(dir, run(&[pass], path));
    });
}

#[test]
fn views() {
    insta::glob!("../fixtures", "views/*.*s", |path| {
        let first = std::fs::read_to_string(path).unwrap();
        let first = first.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("// ") && first.chars().any(|c| c.is_ascii_digit()),
            "{}: the first line must name the Emscripten version it models",
            path.display()
        );
        insta::assert_snapshot!(
            "views",
            run(&[PassId::HeapSnapshot, PassId::HeapDestructure], path)
        );
    });
}

#[test]
fn heap_snapshot() {
    fixtures(PassId::HeapSnapshot, "heap_snapshot");
}

#[test]
fn heap_destructure() {
    fixtures(PassId::HeapDestructure, "heap_destructure");
}

#[test]
fn asyncify_sleep_alloc() {
    fixtures(PassId::AsyncifySleepAlloc, "asyncify_sleep_alloc");
}

#[test]
fn stored_heap_view() {
    fixtures(PassId::StoredHeapView, "stored_heap_view");
}

#[test]
fn kept_buffer_view() {
    fixtures(PassId::KeptBufferView, "kept_buffer_view");
}

#[test]
fn heap_object_copy() {
    fixtures(PassId::HeapObjectCopy, "heap_object_copy");
}

#[test]
fn all_passes_together_converge_on_the_example() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/glue.js");
    let text = std::fs::read_to_string(path).unwrap();
    let fixed = fix_source(&text, Lang::JavaScript, &Options::default()).unwrap();
    assert_eq!(
        fixed
            .applied
            .iter()
            .filter(|a| a.pass == PassId::HeapSnapshot)
            .count(),
        4
    );
    assert_eq!(
        fixed
            .applied
            .iter()
            .filter(|a| a.pass == PassId::HeapDestructure)
            .count(),
        1
    );
    assert_eq!(
        fixed
            .applied
            .iter()
            .filter(|a| a.pass == PassId::AsyncifySleepAlloc)
            .count(),
        1
    );
    assert!(
        !fix_source(&fixed.text, Lang::JavaScript, &Options::default())
            .unwrap()
            .changed
    );
}
