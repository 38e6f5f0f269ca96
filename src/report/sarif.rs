//! `--format sarif`: a SARIF 2.1.0 log for GitHub code scanning (`github/codeql-action/
//! upload-sarif`) and other SARIF viewers, written with a few hand-made serde structs.
//!
//! One run; `tool.driver.rules` lists every pass (its documentation as `help`); each finding
//! is an `error` result located by line and UTF-16 column (`columnKind: utf16CodeUnits`),
//! with its fix, if any, as `fixes[]`. A fix's replacements carry both the line/column
//! region and the exact `byteOffset`/`byteLength` in the file (counting a BOM). Remarks are
//! not results: code scanning would keep them open as alerts. `tests/formats.rs` validates
//! the output against the SARIF 2.1.0 JSON schema.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use super::{CheckedFile, help, portable_path};
use crate::{Edit, Finding, PassId, TextRange};

/// The `$schema` of the log: the OASIS SARIF 2.1.0 schema (Errata 01, its current home).
const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

#[derive(Debug, Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    column_kind: &'static str,
    /// growsafe counts a lone `\r` as a line break too (SARIF's default is `\r\n` and `\n`).
    newline_sequences: [&'static str; 3],
    results: Vec<SarifResult<'a>>,
}

#[derive(Debug, Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<Rule>,
}

/// A `reportingDescriptor`: one pass.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Message<'static>,
    full_description: Message<'static>,
    help: Help,
    default_configuration: Configuration,
}

#[derive(Debug, Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Debug, Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Debug, Serialize)]
struct Message<'a> {
    text: Cow<'a, str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message<'a>,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Debug, Clone, Serialize)]
struct ArtifactLocation {
    uri: String,
}

/// Lines and UTF-16 columns, 1-based, `endColumn` exclusive; for a replacement also the
/// exact bytes.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_offset: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_length: Option<u32>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    description: Message<'a>,
    artifact_changes: [ArtifactChange<'a>; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: Region,
    /// Absent for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    inserted_content: Option<Content<'a>>,
}

#[derive(Debug, Serialize)]
struct Content<'a> {
    text: &'a str,
}

pub(super) fn write(out: &mut dyn Write, files: &[CheckedFile<'_>]) -> io::Result<()> {
    let mut results = Vec::new();
    for file in files {
        let artifact = ArtifactLocation {
            uri: artifact_uri(&portable_path(file.name)),
        };
        for finding in file.findings() {
            results.push(result(file, finding, &artifact));
        }
    }
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "growsafe",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")]
                        .into_iter()
                        .find(|uri| !uri.is_empty()),
                    rules: PassId::ALL.into_iter().map(rule).collect(),
                },
            },
            column_kind: "utf16CodeUnits",
            newline_sequences: ["\r\n", "\n", "\r"],
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn rule(pass: PassId) -> Rule {
    let meta = pass.meta();
    Rule {
        id: meta.name,
        name: camel_case(meta.name),
        short_description: Message {
            text: meta.summary.into(),
        },
        full_description: Message {
            text: section(meta.docs, "## What it does")
                .unwrap_or(meta.summary)
                .into(),
        },
        help: Help {
            text: meta.docs,
            markdown: meta.docs,
        },
        default_configuration: Configuration { level: "error" },
    }
}

fn result<'a>(
    file: &CheckedFile<'_>,
    finding: &'a Finding,
    artifact: &ArtifactLocation,
) -> SarifResult<'a> {
    let fixes = finding.fix.iter().map(|fix| SarifFix {
        description: Message {
            text: fix.title.as_str().into(),
        },
        artifact_changes: [ArtifactChange {
            artifact_location: artifact.clone(),
            replacements: fix
                .edits
                .iter()
                .map(|edit| replacement(file, edit))
                .collect(),
        }],
    });
    SarifResult {
        rule_id: finding.pass.name(),
        rule_index: PassId::ALL
            .iter()
            .position(|p| *p == finding.pass)
            .expect("every pass is in `PassId::ALL`"),
        level: "error",
        message: Message {
            text: format!("{}\nhelp: {}", finding.message, help(finding)).into(),
        },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: artifact.clone(),
                region: region(file, finding.range, false),
            },
        }],
        fixes: fixes.collect(),
    }
}

