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
//! Emscripten JS library sources (`--js-library` files, with `#if` lines and `{{{ }}}` macros)
//! are read through same-length [`preprocess`] variants, so every position is a position in the
//! real source; see [`LibraryReport`].
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
pub mod inputs;
pub mod passes;
mod patch;
pub mod preprocess;
pub mod report;
pub mod scope;
pub mod source;
pub mod style;
pub mod suppress;
mod traces;

use std::borrow::Cow;
use std::fmt;

pub use diagnostic::{Analysis, Finding, LineIndex, Remark, RemarkKind, TextRange};
pub use fix::{Applicability, Applied, Edit, Fix};
pub use passes::{HeapStyle, Options, PassId};
pub use preprocess::Variant;
pub use source::Lang;

use passes::Context;
use passes::marks::{self, MarkCache};
use passes::views::Views;
use preprocess::{Library, Reading};
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
    /// How the file was read, when it is an Emscripten JS library.
    pub library: Option<LibraryReport>,
}

/// How growsafe read an Emscripten JS library file: its `#if` lines and `{{{ }}}` macros were
/// replaced by same-length placeholders (see [`preprocess`]), and its branches analysed together
/// or, when they only parse separately, one [`Variant`] at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryReport {
    /// How many preprocessor lines were replaced.
    pub directives: usize,
    /// How many `{{{ }}}` macros were replaced.
    pub macros: usize,
    /// The variants the findings come from: just [`Variant::AllBranches`] when all branches
    /// parse together. Findings found in several are reported once.
    pub checked: Vec<Variant>,
    /// The variants that were tried and do not parse.
    pub failed: Vec<VariantError>,
    /// Branches that no checked variant contains: their code was not analysed.
    pub unchecked: Vec<UncheckedLines>,
}

impl LibraryReport {
    /// Whether the branches were analysed one variant at a time (so nothing can be fixed).
    #[must_use]
    pub fn split(&self) -> bool {
        self.checked != [Variant::AllBranches]
    }
}

/// A variant of a library file that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantError {
    /// Which variant.
    pub variant: Variant,
    /// The parser's message.
    pub message: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based UTF-16 column.
    pub column: u32,
}

/// A branch of an `#if` chain whose code no checked variant contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UncheckedLines {
    /// The line of the directive that opens the branch (`#if`, `#elif`, `#else`).
    pub directive_line: u32,
    /// The branch's first line.
    pub first_line: u32,
    /// The branch's last line.
    pub last_line: u32,
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
    /// How the fixed text was read, when it is an Emscripten JS library.
    pub library: Option<LibraryReport>,
}

/// Analyses `text` with the selected passes.
///
/// A JavaScript file with Emscripten preprocessor lines or `{{{ }}}` macros is analysed through
/// [`preprocess`] variants; a fix that would edit or copy a placeholder is dropped from its
/// finding (which says why), as are all fixes when the branches only parse separately.
///
/// # Errors
/// [`Error::Syntax`] if the text does not parse (in any variant, for a library file);
/// [`Error::Internal`] on a growsafe bug.
pub fn check_source(text: &str, lang: Lang, options: &Options) -> Result<CheckOutput, Error> {
    let source = SourceText::new(text);
    let body = source.body;
    let (round, lines) = with_big_stack(body.len(), || {
        source::beside(
            body.len(),
            || analyze_file(body, lang, options, Schedule::All),
            || LineIndex::new(body),
        )
    })
    .map_err(Error::Internal)?;
    let round = round?;
    Ok(CheckOutput {
        analysis: round.analysis,
        lines,
        bom: source.bom,
        library: round.library,
    })
}

/// Applies every fix the selected passes offer, until the text is stable.
///
/// Each round parses, analyses, and splices the non-overlapping fixes into the text; the result
/// must parse again or nothing is returned. Running it on its own output changes nothing.
///
/// An Emscripten JS library file is fixed only when all its `#if` branches parse together
/// ([`Variant::AllBranches`]): fixes are spliced into the original text and never edit or copy
/// a preprocessor line or macro; the fixed text must still parse in every variant the input
/// parsed in. When the branches only parse separately, nothing is fixed and the findings say so.
///
/// # Errors
/// [`Error::Syntax`] if the input does not parse; the other variants are growsafe bugs.
pub fn fix_source(text: &str, lang: Lang, options: &Options) -> Result<FixOutput, Error> {
    let source = SourceText::new(text);
    let body = source.body;
    let (fixed, applied, last, lines) =
        with_big_stack(body.len(), || fix_body(body, lang, options)).map_err(Error::Internal)??;
    // Unchanged unless a fix applied (and even then, fixes could in principle cancel out).
    let changed = matches!(&fixed, Cow::Owned(fixed) if fixed != body);
    let text = if changed {
        source.reassemble(&fixed)
    } else {
        text.to_owned()
    };
    Ok(FixOutput {
        text,
        changed,
        applied,
        remaining: last.analysis,
        lines,
        library: last.library,
    })
}

