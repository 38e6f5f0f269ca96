//! What `fix` tells the user: on standard error, per file, what it changed (or would change)
//! and what it left; on standard output, with `--diff`, a unified diff.

use std::io::{self, Write};

use crate::{FixOutput, RemarkKind};

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
