//! The build matrix (`fixtures/matrix/builds.tsv`: real Emscripten 3.1.6 builds at every
//! optimisation level, with Closure, MODULARIZE, EXPORT_ES6, pthreads, WASM_BIGINT, a runtime
//! `Asyncify.StackSize` change and fibers) and the real npm glue of `tests/real_glue.rs`, walked
//! through growsafe into one table: per file, its Emscripten shape and what each fixing pass did.
//!
//! For every file: `fix` must converge, its output must parse (Node runs it, or `node --check`
//! reads it), a second `fix` must change nothing, and the lint findings must not grow. For every
//! matrix build, Node runs the committed build (its output must equal `expected/<build>.txt`)
//! and the fixed copy: the program's own lines must be unchanged, and the bug must be gone
//! exactly when every pass that covers it patched it.
//!
//! The table is printed, written to `target/matrix-table.md` and compared with the snapshot
//! `tests/snapshots/matrix__table.snap`. A pass that leaves a known hazard with no patch and no
//! finding (a silent no-op), or that calls a stock build already fixed, is a gap: the gaps must
//! equal [`KNOWN_GAPS`], so a new one fails the test, and so does one that has been closed.
//!
//! Needs Node, and npm registry access on the first run (for the real glue). No emcc.

#[path = "support/node.rs"]
mod node;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use growsafe::passes::FixAvailability;
use growsafe::{Lang, Options, PassId, RemarkKind, check_source, fix_source};

/// The passes that fix, one table column each.
const FIXING: [PassId; 3] = [
    PassId::HeapSnapshot,
    PassId::HeapDestructure,
    PassId::AsyncifySleepAlloc,
];

/// Gaps growsafe has today: `(file, pass, what)`. Each is a bug to fix in the pass; remove the
/// entry when it is fixed (the test fails until you do).
const KNOWN_GAPS: &[(&str, &str, &str)] = &[];

/// A file that is a build in `fixtures/matrix/builds.tsv`, or a real npm file.
struct Input {
    /// The file's name as shown in the table.
    name: String,
    /// Where it is.
    path: PathBuf,
    /// The Emscripten shape column.
    shape: String,
    /// The passes whose hazard the file is known to have.
    hazards: Vec<PassId>,
    /// What a known hazard's pass may answer besides `patched`.
    accept: Accept,
    /// Whether Node runs it (a matrix build that is not a worker).
    run: bool,
}

/// Which answers count as correct for a pass whose hazard the file has.
#[derive(Clone, Copy)]
enum Accept {
    /// A stock build: patched, or refused with a reason.
    PatchedOrRefused,
    /// Must be patched.
    Patched,
    /// Already patched glue: must be recognised as such.
    AlreadyFixed,
    /// JSPI: must be left alone as JSPI.
    Jspi,
}

/// What happened to one file.
struct Row {
    name: String,
    shape: String,
    cells: Vec<String>,
    lints: String,
    node: String,
    gaps: Vec<(String, String, String)>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn matrix_dir() -> PathBuf {
    root().join("fixtures/matrix")
}

fn pass(name: &str) -> PassId {
    name.parse().unwrap_or_else(|e| panic!("builds.tsv: {e}"))
}

/// The rows of `fixtures/matrix/builds.tsv`.
fn matrix_inputs() -> Vec<Input> {
    let manifest = std::fs::read_to_string(matrix_dir().join("builds.tsv")).unwrap();
    manifest
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let [file, kind, hazards, flags] = cols[..] else {
                panic!("builds.tsv: expected 4 columns: {line}");
            };
            let path = matrix_dir().join(file);
            let name = Path::new(file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let hazards = if hazards == "-" {
                Vec::new()
            } else {
                hazards.split(',').map(pass).collect()
            };
            let worker = kind == "pthread worker";
            let flags: Vec<&str> = flags
                .split(' ')
                .filter(|f| !f.starts_with("-sASYNCIFY_IMPORTS="))
                .collect();
            let shape = if worker {
                format!("3.1.6 {kind}")
            } else {
                format!("3.1.6 {kind}: `{}`", flags.join(" "))
            };
            Input {
                name,
                path,
                shape,
                hazards,
                accept: Accept::PatchedOrRefused,
                run: !worker,
            }
        })
        .collect()
}

