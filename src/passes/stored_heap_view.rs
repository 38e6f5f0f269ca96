//! ## What it does
//! Flags a heap view stored where it outlives a call that can grow memory. The view is one of
//! the glue's `HEAP8` … `HEAPU64`, `Module.HEAPU8` / `Module['HEAPU8']`, any `x.HEAPx` member
//! (`memory.HEAP16`, `this.module.HEAPU8`), or Emscripten's pthreads helper `GROWABLE_HEAP_U8()`.
//! A store counts when it:
//! - writes a property or class field: `this.view = HEAPU8;`, `obj.h = memory.HEAP16;`,
//!   `class Reader { heap = Module.HEAPU8; }` (the object outlives the call that stored it);
//! - assigns a variable declared outside the assigning function (or a global);
//! - sets a local (`const h = memory.HEAP16;`, `let heap = Module.HEAPU8;`) that is read after a
//!   call, `new`, `await` or `yield` in the same function, in source order or anywhere in a loop
//!   around the read;
//! - sets a local that a nested function reads: the closure may run after memory grew.
//!
//! A call to a typed-array method, a typed-array constructor, a string or array method that takes
//! no callback (`str.charCodeAt(i)`, `parts.push(x)`), `Math.*`, `Atomics.*`, `String.*`,
//! `Number.*`, `BigInt.*`, the global `BigInt(…)`, `Number(…)`, `String(…)`, `Boolean(…)` or
//! Emscripten's refresh helpers (`GROWABLE_HEAP_U8()`, `growMemViews()`, also when Closure renamed
//! them) cannot grow memory and does not count, nor does anything in a `throw` statement (the
//! function leaves); any other call, `new`, `await` or `yield` may.
//!
//! The glue's views are found as for `heap-snapshot`: by the bindings its refresh function
//! assigns, so views inside a `MODULARIZE` factory and Closure-renamed views (`K` for `HEAP32`)
//! count too.
//! Not flagged: Emscripten's refresh function (`updateMemoryViews`,
//! `updateGlobalBufferAndViews`), a local read only before any call (`const h = HEAPU8; return
//! h[p];`), a view passed straight as an argument (`UTF8ArrayToString(HEAPU8, ptr)`), a local
//! reassigned from the view after the call, and a stored view whose `.buffer` the code compares
//! (`if (this.view.buffer !== HEAPU8.buffer) …`), which is how code re-validates a cache.
//! Views in object literals (`{ h: HEAPU8 }`) are `heap-snapshot`'s, and destructured views
//! are `heap-destructure`'s.
//!
//! ## Why is this bad?
//! When WebAssembly memory grows, Emscripten replaces its views with new typed arrays over the
//! grown buffer; the old buffer is detached. A stored view still points at the old one: its
//! length is 0, reads return `undefined` and writes are silently lost. Any call into wasm can
//! grow memory (`_malloc`, an export, a callback that allocates), so a view kept past a call is
//! only correct until the first growth, which usually happens late, under load.
//! Emscripten's own growableHeap pass has the same blind spot: it wraps every `HEAPU8` read, but
//! `var heap = HEAPU8` keeps the view the initialiser returned.
//!
//! ## Example
//! ```js
//! function writeString(str) {
//!   const heap = Module.HEAPU8;
//!   const ptr = Module._malloc(str.length + 1); // may grow memory
//!   for (let i = 0; i < str.length; i++) heap[ptr + i] = str.charCodeAt(i);
//!   heap[ptr + str.length] = 0;
//!   return ptr;
//! }
//! class Reader { constructor() { this.view = HEAPU8; } }
//! ```
//!
//! Use instead: read the view again after the last call, or at each use.
//! ```js
//! function writeString(str) {
//!   const ptr = Module._malloc(str.length + 1);
//!   const heap = Module.HEAPU8;
//!   for (let i = 0; i < str.length; i++) heap[ptr + i] = str.charCodeAt(i);
//!   heap[ptr + str.length] = 0;
//!   return ptr;
//! }
//! class Reader { get view() { return HEAPU8; } }
//! ```
//!
//! ## Fix safety
//! There is no automatic fix: this is a lint. Whether the code means "the view at the time of
//! the store" or "the current view" is only visible to its author, and the right repair differs:
//! move the read after the call, replace the stored view with a getter, or re-read it wherever
//! it is used. growsafe reports the store; its `fix` leaves the code unchanged and warns.
//!
//! ## References
//! - emscripten-core/emscripten#17622, "Memory growth causes Module.HEAPU8.length to be 0"
//! - emscripten-core/emscripten#6747, "Attempting to access detached ArrayBuffer in WASM after memory growth"
//! - WebAssembly/design#1271, "Threads + memory growth + JS" (local aliases and growableHeap)

use super::kept::{Held, Outlives, kept};
use super::{Context, PassId};
use crate::diagnostic::{Analysis, Finding};

// stored-heap-view
pub(crate) fn stored_heap_view(cx: &Context<'_>, out: &mut Analysis) {
    for store in kept(cx) {
        // Only heap views; typed arrays over the buffer are `kept-buffer-view`'s.
        let Held::View(view) = &store.held else {
            continue;
        };
        let message = match &store.outlives {
            Outlives::Property(target) => {
                format!("`{target}` keeps `{view}`; the stored view goes dead when memory grows")
            }
            Outlives::OuterVariable(var) => format!(
                "`{var}` keeps `{view}` outside this function; the stored view goes dead when memory grows"
            ),
            Outlives::Call { var, point } => format!(
                "`{var}` keeps `{view}` across {point}, which can grow memory; the view goes dead if it does"
            ),
            Outlives::Closure(var) => format!(
                "`{var}` keeps `{view}` for a closure that can run after memory grows; the view goes dead then"
            ),
        };
        let reason = format!(
            "lint only: growsafe cannot tell which reads need the current view; read `{view}` at each use, after the call"
        );
        out.findings.push(Finding::unfixable(
            PassId::StoredHeapView,
            store.range,
            message,
            reason,
        ));
    }
}
