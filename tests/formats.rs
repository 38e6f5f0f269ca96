//! `growsafe check --format human|concise|json|sarif|github` (documented in `docs/formats.md`):
//! a snapshot of each on the same small files, the code frame of a 1 MB minified line, the
//! SARIF log validated against the SARIF 2.1.0 JSON schema, and the GitHub escaping.
//!
//! Like `tests/cli.rs`, each test runs the binary in its own temporary directory.
#![cfg(unix)]

use std::fs;
use std::path::Path;

use growsafe::PassId;
use serde_json::Value;
#[path = "support/workdir.rs"]
mod workdir;

use workdir::{Dir, Run};

/// Every format's snapshot input: two snapshotted views, a destructured one with a fix, and
/// one without (the binding is reassigned).
const SMALL: &str = "var HEAP8, HEAP16;
var memory = { HEAP8, HEAP16: HEAP16 };
function f({ memory: { HEAP16 } }) { HEAP16[0] = 1; }
function g({ memory: { HEAP8 } }) { HEAP8 = null; return HEAP8; }
";
/// A file `fix` has already been run on: no findings, remarks only.
const FIXED: &str = "var HEAP8, HEAP16;\nvar memory = { get HEAP8() { return HEAP8; }, get HEAP16() { return HEAP16; } };\n";
/// One snapshotted view.
const SNAPSHOT: &str = "var HEAP8, HEAP16;\nvar memory = { HEAP8, HEAP16: HEAP16 };\n";
const BOM: &str = "\u{feff}";

/// `check --format FORMAT` on the snapshot inputs `small.js` and `fixed.js`.
fn check_small(dir: &Dir, format: &str) -> Run {
    dir.write("small.js", SMALL);
    dir.write("fixed.js", FIXED);
    let run = dir.run(&["check", "--format", format, "small.js", "fixed.js"]);
    run.expect(1);
    run
}

fn example_glue() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/glue.js")).unwrap()
}

// ---------------------------------------------------------------------------------------------
// human (the default) and concise.

#[test]
fn human_is_the_default_and_draws_code_frames() {
    let dir = Dir::new();
    let run = check_small(&dir, "human");
    insta::assert_snapshot!("human", run.stdout);
    assert_eq!(run.stderr, "");
    // No colour when standard output is not a terminal.
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
    let default = dir.run(&["check", "small.js", "fixed.js"]);
    assert_eq!(default.stdout, run.stdout);
}

#[test]
fn human_multi_line_span_and_clean_summary() {
    let dir = Dir::new();
    dir.write("glue.js", example_glue());
    let run = dir.run(&["check", "--select", "asyncify-sleep-alloc", "glue.js"]);
    run.expect(1);
    insta::assert_snapshot!("human_multi_line", run.stdout);

    dir.write(
        "clean.js",
        "var HEAP8;\nfunction f() { return HEAP8[0]; }\n",
    );
    let run = dir.run(&[
        "check",
        "clean.js",
        "glue.js",
        "--ignore",
        "asyncify-sleep-alloc,heap-snapshot,heap-destructure",
    ]);
    run.expect(0);
    assert_eq!(run.stdout, "No hazards found in 2 files.\n");

    // No summary when no file could be read: the error says why.
    dir.write("bad.js", "var a = {HEAP8: 1,,};\n");
    let run = dir.run(&["check", "bad.js"]);
    run.expect(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("bad.js:1:19: syntax error"),
        "{}",
        run.stderr
    );
}

/// `filler` repeated up to about `len` bytes.
fn fill(filler: &str, len: usize) -> String {
    filler.repeat(len / filler.len() + 1)
}

#[test]
fn human_trims_a_one_megabyte_minified_line() {
    let dir = Dir::new();
    let before = fill("function a(b,c){return b+c}", 500_000);
    let after = fill("function d(e,f){return e*f}", 500_000);
    let line = format!("var HEAP8,HEAP16;{before}var memory={{HEAP8,HEAP16:HEAP16}};{after}\n");
    assert!(line.len() > 1_000_000 && !line[..line.len() - 1].contains('\n'));
    dir.write("min.js", &line);
    let run = dir.run(&["check", "min.js"]);
    run.expect(1);
    insta::assert_snapshot!("human_minified", run.stdout);
    for output_line in run.stdout.lines() {
        assert!(output_line.len() < 200, "untrimmed: {output_line:.300}");
    }
    // The columns are the real ones, in the 1 MB line.
    let column = line.find("HEAP8,HEAP16:").unwrap() + 1;
    assert!(
        run.stdout.contains(&format!(" --> min.js:1:{column}\n")),
        "{}",
        run.stdout
    );
}