/// Fetches (or reuses) the real npm glue, as `tests/real_glue.rs` does.
fn real_glue_dir() -> PathBuf {
    let dest = std::env::var_os("GROWSAFE_REAL_GLUE")
        .map_or_else(|| root().join("target/real-glue"), PathBuf::from);
    let status = Command::new("bash")
        .arg(root().join("scripts/fetch-real-glue.sh"))
        .arg(&dest)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("bash must be available to fetch the real glue");
    assert!(
        status.success(),
        "scripts/fetch-real-glue.sh failed (it needs npm registry access)"
    );
    dest
}

/// Emscripten versions inferred from the text of each real file (`fixtures/real/README.md`).
fn inferred_version(file: &str) -> &'static str {
    const VERSIONS: &[(&str, &str)] = &[
        ("php-wasm-2.0.22-", "3.1.70–4.0.6"),
        ("php-wasm-3.", "4.0.10–4.0.22"),
        ("quickjs-0.32.0-", "5.0.0–5.0.3"),
        ("wa-sqlite-1.0.0-", "≈3.1.4x–3.1.5x"),
        ("journeyapps-wa-sqlite-2.0.6-", "4.0.7–4.0.9"),
        ("jsquash-avif-2.1.1-", "3.1.42–3.1.5x"),
        ("tfjs-backend-wasm-4.22.0-", "≤3.1.29"),
    ];
    VERSIONS
        .iter()
        .find(|(prefix, _)| file.starts_with(prefix))
        .map_or("?", |(_, v)| v)
}

/// The files of the real-glue manifest.
fn real_inputs(dir: &Path) -> Vec<Input> {
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    manifest
        .lines()
        .skip(1)
        .map(|row| {
            let cols: Vec<&str> = row.split('\t').collect();
            let (file, package, category) = (cols[0], cols[1], cols[3]);
            let (hazards, accept) = match category {
                "stock-asyncify" => (vec![PassId::AsyncifySleepAlloc], Accept::Patched),
                "closure" => (vec![PassId::AsyncifySleepAlloc], Accept::PatchedOrRefused),
                "patched-cachedData" => (vec![PassId::AsyncifySleepAlloc], Accept::AlreadyFixed),
                "jspi" => (vec![PassId::AsyncifySleepAlloc], Accept::Jspi),
                _ => (Vec::new(), Accept::PatchedOrRefused),
            };
            Input {
                name: file.to_owned(),
                path: dir.join(file),
                shape: format!("{} {category}: `{package}`", inferred_version(file)),
                hazards,
                accept,
                run: false,
            }
        })
        .collect()
}

/// What one pass did to a file: its fixes, its findings without a fix, else its remarks.
fn cell(applied: usize, refused: &[String], remarks: &[(RemarkKind, String)]) -> String {
    let mut parts = Vec::new();
    if applied > 0 {
        parts.push(format!("patched {applied}"));
    }
    let mut reasons: Vec<&String> = refused.iter().collect();
    reasons.dedup();
    for reason in &reasons {
        let n = refused.iter().filter(|r| r == reason).count();
        let count = if n > 1 {
            format!(" ×{n}")
        } else {
            String::new()
        };
        parts.push(format!("refused{count}: {reason}"));
    }
    if parts.is_empty() {
        for (kind, message) in remarks {
            let text = match kind {
                RemarkKind::AlreadyFixed => "already fixed".to_owned(),
                RemarkKind::LeftAlone if message.starts_with("JSPI") => "JSPI".to_owned(),
                RemarkKind::LeftAlone => format!("left alone: {message}"),
                RemarkKind::Fallback => continue,
            };
            if !parts.contains(&text) {
                parts.push(text);
            }
        }
    }
    if parts.is_empty() {
        "not applicable".to_owned()
    } else {
        parts.join("; ")
    }
}

