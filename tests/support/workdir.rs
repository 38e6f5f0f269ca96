//! What the tests that run the `growsafe` binary share: a temporary working directory to run it
//! in (so output names files relatively), and what one run did.
//!
//! Included by path (`#[path = "support/workdir.rs"] mod workdir;`); each test crate uses only
//! part of it.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use tempfile::TempDir;

/// How long one run may take before the test fails.
const TIMEOUT: Duration = Duration::from_secs(300);

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    /// The signal that ended the process, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: &Output) -> Run {
        Run {
            code: output.status.code(),
            signal: output.status.signal(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, and that the process neither died of a signal nor panicked.
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            (self.code, self.signal),
            (Some(code), None),
            "unexpected exit\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self.no_panic()
    }

    /// Asserts that nothing on stderr looks like a panic.
    #[track_caller]
    pub fn no_panic(&self) -> &Self {
        for text in ["panicked", "RUST_BACKTRACE"] {
            assert!(!self.stderr.contains(text), "stderr:\n{}", self.stderr);
        }
        self
    }

    /// Asserts that stderr contains `text`.
    #[track_caller]
    pub fn says(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }
}

/// Runs a command to completion with `stdin` as its standard input.
pub fn run_with_stdin(command: Command, stdin: impl Into<Vec<u8>>) -> Run {
    let output = assert_cmd::Command::from_std(command)
        .write_stdin(stdin)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    Run::from_output(&output)
}

/// Runs a command to completion, standard input empty.
pub fn run(command: Command) -> Run {
    run_with_stdin(command, "")
}

/// `growsafe ARGS` in `dir`, `NO_COLOR` unset (output is piped, so plain anyway).
pub fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_growsafe"));
    command.current_dir(dir).env_remove("NO_COLOR").args(args);
    command
}

/// A temporary working directory for the binary.
pub struct Dir(TempDir);

impl Dir {
    pub fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }

    pub fn root(&self) -> &Path {
        self.0.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes a file (creating its directories) and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap()
    }

    pub fn bytes(&self, name: &str) -> Vec<u8> {
        fs::read(self.path(name)).unwrap()
    }

    pub fn inode(&self, name: &str) -> u64 {
        fs::metadata(self.path(name)).unwrap().ino()
    }

    /// The names in the directory (or a subdirectory), sorted.
    pub fn list(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    /// The temporary files `fix` left behind in a directory (`.growsafe-*.tmp`).
    pub fn strays(&self, sub: &str) -> Vec<String> {
        self.list(sub)
            .into_iter()
            .filter(|n| n.starts_with(".growsafe-"))
            .collect()
    }

    /// `growsafe ARGS`, here.
    pub fn command(&self, args: &[&str]) -> Command {
        command_in(self.root(), args)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run(self.command(args))
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: impl Into<Vec<u8>>) -> Run {
        run_with_stdin(self.command(args), stdin)
    }

    /// Like [`Dir::run`], but `check` prints one line per finding (`--format concise`) unless
    /// the arguments choose a format.
    pub fn run_concise(&self, args: &[&str]) -> Run {
        let mut args = args.to_vec();
        if args.first() == Some(&"check") && !args.contains(&"--format") {
            args.splice(1..1, ["--format", "concise"]);
        }
        self.run(&args)
    }
}
