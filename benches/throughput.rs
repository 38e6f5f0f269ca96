//! `just bench`: growsafe's cost against a parse-only baseline on large real glue.
//!
//! For each file: the median time of a bare swc parse (`parse_file_as_program`, no resolver)
//! with the freeing of its AST, of that parse alone (`parse*`: the AST freed outside the
//! timing), of `growsafe::check_source` and of `growsafe::fix_source` (all passes; growsafe
//! frees its ASTs on a background thread), run interleaved (one run of each, and again) so that
//! a change of load hits all four alike; the ratios of check and fix to both parses (`x`, `x*`:
//! the medians of the per-run ratios), and MB/s; and, when Debian's emscripten is
//! installed, Emscripten's own `growableHeap` JS optimizer pass (`node tools/acorn-optimizer.js
//! FILE growableHeap`, a separate process, so the ratio includes Node's start-up;
//! `--exportES6` so ES-module glue parses too) as a peer.
//!
//! Files: those named on the command line, or else the pinned npm glue over 100 KB that
//! `scripts/fetch-real-glue.sh` fetches into `target/real-glue` (the tests' set) and into
//! `target/bench-glue` (`REAL_GLUE_SET=bench`: pyodide, asm.js builds, bundles, 1.2–5.9 MB), and
//! the two `-sMAIN_MODULE=1` builds of Debian's emcc 3.1.6 that `scripts/build-bench-glue.sh`
//! adds there when emcc is installed (2.7 and 2.9 MB, which the peer can read).
//!
//! Also per file: the peak memory (`/usr/bin/time` maxrss) of `growsafe check` and `growsafe fix`;
//! then `growsafe check`/`fix` over all pinned glue and fixtures with `RAYON_NUM_THREADS=1`
//! against `2` (the parallel speed-up) and that check's peak memory.
//!
//! Not a timed test: it only prints. `BENCH_RUNS` sets the number of runs per measurement (11);
//! `BENCH_NO_CLI=1` skips the many-files part.

#![allow(clippy::print_stdout)] // A benchmark report is its output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use growsafe::{Lang, Options, check_source, fix_source};
use swc_common::{FileName, SourceMap, sync::Lrc};
use swc_ecma_ast::{EsVersion, Program};
use swc_ecma_parser::{EsSyntax, Syntax, parse_file_as_program};

/// The allocator of the `growsafe` binary, so that parse, check and fix are timed as it runs them.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time_one(f: &mut dyn FnMut()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// Runs each of `fs` `runs` times, interleaved (one run of each, then again), so that a change
/// of load on the machine hits all of them alike. Each returns the time it took (some time
/// only part of their work). Returns each one's times, run by run.
fn interleaved<const N: usize>(
    runs: usize,
    mut fs: [&mut dyn FnMut() -> Duration; N],
) -> [Vec<Duration>; N] {
    for f in &mut fs {
        f(); // warm up
    }
    let mut times: [Vec<Duration>; N] = std::array::from_fn(|_| Vec::new());
    for _ in 0..runs {
        for (f, t) in fs.iter_mut().zip(&mut times) {
            t.push(f());
        }
    }
    times
}

/// The median of the per-run ratios of `times` to `base`.
fn ratio(times: &[Duration], base: &[Duration]) -> f64 {
    let mut r: Vec<f64> = times
        .iter()
        .zip(base)
        .map(|(t, b)| t.as_secs_f64() / b.as_secs_f64())
        .collect();
    r.sort_by(f64::total_cmp);
    r[r.len() / 2]
}

