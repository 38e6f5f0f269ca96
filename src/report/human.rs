//! `--format human`, the default: rustc-style code frames rendered by `annotate-snippets`.
//!
//! Each finding is `error[PASS]: message`, a `--> path:line:col` line, the source lines of
//! its span with the span underlined, and `= help:` with the fix title or why there is none.
//! Remarks are `note[PASS]: message` with their location; a summary line ends the report
//! (unless no file could be read at all).
//!
//! Only the lines a span covers are handed to the renderer, and `annotate-snippets` cuts a
//! long line down to a window around the span (`...` on either side), so a finding in a
//! 1 MB line of minified glue still prints a short frame. As in rustc, the column in the
//! frame header counts characters; the other formats count UTF-16 code units, which differ
//! only after an astral character (such as an emoji) earlier on the same line.

use std::ffi::OsStr;
use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use super::{CheckedFile, count, fixable, help};
use crate::{Finding, Remark};

/// Colour only on a terminal, and never when `NO_COLOR` is set to something non-empty
/// (<https://no-color.org>).
pub(super) fn color_enabled(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

pub(super) fn write(out: &mut dyn Write, files: &[CheckedFile<'_>], color: bool) -> io::Result<()> {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut total = 0;
    let mut fixes = 0;
    for file in files {
        for finding in file.findings() {
            total += 1;
            fixes += usize::from(fixable(finding));
            writeln!(out, "{}\n", renderer.render(&[frame(file, finding)]))?;
        }
        for remark in file.remarks() {
            writeln!(out, "{}\n", renderer.render(&[note(file, remark)]))?;
        }
    }
    if total > 0 {
        writeln!(
            out,
            "Found {} ({fixes} fixable with `growsafe fix`).",
            count(total, "hazard")
        )
    } else if !files.is_empty() {
        writeln!(out, "No hazards found in {}.", count(files.len(), "file"))
    } else {
        // Nothing could be read: the errors on standard error say why.
        Ok(())
    }
}

/// `error[PASS]: message`, the underlined source, and `= help: …`.
fn frame<'a>(file: &CheckedFile<'a>, finding: &'a Finding) -> Group<'a> {
    let (first, _) = file.line_col(finding.range.start);
    let (last, _) = file.line_col(finding.range.end);
    let lines = &file.output.lines;
    let start = lines.line_start(first).unwrap_or(0) as usize;
    let end = lines
        .line_start(last + 1)
        .map_or(file.body.len(), |next| next as usize);
    let source = file.body[start..end].trim_end_matches(['\n', '\r']);
    // The span may end in the line break `source` leaves out (a span up to the end of the file).
    let span_end = (finding.range.end as usize - start).min(source.len());
    let span = (finding.range.start as usize - start).min(span_end)..span_end;
    Level::ERROR
        .primary_title(finding.message.as_str())
        .id(finding.pass.name())
        .element(
            Snippet::source(source)
                .line_start(first as usize)
                .path(file.name)
                .annotation(AnnotationKind::Primary.span(span)),
        )
        .element(Level::HELP.message(help(finding)))
}

/// `note[PASS]: message` and where.
fn note<'a>(file: &CheckedFile<'a>, remark: &'a Remark) -> Group<'a> {
    let mut origin = Origin::path(file.name);
    if let Some(range) = remark.range {
        let (line, _) = file.line_col(range.start);
        let line_start = file.output.lines.line_start(line).unwrap_or(0) as usize;
        let column = file.body[line_start..range.start as usize].chars().count() + 1;
        origin = origin.line(line as usize).char_column(column);
    }
    Group::with_title(
        Level::NOTE
            .primary_title(remark.message.as_str())
            .id(remark.pass.name()),
    )
    .element(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(color_enabled(true, None));
        assert!(!color_enabled(false, None));
        assert!(!color_enabled(true, Some(OsStr::new("1"))));
        // An empty `NO_COLOR` does not count (no-color.org).
        assert!(color_enabled(true, Some(OsStr::new(""))));
        assert!(!color_enabled(false, Some(OsStr::new(""))));
    }
}
