//! Where in the text a pass has to look: the positions of the words its hazards are made of.
//!
//! Every finding of every pass involves a few words: a view (`HEAP8`, a name the refresh
//! function assigns, a pthreads helper), `buffer`, a typed array's name, `Asyncify`… A node
//! whose source text holds none of a pass's words cannot matter to that pass, so the passes
//! walk the AST *sparsely*: they only enter nodes whose span holds one of their [`Marks`], and
//! a statement list or an object's properties is searched, not scanned, for the elements that
//! do. On 1 MB of glue a sparse walk visits a few hundred nodes instead of a million.
//!
//! A word can hide behind an escape (`H\u0045AP8` is `HEAP8`, `'\x48EAP8'` is `'HEAP8'`), so
//! every escape that can spell an arbitrary character is a mark of every set.

use std::sync::OnceLock;

use memchr::memmem::Finder;
use swc_common::{BytePos, Span, Spanned};

use crate::diagnostic::{TextRange, to_u32};
use crate::patch::Patches;

/// Sorted positions, in swc's coordinates, that a sparse walk must reach, and ranges it must
/// walk entirely.
#[derive(Debug, Default, Clone)]
pub(crate) struct Marks {
    at: Vec<BytePos>,
    /// Sorted by start.
    ranges: Vec<Span>,
}

impl Marks {
    /// Whether `span` holds a mark or overlaps a range.
    #[inline]
    pub fn covers(&self, span: Span) -> bool {
        let i = self.at.partition_point(|p| *p < span.lo);
        self.at.get(i).is_some_and(|p| *p < span.hi)
            || (!self.ranges.is_empty()
                && self.ranges.iter().any(|r| r.lo < span.hi && span.lo < r.hi))
    }

    /// Whether there is no mark at all.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty() && self.ranges.is_empty()
    }

    /// The union of several sets.
    pub fn with_all(mut self, others: &[Marks]) -> Marks {
        for other in others {
            self.at.extend_from_slice(&other.at);
            self.ranges.extend_from_slice(&other.ranges);
        }
        self.at.sort_unstable();
        self.at.dedup();
        self.ranges.sort_by_key(|r| r.lo);
        self
    }

    /// These marks, and every node inside `ranges`.
    pub fn with_ranges(mut self, ranges: impl IntoIterator<Item = Span>) -> Marks {
        self.ranges.extend(ranges);
        self.ranges.sort_by_key(|r| r.lo);
        self
    }

    /// The elements of a position-ordered list whose spans hold a mark, found by binary search
    /// (a statement list of glue has thousands of elements, and a walk only wants a few).
    pub fn each<'m, 'l, T: Spanned>(&'m self, list: &'l [T]) -> Each<'m, 'l, T> {
        let first = list.first().map_or(BytePos(u32::MAX), |e| e.span().lo);
        Each {
            marks: self,
            rest: list,
            next: self.at.partition_point(|p| *p < first),
        }
    }

    /// The marks inside `span`, and the ranges that overlap it.
    pub fn within(&self, span: Span) -> Marks {
        let from = self.at.partition_point(|p| *p < span.lo);
        let to = self.at.partition_point(|p| *p < span.hi);
        Marks {
            at: self.at[from..to].to_vec(),
            ranges: self
                .ranges
                .iter()
                .filter(|r| r.lo < span.hi && span.lo < r.hi)
                .copied()
                .collect(),
        }
    }

    /// The union of two sets.
    pub fn with(mut self, other: &Marks) -> Marks {
        self.at.extend_from_slice(&other.at);
        self.at.sort_unstable();
        self.at.dedup();
        self.ranges.extend_from_slice(&other.ranges);
        self.ranges.sort_by_key(|r| r.lo);
        self
    }
}

/// The iterator of [`Marks::each`].
pub(crate) struct Each<'m, 'l, T> {
    marks: &'m Marks,
    rest: &'l [T],
    /// The first mark not yet passed.
    next: usize,
}