fn parse_only(text: &str) -> Program {
    let cm: Lrc<SourceMap> = Lrc::default();
    let fm = cm.new_source_file(Lrc::new(FileName::Anon), text.to_owned());
    let mut errors = Vec::new();
    parse_file_as_program(
        &fm,
        Syntax::Es(EsSyntax::default()),
        EsVersion::latest(),
        None,
        &mut errors,
    )
    .expect("the benchmark files parse")
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

/// Peak resident memory of `growsafe ARGS` in KiB, through `/usr/bin/time -f %M`.
fn peak_kib(args: &[&std::ffi::OsStr]) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let out = Command::new(time)
        .arg("-f")
        .arg("%M")
        .arg(env!("CARGO_BIN_EXE_growsafe"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

/// Peak memory of `growsafe check FILE` and `growsafe fix` on a copy, in MB.
fn peak_mb(path: &Path) -> Option<(f64, f64)> {
    let check = peak_kib(&[
        "check".as_ref(),
        "--format".as_ref(),
        "concise".as_ref(),
        path.as_os_str(),
    ])?;
    let dir = tempfile::tempdir().ok()?;
    let copy = dir.path().join(path.file_name()?);
    std::fs::copy(path, &copy).ok()?;
    let fix = peak_kib(&["fix".as_ref(), "--quiet".as_ref(), copy.as_os_str()])?;
    Some((check as f64 * 1024.0 / 1e6, fix as f64 * 1024.0 / 1e6))
}

/// Wall time of one `growsafe ARGS FILES` with `threads` rayon threads, output discarded.
fn time_cli(args: &[&str], files: &[PathBuf], threads: usize) -> Duration {
    let start = Instant::now();
    Command::new(env!("CARGO_BIN_EXE_growsafe"))
        .args(args)
        .args(files)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("growsafe runs");
    start.elapsed()
}

/// Wall time of one `growsafe check` over `files` with `threads` rayon threads (median of 5).
fn cli_check(files: &[PathBuf], threads: usize) -> Duration {
    let run = || time_cli(&["check", "--format", "concise"], files, threads);
    run();
    median((0..5).map(|_| run()).collect())
}

/// Wall time of `growsafe fix` over copies of `files` with `threads` rayon threads (median of 5).
fn cli_fix(files: &[PathBuf], threads: usize) -> Duration {
    let run = || {
        let dir = tempfile::tempdir().expect("temp dir");
        let copies: Vec<PathBuf> = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let copy = dir
                    .path()
                    .join(format!("{i}-{}", f.file_name().unwrap().to_string_lossy()));
                std::fs::copy(f, &copy).expect("copy");
                copy
            })
            .collect();
        time_cli(&["fix", "--quiet"], &copies, threads)
    };
    run();
    median((0..5).map(|_| run()).collect())
}

/// Every JavaScript file under `dir`, recursively.
fn js_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            js_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "js" || e == "mjs" || e == "cjs")
        {
            out.push(path);
        }
    }
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
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let tests = root.join("target/real-glue");
        let bench = root.join("target/bench-glue");
        for (script, dir, set) in [
            ("scripts/fetch-real-glue.sh", &tests, "tests"),
            ("scripts/fetch-real-glue.sh", &bench, "bench"),
            ("scripts/build-bench-glue.sh", &bench, "bench"),
        ] {
            let status = Command::new("bash")
                .arg(script)
                .arg(dir)
                .env("REAL_GLUE_SET", set)
                .status()
                .expect("bash");
            assert!(status.success(), "{script} failed");
        }
        for dir in [&tests, &bench] {
            let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "js" || e == "mjs"))
                .filter(|p| p.metadata().is_ok_and(|m| m.len() > 100_000))
                .collect();
            found.sort();
            files.extend(found);
        }
    }
    println!(
        "runs per measurement: {runs}, interleaved; times in ms (medians); ratios against the bare \
         swc parse (medians of the per-run ratios)"
    );
    println!(
        "parse: a bare swc parse and the freeing of its AST (what a parse-only run pays); parse*: \
         the parse alone (its AST freed outside the timing); x, x*: ratios to each"
    );
    println!(
        "{:<44} {:>5} {:>7} {:>7} {:>7} {:>5} {:>5} {:>7} {:>5} {:>5} {:>8} {:>10} {:>16}",
        "file",
        "MB",
        "parse",
        "parse*",
        "check",
        "x",
        "x*",
        "fix",
        "x",
        "x*",
        "fix MB/s",
        "growableHeap x",
        "peak MB chk/fix"
    );
    let options = Options::default();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let lang = Lang::from_path(&path);
        let mb = text.len() as f64 / 1e6;
        // The parse alone: its AST is freed before the next run, outside the timing.
        let mut kept = None;
        let [parse, alone, check, fix] = interleaved(
            runs,
            [
                &mut || time_one(&mut || drop(parse_only(&text))),
                &mut || {
                    drop(kept.take());
                    let start = Instant::now();
                    kept = Some(parse_only(&text));
                    start.elapsed()
                },
                &mut || time_one(&mut || drop(check_source(&text, lang, &options).unwrap())),
                &mut || time_one(&mut || drop(fix_source(&text, lang, &options).unwrap())),
            ],
        );
        drop(kept);
        let [check_x, fix_x] = [&check, &fix].map(|t| ratio(t, &parse));
        let [check_alone, fix_alone] = [&check, &fix].map(|t| ratio(t, &alone));
        let [parse, alone, check, fix] = [parse, alone, check, fix].map(median);
        let peer = growable_heap(&path).map_or_else(
            || "-".to_owned(),
            |d| format!("{:.2}", d.as_secs_f64() / parse.as_secs_f64()),
        );
        let peak = peak_mb(&path).map_or_else(
            || "-".to_owned(),
            |(check, fix)| format!("{check:.0}/{fix:.0}"),
        );
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<44} {:>5.2} {:>7.1} {:>7.1} {:>7.1} {:>5.2} {:>5.2} {:>7.1} {:>5.2} {:>5.2} {:>8.1} {:>10} {:>16}",
            path.file_name().unwrap().to_string_lossy(),
            mb,
            ms(parse),
            ms(alone),
            ms(check),
            check_x,
            check_alone,
            ms(fix),
            fix_x,
            fix_alone,
            mb / fix.as_secs_f64(),
            peer,
            peak,
        );
    }
    if std::env::var_os("BENCH_NO_CLI").is_some() {
        return;
    }
    // The CLI over many files: the pinned glue and every fixture, one thread against two.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut many = Vec::new();
    js_files(&root.join("target/real-glue"), &mut many);
    js_files(&root.join("fixtures"), &mut many);
    many.sort();
    let mb = many
        .iter()
        .map(|f| f.metadata().map_or(0, |m| m.len()))
        .sum::<u64>() as f64
        / 1e6;
    println!(
        "\n`growsafe check` / `growsafe fix` on {} files ({mb:.1} MB), wall time, median of 5:",
        many.len()
    );
    let peak = peak_kib(
        &[
            ["check".as_ref(), "--format".as_ref(), "concise".as_ref()].as_slice(),
            many.iter()
                .map(|f| f.as_os_str())
                .collect::<Vec<_>>()
                .as_slice(),
        ]
        .concat(),
    )
    .map_or_else(
        || "-".to_owned(),
        |k| format!("{:.0}", k as f64 * 1024.0 / 1e6),
    );
    for (name, cli) in [
        ("check", cli_check as fn(&[PathBuf], usize) -> Duration),
        ("fix", cli_fix),
    ] {
        let one = cli(&many, 1);
        let two = cli(&many, 2);
        println!(
            "  {name}: 1 thread {:.0} ms, 2 threads {:.0} ms, speed-up {:.2}x",
            one.as_secs_f64() * 1e3,
            two.as_secs_f64() * 1e3,
            one.as_secs_f64() / two.as_secs_f64()
        );
    }
    println!("  peak memory of the check over all files (default threads): {peak} MB");
}
