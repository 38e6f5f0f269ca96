//! `--format concise`: one `path:line:col: pass: message [fix: …]` line per finding and a
//! summary on standard output; remarks as `path:line: note: pass: message` on standard error.
//!
//! This is the line format compilers use, which editors and CI problem matchers parse; it was
//! the default before code frames. Columns count UTF-16 code units.

use std::io::{self, Write};

use super::{CheckedFile, count, fixable};

pub(super) fn write(
    out: &mut dyn Write,
    err: &mut dyn Write,
    files: &[CheckedFile<'_>],
) -> io::Result<()> {
    let mut total = 0;
    let mut fixes = 0;
    for file in files {
        let name = file.name;
        for f in file.findings() {
            total += 1;
            let (line, col) = file.line_col(f.range.start);
            let help = match (&f.fix, &f.no_fix_reason) {
                (Some(fix), _) => {
                    fixes += usize::from(fixable(f));
                    format!(" [fix: {}]", fix.title)
                }
                (None, Some(reason)) => format!(" [no fix: {reason}]"),
                (None, None) => String::new(),
            };
            writeln!(out, "{name}:{line}:{col}: {}: {}{help}", f.pass, f.message)?;
        }
        for r in file.remarks() {
            let line = r.range.map_or(1, |range| file.line_col(range.start).0);
            writeln!(err, "{name}:{line}: note: {}: {}", r.pass, r.message)?;
        }
    }
    if total > 0 {
        writeln!(
            out,
            "Found {} ({fixes} fixable with `growsafe fix`).",
            count(total, "hazard")
        )?;
    }
    Ok(())
}
