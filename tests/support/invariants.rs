//! The fuzzing invariants of growsafe's parse → analyse → fix → re-parse path, shared by the
//! cargo-fuzz target (`fuzz/fuzz_targets/fix.rs`, through `#[path]`) and the plain test
//! `tests/fuzz_invariants.rs`, so both check exactly the same thing.
//!
//! For every grammar and heap style tried:
//! - nothing panics (`check_source`/`fix_source` turn a panic into [`Error::Internal`], which is
//!   a violation here; under libFuzzer the panic hook aborts first);
//! - `check_source` and `fix_source` agree on whether the input parses;
//! - when it parses, `fix_source` succeeds (no [`Error::FixBrokeSyntax`],
//!   [`Error::FixDidNotConverge`] or [`Error::Internal`]), its output parses, and fixing the
//!   output again changes nothing.

use growsafe::{Error, HeapStyle, Lang, Options, check_source, fix_source};

/// Every heap style, each of which renders `heap-snapshot` fixes differently.
pub const STYLES: [HeapStyle; 3] = [HeapStyle::Getter, HeapStyle::Accessor, HeapStyle::Proxy];

/// What happened to one input in one grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The input does not parse (both functions said so).
    Unparsable,
    /// The input parses and fixing changes nothing (in any style).
    Unchanged,
    /// The input parses and at least one style changed it.
    Fixed,
}

/// Checks the invariants for `text` in `lang`, in every heap style; the first violation,
/// described, or what happened.
///
/// # Errors
/// A description of the violated invariant, naming the grammar and the style.
pub fn check(text: &str, lang: Lang) -> Result<Outcome, String> {
    let mut outcome = Outcome::Unchanged;
    for style in STYLES {
        let options = Options {
            heap_style: style,
            ..Options::default()
        };
        let here = |what: String| format!("{lang:?}, {style:?}: {what}");
        match check_style(text, lang, &options).map_err(here)? {
            // Whether a text parses does not depend on the heap style.
            Outcome::Unparsable => return Ok(Outcome::Unparsable),
            Outcome::Fixed => outcome = Outcome::Fixed,
            Outcome::Unchanged => {}
        }
    }
    Ok(outcome)
}

/// Checks the invariants for `text` in `lang` with `options`.
///
/// # Errors
/// A description of the violated invariant.
pub fn check_style(text: &str, lang: Lang, options: &Options) -> Result<Outcome, String> {
    let checked = check_source(text, lang, options);
    let fixed = fix_source(text, lang, options);
    let fixed = match (checked, fixed) {
        (Err(Error::Syntax { .. }), Err(Error::Syntax { .. })) => return Ok(Outcome::Unparsable),
        (Err(e @ Error::Syntax { .. }), Ok(_)) => {
            return Err(format!("check: `{e}`, but fix succeeded"));
        }
        (Err(e), _) => return Err(format!("check failed: {e}")),
        (Ok(_), Err(e)) => return Err(format!("the input parses, but fix failed: {e}")),
        (Ok(_), Ok(fixed)) => fixed,
    };
    if fixed.changed != (fixed.text != text) {
        return Err(format!(
            "fix says changed = {}, but the text {} the input",
            fixed.changed,
            if fixed.text == text {
                "equals"
            } else {
                "differs from"
            }
        ));
    }
    if let Err(e) = check_source(&fixed.text, lang, options) {
        return Err(format!(
            "the fixed text does not check: {e}\n--- fixed text ---\n{}",
            fixed.text
        ));
    }
    let again = fix_source(&fixed.text, lang, options)
        .map_err(|e| format!("fixing the fixed text failed: {e}"))?;
    if again.text != fixed.text || again.changed {
        return Err(format!(
            "fixing twice differs from fixing once\n--- once ---\n{}\n--- twice ---\n{}",
            fixed.text, again.text
        ));
    }
    Ok(if fixed.changed {
        Outcome::Fixed
    } else {
        Outcome::Unchanged
    })
}

/// The grammars every input is tried in (the fuzz target tries both; TypeScript reads most
/// JavaScript too).
pub const LANGS: [Lang; 2] = [Lang::JavaScript, Lang::TypeScript];
