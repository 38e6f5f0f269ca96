//! Adversarial inputs and the write guarantees of `growsafe fix` (see "Writing files" in the
//! README).
//!
//! Every input either gives a clear error naming the file (exit 2) or a correct result, never a
//! panic or a crash, and stays byte-identical (contents, mode, inode, modification time) unless
//! a fix was written. Writes are atomic: a write that fails (a file-size limit), a process
//! killed mid-write (`SIGXFSZ`, `SIGKILL` at many moments) or a file changed meanwhile leaves
//! the original exactly as it was, or exactly fixed, never anything in between.
//!
//! Some checks need another user (a read-only directory means nothing to root): as root they run
//! the binary through `setpriv` as `nobody`.
#![cfg(unix)]
#![allow(clippy::print_stderr)]

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _, symlink};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "support/workdir.rs"]
mod workdir;

use workdir::{Dir, Run, run};

const HEAD: &str = "var HEAP8, HEAP16;\n";
/// `heap-snapshot`: two views copied into an object literal.
const SNAP_LINE: &str = "var memory = { HEAP8, HEAP16: HEAP16 };\n";
/// [`SNAP_LINE`] after `fix`.
const SNAP_FIXED_LINE: &str =
    "var memory = { get HEAP8() { return HEAP8; }, get HEAP16() { return HEAP16; } };\n";
/// Reads the views at each use: nothing to fix.
const CLEAN: &str = "var HEAP8;\nfunction f(p) { return HEAP8[p]; }\n";

fn snapshot() -> String {
    format!("{HEAD}{SNAP_LINE}")
}

fn snapshot_fixed() -> String {
    format!("{HEAD}{SNAP_FIXED_LINE}")
}

/// Glue of at least `size` bytes with one snapshot near the top, and its fixed form.
fn big_glue(size: usize) -> (String, String) {
    let mut body = String::with_capacity(size + 64);
    let mut n = 0;
    while body.len() < size {
        body.push_str(&format!(
            "function f{n}(p) {{ return HEAP8[p] + HEAP16[p >> 1]; }}\n"
        ));
        n += 1;
    }
    (
        format!("{HEAD}{SNAP_LINE}{body}"),
        format!("{HEAD}{SNAP_FIXED_LINE}{body}"),
    )
}

/// What a file looks like on disk: it is untouched while all of this stays equal.
#[derive(Debug, PartialEq, Eq)]
struct State {
    bytes: Vec<u8>,
    mode: u32,
    ino: u64,
    mtime: (i64, i64),
}