impl<'l, T: Spanned> Iterator for Each<'_, 'l, T> {
    type Item = &'l T;

    fn next(&mut self) -> Option<&'l T> {
        if !self.marks.ranges.is_empty() {
            // With ranges, a plain filter (such walks visit most of the list anyway).
            while let Some((item, rest)) = self.rest.split_first() {
                self.rest = rest;
                if self.marks.covers(item.span()) {
                    return Some(item);
                }
            }
            return None;
        }
        let at = &self.marks.at;
        loop {
            let mark = *at.get(self.next)?;
            // The first element that ends after the mark.
            let i = self.rest.partition_point(|e| e.span().hi <= mark);
            let item = self.rest.get(i)?;
            let span = item.span();
            self.rest = &self.rest[i..];
            if span.lo <= mark {
                // Skip the marks inside this element, and the element itself next time.
                self.next += at[self.next..].partition_point(|p| *p < span.hi);
                self.rest = &self.rest[1..];
                return Some(item);
            }
            // The mark is between elements: go on from the first mark of this element.
            self.next += at[self.next..].partition_point(|p| *p < span.lo);
        }
    }
}

/// A word to find, and which of its occurrences count.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Find<'w> {
    /// Every occurrence of the text.
    Text(&'w str),
    /// Occurrences that are not followed, after the identifier they are part of and any
    /// whitespace or comments, by `[`: the identifier is not the object of an index
    /// (`HEAP32[p >> 2]` reads an element, never keeps the view).
    NotIndexed(&'w str),
    /// Occurrences that are a whole identifier (or property name) equal to the word.
    Name(&'w str),
    /// Occurrences that may name a property: in an identifier that follows a `.`
    /// (`memory.HEAP16[i]`), or in a string (`Module['HEAP16']`: the word follows a quote).
    /// Whenever a comment may sit between the `.` and the name (a `/` before it, or a line with
    /// `//` above it), the occurrence counts too.
    Member(&'w str),
}

/// Where the text's offsets are in the AST: its first position, where the searched text starts
/// in the file's text, and the patches of a patched AST (see [`crate::patch`]).
#[derive(Clone, Copy)]
pub(crate) struct Place<'a> {
    start: BytePos,
    base: u32,
    patches: &'a Patches,
}

impl<'a> Place<'a> {
    pub fn new(start: BytePos, patches: &'a Patches) -> Self {
        Place {
            start,
            base: 0,
            patches,
        }
    }

    /// The place of a slice of the text starting at `base`.
    pub fn within(self, base: u32) -> Self {
        Place { base, ..self }
    }

    #[inline]
    fn at(self, i: usize) -> BytePos {
        let offset = self.base + u32::try_from(i).expect("inputs are below 4 GiB");
        if self.patches.is_empty() {
            self.start + BytePos(offset)
        } else {
            self.patches.pos(offset, self.start)
        }
    }

    /// The finished marks: sorted, and a mark inside a re-parsed node also marks the node's
    /// start, where a walk enters it.
    fn marks(self, mut at: Vec<BytePos>) -> Marks {
        if !self.patches.is_empty() {
            let anchors: Vec<BytePos> = at
                .iter()
                .filter_map(|&p| self.patches.anchor_of(p))
                .collect();
            at.extend(anchors);
        }
        at.sort_unstable();
        at.dedup();
        Marks {
            at,
            ranges: Vec::new(),
        }
    }
}

/// Marks at the given offsets of `text`, plus every escape.
pub(crate) fn at_offsets(
    text: &str,
    place: Place<'_>,
    offsets: impl IntoIterator<Item = usize>,
) -> Marks {
    let mut at: Vec<BytePos> = escapes(text)
        .iter()
        .map(|&i| place.at(i as usize))
        .collect();
    at.extend(offsets.into_iter().map(|i| place.at(i)));
    place.marks(at)
}

/// Marks at the given positions (of the AST `place` belongs to).
pub(crate) fn at(positions: Vec<BytePos>, place: Place<'_>) -> Marks {
    place.marks(positions)
}

/// Builds the marks of `words` in `text` (which starts at `start` in swc's coordinates), plus
/// every escape.
pub(crate) fn find(text: &str, place: Place<'_>, words: &[Find<'_>]) -> Marks {
    find_with(text, place, words, &escapes(text))
}

/// [`find`], with the text's escapes already found.
fn find_with(text: &str, place: Place<'_>, words: &[Find<'_>], escapes: &[u32]) -> Marks {
    let bytes = text.as_bytes();
    let mut at: Vec<BytePos> = escapes.iter().map(|&i| place.at(i as usize)).collect();
    for word in words {
        let needle = word.word();
        if needle.is_empty() {
            continue;
        }
        // The search goes on after each match: a word that overlaps itself (`...` in `....`)
        // also starts at each shift where its end is its start.
        let shifts: Vec<usize> = (1..needle.len())
            .filter(|&k| needle.as_bytes()[k..] == needle.as_bytes()[..needle.len() - k])
            .collect();
        for i in Finder::new(needle).find_iter(bytes) {
            for pos in std::iter::once(i).chain(shifts.iter().map(|k| i + k)) {
                if bytes[pos..].starts_with(needle.as_bytes()) && word.keeps(bytes, pos) {
                    at.push(place.at(pos));
                }
            }
        }
    }
    place.marks(at)
}

