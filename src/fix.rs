//! Fixes as byte-range edits on the original text, and the loop that applies them until the
//! file is stable.
//!
//! A fix never reprints the program: [`apply_fixes`] copies the text up to each edit, writes the
//! replacement, and carries on, so every byte outside the edited ranges stays identical.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::diagnostic::{Finding, TextRange};
use crate::passes::PassId;

/// How sure growsafe is that a fix keeps the program's meaning. Ordered: `Unsafe < Safe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Changes behaviour in a way a consumer could notice; applied only on request.
    Unsafe,
    /// Keeps the program's meaning, apart from the hazard it removes.
    Safe,
}

/// One replacement of a byte range. An empty range inserts; an empty replacement deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// The bytes replaced.
    pub range: TextRange,
    /// What replaces them.
    pub replacement: String,
}

impl Edit {
    /// Replaces `range` with `text`.
    #[must_use]
    pub fn replace(range: TextRange, text: impl Into<String>) -> Self {
        let replacement = text.into();
        debug_assert!(
            range.start < range.end || !replacement.is_empty(),
            "pointless empty edit"
        );
        Edit { range, replacement }
    }

    /// Inserts `text` at `at`.
    #[must_use]
    pub fn insert_at(at: u32, text: impl Into<String>) -> Self {
        Edit::replace(TextRange::empty(at), text)
    }

    /// Deletes `range`.
    #[must_use]
    pub fn delete(range: TextRange) -> Self {
        Edit::replace(range, String::new())
    }
}

/// A set of edits that together remove one finding's hazard; applied all or nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// Imperative title, e.g. "Turn `HEAP16` into a getter".
    pub title: String,
    /// How safe it is.
    pub applicability: Applicability,
    /// Sorted by start, non-overlapping.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// A safe fix.
    #[must_use]
    pub fn safe(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix::new(title.into(), Applicability::Safe, edits)
    }

    /// A fix that may change behaviour a consumer can observe.
    #[must_use]
    pub fn unsafe_(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix::new(title.into(), Applicability::Unsafe, edits)
    }

    fn new(title: String, applicability: Applicability, mut edits: Vec<Edit>) -> Self {
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        debug_assert!(!edits.is_empty(), "a fix without edits");
        debug_assert!(
            edits.windows(2).all(|w| w[0].range.end <= w[1].range.start),
            "overlapping edits in one fix: {edits:?}"
        );
        Fix {
            title,
            applicability,
            edits,
        }
    }

    fn span(&self) -> TextRange {
        TextRange::new(
            self.edits[0].range.start,
            self.edits.iter().map(|e| e.range.end).max().unwrap_or(0),
        )
    }
}

/// A fix that was applied, for the report: which pass, where (in the text it was applied to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The pass whose finding it fixed.
    pub pass: PassId,
    /// The finding's range in the text of that round.
    pub range: TextRange,
    /// 1-based line of the finding in the text of that round.
    pub line: u32,
    /// The fix's title.
    pub title: String,
}

/// Applies the non-overlapping fixes among `findings` at or above `threshold` to `text`.
///
/// Fixes are taken in order of position; a fix whose edits touch an edit already taken is left
/// for the next round. Returns the new text and the findings whose fixes were applied.
#[must_use]
pub fn apply_fixes<'f>(
    text: &str,
    findings: &'f [Finding],
    threshold: Applicability,
) -> (String, Vec<&'f Finding>) {
    match apply_fixes_spliced(text, findings, threshold) {
        Some((out, applied, _)) => (out, applied),
        None => (text.to_owned(), Vec::new()),
    }
}

/// The least applicability `growsafe fix` applies.
pub(crate) const THRESHOLD: Applicability = Applicability::Safe;

/// Whether `growsafe fix` applies this finding's fix (it applies safe fixes only).
pub(crate) fn fixable(finding: &Finding) -> bool {
    has_fix_at(finding, THRESHOLD)
}

fn has_fix_at(finding: &Finding, threshold: Applicability) -> bool {
    finding
        .fix
        .as_ref()
        .is_some_and(|fix| fix.applicability >= threshold)
}

/// What [`apply_fixes_spliced`] hands back: the new text, the findings whose fixes were applied,
/// and where each edit went.
pub(crate) type Spliced<'f> = (String, Vec<&'f Finding>, Vec<(TextRange, TextRange)>);

