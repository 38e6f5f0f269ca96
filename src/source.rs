//! Reading and parsing one input: BOM handling, language detection, the swc parse on a
//! big-stack thread. Names are resolved later, on demand ([`crate::scope`]).
//!
//! Everything here is per file and owns no global state: the swc `SourceMap` lives only for
//! the duration of one [`parse`] call.

use std::path::Path;

use swc_common::{BytePos, FileName, SourceMap, Span, Spanned, sync::Lrc};
use swc_ecma_ast::{EsVersion, Program};
use swc_ecma_parser::{EsSyntax, Syntax, TsSyntax, parse_file_as_program};

use crate::diagnostic::{LineIndex, TextRange};
use crate::patch::Patches;

/// The UTF-8 byte order mark. swc strips it silently, which would shift every offset by 3.
const BOM: &str = "\u{feff}";

/// How deep brackets may nest before growsafe refuses the file instead of risking the stack.
///
/// Real Emscripten glue nests fewer than 50 levels; the parser runs on a 1 GiB stack that
/// handles far more than this limit (see [`with_big_stack`]).
pub const MAX_NESTING: usize = 20_000;

/// Which grammar a file is parsed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// JavaScript: script or module, decided by the parser.
    JavaScript,
    /// TypeScript (`.ts`, `.mts`, `.cts`).
    TypeScript,
    /// TypeScript with JSX (`.tsx`).
    Tsx,
}

impl Lang {
    /// The grammar for a path, by extension; anything unknown is JavaScript.
    #[must_use]
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("ts" | "mts" | "cts") => Lang::TypeScript,
            Some("tsx") => Lang::Tsx,
            _ => Lang::JavaScript,
        }
    }

    pub(crate) fn syntax(self) -> Syntax {
        match self {
            Lang::JavaScript => Syntax::Es(EsSyntax {
                allow_return_outside_function: true,
                ..Default::default()
            }),
            Lang::TypeScript => Syntax::Typescript(TsSyntax::default()),
            Lang::Tsx => Syntax::Typescript(TsSyntax {
                tsx: true,
                ..Default::default()
            }),
        }
    }
}

/// A file's text split into the optional BOM and the body the passes see.
///
/// All [`TextRange`]s are offsets into `body`; [`SourceText::reassemble`] puts the BOM back.
#[derive(Debug, Clone)]
pub struct SourceText<'a> {
    /// Whether the file started with a UTF-8 BOM.
    pub bom: bool,
    /// The text after the BOM.
    pub body: &'a str,
}

impl<'a> SourceText<'a> {
    /// Splits off a leading BOM.
    #[must_use]
    pub fn new(text: &'a str) -> Self {
        match text.strip_prefix(BOM) {
            Some(body) => SourceText { bom: true, body },
            None => SourceText {
                bom: false,
                body: text,
            },
        }
    }

    /// The full file text for a (possibly edited) body.
    #[must_use]
    pub fn reassemble(&self, body: &str) -> String {
        if self.bom {
            format!("{BOM}{body}")
        } else {
            body.to_owned()
        }
    }
}

/// A parse failure, located in the body text.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// What the parser said.
    pub message: String,
    /// Where, as a byte range into the body.
    pub range: TextRange,
}

/// A parsed program and what the passes need to interpret its spans.
pub struct Parsed {
    /// The AST.
    pub program: Program,
    /// The position of byte 0 of the body in swc's source map.
    pub start_pos: BytePos,
    /// The nodes re-parsed on their own after a fix (see [`crate::patch`]): positions inside
    /// them are virtual.
    pub patches: Patches,
}

impl Parsed {
    /// The body-relative byte range of a span.
    #[must_use]
    pub fn range(&self, span: Span) -> TextRange {
        debug_assert!(
            !span.is_dummy(),
            "synthesized spans have no place in the text"
        );
        if self.patches.is_empty() {
            return TextRange::new((span.lo - self.start_pos).0, (span.hi - self.start_pos).0);
        }
        TextRange::new(
            self.patches.offset(span.lo, self.start_pos),
            self.patches.offset(span.hi, self.start_pos),
        )
    }

