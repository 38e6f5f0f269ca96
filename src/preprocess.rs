//! Emscripten JS library sources (`--js-library` files): `#if` lines and `{{{ … }}}` macros,
//! made parseable without moving a single byte.
//!
//! Emscripten runs two passes over a library file before it is JavaScript. Its preprocessor
//! (`preprocess` in `src/parseTools.js`) treats every line whose trimmed text starts with `#` as
//! a directive: 3.1.6 knows `#if`, `#ifdef`, `#elif`, `#else`, `#endif` and `#include`; later
//! releases add `#error`, `#warning` and `#preprocess`. Neither knows `#ifndef` or `#define`.
//! Then `processMacros` replaces every `{{{ code }}}` (non-greedy, newlines allowed) with the
//! result of evaluating `code` at compile time.
//!
//! growsafe can evaluate neither, so it reads such a file through a [`Reading`]: a text of
//! exactly the same length as the file, in which
//!
//! - each directive line becomes a line comment (`#endif` → `//$$$$`), except an `#include`
//!   that stands where a value is expected (`$IDBStore:` / `#include IDBStore.js`), which
//!   becomes a placeholder identifier (`$$$$$$$$$$$$$$$$$$$$`);
//! - each macro becomes a placeholder identifier made of `$` (`{{{ C_STRUCTS.flock.l_type }}}`
//!   → `$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$`), or a line comment when it stands alone on its lines
//!   between statements or object members (where macros generate whole members); characters
//!   after the macro's first line become spaces, its line breaks stay;
//! - the branches of some `#if` chains may be blanked (spaces, line breaks kept), depending on
//!   the [`Variant`].
//!
//! Every offset, line and column in a reading is therefore the offset, line and column of the
//! real source. The caller parses a reading and, on a syntax error, lets [`Library::adjust`]
//! change the reading at the error: a macro placeholder there switches between value and
//! nothing (`numCallArgs {{{ WASM_BIGINT ? "* 2" : "" }}}` is an operator fragment), and, for
//! the per-branch variants, the innermost chain around the error (or the nearest one before it)
//! keeps only its first or last branch. Each change happens once, so the loop ends.
//!
//! What is *not* in a reading (directive lines, macros, dropped branches) is what a fix must
//! never edit or copy: see [`Library::what_touches`] and [`copies_placeholder`].

use serde::Serialize;

use crate::diagnostic::TextRange;

/// Which branches of the `#if` chains a reading keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Every branch, one after the other: all the code of the file in one program.
    AllBranches,
    /// Every branch, except that each chain whose branches do not parse together keeps only its
    /// first (as if its condition were true).
    FirstBranches,
    /// Every branch, except that each chain whose branches do not parse together keeps only its
    /// last (the `#else`, or the `#if` body of a chain without one).
    LastBranches,
}

impl Variant {
    /// The variants, in the order growsafe tries them.
    pub const ALL: [Variant; 3] = [
        Variant::AllBranches,
        Variant::FirstBranches,
        Variant::LastBranches,
    ];

    /// A phrase for messages: "with …".
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Variant::AllBranches => "all `#if` branches together",
            Variant::FirstBranches => {
                "only the first branch of each `#if` that does not parse otherwise"
            }
            Variant::LastBranches => {
                "only the last branch of each `#if` that does not parse otherwise"
            }
        }
    }
}

/// A directive line growsafe recognises (the union of what Emscripten 3.1.6 and later accept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    /// `#if` or `#ifdef`: opens a chain.
    If,
    /// `#elif`: starts the next branch.
    Elif,
    /// `#else`: starts the next branch (Emscripten toggles on a repeated `#else`; so does a
    /// chain here: each one starts a branch).
    Else,
    /// `#endif`: closes the chain.
    Endif,
    /// `#include FILE`: pastes another file here.
    Include,
    /// `#error`, `#warning`, `#preprocess`: no code.
    Other,
}

impl Directive {
    fn from_keyword(word: &str) -> Option<Self> {
        Some(match word {
            "if" | "ifdef" => Directive::If,
            "elif" => Directive::Elif,
            "else" => Directive::Else,
            "endif" => Directive::Endif,
            "include" => Directive::Include,
            "error" | "warning" | "preprocess" => Directive::Other,
            _ => return None,
        })
    }
}

