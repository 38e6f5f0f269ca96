//! A bare swc parse of a file, the baseline of `docs/performance.md`'s instruction counts:
//! `valgrind --tool=callgrind target/release/examples/parse_only FILE` against
//! `valgrind --tool=callgrind target/release/growsafe check --format concise FILE`.
//!
//! Reads the file, runs `parse_file_as_program` (no resolver) `N` times (default 1) and drops
//! the program, as `benches/throughput.rs` does for its parse-only column.

use swc_common::{FileName, SourceMap, sync::Lrc};
use swc_ecma_ast::EsVersion;
use swc_ecma_parser::{EsSyntax, Syntax, parse_file_as_program};

/// The allocator of the `growsafe` binary, so that the baseline is parsed the same way.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parse_only FILE [N]");
    let runs: usize = args.next().map_or(1, |n| n.parse().expect("N is a number"));
    let text = std::fs::read_to_string(path).expect("readable UTF-8 file");
    for _ in 0..runs {
        let cm: Lrc<SourceMap> = Lrc::default();
        let fm = cm.new_source_file(Lrc::new(FileName::Anon), text.clone());
        let mut errors = Vec::new();
        let program = parse_file_as_program(
            &fm,
            Syntax::Es(EsSyntax::default()),
            EsVersion::latest(),
            None,
            &mut errors,
        )
        .expect("the file parses");
        drop(program);
    }
}