fn fix_body<'a>(body: &'a str, lang: Lang, options: &Options) -> Result<Fixed<'a>, Error> {
    fix_body_with(body, lang, options, true)
}

/// What [`fix_body`] hands back: the fixed text (borrowed when no fix applied), the fixes
/// applied, the last round's analysis, and the fixed text's line index.
type Fixed<'a> = (Cow<'a, str>, Vec<Applied>, Round, LineIndex);

/// [`fix_body`], optionally parsing every round in full instead of patching (for tests).
fn fix_body_with<'a>(
    body: &'a str,
    lang: Lang,
    options: &Options,
    patching: bool,
) -> Result<Fixed<'a>, Error> {
    let threshold = fix::THRESHOLD;
    let mut current = Cow::Borrowed(body);
    // The input's line index is built beside its parse, as for `check`: the caller needs it
    // when nothing applies.
    let (first, lines) = source::beside(
        current.len(),
        || analyze_file_keeping(&current, lang, options, patching, Schedule::FixesFirst),
        || LineIndex::new(&current),
    );
    let (mut round, mut parsed) = first?;
    let mut applied = Vec::new();
    // The line index of `current`.
    let mut lines_of_current = lines;
    // For a library file: the readings the input parses in, which the fixed text must parse in
    // too (computed when the first fix is about to be applied).
    let mut must_parse: Option<Vec<Variant>> = None;
    for _ in 0..fix::MAX_ROUNDS {
        let Some((next, taken, spliced)) =
            fix::apply_fixes_spliced(&current, &round.analysis.findings, threshold)
        else {
            if let Some((parsed, _, _)) = parsed {
                source::drop_later(current.len(), parsed);
            }
            return Ok((current, applied, round, lines_of_current));
        };
        let passes = distinct_passes(taken.iter().map(|f| f.pass));
        applied.extend(taken.iter().map(|f| {
            Applied {
                pass: f.pass,
                range: f.range,
                line: lines_of_current.line(f.range.start),
                title: f
                    .fix
                    .as_ref()
                    .map(|fix| fix.title.clone())
                    .unwrap_or_default(),
            }
        }));
        let broke = |message: String| Error::FixBrokeSyntax {
            passes: passes.clone(),
            message,
        };
        if round.library.is_some() {
            let before = must_parse.get_or_insert_with(|| parsing_variants(&current, lang));
            let after = parsing_variants(&next, lang);
            if let Some(lost) = before.iter().find(|v| !after.contains(v)) {
                return Err(broke(format!(
                    "the fixed Emscripten JS library no longer parses with {}",
                    match lost {
                        Variant::AllBranches => lost.describe(),
                        Variant::FirstBranches => "the first branch of every `#if`",
                        Variant::LastBranches => "the last branch of every `#if`",
                    }
                )));
            }
        }
        // The next round: the previous AST with the edited nodes re-parsed, when that works
        // (see `patch`), and this round's text searches carried over the edits; else the fixed
        // text parsed and searched again.
        let patched = parsed.take().and_then(|(previous, views, searched)| {
            let start = previous.start_pos;
            let patched = patch::patch(previous, &next, &spliced, lang)?;
            // The heap views stay those of the previous round when no edited node held or
            // holds a word their search looks for (and no function was renamed): the walk
            // that builds them then meets the same nodes, and no edit inside a node can change
            // what a name outside it refers to.
            let views = views.filter(|_| {
                !patched.patches.renames()
                    && patched.patches.edited(start).all(|(old, new)| {
                        !marks::may_touch(marks::Kind::Views, current.as_bytes(), old)
                            && !marks::may_touch(marks::Kind::Views, next.as_bytes(), new)
                    })
            });
            let marks = searched.spliced(&current, &next, &spliced);
            Some((patched, views.map(Views::carried), marks))
        });
        // The fixed text's line index, from this one (the caller needs it when the next round
        // is the last, as it usually is).
        lines_of_current = lines_of_current.spliced(&next, &spliced);
        let analysed = match patched {
            Some((patched, views, marks)) => {
                let round = analyze_patched(&next, &patched, options, marks, views);
                source::drop_later(next.len(), patched);
                Ok(round)
            }
            None => analyze_file(&next, lang, options, Schedule::All),
        };
        round = analysed.map_err(|e| match e {
            Error::Syntax {
                message,
                line,
                column,
            } => broke(format!("{message} at {line}:{column}")),
            other => other,
        })?;
        if round.library.as_ref().is_some_and(LibraryReport::split) {
            return Err(broke(
                "the `#if` branches of the fixed Emscripten JS library no longer parse together"
                    .to_owned(),
            ));
        }
        current = Cow::Owned(next);
    }
    let passes = distinct_passes(
        round
            .analysis
            .findings
            .iter()
            .filter(|f| f.fix.is_some())
            .map(|f| f.pass),
    );
    Err(Error::FixDidNotConverge { passes })
}

