//! Rendering findings and fix summaries: human lines, JSON, unified diffs.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, Write};

use clap::ValueEnum;
use serde::Serialize;

use crate::{CheckOutput, FixOutput, RemarkKind};

/// How `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `path:line:col: pass: message` lines and a summary.
    Human,
    /// One JSON document (schema in `docs/json.md`).
    Json,
}

/// One finding in `--format json`.
#[derive(Debug, Serialize)]
struct JsonFinding<'a> {
    path: &'a str,
    pass: &'a str,
    message: &'a str,
    /// 1-based line and UTF-16 column of the start and end.
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    /// Byte offsets into the file (after any BOM).
    start: u32,
    end: u32,
    fix: Option<JsonFix<'a>>,
    no_fix_reason: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    applicability: crate::Applicability,
    edits: &'a [crate::Edit],
}

#[derive(Debug, Serialize)]
struct JsonRemark<'a> {
    path: &'a str,
    pass: &'a str,
    kind: RemarkKind,
    message: &'a str,
    line: Option<u32>,
}

#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    remarks: Vec<JsonRemark<'a>>,
}

/// Prints `check` results; returns the number of findings.
///
/// # Errors
/// Writing to standard output failed.
pub fn print_check(results: &[(String, String, CheckOutput)], format: Format) -> io::Result<usize> {
    let total: usize = results
        .iter()
        .map(|(_, _, r)| r.analysis.findings.len())
        .sum();
    let mut out = io::stdout().lock();
    match format {
        Format::Human => {
            let mut fixable = 0;
            for (name, text, result) in results {
                let body = body(text, result.bom);
                for f in &result.analysis.findings {
                    let (line, col) = result.lines.line_col(body, f.range.start);
                    let help = match (&f.fix, &f.no_fix_reason) {
                        (Some(fix), _) => {
                            fixable += 1;
                            format!(" [fix: {}]", fix.title)
                        }
                        (None, Some(reason)) => format!(" [no fix: {reason}]"),
                        (None, None) => String::new(),
                    };
                    writeln!(out, "{name}:{line}:{col}: {}: {}{help}", f.pass, f.message)?;
                }
                for r in &result.analysis.remarks {
                    let at = r
                        .range
                        .map(|range| result.lines.line_col(body, range.start).0)
                        .unwrap_or(1);
                    eprintln!("{name}:{at}: note: {}: {}", r.pass, r.message);
                }
            }
            if total > 0 {
                writeln!(
                    out,
                    "Found {total} hazard{} ({fixable} fixable with `growsafe fix`).",
                    if total == 1 { "" } else { "s" }
                )?;
            }
        }
        Format::Json => {
            let mut report = JsonReport {
                version: 1,
                findings: Vec::new(),
                remarks: Vec::new(),
            };
            for (name, text, result) in results {
                let body = body(text, result.bom);
                for f in &result.analysis.findings {
                    let (line, column) = result.lines.line_col(body, f.range.start);
                    let (end_line, end_column) = result.lines.line_col(body, f.range.end);
                    report.findings.push(JsonFinding {
                        path: name,
                        pass: f.pass.name(),
                        message: &f.message,
                        line,
                        column,
                        end_line,
                        end_column,
                        start: f.range.start,
                        end: f.range.end,
                        fix: f.fix.as_ref().map(|fix| JsonFix {
                            title: &fix.title,
                            applicability: fix.applicability,
                            edits: &fix.edits,
                        }),
                        no_fix_reason: f.no_fix_reason.as_deref(),
                    });
                }
                for r in &result.analysis.remarks {
                    report.remarks.push(JsonRemark {
                        path: name,
                        pass: r.pass.name(),
                        kind: r.kind,
                        message: &r.message,
                        line: r
                            .range
                            .map(|range| result.lines.line_col(body, range.start).0),
                    });
                }
            }
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
    }
    Ok(total)
}

/// Tells the user on standard error what `fix` changed (or would change), and what it left.
///
/// # Errors
/// Writing to standard error failed.
pub fn print_fix_summary(name: &str, out: &FixOutput, dry_run: bool) -> io::Result<()> {
    let mut err = io::stderr().lock();
    let verb = if dry_run { "would fix" } else { "fixed" };
    let mut passes: Vec<_> = out.applied.iter().map(|a| a.pass).collect();
    passes.sort();
    passes.dedup();
    for pass in passes {
        let mut lines: Vec<u32> = out
            .applied
            .iter()
            .filter(|a| a.pass == pass)
            .map(|a| a.line)
            .collect();
        let count = lines.len();
        lines.dedup();
        let label = if lines.len() == 1 { "line" } else { "lines" };
        let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
        writeln!(
            err,
            "{name}: {verb} {count} {pass} hazard(s) ({label} {})",
            lines.join(", ")
        )?;
    }
    let body = body(&out.text, out.text.starts_with('\u{feff}'));
    for f in &out.remaining.findings {
        let (line, col) = out.lines.line_col(body, f.range.start);
        let reason = f.no_fix_reason.as_deref().unwrap_or("no fix available");
        writeln!(
            err,
            "{name}:{line}:{col}: warning: {}: {} (not fixed: {reason})",
            f.pass, f.message
        )?;
    }
    for r in &out.remaining.remarks {
        if r.kind == RemarkKind::AlreadyFixed && !out.applied.is_empty() {
            continue;
        }
        let line = r
            .range
            .map(|range| out.lines.line_col(body, range.start).0)
            .unwrap_or(1);
        writeln!(err, "{name}:{line}: note: {}: {}", r.pass, r.message)?;
    }
    Ok(())
}

/// Prints a unified diff between the input and the fixed text.
///
/// # Errors
/// Writing to standard output failed.
pub fn print_diff(name: &str, before: &str, after: &str) -> io::Result<()> {
    let diff = similar::TextDiff::from_lines(before, after);
    let mut out = io::stdout().lock();
    write!(
        out,
        "{}",
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
    )?;
    Ok(())
}

fn body(text: &str, bom: bool) -> &str {
    if bom { &text[3..] } else { text }
}
