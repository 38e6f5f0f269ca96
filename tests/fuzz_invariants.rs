//! The fuzz target's invariants (`tests/support/invariants.rs`) without libFuzzer: over every
//! seed of the fuzz corpus (the JavaScript and TypeScript fixtures, the real-glue excerpts and
//! the example), and over deterministic mutations of them (truncations, deleted and duplicated
//! byte ranges and lines, splices of two seeds), so every `cargo test` checks that nothing
//! panics, that fixed text parses, and that fixing twice equals fixing once.
//!
//! `fuzz/` runs the same invariants under libFuzzer (see docs/fuzzing.md); a crash it finds
//! belongs in `fixtures/fuzz/`, which this test reads too.

#[path = "support/invariants.rs"]
mod invariants;

use std::path::{Path, PathBuf};

use growsafe::{Lang, Options};
use invariants::Outcome;
use rayon::prelude::*;

/// The seeds, as `fuzz/seed.sh` finds them, sorted.
fn seeds() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for dir in ["fixtures", "examples"] {
        collect(&root.join(dir), &mut paths);
    }
    paths.sort();
    assert!(paths.len() > 50, "too few seeds: {}", paths.len());
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            (rel, text)
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            collect(&path, out);
        } else if [".js", ".mjs", ".cjs", ".ts", ".js.txt"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}

/// The grammar a seed is read in (`.js.txt` excerpts are JavaScript).
fn lang(path: &Path) -> Lang {
    Lang::from_path(path)
}

/// Every seed in its own grammar and, when short, in the other one too (TypeScript reads most
/// JavaScript), in every heap style.
/// The crashes the fuzzer found are syntax errors, as in a release build.
#[test]
fn crashes_found_by_the_fuzzer_are_syntax_errors() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz/args-or-pats.js");
    let text = std::fs::read_to_string(path).unwrap();
    for lang in invariants::LANGS {
        let err = growsafe::check_source(&text, lang, &Options::default()).unwrap_err();
        assert!(
            matches!(err, growsafe::Error::Syntax { line: 5, .. }),
            "{lang:?}: {err}"
        );
        assert!(matches!(
            invariants::check(&text, lang),
            Ok(Outcome::Unparsable)
        ));
    }
}

#[test]
fn seeds_hold_the_invariants() {
    let seeds = seeds();
    let cases: Vec<(&Path, &str, Lang)> = seeds
        .iter()
        .flat_map(|(path, text)| {
            let own = lang(path);
            let all = text.len() <= WINDOW;
            invariants::LANGS
                .into_iter()
                .filter(move |&l| all || l == own)
                .map(move |l| (path.as_path(), text.as_str(), l))
        })
        .collect();
    let failures: Vec<String> = cases
        .par_iter()
        .filter_map(|&(path, text, lang)| {
            invariants::check(text, lang)
                .err()
                .map(|e| format!("{}: {e}", path.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} seeds violate the invariants:\n\n{}",
        failures.len(),
        seeds.len(),
        failures.join("\n\n")
    );
}

/// A small deterministic generator (xorshift64*), so every run tries the same mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next() % n as u64).unwrap()
        }
    }
}

/// The nearest char boundary at or before `i`.
fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A range of `text` of at most `max` bytes, on char boundaries.
fn range(text: &str, rng: &mut Rng, max: usize) -> (usize, usize) {
    let start = floor(text, rng.below(text.len()));
    let end = floor(text, start + 1 + rng.below(max));
    (start, end)
}

/// Line start offsets, plus the end of the text.
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    if starts.last() != Some(&text.len()) {
        starts.push(text.len());
    }
    starts
}

