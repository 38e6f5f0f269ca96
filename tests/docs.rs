//! The pass documentation in `docs/passes/` is generated from each pass's module doc comment.
//! `UPDATE_DOCS=1 cargo test --test docs` (or `just docs`) rewrites it; otherwise a stale file fails.

use std::path::Path;

use growsafe::PassId;

fn render(pass: PassId) -> String {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(pass.source_file()))
            .unwrap();
    let mut out = format!("# {}\n\n{}\n\n", pass.name(), pass.meta().summary);
    for line in source.lines().take_while(|l| l.starts_with("//!")) {
        let text = line.trim_start_matches("//!");
        out.push_str(text.strip_prefix(' ').unwrap_or(text));
        out.push('\n');
    }
    out
}

#[test]
fn docs_are_fresh() {
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    for pass in PassId::ALL {
        let expected = render(pass);
        for heading in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Fix safety",
            "## References",
        ] {
            assert!(
                expected.contains(heading),
                "{} docs lack `{heading}`",
                pass.name()
            );
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/passes")
            .join(format!("{}.md", pass.name()));
        if update {
            std::fs::write(&path, &expected).unwrap();
        } else {
            let actual = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                actual == expected,
                "{} is stale: run `just docs` (UPDATE_DOCS=1 cargo test --test docs)",
                path.display()
            );
        }
    }
}

#[test]
fn integration_snippets_match_their_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("docs/integration.md")).unwrap();
    for file in [
        "Makefile",
        "CMakeLists.txt",
        "Dockerfile",
        "github-workflow.yml",
    ] {
        let snippet = std::fs::read_to_string(root.join("docs/integration").join(file)).unwrap();
        assert!(
            page.contains(&snippet),
            "docs/integration.md does not show docs/integration/{file} verbatim"
        );
    }
}
