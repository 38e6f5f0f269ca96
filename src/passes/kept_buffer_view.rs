//! ## What it does
//! Flags a typed array built over the wasm memory buffer, or the buffer itself, kept where it
//! outlives a call that can grow memory:
//! - `new Uint8Array(wasmMemory.buffer)`, `new DataView(memory.buffer)`,
//!   `new Float32Array(instance.exports.memory.buffer, ptr, n)`,
//!   `new Int32Array(HEAPU8.buffer, ptr, n)` (any typed array or `DataView` whose first argument
//!   is a memory buffer);
//! - `HEAPU8.subarray(…)` (a window on the current buffer);
//! - the buffer itself: `wasmMemory.buffer`, `HEAPU8.buffer`, `Module.HEAPU8.buffer`.
//!
//! A memory buffer is `X.buffer` where `X` is a heap view (`HEAPU8`, `Module.HEAPU8`,
//! `memory.HEAP16`) or names a wasm memory: `wasmMemory`, `memory`, a name ending in `Memory`,
//! or an `x.memory` property (`wasmExports.memory`, `instance.exports.memory`). A local declared
//! with a buffer (`const b = wasmMemory.buffer`) is one too.
//!
//! "Outlives a call" means what it means for `stored-heap-view`, with the same analysis: a
//! property or class field (or an object-literal property), a variable declared outside the
//! function, a local read after a call, `new`, `await` or `yield` (or in a loop around one), or
//! a local read by a nested function.
//!
//! Not flagged: Emscripten's refresh function (`updateMemoryViews` assigns
//! `HEAP8 = new Int8Array(b)`: that *is* the refresh), a typed array made and used with no call
//! in between, `new Uint8Array(len)` (not over memory), a typed array passed straight to a call,
//! a value whose `.buffer` the code compares before use (`if (u8.buffer !== wasmMemory.buffer)
//! u8 = new Uint8Array(wasmMemory.buffer);`), a bare buffer read by a function that calls
//! `X.grow(…)` itself (Emscripten's `growMemory` keeps the old buffer to report the old size),
//! and comparisons with a kept buffer (`old !== wasmMemory.buffer` is how growth is detected).
//! In a pthreads or Wasm Workers build (the file mentions `ENVIRONMENT_IS_PTHREAD` or
//! `ENVIRONMENT_IS_WASM_WORKER`, or makes a `new WebAssembly.Memory({ shared: true })`) a bare
//! buffer is not flagged either: the memory is shared, and growing it gives `memory.buffer` a
//! new, longer `SharedArrayBuffer` but never detaches the old one (Emscripten's pthread worker
//! hands `Module["buffer"]` to the glue, which compares it with `wasmMemory.buffer` before each
//! access). Typed arrays over a shared buffer still are: they keep their old length and miss
//! the memory grown since.
//!
//! ## Why is this bad?
//! Growing a WebAssembly memory detaches its `ArrayBuffer` and creates a new, larger one. Every
//! typed array over the old buffer becomes empty: its length is 0, reads give `undefined`,
//! writes are silently dropped, and methods like `slice` throw
//! `TypeError: Cannot perform %TypedArray%.prototype.slice on a detached ArrayBuffer`. A view
//! made at startup (`const mem8 = new Uint8Array(wasmExports.memory.buffer)`) works in every
//! test that never grows memory and breaks in production the first time an allocation does.
//!
//! ## Example
//! ```js
//! const mem8 = new Uint8Array(wasmExports.memory.buffer);
//! mem8.set(bytes, namePtr);
//! const len = wasmExports.set_name(bytes.length); // may grow memory
//! const greeting = mem8.slice(msgPtr, msgPtr + len);
//! ```
//!
//! Use instead: build the view from the current buffer after the call (or check its `.buffer`).
//! ```js
//! new Uint8Array(wasmExports.memory.buffer).set(bytes, namePtr);
//! const len = wasmExports.set_name(bytes.length);
//! const greeting = new Uint8Array(wasmExports.memory.buffer).slice(msgPtr, msgPtr + len);
//! ```
//!
//! ## Fix safety
//! There is no automatic fix: this is a lint. A kept typed array may be meant to outlive the
//! call (a cache the author re-validates elsewhere, a view over memory that never grows), and
//! rebuilding it at each use changes allocation and identity (`===`) in ways only the author can
//! judge. Create the view right before each use, or keep it behind a function that re-creates
//! it when `view.buffer !== memory.buffer`.
//!
//! ## References
//! - Chris Whealy, "WebAssembly Memory Growth and the Detached ArrayBuffer Problem" (2022)
//! - kripken, "WebAssembly pthreads + memory growth + JS" (gist 949eab99b7bc34f67c12140814d2b595)
//! - emscripten-core/emscripten#5179, "Cannot access packaged files after memory growth" (kept `subarray`s)
//! - emscripten-core/emscripten#24524, "Fix bad access to detached ArrayBuffer in $growMemory"

use std::cell::OnceCell;

use swc_ecma_ast::{Expr, Ident, Lit, NewExpr, Prop, PropName, PropOrSpread, Str, UnaryOp};
use swc_ecma_visit::{Visit, VisitWith};

use super::kept::{Held, Outlives, kept};
use super::marks::{Find, Marks};
use super::views::{sparse, visit_program};
use super::{Context, PassId, member_prop_name};
use crate::diagnostic::{Analysis, Finding};