fn state(path: &Path) -> State {
    let meta = fs::metadata(path).unwrap();
    State {
        bytes: fs::read(path).unwrap(),
        mode: meta.mode() & 0o7777,
        ino: meta.ino(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().mode() & 0o7777
}

/// Whether the tests run as root (for whom permission bits mean little).
fn root() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    fs::write(&probe, "").unwrap();
    fs::metadata(&probe).unwrap().uid() == 0
}

/// [`State`] of a file in a [`Dir`].
trait DirState {
    fn state(&self, name: &str) -> State;
}

impl DirState for Dir {
    fn state(&self, name: &str) -> State {
        state(&self.path(name))
    }
}

// ---------------------------------------------------------------------------------------------
// Adversarial inputs: a clear error or a correct result, and the input left alone.

#[test]
fn nesting_100_000_brackets() {
    let dir = Dir::new();
    let deep = format!("x = {}1{};\n", "{a:[(".repeat(25_000), ")]}".repeat(25_000));
    // `HEAP8` makes it a file growsafe has to parse.
    dir.write("deep.js", format!("var HEAP8;\n{deep}"));
    // Without a trace of heap views or Asyncify it is answered unparsed: nothing to say.
    dir.write("plain.js", &deep);
    let before = dir.state("deep.js");
    let plain = dir.state("plain.js");
    for command in ["check", "fix"] {
        dir.run(&[command, "deep.js"])
            .expect(2)
            .says("growsafe: error: deep.js:2:")
            .says("syntax error: brackets nest deeper than 20000 levels");
        assert_eq!(dir.state("deep.js"), before);
        dir.run(&[command, "plain.js"]).expect(0);
        assert_eq!(dir.state("plain.js"), plain);
    }
}

#[test]
fn invalid_utf8_names_the_file_and_the_byte() {
    let dir = Dir::new();
    let bytes = [snapshot().as_bytes(), b"// caf\xe9\n"].concat();
    let at = snapshot().len() + "// caf".len();
    dir.write("latin1.js", &bytes);
    dir.write("good.js", snapshot());
    let before = dir.state("latin1.js");
    for command in ["check", "fix"] {
        dir.run(&[command, "latin1.js", "good.js"])
            .expect(2)
            .says(&format!(
                "growsafe: error: `latin1.js` is not UTF-8 text (invalid byte at offset {at})"
            ));
        assert_eq!(dir.state("latin1.js"), before);
    }
    // The other file was still fixed.
    assert_eq!(
        fs::read_to_string(dir.path("good.js")).unwrap(),
        snapshot_fixed()
    );
}

#[test]
fn binary_data_is_refused() {
    let dir = Dir::new();
    // Bytes 0..=255 scrambled: NULs, control characters, invalid UTF-8.
    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    dir.write("blob.js", &binary);
    // Valid UTF-8 with a NUL: a syntax error at the NUL.
    dir.write("nul.js", "var a = 1;\nvar b\0 = 2;\n");
    let blob = dir.state("blob.js");
    let nul = dir.state("nul.js");
    for command in ["check", "fix"] {
        dir.run(&[command, "blob.js"])
            .expect(2)
            .says("growsafe: error: `blob.js` is not UTF-8 text (invalid byte at offset");
        dir.run(&[command, "nul.js"])
            .expect(2)
            .says("growsafe: error: nul.js:2:6: syntax error");
        assert_eq!(dir.state("blob.js"), blob);
        assert_eq!(dir.state("nul.js"), nul);
    }
}

#[test]
fn empty_file_is_clean() {
    let dir = Dir::new();
    dir.write("empty.js", "");
    let before = dir.state("empty.js");
    let run = dir.run(&["check", "empty.js"]);
    run.expect(0);
    assert!(run.stdout.contains("No hazards found"), "{}", run.stdout);
    dir.run(&["fix", "empty.js"]).expect(0);
    dir.run(&["fix", "--check", "empty.js"]).expect(0);
    assert_eq!(dir.state("empty.js"), before);
    let stdin = dir.run(&["fix", "-"]);
    stdin.expect(0);
    assert_eq!(stdin.stdout, "");
    // `/dev/null` reads as an empty file, and stays a device.
    dir.run(&["check", "/dev/null"]).expect(0);
    dir.run(&["fix", "/dev/null"]).expect(0);
    assert!(
        fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

/// An endless input stops at 1 GiB (taking as much memory) instead of exhausting memory.
#[test]
fn endless_input_is_refused() {
    let dir = Dir::new();
    for command in ["check", "fix"] {
        dir.run(&[command, "/dev/zero"])
            .expect(2)
            .says("growsafe: error: `/dev/zero` is larger than 1 GiB; growsafe refuses such input");
    }
}

/// A 50 MB file is fixed correctly, once. (About a minute and a half in a debug build: the fix
/// parses twice, the idempotence check twice more.)
#[test]
fn fifty_megabytes() {
    let dir = Dir::new();
    let (text, fixed) = big_glue(50_000_000);
    let path = dir.write("big.js", &text);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    drop(text);

    let start = Instant::now();
    dir.run(&["fix", "big.js"])
        .expect(0)
        .says("big.js: fixed 2 heap-snapshot hazard(s) (line 2)");
    let fix = start.elapsed();
    assert!(fs::read(&path).unwrap() == fixed.as_bytes(), "wrong fix");
    assert_eq!(mode(&path), 0o640);
    assert_eq!(dir.strays(""), Vec::<String>::new());

    let start = Instant::now();
    dir.run(&["fix", "--check", "big.js"]).expect(0);
    eprintln!(
        "50 MB: fix {:.1?}, fix --check {:.1?}",
        fix,
        start.elapsed()
    );
}

#[test]
fn directories() {
    let dir = Dir::new();
    dir.write("build/a.js", snapshot());
    dir.write("build/sub/b.mjs", CLEAN);
    dir.write("build/notes.txt", "not JavaScript");
    dir.write("empty/readme.md", "# nothing here");
    dir.write("x.js", snapshot());

    // A directory is walked.
    let run = dir.run(&["check", "--format", "concise", "build"]);
    run.expect(1);
    assert!(run.stdout.contains("build/a.js:2:"), "{}", run.stdout);

    // A directory with nothing to check is an error; the other arguments are still processed.
    for command in ["check", "fix"] {
        dir.run(&[command, "empty", "build/sub/b.mjs"])
            .expect(2)
            .says("`empty`: no JavaScript or TypeScript files found");
    }

    // `-o` naming a directory.
    let x = dir.state("x.js");
    dir.run(&["fix", "x.js", "-o", "build"])
        .expect(2)
        .says("cannot write `build`: it is a directory");
    assert_eq!(dir.state("x.js"), x);
    assert_eq!(dir.list("build"), ["a.js", "notes.txt", "sub"]);
    assert_eq!(dir.strays(""), Vec::<String>::new());
}

#[test]
fn missing_path_is_named_and_the_others_are_processed() {
    let dir = Dir::new();
    dir.write("good.js", snapshot());
    dir.run(&["check", "missing.js", "good.js"])
        .expect(2)
        .says("cannot read `missing.js`: No such file or directory");
    dir.run(&["fix", "missing.js", "good.js"])
        .expect(2)
        .says("cannot read `missing.js`: No such file or directory");
    assert_eq!(
        fs::read_to_string(dir.path("good.js")).unwrap(),
        snapshot_fixed()
    );
    assert!(!dir.path("missing.js").exists());
    assert_eq!(dir.list(""), ["good.js"]);
}

// ---------------------------------------------------------------------------------------------
// Read-only files and directories.

#[test]
fn read_only_file_is_not_replaced() {
    let dir = Dir::new();
    let path = dir.write("ro.js", snapshot());
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let before = dir.state("ro.js");

    dir.run(&["fix", "ro.js"])
        .expect(2)
        .says("growsafe: error: `ro.js` is read-only");
    assert_eq!(dir.state("ro.js"), before);
    // Nothing claims it was fixed.
    assert!(!dir.run(&["fix", "ro.js"]).stderr.contains("fixed"));
    dir.run(&["check", "ro.js"]).expect(1);
    dir.run(&["fix", "--check", "ro.js"]).expect(1);
    dir.run(&["fix", "--diff", "ro.js"]).expect(1);
    assert_eq!(dir.state("ro.js"), before);
    assert_eq!(dir.strays(""), Vec::<String>::new());

    // Writing elsewhere is fine (the output gets the input's mode); a read-only output is
    // refused like a read-only input.
    dir.run(&["fix", "ro.js", "-o", "out.js"]).expect(0);
    assert_eq!(
        fs::read_to_string(dir.path("out.js")).unwrap(),
        snapshot_fixed()
    );
    assert_eq!(mode(&dir.path("out.js")), 0o444);
    let out = dir.state("out.js");
    dir.write("other.js", snapshot());
    dir.run(&["fix", "other.js", "-o", "out.js"])
        .expect(2)
        .says("`out.js` is read-only");
    assert_eq!(dir.state("out.js"), out);
    assert_eq!(dir.state("ro.js"), before);
}

/// Runs `growsafe ARGS` in `dir` as `nobody` when the tests run as root, or as the current user
/// otherwise; `None` if that cannot be done here.
fn run_unprivileged(dir: &Dir, args: &[&str]) -> Option<Run> {
    if !root() {
        return Some(dir.run(args));
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: running as root without `setpriv`");
        return None;
    }
    fs::set_permissions(dir.root(), fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = Command::new("setpriv");
    command
        .current_dir(dir.root())
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_growsafe"))
        .args(args);
    let run = run(command);
    if run.code == Some(127) || run.code == Some(126) {
        eprintln!("skipped: cannot run growsafe as nobody: {}", run.stderr);
        return None;
    }
    Some(run)
}

#[test]
fn read_only_directory() {
    let dir = Dir::new();
    let file = dir.write("locked/glue.js", snapshot());
    fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
    fs::set_permissions(dir.path("locked"), fs::Permissions::from_mode(0o555)).unwrap();
    let before = dir.state("locked/glue.js");
    let run = run_unprivileged(&dir, &["fix", "locked/glue.js"]);
    fs::set_permissions(dir.path("locked"), fs::Permissions::from_mode(0o755)).unwrap();
    let Some(run) = run else { return };
    run.expect(2)
        .says("growsafe: error: cannot create a temporary file in `")
        .says("Permission denied");
    assert_eq!(dir.state("locked/glue.js"), before);
    assert_eq!(dir.list("locked"), ["glue.js"]);
}

#[test]
fn unwritable_file_of_another_user_is_not_replaced() {
    // Mode 0644, owned by someone else: the directory would allow the rename.
    let dir = Dir::new();
    let file = dir.write("theirs/glue.js", snapshot());
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(dir.path("theirs"), fs::Permissions::from_mode(0o777)).unwrap();
    if !root() {
        // Without root there is no file of another user to make here.
        return;
    }
    let before = dir.state("theirs/glue.js");
    let Some(run) = run_unprivileged(&dir, &["fix", "theirs/glue.js"]) else {
        return;
    };
    run.expect(2)
        .says("`theirs/glue.js` is not writable by this user");
    assert_eq!(dir.state("theirs/glue.js"), before);
    assert_eq!(dir.list("theirs"), ["glue.js"]);
}

#[test]
fn owner_survives_a_fix_by_root() {
    if !root() {
        return;
    }
    let dir = Dir::new();
    let file = dir.write("glue.js", snapshot());
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
    dir.run(&["fix", "glue.js"]).expect(0);
    let meta = fs::metadata(&file).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    assert_eq!(fs::read_to_string(&file).unwrap(), snapshot_fixed());
}

// ---------------------------------------------------------------------------------------------
// Symlinks and other non-regular files.

#[test]
fn symlinks() {
    let dir = Dir::new();
    let target = dir.write("real/glue.js", snapshot());
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).unwrap();
    symlink("real/glue.js", dir.path("link.js")).unwrap();
    symlink("nowhere.js", dir.path("dangling.js")).unwrap();
    symlink("loop-b.js", dir.path("loop-a.js")).unwrap();
    symlink("loop-a.js", dir.path("loop-b.js")).unwrap();

    // Fixing through a link replaces the target and keeps the link.
    dir.run(&["fix", "link.js"]).expect(0);
    assert_eq!(fs::read_to_string(&target).unwrap(), snapshot_fixed());
    assert_eq!(mode(&target), 0o755);
    assert_eq!(
        fs::read_link(dir.path("link.js")).unwrap(),
        Path::new("real/glue.js")
    );
    assert_eq!(dir.list("real"), ["glue.js"]);

    for command in ["check", "fix"] {
        dir.run(&[command, "dangling.js"])
            .expect(2)
            .says("cannot read `dangling.js`: No such file or directory");
        dir.run(&[command, "loop-a.js"])
            .expect(2)
            .says("cannot read `loop-a.js`: Too many levels of symbolic links");
    }
    // `-o` through a dangling link or a loop: refused, nothing created.
    dir.write("x.js", snapshot());
    dir.run(&["fix", "x.js", "-o", "dangling.js"])
        .expect(2)
        .says("cannot write `dangling.js`: it is a symbolic link to a missing file");
    dir.run(&["fix", "x.js", "-o", "loop-a.js"])
        .expect(2)
        .says("cannot write `loop-a.js`: Too many levels of symbolic links");
    assert!(
        fs::symlink_metadata(dir.path("dangling.js"))
            .unwrap()
            .is_symlink()
    );
    assert!(!dir.path("nowhere.js").exists());
    assert_eq!(fs::read_to_string(dir.path("x.js")).unwrap(), snapshot());
    assert_eq!(dir.strays(""), Vec::<String>::new());
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo failed");
}

#[test]
fn fifos_are_read_and_written_into_never_replaced() {
    let dir = Dir::new();
    let fifo = dir.path("pipe.js");
    mkfifo(&fifo);
    // `fix pipe.js` reads the FIFO, but cannot put anything back in its place.
    let writer = std::thread::spawn({
        let fifo = fifo.clone();
        move || fs::write(fifo, snapshot()).unwrap()
    });
    dir.run(&["fix", "pipe.js"])
        .expect(2)
        .says("cannot fix `pipe.js` in place: it is not a regular file");
    writer.join().unwrap();
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

    // `-o pipe.js` writes into it (like `-o /dev/stdout`).
    dir.write("glue.js", snapshot());
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || fs::read_to_string(fifo).unwrap()
    });
    dir.run(&["fix", "glue.js", "-o", "pipe.js"]).expect(0);
    assert_eq!(reader.join().unwrap(), snapshot_fixed());
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(dir.strays(""), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// A file changed while growsafe works on it.

/// Runs `fix glue.js gate.js` on one thread, so `glue.js` is read before the FIFO `gate.js` is
/// opened and written only after the FIFO is read: `meanwhile` runs when growsafe has read
/// `glue.js` and not yet written it.
fn fix_while(dir: &Dir, meanwhile: impl FnOnce()) -> Run {
    let gate = dir.path("gate.js");
    let _ = fs::remove_file(&gate);
    mkfifo(&gate);
    let mut command = dir.command(&["fix", "glue.js", "gate.js"]);
    command
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    // Opening the FIFO for writing blocks until growsafe opens it for reading.
    let (opened, wait) = mpsc::channel();
    let opener = std::thread::spawn({
        let gate = gate.clone();
        move || {
            let file = fs::OpenOptions::new().write(true).open(gate).unwrap();
            opened.send(()).unwrap();
            file
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut child = child;
    loop {
        if wait.recv_timeout(Duration::from_millis(50)).is_ok() {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            // Unblock the opener before failing.
            drop(fs::File::open(&gate));
            let output = child.wait_with_output().unwrap();
            panic!(
                "growsafe exited ({status}) before reading the FIFO:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(Instant::now() < deadline, "growsafe never opened the FIFO");
    }
    let mut file = opener.join().unwrap();
    meanwhile();
    file.write_all(CLEAN.as_bytes()).unwrap();
    drop(file);
    Run::from_output(&child.wait_with_output().unwrap())
}

#[test]
fn the_gate_lets_an_unchanged_file_be_fixed() {
    let dir = Dir::new();
    dir.write("glue.js", snapshot());
    fix_while(&dir, || {}).expect(0);
    assert_eq!(
        fs::read_to_string(dir.path("glue.js")).unwrap(),
        snapshot_fixed()
    );
}

#[test]
fn a_file_changed_meanwhile_is_left_alone() {
    let dir = Dir::new();
    dir.write("glue.js", snapshot());
    let edited = format!("// edited meanwhile\n{}", snapshot());
    let run = fix_while(&dir, || {
        fs::write(dir.path("glue.js"), &edited).unwrap();
    });
    run.expect(2)
        .says("growsafe: error: `glue.js` changed while growsafe was fixing it");
    assert!(!run.stderr.contains("glue.js: fixed"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(dir.path("glue.js")).unwrap(), edited);
    assert_eq!(dir.strays(""), Vec::<String>::new());

    // Replaced by rename (how editors save), the same length: still noticed.
    dir.write("glue.js", snapshot());
    let same_length = snapshot().replace("memory", "MEMORY");
    let run = fix_while(&dir, || {
        let tmp = dir.write("editor.tmp", &same_length);
        fs::rename(tmp, dir.path("glue.js")).unwrap();
    });
    run.expect(2)
        .says("`glue.js` changed while growsafe was fixing it");
    assert_eq!(
        fs::read_to_string(dir.path("glue.js")).unwrap(),
        same_length
    );
}

#[test]
fn a_file_removed_meanwhile_is_not_recreated() {
    let dir = Dir::new();
    dir.write("glue.js", snapshot());
    fix_while(&dir, || fs::remove_file(dir.path("glue.js")).unwrap())
        .expect(2)
        .says("`glue.js` was removed while growsafe was fixing it; nothing written");
    assert!(!dir.path("glue.js").exists());
    assert_eq!(dir.list(""), ["gate.js"]);
}

// ---------------------------------------------------------------------------------------------
// Atomic writes: failures and kills leave the original or the whole fix, nothing else.

/// `growsafe ARGS` under a file-size limit of a few KiB, so writing the fixed file fails;
/// `SIGXFSZ` ignored (the write fails with `EFBIG`) or not (the process dies mid-write).
fn run_with_size_limit(dir: &Dir, ignore_sigxfsz: bool, args: &[&str]) -> Run {
    // `ulimit -f` counts 512- or 1024-byte blocks depending on the shell: 2 or 4 KiB.
    let trap = if ignore_sigxfsz { "trap '' XFSZ; " } else { "" };
    let mut command = Command::new("sh");
    command
        .current_dir(dir.root())
        .arg("-c")
        .arg(format!("{trap}ulimit -f 4 && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_growsafe"))
        .args(args);
    run(command)
}

#[test]
fn a_failed_write_leaves_the_original() {
    let dir = Dir::new();
    let (text, _) = big_glue(16 * 1024);
    let path = dir.write("glue.js", &text);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    dir.write("small.js", snapshot());
    let before = dir.state("glue.js");

    let run = run_with_size_limit(&dir, true, &["fix", "glue.js", "small.js"]);
    run.expect(2)
        .says("growsafe: error: cannot write `")
        .says("File too large");
    assert!(!run.stderr.contains("glue.js: fixed"), "{}", run.stderr);
    assert_eq!(dir.state("glue.js"), before);
    assert_eq!(dir.strays(""), Vec::<String>::new());
    // The small file fits under the limit and was fixed.
    assert_eq!(
        fs::read_to_string(dir.path("small.js")).unwrap(),
        snapshot_fixed()
    );
}

#[test]
fn killed_mid_write_leaves_the_original_and_a_named_temporary_file() {
    let dir = Dir::new();
    let (text, fixed) = big_glue(16 * 1024);
    dir.write("glue.js", &text);
    let before = dir.state("glue.js");

    let run = run_with_size_limit(&dir, false, &["fix", "glue.js"]);
    assert_eq!(run.signal, Some(25), "not killed by SIGXFSZ: {run:?}");
    assert_eq!(dir.state("glue.js"), before);
    // The partial temporary file cannot be cleaned up after SIGKILL-like deaths: it is hidden
    // and clearly named.
    let strays = dir.strays("");
    assert_eq!(strays.len(), 1, "{strays:?}");
    assert!(strays[0].ends_with(".tmp"), "{strays:?}");

    // Walks skip it; a new run fixes the file.
    dir.run(&["check", "--format", "concise", "."])
        .expect(1)
        .no_panic();
    dir.run(&["fix", "."]).expect(0);
    assert_eq!(fs::read_to_string(dir.path("glue.js")).unwrap(), fixed);
}

#[test]
fn sigkill_at_any_moment_leaves_the_original_or_the_fix() {
    let dir = Dir::new();
    let (text, fixed) = big_glue(500_000);
    let path = dir.write("glue.js", &text);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();

    // How long a whole run takes here.
    let start = Instant::now();
    dir.run(&["fix", "glue.js"]).expect(0);
    let whole = start.elapsed();
    assert!(fs::read(&path).unwrap() == fixed.as_bytes());

    // Kills at 30% to 130% of a run's duration, then kills the moment the temporary file
    // appears (mid-write).
    let timed = 10;
    let watched = 6;
    let mut outcomes = [0; 3]; // original, fixed, leftover temporary file
    for i in 0..timed + watched {
        fs::write(&path, &text).unwrap();
        let mut child = dir
            .command(&["fix", "--quiet", "glue.js"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if i < timed {
            std::thread::sleep(whole * (3 + i) / 10);
        } else {
            while dir.strays("").is_empty() && child.try_wait().unwrap().is_none() {}
        }
        let _ = child.kill();
        child.wait().unwrap();
        let now = fs::read(&path).unwrap();
        if now == text.as_bytes() {
            outcomes[0] += 1;
        } else if now == fixed.as_bytes() {
            outcomes[1] += 1;
        } else {
            panic!("kill {i}: the file is neither the original nor the fix");
        }
        assert_eq!(mode(&path), 0o640, "kill {i}");
        for stray in dir.strays("") {
            assert!(stray.ends_with(".tmp"), "{stray}");
            outcomes[2] += 1;
            fs::remove_file(dir.path(&stray)).unwrap();
        }
        assert_eq!(dir.list(""), ["glue.js"]);
    }
    eprintln!(
        "{} kills, a run takes {whole:.1?}: {} left the original, {} the fix, {} a temporary file",
        timed + watched,
        outcomes[0],
        outcomes[1],
        outcomes[2]
    );
}

#[test]
fn line_endings_bom_and_permissions_survive() {
    let dir = Dir::new();
    let cases: [(&str, String, u32); 6] = [
        ("newline.js", snapshot(), 0o640),
        ("no-newline.js", snapshot().trim_end().to_owned(), 0o755),
        ("bom.js", format!("\u{feff}{}", snapshot()), 0o600),
        ("crlf.js", snapshot().replace('\n', "\r\n"), 0o644),
        (
            "bom-crlf-no-newline.js",
            format!("\u{feff}{}", snapshot().trim_end().replace('\n', "\r\n")),
            0o664,
        ),
        ("blank-lines.js", format!("\n\n{}\n\n", snapshot()), 0o640),
    ];
    for (name, text, perm) in &cases {
        let path = dir.write(name, text);
        fs::set_permissions(&path, fs::Permissions::from_mode(*perm)).unwrap();
    }
    let names: Vec<&str> = cases.iter().map(|(n, _, _)| *n).collect();
    let args: Vec<&str> = ["fix"].into_iter().chain(names.iter().copied()).collect();
    dir.run(&args).expect(0);
    for (name, text, perm) in &cases {
        let path = dir.path(name);
        let expected = text.replace(SNAP_LINE.trim_end(), SNAP_FIXED_LINE.trim_end());
        assert_ne!(&expected, text);
        assert_eq!(fs::read_to_string(&path).unwrap(), expected, "{name}");
        assert_eq!(mode(&path), *perm, "{name}");
    }
    let check: Vec<&str> = ["fix", "--check"]
        .into_iter()
        .chain(names.iter().copied())
        .collect();
    dir.run(&check).expect(0);
    assert_eq!(dir.strays(""), Vec::<String>::new());
}

#[test]
fn a_new_output_file_gets_the_usual_permissions() {
    let dir = Dir::new();
    // What this process's umask makes of a new file.
    let usual = mode(&dir.write("usual", ""));
    let mut command = dir.command(&["fix", "-", "-o", "out.js"]);
    command.stdin(Stdio::piped());
    let mut command = assert_cmd::Command::from_std(command);
    let output = command.write_stdin(snapshot()).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        fs::read_to_string(dir.path("out.js")).unwrap(),
        snapshot_fixed()
    );
    assert_eq!(mode(&dir.path("out.js")), usual);
}