/// The part of a no-fix reason worth a table cell: up to its first `;`.
fn short_reason(reason: &str) -> String {
    reason
        .split(';')
        .next()
        .unwrap_or(reason)
        .trim()
        .replace('|', "\\|")
}

/// Runs `fixtures/matrix/run.cjs` on `glue`; returns stdout.
fn node_run(glue: &Path) -> String {
    let runner = matrix_dir().join("run.cjs");
    node::stdout([
        "--no-experimental-fetch".as_ref(),
        runner.as_os_str(),
        glue.as_os_str(),
    ])
}

/// The program's own lines: everything but the bug indicators.
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

/// `BUG1 present` from `RESULT: BUG1 present (…)`.
fn verdict(output: &str) -> String {
    let result = output
        .lines()
        .find_map(|l| l.strip_prefix("RESULT: "))
        .expect("run.cjs prints a RESULT line");
    result.split(" (").next().unwrap().to_owned()
}

fn lint_counts(findings: &[growsafe::Finding]) -> BTreeMap<PassId, usize> {
    let mut counts = BTreeMap::new();
    for f in findings {
        if f.pass.meta().fix == FixAvailability::Never {
            *counts.entry(f.pass).or_insert(0) += 1;
        }
    }
    counts
}

/// Fixes a copy of a matrix build (with its `.wasm` and worker beside it) and runs both.
fn run_both(input: &Input, fixed_text: &str, tmp: &Path) -> String {
    let before = node_run(&input.path);
    let stem = input.name.split('.').next().unwrap();
    let expected_path = matrix_dir().join(format!("expected/{stem}.txt"));
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
    assert_eq!(
        before,
        expected,
        "{}: the committed build no longer prints {}",
        input.name,
        expected_path.display()
    );

    let dir = tmp.join(stem);
    std::fs::create_dir_all(&dir).unwrap();
    let source_dir = input.path.parent().unwrap();
    for entry in std::fs::read_dir(source_dir).unwrap() {
        let entry = entry.unwrap();
        let file = entry.file_name().to_string_lossy().into_owned();
        if file == input.name || !file.starts_with(&format!("{stem}.")) {
            continue;
        }
        if file.ends_with(".wasm") {
            std::fs::copy(entry.path(), dir.join(&file)).unwrap();
        } else if file.ends_with(".worker.js") {
            // The worker loads the main glue; give it the fixed worker too.
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let fixed = fix_source(&text, Lang::JavaScript, &Options::default()).unwrap();
            std::fs::write(dir.join(&file), fixed.text).unwrap();
        }
    }
    let fixed_path = dir.join(&input.name);
    std::fs::write(&fixed_path, fixed_text).unwrap();
    let after = node_run(&fixed_path);
    assert_eq!(
        program_lines(&before),
        program_lines(&after),
        "{}: the program's own output changed after fixing",
        input.name
    );
    format!("{} → {}", verdict(&before), verdict(&after))
}