/// What the passes said about one version of a file, and how a library file was read.
#[derive(Debug)]
struct Round {
    analysis: Analysis,
    library: Option<LibraryReport>,
}

/// How often a reading of a library file is adjusted after a syntax error before growsafe
/// gives up on it (each adjustment flips a macro or collapses a chain, so real files need a
/// handful).
const MAX_ADJUSTMENTS: usize = 200;

/// A reading of a library file that parses, with its text and AST.
struct Read {
    reading: Reading,
    text: String,
    parsed: Parsed,
}

/// Parses a library through `reading`, adjusting it at each syntax error until it parses; the
/// last error when it never does.
fn read_library(library: &Library, mut reading: Reading, lang: Lang) -> Result<Read, SyntaxError> {
    let mut last = None;
    for _ in 0..MAX_ADJUSTMENTS {
        let text = library.text(&reading);
        match parse(&text, lang) {
            Ok(parsed) => {
                return Ok(Read {
                    reading,
                    text,
                    parsed,
                });
            }
            Err(e) => {
                let adjusted = library.adjust(&mut reading, e.range.start);
                last = Some(e);
                if !adjusted {
                    break;
                }
            }
        }
    }
    Err(last.expect("at least one parse"))
}

/// Parses `variant` of a library, collapsing only the chains that need it.
fn read_variant(library: &Library, variant: Variant, lang: Lang) -> Result<Read, SyntaxError> {
    read_library(library, library.reading(variant), lang)
}

/// Reads and analyses one version of a file, then applies its `growsafe-ignore` comments.
fn analyze_file(
    body: &str,
    lang: Lang,
    options: &Options,
    schedule: Schedule,
) -> Result<Round, Error> {
    analyze_file_keeping(body, lang, options, false, schedule).map(|(round, _)| round)
}

/// [`analyze_file`], also handing back the AST when asked to (for a plain JavaScript or
/// TypeScript file that was parsed: the next round of a fix patches it, see [`patch`]).
fn analyze_file_keeping(
    body: &str,
    lang: Lang,
    options: &Options,
    keep: bool,
    schedule: Schedule,
) -> Result<(Round, Option<Carried>), Error> {
    let (mut round, parsed) = read_and_analyze_with(body, lang, options, true, keep, schedule)?;
    suppressions(body, &mut round.analysis, options);
    Ok((round, parsed))
}

/// What a round of `fix` hands to the next: the AST, the heap views if built, and the text
/// searches.
type Carried = (Parsed, Option<Views>, MarkCache);

/// Analyses a patched AST of `body` (the next round of a fix), with the text searches done and
/// the heap views when they are known.
fn analyze_patched(
    body: &str,
    parsed: &Parsed,
    options: &Options,
    marks: MarkCache,
    views: Option<Views>,
) -> Round {
    let mut round = Round {
        analysis: analyze_with(body, parsed, options, marks, views, Schedule::All).0,
        library: None,
    };
    suppressions(body, &mut round.analysis, options);
    round
}

/// Applies the `growsafe-ignore` comments of `body` to `analysis`.
fn suppressions(body: &str, analysis: &mut Analysis, options: &Options) {
    let active = options.passes();
    let problems = suppress::apply(body, analysis, &active);
    if active.contains(&PassId::UnusedSuppression) && !problems.is_empty() {
        analysis.findings.extend(problems.into_iter().map(|p| {
            Finding::unfixable(
                PassId::UnusedSuppression,
                p.range,
                p.message,
                "remove the comment, or name the rule it is meant for",
            )
        }));
        analysis.findings.sort_by_key(|f| (f.range.start, f.pass));
    }
}

