//! growsafe makes Emscripten-generated JavaScript glue safe under WebAssembly memory growth.
//!
//! When wasm memory grows, Emscripten replaces its `HEAP8` … `HEAPF64` views; any copy of an old
//! view goes dead silently (reads give 0, writes are lost). The passes in [`passes`] find the
//! places where glue or library code keeps such a copy, and Asyncify's per-sleep `malloc`, which
//! can grow memory in the middle of a sleep.
//!
//! One analysis, two renderings: [`check_source`] returns the findings; [`fix_source`] applies
//! the fixes those same findings carry, as byte-range edits spliced into the original text,
//! re-parses, and repeats until nothing applies.
//!
//! ```
//! use growsafe::{fix_source, Lang, Options};
//!
//! let glue = "var HEAP8, HEAP16;\nvar memory = { HEAP8, HEAP16 };\n";
//! let fixed = fix_source(glue, Lang::JavaScript, &Options::default()).unwrap();
//! assert_eq!(
//!     fixed.text,
//!     "var HEAP8, HEAP16;\nvar memory = { get HEAP8() { return HEAP8; }, get HEAP16() { return HEAP16; } };\n"
//! );
//! ```

pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod fix;
pub mod passes;
pub mod report;
pub mod source;
pub mod style;
pub mod suppress;

use std::fmt;

pub use diagnostic::{Analysis, Finding, LineIndex, Remark, RemarkKind, TextRange};
pub use fix::{Applicability, Applied, Edit, Fix};
pub use passes::{HeapStyle, Options, PassId};
pub use source::Lang;

use passes::Context;
use source::{Parsed, SourceText, SyntaxError, parse, with_big_stack};

