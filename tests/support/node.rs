//! Running Node from the tests: a script's standard output, or `node --check`.
//!
//! Included by path (`#[path = "support/node.rs"] mod node;`); each test crate uses only part
//! of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// `node ARGS`; returns stdout, and fails the test (with stdout and stderr) when Node fails.
pub fn stdout<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let output = Command::new("node")
        .args(&args)
        .output()
        .expect("node must be installed");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "node {args:?} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `node --check FILE`: fails the test when Node does not accept the file's syntax.
pub fn check(path: &Path) {
    stdout([OsStr::new("--check"), path.as_os_str()]);
}