/// A directive the preprocessor structure does not allow (`#endif` without `#if`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    /// What is wrong, in one line.
    pub message: String,
    /// The directive (from its `#`).
    pub range: TextRange,
}

/// How a directive line or macro reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder {
    /// `$$$$…`: a value.
    Identifier,
    /// `//$$…`: nothing, for what stands alone at the end of its line (safe inside a block
    /// comment too).
    Comment,
    /// `/*$$…*/`: nothing, in the middle of a line; only for a macro flipped at a syntax error,
    /// which is in code, not in a comment.
    BlockComment,
}

impl Placeholder {
    fn flipped(self) -> Self {
        match self {
            Placeholder::Identifier => Placeholder::BlockComment,
            Placeholder::Comment | Placeholder::BlockComment => Placeholder::Identifier,
        }
    }
}

/// A directive line or macro, replaced in every reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Region {
    /// From the `#` to the end of the line (without the line break), or `{{{` … `}}}`.
    range: TextRange,
    /// `None` for a macro.
    directive: Option<Directive>,
    /// How it reads unless a reading flips it.
    placeholder: Placeholder,
}

/// One branch of an `#if` chain.
#[derive(Debug, Clone, Copy)]
struct Branch {
    /// The directive that opens it (`#if`, `#elif` or `#else`).
    opener: TextRange,
    /// From the start of the line after the opener to the start of the next directive's line.
    body: TextRange,
}

/// An `#if` … `#endif` chain.
#[derive(Debug, Clone)]
struct Chain {
    branches: Vec<Branch>,
    /// From the `#if` to the end of the `#endif` line.
    span: TextRange,
    /// The branch this chain sits in: (chain index, branch index).
    parent: Option<(usize, usize)>,
}

/// A branch that no checked reading contains: its code was not analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unchecked {
    /// The directive that opens the branch.
    pub opener: TextRange,
    /// The branch's lines.
    pub body: TextRange,
}

/// A concrete way of reading a library file: a [`Variant`], which chains keep a single branch,
/// and which placeholders are flipped. Start from [`Library::reading`]; refine with
/// [`Library::adjust`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    variant: Variant,
    /// Per chain: keeps only its first (or last) branch.
    collapsed: Vec<bool>,
    /// Per region: reads the other way than its default.
    flipped: Vec<bool>,
}

impl Reading {
    /// The variant this reading refines.
    #[must_use]
    pub fn variant(&self) -> Variant {
        self.variant
    }
}

/// What the preprocessor scan found in a file that has directives or macros.
#[derive(Debug, Clone)]
pub struct Library {
    /// The file's text.
    text: String,
    /// Directive lines and macros, in order.
    regions: Vec<Region>,
    /// `#if` chains, in order of their `#if`.
    chains: Vec<Chain>,
}

/// Scans `text` for Emscripten preprocessor lines and macros.
///
/// Returns `Ok(None)` when there are none (the file is plain JavaScript).
///
/// # Errors
/// A directive out of place: `#elif`/`#else`/`#endif` without an open `#if`, or an `#if`
/// never closed.
pub fn scan(text: &str) -> Result<Option<Library>, DirectiveError> {
    let directives = directive_lines(text);
    if directives.is_empty() && memchr::memmem::find(text.as_bytes(), b"{{{").is_none() {
        // No directive and no macro: not a library (and no copy of the text to make).
        return Ok(None);
    }
    let chains = chains(text, &directives)?;
    // Placeholders are chosen in order, each looking at the text before it as already replaced.
    let mut buf = text.as_bytes().to_vec();
    let mut regions = Vec::new();
    for &(range, directive) in &directives {
        let placeholder = if directive == Directive::Include && expects_value(&buf, range.start) {
            Placeholder::Identifier
        } else {
            Placeholder::Comment
        };
        write_placeholder(&mut buf, range, placeholder);
        regions.push(Region {
            range,
            directive: Some(directive),
            placeholder,
        });
    }
    for range in macros(&buf) {
        let placeholder = if stands_alone(&buf, range) && !expects_value(&buf, range.start) {
            Placeholder::Comment
        } else {
            Placeholder::Identifier
        };
        write_placeholder(&mut buf, range, placeholder);
        regions.push(Region {
            range,
            directive: None,
            placeholder,
        });
    }
    if regions.is_empty() {
        return Ok(None);
    }
    regions.sort_by_key(|r| r.range.start);
    Ok(Some(Library {
        text: text.to_owned(),
        regions,
        chains,
    }))
}

