//! What a pass reports: [`Finding`]s (hazards, possibly with a fix) and [`Remark`]s
//! (informational: "already fixed", "left alone because …"), located by [`TextRange`].

use serde::Serialize;

use crate::fix::Fix;
use crate::passes::PassId;

/// A half-open byte range `[start, end)` into a file's body (the text after any BOM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TextRange {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl TextRange {
    /// A range; `start <= end`.
    #[must_use]
    pub fn new(start: u32, end: u32) -> Self {
        debug_assert!(start <= end, "inverted range {start}..{end}");
        TextRange { start, end }
    }

    /// An empty range at `at`, the place of an insertion.
    #[must_use]
    pub fn empty(at: u32) -> Self {
        TextRange { start: at, end: at }
    }

    /// As a `usize` range for slicing.
    #[must_use]
    pub fn as_usize(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Whether the two ranges overlap or touch.
    #[must_use]
    pub fn touches(self, other: TextRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// A hazard a pass found.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The pass that found it.
    pub pass: PassId,
    /// The offending code.
    pub range: TextRange,
    /// One line saying what goes stale and why (code in backticks, no trailing period).
    pub message: String,
    /// The fix, when growsafe can make one safely.
    pub fix: Option<Fix>,
    /// Why there is no fix, when there is none.
    pub no_fix_reason: Option<String>,
}

impl Finding {
    /// A finding that carries a fix.
    #[must_use]
    pub fn fixable(pass: PassId, range: TextRange, message: impl Into<String>, fix: Fix) -> Self {
        Finding {
            pass,
            range,
            message: message.into(),
            fix: Some(fix),
            no_fix_reason: None,
        }
    }

    /// A finding growsafe cannot fix, with the reason.
    #[must_use]
    pub fn unfixable(
        pass: PassId,
        range: TextRange,
        message: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Finding {
            pass,
            range,
            message: message.into(),
            fix: None,
            no_fix_reason: Some(reason.into()),
        }
    }
}

/// What kind of remark a pass made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemarkKind {
    /// The hazard's code is present and already patched (by growsafe or by hand).
    AlreadyFixed,
    /// The code is deliberately left alone (for example a JSPI build).
    LeftAlone,
    /// A fix was made in a weaker form than asked for (for example getters instead of accessors).
    Fallback,
}

/// An informational observation: not a hazard, but worth telling the user.
#[derive(Debug, Clone)]
pub struct Remark {
    /// The pass that made it.
    pub pass: PassId,
    /// What kind of remark.
    pub kind: RemarkKind,
    /// Where, if it is about one place.
    pub range: Option<TextRange>,
    /// One line.
    pub message: String,
}

/// Everything the passes said about one version of a file.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Hazards, in source order.
    pub findings: Vec<Finding>,
    /// Remarks, in source order.
    pub remarks: Vec<Remark>,
}

/// Maps byte offsets to 1-based lines and 1-based UTF-16 columns (what editors, LSP and SARIF count).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<u32>,
    /// Whether the text holds a `\r`.
    cr: bool,
}

impl LineIndex {
    /// Indexes the line starts of `text` (`\n`, `\r\n` and lone `\r` end a line).
    #[must_use]
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        if memchr::memchr(b'\r', bytes).is_none() {
            // The usual case, with a fast newline search.
            let mut starts = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 1);
            starts.push(0);
            starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| to_u32(i + 1)));
            return LineIndex { starts, cr: false };
        }
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(to_u32(i + 1)),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(to_u32(i + 1)),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts, cr: true }
    }

    /// The line index of `new`, which is the text this index was built for with the `spliced`
    /// edits (old range, new range; in order, not overlapping): the line starts clear of every
    /// edit are moved, and only the edits' new text is searched for line ends. The same as
    /// [`LineIndex::new`] of `new`, which it falls back to when a `\r` is about (a `\r\n` may
    /// then be split or joined at an edit's edge).
    #[must_use]
    pub fn spliced(&self, new: &str, spliced: &[(TextRange, TextRange)]) -> Self {
        let bytes = new.as_bytes();
        if self.cr
            || spliced
                .iter()
                .any(|(_, n)| memchr::memchr(b'\r', &bytes[n.as_usize()]).is_some())
        {
            return LineIndex::new(new);
        }
        // Each line start but the first follows a `\n`: those clear of every edit move, and the
        // edits' new text brings its own.
        let newlines: Vec<u32> = self.starts[1..].iter().map(|s| s - 1).collect();
        let mut starts = vec![0];
        starts.extend(carry_over(&newlines, 1, spliced).into_iter().map(|i| i + 1));
        for (_, n) in spliced {
            starts.extend(
                memchr::memchr_iter(b'\n', &bytes[n.as_usize()])
                    .map(|i| to_u32(n.start as usize + i + 1)),
            );
        }
        starts.sort_unstable();
        LineIndex { starts, cr: false }
    }

    /// Line (1-based) and UTF-16 column (1-based) of `offset` in `text`.
    #[must_use]
    pub fn line_col(&self, text: &str, offset: u32) -> (u32, u32) {
        let offset = offset.min(to_u32(text.len()));
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line] as usize;
        let end = text.floor_char_boundary(offset as usize);
        let before = &text[start..end];
        // ASCII (most glue, and every minified line) counts one unit per byte, found fast.
        let col: usize = if before.is_ascii() {
            before.len()
        } else {
            before.chars().map(char::len_utf16).sum()
        };
        (to_u32(line + 1), to_u32(col + 1))
    }

    /// The 1-based line of a byte offset (no column: cheaper on long lines).
    #[must_use]
    pub fn line(&self, offset: u32) -> u32 {
        to_u32(self.starts.partition_point(|&s| s <= offset))
    }

    /// The byte offset where the 1-based `line` starts.
    #[must_use]
    pub fn line_start(&self, line: u32) -> Option<u32> {
        self.starts.get((line as usize).checked_sub(1)?).copied()
    }
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("growsafe handles files under 4 GiB")
}