fn walk(input: &Input, tmp: &Path) -> Row {
    let name = &input.name;
    let text = std::fs::read_to_string(&input.path)
        .unwrap_or_else(|e| panic!("{}: {e}", input.path.display()));
    let lang = Lang::from_path(&input.path);
    let options = Options::default();
    let checked =
        check_source(&text, lang, &options).unwrap_or_else(|e| panic!("{name}: check: {e}"));
    let fixed = fix_source(&text, lang, &options).unwrap_or_else(|e| panic!("{name}: fix: {e}"));
    assert!(
        fixed.remaining.findings.iter().all(|f| f.fix.is_none()),
        "{name}: fixable findings remain after fixing"
    );
    let again = fix_source(&fixed.text, lang, &options)
        .unwrap_or_else(|e| panic!("{name}: second fix: {e}"));
    assert!(!again.changed, "{name}: a second fix changed the output");

    // Lint findings are reported, never fixed; a fix must not add any.
    let lints_before = lint_counts(&checked.analysis.findings);
    let lints_after = lint_counts(&fixed.remaining.findings);
    for (pass, n) in &lints_after {
        assert!(
            lints_before.get(pass).copied().unwrap_or(0) >= *n,
            "{name}: fixing added {pass} findings ({lints_before:?} → {lints_after:?})"
        );
    }
    let lints = if lints_before.is_empty() {
        "—".to_owned()
    } else {
        lints_before
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let mut cells = Vec::new();
    let mut gaps = Vec::new();
    let mut patched_all = !input.hazards.is_empty();
    for pass in FIXING {
        let applied = fixed.applied.iter().filter(|a| a.pass == pass).count();
        let refused: Vec<String> = fixed
            .remaining
            .findings
            .iter()
            .filter(|f| f.pass == pass)
            .map(|f| short_reason(f.no_fix_reason.as_deref().unwrap_or("no reason given")))
            .collect();
        let remarks: Vec<(RemarkKind, String)> = checked
            .analysis
            .remarks
            .iter()
            .filter(|r| r.pass == pass)
            .map(|r| (r.kind, r.message.clone()))
            .collect();
        let mut text = cell(applied, &refused, &remarks);
        // A gap: a known hazard left without a patch or a finding, a wrong answer, or an
        // "already fixed" note on code nobody fixed.
        let gap = if input.hazards.contains(&pass) {
            patched_all &= applied > 0 && refused.is_empty();
            let fine = match input.accept {
                Accept::PatchedOrRefused => applied > 0 || !refused.is_empty(),
                Accept::Patched => applied > 0 && refused.is_empty(),
                Accept::AlreadyFixed => text == "already fixed",
                Accept::Jspi => text == "JSPI",
            };
            match text.as_str() {
                _ if fine => None,
                "not applicable" => Some("silent no-op"),
                "already fixed" => Some("claims already fixed"),
                _ => Some("wrong answer"),
            }
        } else if text == "already fixed"
            && !(pass == PassId::HeapSnapshot && input.name.starts_with("php-wasm-3.1."))
        {
            // Every file here is heap code as Emscripten printed it, except php-wasm 3.1.x: it
            // ships WordPress Playground #3317's fixes, the cached Asyncify block and the
            // `memory: { HEAP8: { get(offset) {…}, set(offset, value) {…} } }` accessor objects.
            Some("claims already fixed")
        } else {
            None
        };
        if let Some(what) = gap {
            text = format!("**gap: {what}** ({text})");
            gaps.push((name.clone(), pass.name().to_owned(), what.to_owned()));
        }
        cells.push(text);
    }

    let node = if input.run {
        let node = run_both(input, &fixed.text, tmp);
        let absent = node.ends_with("absent");
        assert_eq!(
            absent,
            patched_all,
            "{name}: after fixing, the bug is {} but the passes {}: {node}",
            if absent { "gone" } else { "still there" },
            if patched_all {
                "claim to have patched every hazard"
            } else {
                "did not patch every hazard"
            }
        );
        node
    } else {
        let out = tmp.join(name);
        std::fs::write(&out, &fixed.text).unwrap();
        node::check(&out);
        "`node --check` ok".to_owned()
    };

    Row {
        name: name.clone(),
        shape: input.shape.clone(),
        cells,
        lints,
        node,
        gaps,
    }
}

fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "| file | Emscripten shape | heap-snapshot | heap-destructure | asyncify-sleep-alloc | lint (not fixed) | Node: bug before → after fix |"
    )
    .unwrap();
    writeln!(out, "|---|---|---|---|---|---|---|").unwrap();
    for row in rows {
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            row.name, row.shape, row.cells[0], row.cells[1], row.cells[2], row.lints, row.node
        )
        .unwrap();
    }
    out.push_str(LEGEND);
    out
}

const LEGEND: &str = "
`patched N`: N fixes applied. `refused: …`: a finding without a fix, and why. `already fixed`,
`JSPI`: a note that the code needs no fix. `not applicable`: the pass said nothing.
`**gap: …**`: the file is known to have this hazard and the pass left it silently (`silent
no-op`), or the pass answered wrongly (`claims already fixed` on code nobody fixed, `wrong
answer`); `tests/matrix.rs` lists today's gaps in `KNOWN_GAPS`. Lint counts are the lint-only
findings of `check` on the original file. Matrix builds (`fixtures/matrix/builds.tsv`; every
build also has `-sENVIRONMENT=node -sFILESYSTEM=0 -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=2MB
-sTOTAL_STACK=64KB`) run in Node before and after `growsafe fix`; the real npm files
(`fixtures/real/README.md`, Emscripten versions inferred) are only parsed by `node --check`.
";

