//! `--format github`: GitHub Actions workflow commands, which the runner turns into
//! annotations on the run and on the pull request's diff.
//!
//! Each finding is `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=growsafe (PASS)::…`
//! with the message and a second `help:` line; each remark is a `::notice` with the same
//! properties. Data and property values are escaped as `@actions/core` does (`escapeData`,
//! `escapeProperty`). GitHub rejects `col`/`endColumn` on an annotation that spans several
//! lines, so those are left out when `line != endLine`.

use std::io::{self, Write};

use super::{CheckedFile, help, portable_path};
use crate::{PassId, TextRange};

pub(super) fn write(out: &mut dyn Write, files: &[CheckedFile<'_>]) -> io::Result<()> {
    for file in files {
        let path = portable_path(file.name);
        for f in file.findings() {
            let message = format!("{}\nhelp: {}", f.message, help(f));
            command(out, "error", &path, file, Some(f.range), f.pass, &message)?;
        }
        for r in file.remarks() {
            command(out, "notice", &path, file, r.range, r.pass, &r.message)?;
        }
    }
    Ok(())
}

/// Writes one `::level props::message` line.
fn command(
    out: &mut dyn Write,
    level: &str,
    path: &str,
    file: &CheckedFile<'_>,
    range: Option<TextRange>,
    pass: PassId,
    message: &str,
) -> io::Result<()> {
    let mut props = vec![("file", path.to_owned())];
    if let Some(range) = range {
        let span = file.span(range);
        props.push(("line", span.line.to_string()));
        if span.line == span.end_line {
            props.push(("col", span.column.to_string()));
        }
        props.push(("endLine", span.end_line.to_string()));
        if span.line == span.end_line {
            props.push(("endColumn", span.end_column.to_string()));
        }
    }
    props.push(("title", format!("growsafe ({pass})")));
    let props: Vec<String> = props
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    writeln!(
        out,
        "::{level} {}::{}",
        props.join(","),
        escape_data(message)
    )
}

/// Escapes a command's message (`escapeData` in `@actions/core`).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`escapeProperty` in `@actions/core`): also `:` and `,`, which
/// separate properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_and_newlines_only() {
        assert_eq!(escape_data("100%"), "100%25");
        assert_eq!(escape_data("a\r\nb\nc\rd"), "a%0D%0Ab%0Ac%0Dd");
        // `%` goes first, so an escape in the input is not mistaken for one of ours.
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_data("a: b, `c`::d"), "a: b, `c`::d");
    }

    #[test]
    fn properties_also_escape_colons_and_commas() {
        assert_eq!(
            escape_property("growsafe (heap-snapshot)"),
            "growsafe (heap-snapshot)"
        );
        assert_eq!(
            escape_property("C:\\build\\a,b.js"),
            "C%3A\\build\\a%2Cb.js"
        );
        assert_eq!(escape_property("x%y\nz"), "x%25y%0Az");
        assert_eq!(escape_property("::error::"), "%3A%3Aerror%3A%3A");
    }
}
