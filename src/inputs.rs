//! Which files a command works on: paths named on the command line, directories walked for
//! JavaScript and TypeScript, glob patterns the shell did not expand, and standard input.
//!
//! The rules, in order of precedence:
//!
//! - A file named on the command line is always processed, whatever its extension, and even
//!   when a `.gitignore` lists it.
//! - A directory named on the command line is walked for [`EXTENSIONS`] files. Hidden files and
//!   directories and `node_modules` below it are skipped. VCS ignore files (`.gitignore`,
//!   `.git/info/exclude`, the global gitignore, `.ignore`) are **not** read unless
//!   `respect_gitignore` is set: Emscripten output usually sits in an ignored `build/` or
//!   `dist/`, and a linter that silently checks nothing there is worse than useless.
//!   Symbolic links met while walking are not followed.
//! - A path that does not exist and contains `*`, `?`, `[` or `{` is a glob (`build/**/*.js`):
//!   it is matched with the same walk from its literal leading directories, `*` does not cross
//!   `/`, and a directory it matches is walked.
//! - `-` is standard input, named by `--stdin-filename`.
//!
//! A directory or glob that yields no file is an error (like ESLint's "No files matching the
//! pattern"): a CI step pointed at the wrong place must not pass by checking nothing. Files
//! found by one argument are sorted by path; arguments keep their order; a file found twice is
//! processed once.
//!
//! This module owns no state; it only reads the file system.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use globset::{GlobBuilder, GlobMatcher};
use ignore::WalkBuilder;

use crate::Lang;

/// The extensions a directory walk or glob picks up.
pub const EXTENSIONS: [&str; 7] = ["js", "mjs", "cjs", "ts", "mts", "cts", "tsx"];

/// The largest input growsafe reads, in bytes: far beyond any real glue (parsing 50 MB takes
/// about 2 GB of memory), and a bound on what an endless input (`/dev/zero`) costs.
pub const MAX_INPUT: u64 = 1 << 30;

/// One file to process: a path, or standard input under a display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The file, or `None` for standard input.
    pub path: Option<PathBuf>,
    /// How messages name it.
    pub name: String,
    /// The grammar, by extension.
    pub lang: Lang,
    /// Whether the user named it (or `-`) rather than a directory or glob that contains it.
    pub explicit: bool,
}

impl Input {
    fn file(path: PathBuf, explicit: bool) -> Self {
        Input {
            name: path.display().to_string(),
            lang: Lang::from_path(&path),
            path: Some(path),
            explicit,
        }
    }

    /// Reads the input as UTF-8 text.
    ///
    /// # Errors
    /// The file cannot be read, or is not UTF-8.
    pub fn read(&self) -> Result<String> {
        // One byte more than the limit tells a file at the limit from a larger one.
        let mut bytes = Vec::new();
        match &self.path {
            Some(path) => {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot read `{}`", path.display()))?;
                let size = file.metadata().map_or(0, |m| m.len()).min(MAX_INPUT + 1);
                bytes.reserve_exact(usize::try_from(size).unwrap_or(0));
                file.take(MAX_INPUT + 1)
                    .read_to_end(&mut bytes)
                    .with_context(|| format!("cannot read `{}`", path.display()))?;
            }
            None => {
                io::stdin()
                    .lock()
                    .take(MAX_INPUT + 1)
                    .read_to_end(&mut bytes)
                    .context("cannot read standard input")?;
            }
        }
        if bytes.len() as u64 > MAX_INPUT {
            bail!(
                "`{}` is larger than {} GiB; growsafe refuses such input",
                self.name,
                MAX_INPUT >> 30
            );
        }
        String::from_utf8(bytes).map_err(|e| {
            anyhow!(
                "`{}` is not UTF-8 text (invalid byte at offset {})",
                self.name,
                e.utf8_error().valid_up_to()
            )
        })
    }
}

/// How directories and globs are walked.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// Skip what `.gitignore` and friends list (off by default).
    pub respect_gitignore: bool,
}

/// The inputs the arguments name, and the arguments that named nothing usable.
#[derive(Debug, Default)]
pub struct Expanded {
    /// Files to process, in order.
    pub inputs: Vec<Input>,
    /// One error per argument that failed (an empty directory, a glob matching nothing, an
    /// unreadable directory entry); the other arguments are still processed.
    pub errors: Vec<anyhow::Error>,
}

/// Expands the command line's paths into inputs.
///
/// # Errors
/// `-` given more than once (a usage error that stops the command).
pub fn expand(paths: &[PathBuf], stdin_filename: &Path, walk: WalkOptions) -> Result<Expanded> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        bail!("`-` (standard input) may be given only once");
    }
    let mut out = Expanded::default();
    let mut seen = HashSet::new();
    let mut push = |out: &mut Expanded, input: Input| {
        let key = input
            .path
            .as_ref()
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()));
        if seen.insert(key) {
            out.inputs.push(input);
        }
    };
    for path in paths {
        if path.as_os_str() == "-" {
            let input = Input {
                path: None,
                name: stdin_filename.display().to_string(),
                lang: Lang::from_path(stdin_filename),
                explicit: true,
            };
            push(&mut out, input);
            continue;
        }
        let found = match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk_dir(path, walk),
            Err(_) if is_glob(path) => walk_glob(path, walk),
            // A file, or a path that does not exist: reading it reports the error.
            _ => Ok(vec![path.clone()]),
        };
        match found {
            Ok(files) => {
                let explicit = files.len() == 1 && files[0] == *path;
                for file in files {
                    push(&mut out, Input::file(file, explicit));
                }
            }
            Err(e) => out.errors.push(e),
        }
    }
    Ok(out)
}