/// Parses `body` (through preprocessor readings when it is an Emscripten JS library) and runs
/// the passes (a library's readings with [`Schedule::All`] whatever `schedule` says); optionally
/// without the fast path for trace-free files (for tests), and keeping the AST of a plain file.
fn read_and_analyze_with(
    body: &str,
    lang: Lang,
    options: &Options,
    fast_path: bool,
    keep: bool,
    schedule: Schedule,
) -> Result<(Round, Option<Carried>), Error> {
    let Some(library) = scan_library(body, lang)? else {
        if fast_path && !traces::has_traces(body, lang) {
            // No pass can report anything and nothing will be written: the file is answered
            // from its text, unparsed. Binary data (a NUL) is still parsed, to be reported.
            if traces::is_binary(body) {
                source::validate(body, lang).map_err(|e| syntax_error(body, &e))?;
            }
            let round = Round {
                analysis: Analysis::default(),
                library: None,
            };
            return Ok((round, None));
        }
        // The text searches of the passes run beside the parse.
        let marks = MarkCache::default();
        let (parsed, ()) = source::beside(body.len(), || parse(body, lang), || marks.prefill(body));
        let parsed = parsed.map_err(|e| syntax_error(body, &e))?;
        let (analysis, views, marks) = analyze_with(body, &parsed, options, marks, None, schedule);
        let round = Round {
            analysis,
            library: None,
        };
        if keep {
            return Ok((round, Some((parsed, views, marks))));
        }
        source::drop_later(body.len(), parsed);
        return Ok((round, None));
    };
    let lines = LineIndex::new(body);
    let located = |variant: Variant, e: &SyntaxError| {
        let (line, column) = lines.line_col(body, e.range.start);
        VariantError {
            variant,
            message: e.message.clone(),
            line,
            column,
        }
    };
    let mut report = LibraryReport {
        directives: library.directive_count(),
        macros: library.macro_count(),
        checked: Vec::new(),
        failed: Vec::new(),
        unchecked: Vec::new(),
    };

    let error = match read_variant(&library, Variant::AllBranches, lang) {
        Ok(read) => {
            let mut analysis = analyze(&read.text, &read.parsed, options);
            guard_fixes(&mut analysis, &library);
            report.checked.push(Variant::AllBranches);
            let round = Round {
                analysis,
                library: Some(report),
            };
            return Ok((round, None));
        }
        Err(e) => e,
    };
    if !library.has_conditionals() {
        let mut err = syntax_error(body, &error);
        if let (Error::Syntax { message, .. }, Some(what)) =
            (&mut err, library.what_touches(error.range))
        {
            message.push_str(&format!(
                " (at {what}, which growsafe replaces by a same-length placeholder before parsing)"
            ));
        }
        return Err(err);
    }
    report.failed.push(located(Variant::AllBranches, &error));

    let mut analysis = Analysis::default();
    let mut readings = Vec::new();
    for variant in [Variant::FirstBranches, Variant::LastBranches] {
        match read_variant(&library, variant, lang) {
            Ok(read) => {
                let found = analyze(&read.text, &read.parsed, options);
                analysis.findings.extend(found.findings);
                analysis.remarks.extend(found.remarks);
                report.checked.push(variant);
                readings.push(read.reading);
            }
            Err(e) => report.failed.push(located(variant, &e)),
        }
    }
    if report.checked.is_empty() {
        return Err(no_variant_parses(&report.failed));
    }
    // The same finding from several readings is reported once.
    analysis
        .findings
        .sort_by_key(|f| (f.range.start, f.pass, f.range.end));
    analysis.findings.dedup_by_key(|f| (f.range, f.pass));
    let mut seen = Vec::new();
    analysis.remarks.retain(|r| {
        let key = (r.pass, r.kind, r.range, r.message.clone());
        let new = !seen.contains(&key);
        if new {
            seen.push(key);
        }
        new
    });
    analysis
        .remarks
        .sort_by_key(|r| (r.range.map(|r| r.start), r.pass));
    for finding in &mut analysis.findings {
        if finding.fix.take().is_some() {
            finding.no_fix_reason = Some(
                "this library's `#if` branches parse only separately, and growsafe fixes a library only when they parse together"
                    .to_owned(),
            );
        }
    }
    report.unchecked = library
        .unchecked(&readings)
        .into_iter()
        .map(|u| {
            let line = |offset: u32| lines.line_col(body, offset).0;
            UncheckedLines {
                directive_line: line(u.opener.start),
                first_line: line(u.body.start),
                last_line: line(u.body.end.saturating_sub(1).max(u.body.start)),
            }
        })
        .collect();
    let round = Round {
        analysis,
        library: Some(report),
    };
    Ok((round, None))
}

/// The Emscripten JS library structure of a JavaScript file, if it has any.
fn scan_library(body: &str, lang: Lang) -> Result<Option<Library>, Error> {
    match lang {
        Lang::JavaScript => preprocess::scan(body).map_err(|e| {
            let (line, column) = LineIndex::new(body).line_col(body, e.range.start);
            Error::Syntax {
                message: format!("{} (Emscripten preprocessor)", e.message),
                line,
                column,
            }
        }),
        Lang::TypeScript | Lang::Tsx => Ok(None),
    }
}

/// Drops the fixes that would edit a preprocessor line or macro, or copy one's placeholder into
/// the file; their findings keep the reason.
fn guard_fixes(analysis: &mut Analysis, library: &Library) {
    for finding in &mut analysis.findings {
        let Some(fix) = &finding.fix else {
            continue;
        };
        let touched = fix.edits.iter().find_map(|e| library.what_touches(e.range));
        let reason = if let Some(what) = touched {
            format!("the fix would edit {what} of this Emscripten JS library")
        } else if fix
            .edits
            .iter()
            .any(|e| preprocess::copies_placeholder(&e.replacement))
        {
            "the fix would copy code containing a `{{{ }}}` macro or preprocessor line".to_owned()
        } else {
            continue;
        };
        finding.fix = None;
        finding.no_fix_reason = Some(reason);
    }
}