/// [`apply_fixes`], also telling where each edit went: `(range in text, range in the result)`,
/// by position (the result's range includes any space added to keep words apart); `None` when
/// no fix applies (the text is not copied).
pub(crate) fn apply_fixes_spliced<'f>(
    text: &str,
    findings: &'f [Finding],
    threshold: Applicability,
) -> Option<Spliced<'f>> {
    let mut candidates: Vec<&Finding> = findings
        .iter()
        .filter(|f| has_fix_at(f, threshold))
        .collect();
    candidates.sort_by_key(|f| f.fix.as_ref().map(Fix::span));

    let mut taken: Vec<&Edit> = Vec::new();
    // The taken ranges by (start, end). They never overlap (a fix's own edits do not, and a fix
    // touching a taken one waits for the next round), so their ends rise with their starts: the
    // last range starting at or before an edit's end is the only one that can reach the edit.
    let mut ranges: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut applied = Vec::new();
    for finding in candidates {
        let fix = finding.fix.as_ref().expect("filtered on fix");
        let clashes = fix.edits.iter().any(|e| {
            ranges
                .range(..=(e.range.end, u32::MAX))
                .next_back()
                .is_some_and(|&(start, end)| TextRange::new(start, end).touches(e.range))
        });
        if clashes {
            continue;
        }
        ranges.extend(fix.edits.iter().map(|e| (e.range.start, e.range.end)));
        taken.extend(fix.edits.iter());
        applied.push(finding);
    }
    if applied.is_empty() {
        return None;
    }
    taken.sort_by_key(|e| (e.range.start, e.range.end));

    let mut out = String::with_capacity(
        text.len() + taken.iter().map(|e| e.replacement.len()).sum::<usize>(),
    );
    let mut cursor = 0usize;
    let mut spliced = Vec::with_capacity(taken.len());
    let to_u32 = |n: usize| u32::try_from(n).expect("inputs are below 4 GiB");
    for edit in taken {
        out.push_str(&text[cursor..edit.range.start as usize]);
        let start = out.len();
        // Keep tokens apart: `const{…}` with the pattern replaced by a name must not become
        // `constname` (whitespace-minified glue has no spaces to spare).
        if ends_word(&out) && starts_word(&edit.replacement) {
            out.push(' ');
        }
        out.push_str(&edit.replacement);
        cursor = edit.range.end as usize;
        if ends_word(&edit.replacement) && starts_word(&text[cursor..]) {
            out.push(' ');
        }
        spliced.push((edit.range, TextRange::new(to_u32(start), to_u32(out.len()))));
    }
    out.push_str(&text[cursor..]);
    Some((out, applied, spliced))
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn ends_word(s: &str) -> bool {
    s.chars().next_back().is_some_and(is_word_char)
}

fn starts_word(s: &str) -> bool {
    s.chars().next().is_some_and(is_word_char)
}

/// How many rounds of fixing before growsafe gives up (real glue needs one or two).
pub const MAX_ROUNDS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(edits: Vec<Edit>) -> Finding {
        Finding::fixable(
            PassId::HeapSnapshot,
            edits[0].range,
            "m",
            Fix::safe("t", edits),
        )
    }

    #[test]
    fn splices_and_keeps_other_bytes() {
        let text = "abc def ghi";
        let findings = vec![
            finding(vec![Edit::replace(TextRange::new(4, 7), "DEF")]),
            finding(vec![
                Edit::insert_at(0, ">"),
                Edit::delete(TextRange::new(10, 11)),
            ]),
        ];
        let (out, applied) = apply_fixes(text, &findings, Applicability::Safe);
        assert_eq!(out, ">abc DEF gh");
        assert_eq!(applied.len(), 2);
    }

    #[test]
    fn keeps_words_apart() {
        let findings = vec![finding(vec![Edit::replace(
            TextRange::new(5, 10),
            "memory",
        )])];
        assert_eq!(
            apply_fixes("const{H:H}=m", &findings, Applicability::Safe).0,
            "const memory=m"
        );
    }

    #[test]
    fn touching_fixes_wait_for_the_next_round() {
        let text = "abc;def";
        let findings = vec![
            finding(vec![Edit::replace(TextRange::new(0, 3), "X")]),
            finding(vec![Edit::replace(TextRange::new(3, 7), "Y")]),
        ];
        let (out, applied) = apply_fixes(text, &findings, Applicability::Safe);
        assert_eq!(out, "X;def");
        assert_eq!(applied.len(), 1);
    }

    #[test]
    fn a_fix_between_another_fixs_edits_applies_and_touching_ones_wait() {
        // 0123456789abcdef
        let text = "aa...bb...cc...d";
        let findings = vec![
            // Edits at both ends of the text, far apart.
            finding(vec![
                Edit::replace(TextRange::new(0, 2), "A"),
                Edit::replace(TextRange::new(10, 12), "C"),
            ]),
            // In the gap: applies.
            finding(vec![Edit::replace(TextRange::new(5, 7), "B")]),
            // Inside, or at either end of, a taken edit: waits.
            finding(vec![Edit::insert_at(11, "x")]),
            finding(vec![Edit::replace(TextRange::new(12, 13), "y")]),
            finding(vec![Edit::replace(TextRange::new(7, 8), "z")]),
            // After everything: applies.
            finding(vec![Edit::replace(TextRange::new(15, 16), "D")]),
        ];
        let (out, taken) = apply_fixes(text, &findings, Applicability::Safe);
        assert_eq!(out, "A...B...C...D");
        assert_eq!(taken.len(), 3);
    }

    #[test]
    fn unsafe_fixes_need_the_lower_threshold() {
        let findings = vec![Finding::fixable(
            PassId::HeapSnapshot,
            TextRange::new(0, 1),
            "m",
            Fix::unsafe_("t", vec![Edit::replace(TextRange::new(0, 1), "z")]),
        )];
        assert_eq!(apply_fixes("a", &findings, Applicability::Safe).0, "a");
        assert_eq!(apply_fixes("a", &findings, Applicability::Unsafe).0, "z");
    }
}