    /// The body-relative offset of a position.
    #[must_use]
    pub fn offset(&self, pos: BytePos) -> u32 {
        if self.patches.is_empty() {
            return (pos - self.start_pos).0;
        }
        self.patches.offset(pos, self.start_pos)
    }

    /// The position of a body-relative offset.
    #[must_use]
    pub fn pos(&self, offset: u32) -> BytePos {
        if self.patches.is_empty() {
            return self.start_pos + BytePos(offset);
        }
        self.patches.pos(offset, self.start_pos)
    }
}

/// Parses `body`.
///
/// Must run inside [`with_big_stack`]: swc recurses once per nesting level.
///
/// # Errors
/// Returns the first syntax error (fatal or recovered) when the text is not valid.
pub fn parse(body: &str, lang: Lang) -> Result<Parsed, SyntaxError> {
    let (program, start_pos) = parse_program(body, lang)?;
    Ok(Parsed {
        program,
        start_pos,
        patches: Patches::default(),
    })
}

/// Checks that `body` parses, dropping the program (for files no pass has anything to say
/// about, see [`crate::traces`]).
///
/// Must run inside [`with_big_stack`].
///
/// # Errors
/// Returns the first syntax error (fatal or recovered) when the text is not valid.
pub fn validate(body: &str, lang: Lang) -> Result<(), SyntaxError> {
    parse_program(body, lang).map(drop)
}

/// The swc parse: the program, and the position of byte 0 of the body in its source map.
fn parse_program(body: &str, lang: Lang) -> Result<(Program, BytePos), SyntaxError> {
    if let Some(at) = nesting_overflow(body) {
        return Err(SyntaxError {
            message: format!(
                "brackets nest deeper than {MAX_NESTING} levels; growsafe refuses such input"
            ),
            range: TextRange::new(at, at),
        });
    }
    let cm: Lrc<SourceMap> = Lrc::default();
    let fm = cm.new_source_file(Lrc::new(FileName::Anon), body.to_owned());
    let start_pos = fm.start_pos;
    let mut recovered = Vec::new();
    let to_error = |e: swc_ecma_parser::error::Error| {
        let span = e.span();
        let lo = (span.lo.max(start_pos) - start_pos).0;
        let hi = (span.hi.max(span.lo).max(start_pos) - start_pos).0;
        SyntaxError {
            message: e.kind().msg().into_owned(),
            range: TextRange::new(lo, hi),
        }
    };
    let program = parse_file_as_program(
        &fm,
        lang.syntax(),
        EsVersion::latest(),
        None,
        &mut recovered,
    )
    .map_err(to_error)?;
    if let Some(e) = recovered.into_iter().next() {
        return Err(to_error(e));
    }
    Ok((program, start_pos))
}