/// Which ways of reading a library file parse (empty for a file that is not a library): all
/// branches together, and the two configurations where every chain keeps its first (every
/// condition true) or its last branch. A fix must not lose any of them.
fn parsing_variants(body: &str, lang: Lang) -> Vec<Variant> {
    let Ok(Some(library)) = scan_library(body, lang) else {
        return Vec::new();
    };
    library
        .variants()
        .into_iter()
        .filter(|&v| read_library(&library, library.collapsed(v), lang).is_ok())
        .collect()
}

/// The syntax error of a library file none of whose variants parses: located where the first
/// branches fail, naming the others.
fn no_variant_parses(failed: &[VariantError]) -> Error {
    let first = failed
        .iter()
        .find(|f| f.variant == Variant::FirstBranches)
        .unwrap_or(&failed[0]);
    let same_place = failed
        .iter()
        .all(|f| (f.line, f.column) == (first.line, first.column));
    let message = if same_place {
        format!(
            "{} (Emscripten JS library: the same error with every combination of `#if` branches growsafe tries)",
            first.message
        )
    } else {
        let others: Vec<String> = failed
            .iter()
            .filter(|f| f.variant != first.variant)
            .map(|f| {
                format!(
                    "with {} at {}:{}: {}",
                    f.variant.describe(),
                    f.line,
                    f.column,
                    f.message
                )
            })
            .collect();
        format!(
            "{}, with {} (Emscripten JS library whose preprocessor branches parse in none of the ways growsafe tries; {})",
            first.message,
            first.variant.describe(),
            others.join("; ")
        )
    };
    Error::Syntax {
        message,
        line: first.line,
        column: first.column,
    }
}

fn distinct_passes(passes: impl Iterator<Item = PassId>) -> Vec<PassId> {
    let mut v: Vec<PassId> = passes.collect();
    v.sort();
    v.dedup();
    v
}

fn analyze(text: &str, parsed: &Parsed, options: &Options) -> Analysis {
    analyze_with(
        text,
        parsed,
        options,
        MarkCache::default(),
        None,
        Schedule::All,
    )
    .0
}

/// Which passes an analysis runs, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schedule {
    /// Every pass, all at once.
    All,
    /// For a round of `fix` that is likely to apply fixes (the first): the passes that offer
    /// fixes first, and the lint-only ones only when none of those fixes applies. A round
    /// that applies a fix is not the last, and only the last round's lints are reported: the
    /// next round analyses the changed text afresh.
    FixesFirst,
}

/// [`analyze`], with the text searches that are already done and the heap views when they are
/// known; also hands back the heap views (when a pass asked for them) and the text searches.
fn analyze_with(
    text: &str,
    parsed: &Parsed,
    options: &Options,
    marks: MarkCache,
    views: Option<Views>,
    schedule: Schedule,
) -> (Analysis, Option<Views>, MarkCache) {
    let cx = Context::with(text, parsed, options, marks, views);
    let passes = options.passes();
    let mut analysis = match schedule {
        Schedule::All => run_passes(&cx, text, &passes),
        Schedule::FixesFirst => {
            let (fixing, linting): (Vec<PassId>, Vec<PassId>) =
                passes.iter().partition(|p| p.offers_fixes());
            let mut analysis = run_passes(&cx, text, &fixing);
            if !fixes_apply(text, &analysis, &passes) {
                let lints = run_passes(&cx, text, &linting);
                analysis.findings.extend(lints.findings);
                analysis.remarks.extend(lints.remarks);
            }
            analysis
        }
    };
    analysis.findings.sort_by_key(|f| (f.range.start, f.pass));
    analysis
        .remarks
        .sort_by_key(|r| (r.range.map(|r| r.start), r.pass));
    let (views, marks) = cx.into_parts();
    (analysis, views, marks)
}

/// Whether `fix` would apply a fix of `analysis`: one it applies (see [`fix::fixable`]) that
/// no `growsafe-ignore` comment silences.
fn fixes_apply(text: &str, analysis: &Analysis, active: &[PassId]) -> bool {
    let mut fixable = Analysis {
        findings: analysis
            .findings
            .iter()
            .filter(|f| fix::fixable(f))
            .cloned()
            .collect(),
        remarks: Vec::new(),
    };
    if !fixable.findings.is_empty() {
        suppress::apply(text, &mut fixable, active);
    }
    !fixable.findings.is_empty()
}

