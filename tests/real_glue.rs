//! Real published glue from npm (see `fixtures/real/README.md`), fetched and verified by
//! `scripts/fetch-real-glue.sh` into `target/real-glue` on first use (npm registry access
//! needed; later runs reuse the verified files).
//!
//! Stock Asyncify builds get patched and still parse, and so do the Closure-renamed runtimes
//! (quickjs release keeps the object as `X`; wa-sqlite 1.0.0 collapses it into globals, with
//! `StackSize` folded into the allocation); already patched (php-wasm 3.1.x `_cachedData`) and
//! JSPI builds are left byte-identical.

#[path = "support/node.rs"]
mod node;

use std::path::{Path, PathBuf};
use std::process::Command;

use growsafe::{Lang, Options, PassId, RemarkKind, check_source, fix_source};

/// The verified glue directory; the fetch script runs once per test process (the tests run in
/// parallel and the script writes `manifest.tsv`).
fn real_glue() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(fetch_real_glue).clone()
}

fn fetch_real_glue() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dest = std::env::var_os("GROWSAFE_REAL_GLUE")
        .map_or_else(|| root.join("target/real-glue"), PathBuf::from);
    let status = Command::new("bash")
        .arg(root.join("scripts/fetch-real-glue.sh"))
        .arg(&dest)
        .status()
        .expect("bash must be available to fetch the real glue");
    assert!(
        status.success(),
        "scripts/fetch-real-glue.sh failed (it needs npm registry access)"
    );
    dest
}

#[test]
fn real_npm_glue() {
    let dir = real_glue();
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for row in manifest.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (file, category) = (cols[0], cols[3]);
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let lang = Lang::from_path(Path::new(file));
        let fixed =
            fix_source(&text, lang, &Options::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        let asyncify_applied = fixed
            .applied
            .iter()
            .filter(|a| a.pass == PassId::AsyncifySleepAlloc)
            .count();
        match category {
            "stock-asyncify" | "closure" => {
                assert_eq!(
                    asyncify_applied, 1,
                    "{file}: the stock Asyncify runtime was not patched"
                );
                assert!(
                    fixed
                        .remaining
                        .findings
                        .iter()
                        .all(|f| f.pass != PassId::AsyncifySleepAlloc),
                    "{file}"
                );
                assert!(
                    !fix_source(&fixed.text, lang, &Options::default())
                        .unwrap()
                        .changed,
                    "{file}: not idempotent"
                );
                if category == "closure" {
                    // Matched by structure: the cache sits beside the inlined `allocateData`,
                    // whose `malloc` goes through it, and `handleSleep` reserves and releases.
                    for needle in [
                        "var growsafeAsyncify={",
                        "=growsafeAsyncify.alloc(",
                        "growsafeAsyncify.reserve();",
                        "growsafeAsyncify.release(",
                    ] {
                        assert_eq!(
                            fixed.text.matches(needle).count(),
                            1,
                            "{file}: `{needle}` once"
                        );
                    }
                }
                let out = tmp.path().join(file);
                std::fs::write(&out, &fixed.text).unwrap();
                node::check(&out);
            }
            "patched-cachedData" | "jspi" => {
                assert!(
                    !fixed.changed,
                    "{file}: a {category} build must stay byte-identical"
                );
                let expected = if category == "jspi" {
                    RemarkKind::LeftAlone
                } else {
                    RemarkKind::AlreadyFixed
                };
                let checked = check_source(&text, lang, &Options::default()).unwrap();
                assert!(
                    checked
                        .analysis
                        .remarks
                        .iter()
                        .any(|r| r.pass == PassId::AsyncifySleepAlloc && r.kind == expected),
                    "{file}: no {expected:?} note"
                );
            }
            _ => {
                assert_eq!(asyncify_applied, 0, "{file}: no Asyncify here");
            }
        }
        seen.push(category.to_owned());
    }
    for category in ["stock-asyncify", "patched-cachedData", "jspi", "closure"] {
        assert!(
            seen.iter().any(|c| c == category),
            "the manifest has no {category} glue"
        );
    }
}

/// Heap views in real glue: found inside `MODULARIZE`/`EXPORT_ES6` factories and after Closure,
/// and the glue itself snapshots or destructures none of them. php-wasm 3.1.x's accessor-object
/// `memory` (the fix for WordPress Playground #3317) is recognised as already fixed, and Closure's
/// mirror writes (`d.HEAP8 = …`) are not mistaken for reads through an object.
#[test]
fn heap_views_in_real_glue() {
    let dir = real_glue();
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    let options = Options {
        select: Some(vec![PassId::HeapSnapshot, PassId::HeapDestructure]),
        ..Options::default()
    };
    let mut accessor_objects = 0;
    for row in manifest.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (file, category) = (cols[0], cols[3]);
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let checked = check_source(&text, Lang::from_path(Path::new(file)), &options)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            checked.analysis.findings.is_empty(),
            "{file}: {:?}",
            checked.analysis.findings
        );
        let fixed_objects = checked
            .analysis
            .remarks
            .iter()
            .filter(|r| r.pass == PassId::HeapSnapshot && r.kind == RemarkKind::AlreadyFixed)
            .count();
        if file.starts_with("php-wasm-3.1.") {
            assert_eq!(
                fixed_objects, 1,
                "{file}: php-wasm's accessor `memory` object"
            );
            accessor_objects += 1;
        } else {
            assert_eq!(fixed_objects, 0, "{file}");
        }
        if category == "closure" {
            assert!(
                !checked
                    .analysis
                    .remarks
                    .iter()
                    .any(|r| r.pass == PassId::HeapDestructure),
                "{file}: Closure's `a.HEAP8 = new Int8Array(b)` is a refresh, not a read"
            );
        }
    }
    assert_eq!(
        accessor_objects, 3,
        "the manifest lacks php-wasm 3.1.x glue"
    );
}
