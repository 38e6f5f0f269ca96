//! Rendering: what `check` found, in five formats, and what `fix` changed.
//!
//! One file per `--format` (`human.rs`, `concise.rs`, `json.rs`, `sarif.rs`, `github.rs`; see
//! `docs/formats.md`), plus the `fix` summary and diff in `fixes.rs`. Every format renders the
//! same checked files; this module and [`crate::cli`] are the only places that print.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod concise;
mod fixes;
mod github;
mod human;
mod json;
mod sarif;

use std::io::{self, IsTerminal as _, Write};

use clap::ValueEnum;

use crate::{CheckOutput, Finding, Remark, TextRange};

pub use fixes::{print_diff, print_fix_summary};

/// How `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Code frames with the offending span underlined, a `help:` line each, and a summary.
    Human,
    /// One `path:line:col: pass: message` line per hazard, and a summary.
    Concise,
    /// One JSON document (schema in `docs/json.md`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::…`), shown as annotations.
    Github,
}

/// Prints `check` results on standard output; returns the number of findings.
///
/// `results` holds, per file that was read and parsed, its display name, its text and what
/// the passes said. Only [`Format::Concise`] also writes to standard error (its remarks).
/// [`Format::Human`] is coloured when standard output is a terminal and `NO_COLOR` is unset.
///
/// # Errors
/// Writing to standard output (or standard error) failed.
pub fn print_check(results: &[(String, String, CheckOutput)], format: Format) -> io::Result<usize> {
    let files: Vec<CheckedFile<'_>> = results
        .iter()
        .map(|(name, text, output)| CheckedFile::new(name, text, output))
        .collect();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Human => {
            let color = human::color_enabled(
                stdout.is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            );
            human::write(&mut out, &files, color)?;
        }
        Format::Concise => concise::write(&mut out, &mut io::stderr().lock(), &files)?,
        Format::Json => json::write(&mut out, &files)?,
        Format::Sarif => sarif::write(&mut out, &files)?,
        Format::Github => github::write(&mut out, &files)?,
    }
    out.flush()?;
    Ok(files.iter().map(|f| f.output.analysis.findings.len()).sum())
}

/// One analysed file, as every format sees it.
pub(crate) struct CheckedFile<'a> {
    /// The name to print (the path as given, or the `--stdin-filename`).
    pub name: &'a str,
    /// The text after any BOM: what ranges index.
    pub body: &'a str,
    /// The passes' findings and remarks, and the line index of `body`.
    pub output: &'a CheckOutput,
}

impl<'a> CheckedFile<'a> {
    pub fn new(name: &'a str, text: &'a str, output: &'a CheckOutput) -> Self {
        let body = if output.bom {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        CheckedFile { name, body, output }
    }

    pub fn findings(&self) -> &'a [Finding] {
        &self.output.analysis.findings
    }

    pub fn remarks(&self) -> &'a [Remark] {
        &self.output.analysis.remarks
    }

    /// 1-based line and UTF-16 column of a body offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        self.output.lines.line_col(self.body, offset)
    }

    /// Start and end line and column of a range (the end column is one past the last unit).
    pub fn span(&self, range: TextRange) -> Span {
        let (line, column) = self.line_col(range.start);
        let (end_line, end_column) = self.line_col(range.end);
        Span {
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// The byte offset in the file (counting a BOM) of a body offset.
    pub fn file_offset(&self, offset: u32) -> u32 {
        if self.output.bom { offset + 3 } else { offset }
    }
}

/// A range as lines and UTF-16 columns, all 1-based; `end_column` is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

pub(crate) use crate::fix::fixable;

/// What to do about a finding, in one line: the fix title, or why there is none.
pub(crate) fn help(finding: &Finding) -> String {
    match (&finding.fix, &finding.no_fix_reason) {
        (Some(fix), _) if fixable(finding) => fix.title.clone(),
        (Some(fix), _) => format!(
            "{} (unsafe fix: `growsafe fix` does not apply it)",
            fix.title
        ),
        (None, Some(reason)) => format!("no automatic fix: {reason}"),
        (None, None) => "no automatic fix".to_owned(),
    }
}

/// `1 hazard`, `2 hazards`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// A display name as a forward-slash path without a leading `./` (what GitHub matches against
/// repository paths). Backslashes are separators only on Windows.
pub(crate) fn portable_path(name: &str) -> String {
    let mut path = if cfg!(windows) {
        name.replace('\\', "/")
    } else {
        name.to_owned()
    };
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.trim_start_matches('/').to_owned();
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_paths_drop_leading_dot_slash() {
        assert_eq!(portable_path("./build/app.js"), "build/app.js");
        assert_eq!(portable_path("././/app.js"), "app.js");
        assert_eq!(portable_path("build/./app.js"), "build/./app.js");
        assert_eq!(portable_path("../app.js"), "../app.js");
        assert_eq!(portable_path("/abs/app.js"), "/abs/app.js");
    }

    #[test]
    fn counts_are_pluralised() {
        assert_eq!(count(1, "hazard"), "1 hazard");
        assert_eq!(count(0, "file"), "0 files");
        assert_eq!(count(7, "hazard"), "7 hazards");
    }
}