/// Deterministic mutations of `text` (with `other`, from the next seed, for splices), each named.
fn mutations(text: &str, other: &str, rng: &mut Rng) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let len = text.len();
    // Truncations: most no longer parse, which exercises the error paths.
    for k in 1..4 {
        let at = floor(text, len * k / 4);
        out.push((format!("truncated at {at}"), text[..at].to_owned()));
    }
    // Byte ranges deleted and duplicated: tokens and expressions cut or repeated.
    for _ in 0..4 {
        let (a, b) = range(text, rng, 48);
        out.push((
            format!("bytes {a}..{b} deleted"),
            format!("{}{}", &text[..a], &text[b..]),
        ));
    }
    for _ in 0..2 {
        let (a, b) = range(text, rng, 48);
        out.push((
            format!("bytes {a}..{b} duplicated"),
            format!("{}{}", &text[..b], &text[a..]),
        ));
    }
    // Whole lines deleted and duplicated, and a window of lines: mostly still parses, so the
    // passes and their fixes see glue in shapes the fixtures do not have.
    let lines = line_starts(text);
    let n = lines.len() - 1;
    if n > 1 {
        for _ in 0..6 {
            let i = rng.below(n);
            let j = (i + 1 + rng.below(3)).min(n);
            let (a, b) = (lines[i], lines[j]);
            out.push((
                format!("lines {}..{} deleted", i + 1, j + 1),
                format!("{}{}", &text[..a], &text[b..]),
            ));
        }
        for _ in 0..2 {
            let i = rng.below(n);
            let j = (i + 1 + rng.below(5)).min(n);
            let (a, b) = (lines[i], lines[j]);
            out.push((
                format!("lines {}..{} duplicated", i + 1, j + 1),
                format!("{}{}", &text[..b], &text[a..]),
            ));
        }
        let i = rng.below(n);
        let j = (i + 1 + rng.below(60)).min(n);
        out.push((
            format!("lines {}..{} only", i + 1, j + 1),
            text[lines[i]..lines[j]].to_owned(),
        ));
    }
    // Splices: the start of this seed, the end of the next.
    for _ in 0..2 {
        let a = floor(text, rng.below(len + 1));
        let b = floor(other, rng.below(other.len() + 1));
        out.push((
            format!("..{a} spliced to the next seed's {b}.."),
            format!("{}{}", &text[..a], &other[b..]),
        ));
    }
    out
}

/// Seeds longer than this are mutated through a window of whole lines of about this size, so the
/// test stays at a few seconds.
const WINDOW: usize = 12 * 1024;

/// The text mutated for a seed: the seed, or a window of its lines when it is long.
fn base<'a>(text: &'a str, rng: &mut Rng) -> &'a str {
    if text.len() <= WINDOW {
        return text;
    }
    let lines = line_starts(text);
    let first = rng.below(lines.len() - 1);
    let start = lines[first];
    let end = lines[first..]
        .iter()
        .copied()
        .take_while(|&end| end - start <= WINDOW)
        .last()
        .filter(|&end| end > start)
        .unwrap_or_else(|| floor(text, start + WINDOW));
    &text[start..end]
}

#[test]
fn mutated_seeds_hold_the_invariants() {
    let seeds = seeds();
    let results: Vec<(Vec<String>, [usize; 3])> = seeds
        .par_iter()
        .enumerate()
        .map(|(i, (path, text))| {
            let mut rng = Rng::new(i as u64 + 1);
            let text = base(text, &mut rng);
            let other = base(&seeds[(i + 1) % seeds.len()].1, &mut rng);
            let mut failures = Vec::new();
            let mut counts = [0; 3];
            for (k, (what, mutant)) in mutations(text, other, &mut rng).into_iter().enumerate() {
                // One heap style per mutant, in turn: `seeds_hold_the_invariants` tries all.
                let options = Options {
                    heap_style: invariants::STYLES[(i + k) % invariants::STYLES.len()],
                    ..Options::default()
                };
                match invariants::check_style(&mutant, lang(path), &options) {
                    Ok(outcome) => {
                        counts[match outcome {
                            Outcome::Unparsable => 0,
                            Outcome::Unchanged => 1,
                            Outcome::Fixed => 2,
                        }] += 1;
                    }
                    Err(e) => failures.push(format!(
                        "{} ({what}, {:?}): {e}",
                        path.display(),
                        options.heap_style
                    )),
                }
            }
            (failures, counts)
        })
        .collect();
    let mut counts = [0; 3];
    let mut failures = Vec::new();
    for (f, c) in results {
        failures.extend(f);
        for k in 0..3 {
            counts[k] += c[k];
        }
    }
    assert!(
        failures.is_empty(),
        "{} mutants violate the invariants:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The mutations are only worth their time if many still parse and many get fixed (about a
    // third parse, half of those are fixed).
    let [unparsable, unchanged, fixed] = counts;
    assert!(
        (unchanged + fixed) * 4 > unparsable && fixed > 150,
        "mutations too weak: {unparsable} unparsable, {unchanged} unchanged, {fixed} fixed"
    );
}