/// Why a file could not be analysed or fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input is not valid JavaScript/TypeScript.
    Syntax {
        /// The parser's message.
        message: String,
        /// 1-based line in the file.
        line: u32,
        /// 1-based UTF-16 column.
        column: u32,
    },
    /// A fix produced text that does not parse: a bug in growsafe. Nothing is written.
    FixBrokeSyntax {
        /// The passes whose fixes were applied in the failing round.
        passes: Vec<PassId>,
        /// The parser's message on the fixed text.
        message: String,
    },
    /// Fixing kept finding new fixes for [`fix::MAX_ROUNDS`] rounds: a bug in growsafe.
    FixDidNotConverge {
        /// The passes still offering fixes.
        passes: Vec<PassId>,
    },
    /// growsafe itself failed (a panic): a bug.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |passes: &[PassId]| {
            passes
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Error::Syntax {
                message,
                line,
                column,
            } => write!(f, "{line}:{column}: syntax error: {message}"),
            Error::FixBrokeSyntax { passes, message } => write!(
                f,
                "internal error: the fix of `{}` produced invalid JavaScript ({message}); nothing was written. \
                 This is a bug in growsafe: please report it with the input file",
                names(passes)
            ),
            Error::FixDidNotConverge { passes } => write!(
                f,
                "internal error: fixes of `{}` did not settle after {} rounds; nothing was written. \
                 This is a bug in growsafe: please report it with the input file",
                names(passes),
                fix::MAX_ROUNDS
            ),
            Error::Internal(message) => {
                write!(f, "internal error: {message}. This is a bug in growsafe")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Everything `check` learns about a file.
#[derive(Debug, Clone)]
pub struct CheckOutput {
    /// Findings and remarks; ranges are into the text after any BOM.
    pub analysis: Analysis,
    /// Line/column lookup for the same text.
    pub lines: LineIndex,
    /// Whether the file starts with a BOM (ranges are after it).
    pub bom: bool,
}

/// The result of fixing a file.
#[derive(Debug, Clone)]
pub struct FixOutput {
    /// The fixed file text (BOM kept if there was one). Equal to the input when nothing applied.
    pub text: String,
    /// Whether `text` differs from the input.
    pub changed: bool,
    /// Every fix applied, round by round.
    pub applied: Vec<Applied>,
    /// What the passes say about the fixed text: findings without a fix, and remarks.
    pub remaining: Analysis,
    /// Line lookup for the fixed text (for `remaining`).
    pub lines: LineIndex,
}

/// Analyses `text` with the selected passes.
///
/// # Errors
/// [`Error::Syntax`] if the text does not parse; [`Error::Internal`] on a growsafe bug.
pub fn check_source(text: &str, lang: Lang, options: &Options) -> Result<CheckOutput, Error> {
    let source = SourceText::new(text);
    let body = source.body;
    let analysis = with_big_stack(body.len(), || {
        let parsed = parse(body, lang).map_err(|e| syntax_error(body, &e))?;
        Ok(analyze(body, &parsed, options))
    })
    .map_err(Error::Internal)??;
    Ok(CheckOutput {
        analysis,
        lines: LineIndex::new(body),
        bom: source.bom,
    })
}

/// Applies every fix the selected passes offer, until the text is stable.
///
/// Each round parses, analyses, and splices the non-overlapping fixes into the text; the result
/// must parse again or nothing is returned. Running it on its own output changes nothing.
///
/// # Errors
/// [`Error::Syntax`] if the input does not parse; the other variants are growsafe bugs.
pub fn fix_source(text: &str, lang: Lang, options: &Options) -> Result<FixOutput, Error> {
    let source = SourceText::new(text);
    let body = source.body;
    let (fixed, applied, remaining) =
        with_big_stack(body.len(), || fix_body(body, lang, options)).map_err(Error::Internal)??;
    let lines = LineIndex::new(&fixed);
    let changed = fixed != body;
    let text = if changed {
        source.reassemble(&fixed)
    } else {
        text.to_owned()
    };
    Ok(FixOutput {
        text,
        changed,
        applied,
        remaining,
        lines,
    })
}

fn fix_body(
    body: &str,
    lang: Lang,
    options: &Options,
) -> Result<(String, Vec<Applied>, Analysis), Error> {
    let threshold = Applicability::Safe;
    let mut current = body.to_owned();
    let mut parsed = parse(&current, lang).map_err(|e| syntax_error(&current, &e))?;
    let mut applied = Vec::new();
    for _ in 0..fix::MAX_ROUNDS {
        let analysis = analyze(&current, &parsed, options);
        let (next, taken) = fix::apply_fixes(&current, &analysis.findings, threshold);
        if taken.is_empty() {
            return Ok((current, applied, analysis));
        }
        let passes = distinct_passes(taken.iter().map(|f| f.pass));
        let lines = LineIndex::new(&current);
        applied.extend(taken.iter().map(|f| {
            Applied {
                pass: f.pass,
                range: f.range,
                line: lines.line_col(&current, f.range.start).0,
                title: f
                    .fix
                    .as_ref()
                    .map(|fix| fix.title.clone())
                    .unwrap_or_default(),
            }
        }));
        parsed = parse(&next, lang).map_err(|e| {
            let (line, column) = LineIndex::new(&next).line_col(&next, e.range.start);
            Error::FixBrokeSyntax {
                passes,
                message: format!("{} at {line}:{column}", e.message),
            }
        })?;
        current = next;
    }
    let analysis = analyze(&current, &parsed, options);
    let passes = distinct_passes(
        analysis
            .findings
            .iter()
            .filter(|f| f.fix.is_some())
            .map(|f| f.pass),
    );
    Err(Error::FixDidNotConverge { passes })
}

fn distinct_passes(passes: impl Iterator<Item = PassId>) -> Vec<PassId> {
    let mut v: Vec<PassId> = passes.collect();
    v.sort();
    v.dedup();
    v
}

fn analyze(text: &str, parsed: &Parsed, options: &Options) -> Analysis {
    let cx = Context::new(text, parsed, options);
    let mut analysis = Analysis::default();
    for pass in options.passes() {
        pass.analyze(&cx, &mut analysis);
    }
    analysis.findings.sort_by_key(|f| (f.range.start, f.pass));
    analysis
        .remarks
        .sort_by_key(|r| (r.range.map(|r| r.start), r.pass));
    analysis
}

fn syntax_error(body: &str, e: &SyntaxError) -> Error {
    let (line, column) = LineIndex::new(body).line_col(body, e.range.start);
    Error::Syntax {
        message: e.message.clone(),
        line,
        column,
    }
}