/// The positions of `len`-byte items of a text (ascending), moved over the `spliced` edits of
/// that text (old range, new range; in order, not overlapping). An item an edit touches is left
/// out: one that overlaps an edit's old range, or holds an insertion point strictly inside it.
/// The others are the same bytes in the edited text, moved by the edits before them.
pub(crate) fn carry_over(
    positions: &[u32],
    len: u32,
    spliced: &[(TextRange, TextRange)],
) -> Vec<u32> {
    let mut out = Vec::with_capacity(positions.len());
    let mut edit = 0;
    let mut delta = 0i64;
    for &at in positions {
        // The edits wholly before this item move it.
        while let Some((o, n)) = spliced.get(edit).filter(|(o, _)| o.end <= at) {
            delta += i64::from(n.end - n.start) - i64::from(o.end - o.start);
            edit += 1;
        }
        // The next edit ends after `at`: it touches the item if it starts before its end.
        if spliced.get(edit).is_some_and(|(o, _)| o.start < at + len) {
            continue;
        }
        out.push(u32::try_from(i64::from(at) + delta).expect("inputs are below 4 GiB"));
    }
    out
}

/// Random edits of a text, for the tests of what is carried over edits (`LineIndex::spliced`,
/// the text searches of the passes).
#[cfg(test)]
pub(crate) struct RandomEdits(u64);

#[cfg(test)]
impl RandomEdits {
    pub(crate) fn new(seed: u64) -> Self {
        RandomEdits(seed)
    }

    /// A number below `n` (xorshift).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap()
    }

    /// One to four edits of `text`, in order, not overlapping, at character boundaries: each
    /// replaces what lies between two random points (or, one time in three, inserts at one) by
    /// `least` to `least + 2` random `pieces`. The edited text, and each edit's (old range, new
    /// range).
    pub(crate) fn splice(
        &mut self,
        text: &str,
        pieces: &[&str],
        least: usize,
    ) -> (String, Vec<(TextRange, TextRange)>) {
        let mut cuts: Vec<usize> = (0..2 * (1 + self.below(4)))
            .map(|_| text.floor_char_boundary(self.below(text.len() + 1)))
            .collect();
        cuts.sort_unstable();
        let mut new = String::new();
        let mut spliced = Vec::new();
        let mut cursor = 0;
        for pair in cuts.chunks(2) {
            let start = pair[0];
            let end = if self.below(3) == 0 { start } else { pair[1] };
            new.push_str(&text[cursor..start]);
            let from = new.len();
            for _ in 0..least + self.below(3) {
                new.push_str(pieces[self.below(pieces.len())]);
            }
            spliced.push((
                TextRange::new(to_u32(start), to_u32(end)),
                TextRange::new(to_u32(from), to_u32(new.len())),
            ));
            cursor = end;
        }
        new.push_str(&text[cursor..]);
        (new, spliced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line index carried over edits is the index of the edited text, whatever the edits cut,
    /// join or insert; with a `\r` about it is built afresh.
    #[test]
    fn line_index_carried_over_edits_equals_a_fresh_one() {
        let text = "a\nbb\n\nccc\n é\n⌘d\n\n".repeat(5);
        let pieces = ["", "\n", "x", "\n\n", "y\nz", "é", "\r", "\r\n"];
        let mut edits = RandomEdits::new(0x9e37_79b9);
        for old in [text.clone(), text.replace("bb\n", "bb\r\n")] {
            let index = LineIndex::new(&old);
            for _ in 0..500 {
                let (new, spliced) = edits.splice(&old, &pieces, 0);
                let carried = index.spliced(&new, &spliced);
                let fresh = LineIndex::new(&new);
                assert_eq!(carried.starts, fresh.starts, "{old:?} {spliced:?}");
                assert_eq!(carried.cr, fresh.cr, "{old:?} {spliced:?}");
            }
        }
    }

    #[test]
    fn columns_count_utf16_units() {
        let text = "a\r\nvar s = \"é€😀\"; x\rlast";
        let index = LineIndex::new(text);
        let x = u32::try_from(text.find('x').unwrap()).unwrap();
        // `var s = "` is 9 units, é € are 1 each, 😀 is 2, then `"; ` is 3.
        assert_eq!(index.line_col(text, x), (2, 17));
        let last = u32::try_from(text.find("last").unwrap()).unwrap();
        assert_eq!(index.line_col(text, last), (3, 1));
        // An ASCII line counts bytes; `line` agrees with `line_col`.
        let s = u32::try_from(text.find('s').unwrap()).unwrap();
        assert_eq!(index.line_col(text, s), (2, 5));
        for offset in [0, 1, 3, s, x, last] {
            assert_eq!(index.line(offset), index.line_col(text, offset).0);
        }
    }

    #[test]
    fn touching_ranges_overlap() {
        assert!(TextRange::new(0, 2).touches(TextRange::empty(2)));
        assert!(!TextRange::new(0, 2).touches(TextRange::new(3, 4)));
    }
}
