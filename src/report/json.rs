//! `--format json`: one JSON document; the schema is documented (and kept stable) in
//! `docs/json.md`.

use std::io::{self, Write};

use serde::Serialize;

use super::CheckedFile;
use crate::{Applicability, Edit, RemarkKind};

/// The whole report.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    remarks: Vec<JsonRemark<'a>>,
}

/// One finding.
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
    applicability: Applicability,
    edits: &'a [Edit],
}

#[derive(Debug, Serialize)]
struct JsonRemark<'a> {
    path: &'a str,
    pass: &'a str,
    kind: RemarkKind,
    message: &'a str,
    line: Option<u32>,
}

pub(super) fn write(out: &mut dyn Write, files: &[CheckedFile<'_>]) -> io::Result<()> {
    let mut report = JsonReport {
        version: 1,
        findings: Vec::new(),
        remarks: Vec::new(),
    };
    for file in files {
        for f in file.findings() {
            let span = file.span(f.range);
            report.findings.push(JsonFinding {
                path: file.name,
                pass: f.pass.name(),
                message: &f.message,
                line: span.line,
                column: span.column,
                end_line: span.end_line,
                end_column: span.end_column,
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
        for r in file.remarks() {
            report.remarks.push(JsonRemark {
                path: file.name,
                pass: r.pass.name(),
                kind: r.kind,
                message: &r.message,
                line: r.range.map(|range| file.line_col(range.start).0),
            });
        }
    }
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