/// Whether a fix's replacement text contains a placeholder, i.e. copies code that the reading
/// had replaced (a macro or a directive line). Placeholders begin with `$$$`, `//$` or `/*$`,
/// which real code next to never contains; a false alarm only costs a fix.
#[must_use]
pub fn copies_placeholder(replacement: &str) -> bool {
    ["$$$", "//$", "/*$"]
        .iter()
        .any(|marker| replacement.contains(marker))
}

impl Library {
    /// The variants worth trying, in order: all branches, then, when there are `#if` chains,
    /// the first and the last branches.
    #[must_use]
    pub fn variants(&self) -> Vec<Variant> {
        if self.has_conditionals() {
            Variant::ALL.to_vec()
        } else {
            vec![Variant::AllBranches]
        }
    }

    /// The starting reading of a variant: every branch kept, every placeholder as scanned.
    #[must_use]
    pub fn reading(&self, variant: Variant) -> Reading {
        Reading {
            variant,
            collapsed: vec![false; self.chains.len()],
            flipped: vec![false; self.regions.len()],
        }
    }

    /// A reading in which every chain keeps only its first (or last) branch: what Emscripten
    /// would see if every condition were true (or, for chains with `#else`, false).
    #[must_use]
    pub fn collapsed(&self, variant: Variant) -> Reading {
        Reading {
            variant,
            collapsed: vec![variant != Variant::AllBranches; self.chains.len()],
            flipped: vec![false; self.regions.len()],
        }
    }

    /// The text of a reading: the file's length, line breaks where the file has them.
    #[must_use]
    pub fn text(&self, reading: &Reading) -> String {
        let mut buf = self.text.as_bytes().to_vec();
        for (region, &flipped) in self.regions.iter().zip(&reading.flipped) {
            let placeholder = if flipped {
                region.placeholder.flipped()
            } else {
                region.placeholder
            };
            write_placeholder(&mut buf, region.range, placeholder);
        }
        for (c, chain) in self.chains.iter().enumerate() {
            if !reading.collapsed[c] {
                continue;
            }
            let keep = self.kept_branch(reading.variant, c);
            for (b, branch) in chain.branches.iter().enumerate() {
                if Some(b) != keep {
                    blank(&mut buf, branch.body);
                }
            }
        }
        String::from_utf8(buf).expect("placeholders replace whole characters with ASCII")
    }

    /// Changes `reading` after its text failed to parse at `offset`: flips the macro
    /// placeholder at (or just before) the error, or else, unless the variant keeps all
    /// branches, collapses the innermost chain around the error (or the nearest one before
    /// it). Returns `false` when there is nothing left to change there.
    pub fn adjust(&self, reading: &mut Reading, offset: u32) -> bool {
        let text = self.text(reading);
        if let Some(region) = self.macro_at(&text, offset)
            && !reading.flipped[region]
        {
            reading.flipped[region] = true;
            return true;
        }
        if reading.variant == Variant::AllBranches {
            return false;
        }
        let open = |c: &usize| !reading.collapsed[*c];
        let around = (0..self.chains.len())
            .filter(open)
            .filter(|&c| {
                let span = self.chains[c].span;
                span.start <= offset && offset < span.end
            })
            .min_by_key(|&c| self.chains[c].span.end - self.chains[c].span.start);
        let before = || {
            (0..self.chains.len())
                .filter(open)
                .filter(|&c| self.chains[c].span.end <= offset)
                .max_by_key(|&c| {
                    (
                        self.chains[c].span.end,
                        u32::MAX - self.chains[c].span.start,
                    )
                })
        };
        match around.or_else(before) {
            Some(c) => {
                reading.collapsed[c] = true;
                true
            }
            None => false,
        }
    }

    /// The macro whose placeholder is at `offset`, or ends just before it (only whitespace
    /// between).
    fn macro_at(&self, text: &str, offset: u32) -> Option<usize> {
        let upto = self.regions.partition_point(|r| r.range.start <= offset);
        let index = upto.checked_sub(1)?;
        let region = &self.regions[index];
        if region.directive.is_some() {
            return None;
        }
        let end = region.range.end.min(offset) as usize;
        text[end..offset as usize]
            .trim()
            .is_empty()
            .then_some(index)
    }