#[test]
fn concise_is_one_line_per_finding_with_notes_on_stderr() {
    let dir = Dir::new();
    let run = check_small(&dir, "concise");
    insta::assert_snapshot!(
        "concise",
        format!("--- stdout\n{}--- stderr\n{}", run.stdout, run.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// json.

#[test]
fn json_keeps_its_documented_schema() {
    let dir = Dir::new();
    let run = check_small(&dir, "json");
    insta::assert_snapshot!("json", run.stdout);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["version"], 1);
}

// ---------------------------------------------------------------------------------------------
// sarif.

/// The SARIF log with the rules' long documentation texts replaced by a marker, after checking
/// that they are the passes' documentation.
fn sarif_without_docs(stdout: &str) -> Value {
    let mut log: Value = serde_json::from_str(stdout).unwrap();
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap();
    assert_eq!(rules.len(), PassId::ALL.len());
    for (rule, pass) in rules.iter_mut().zip(PassId::ALL) {
        assert_eq!(rule["id"], pass.name());
        assert_eq!(rule["help"]["markdown"], pass.meta().docs);
        assert_eq!(rule["help"]["text"], pass.meta().docs);
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        assert!(pass.meta().docs.contains(full), "{full}");
        rule["help"] = Value::String("[docs/passes/*.md]".into());
        rule["fullDescription"] = Value::String("[## What it does]".into());
    }
    log
}

#[test]
fn sarif_snapshot() {
    let dir = Dir::new();
    let run = check_small(&dir, "sarif");
    let log = sarif_without_docs(&run.stdout);
    insta::assert_snapshot!("sarif", serde_json::to_string_pretty(&log).unwrap());
}

/// The SARIF 2.1.0 JSON schema (draft-07), as committed under `tests/schemas/` (see the
/// README there), compiled with format checks on.
///
/// Its `language` pattern `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$` has a lone `]`, which
/// ECMAScript regexes read as a literal but Rust's regex engines reject; the copy compiled
/// here escapes it (`\]`), which keeps its meaning. growsafe never writes `language`.
fn sarif_validator() -> jsonschema::Validator {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-schema-2.1.0.json"),
    )
    .unwrap();
    let lone_bracket = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(lone_bracket).count(), 2, "the schema changed");
    let text = text.replace(
        lone_bracket,
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#,
    );
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

#[track_caller]
fn assert_valid_sarif(validator: &jsonschema::Validator, stdout: &str) -> Value {
    let log: Value = serde_json::from_str(stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid SARIF:\n{}\n{stdout}",
        errors.join("\n")
    );
    log
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let validator = sarif_validator();
    // The validator is not vacuous.
    assert!(!validator.is_valid(&serde_json::json!({"version": "2.1.0"})));
    assert!(!validator.is_valid(&serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a b.js"}}}]}]}]
    })));

    let dir = Dir::new();
    dir.write("glue.js", example_glue());
    dir.write("small.js", SMALL);
    dir.write("fixed.js", FIXED);
    dir.write("bom.js", format!("{BOM}{SNAPSHOT}"));
    dir.write("crlf.js", SMALL.replace('\n', "\r\n"));
    dir.write("glue.ts", "let HEAP8: Int8Array;\nvar m = { HEAP8 };\n");
    dir.write("my dir/é #1,%.js", SNAPSHOT);
    let absolute = dir.write("abs.js", SNAPSHOT);
    let absolute = absolute.to_str().unwrap();
    let files = [
        "glue.js",
        "./small.js",
        "fixed.js",
        "bom.js",
        "crlf.js",
        "glue.ts",
        "my dir/é #1,%.js",
        absolute,
    ];
    let mut args = vec!["check", "--format", "sarif"];
    args.extend(files);
    let run = dir.run(&args);
    run.expect(1);
    let log = assert_valid_sarif(&validator, &run.stdout);

    let uris: std::collections::BTreeSet<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    let absolute_uri = format!("file://{absolute}");
    let expected = [
        "glue.js",
        "small.js",
        "bom.js",
        "crlf.js",
        "glue.ts",
        "my%20dir/%C3%A9%20%231,%25.js",
        absolute_uri.as_str(),
    ];
    assert_eq!(uris, expected.into_iter().collect());

    // A clean run is a valid log with no results.
    let run = dir.run(&["check", "--format", "sarif", "fixed.js"]);
    run.expect(0);
    let log = assert_valid_sarif(&validator, &run.stdout);
    assert_eq!(log["runs"][0]["results"], Value::Array(Vec::new()));
}

