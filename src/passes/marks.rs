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

/// Sorted positions, in swc's coordinates, that a sparse walk must reach.
#[derive(Debug, Default, Clone)]
pub(crate) struct Marks {
    at: Vec<BytePos>,
}

impl Marks {
    /// Whether `span` holds a mark.
    #[inline]
    pub fn covers(&self, span: Span) -> bool {
        let i = self.at.partition_point(|p| *p < span.lo);
        self.at.get(i).is_some_and(|p| *p < span.hi)
    }

    /// Whether there is no mark at all.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// The elements of a position-ordered list whose spans hold a mark, found by binary search
    /// (a statement list of glue has thousands of elements, and a walk only wants a few).
    pub fn each<'l, T: Spanned>(&self, list: &'l [T]) -> impl Iterator<Item = &'l T> {
        let first = list.first().map_or(BytePos(u32::MAX), |e| e.span().lo);
        let mut next = self.at.partition_point(|p| *p < first);
        let mut rest = list;
        std::iter::from_fn(move || {
            loop {
                let mark = *self.at.get(next)?;
                // The first element that ends after the mark.
                let i = rest.partition_point(|e| e.span().hi <= mark);
                let item = rest.get(i)?;
                let span = item.span();
                rest = &rest[i..];
                if span.lo <= mark {
                    // Skip the marks inside this element, and the element itself next time.
                    next += self.at[next..].partition_point(|p| *p < span.hi);
                    rest = &rest[1..];
                    return Some(item);
                }
                // The mark is between elements: go on from the first mark of this element.
                next += self.at[next..].partition_point(|p| *p < span.lo);
            }
        })
    }

    /// The union of two sets.
    pub fn with(mut self, other: &Marks) -> Marks {
        self.at.extend_from_slice(&other.at);
        self.at.sort_unstable();
        self.at.dedup();
        self
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
    /// Occurrences in an identifier that follows a `.`: a property name (`memory.HEAP16[i]`).
    /// An identifier at the start of a line, or after a `/` that may end a comment, counts too.
    Member(&'w str),
}

/// Marks at the numeric literals of `text` that may equal one of `values` (see
/// `traces::number_positions`), plus every escape.
pub(crate) fn numbers(text: &str, start: BytePos, values: &[f64]) -> Marks {
    let mut at: Vec<BytePos> = escapes(text).iter().map(|&i| start + BytePos(i)).collect();
    at.extend(
        crate::traces::number_positions(text, values, false)
            .into_iter()
            .map(|i| start + BytePos(u32::try_from(i).expect("inputs are below 4 GiB"))),
    );
    at.sort_unstable();
    at.dedup();
    Marks { at }
}

/// Marks at the given positions.
pub(crate) fn at(positions: Vec<BytePos>) -> Marks {
    let mut at = positions;
    at.sort_unstable();
    at.dedup();
    Marks { at }
}

/// Builds the marks of `words` in `text` (which starts at `start` in swc's coordinates), plus
/// every escape.
pub(crate) fn find(text: &str, start: BytePos, words: &[Find<'_>]) -> Marks {
    let bytes = text.as_bytes();
    let mut at: Vec<BytePos> = escapes(text).iter().map(|&i| start + BytePos(i)).collect();
    for word in words {
        let (needle, keep): (&str, fn(&[u8], usize, usize) -> bool) = match *word {
            Find::Text(w) => (w, |_, _, _| true),
            Find::NotIndexed(w) => (w, not_indexed),
            Find::Name(w) => (w, whole_name),
            Find::Member(w) => (w, after_dot),
        };
        if needle.is_empty() {
            continue;
        }
        for i in Finder::new(needle).find_iter(bytes) {
            if keep(bytes, i, needle.len()) {
                at.push(start + BytePos(u32::try_from(i).expect("inputs are below 4 GiB")));
            }
        }
    }
    at.sort_unstable();
    at.dedup();
    Marks { at }
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
    while j > 0 && matches!(bytes[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    // A line break or a `/` may hide a comment between the `.` and the name.
    j == 0 || matches!(bytes[j - 1], b'.' | b'/' | b'\n' | b'\r') || bytes[j - 1] >= 0x80
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
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for i in memchr::memchr_iter(b'\\', bytes) {
        let spells_letter = bytes.get(i + 1).is_some_and(|&b| {
            b.is_ascii_digit()
                || matches!(b, b'\r' | b'\n')
                || b >= 0x80
                || (b.is_ascii_alphabetic() && !b"nrtbfv".contains(&b))
        });
        if spells_letter {
            out.push(u32::try_from(i).expect("inputs are below 4 GiB"));
        }
    }
    out
}

/// Marks computed once for a text (lazily, per kind), shared by the passes of one round.
#[derive(Default)]
pub(crate) struct MarkCache {
    cells: [OnceLock<Marks>; Kind::COUNT],
}

/// The fixed mark sets the passes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Kind {
    /// What `Views::build` looks at: typed arrays, `.buffer` comparisons, resizable buffers.
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
}

impl Kind {
    const COUNT: usize = 4;

    fn words(self) -> &'static [Find<'static>] {
        match self {
            Kind::ViewReads => &[Find::NotIndexed("HEAP")],
            Kind::Snapshots => &[Find::Name("get"), Find::Text("Proxy")],
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
                Find::NotIndexed("buffer"),
                Find::Text("toResizableBuffer"),
            ],
        }
    }
}

impl MarkCache {
    pub fn get(&self, kind: Kind, text: &str, start: BytePos) -> &Marks {
        self.cells[kind as usize].get_or_init(|| find(text, start, kind.words()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(text: &str, words: &[Find<'_>]) -> Vec<u32> {
        find(text, BytePos(0), words).at.iter().map(|p| p.0).collect()
    }

    #[test]
    fn words_and_escapes() {
        let text = "HEAP8[0] = HEAP8; x.HEAP16 /* c */ [1]; y = 'H\\x45AP';";
        assert_eq!(positions(text, &[Find::Text("HEAP")]), [0, 11, 20, 46]);
        assert_eq!(positions(text, &[Find::NotIndexed("HEAP")]), [11, 46]);
        assert_eq!(positions("aHEAP8 HEAP8 HEAP8x", &[Find::Name("HEAP8")]), [7]);
        assert_eq!(
            positions("a.HEAP8[0]; b . GROWABLE_HEAP_I8(); HEAP8; (\nHEAP8)", &[Find::Member("HEAP")]),
            [2, 25, 45]
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
            at: vec![BytePos(5), BytePos(7), BytePos(22), BytePos(35), BytePos(50)],
        };
        let found: Vec<&E> = marks.each(&list).collect();
        assert_eq!(found, [&list[0], &list[3]]);
        assert!(marks.covers(Span::new(BytePos(20), BytePos(23))));
        assert!(!marks.covers(Span::new(BytePos(8), BytePos(22))));
    }
}