    /// Whether the file has `#if` chains (so variants differ).
    #[must_use]
    pub fn has_conditionals(&self) -> bool {
        !self.chains.is_empty()
    }

    /// How many directive lines a reading replaces.
    #[must_use]
    pub fn directive_count(&self) -> usize {
        self.regions
            .iter()
            .filter(|r| r.directive.is_some())
            .count()
    }

    /// How many `{{{ }}}` macros a reading replaces.
    #[must_use]
    pub fn macro_count(&self) -> usize {
        self.regions
            .iter()
            .filter(|r| r.directive.is_none())
            .count()
    }

    /// How many chains a reading keeps only one branch of.
    #[must_use]
    pub fn collapsed_count(reading: &Reading) -> usize {
        reading.collapsed.iter().filter(|&&c| c).count()
    }

    /// "a `{{{ }}}` macro" or "a preprocessor line" when an edit of `range` would touch
    /// (overlap or abut) one; `None` when it touches neither.
    #[must_use]
    pub fn what_touches(&self, range: TextRange) -> Option<&'static str> {
        let first = self.regions.partition_point(|r| r.range.end < range.start);
        let region = self.regions[first..]
            .iter()
            .take_while(|r| r.range.start <= range.end)
            .find(|r| r.range.touches(range))?;
        Some(match region.directive {
            None => "a `{{{ }}}` macro",
            Some(Directive::Include) => "an `#include` line",
            Some(_) => "a preprocessor line",
        })
    }

    /// The outermost non-empty branches that none of `readings` keeps.
    #[must_use]
    pub fn unchecked(&self, readings: &[Reading]) -> Vec<Unchecked> {
        let kept =
            |chain: usize, branch: usize| readings.iter().any(|r| self.keeps(r, chain, branch));
        let mut out: Vec<Unchecked> = Vec::new();
        for (c, chain) in self.chains.iter().enumerate() {
            for (b, branch) in chain.branches.iter().enumerate() {
                let parent_kept = chain.parent.is_none_or(|(pc, pb)| kept(pc, pb));
                if !kept(c, b) && parent_kept && !self.is_blank(branch.body) {
                    out.push(Unchecked {
                        opener: branch.opener,
                        body: branch.body,
                    });
                }
            }
        }
        out.sort_by_key(|u| u.body.start);
        out
    }

    /// The one branch a collapsed chain keeps in `variant`.
    fn kept_branch(&self, variant: Variant, chain: usize) -> Option<usize> {
        match variant {
            Variant::AllBranches => None,
            Variant::FirstBranches => Some(0),
            Variant::LastBranches => Some(self.chains[chain].branches.len() - 1),
        }
    }

    /// Whether `reading` keeps branch `branch` of chain `chain` and every branch around it.
    fn keeps(&self, reading: &Reading, chain: usize, branch: usize) -> bool {
        let mut at = Some((chain, branch));
        while let Some((c, b)) = at {
            if reading.collapsed[c] && self.kept_branch(reading.variant, c) != Some(b) {
                return false;
            }
            at = self.chains[c].parent;
        }
        true
    }

    /// Whether a range holds only whitespace, comments and directive lines.
    fn is_blank(&self, range: TextRange) -> bool {
        self.text[range.as_usize()].lines().all(|line| {
            let line = line.trim();
            line.is_empty() || line.starts_with("//") || line.starts_with('#')
        })
    }
}

/// Every directive line: the range from its `#` to the end of its line (without `\r`/`\n`).
fn directive_lines(text: &str) -> Vec<(TextRange, Directive)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    // Only a `#` with nothing but whitespace before it on its line can start a directive.
    for hash in memchr::memchr_iter(b'#', bytes) {
        let start = memchr::memrchr(b'\n', &bytes[..hash]).map_or(0, |n| n + 1);
        if !text[start..hash].chars().all(char::is_whitespace) {
            continue;
        }
        let end = memchr::memchr(b'\n', &bytes[hash..]).map_or(bytes.len(), |n| hash + n);
        let content = text[hash..end].trim_end_matches('\r');
        let rest = &content[1..];
        let word_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let (word, after) = rest.split_at(word_end);
        let ends_word = after.is_empty() || after.starts_with(char::is_whitespace);
        if let (Some(directive), true) = (Directive::from_keyword(word), ends_word) {
            out.push((
                TextRange::new(to_u32(hash), to_u32(hash + content.len())),
                directive,
            ));
        }
    }
    out
}

