//! The `growsafe` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

/// jemalloc: the passes allocate and free on several threads, where glibc's allocator costs a
/// quarter of the run (`docs/performance.md`).
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    growsafe::cli::main_with_args(std::env::args_os())
}
