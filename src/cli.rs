//! The command line: `growsafe fix`, `check`, `passes`, `explain`.
//!
//! Exit codes: 0 clean or fixed; 1 findings (`check`), changes pending (`fix --check`/`--diff`)
//! or an unmet `--require`; 2 usage, I/O or parse errors. One file's error never stops the
//! others. This module and [`crate::report`] are the only places that print.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rayon::prelude::*;

use crate::config::{CliOptions, Config};
use crate::inputs::{self, Expanded, Input, WalkOptions};
use crate::report;
use crate::{
    CheckOutput, FixOutput, HeapStyle, LibraryReport, Options, PassId, RemarkKind, Variant,
    check_source, fix_source,
};

/// Make Emscripten glue safe under WebAssembly memory growth.
#[derive(Debug, Parser)]
#[command(name = "growsafe", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Rewrite files in place so heap views and Asyncify survive memory growth.
    Fix(FixArgs),
    /// Report hazards without changing anything (exit 1 if there are any).
    Check(CheckArgs),
    /// List the passes.
    Passes,
    /// Print a pass's documentation.
    Explain {
        /// The pass, e.g. `heap-snapshot`.
        pass: PassId,
    },
}

#[derive(Debug, Args)]
struct PassArgs {
    /// How snapshotted views are rewritten [default: getter, or `heap-style` in growsafe.toml].
    #[arg(long, value_enum)]
    heap_style: Option<StyleArg>,
    /// Run only these passes (comma-separated); replaces `select` in growsafe.toml.
    #[arg(long, value_delimiter = ',', value_name = "PASS")]
    select: Vec<PassId>,
    /// Skip these passes (comma-separated); adds to `ignore` in growsafe.toml.
    #[arg(long, value_delimiter = ',', value_name = "PASS")]
    ignore: Vec<PassId>,
    /// Use this configuration file for every input instead of the closest `growsafe.toml`.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Ignore every `growsafe.toml`.
    #[arg(long)]
    no_config: bool,
}

impl PassArgs {
    fn cli_options(&self) -> CliOptions {
        CliOptions {
            heap_style: self.heap_style.map(|style| match style {
                StyleArg::Getter => HeapStyle::Getter,
                StyleArg::Accessor => HeapStyle::Accessor,
                StyleArg::Proxy => HeapStyle::Proxy,
            }),
            select: (!self.select.is_empty()).then(|| self.select.clone()),
            ignore: self.ignore.clone(),
        }
    }

    fn settings(&self) -> Result<Settings> {
        let fixed = match &self.config {
            Some(path) => Some(Config::load(path)?),
            None => None,
        };
        Ok(Settings {
            cli: self.cli_options(),
            fixed,
            no_config: self.no_config,
            found: HashMap::new(),
        })
    }
}

/// Resolves each input's [`Options`]: the command line over the applicable `growsafe.toml`.
struct Settings {
    cli: CliOptions,
    fixed: Option<Config>,
    no_config: bool,
    /// Discovered configurations by directory.
    found: HashMap<PathBuf, Option<Config>>,
}