/// Builds the `#if` chains, checking that the directives nest.
fn chains(text: &str, directives: &[(TextRange, Directive)]) -> Result<Vec<Chain>, DirectiveError> {
    let line_after = |range: TextRange| -> u32 {
        text[range.end as usize..]
            .find('\n')
            .map_or(to_u32(text.len()), |n| range.end + to_u32(n) + 1)
    };
    let line_start = |range: TextRange| -> u32 {
        text[..range.start as usize]
            .rfind('\n')
            .map_or(0, |n| to_u32(n + 1))
    };
    let mut chains: Vec<Chain> = Vec::new();
    // Indexes of the open chains, innermost last.
    let mut stack: Vec<usize> = Vec::new();
    for &(range, directive) in directives {
        match directive {
            Directive::If => {
                let parent = stack.last().map(|&c| (c, chains[c].branches.len() - 1));
                stack.push(chains.len());
                chains.push(Chain {
                    branches: vec![Branch {
                        opener: range,
                        body: TextRange::empty(line_after(range)),
                    }],
                    span: range,
                    parent,
                });
            }
            Directive::Elif | Directive::Else | Directive::Endif => {
                let Some(&open) = stack.last() else {
                    let name = match directive {
                        Directive::Elif => "#elif",
                        Directive::Else => "#else",
                        _ => "#endif",
                    };
                    return Err(DirectiveError {
                        message: format!("`{name}` without a matching `#if`"),
                        range,
                    });
                };
                let chain = &mut chains[open];
                let current = chain.branches.last_mut().expect("a chain has a branch");
                current.body = TextRange::new(current.body.start, line_start(range));
                if directive == Directive::Endif {
                    chain.span = TextRange::new(chain.span.start, range.end);
                    stack.pop();
                } else {
                    chain.branches.push(Branch {
                        opener: range,
                        body: TextRange::empty(line_after(range)),
                    });
                }
            }
            Directive::Include | Directive::Other => {}
        }
    }
    if let Some(&open) = stack.first() {
        return Err(DirectiveError {
            message: "`#if` without a matching `#endif`".to_owned(),
            range: chains[open].branches[0].opener,
        });
    }
    Ok(chains)
}

/// Every `{{{ … }}}` macro, as Emscripten's `/{{{([\s\S]+?)}}}/g` finds them, except a `{{{`
/// after `//` on its line whose `}}}` is on a later line (a Vim fold marker in a comment).
fn macros(buf: &[u8]) -> Vec<TextRange> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while let Some(open) = find(buf, b"{{{", at) {
        // At least one character of code between the braces.
        let Some(close) = find(buf, b"}}}", open + 4) else {
            break;
        };
        let end = close + 3;
        let line_start = buf[..open]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |n| n + 1);
        let in_comment = find(&buf[line_start..open], b"//", 0).is_some();
        if in_comment && buf[open..end].contains(&b'\n') {
            at = open + 3;
            continue;
        }
        out.push(TextRange::new(to_u32(open), to_u32(end)));
        at = end;
    }
    out
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|n| from + n)
}

/// Whether only whitespace precedes `range` on its first line and follows it on its last.
fn stands_alone(buf: &[u8], range: TextRange) -> bool {
    let before = buf[..range.start as usize]
        .iter()
        .rev()
        .take_while(|&&b| b != b'\n');
    let after = buf[range.end as usize..]
        .iter()
        .take_while(|&&b| b != b'\n');
    before.chain(after).all(u8::is_ascii_whitespace)
}

