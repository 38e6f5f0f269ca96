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
use std::ops::Range;

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
            writeln!(out, "{}\n", render_frame(&renderer, file, finding))?;
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
fn render_frame(renderer: &Renderer, file: &CheckedFile<'_>, finding: &Finding) -> String {
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
    let frame = Frame {
        message: &finding.message,
        id: finding.pass.name(),
        path: file.name,
        line: first as usize,
        source,
        span,
        help: help(finding),
    };
    frame.render(renderer, window(frame.source, &frame.span))
}

/// What a finding's code frame shows.
struct Frame<'a> {
    message: &'a str,
    id: &'a str,
    path: &'a str,
    /// The number of the first line of `source`.
    line: usize,
    source: &'a str,
    span: Range<usize>,
    help: String,
}

impl Frame<'_> {
    /// Renders the frame from the part `window` of its source (all of it when `None`). The
    /// renderer measures every character it is given and shows a window of the terminal's
    /// width around the span, so a part that holds that window renders the same, but for the
    /// column in the header, which is put back.
    fn render(&self, renderer: &Renderer, window: Option<Range<usize>>) -> String {
        let window = window.unwrap_or(0..self.source.len());
        let shown = self.span.start - window.start..self.span.end - window.start;
        let group = Level::ERROR
            .primary_title(self.message)
            .id(self.id)
            .element(
                Snippet::source(&self.source[window.clone()])
                    .line_start(self.line)
                    .path(self.path)
                    .annotation(AnnotationKind::Primary.span(shown)),
            )
            .element(Level::HELP.message(self.help.as_str()));
        let rendered = renderer.render(&[group]);
        if window.start == 0 {
            return rendered;
        }
        let location =
            |before: &str| format!("{}:{}:{}", self.path, self.line, before.chars().count() + 1);
        let cut = location(&self.source[window.start..self.span.start]);
        let real = location(&self.source[..self.span.start]);
        match rendered.find(&cut) {
            Some(at) => format!("{}{real}{}", &rendered[..at], &rendered[at + cut.len()..]),
            None => rendered,
        }
    }
}

/// The part of a long line around `span` that holds all the renderer shows of it, with room to
/// spare on both sides; `None` for a short line, several lines, or a line that starts with
/// whitespace (the renderer measures that indentation too).
fn window(source: &str, span: &Range<usize>) -> Option<Range<usize>> {
    /// Lines up to this long are rendered whole.
    const LONG: usize = 4096;
    /// Bytes kept on either side of the span: far more than any terminal shows.
    const CONTEXT: usize = 1024;
    if source.len() <= LONG || source.contains('\n') || source.starts_with(char::is_whitespace) {
        return None;
    }
    let mut lo = source.floor_char_boundary(span.start.saturating_sub(CONTEXT));
    // The part must not start with whitespace either.
    lo += source[lo..span.start]
        .find(|c: char| !c.is_whitespace())
        .unwrap_or(0);
    let hi = source.ceil_char_boundary(span.end + CONTEXT);
    (lo > 0 || hi < source.len()).then_some(lo..hi)
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

    /// A frame cut to its window renders as the whole line does, in colour or not.
    #[test]
    fn a_long_line_renders_the_same_from_its_window() {
        let mut line = String::from("var a=1;");
        for i in 0..400 {
            line.push_str(&format!(
                "function f{i}(x){{return x+{i}}}var s{i}='é漢\t';"
            ));
        }
        let spans = [
            0..3,
            40..45,
            900..910,
            5_000..5_006,
            line.len() / 2..line.len() / 2 + 7,
            line.len() - 1_100..line.len() - 1_090,
            line.len() - 30..line.len() - 25,
            line.len() - 1..line.len(),
        ];
        let mut cut = 0;
        for span in spans {
            let span = line.ceil_char_boundary(span.start)..line.ceil_char_boundary(span.end);
            let frame = Frame {
                message: "a message",
                id: "heap-snapshot",
                path: "min.js",
                line: 3,
                source: &line,
                span: span.clone(),
                help: "a help".to_owned(),
            };
            let window = window(&line, &span);
            cut += usize::from(window.is_some());
            for renderer in [Renderer::plain(), Renderer::styled()] {
                assert_eq!(
                    frame.render(&renderer, window.clone()),
                    frame.render(&renderer, None),
                    "span {span:?}"
                );
            }
        }
        assert!(cut >= 6, "only {cut} windows");
        // Short lines and lines that start with whitespace are rendered whole.
        assert_eq!(window("var a = 1;", &(4..5)), None);
        assert_eq!(window(&format!(" {line}"), &(9_000..9_005)), None);
    }

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