/// Runs `passes` over `cx`; the findings and remarks are in pass order (unsorted).
fn run_passes(cx: &Context<'_>, text: &str, passes: &[PassId]) -> Analysis {
    let mut analysis = Analysis::default();
    if passes.len() > 1 && source::spreads(text.len()) {
        // The passes run side by side (on the parser pool, or on threads with the stack this
        // input needs), in groups, each pass into its own analysis, merged in pass order: the
        // result is the same as one after the other. `stored-heap-view` and
        // `kept-buffer-view` share their analysis and run as one job. `heap-snapshot` and
        // `heap-destructure` read the same parts of the AST: one job (0.1–0.2 ms faster on
        // 1–3 MB), except when the passes that offer fixes run alone (see `Schedule`) and
        // they are most of the work. The jobs start in this order, each on the next free
        // thread: the longest first, then `asyncify-sleep-alloc`, which needs no heap views
        // and runs while the first pass to ask for them builds them (the others wait). A pass
        // blocked on the views (or any other `Context` cell) cannot deadlock: nothing that
        // fills a cell calls into rayon, so its builder never waits for a job stolen by a
        // waiting thread.
        let fixing_only = passes.iter().all(|p| p.offers_fixes());
        let group = |pass: PassId| match pass {
            PassId::StoredHeapView | PassId::KeptBufferView => 0,
            PassId::AsyncifySleepAlloc => 1,
            PassId::HeapSnapshot => 2,
            PassId::HeapDestructure if fixing_only => 3,
            PassId::HeapDestructure => 2,
            PassId::HeapObjectCopy => 4,
            PassId::UnusedSuppression => 5,
        };
        let mut groups: Vec<Vec<(usize, PassId)>> = Vec::new();
        for (order, &pass) in passes.iter().enumerate() {
            match groups.iter_mut().find(|g| group(g[0].1) == group(pass)) {
                Some(g) => g.push((order, pass)),
                None => groups.push(vec![(order, pass)]),
            }
        }
        groups.sort_by_key(|g| group(g[0].1));
        let mut each: Vec<(usize, Analysis)> = source::each(text.len(), groups.len(), |i| {
            groups[i]
                .iter()
                .map(|&(order, pass)| {
                    let mut own = Analysis::default();
                    pass.analyze(cx, &mut own);
                    (order, own)
                })
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
        each.sort_by_key(|(order, _)| *order);
        for (_, own) in each {
            analysis.findings.extend(own.findings);
            analysis.remarks.extend(own.remarks);
        }
    } else {
        for &pass in passes {
            pass.analyze(cx, &mut analysis);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(edit: Edit) -> Finding {
        Finding::fixable(
            PassId::HeapSnapshot,
            edit.range,
            "m",
            Fix::safe("t", vec![edit]),
        )
    }

    #[test]
    fn fixes_that_edit_or_copy_a_placeholder_are_dropped() {
        let text = "var a = {{{ X }}};\nvar b = c;\n";
        let library = preprocess::scan(text).unwrap().unwrap();
        let at = |s: &str| u32::try_from(text.find(s).unwrap()).unwrap();
        let c = TextRange::new(at("c;"), at("c;") + 1);
        let mut analysis = Analysis {
            findings: vec![
                finding(Edit::insert_at(at(";\nvar b"), "x")),
                finding(Edit::replace(c, "f($$$$$$$$$)")),
                finding(Edit::replace(c, "d")),
            ],
            remarks: Vec::new(),
        };
        guard_fixes(&mut analysis, &library);
        let reasons: Vec<Option<&str>> = analysis
            .findings
            .iter()
            .map(|f| f.no_fix_reason.as_deref())
            .collect();
        assert_eq!(
            reasons,
            [
                Some("the fix would edit a `{{{ }}}` macro of this Emscripten JS library"),
                Some("the fix would copy code containing a `{{{ }}}` macro or preprocessor line"),
                None,
            ]
        );
        assert!(analysis.findings[0].fix.is_none());
        assert!(analysis.findings[1].fix.is_none());
        assert!(analysis.findings[2].fix.is_some());
    }

    /// Every JavaScript and TypeScript file below `dir`, recursively.
    pub(crate) fn sources_in(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources_in(&path, out);
            } else if path.extension().is_some_and(|e| {
                ["js", "mjs", "cjs", "ts", "mts", "cts", "tsx"].contains(&e.to_str().unwrap_or(""))
            }) {
                out.push(path);
            }
        }
    }

    /// Every fixture and pinned real glue file (`target/real-glue`, when fetched).
    pub(crate) fn corpus() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources_in(&root.join("fixtures"), &mut files);
        sources_in(&root.join("target/real-glue"), &mut files);
        files.sort();
        files
    }

    /// What a reading says, comparable: the analysis and library report, or the error.
    fn outcome(body: &str, lang: Lang, options: &Options, fast_path: bool) -> String {
        let round = with_big_stack(body.len(), || {
            let (mut round, _) =
                read_and_analyze_with(body, lang, options, fast_path, false, Schedule::All)?;
            let active = options.passes();
            let problems = suppress::apply(body, &mut round.analysis, &active);
            Ok::<_, Error>((round.analysis, round.library, problems.len()))
        })
        .unwrap();
        format!("{round:?}")
    }

    /// The fast path's claim, tested on the corpus with every trace scrubbed out: a file the
    /// guard lets through gets nothing from any pass, and the same answer either way.
    #[test]
    fn trace_free_files_get_nothing_from_the_passes() {
        let scrub = |text: &str| {
            let mut text = text.to_owned();
            for (word, neutral) in [
                ("HEAP", "HEAQ"),
                ("Array", "Arrax"),
                ("DataView", "DataViex"),
                ("buffer", "buffex"),
                ("Asyncify", "Asyncifx"),
                ("WebAssembly", "WebAssemblx"),
                ("invalid", "invalix"),
                ("growsafe", "growsafx"),
                ("12", "13"),
                ("24", "25"),
            ] {
                text = text.replace(word, neutral);
            }
            text
        };
        let styles = [
            Options::default(),
            Options {
                heap_style: HeapStyle::Accessor,
                ..Options::default()
            },
        ];
        let mut checked = 0;
        for path in corpus() {
            let lang = Lang::from_path(&path);
            let text = std::fs::read_to_string(&path).unwrap();
            // The original: traces exactly where the passes report something.
            let original = SourceText::new(&text).body;
            // The same answer with and without the fast path, except that a syntax error in a
            // file the fast path does not parse goes unreported.
            let same = |full: String, fast: String| {
                if full.starts_with("Err(Syntax") {
                    assert_eq!(
                        fast,
                        "Ok((Analysis { findings: [], remarks: [] }, None, 0))"
                    );
                } else {
                    assert_eq!(full, fast, "{}", path.display());
                }
            };
            if !traces::has_traces(original, lang) {
                for options in &styles {
                    same(
                        outcome(original, lang, options, false),
                        outcome(original, lang, options, true),
                    );
                }
            }
            let scrubbed = scrub(original);
            if traces::has_traces(&scrubbed, lang) {
                continue;
            }
            checked += 1;
            for options in &styles {
                let full = outcome(&scrubbed, lang, options, false);
                assert!(
                    full.starts_with("Err(")
                        || (full.starts_with("Ok((Analysis { findings: [], remarks: [] },")
                            && full.ends_with(", 0))")),
                    "{}: a pass reports on trace-free text: {full}",
                    path.display()
                );
                same(full, outcome(&scrubbed, lang, options, true));
            }
        }
        assert!(
            checked >= 20,
            "only {checked} corpus files became trace-free"
        );
    }

    /// The passes side by side on the parser pool, and on threads beside a big-stack thread of
    /// its own (as for inputs larger than the pool's stack allows), say exactly what they say
    /// one after the other (on a plain thread, which is neither).
    #[test]
    fn passes_in_parallel_agree_with_passes_in_sequence() {
        for path in corpus() {
            let lang = Lang::from_path(&path);
            let text = std::fs::read_to_string(&path).unwrap();
            let body = SourceText::new(&text).body;
            let run = || {
                let Ok(parsed) = parse(body, lang) else {
                    return (String::new(), source::spreads(body.len()));
                };
                let analysis = analyze(body, &parsed, &Options::default());
                (format!("{analysis:?}"), source::spreads(body.len()))
            };
            let (parallel, pooled) = with_big_stack(body.len(), run).unwrap();
            let (beside, spread) = source::on_thread_of_its_own(body.len(), run);
            assert_eq!(spread, source::pool_is_parallel());
            assert_eq!(parallel, beside, "{}", path.display());
            let (serial, not_pooled) = std::thread::scope(|s| {
                std::thread::Builder::new()
                    .stack_size(1 << 30)
                    .spawn_scoped(s, run)
                    .unwrap()
                    .join()
                    .unwrap()
            });
            assert!(pooled && !not_pooled);
            assert_eq!(parallel, serial, "{}", path.display());
        }
    }

    /// A round of fixing on the patched AST (see `patch`) says exactly what a round on the
    /// fixed text parsed again says, in every heap style.
    #[test]
    fn patched_rounds_agree_with_parsed_rounds() {
        let styles = [HeapStyle::Getter, HeapStyle::Accessor, HeapStyle::Proxy];
        let mut patched = 0;
        for path in corpus() {
            let lang = Lang::from_path(&path);
            let text = std::fs::read_to_string(&path).unwrap();
            let body = SourceText::new(&text).body;
            for style in styles {
                let options = Options {
                    heap_style: style,
                    ..Options::default()
                };
                let run = |patching: bool| {
                    with_big_stack(body.len(), || {
                        let fixed = fix_body_with(body, lang, &options, patching);
                        // The line index carried round to round is the fixed text's.
                        if let Ok((text, _, _, lines)) = &fixed {
                            let fresh = LineIndex::new(text);
                            assert_eq!(format!("{lines:?}"), format!("{fresh:?}"));
                        }
                        format!("{fixed:?}")
                    })
                    .unwrap()
                };
                let (with, without) = (run(true), run(false));
                assert_eq!(with, without, "{} ({style:?})", path.display());
                patched += usize::from(with.contains("Applied {"));
            }
        }
        assert!(patched > 20, "only {patched} fixes");
    }

    /// A round of `fix` runs the lint-only passes only when none of its fixes applies (a fix
    /// silenced by a comment does not count); the last round's lints are always reported.
    #[test]
    fn fix_rounds_lint_only_when_no_fix_applies() {
        let silenced = "var HEAP8 = new Int8Array(8);\n\
                        function f(g) {\n\
                        \x20 // growsafe-ignore: heap-snapshot kept on purpose\n\
                        \x20 var o = { HEAP8 };\n\
                        \x20 var v = HEAP8;\n\
                        \x20 g();\n\
                        \x20 return v[0] + o;\n\
                        }\n";
        let open = silenced.replace("// growsafe-ignore: heap-snapshot kept on purpose", "");
        let options = Options::default();
        let passes = |a: &Analysis| a.findings.iter().map(|f| f.pass).collect::<Vec<_>>();
        let first_round = |text: &str| {
            let parsed = parse(text, Lang::JavaScript).unwrap();
            let marks = MarkCache::default();
            analyze_with(text, &parsed, &options, marks, None, Schedule::FixesFirst).0
        };
        // A fix applies: the round stops before the lints.
        assert_eq!(passes(&first_round(&open)), [PassId::HeapSnapshot]);
        // The only fix is silenced: the lints run, and the comment is used.
        assert_eq!(
            passes(&first_round(silenced)),
            [PassId::HeapSnapshot, PassId::StoredHeapView]
        );
        let out = fix_source(silenced, Lang::JavaScript, &options).unwrap();
        assert!(!out.changed);
        assert_eq!(passes(&out.remaining), [PassId::StoredHeapView]);
        let out = fix_source(&open, Lang::JavaScript, &options).unwrap();
        assert!(
            out.changed && out.text.contains("get HEAP8()"),
            "{}",
            out.text
        );
        assert_eq!(passes(&out.remaining), [PassId::StoredHeapView]);
    }

    #[test]
    fn trace_free_files_are_not_parsed_unless_binary() {
        let options = Options::default();
        // Nothing to say, and nothing parsed: a grammar error goes unnoticed.
        let ok = check_source("var a = ;\n", Lang::JavaScript, &options).unwrap();
        assert!(ok.analysis.findings.is_empty() && ok.analysis.remarks.is_empty());
        let fixed = fix_source("var a = ;\n", Lang::JavaScript, &options).unwrap();
        assert!(!fixed.changed && fixed.text == "var a = ;\n");
        // The same error in a file with a trace is reported, as is binary data.
        let err = check_source("var HEAP8 = ;\n", Lang::JavaScript, &options).unwrap_err();
        assert!(matches!(err, Error::Syntax { line: 1, .. }), "{err:?}");
        let err = check_source("var a = 1\0;\n", Lang::JavaScript, &options).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Syntax {
                    line: 1,
                    column: 10,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = fix_source("var a = 1\0;\n", Lang::JavaScript, &options).unwrap_err();
        assert!(matches!(err, Error::Syntax { .. }), "{err:?}");
    }

    #[test]
    fn a_fully_renamed_asyncify_runtime_is_a_trace() {
        // Closure's inlined `allocateData` with every name renamed: found by structure alone.
        let text = "function f(){var a=g(),b=a+12;h[a+8>>2]=c;return a}\n";
        let full = outcome(text, Lang::JavaScript, &Options::default(), false);
        assert!(full.contains("AsyncifySleepAlloc"), "{full}");
        assert!(traces::has_traces(text, Lang::JavaScript));
    }

    #[test]
    fn parsing_variants_of_a_library() {
        let together = "#if A\na();\n#else\nb();\n#endif\n";
        assert_eq!(parsing_variants(together, Lang::JavaScript), Variant::ALL);
        let apart =
            "var L = {\n#if A\n  f: function (a) {\n#else\n  f: function () {\n#endif\n  },\n};\n";
        assert_eq!(
            parsing_variants(apart, Lang::JavaScript),
            [Variant::FirstBranches, Variant::LastBranches]
        );
        assert!(parsing_variants("var a;\n", Lang::JavaScript).is_empty());
        assert!(parsing_variants(together, Lang::TypeScript).is_empty());
    }
}