/// Whether the code before `at` leaves an expression open, so a placeholder there must be a
/// value: the last significant character before it is not `{`, `}`, `;`, `,` (or the start of
/// the file). Comment lines are skipped; a trailing `// …` after whitespace is ignored.
fn expects_value(buf: &[u8], at: u32) -> bool {
    let mut end = at as usize;
    // The part of the current line before `at`, then whole previous lines.
    loop {
        let start = buf[..end]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |n| n + 1);
        let line = String::from_utf8_lossy(&buf[start..end]);
        let trimmed = line.trim();
        let comment_line =
            trimmed.starts_with("//") || trimmed.starts_with('*') || trimmed.starts_with("/*");
        if !trimmed.is_empty() && !comment_line {
            let code = match trimmed.find(" //").or_else(|| trimmed.find("\t//")) {
                Some(n) => trimmed[..n].trim_end(),
                None => trimmed,
            };
            if let Some(last) = code.chars().next_back() {
                return !matches!(last, '{' | '}' | ';' | ',');
            }
        }
        if start == 0 {
            return false;
        }
        end = start - 1;
    }
}

/// Writes a placeholder over `range`: the first line becomes `$…` (or `//$…`), the rest spaces,
/// line breaks kept.
fn write_placeholder(buf: &mut [u8], range: TextRange, placeholder: Placeholder) {
    let bytes = &mut buf[range.as_usize()];
    let first_line = bytes
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(bytes.len());
    for (i, b) in bytes.iter_mut().enumerate() {
        if i < first_line {
            *b = b'$';
        } else if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
    // Directive lines and macros are at least 3 bytes on their first line; macros at least 7
    // in all.
    match placeholder {
        Placeholder::Identifier => {}
        Placeholder::Comment => bytes[..2].copy_from_slice(b"//"),
        Placeholder::BlockComment => {
            let end = bytes.len();
            bytes[..2].copy_from_slice(b"/*");
            bytes[end - 2..].copy_from_slice(b"*/");
        }
    }
}

/// Replaces every byte of `range` but line breaks with a space.
fn blank(buf: &mut [u8], range: TextRange) {
    for b in &mut buf[range.as_usize()] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("growsafe handles files under 4 GiB")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(text: &str) -> Library {
        scan(text).unwrap().unwrap()
    }

    fn all(text: &str) -> String {
        let lib = library(text);
        lib.text(&lib.reading(Variant::AllBranches))
    }

    /// `s` as an identifier placeholder.
    fn dollars(s: &str) -> String {
        "$".repeat(s.len())
    }

    /// `s` as a line-comment placeholder.
    fn comment(s: &str) -> String {
        format!("//{}", "$".repeat(s.len() - 2))
    }

    /// `s` blanked.
    fn spaces(s: &str) -> String {
        " ".repeat(s.len())
    }

    fn at(text: &str, needle: &str) -> u32 {
        u32::try_from(text.find(needle).unwrap()).unwrap()
    }

    #[test]
    fn plain_javascript_is_not_a_library() {
        for text in [
            "var a = 1;\n",
            "class A {\n  #x = 1;\n  #ifx = 2;\n}\n",
            "#!/usr/bin/env node\nf();\n",
            "var s = '{{{';\n",
            "var t = '{{{}}}';\n",
        ] {
            assert!(scan(text).unwrap().is_none(), "{text:?}");
        }
    }

    #[test]
    fn directive_lines_become_comments_of_the_same_length() {
        let text = "a();\n  #if ASYNCIFY // why\r\nb();\n#else\nc();\n#endif\n";
        let v = all(text);
        let expected = format!(
            "a();\n  {}\r\nb();\n{}\nc();\n{}\n",
            comment("#if ASYNCIFY // why"),
            comment("#else"),
            comment("#endif")
        );
        assert_eq!(v, expected);
        assert_eq!(v.len(), text.len());
    }

    #[test]
    fn collapsed_readings_keep_the_first_or_the_last_branch() {
        let text = "#if A\nfunction f(a, b) {\n#elif B\nfunction f(a) {\n#else\nfunction f() {\n#endif\n  return 1;\n}\n#if C\nx();\n#endif\n";
        let lib = library(text);
        assert_eq!(lib.variants(), Variant::ALL);
        let [a, b, c] = ["function f(a, b) {", "function f(a) {", "function f() {"];
        let first = lib.text(&lib.collapsed(Variant::FirstBranches));
        let expected = format!(
            "//$$$\n{a}\n//$$$$$\n{}\n//$$$\n{}\n//$$$$\n  return 1;\n}}\n//$$$\nx();\n//$$$$\n",
            spaces(b),
            spaces(c)
        );
        assert_eq!(first, expected);
        // The last branch of a chain without `#else` is its `#if` body.
        let last = lib.text(&lib.collapsed(Variant::LastBranches));
        let expected = format!(
            "//$$$\n{}\n//$$$$$\n{}\n//$$$\n{c}\n//$$$$\n  return 1;\n}}\n//$$$\nx();\n//$$$$\n",
            spaces(a),
            spaces(b)
        );
        assert_eq!(last, expected);
    }

    #[test]
    fn adjusting_collapses_only_the_chain_at_the_error() {
        let text = "#if A\ng();\n#else\nh();\n#endif\n#if B\nfunction f(a) {\n#else\nfunction f() {\n#endif\n  return 1;\n}\n";
        let lib = library(text);
        let mut reading = lib.reading(Variant::FirstBranches);
        // The parser stops inside the second chain.
        assert!(lib.adjust(&mut reading, at(text, "function f()")));
        assert_eq!(Library::collapsed_count(&reading), 1);
        let read = lib.text(&reading);
        assert!(read.contains("g();\n//$$$\nh();"), "{read}");
        assert!(
            read.contains("function f(a) {\n//$$$\n              \n"),
            "{read}"
        );
        // An error before every chain cannot be helped.
        let text = format!("x x;\n{text}");
        let lib = library(&text);
        let mut reading = lib.reading(Variant::LastBranches);
        assert!(!lib.adjust(&mut reading, 2));
        // All branches: chains are never collapsed.
        let mut reading = lib.reading(Variant::AllBranches);
        assert!(!lib.adjust(&mut reading, at(&text, "function f()")));
    }

    #[test]
    fn adjusting_flips_the_macro_at_the_error() {
        let text = "var n = count {{{ WASM_BIGINT ? '* 2' : '' }}};\n";
        let lib = library(text);
        let mut reading = lib.reading(Variant::AllBranches);
        let read = lib.text(&reading);
        assert!(read.starts_with("var n = count $$$"), "{read}");
        assert!(lib.adjust(&mut reading, at(text, "{{{")));
        let read = lib.text(&reading);
        let expected = format!(
            "var n = count /*{}*/;\n",
            "$".repeat("{{{ WASM_BIGINT ? '* 2' : '' }}}".len() - 4)
        );
        assert_eq!(read, expected);
        // Each placeholder flips once.
        assert!(!lib.adjust(&mut reading, at(text, "{{{")));
    }

    #[test]
    fn unchecked_branches_are_the_outermost_ones_no_reading_keeps() {
        let text = "#if A\n#if B\nb();\n#else\nnb();\n#endif\n#else\nna();\n#endif\n";
        let lib = library(text);
        let bodies = |readings: &[Reading]| -> Vec<String> {
            lib.unchecked(readings)
                .iter()
                .map(|u| text[u.body.as_usize()].trim().to_owned())
                .collect()
        };
        let first = lib.collapsed(Variant::FirstBranches);
        let last = lib.collapsed(Variant::LastBranches);
        // Only the first branches: `nb()` (inside A) and `na()`.
        assert_eq!(bodies(std::slice::from_ref(&first)), ["nb();", "na();"]);
        // With the last branches too, only `nb()` (else inside the first branch) is left.
        assert_eq!(bodies(&[first, last.clone()]), ["nb();"]);
        // Only the last branches: the whole first branch of A, once.
        let unchecked = bodies(&[last]);
        assert_eq!(unchecked.len(), 1);
        assert!(unchecked[0].starts_with("#if B\nb();"), "{unchecked:?}");
        assert!(
            lib.unchecked(&[lib.reading(Variant::AllBranches)])
                .is_empty()
        );
    }

    #[test]
    fn macros_become_identifiers_or_comments() {
        let text = "x = {{{ C_STRUCTS.flock.l_type }}};\n{{{ makeSetValue('p', 0, 'v', 'i32') }}};\nvar o = {\n  a: 1,\n  {{{ makeMembers() }}}\n  b: {{{ cDefine('EINVAL') }}}\n};\n";
        let v = all(text);
        assert_eq!(v.len(), text.len());
        let expected = format!(
            "x = {};\n{};\nvar o = {{\n  a: 1,\n  {}\n  b: {}\n}};\n",
            dollars("{{{ C_STRUCTS.flock.l_type }}}"),
            dollars("{{{ makeSetValue('p', 0, 'v', 'i32') }}}"),
            comment("{{{ makeMembers() }}}"),
            dollars("{{{ cDefine('EINVAL') }}}")
        );
        assert_eq!(v, expected);
    }

    #[test]
    fn multi_line_macros_keep_their_line_breaks() {
        let text = "{{{ (function() {\n  global.x = 1;\n})() }}}\nf({{{ a,\n b }}});\n";
        let expected = format!(
            "{}\n{}\n{}\nf({}\n{});\n",
            comment("{{{ (function() {"),
            spaces("  global.x = 1;"),
            spaces("})() }}}"),
            dollars("{{{ a,"),
            spaces(" b }}}")
        );
        assert_eq!(all(text), expected);
    }

    #[test]
    fn include_as_a_value_is_an_identifier() {
        let text = "var L = {\n  $IDBStore:\n#include IDBStore.js\n  ,\n};\n#include other.js\n";
        let expected = format!(
            "var L = {{\n  $IDBStore:\n{}\n  ,\n}};\n{}\n",
            dollars("#include IDBStore.js"),
            comment("#include other.js")
        );
        assert_eq!(all(text), expected);
    }

    #[test]
    fn fold_markers_in_comments_are_not_macros() {
        let text = "// section {{{\nvar m = { HEAP8 };\n// }}}\n";
        assert!(scan(text).unwrap().is_none());
        // On one line it is a macro (Emscripten would expand it), harmless inside a comment.
        let text = "// see {{{ makeGetValue() }}}\n";
        assert_eq!(
            all(text),
            format!("// see {}\n", dollars("{{{ makeGetValue() }}}"))
        );
    }

    #[test]
    fn misplaced_directives_are_errors() {
        for (text, message) in [
            ("#endif\n", "`#endif` without a matching `#if`"),
            ("#else\n", "`#else` without a matching `#if`"),
            ("x();\n  #elif A\n", "`#elif` without a matching `#if`"),
            ("#if A\n", "`#if` without a matching `#endif`"),
            (
                "#if A\n#if B\n#endif\n",
                "`#if` without a matching `#endif`",
            ),
        ] {
            let e = scan(text).unwrap_err();
            assert_eq!(e.message, message, "{text:?}");
            assert!(text[e.range.start as usize..].starts_with('#'), "{text:?}");
        }
    }

    #[test]
    fn a_repeated_else_starts_another_branch() {
        // library_html5.js in Emscripten 3.1.6 has one.
        let text = "#if A\na();\n#else\nb();\n#else\n#endif\n";
        let lib = library(text);
        let last = lib.text(&lib.collapsed(Variant::LastBranches));
        assert!(!last.contains("a()") && !last.contains("b()"), "{last}");
    }

    #[test]
    fn regions_touching_an_edit() {
        let text = "a = {{{ X }}};\n#if A\nb();\n#endif\n#include x.js\n";
        let lib = library(text);
        assert_eq!(lib.what_touches(TextRange::new(0, 1)), None);
        let touching = [
            (TextRange::empty(at(text, "{{{")), "a `{{{ }}}` macro"),
            (TextRange::new(0, at(text, "{{{") + 2), "a `{{{ }}}` macro"),
            (TextRange::empty(at(text, ";\n#if")), "a `{{{ }}}` macro"),
            (
                TextRange::empty(at(text, "#endif") + 6),
                "a preprocessor line",
            ),
            (TextRange::empty(at(text, "#if")), "a preprocessor line"),
            (TextRange::empty(at(text, "#include")), "an `#include` line"),
        ];
        for (range, what) in touching {
            assert_eq!(lib.what_touches(range), Some(what), "{range:?}");
        }
        let b = at(text, "b()");
        assert_eq!(lib.what_touches(TextRange::new(b, b + 3)), None);
        assert_eq!((lib.directive_count(), lib.macro_count()), (3, 1));
    }

    #[test]
    fn placeholders_are_recognisable_in_copies() {
        assert!(copies_placeholder("f($$$$$$$)"));
        assert!(copies_placeholder("{\n  //$$$$$\n}"));
        assert!(copies_placeholder("n /*$$$$*/ + 1"));
        assert!(!copies_placeholder("get HEAP8() { return HEAP8; }"));
    }
}