// kept-buffer-view
pub(crate) fn kept_buffer_view(cx: &Context<'_>, out: &mut Analysis) {
    // Looked for only when a buffer or a typed array over one is kept.
    let shared = OnceCell::new();
    for store in kept(cx) {
        // Only typed arrays over the buffer and the buffer itself; views are `stored-heap-view`'s.
        let (held, bare) = match &store.held {
            Held::BufferView(text) => (text, false),
            Held::Buffer(text) => (text, true),
            Held::View(_) => continue,
        };
        let shared = *shared.get_or_init(|| shared_memory(cx));
        if shared && bare {
            continue;
        }
        let (stale, grows, grown) = if shared {
            (
                "it misses the memory grown since",
                "grow memory past its end",
                "grows past its end",
            )
        } else {
            (
                "it is detached when memory grows",
                "grow memory and detach it",
                "grows and detaches it",
            )
        };
        let message = match &store.outlives {
            Outlives::Property(target) => format!("`{target}` keeps {held}; {stale}"),
            Outlives::OuterVariable(var) => {
                format!("`{var}` keeps {held} outside this function; {stale}")
            }
            Outlives::Call { var, point } => {
                format!("`{var}` keeps {held} across {point}, which can {grows}")
            }
            Outlives::Closure(var) => {
                format!("`{var}` keeps {held} for a closure that can run after memory {grown}")
            }
        };
        let reason = "lint only: growsafe cannot tell how long the typed array must live; \
                      create it from the current buffer after the call, or re-create it when its \
                      `.buffer` is not the memory's";
        out.findings.push(Finding::unfixable(
            PassId::KeptBufferView,
            store.range,
            message,
            reason,
        ));
    }
}

/// Whether the file belongs to a build whose memory is shared (pthreads, Wasm Workers): it
/// mentions `ENVIRONMENT_IS_PTHREAD` or `ENVIRONMENT_IS_WASM_WORKER` in code (a name, a property,
/// or a string key as in the worker's `Module["ENVIRONMENT_IS_PTHREAD"]=true`), or creates a
/// `new WebAssembly.Memory({ shared: true })`.
fn shared_memory(cx: &Context<'_>) -> bool {
    struct Shared<'m> {
        marks: &'m Marks,
        found: bool,
    }
    fn marker(name: &str) -> bool {
        matches!(
            name,
            "ENVIRONMENT_IS_PTHREAD" | "ENVIRONMENT_IS_WASM_WORKER"
        )
    }
    impl Visit for Shared<'_> {
        sparse!(self => self.marks);

        fn visit_ident(&mut self, i: &Ident) {
            self.found |= marker(&i.sym);
        }
        fn visit_ident_name(&mut self, i: &swc_ecma_ast::IdentName) {
            self.found |= marker(&i.sym);
        }
        fn visit_str(&mut self, s: &Str) {
            self.found |= s.value.as_str().is_some_and(marker);
        }
        fn visit_new_expr(&mut self, new: &NewExpr) {
            let memory = matches!(&*new.callee, Expr::Member(m)
                if matches!(&*m.obj, Expr::Ident(o) if &*o.sym == "WebAssembly")
                    && member_prop_name(&m.prop) == Some("Memory"));
            let shared = |arg: &Expr| {
                let Expr::Object(object) = arg else {
                    return false;
                };
                object.props.iter().any(|p| match p {
                    PropOrSpread::Prop(p) => match &**p {
                        Prop::KeyValue(kv) => {
                            let key = match &kv.key {
                                PropName::Ident(i) => Some(&*i.sym),
                                PropName::Str(s) => s.value.as_str(),
                                _ => None,
                            };
                            key == Some("shared") && is_true(&kv.value)
                        }
                        _ => false,
                    },
                    PropOrSpread::Spread(_) => false,
                })
            };
            if memory && new.args.iter().flatten().any(|a| shared(&a.expr)) {
                self.found = true;
            }
            new.visit_children_with(self);
        }
    }
    /// `true`, or minified `!0`.
    fn is_true(expr: &Expr) -> bool {
        match expr {
            Expr::Lit(Lit::Bool(b)) => b.value,
            Expr::Unary(u) => {
                u.op == UnaryOp::Bang && matches!(&*u.arg, Expr::Lit(Lit::Num(n)) if n.value == 0.0)
            }
            _ => false,
        }
    }
    // Each sign is spelled out in the text (an escaped spelling is missed, which errs towards a
    // finding), the options object within a few hundred bytes of `WebAssembly.Memory`: most
    // files are answered without the walk.
    let text = cx.text;
    let named = cx.occurrences("ENVIRONMENT_IS_").iter().any(|&at| {
        let rest = &text[at as usize..];
        rest.starts_with("ENVIRONMENT_IS_PTHREAD") || rest.starts_with("ENVIRONMENT_IS_WASM_WORKER")
    });
    let created = cx.occurrences("WebAssembly").iter().any(|&at| {
        let at = at as usize;
        let end = text.floor_char_boundary((at + 400).min(text.len()));
        text[at..].starts_with("WebAssembly.Memory") && text[at..end].contains("shared")
    });
    if !named && !created {
        return false;
    }
    let marks = cx.find(&[Find::Text("ENVIRONMENT_IS_"), Find::Text("WebAssembly")]);
    let mut find = Shared {
        marks: &marks,
        found: false,
    };
    visit_program(&cx.parsed.program, &mut find);
    find.found
}