impl Find<'_> {
    fn word(&self) -> &str {
        match *self {
            Find::Text(w) | Find::NotIndexed(w) | Find::Name(w) | Find::Member(w) => w,
        }
    }

    /// Whether the occurrence at `i` counts.
    fn keeps(&self, bytes: &[u8], i: usize) -> bool {
        match *self {
            Find::Text(_) => true,
            Find::NotIndexed(w) => not_indexed(bytes, i, w.len()),
            Find::Name(w) => whole_name(bytes, i, w.len()),
            Find::Member(w) => after_dot(bytes, i, w.len()),
        }
    }
}

/// Whether `b` can be part of an identifier (any non-ASCII byte can: conservative).
fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 || b == b'\\'
}

fn whole_name(bytes: &[u8], i: usize, len: usize) -> bool {
    let before = i.checked_sub(1).map(|j| bytes[j]);
    let after = bytes.get(i + len).copied();
    !before.is_some_and(ident_byte) && !after.is_some_and(ident_byte)
}

fn after_dot(bytes: &[u8], i: usize, _: usize) -> bool {
    let mut j = i;
    while j > 0 && ident_byte(bytes[j - 1]) {
        j -= 1;
    }
    loop {
        while j > 0 && matches!(bytes[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        match j.checked_sub(1).map(|k| bytes[k]) {
            None => return true,
            Some(b'\n' | b'\r') => {
                // The line above may end in a `// comment`: only a line without `//` is passed
                // over looking for the `.`.
                let end = j - 1;
                let start = bytes[..end]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |k| k + 1);
                if memchr::memmem::find(&bytes[start..end], b"//").is_some() {
                    return true;
                }
                j = end;
            }
            Some(b) => return matches!(b, b'.' | b'/' | b'\'' | b'"' | b'`') || b >= 0x80,
        }
    }
}

fn not_indexed(bytes: &[u8], i: usize, len: usize) -> bool {
    let mut j = i + len;
    while j < bytes.len() && ident_byte(bytes[j]) {
        j += 1;
    }
    loop {
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        match (bytes.get(j), bytes.get(j + 1)) {
            (Some(b'/'), Some(b'/')) => {
                // A line comment runs to the end of the line.
                match memchr::memchr(b'\n', &bytes[j..]) {
                    Some(n) => j += n,
                    None => return true,
                }
            }
            (Some(b'/'), Some(b'*')) => match memchr::memmem::find(&bytes[j + 2..], b"*/") {
                Some(n) => j += 2 + n + 2,
                None => return true,
            },
            (Some(b'['), _) => return false,
            _ => return true,
        }
    }
}

/// Offsets of the escapes that can spell a letter of a word: `\u…`, `\x…`, octal and other
/// digits, a line continuation (which joins the pieces of a word), and an identity escape of a
/// letter (`'\H\E\A\P8'` is `'HEAP8'`). `\n`, `\r`, `\t`, `\b`, `\f`, `\v` spell control
/// characters, and an escaped punctuation character spells punctuation: neither is part of a
/// word.
fn escapes(text: &str) -> Vec<u32> {
    escapes_in(text).collect()
}

/// [`escapes`], one by one.
fn escapes_in(text: &str) -> impl Iterator<Item = u32> + '_ {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'\\', bytes)
        .filter(|&i| {
            bytes.get(i + 1).is_some_and(|&b| {
                b.is_ascii_digit()
                    || matches!(b, b'\r' | b'\n')
                    || b >= 0x80
                    || (b.is_ascii_alphabetic() && !b"nrtbfv".contains(&b))
            })
        })
        .map(to_u32)
}