/// The offset where bracket nesting first exceeds [`MAX_NESTING`], if it does.
///
/// Deliberately crude (brackets inside strings count too): it only has to bound the parser's
/// recursion, and real code is nowhere near the limit.
fn nesting_overflow(body: &str) -> Option<u32> {
    const BLOCK: usize = 64;
    let limit = MAX_NESTING;
    let bytes = body.as_bytes();
    let mut depth = 0usize;
    // Walks `bytes[from..to]` byte by byte.
    let exact = |depth: &mut usize, from: usize, to: usize| -> Option<u32> {
        for (i, &b) in bytes[from..to].iter().enumerate() {
            match b {
                b'(' | b'[' | b'{' => {
                    *depth += 1;
                    if *depth > limit {
                        return Some(u32::try_from(from + i).unwrap_or(u32::MAX));
                    }
                }
                b')' | b']' | b'}' => *depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        None
    };
    // Block by block: a block with no more closing brackets than the depth before it cannot
    // bring the depth to 0, so its end depth is a plain sum, and it cannot pass the limit when
    // even all its opening brackets would not. Only other blocks are walked byte by byte.
    let blocks = bytes.len() / BLOCK;
    for n in 0..blocks {
        let block: &[u8; BLOCK] = bytes[n * BLOCK..(n + 1) * BLOCK]
            .try_into()
            .expect("a whole block");
        let (mut open, mut close) = (0u8, 0u8);
        for &b in block {
            open += u8::from(b == b'(') + u8::from(b == b'[') + u8::from(b == b'{');
            close += u8::from(b == b')') + u8::from(b == b']') + u8::from(b == b'}');
        }
        let (open, close) = (usize::from(open), usize::from(close));
        if close <= depth && depth + open <= limit {
            depth = depth + open - close;
        } else if let Some(at) = exact(&mut depth, n * BLOCK, (n + 1) * BLOCK) {
            return Some(at);
        }
    }
    exact(&mut depth, blocks * BLOCK, bytes.len())
}

/// The least stack for the thread that parses, analyses and drops an AST.
const MIN_STACK: usize = 1 << 30;

/// The most stack growsafe asks for.
const MAX_STACK: usize = 16 << 30;

/// Stack per input byte: swc recurses once per nesting level, and some nesting needs no
/// brackets at all (`a=>a=>…`), so the worst case grows with the input. A debug build uses
/// about 2 KiB per level and a level costs at least 3 bytes of input.
const STACK_PER_BYTE: usize = 1024;

/// The stack of each thread of the shared parser pool: inputs up to 3 MiB (the largest real
/// glue is about 1 MB) are parsed there, larger ones on a thread of their own.
const POOL_STACK: usize = 4 << 30;

/// The stack `input_len` bytes of input need: at least 1 GiB, 1 KiB more per input byte, at
/// most 16 GiB.
fn stack_for(input_len: usize) -> usize {
    MIN_STACK
        .saturating_add(input_len.saturating_mul(STACK_PER_BYTE))
        .min(MAX_STACK)
}

thread_local! {
    /// The stack size of the current thread when growsafe started it with a big stack (0 on
    /// any other thread).
    static BIG_STACK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The shared pool of big-stack threads, started on first use (`None` if the threads cannot
/// be started; growsafe then starts one thread per input as before).
///
/// Reusing threads saves starting one per file and faulting in its stack pages again: on small
/// files that was most of the cost. Its size follows rayon's defaults (`RAYON_NUM_THREADS`, or
/// one thread per core).
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("growsafe-parse-{i}"))
            .stack_size(POOL_STACK)
            .start_handler(|_| BIG_STACK.with(|s| s.set(POOL_STACK)))
            .build()
            .ok()
    })
    .as_ref()
}

/// Runs `f` (typically a parallel iteration over files, each calling [`crate::check_source`]
/// or [`crate::fix_source`]) on the shared pool of big-stack threads, so that each file is
/// parsed on the thread that runs it instead of a thread started for it.
///
/// Runs `f` on the current thread when the pool cannot be started.
pub fn in_parser_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match pool() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Whether the current thread is one of the parser pool's and the pool's threads have the
/// stack `input_len` bytes of input need, so work on that input may be spread over the pool.
#[must_use]
pub fn on_parser_pool(input_len: usize) -> bool {
    BIG_STACK.with(std::cell::Cell::get) == POOL_STACK
        && stack_for(input_len) <= POOL_STACK
        && rayon::current_thread_index().is_some()
}

/// Whether the current thread is a big-stack thread growsafe started for one input (larger
/// than the pool's stack allows, see [`with_big_stack`]) with the stack `input_len` bytes need,
/// and the pool has more than one thread: work on that input may then be spread over threads
/// started beside it.
fn on_own_big_stack(input_len: usize) -> bool {
    BIG_STACK.with(std::cell::Cell::get) >= stack_for(input_len)
        && rayon::current_thread_index().is_none()
        && pool_threads() > 1
}

