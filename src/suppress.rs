//! Suppression comments: `// growsafe-ignore: rule-name[, rule-name] reason` on the line before a
//! finding, and `// growsafe-ignore-file: rule-name reason` anywhere for the whole file.
//!
//! Generated glue is rebuilt on every build, so comments in it do not last: these are for
//! hand-written JavaScript and library sources. Config-level ignores (`growsafe.toml`) are the
//! tool for generated files. A suppression that silences nothing, or names an unknown rule, is
//! itself reported, so stale suppressions do not pile up.

use std::str::FromStr;

use crate::diagnostic::{Analysis, LineIndex, TextRange};
use crate::passes::PassId;

const MARKER: &str = "growsafe-ignore";

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Where the comment's directive is.
    pub range: TextRange,
    /// The rules it names.
    pub rules: Vec<PassId>,
    /// Names that are not rules.
    pub unknown: Vec<String>,
    /// `None`: the whole file; `Some(line)`: findings starting on that 1-based line.
    pub line: Option<u32>,
}

/// A problem with a suppression comment, reported like a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionProblem {
    /// The directive.
    pub range: TextRange,
    /// What is wrong, in one line.
    pub message: String,
}

/// Finds every suppression directive in `text`.
///
/// A directive counts only inside a `//` or `/* */` comment; `growsafe-ignore` inside a string
/// on a line without a comment marker before it is ignored.
#[must_use]
pub fn parse(text: &str, lines: &LineIndex) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(MARKER) {
        let at = from + found;
        from = at + MARKER.len();
        let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let before = &text[line_start..at];
        if !(before.contains("//") || before.contains("/*")) {
            continue;
        }
        let rest = &text[at + MARKER.len()..];
        let (file_level, rest) = match rest.strip_prefix("-file") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let body = rest[..end].split("*/").next().unwrap_or("");
        let (rules, unknown) = rule_names(body);
        let directive_end =
            at + MARKER.len() + if file_level { "-file".len() } else { 0 } + ":".len() + end;
        let range = TextRange::new(to_u32(at), to_u32(directive_end));
        let line = lines.line_col(text, to_u32(at)).0;
        out.push(Suppression {
            range,
            rules,
            unknown,
            line: (!file_level).then_some(line + 1),
        });
    }
    out
}

/// Splits `rule-a, rule-b reason text` into known rules and unknown names.
fn rule_names(body: &str) -> (Vec<PassId>, Vec<String>) {
    let mut rules = Vec::new();
    let mut unknown = Vec::new();
    for word in body.split_whitespace() {
        for name in word.split(',').filter(|n| !n.is_empty()) {
            match PassId::from_str(name) {
                Ok(pass) => rules.push(pass),
                Err(_) => unknown.push(name.to_owned()),
            }
        }
        // The list ends at the first word not followed by a comma; the rest is the reason.
        if !word.ends_with(',') {
            break;
        }
    }
    (rules, unknown)
}

/// Removes suppressed findings and remarks from `analysis`; returns the problems with the
/// suppressions themselves (unknown rules, suppressions that silenced nothing).
///
/// Only suppressions naming one of `active` rules can be judged unused: a suppression for a
/// rule that did not run is left alone.
pub fn apply(text: &str, analysis: &mut Analysis, active: &[PassId]) -> Vec<SuppressionProblem> {
    if memchr::memmem::find(text.as_bytes(), MARKER.as_bytes()).is_none() {
        return Vec::new();
    }
    let lines = &LineIndex::new(text);
    let suppressions = parse(text, lines);
    let mut used = vec![Vec::<PassId>::new(); suppressions.len()];
    analysis.findings.retain(|finding| {
        let line = lines.line_col(text, finding.range.start).0;
        let hit = suppressions
            .iter()
            .position(|s| s.rules.contains(&finding.pass) && s.line.is_none_or(|l| l == line));
        if let Some(i) = hit {
            used[i].push(finding.pass);
        }
        hit.is_none()
    });
    let mut problems = Vec::new();
    for (suppression, used) in suppressions.iter().zip(&used) {
        for name in &suppression.unknown {
            problems.push(SuppressionProblem {
                range: suppression.range,
                message: format!("`{name}` is not a growsafe rule (see `growsafe passes`)"),
            });
        }
        for rule in &suppression.rules {
            if active.contains(rule) && !used.contains(rule) {
                let scope = if suppression.line.is_some() {
                    "the next line"
                } else {
                    "this file"
                };
                problems.push(SuppressionProblem {
                    range: suppression.range,
                    message: format!("unused suppression: `{rule}` reports nothing on {scope}"),
                });
            }
        }
        if suppression.rules.is_empty() && suppression.unknown.is_empty() {
            problems.push(SuppressionProblem {
                range: suppression.range,
                message: "suppression names no rule: write `growsafe-ignore: rule-name reason`"
                    .to_owned(),
            });
        }
    }
    problems
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("growsafe handles files under 4 GiB")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Finding;

    fn finding(pass: PassId, at: u32) -> Finding {
        Finding::unfixable(pass, TextRange::new(at, at + 1), "m", "r")
    }

    #[test]
    fn parses_line_and_file_directives() {
        let text = "// growsafe-ignore: heap-snapshot, heap-destructure keep it\nx\n/* growsafe-ignore-file: asyncify-sleep-alloc */\nvar s = 'growsafe-ignore: heap-snapshot';\n";
        let found = parse(text, &LineIndex::new(text));
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].rules,
            vec![PassId::HeapSnapshot, PassId::HeapDestructure]
        );
        assert_eq!(found[0].line, Some(2));
        assert_eq!(found[1].rules, vec![PassId::AsyncifySleepAlloc]);
        assert_eq!(found[1].line, None);
    }

    #[test]
    fn suppresses_and_reports_unused_and_unknown() {
        let text = "// growsafe-ignore: heap-snapshot reason\nvar a = { HEAP8 };\n// growsafe-ignore: heap-destructure, no-such-rule why\nvar b = 1;\n";
        let at = u32::try_from(text.find("HEAP8 }").unwrap()).unwrap();
        let mut analysis = Analysis {
            findings: vec![finding(PassId::HeapSnapshot, at)],
            remarks: Vec::new(),
        };
        let problems = apply(text, &mut analysis, &PassId::ALL);
        assert!(analysis.findings.is_empty());
        let messages: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("`no-such-rule` is not a growsafe rule"));
        assert!(messages[1].contains("unused suppression: `heap-destructure`"));
    }

    #[test]
    fn a_suppression_for_a_rule_that_did_not_run_is_not_unused() {
        let text = "// growsafe-ignore: heap-destructure reason\nvar b = 1;\n";
        let mut analysis = Analysis::default();
        assert!(apply(text, &mut analysis, &[PassId::HeapSnapshot]).is_empty());
    }
}