/// Whether the `len` bytes at `at` overlap one of `ranges` (sorted, not overlapping), or hold
/// an empty one strictly inside them (an insertion that splits them).
fn touches_any(ranges: &[TextRange], at: u32, len: u32) -> bool {
    // The first range that ends after `at` is the only one that can start before `at + len`.
    let i = ranges.partition_point(|r| r.end <= at);
    ranges.get(i).is_some_and(|r| r.start < at + len)
}

/// Marks computed once for a text (lazily, per kind), shared by the passes of one round: the
/// text is searched once for every fixed word ([`WORDS`]), and each kind picks its words' hits.
#[derive(Default)]
pub(crate) struct MarkCache {
    cells: [OnceLock<Marks>; Kind::COUNT],
    /// Every occurrence of every fixed word, by word (the index in [`WORDS`]).
    hits: OnceLock<Vec<Vec<u32>>>,
    escapes: OnceLock<Vec<u32>>,
}

/// The fixed words of all kinds, found in one pass. (`get` and `...`, which are everywhere in
/// code, are searched on their own when a pass asks: they would slow the shared pass down.)
const WORDS: [&str; 17] = [
    "HEAP",
    "8Array",
    "6Array",
    "2Array",
    "4Array",
    "dArray",
    "buffer",
    "toResizableBuffer",
    "Proxy",
    "Asyncify",
    "WebAssembly",
    "invalid state",
    "grow",
    "assign",
    "structuredClone",
    "ENVIRONMENT_IS_",
    "DataView",
];

/// The fixed mark sets the passes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Kind {
    /// What `Views::build` looks at: typed arrays, `.buffer` comparisons (a helper's guard),
    /// resizable buffers.
    Views,
    /// Where a view named like one (`HEAP8`, `Module.HEAP8`, `GROWABLE_HEAP_I8()`) is read as a
    /// whole, not indexed. The passes add the names a refresh function assigns and the
    /// structural helpers (`Context::view_reads`).
    ViewReads,
    /// `heap-snapshot`'s extra words: accessor objects (`get(offset) {…}`) and proxies.
    Snapshots,
    /// `asyncify-sleep-alloc`: the runtime object (`Asyncify`, `$Asyncify`, growsafe's
    /// `growsafeAsyncify`), JSPI (`WebAssembly.Suspending`…), Closure's `invalid state: `.
    Asyncify,
    /// `stored-heap-view` / `kept-buffer-view` besides view reads: the memory's buffer
    /// (`X.buffer`), and `X.grow(…)` (a function that grows memory itself keeps the old buffer
    /// on purpose).
    Kept,
}

impl Kind {
    const COUNT: usize = 5;

    fn words(self) -> &'static [Find<'static>] {
        match self {
            Kind::ViewReads => &[Find::NotIndexed("HEAP")],
            Kind::Snapshots => &[Find::Name("get"), Find::Text("Proxy")],
            Kind::Kept => &[Find::Member("buffer"), Find::Member("grow")],
            Kind::Asyncify => &[
                Find::Text("Asyncify"),
                Find::Text("WebAssembly"),
                Find::Text("invalid state"),
            ],
            Kind::Views => &[
                Find::Text("8Array"),
                Find::Text("6Array"),
                Find::Text("2Array"),
                Find::Text("4Array"),
                Find::Text("dArray"),
                Find::Member("buffer"),
                Find::Text("toResizableBuffer"),
            ],
        }
    }
}

/// Whether a word of `kind`, or an escape that could spell one, may occur in `bytes` or reach
/// into it from up to 16 bytes around `range` (the longest fixed word is 17 bytes long).
pub(crate) fn may_touch(kind: Kind, bytes: &[u8], range: TextRange) -> bool {
    let lo = (range.start as usize).saturating_sub(16);
    let hi = (range.end as usize + 16).min(bytes.len());
    let window = &bytes[lo..hi];
    memchr::memchr(b'\\', window).is_some()
        || kind
            .words()
            .iter()
            .any(|w| memchr::memmem::find(window, w.word().as_bytes()).is_some())
}

