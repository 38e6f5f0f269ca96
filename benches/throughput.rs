//! `just bench`: growsafe's cost against a parse-only baseline on large real glue.
//!
//! For each file: the median time of a bare swc parse (`parse_file_as_program`, no resolver),
//! of `growsafe::check_source` and of `growsafe::fix_source` (all passes), their ratio to the
//! parse, and MB/s; and, when Debian's emscripten is installed, Emscripten's own `growableHeap`
//! JS optimizer pass (`node tools/acorn-optimizer.js FILE growableHeap`, a separate process, so
//! the ratio includes Node's start-up; `--exportES6` so ES-module glue parses too) as a peer. Files: the pinned npm glue fetched by
//! `scripts/fetch-real-glue.sh` into `target/real-glue`, or the files named on the command line.
//!
//! Not a timed test: it only prints. `BENCH_RUNS` sets the number of runs per measurement (11).

#![allow(clippy::print_stdout)] // A benchmark report is its output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use growsafe::{Lang, Options, check_source, fix_source};
use swc_common::{FileName, SourceMap, sync::Lrc};
use swc_ecma_ast::EsVersion;
use swc_ecma_parser::{EsSyntax, Syntax, parse_file_as_program};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn parse_only(text: &str) {
    let cm: Lrc<SourceMap> = Lrc::default();
    let fm = cm.new_source_file(Lrc::new(FileName::Anon), text.to_owned());
    let mut errors = Vec::new();
    let program = parse_file_as_program(
        &fm,
        Syntax::Es(EsSyntax::default()),
        EsVersion::latest(),
        None,
        &mut errors,
    )
    .expect("the benchmark files parse");
    drop(program);
}

fn growable_heap(path: &Path) -> Option<Duration> {
    let optimizer = Path::new("/usr/share/emscripten/tools/acorn-optimizer.js");
    if !optimizer.exists() {
        return None;
    }
    let run = || {
        let start = Instant::now();
        let status = Command::new("node")
            .arg(optimizer)
            .arg(path)
            .arg("growableHeap")
            .arg("--exportES6")
            .env("NODE_PATH", "/usr/share/nodejs")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| start.elapsed())
    };
    let runs: Option<Vec<Duration>> = (0..5).map(|_| run()).collect();
    runs.map(median)
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(11);
    let mut files: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if files.is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/real-glue");
        let status = Command::new("bash")
            .arg("scripts/fetch-real-glue.sh")
            .arg(&dir)
            .status()
            .expect("bash");
        assert!(status.success(), "scripts/fetch-real-glue.sh failed");
        files = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "js" || e == "mjs"))
            .filter(|p| p.metadata().is_ok_and(|m| m.len() > 100_000))
            .collect();
        files.sort();
    }
    println!(
        "runs per measurement: {runs} (median); times in ms; ratios against the bare swc parse"
    );
    println!(
        "{:<44} {:>7} {:>8} {:>8} {:>6} {:>8} {:>6} {:>8} {:>10}",
        "file", "MB", "parse", "check", "x", "fix", "x", "fix MB/s", "growableHeap x"
    );
    let options = Options::default();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let lang = Lang::from_path(&path);
        let mb = text.len() as f64 / 1e6;
        let parse = time(runs, || parse_only(&text));
        let check = time(runs, || drop(check_source(&text, lang, &options).unwrap()));
        let fix = time(runs, || drop(fix_source(&text, lang, &options).unwrap()));
        let peer = growable_heap(&path).map_or_else(
            || "-".to_owned(),
            |d| format!("{:.2}", d.as_secs_f64() / parse.as_secs_f64()),
        );
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<44} {:>7.2} {:>8.1} {:>8.1} {:>6.2} {:>8.1} {:>6.2} {:>8.1} {:>10}",
            path.file_name().unwrap().to_string_lossy(),
            mb,
            ms(parse),
            ms(check),
            check.as_secs_f64() / parse.as_secs_f64(),
            ms(fix),
            fix.as_secs_f64() / parse.as_secs_f64(),
            mb / fix.as_secs_f64(),
            peer,
        );
    }
}