impl Settings {
    fn options_for(&mut self, input: &Input) -> Result<Options> {
        if self.no_config {
            return Ok(self.cli.without_config());
        }
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let file = cwd.join(input.path.as_deref().unwrap_or(Path::new(&input.name)));
        if let Some(config) = &self.fixed {
            return Ok(config.options_for(&file, &self.cli));
        }
        let dir = file.parent().unwrap_or(&cwd).to_path_buf();
        if !self.found.contains_key(&dir) {
            let config = Config::discover(&dir)?;
            self.found.insert(dir.clone(), config);
        }
        Ok(match &self.found[&dir] {
            Some(config) => config.options_for(&file, &self.cli),
            None => self.cli.without_config(),
        })
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StyleArg {
    /// `get HEAP16() { return HEAP16; }` (interface unchanged)
    Getter,
    /// `HEAP16: { get(offset) {…}, set(offset, value) {…} }`
    Accessor,
    /// A Proxy forwarding to the current view (opt-in, slower)
    Proxy,
}

/// Which files: shared by `fix` and `check`.
#[derive(Debug, Args)]
struct WalkArgs {
    /// Skip files that `.gitignore` (and `.ignore`, `.git/info/exclude`, the global gitignore)
    /// lists when walking a directory or glob. Off by default: build output is usually ignored.
    #[arg(long)]
    respect_gitignore: bool,
}

impl WalkArgs {
    fn options(&self) -> WalkOptions {
        WalkOptions {
            respect_gitignore: self.respect_gitignore,
        }
    }
}

#[derive(Debug, Args)]
struct FixArgs {
    /// Files, directories (walked for .js .mjs .cjs .ts .mts .cts .tsx; hidden files and
    /// node_modules skipped) or glob patterns to fix; `-` reads standard input and writes
    /// standard output.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Write the result here instead of in place (one input file only).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write nothing; exit 1 if anything would change.
    #[arg(long, conflicts_with = "diff")]
    check: bool,
    /// Print a unified diff of the changes; write nothing; exit 1 if anything would change.
    #[arg(long)]
    diff: bool,
    /// Exit 1, writing nothing for that file, unless each of these passes applied or found the
    /// file already fixed, with no hazard of that pass left (guards a build against glue
    /// growsafe no longer recognises).
    #[arg(long, value_delimiter = ',', value_name = "PASS")]
    require: Vec<PassId>,
    /// Say nothing on standard error about what changed.
    #[arg(short, long)]
    quiet: bool,
    /// The language of standard input (by extension: `x.ts`).
    #[arg(long, value_name = "NAME", default_value = "stdin.js")]
    stdin_filename: PathBuf,
    #[command(flatten)]
    walk: WalkArgs,
    #[command(flatten)]
    passes: PassArgs,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Files, directories (walked for .js .mjs .cjs .ts .mts .cts .tsx; hidden files and
    /// node_modules skipped) or glob patterns to check; `-` reads standard input.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = report::Format::Human)]
    format: report::Format,
    /// The language and name of standard input.
    #[arg(long, value_name = "NAME", default_value = "stdin.js")]
    stdin_filename: PathBuf,
    #[command(flatten)]
    walk: WalkArgs,
    #[command(flatten)]
    passes: PassArgs,
}

/// Runs the CLI on `args` (including the program name) and returns the exit code.
pub fn main_with_args(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("growsafe: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Fix(args) => fix(&args),
        Command::Check(args) => check(&args),
        Command::Passes => {
            let mut out = io::stdout().lock();
            for pass in PassId::ALL {
                let meta = pass.meta();
                let fix = match meta.fix {
                    crate::passes::FixAvailability::Always => "fix",
                    crate::passes::FixAvailability::Sometimes => "fix sometimes",
                    crate::passes::FixAvailability::Never => "lint",
                };
                writeln!(
                    out,
                    "{:<22} {:<16} {}",
                    meta.name,
                    format!("[{fix}]"),
                    meta.summary
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { pass } => {
            io::stdout().lock().write_all(pass.meta().docs.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The inputs the arguments name; reports (and counts) the arguments that named nothing.
fn expand(paths: &[PathBuf], stdin_filename: &Path, walk: &WalkArgs) -> Result<(Vec<Input>, bool)> {
    let Expanded { inputs, errors } = inputs::expand(paths, stdin_filename, walk.options())?;
    for e in &errors {
        eprintln!("growsafe: error: {e:#}");
    }
    Ok((inputs, !errors.is_empty()))
}

/// Tells the user on standard error how a library file whose `#if` branches only parse
/// separately was read, and which of its lines were not analysed.
fn print_library_notes(name: &str, library: &LibraryReport) {
    if !library.split() {
        return;
    }
    let how = match library.checked[..] {
        [Variant::FirstBranches] => "keeping only the first branch of each `#if` in the way",
        [Variant::LastBranches] => "keeping only the last branch of each `#if` in the way",
        _ => "twice, keeping only the first, then only the last branch of each `#if` in the way",
    };
    for failed in &library.failed {
        let what = if failed.variant == Variant::AllBranches {
            format!(
                "the `#if` branches of this Emscripten JS library do not parse together ({}), so growsafe checked it {how}; `fix` leaves it alone",
                failed.message
            )
        } else {
            format!(
                "with {} it does not parse either ({})",
                failed.variant.describe(),
                failed.message
            )
        };
        eprintln!("{name}:{}:{}: note: {what}", failed.line, failed.column);
    }
    for lines in &library.unchecked {
        eprintln!(
            "{name}:{}: note: lines {}-{} (the branch at line {}) were not checked: no reading that keeps them parses",
            lines.first_line, lines.first_line, lines.last_line, lines.directive_line
        );
    }
}

fn check(args: &CheckArgs) -> Result<ExitCode> {
    let mut settings = args.passes.settings()?;
    let (inputs, mut errored) = expand(&args.paths, &args.stdin_filename, &args.walk)?;
    let mut results: Vec<(String, String, CheckOutput)> = Vec::new();
    // Options are resolved in order (configuration lookups are cached), files are analysed in
    // parallel, and everything is printed in input order.
    let jobs: Vec<(Input, Result<Options>)> = inputs
        .into_iter()
        .map(|input| {
            let options = settings.options_for(&input);
            (input, options)
        })
        .collect();
    // On the parser pool, so each file is parsed on the thread that reads it.
    let outcomes: Vec<Result<(String, CheckOutput)>> = crate::source::in_parser_pool(|| {
        jobs.par_iter()
            .map(|(input, options)| {
                let options = options.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                let text = input.read()?;
                let out = check_source(&text, input.lang, options)
                    .map_err(|e| anyhow::anyhow!("{}:{e}", input.name))?;
                Ok((text, out))
            })
            .collect()
    });
    for ((input, _), outcome) in jobs.into_iter().zip(outcomes) {
        match outcome {
            Ok((text, out)) => {
                if let Some(library) = &out.library {
                    print_library_notes(&input.name, library);
                }
                results.push((input.name, text, out));
            }
            Err(e) => {
                eprintln!("growsafe: error: {e:#}");
                errored = true;
            }
        }
    }
    let findings = report::print_check(&results, args.format)?;
    Ok(ExitCode::from(if errored {
        2
    } else if findings > 0 {
        1
    } else {
        0
    }))
}

fn fix(args: &FixArgs) -> Result<ExitCode> {
    if let Some(lint) = args.require.iter().find(|p| !p.offers_fixes()) {
        bail!(
            "`--require {lint}`: `{lint}` is lint-only (it never fixes anything); use `growsafe check --select {lint}` to fail on its findings"
        );
    }
    let mut settings = args.passes.settings()?;
    let (inputs, mut errored) = expand(&args.paths, &args.stdin_filename, &args.walk)?;
    let one_file = args.paths.len() == 1 && inputs.len() == 1 && inputs[0].explicit;
    if args.output.is_some() && !one_file {
        bail!("`-o/--output` takes exactly one input file (not a directory or glob)");
    }
    let mut pending = false;
    let mut unmet = false;
    // Files are fixed in parallel; reporting and writing happen afterwards, in input order.
    let jobs: Vec<Result<Options>> = inputs
        .iter()
        .map(|input| settings.options_for(input))
        .collect();
    let fixed: Vec<Result<(String, FixOutput)>> = crate::source::in_parser_pool(|| {
        inputs
            .par_iter()
            .zip(jobs.par_iter())
            .map(|(input, options)| {
                let options = options.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                let text = input.read()?;
                let out = fix_source(&text, input.lang, options)
                    .map_err(|e| anyhow::anyhow!("{}:{e}", input.name))?;
                Ok((text, out))
            })
            .collect()
    });
    for (input, result) in inputs.iter().zip(fixed) {
        match result.and_then(|(text, out)| finish_fix(args, input, &text, &out)) {
            Ok(outcome) => {
                pending |= outcome.changed;
                unmet |= outcome.unmet;
            }
            Err(e) => {
                eprintln!("growsafe: error: {e:#}");
                errored = true;
            }
        }
    }
    Ok(ExitCode::from(if errored {
        2
    } else if unmet || ((args.check || args.diff) && pending) {
        1
    } else {
        0
    }))
}

struct Outcome {
    changed: bool,
    unmet: bool,
}

/// Reports what `fix` did to one file and writes the result (or prints the diff).
fn finish_fix(args: &FixArgs, input: &Input, text: &str, out: &FixOutput) -> Result<Outcome> {
    let unmet = unmet_requirements(args, out);
    // Files are written before anything is reported, so a file that could not be written is
    // not reported as fixed.
    if unmet.is_empty() && !args.check && !args.diff {
        match (&args.output, &input.path) {
            (Some(output), _) => {
                write_atomic(output, out.text.as_bytes(), input.path.as_deref(), None)?;
            }
            (None, Some(path)) if out.changed => {
                write_atomic(path, out.text.as_bytes(), Some(path), Some(text.as_bytes()))?;
            }
            _ => {}
        }
    }
    if !args.quiet {
        if let Some(library) = &out.library {
            print_library_notes(&input.name, library);
        }
        report::print_fix_summary(&input.name, out, args.check || args.diff)?;
    }
    for pass in &unmet {
        eprintln!(
            "growsafe: {}: required pass `{pass}` neither applied nor found the file already fixed",
            input.name
        );
    }
    if !unmet.is_empty() {
        // The build step failed its guard: leave every file as it was.
        return Ok(Outcome {
            changed: out.changed,
            unmet: true,
        });
    }
    if args.diff {
        if out.changed {
            report::print_diff(&input.name, text, &out.text)?;
        }
    } else if !args.check && args.output.is_none() && input.path.is_none() {
        io::stdout()
            .lock()
            .write_all(out.text.as_bytes())
            .context("cannot write standard output")?;
    }
    Ok(Outcome {
        changed: out.changed,
        unmet: !unmet.is_empty(),
    })
}

/// The required passes that neither applied nor found their hazard already fixed, or that left
/// a hazard without a fix.
fn unmet_requirements(args: &FixArgs, out: &FixOutput) -> Vec<PassId> {
    args.require
        .iter()
        .copied()
        .filter(|pass| {
            let applied = out.applied.iter().any(|a| a.pass == *pass);
            let already = out
                .remaining
                .remarks
                .iter()
                .any(|r| r.pass == *pass && r.kind == RemarkKind::AlreadyFixed);
            let left = out.remaining.findings.iter().any(|f| f.pass == *pass);
            !(applied || already) || left
        })
        .collect()
}

/// Writes `bytes` to `path` the way `fix` promises (see "Writing files" in the README).
///
/// A regular file is replaced atomically: a temporary `.growsafe-*.tmp` file in the same
/// directory is written, synced, given the original's owner and permissions, then renamed over
/// it, and the directory is synced. A symlink's target is replaced; the link stays. On any
/// failure the original is untouched and the temporary file is removed (a `SIGKILL` can leave
/// one behind; it is hidden, so directory walks skip it).
///
/// `original` is what was read from `path` when fixing it in place: if the file no longer holds
/// exactly that just before the rename, someone changed it meanwhile and nothing is written.
/// A read-only file is never replaced, although the rename would be allowed. Something that is
/// not a regular file (`-o /dev/stdout`, a FIFO) is written into directly, never replaced; in
/// place, it is refused.
fn write_atomic(
    path: &Path,
    bytes: &[u8],
    like: Option<&Path>,
    original: Option<&[u8]>,
) -> Result<()> {
    let shown = path.display();
    let target = match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => bail!("cannot write `{shown}`: it is a directory"),
        Ok(meta) if !meta.is_file() => {
            if original.is_some() {
                bail!(
                    "cannot fix `{shown}` in place: it is not a regular file (use `-o` or standard input)"
                );
            }
            // A device or FIFO cannot be replaced atomically, and must not be replaced at all.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open `{shown}`"))?;
            file.write_all(bytes)
                .with_context(|| format!("cannot write `{shown}`"))?;
            return Ok(());
        }
        Ok(meta) => {
            let why = if meta.permissions().readonly() {
                "is read-only"
            } else if !writable(path) {
                "is not writable by this user"
            } else {
                ""
            };
            if !why.is_empty() {
                bail!(
                    "`{shown}` {why}; growsafe replaces only files it may write (make it writable, or write elsewhere with `-o`)"
                );
            }
            std::fs::canonicalize(path).with_context(|| format!("cannot resolve `{shown}`"))?
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                bail!("cannot write `{shown}`: it is a symbolic link to a missing file");
            }
            if original.is_some() {
                bail!("`{shown}` was removed while growsafe was fixing it; nothing written");
            }
            path.to_path_buf()
        }
        Err(e) => return Err(e).with_context(|| format!("cannot write `{shown}`")),
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".growsafe-").suffix(".tmp");
    #[cfg(unix)]
    if !target.exists() && like.is_none() {
        // A new file gets the usual `0666 & !umask`, not the temporary file's 0600.
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write `{}`", tmp.path().display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot sync `{}`", tmp.path().display()))?;
    let meta = like
        .and_then(|p| std::fs::metadata(p).ok())
        .or_else(|| std::fs::metadata(&target).ok());
    if let Some(meta) = meta {
        #[cfg(unix)]
        {
            // Keep the owner where allowed (root fixing someone's file); as anyone else, the
            // group may still be kept. Failing is fine: the file is then the writer's own.
            use std::os::unix::fs::MetadataExt as _;
            if std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid())).is_err()
            {
                let _ = std::os::unix::fs::fchown(tmp.as_file(), None, Some(meta.gid()));
            }
        }
        tmp.as_file()
            .set_permissions(meta.permissions())
            .with_context(|| format!("cannot set permissions on `{}`", tmp.path().display()))?;
    }
    if let Some(original) = original {
        match std::fs::read(&target) {
            Ok(now) if now == original => {}
            Ok(_) => bail!(
                "`{shown}` changed while growsafe was fixing it; left the new contents alone (run growsafe again)"
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                bail!("`{shown}` was removed while growsafe was fixing it; nothing written")
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read `{shown}` again")),
        }
    }
    tmp.persist(&target)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace `{shown}`"))?;
    // Make the rename itself durable. Not every platform can open a directory; best effort.
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Whether this process may open `path` (a regular file) for writing: its permission bits and
/// ACLs for this user. Opening without truncating changes nothing.
fn writable(path: &Path) -> bool {
    !matches!(
        std::fs::OpenOptions::new().write(true).open(path),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied
    )
}