/// Whether a path that does not exist reads as a glob pattern.
fn is_glob(path: &Path) -> bool {
    path.to_str()
        .is_some_and(|s| s.contains(['*', '?', '[', '{']))
}

/// The JavaScript and TypeScript files under `root`, sorted.
fn walk_dir(root: &Path, walk: WalkOptions) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walker(root, walk).build() {
        let entry = entry.with_context(|| format!("cannot walk `{}`", root.display()))?;
        if entry.file_type().is_some_and(|t| t.is_file()) && has_extension(entry.path()) {
            files.push(entry.into_path());
        }
    }
    if files.is_empty() {
        bail!(
            "`{}`: no JavaScript or TypeScript files found ({}){}",
            root.display(),
            skipped_note(walk),
            gitignore_hint(walk)
        );
    }
    files.sort();
    Ok(files)
}

/// The JavaScript and TypeScript files a glob pattern matches (or that sit in a directory it
/// matches), sorted.
fn walk_glob(pattern: &Path, walk: WalkOptions) -> Result<Vec<PathBuf>> {
    let text = pattern.to_str().expect("checked by is_glob");
    let matcher: GlobMatcher = GlobBuilder::new(text)
        .literal_separator(true)
        .build()
        .with_context(|| format!("invalid glob pattern `{text}`"))?
        .compile_matcher();
    let base = literal_base(pattern);
    // Paths from a walk of `.` start with `./`, which the pattern does not spell out.
    let strip_dot = base == Path::new(".") && !text.starts_with("./");
    let relative = |path: &Path| -> PathBuf {
        if strip_dot {
            path.strip_prefix(".").unwrap_or(path).to_path_buf()
        } else {
            path.to_path_buf()
        }
    };
    let mut matched_dirs: Vec<PathBuf> = Vec::new();
    let mut files = Vec::new();
    if base.is_dir() {
        for entry in walker(&base, walk).build() {
            let entry = entry.with_context(|| format!("cannot walk `{}`", base.display()))?;
            let Some(kind) = entry.file_type() else {
                continue;
            };
            let path = relative(entry.path());
            if kind.is_dir() {
                if entry.depth() > 0 && matcher.is_match(&path) {
                    matched_dirs.push(path);
                }
            } else if kind.is_file()
                && has_extension(&path)
                && (matcher.is_match(&path) || matched_dirs.iter().any(|d| path.starts_with(d)))
            {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        bail!(
            "no JavaScript or TypeScript files match `{text}` ({}){}",
            skipped_note(walk),
            gitignore_hint(walk)
        );
    }
    files.sort();
    Ok(files)
}

/// The leading components of a pattern that contain no glob syntax (`.` if none).
fn literal_base(pattern: &Path) -> PathBuf {
    let mut base = PathBuf::new();
    for component in pattern.components() {
        let literal = match component {
            Component::Normal(part) => part
                .to_str()
                .is_some_and(|s| !s.contains(['*', '?', '[', '{'])),
            _ => true,
        };
        if !literal {
            break;
        }
        base.push(component);
    }
    // A pattern whose last component is literal still names files to match, not a directory.
    if base == pattern {
        base.pop();
    }
    if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    }
}

fn walker(root: &Path, walk: WalkOptions) -> WalkBuilder {
    let mut builder = WalkBuilder::new(root);
    builder
        .standard_filters(false)
        .hidden(true)
        .follow_links(false);
    if walk.respect_gitignore {
        builder
            .git_ignore(true)
            .git_global(true)
            .git_exclude(true)
            .ignore(true)
            .parents(true)
            .require_git(false);
    }
    builder.filter_entry(|entry| {
        let node_modules = entry.depth() > 0
            && entry.file_name() == "node_modules"
            && entry.file_type().is_some_and(|t| t.is_dir());
        !node_modules
    });
    builder
}

fn has_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

fn skipped_note(walk: WalkOptions) -> String {
    let extensions: Vec<String> = EXTENSIONS.iter().map(|e| format!(".{e}")).collect();
    let skipped = if walk.respect_gitignore {
        "hidden files, `node_modules` and files .gitignore lists are skipped"
    } else {
        "hidden files and `node_modules` are skipped"
    };
    format!("looked for {}; {skipped}", extensions.join(" "))
}

fn gitignore_hint(walk: WalkOptions) -> &'static str {
    if walk.respect_gitignore {
        "; drop --respect-gitignore to include ignored files"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_base_of_patterns() {
        for (pattern, base) in [
            ("build/**/*.js", "build"),
            ("*.js", "."),
            ("./out/*.mjs", "./out"),
            ("a/b/c?.js", "a/b"),
            ("/tmp/x/{a,b}.js", "/tmp/x"),
            ("src/[ab]/glue.js", "src"),
        ] {
            assert_eq!(
                literal_base(Path::new(pattern)),
                Path::new(base),
                "{pattern}"
            );
        }
    }

    #[test]
    fn globs_are_paths_with_glob_syntax() {
        assert!(is_glob(Path::new("build/**/*.js")));
        assert!(is_glob(Path::new("a?.js")));
        assert!(!is_glob(Path::new("build/app.js")));
    }
}