#[test]
#[allow(clippy::print_stdout)]
fn matrix_table() {
    let mut inputs = matrix_inputs();
    inputs.extend(real_inputs(&real_glue_dir()));
    let tmp = tempfile::tempdir().unwrap();

    // Node runs dominate: walk the files on a few threads.
    let slots: Vec<Mutex<Option<Result<Row, String>>>> =
        inputs.iter().map(|_| Mutex::new(None)).collect();
    let next = Mutex::new(0usize);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut next = next.lock().unwrap();
                        let i = *next;
                        *next += 1;
                        i
                    };
                    let Some(input) = inputs.get(i) else {
                        break;
                    };
                    // Keep going after a failing file, so that one run reports them all.
                    let row = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        walk(input, tmp.path())
                    }))
                    .map_err(|e| {
                        let message = e
                            .downcast_ref::<String>()
                            .map(String::as_str)
                            .or_else(|| e.downcast_ref::<&str>().copied())
                            .unwrap_or("panicked");
                        format!("{}: {message}", input.name)
                    });
                    *slots[i].lock().unwrap() = Some(row);
                }
            });
        }
    });
    let (rows, failures): (Vec<_>, Vec<_>) = slots
        .into_iter()
        .map(|s| s.into_inner().unwrap().expect("every file was walked"))
        .partition(Result::is_ok);
    let failures: Vec<String> = failures.into_iter().filter_map(Result::err).collect();
    assert!(
        failures.is_empty(),
        "{} file(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    let rows: Vec<Row> = rows.into_iter().filter_map(Result::ok).collect();

    let table = render(&rows);
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("matrix-table.md"), &table).unwrap();
    println!("{table}");

    let gaps: Vec<(String, String, String)> = rows.iter().flat_map(|r| r.gaps.clone()).collect();
    let known: Vec<(String, String, String)> = KNOWN_GAPS
        .iter()
        .map(|(f, p, w)| ((*f).to_owned(), (*p).to_owned(), (*w).to_owned()))
        .collect();
    let new: Vec<_> = gaps.iter().filter(|g| !known.contains(g)).collect();
    let closed: Vec<_> = known.iter().filter(|g| !gaps.contains(g)).collect();
    assert!(
        new.is_empty() && closed.is_empty(),
        "gaps changed.\nnew (a pass leaves a known hazard silently or answers wrongly): {new:?}\n\
         closed (remove from KNOWN_GAPS): {closed:?}\n\n{table}"
    );
    insta::assert_snapshot!("table", table);
}

/// Closure renames `{ memory: { HEAP16, HEAP32 } }` to `{memory:{i:b,h:c}}`: the fix reads
/// `memory.i` at each use, and on the fixed file the pass says so (so `--require
/// heap-destructure` holds on a second run).
#[test]
fn closure_lockstruct_is_fixed_and_recognised_after() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/matrix/lockstruct_closure.js");
    let text = std::fs::read_to_string(path).unwrap();
    let options = Options::default();
    let fixed = fix_source(&text, Lang::JavaScript, &options).unwrap();
    assert!(
        fixed
            .text
            .contains("function pa({memory}){return{j(d){memory.i[d>>1]=2;memory.h[d+4>>2]=0}}}"),
        "pa not rewritten"
    );
    let after = check_source(&fixed.text, Lang::JavaScript, &options).unwrap();
    assert!(
        after.analysis.findings.is_empty(),
        "{:?}",
        after.analysis.findings
    );
    assert!(
        after
            .analysis
            .remarks
            .iter()
            .any(|r| r.pass == PassId::HeapDestructure && r.kind == RemarkKind::AlreadyFixed),
        "{:?}",
        after.analysis.remarks
    );
}