/// 1-based line and UTF-16 column of a byte offset in a file, after its BOM, with `\r\n`,
/// `\n` and `\r` ending lines: computed independently of growsafe's `LineIndex`.
fn line_column(file: &str, offset: usize) -> (u64, u64) {
    let start = if file.starts_with(BOM) { BOM.len() } else { 0 };
    let text = &file[start..offset];
    let mut line = 1;
    let mut column = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => {
                line += 1;
                column = 1;
            }
            c => column += c.len_utf16() as u64,
        }
    }
    (line, column)
}

#[test]
fn sarif_replacements_reproduce_fix_and_regions_agree_with_bytes() {
    let dir = Dir::new();
    let inputs = [
        ("plain.js", SNAPSHOT.to_owned()),
        ("bom.js", format!("{BOM}{SNAPSHOT}")),
        (
            "crlf.js",
            format!("{BOM}// é😀\r\n{}", SNAPSHOT.replace('\n', "\r\n")),
        ),
        ("cr.js", format!("// é😀\r{SNAPSHOT}")),
    ];
    for (name, text) in &inputs {
        dir.write(name, text);
        let run = dir.run(&["check", "--format", "sarif", name]);
        run.expect(1);
        let log: Value = serde_json::from_str(&run.stdout).unwrap();
        let mut replacements: Vec<(usize, usize, String)> = Vec::new();
        for result in log["runs"][0]["results"].as_array().unwrap() {
            let changes = &result["fixes"][0]["artifactChanges"][0];
            assert_eq!(changes["artifactLocation"]["uri"], *name);
            for replacement in changes["replacements"].as_array().unwrap() {
                let region = &replacement["deletedRegion"];
                let offset = usize::try_from(region["byteOffset"].as_u64().unwrap()).unwrap();
                let length = usize::try_from(region["byteLength"].as_u64().unwrap()).unwrap();
                // The line/column region and the byte region are the same text.
                let start = (
                    region["startLine"].as_u64().unwrap(),
                    region["startColumn"].as_u64().unwrap(),
                );
                let end = (
                    region["endLine"].as_u64().unwrap(),
                    region["endColumn"].as_u64().unwrap(),
                );
                assert_eq!(line_column(text, offset), start, "{name}: {region}");
                assert_eq!(line_column(text, offset + length), end, "{name}: {region}");
                let inserted = replacement["insertedContent"]["text"]
                    .as_str()
                    .unwrap_or("");
                replacements.push((offset, length, inserted.to_owned()));
            }
        }
        // Applied back to front, the replacements give what `fix` writes.
        replacements.sort();
        let mut fixed = text.clone();
        for (offset, length, inserted) in replacements.iter().rev() {
            fixed.replace_range(offset..&(offset + length), inserted);
        }
        let run = dir.run(&["fix", "-q", name, "-o", "out.js"]);
        run.expect(0);
        assert_eq!(
            fixed,
            fs::read_to_string(dir.path("out.js")).unwrap(),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// github.

#[test]
fn github_workflow_commands() {
    let dir = Dir::new();
    let run = check_small(&dir, "github");
    insta::assert_snapshot!("github", run.stdout);
    assert_eq!(run.stderr, "");
    for line in run.stdout.lines() {
        assert!(
            line.starts_with("::error file=") || line.starts_with("::notice file="),
            "{line}"
        );
    }
}

#[test]
fn github_leaves_out_columns_across_lines() {
    let dir = Dir::new();
    dir.write("glue.js", example_glue());
    let run = dir.run(&[
        "check",
        "--format",
        "github",
        "--select",
        "asyncify-sleep-alloc",
        "glue.js",
    ]);
    run.expect(1);
    assert!(
        run.stdout.starts_with(
            "::error file=glue.js,line=16,endLine=21,title=growsafe (asyncify-sleep-alloc)::"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn github_escapes_paths_and_messages() {
    let dir = Dir::new();
    dir.write("a,b:c%.js", SNAPSHOT);
    let run = dir.run(&[
        "check",
        "--format",
        "github",
        "--select",
        "heap-snapshot",
        "./a,b:c%.js",
    ]);
    run.expect(1);
    let first = run.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        "::error file=a%2Cb%3Ac%25.js,line=2,col=16,endLine=2,endColumn=21,title=growsafe (heap-snapshot)\
         ::property `HEAP8` snapshots `HEAP8` once; the copy goes dead when memory grows%0Ahelp: Turn `HEAP8` into a getter"
    );
}