/// How many threads the parser pool has (`RAYON_NUM_THREADS`, or one per core); 1 without it.
fn pool_threads() -> usize {
    pool().map_or(1, rayon::ThreadPool::current_num_threads)
}

/// Whether work on `input_len` bytes of input may be spread over threads (see [`each`]).
pub(crate) fn spreads(input_len: usize) -> bool {
    on_parser_pool(input_len) || on_own_big_stack(input_len)
}

/// Runs `a` on this thread and `b` beside it: on the parser pool when this thread is one of the
/// pool's (see [`on_parser_pool`]), on a thread started for it when this is a big-stack thread
/// of its own (inputs larger than the pool's stack allows); else one after the other.
///
/// `b` only reads text, never recursing over an AST: a thread started for it has the default
/// stack.
pub(crate) fn beside<A: Send, B: Send>(
    input_len: usize,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if on_parser_pool(input_len) {
        return rayon::join(a, b);
    }
    if !on_own_big_stack(input_len) {
        return (a(), b());
    }
    // `b` runs on the thread started for it, or here if that thread cannot be started.
    let b = std::sync::Mutex::new(Some(b));
    let run_b = || {
        b.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .map(|b| b())
    };
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("growsafe-beside".into())
            .spawn_scoped(scope, run_b);
        let a = a();
        let b = match helper {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        };
        (a, b.or_else(run_b).expect("`b` runs exactly once"))
    })
}

/// Runs `job(0)`, …, `job(n - 1)` and returns their results in that order: spread over the
/// parser pool when this thread is one of its, over this thread and threads started with its
/// stack when it is a big-stack thread of its own (see [`spreads`]), else one after the other.
/// The jobs start in their order, each on the next thread that is free.
pub(crate) fn each<T: Send>(input_len: usize, n: usize, job: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let pool = on_parser_pool(input_len);
    if n < 2 || !(pool || on_own_big_stack(input_len)) {
        return (0..n).map(job).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<T>>> =
        (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    // Each thread takes the next job until none is left.
    let work = || {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if i >= n {
                break;
            }
            let result = job(i);
            *results[i]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
        }
    };
    if pool {
        rayon::scope(|scope| {
            for _ in 1..rayon::current_num_threads().min(n) {
                scope.spawn(|_| work());
            }
            work();
        });
    } else {
        let size = BIG_STACK.with(std::cell::Cell::get);
        let helper = || {
            BIG_STACK.with(|s| s.set(size));
            work();
        };
        std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..pool_threads().min(n))
                .filter_map(|_| {
                    std::thread::Builder::new()
                        .name("growsafe-pass".into())
                        .stack_size(size)
                        .spawn_scoped(scope, helper)
                        .ok()
                })
                .collect();
            work();
            for helper in helpers {
                if let Err(panic) = helper.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        });
    }
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .expect("every job ran")
        })
        .collect()
}

/// Runs `f` on a thread with a stack sized for `input_len` bytes of input: at least 1 GiB,
/// 1 KiB more per input byte, at most 16 GiB. This reserves address space only; pages are
/// touched as deep as the input really goes.
///
/// `f` runs on the current thread when it is a big-stack thread with enough stack (inside
/// [`in_parser_pool`]), on the shared pool when the input fits its stack (the caller waits),
/// and otherwise on a thread started for it. The caller is never a thread of another rayon
/// pool waiting for the shared pool: a waiting rayon worker runs other jobs of its own pool
/// meanwhile, nesting them on its (small) stack.
///
/// A stack overflow aborts the process and cannot be caught, so every parse goes through here.
/// A panic in `f` is returned as `Err` with its message.
///
/// # Errors
/// The panic message if `f` panicked, or the reason the thread could not be started.
pub fn with_big_stack<T: Send>(
    input_len: usize,
    f: impl FnOnce() -> T + Send,
) -> Result<T, String> {
    let size = stack_for(input_len);
    if BIG_STACK.with(std::cell::Cell::get) >= size {
        return catch(f);
    }
    if size <= POOL_STACK
        && rayon::current_thread_index().is_none()
        && let Some(pool) = pool()
    {
        return pool.install(|| catch(f));
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("growsafe-parse".into())
            .stack_size(size)
            .spawn_scoped(scope, || {
                BIG_STACK.with(|s| s.set(size));
                f()
            })
            .map_err(|e| {
                format!(
                    "cannot start the parser thread with a {} MiB stack: {e}",
                    size >> 20
                )
            })?;
        handle.join().map_err(panic_message)
    })
}