/// Every occurrence of every fixed word, by word: one leftmost-first pass, plus the
/// occurrences a match hides by overlapping them (`HEAProxy` holds `HEAP` and `Proxy`; `....`
/// holds `...` twice).
fn fixed_hits(bytes: &[u8]) -> Vec<Vec<u32>> {
    struct Search {
        automaton: aho_corasick::AhoCorasick,
        /// `(a, b, k)`: the last `k` bytes of word `a` are the first `k` of word `b`.
        overlaps: Vec<(usize, usize, usize)>,
    }
    static SEARCH: OnceLock<Search> = OnceLock::new();
    let search = SEARCH.get_or_init(|| {
        let automaton = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(WORDS)
            .expect("plain words");
        let mut overlaps = Vec::new();
        for (a, wa) in WORDS.iter().enumerate() {
            for (b, wb) in WORDS.iter().enumerate() {
                for k in 1..wa.len().min(wb.len() + 1) {
                    if wa.as_bytes()[wa.len() - k..] == wb.as_bytes()[..k] {
                        overlaps.push((a, b, k));
                    }
                }
            }
        }
        Search {
            automaton,
            overlaps,
        }
    });
    let mut hits = vec![Vec::new(); WORDS.len()];
    let mut hidden = false;
    for m in search.automaton.find_iter(bytes) {
        let word = m.pattern().as_usize();
        hits[word].push(to_u32(m.start()));
        // A word starting inside this match (the search resumes after it) starts with the
        // match's last bytes; one starting after it is the search's next match, or inside it.
        for &(_, b, k) in search.overlaps.iter().filter(|(a, _, _)| *a == word) {
            let at = m.end() - k;
            if bytes[at..].starts_with(WORDS[b].as_bytes()) {
                hits[b].push(to_u32(at));
                hidden = true;
            }
        }
    }
    if hidden {
        for list in &mut hits {
            list.sort_unstable();
            list.dedup();
        }
    }
    hits
}

impl MarkCache {
    /// Does the text searches every round needs (the fixed words, the escapes) ahead of the
    /// passes: beside the parse, on another thread.
    pub fn prefill(&self, text: &str) {
        self.hits.get_or_init(|| fixed_hits(text.as_bytes()));
        self.escapes(text);
    }

    pub fn get(&self, kind: Kind, text: &str, place: Place<'_>) -> &Marks {
        self.cells[kind as usize].get_or_init(|| self.find(kind.words(), text, place))
    }