fn replacement<'a>(file: &CheckedFile<'_>, edit: &'a Edit) -> Replacement<'a> {
    Replacement {
        deleted_region: region(file, edit.range, true),
        inserted_content: (!edit.replacement.is_empty()).then(|| Content {
            text: &edit.replacement,
        }),
    }
}

fn region(file: &CheckedFile<'_>, range: TextRange, bytes: bool) -> Region {
    let span = file.span(range);
    Region {
        start_line: span.line,
        start_column: span.column,
        end_line: span.end_line,
        end_column: span.end_column,
        byte_offset: bytes.then(|| file.file_offset(range.start)),
        byte_length: bytes.then(|| range.end - range.start),
    }
}

/// `heap-snapshot` → `HeapSnapshot` (SARIF's readable rule name).
fn camel_case(kebab: &str) -> String {
    kebab
        .split('-')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

/// The text of a markdown section, from its heading to the next heading, trimmed.
fn section<'d>(docs: &'d str, heading: &str) -> Option<&'d str> {
    let start = docs.find(&format!("{heading}\n"))? + heading.len() + 1;
    let rest = &docs[start..];
    let end = rest.find("\n#").map_or(rest.len(), |i| i + 1);
    Some(rest[..end].trim())
}

/// A path as a URI reference: relative paths stay relative (GitHub resolves them against the
/// repository root), absolute ones become `file://` URIs; anything outside the URI's
/// unreserved and path characters is percent-encoded.
fn artifact_uri(path: &str) -> String {
    let (prefix, path) = if path.starts_with('/') {
        ("file://", path)
    } else if path.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && path.as_bytes().get(1..3) == Some(b":/")
    {
        // A Windows drive path, `C:/…`.
        ("file:///", path)
    } else {
        ("", path)
    };
    let mut uri = String::from(prefix);
    for (i, byte) in path.bytes().enumerate() {
        let keep = byte.is_ascii_alphanumeric()
            || b"-._~/!$&'()*+,;=@".contains(&byte)
            // The drive letter's colon; elsewhere a colon could read as a URI scheme.
            || (byte == b':' && i == 1 && prefix == "file:///");
        if keep {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_keep_relative_paths_and_encode_the_rest() {
        assert_eq!(artifact_uri("build/app.js"), "build/app.js");
        assert_eq!(artifact_uri("my dir/a%b#c?.js"), "my%20dir/a%25b%23c%3F.js");
        assert_eq!(artifact_uri("a:b.js"), "a%3Ab.js");
        assert_eq!(artifact_uri("é.js"), "%C3%A9.js");
        assert_eq!(artifact_uri("/abs/app.js"), "file:///abs/app.js");
        assert_eq!(artifact_uri("C:/build/app.js"), "file:///C:/build/app.js");
    }

    #[test]
    fn rule_names_are_camel_case() {
        assert_eq!(camel_case("asyncify-sleep-alloc"), "AsyncifySleepAlloc");
        assert_eq!(camel_case("heap-snapshot"), "HeapSnapshot");
    }

    #[test]
    fn full_description_is_the_what_it_does_section() {
        let docs = "# p\n\nsummary\n\n## What it does\nFlags `x`.\nTwice.\n\n## Why is this bad?\nBecause.\n";
        assert_eq!(section(docs, "## What it does"), Some("Flags `x`.\nTwice."));
        assert_eq!(section(docs, "## Why is this bad?"), Some("Because."));
        assert_eq!(section(docs, "## Example"), None);
        for pass in PassId::ALL {
            assert!(
                section(pass.meta().docs, "## What it does").is_some(),
                "{pass}"
            );
        }
    }
}