/// Runs `f` on a big-stack thread started for it, as [`with_big_stack`] does for an input
/// larger than the pool's stack allows (for tests of that path on small inputs).
#[cfg(test)]
pub(crate) fn on_thread_of_its_own<T: Send>(input_len: usize, f: impl FnOnce() -> T + Send) -> T {
    let size = stack_for(input_len);
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(size)
            .spawn_scoped(scope, || {
                BIG_STACK.with(|s| s.set(size));
                f()
            })
            .expect("a thread")
            .join()
            .expect("no panic")
    })
}

/// Whether the parser pool has more than one thread (else nothing is spread, see [`spreads`]).
#[cfg(test)]
pub(crate) fn pool_is_parallel() -> bool {
    pool_threads() > 1
}

/// Inputs below this size drop their AST where they are: handing it over would cost more.
const DROP_LATER_MIN: usize = 64 << 10;

/// Frees the AST of `input_len` bytes of input on a background thread (with the pool's stack,
/// since dropping recurses like parsing), so that the caller does not wait for it: freeing the
/// nodes of a 1 MB file is a tenth of a `check`. At most one AST waits for that thread; a
/// caller with another one waits until it is taken. An input larger than the pool's stack
/// allows is freed on a thread started for it with the stack it needs, one at a time (while
/// one is being freed, the next is freed here). Small inputs, or a thread that cannot be
/// started: dropped here.
pub fn drop_later(input_len: usize, parsed: Parsed) {
    type Dropper = std::sync::Mutex<std::sync::mpsc::SyncSender<Parsed>>;
    static DROPPER: std::sync::OnceLock<Option<Dropper>> = std::sync::OnceLock::new();
    static FREEING_LARGE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if input_len < DROP_LATER_MIN {
        return drop(parsed);
    }
    if stack_for(input_len) > POOL_STACK {
        use std::sync::atomic::Ordering;
        if FREEING_LARGE.swap(true, Ordering::AcqRel) {
            return drop(parsed);
        }
        let started = std::thread::Builder::new()
            .name("growsafe-drop".into())
            .stack_size(stack_for(input_len))
            .spawn(move || {
                drop(parsed);
                FREEING_LARGE.store(false, Ordering::Release);
            });
        // A thread that cannot be started drops its closure, and the AST with it, here.
        if started.is_err() {
            FREEING_LARGE.store(false, Ordering::Release);
        }
        return;
    }
    let dropper = DROPPER.get_or_init(|| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Parsed>(1);
        std::thread::Builder::new()
            .name("growsafe-drop".into())
            .stack_size(POOL_STACK)
            .spawn(move || receive.into_iter().for_each(drop))
            .ok()
            .map(|_| std::sync::Mutex::new(send))
    });
    let Some(sender) = dropper.as_ref().and_then(|d| d.lock().ok()) else {
        return drop(parsed);
    };
    let sender = sender.clone();
    if let Err(returned) = sender.send(parsed) {
        drop(returned.0);
    }
}

/// Runs `f` on the current thread, returning a panic as its message.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(panic_message)
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Line and column of a body offset, for messages: 1-based line, 1-based UTF-16 column.
#[must_use]
pub fn line_col(body: &str, offset: u32) -> (u32, u32) {
    LineIndex::new(body).line_col(body, offset)
}