    /// The marks of fixed words (each one of [`WORDS`]).
    pub fn fixed(&self, words: &[Find<'_>], text: &str, place: Place<'_>) -> Marks {
        let bytes = text.as_bytes();
        let hits = self.hits.get_or_init(|| fixed_hits(bytes));
        let mut at: Vec<BytePos> = self
            .escapes(text)
            .iter()
            .map(|&i| place.at(i as usize))
            .collect();
        for find in words {
            let word = WORDS
                .iter()
                .position(|w| *w == find.word())
                .expect("a fixed word");
            at.extend(
                hits[word]
                    .iter()
                    .filter(|&&i| find.keeps(bytes, i as usize))
                    .map(|&i| place.at(i as usize)),
            );
        }
        place.marks(at)
    }

    /// Where a fixed word occurs (offsets into the text).
    pub fn occurrences(&self, word: &str, text: &str) -> &[u32] {
        let hits = self.hits.get_or_init(|| fixed_hits(text.as_bytes()));
        let word = WORDS.iter().position(|w| *w == word).expect("a fixed word");
        &hits[word]
    }

    /// The text's escapes (see [`escapes`]).
    pub fn escapes(&self, text: &str) -> &[u32] {
        self.escapes.get_or_init(|| escapes(text))
    }

    /// The text searches of `new`, which is `old` with the `spliced` edits (old range, new
    /// range; in order, not overlapping), carried over from these searches of `old`: a hit
    /// clear of every edit is the same bytes, moved; only around the edits is `new` searched
    /// again. The result is that of searching `new` afresh: a word's occurrences depend only on
    /// their own bytes. Without the searches of `old`, nothing is carried.
    pub fn spliced(&self, old: &str, new: &str, spliced: &[(TextRange, TextRange)]) -> MarkCache {
        let carried = MarkCache::default();
        let (Some(hits), Some(escapes)) = (self.hits.get(), self.escapes.get()) else {
            return carried;
        };
        debug_assert_eq!(
            old.len() as i64
                + spliced
                    .iter()
                    .map(|(o, n)| i64::from(n.end - n.start) - i64::from(o.end - o.start))
                    .sum::<i64>(),
            new.len() as i64
        );
        // The windows of `new` that can hold a hit an edit touches: each edit widened by the
        // longest word but one (an escape is two bytes long), merged.
        let reach = WORDS.iter().map(|w| w.len()).max().unwrap_or(1) - 1;
        let mut windows: Vec<(usize, usize)> = Vec::new();
        for (_, n) in spliced {
            let lo = (n.start as usize).saturating_sub(reach);
            let hi = (n.end as usize + reach).min(new.len());
            match windows.last_mut() {
                Some(last) if last.1 >= lo => last.1 = last.1.max(hi),
                _ => windows.push((lo, hi)),
            }
        }
        let new_ranges: Vec<TextRange> = spliced.iter().map(|&(_, n)| n).collect();
        let mut fresh_hits = vec![Vec::new(); WORDS.len()];
        let mut fresh_escapes = Vec::new();
        for &(lo, hi) in &windows {
            // A window is cut at character boundaries: the words and `\\` are ASCII.
            let (lo, hi) = (new.floor_char_boundary(lo), new.ceil_char_boundary(hi));
            let base = to_u32(lo);
            for (word, found) in fixed_hits(&new.as_bytes()[lo..hi]).into_iter().enumerate() {
                let len = to_u32(WORDS[word].len());
                fresh_hits[word].extend(
                    found
                        .into_iter()
                        .map(|i| i + base)
                        .filter(|&i| touches_any(&new_ranges, i, len)),
                );
            }
            fresh_escapes.extend(
                escapes_in(&new[lo..])
                    .take_while(|&i| (i as usize) < hi - lo)
                    .map(|i| i + base)
                    .filter(|&i| touches_any(&new_ranges, i, 2)),
            );
        }
        let carry = |list: &[u32], len: u32, fresh: Vec<u32>| {
            let mut out = crate::diagnostic::carry_over(list, len, spliced);
            out.extend(fresh);
            out.sort_unstable();
            out.dedup();
            out
        };
        let hits: Vec<Vec<u32>> = hits
            .iter()
            .zip(fresh_hits)
            .enumerate()
            .map(|(word, (list, fresh))| carry(list, to_u32(WORDS[word].len()), fresh))
            .collect();
        let _ = carried.hits.set(hits);
        let _ = carried.escapes.set(carry(escapes, 2, fresh_escapes));
        carried
    }

    /// Marks of any words, sharing the text's escapes and the shared pass's hits.
    pub fn find(&self, words: &[Find<'_>], text: &str, place: Place<'_>) -> Marks {
        let (fixed, other): (Vec<Find<'_>>, Vec<Find<'_>>) =
            words.iter().partition(|w| WORDS.contains(&w.word()));
        match (fixed.is_empty(), other.is_empty()) {
            (false, true) => self.fixed(&fixed, text, place),
            (true, _) => find_with(text, place, &other, self.escapes(text)),
            (false, false) => {
                self.fixed(&fixed, text, place)
                    .with(&find_with(text, place, &other, &[]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Carrying the searches over edits gives what searching the edited text afresh gives,
    /// whatever the edits cut, join or insert (words, escapes, characters of several bytes).
    #[test]
    fn searches_carried_over_edits_equal_fresh_ones() {
        let unit = "var a = HEAP8, b = new Float32Array(HEAPU8.buffer); /* é ⌘ */\n\
                    Asyncify.handleSleep(x => growMemory(Module['HEAP16'])); s = '\\u0041\\n\\x41';\n\
                    var invalid state ENVIRONMENT_IS_NODE Object.assign(DataView, HEAProxy); ";
        let text = unit.repeat(6);
        let pieces = [
            "", "HE", "AP", "HEAP", "Asyn", "cify", "\\", "u0041", "é", "8Array", "Float6",
            "4Array", "grow", "buf", "fer", "invalid", " state", "Pro", "xy", "\\\\", "\n", "⌘",
            "x",
        ];
        let mut edits = crate::diagnostic::RandomEdits::new(0x2545_f491);
        let searched = MarkCache::default();
        searched.prefill(&text);
        for _ in 0..400 {
            let (new, spliced) = edits.splice(&text, &pieces, 1);
            let carried = searched.spliced(&text, &new, &spliced);
            let fresh = MarkCache::default();
            fresh.prefill(&new);
            assert_eq!(carried.hits.get(), fresh.hits.get(), "{spliced:?}");
            assert_eq!(carried.escapes.get(), fresh.escapes.get(), "{spliced:?}");
        }
        // Every word joined by a deletion at each of its inner points, and split by an
        // insertion there: the carried hits reach as far from an edit as the longest word.
        let check = |old: &str, new: &str, spliced: (TextRange, TextRange)| {
            let searched = MarkCache::default();
            searched.prefill(old);
            let carried = searched.spliced(old, new, &[spliced]);
            let fresh = MarkCache::default();
            fresh.prefill(new);
            assert_eq!(carried.hits.get(), fresh.hits.get(), "{old:?} -> {new:?}");
            assert_eq!(
                carried.escapes.get(),
                fresh.escapes.get(),
                "{old:?} -> {new:?}"
            );
        };
        for word in WORDS.iter().chain(&["\\u0041"]) {
            for k in 1..word.len() {
                let (left, right) = word.split_at(k);
                let split = format!("x {left}@{right} y");
                let joined = format!("x {word} y");
                let at = u32::try_from(2 + k).unwrap();
                let (edit, point) = (TextRange::new(at, at + 1), TextRange::empty(at));
                check(&split, &joined, (edit, point));
                check(&joined, &split, (point, edit));
            }
        }
        // Nothing searched, nothing carried: the next round searches for itself.
        let carried = MarkCache::default().spliced(&text, &text, &[]);
        assert!(carried.hits.get().is_none() && carried.escapes.get().is_none());
    }

    fn positions(text: &str, words: &[Find<'_>]) -> Vec<u32> {
        let patches = Patches::default();
        find(text, Place::new(BytePos(0), &patches), words)
            .at
            .iter()
            .map(|p| p.0)
            .collect()
    }

    #[test]
    fn words_near_a_range() {
        let text = b"var a = { HEAP8 }; var u8 = new Uint8Array(b); var c = { x: 1 };";
        let at = |s: &str| {
            let i = memchr::memmem::find(text, s.as_bytes()).unwrap();
            TextRange::new(
                u32::try_from(i).unwrap(),
                u32::try_from(i + s.len()).unwrap(),
            )
        };
        assert!(!may_touch(Kind::Views, text, at("{ HEAP8 }")));
        assert!(may_touch(Kind::Views, text, at("new Uint8Array(b)")));
        // A word that starts within 16 bytes of the range may reach into it.
        assert!(may_touch(Kind::Views, text, at("(b); var c")));
        assert!(!may_touch(Kind::Views, text, at("{ x: 1 }")));
        // An escape may spell any word.
        assert!(may_touch(
            Kind::Views,
            b"var o = { a: '\\u0061' };",
            at("{ HEAP8 }")
        ));
    }

    #[test]
    fn words_and_escapes() {
        let text = "HEAP8[0] = HEAP8; x.HEAP16 /* c */ [1]; y = 'H\\x45AP';";
        assert_eq!(positions(text, &[Find::Text("HEAP")]), [0, 11, 20, 46]);
        assert_eq!(positions(text, &[Find::NotIndexed("HEAP")]), [11, 46]);
        assert_eq!(
            positions("aHEAP8 HEAP8 HEAP8x", &[Find::Name("HEAP8")]),
            [7]
        );
        assert_eq!(
            positions(
                "a.HEAP8[0]; b . GROWABLE_HEAP_I8(); HEAP8; (\nHEAP8) x.\nHEAP8 // c\nHEAP8 m['HEAP8']",
                &[Find::Member("HEAP")]
            ),
            [2, 25, 55, 66, 75]
        );
    }

    #[test]
    fn each_finds_the_marked_elements() {
        use swc_common::DUMMY_SP;
        #[derive(Debug, PartialEq)]
        struct E(u32, u32);
        impl Spanned for E {
            fn span(&self) -> Span {
                Span::new(BytePos(self.0), BytePos(self.1))
            }
        }
        let _ = DUMMY_SP;
        let list = [E(0, 10), E(10, 20), E(25, 30), E(30, 40)];
        let marks = Marks {
            at: vec![
                BytePos(5),
                BytePos(7),
                BytePos(22),
                BytePos(35),
                BytePos(50),
            ],
            ranges: Vec::new(),
        };
        let found: Vec<&E> = marks.each(&list).collect();
        assert_eq!(found, [&list[0], &list[3]]);
        assert!(marks.covers(Span::new(BytePos(20), BytePos(23))));
        assert!(!marks.covers(Span::new(BytePos(8), BytePos(22))));
    }
}
