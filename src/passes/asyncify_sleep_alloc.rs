//! ## What it does
//! Finds stock Asyncify runtimes, whose `Asyncify.handleSleep` calls `Asyncify.allocateData()`
//! (a `_malloc` of the data header plus `Asyncify.StackSize` bytes) on every unwind and
//! `_free(Asyncify.currData)` on every rewind, and makes them allocate one block per `Asyncify`
//! object and reuse it. It recognises every printed form of that runtime, 3.1.6 to 6.0.8: the
//! one-line `allocateData:function(){…}` of 3.1.x, method shorthand (3.1.45+), whitespace-minified
//! `-O2`/`-O3` output, prettier-formatted glue, MEMORY64 (a 24-byte header), and Closure output
//! (`--closure 1`), whose names are gone and which is matched by its shape instead.
//!
//! ## Why is this bad?
//! The per-sleep `_malloc` can grow WebAssembly memory. Growth replaces Emscripten's heap views,
//! so any view that JavaScript took before the sleep (in an `EM_ASYNC_JS` body, a
//! `handleSleep`/`handleAsync` callback, or a library function that sleeps) is detached by the
//! time it is used: reads give 0 and writes are silently lost. Emscripten's own source marks the
//! spot with `// TODO: reuse, don't alloc/free every sleep`; WordPress Playground hit it as
//! corrupted PHP state at low `INITIAL_MEMORY`.
//!
//! ## Example
//! ```js
//! Asyncify.state = Asyncify.State.Unwinding;
//! Asyncify.currData = Asyncify.allocateData();
//! // … and on rewind:
//! _free(Asyncify.currData);
//! Asyncify.currData = null;
//! ```
//!
//! Use instead (what growsafe writes; helper bodies abridged):
//! ```js
//! growsafeCache: { block: 0, size: 0, busy: false, reserving: false },
//! growsafeReserve: function() { /* malloc one block while idle */ },
//! growsafeTake: function() { /* reuse it, rewriting header and rewind id; else allocateData() */ },
//! growsafeRelease: function(ptr) { /* mark it free; _free any other block */ },
//! // handleSleep, before `startAsync` runs:
//! Asyncify.growsafeReserve();
//! // at unwind:
//! Asyncify.currData = Asyncify.growsafeTake();
//! // at rewind:
//! Asyncify.growsafeRelease(Asyncify.currData);
//! Asyncify.currData = null;
//! ```
//! The block is allocated at the start of the sleeping call's `handleSleep`, before
//! `startAsync` is invoked, so the first sleep cannot grow memory after user code in the
//! callback has taken a view; later sleeps allocate nothing. On every sleep the header and the
//! rewind id are rewritten (`setDataHeader`, `setDataRewindFunc`). If `Asyncify.StackSize`
//! changed at runtime, the block is reallocated at the size now asked for. If a sleep starts
//! while the cached block is still in use (fibers, an export called while paused), that sleep
//! falls back to a fresh `Asyncify.allocateData()`, freed on its rewind as before.
//! `Asyncify.currData` is still set to `null` after the rewind, which `ccall` and embind test.
//!
//! The helpers never compute a pointer themselves: the header is written with the arguments
//! `allocateData` itself passes to `setDataHeader` (`ptr + 12`, or `ptr + 24` under MEMORY64), so
//! they work with whatever pointer type the runtime uses, Number or BigInt.
//!
//! **Closure builds.** Closure renames the object (`var X={…,Ta(a){…}}`) or collapses it into
//! globals, and inlines `allocateData`, `setDataHeader` and `setDataRewindFunc` into one function
//! (`function Aa(){var b=Ba(4108),c=b+12;K[b>>2]=c;…;K[b+8>>2]=d;return b}`). growsafe anchors on
//! what survives: the one function holding the `invalid state: ` message (`handleSleep`); in it,
//! the rewind's `free(D), D = null` after the `stop_rewind` call, and the unwind's
//! `S = 1, D = alloc(), …start_unwind(D)…` inside the branch that calls `startAsync`; and `alloc`
//! itself, declared once and called only there, shaped `var p = malloc(12 + N), q = p + 12; …;
//! H[p + 8 >> 2] = id; return p` (24 and 16 under MEMORY64), where `N` is the `StackSize`
//! property (`X.Va`) or already folded into the constant (`malloc(4108)`, so `StackSize` cannot
//! change). The fix declares `var growsafeAsyncify = {…}` beside `alloc`, routes `alloc`'s
//! `malloc` through it (`growsafeAsyncify.alloc(4108)`), reserves at the top of the `startAsync`
//! branch (`growsafeAsyncify.reserve()`) and releases instead of freeing
//! (`growsafeAsyncify.release(D), D = null`). So the inlined function itself still writes the
//! header and the rewind id on every sleep: no header code is copied, and the renamed heap view
//! need not be identified. The size it asks for decides reuse, so a changed `StackSize` gets a new
//! block as above. If any anchor is missing or ambiguous (two such messages, `alloc` called
//! elsewhere, a `free` that `alloc`'s scope cannot see…), the finding has no fix and its reason
//! names that anchor.
//!
//! JSPI builds (`WebAssembly.Suspending`, `WebAssembly.promising`, `suspending:` options,
//! `WebAssembly.Suspender`) have no per-sleep allocation and are left alone with a note, even the
//! early ones that still contain `allocateData`. Glue that is already patched (php-wasm's
//! `Asyncify._cachedData`, or growsafe's own output) is left byte-identical. An Asyncify runtime
//! whose anchors cannot all be matched is reported without a fix, naming what is missing.
//!
//! ## Fix safety
//! Safe. The cached block is only handed out while no sleep holds it, and Asyncify never reads
//! a block after its rewind, so reuse is indistinguishable from a fresh allocation, apart from
//! the allocation no longer happening mid-sleep. A view taken in an import *before* it calls
//! `handleSleep` for the very first time can still be detached by that first reservation; views
//! taken inside the sleep callback are always safe.
//!
//! ## References
//! - emscripten-core/emscripten#21108, "Asyncify memory growth within handleAsync()"
//! - WordPress Playground #3317, "Fix two WASM memory growth bugs" (bug 2)
//! - Emscripten `ASYNCIFY_STACK_SIZE`: <https://emscripten.org/docs/tools_reference/settings_reference.html#asyncify-stack-size>

use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    AssignTarget, BinaryOp, BlockStmt, CallExpr, Callee, Expr, Function, Lit, MemberExpr, NewExpr,
    ObjectLit, Pat, Prop, PropName, PropOrSpread, SimpleAssignTarget, Stmt, VarDeclarator,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::marks::{self, Kind, Marks};
use super::views::{sparse, visit_program};
use super::{Context, PassId, member_prop_name};

mod closure;
use crate::diagnostic::{Analysis, Finding, Remark, RemarkKind};
use crate::fix::{Edit, Fix};
use crate::style::Style;

// asyncify-sleep-alloc
pub(crate) fn asyncify_sleep_alloc(cx: &Context<'_>, out: &mut Analysis) {
    let marks = cx.marks(Kind::Asyncify);
    let mut scan = Scan {
        marks,
        has_object: false,
        jspi: None,
        invalid_state: Vec::new(),
        already_fixed: None,
        functions: Vec::new(),
        library_source: None,
    };
    visit_program(&cx.parsed.program, &mut scan);
    // JSPI suspends the wasm stack itself: there is no per-sleep allocation to cache.
    if let Some(marker) = scan.jspi {
        if scan.has_object || !scan.invalid_state.is_empty() {
            out.remarks.push(Remark {
                pass: PassId::AsyncifySleepAlloc,
                kind: RemarkKind::LeftAlone,
                range: Some(cx.range(marker)),
                message: "JSPI build: Asyncify data blocks are not used, nothing to cache"
                    .to_owned(),
            });
        }
        return;
    }
    if let (false, Some(source)) = (scan.has_object, scan.library_source) {
        // Emscripten's own `src/library_async.js`: the runtime is generated from this text, and
        // growsafe patches what emcc links, not the template.
        out.remarks.push(Remark {
            pass: PassId::AsyncifySleepAlloc,
            kind: RemarkKind::LeftAlone,
            range: Some(cx.range(source)),
            message: "the library source of the Asyncify runtime: run `growsafe fix` on the glue emcc links".to_owned(),
        });
        return;
    }
    if !scan.has_object {
        closure_runtime(cx, &scan, out);
        return;
    }
    visit_program(&cx.parsed.program, &mut Runtimes { cx, marks, out });
}

/// A runtime whose names Closure renamed, matched by structure (see [`closure`]).
fn closure_runtime(cx: &Context<'_>, scan: &Scan, out: &mut Analysis) {
    let message =
        "Asyncify runtime allocates a data block on every sleep, which can grow memory mid-sleep";
    if let Some(fixed) = scan.already_fixed {
        out.remarks.push(Remark {
            pass: PassId::AsyncifySleepAlloc,
            kind: RemarkKind::AlreadyFixed,
            range: Some(cx.range(fixed)),
            message: "Asyncify already reuses its data block".to_owned(),
        });
        return;
    }
    let renamed_allocate = renamed_allocate(cx);
    let mut sleeps: Vec<Span> = scan.invalid_state.iter().filter_map(|&(_, f)| f).collect();
    sleeps.sort_by_key(|s| (s.lo, s.hi));
    sleeps.dedup();
    let refusal = match sleeps.as_slice() {
        [] => {
            // The inlined `allocateData` without its `handleSleep`.
            let Some(alloc) = renamed_allocate else {
                return;
            };
            closure::Refusal {
                at: Some(alloc),
                reason: "no function holds the `invalid state: ` message of `handleSleep`"
                    .to_owned(),
                asyncify_like: true,
            }
        }
        [sleep] => match closure::plan(cx, *sleep) {
            Ok(planned) => {
                out.findings.push(Finding::fixable(
                    PassId::AsyncifySleepAlloc,
                    cx.range(planned.at),
                    message,
                    planned.fix,
                ));
                return;
            }
            Err(refusal) => refusal,
        },
        more => closure::Refusal {
            at: None,
            reason: format!(
                "{} functions hold the `invalid state: ` message, so `handleSleep` is ambiguous",
                more.len()
            ),
            asyncify_like: false,
        },
    };
    // A stray `invalid state: ` string in code that is no Asyncify runtime is no finding.
    if !refusal.asyncify_like && renamed_allocate.is_none() {
        return;
    }
    let at = refusal
        .at
        .or(renamed_allocate)
        .or(scan.invalid_state.first().map(|&(s, _)| s))
        .expect("a Closure runtime was recognised by one of these");
    out.findings.push(Finding::unfixable(
        PassId::AsyncifySleepAlloc,
        cx.range(at),
        message,
        format!(
            "its names are renamed (Closure), and growsafe matches it by structure: {}",
            refusal.reason
        ),
    ));
}

/// Checks one `Asyncify = { … }` object.
fn runtime(cx: &Context<'_>, object: &ObjectLit, out: &mut Analysis) {
    let entry = |name: &str| object_entry(object, name);
    // Only a mode-1 runtime with `handleSleep` is of interest.
    let Some((_, handle_sleep)) = entry("handleSleep") else {
        return;
    };
    // 3.1.24+ JSPI objects have no data block at all.
    let Some((allocate_prop, allocate)) = entry("allocateData") else {
        return;
    };
    if entry("growsafeTake").is_some() || mentions_member(handle_sleep, "_cachedData") {
        out.remarks.push(Remark {
            pass: PassId::AsyncifySleepAlloc,
            kind: RemarkKind::AlreadyFixed,
            range: Some(cx.range(allocate_prop.span())),
            message: "Asyncify already reuses its data block".to_owned(),
        });
        return;
    }
    let range = cx.range(allocate_prop.span());
    let message = "`Asyncify.handleSleep` mallocs a data block on every sleep, which can grow memory mid-sleep";
    match plan(cx, object, allocate_prop, allocate, handle_sleep) {
        Ok(fix) => out.findings.push(Finding::fixable(
            PassId::AsyncifySleepAlloc,
            range,
            message,
            fix,
        )),
        Err(missing) => out.findings.push(Finding::unfixable(
            PassId::AsyncifySleepAlloc,
            range,
            message,
            format!("growsafe could not match this Asyncify runtime: {missing}"),
        )),
    }
}

/// The anchors of a stock runtime, turned into edits; `Err` names the missing anchor.
fn plan(
    cx: &Context<'_>,
    object: &ObjectLit,
    allocate_prop: &Prop,
    allocate: &Function,
    handle_sleep: &Function,
) -> Result<Fix, String> {
    for helper in ["setDataHeader", "setDataRewindFunc"] {
        if object_entry(object, helper).is_none() {
            return Err(format!("`Asyncify.{helper}` is missing"));
        }
    }
    let (malloc, header) = allocation(cx, allocate)
        .ok_or("`allocateData` does not call `malloc(HEADER + Asyncify.StackSize)`")?;
    let header_call = header_call(cx, allocate)
        .ok_or("`allocateData` does not call `Asyncify.setDataHeader(ptr, stack, stackSize)`")?;
    if [&header_call.stack, &header_call.stack_size]
        .iter()
        .any(|t| t.contains(['\'', '"', '`', '/']))
    {
        return Err("`allocateData` passes `setDataHeader` more than plain arithmetic".to_owned());
    }
    if header_call.ptr == "cache" {
        return Err("`allocateData` names its pointer `cache`, which the helpers use".to_owned());
    }
    let mut anchors = Anchors::default();
    handle_sleep.visit_with(&mut anchors);
    let take = anchors
        .allocate_call
        .ok_or("`handleSleep` does not assign `Asyncify.currData = Asyncify.allocateData()`")?;
    let (free_call, free) = anchors.free_call.ok_or(
        "`handleSleep` does not `free(Asyncify.currData)` before `Asyncify.currData = null`",
    )?;
    let normal = anchors.normal_branch.ok_or(
        "`handleSleep` has no `if (Asyncify.state === Asyncify.State.Normal) { … }` branch",
    )?;
    let free = cx.slice(free).to_owned();

    let compact = cx.style().compact;
    let sleep_start = cx.range(normal);
    let reserve_call = if compact {
        "Asyncify.growsafeReserve();".to_owned()
    } else {
        format!(
            "Asyncify.growsafeReserve();{}{}",
            cx.style().newline,
            Style::indent_at(cx.text, sleep_start.start)
        )
    };
    let helpers = helpers(cx, allocate_prop, &malloc, &free, &header, &header_call);
    Ok(Fix::safe(
        "Allocate the Asyncify data block once and reuse it for every sleep",
        vec![
            Edit::insert_at(cx.range(allocate_prop.span()).start, helpers),
            Edit::insert_at(sleep_start.start, reserve_call),
            Edit::replace(cx.range(take), "Asyncify.growsafeTake()"),
            Edit::replace(
                cx.range(free_call),
                "Asyncify.growsafeRelease(Asyncify.currData)",
            ),
        ],
    ))
}

/// The helper entries inserted before `allocateData`, in the object's own style.
fn helpers(
    cx: &Context<'_>,
    allocate_prop: &Prop,
    malloc: &str,
    free: &str,
    header: &str,
    header_call: &HeaderCall,
) -> String {
    let HeaderCall {
        ptr,
        stack,
        stack_size,
    } = header_call;
    let body_reserve = [
        "var cache = Asyncify.growsafeCache;".to_owned(),
        "if (Asyncify.currData || cache.busy || cache.reserving) return;".to_owned(),
        "if (cache.block && cache.size === Asyncify.StackSize) return;".to_owned(),
        "cache.reserving = true;".to_owned(),
        "try {".to_owned(),
        format!("\tif (cache.block) {free}(cache.block);"),
        "\tcache.block = 0;".to_owned(),
        format!("\tcache.block = {malloc}({header} + Asyncify.StackSize);"),
        "\tcache.size = Asyncify.StackSize;".to_owned(),
        "} finally {".to_owned(),
        "\tcache.reserving = false;".to_owned(),
        "}".to_owned(),
    ];
    // The header is written with `allocateData`'s own arguments (`ptr + 12`, `ptr + 24` under
    // MEMORY64): the helper does no pointer arithmetic of its own, so it works with whatever
    // pointer type the runtime itself uses.
    let body_take = [
        format!("var cache = Asyncify.growsafeCache, {ptr} = cache.block;"),
        format!(
            "if (!{ptr} || cache.busy || cache.size !== Asyncify.StackSize) return Asyncify.allocateData();"
        ),
        "cache.busy = true;".to_owned(),
        format!("Asyncify.setDataHeader({ptr}, {stack}, {stack_size});"),
        format!("Asyncify.setDataRewindFunc({ptr});"),
        format!("return {ptr};"),
    ];
    let body_release = [
        "var cache = Asyncify.growsafeCache;".to_owned(),
        "if (ptr && ptr === cache.block) cache.busy = false;".to_owned(),
        format!("else {free}(ptr);"),
    ];
    let cache = "growsafeCache: {block: 0, size: 0, busy: false, reserving: false}";
    let shorthand = matches!(allocate_prop, Prop::Method(_));
    let head = |name: &str, params: &str| {
        if shorthand {
            format!("{name}({params}) {{")
        } else {
            format!("{name}: function({params}) {{")
        }
    };
    if cx.style().compact {
        let join = |lines: &[String]| minify(&lines.join(""));
        let head = |name: &str, params: &str| minify(&head(name, params));
        return format!(
            "{},{}{}}},{}{}}},{}{}}},",
            minify(cache),
            head("growsafeReserve", ""),
            join(&body_reserve),
            head("growsafeTake", ""),
            join(&body_take),
            head("growsafeRelease", "ptr"),
            join(&body_release),
        );
    }
    let text = cx.text;
    let key_start = cx.range(allocate_prop.span()).start;
    let nl = cx.style().newline;
    let unit = &cx.style().indent_unit;
    // 3.1.6 joins entries as `},allocateData:function() {`; 3.1.45+ puts each on its own line.
    let own_line = Style::starts_line(text, key_start);
    let close_indent = closing_indent(cx, allocate_prop);
    let entry_sep = if own_line {
        format!(",{nl}{}", Style::indent_at(text, key_start))
    } else {
        ",".to_owned()
    };
    let body_indent = format!("{close_indent}{unit}");
    let body = |lines: &[String]| {
        lines
            .iter()
            .map(|l| format!("{nl}{body_indent}{}", l.replace('\t', unit)))
            .collect::<String>()
    };
    let mut out = String::new();
    let note = "growsafe: one Asyncify data block, reused by every sleep (see `growsafe explain asyncify-sleep-alloc`)";
    if own_line {
        out.push_str(&format!(
            "// {note}{nl}{}",
            Style::indent_at(text, key_start)
        ));
    } else {
        out.push_str(&format!("/* {note} */ "));
    }
    out.push_str(cache);
    for (name, params, lines) in [
        ("growsafeReserve", "", &body_reserve[..]),
        ("growsafeTake", "", &body_take[..]),
        ("growsafeRelease", "ptr", &body_release[..]),
    ] {
        out.push_str(&entry_sep);
        out.push_str(&head(name, params));
        out.push_str(&body(lines));
        out.push_str(&format!("{nl}{close_indent}}}"));
    }
    out.push_str(&entry_sep);
    out
}

/// The indentation of the line holding the closing brace of `allocateData`'s function.
fn closing_indent(cx: &Context<'_>, prop: &Prop) -> String {
    let end = cx.range(prop.span()).end.saturating_sub(1);
    Style::indent_at(cx.text, end).to_owned()
}

/// Drops the optional spaces of the fixed helper text (it contains no strings or regexes).
fn minify(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let chars: Vec<char> = code.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' || c == '\t' {
            let prev = out.chars().last();
            let next = chars.get(i + 1).copied();
            let word =
                |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
            if word(prev) && word(next) {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// `(malloc callee, header size)` from `var ptr = _malloc(12 + Asyncify.StackSize)`.
fn allocation(cx: &Context<'_>, allocate: &Function) -> Option<(String, String)> {
    struct Finder<'a, 'cx> {
        cx: &'a Context<'cx>,
        found: Option<(String, String)>,
    }
    impl Visit for Finder<'_, '_> {
        fn visit_call_expr(&mut self, call: &CallExpr) {
            if self.found.is_none()
                && let Callee::Expr(callee) = &call.callee
                && let [arg] = call.args.as_slice()
                && let Expr::Bin(bin) = &*arg.expr
                && bin.op == BinaryOp::Add
            {
                let header = match (&*bin.left, &*bin.right) {
                    (Expr::Lit(Lit::Num(n)), other) | (other, Expr::Lit(Lit::Num(n)))
                        if is_stack_size(other) =>
                    {
                        Some(n)
                    }
                    _ => None,
                };
                if let Some(header) = header {
                    self.found = Some((
                        self.cx.slice(callee.span()).to_owned(),
                        self.cx.slice(header.span).to_owned(),
                    ));
                }
            }
            call.visit_children_with(self);
        }
    }
    let mut finder = Finder { cx, found: None };
    allocate.visit_with(&mut finder);
    finder.found
}

/// The arguments `allocateData` passes to `Asyncify.setDataHeader(ptr, stack, stackSize)`.
struct HeaderCall {
    ptr: String,
    stack: String,
    stack_size: String,
}

fn header_call(cx: &Context<'_>, allocate: &Function) -> Option<HeaderCall> {
    struct Finder<'a, 'cx> {
        cx: &'a Context<'cx>,
        found: Option<HeaderCall>,
    }
    impl Visit for Finder<'_, '_> {
        fn visit_call_expr(&mut self, call: &CallExpr) {
            if self.found.is_none()
                && let Callee::Expr(callee) = &call.callee
                && is_asyncify_member(callee, "setDataHeader")
                && let [ptr, stack, stack_size] = call.args.as_slice()
                && call.args.iter().all(|a| a.spread.is_none())
                && let Expr::Ident(ptr) = &*ptr.expr
            {
                self.found = Some(HeaderCall {
                    ptr: ptr.sym.to_string(),
                    stack: self.cx.slice(stack.expr.span()).to_owned(),
                    stack_size: self.cx.slice(stack_size.expr.span()).to_owned(),
                });
            }
            call.visit_children_with(self);
        }
    }
    let mut finder = Finder { cx, found: None };
    allocate.visit_with(&mut finder);
    finder.found
}

fn is_stack_size(expr: &Expr) -> bool {
    is_asyncify_member(expr, "StackSize")
}

/// `Asyncify.<name>`.
fn is_asyncify_member(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Member(MemberExpr { obj, prop, .. })
        if matches!(&**obj, Expr::Ident(i) if &*i.sym == "Asyncify") && member_prop_name(prop) == Some(name))
}

/// The anchors inside `handleSleep`.
#[derive(Default)]
struct Anchors {
    /// `Asyncify.allocateData()` in `Asyncify.currData = Asyncify.allocateData()`.
    allocate_call: Option<Span>,
    /// The `free(Asyncify.currData)` call and its callee, when the next statement nulls `currData`.
    free_call: Option<(Span, Span)>,
    /// The first statement of the `state === Normal` branch.
    normal_branch: Option<Span>,
}

impl Visit for Anchors {
    fn visit_assign_expr(&mut self, assign: &swc_ecma_ast::AssignExpr) {
        if let AssignTarget::Simple(SimpleAssignTarget::Member(target)) = &assign.left
            && is_asyncify_member(&Expr::Member(target.clone()), "currData")
            && let Expr::Call(call) = &*assign.right
            && let Callee::Expr(callee) = &call.callee
            && is_asyncify_member(callee, "allocateData")
        {
            self.allocate_call = Some(call.span);
        }
        assign.visit_children_with(self);
    }

    fn visit_if_stmt(&mut self, stmt: &swc_ecma_ast::IfStmt) {
        if self.normal_branch.is_none()
            && let Expr::Bin(test) = &*stmt.test
            && matches!(test.op, BinaryOp::EqEqEq | BinaryOp::EqEq)
            && is_asyncify_member(&test.left, "state")
            && matches!(&*test.right, Expr::Member(m) if member_prop_name(&m.prop) == Some("Normal"))
            && let Stmt::Block(BlockStmt { stmts, .. }) = &*stmt.cons
            && let Some(first) = stmts.first()
        {
            self.normal_branch = Some(first.span());
        }
        stmt.visit_children_with(self);
    }

    fn visit_stmts(&mut self, stmts: &[Stmt]) {
        for pair in stmts.windows(2) {
            if let (Stmt::Expr(free), Stmt::Expr(null)) = (&pair[0], &pair[1])
                && let Expr::Call(call) = &*free.expr
                && let Callee::Expr(callee) = &call.callee
                && let [arg] = call.args.as_slice()
                && is_asyncify_member(&arg.expr, "currData")
                && let Expr::Assign(assign) = &*null.expr
                && let AssignTarget::Simple(SimpleAssignTarget::Member(target)) = &assign.left
                && is_asyncify_member(&Expr::Member(target.clone()), "currData")
                && matches!(&*assign.right, Expr::Lit(Lit::Null(_)))
            {
                self.free_call = Some((call.span, callee.span()));
            }
        }
        for stmt in stmts {
            stmt.visit_with(self);
        }
    }
}

/// A function-valued entry of an object literal, by key: `key: function(){}`, `key() {}`, or
/// `key: () => {}` (arrows are reported as their enclosing property only).
fn object_entry<'a>(object: &'a ObjectLit, name: &str) -> Option<(&'a Prop, &'a Function)> {
    object.props.iter().find_map(|prop| {
        let PropOrSpread::Prop(prop) = prop else {
            return None;
        };
        match &**prop {
            Prop::Method(m) if key_is(&m.key, name) => Some((&**prop, &*m.function)),
            Prop::KeyValue(kv) if key_is(&kv.key, name) => match &*kv.value {
                Expr::Fn(f) => Some((&**prop, &*f.function)),
                _ => None,
            },
            _ => None,
        }
    })
}

fn key_is(key: &PropName, name: &str) -> bool {
    match key {
        PropName::Ident(i) => &*i.sym == name,
        PropName::Str(s) => s.value.as_str() == Some(name),
        _ => false,
    }
}

fn mentions_member(f: &Function, name: &str) -> bool {
    struct Finder<'n> {
        name: &'n str,
        found: bool,
    }
    impl Visit for Finder<'_> {
        fn visit_member_expr(&mut self, m: &MemberExpr) {
            self.found |= member_prop_name(&m.prop) == Some(self.name);
            m.visit_children_with(self);
        }
    }
    let mut finder = Finder { name, found: false };
    f.visit_with(&mut finder);
    finder.found
}

/// File-level facts: JSPI markers, Closure survivors, whether an `Asyncify` object exists.
struct Scan<'m> {
    marks: &'m Marks,
    has_object: bool,
    jspi: Option<Span>,
    /// Each `invalid state: ` message, with the innermost function around it.
    invalid_state: Vec<(Span, Option<Span>)>,
    /// `var growsafeAsyncify = {…}`: a Closure runtime growsafe already fixed.
    already_fixed: Option<Span>,
    /// The functions (and arrows) being walked, innermost last.
    functions: Vec<Span>,
    /// `$Asyncify: { … }` in an Emscripten JS library source.
    library_source: Option<Span>,
}

/// The first function shaped like Closure's inlined `allocateData`:
/// `var a = malloc(N), b = a + 12; …; H[a + 8 >> 2] = id; return a` (one holding a 12 or 24).
fn renamed_allocate(cx: &Context<'_>) -> Option<Span> {
    struct Find<'m> {
        marks: &'m Marks,
        found: Option<Span>,
    }
    impl Visit for Find<'_> {
        sparse!(self => self.marks);

        fn visit_function(&mut self, f: &Function) {
            if self.found.is_some() || !self.marks.covers(f.span) {
                return;
            }
            if f.body
                .as_ref()
                .is_some_and(|b| looks_like_allocate_data(&b.stmts))
            {
                self.found = Some(f.span);
                return;
            }
            f.visit_children_with(self);
        }
    }
    let marks = marks::at_offsets(cx.text, cx.place(), header_sizes(cx.text.as_bytes()));
    let mut find = Find {
        marks: &marks,
        found: None,
    };
    visit_program(&cx.parsed.program, &mut find);
    find.found
}

/// Where `allocateData`'s second declarator may add its header size (`ptr + 12` as a whole
/// initialiser, also `0xc`, `24`…): each `+` followed, past spaces, by a literal that may be 12
/// or 24 and then by the end of the declarator (`,`, `;`, `}`, a line break, the end). A `+`
/// followed by a line break, a possible comment (`/`, `<!--`) or a non-ASCII byte is kept too,
/// on either side of the literal. Asm.js code holds many `+ 12`s, nearly all inside larger
/// expressions (`HEAP32[p + 12 >> 2]`), and a search of every number would cost a tenth of a
/// parse there.
fn header_sizes(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\x0b' | b'\x0c');
    let unsure = |b: u8| matches!(b, b'\n' | b'\r' | b'/' | b'<') || !b.is_ascii();
    memchr::memchr_iter(b'+', text).filter(move |&plus| {
        let Some(start) = text[plus + 1..]
            .iter()
            .position(|b| !space(b))
            .map(|n| plus + 1 + n)
        else {
            return false;
        };
        if unsure(text[start]) {
            return true;
        }
        if !crate::traces::starts_number(text, start) {
            return false;
        }
        let end = crate::traces::run_end(text, start);
        // The run is ASCII: it starts with a digit or `.` and holds only ASCII bytes.
        let run = std::str::from_utf8(&text[start..end]).unwrap_or_default();
        if !crate::traces::run_may_be(run, &crate::traces::TRACE_NUMBERS) {
            return false;
        }
        text[end..]
            .iter()
            .find(|b| !space(b))
            .is_none_or(|&b| matches!(b, b',' | b';' | b'}') || unsure(b))
    })
}

impl Visit for Scan<'_> {
    sparse!(self => self.marks);

    fn visit_function(&mut self, f: &Function) {
        if !self.marks.covers(f.span) {
            return;
        }
        self.functions.push(f.span);
        f.visit_children_with(self);
        self.functions.pop();
    }

    fn visit_arrow_expr(&mut self, a: &swc_ecma_ast::ArrowExpr) {
        if !self.marks.covers(a.span) {
            return;
        }
        self.functions.push(a.span);
        a.visit_children_with(self);
        self.functions.pop();
    }

    fn visit_key_value_prop(&mut self, kv: &swc_ecma_ast::KeyValueProp) {
        if key_is(&kv.key, "$Asyncify") && matches!(&*kv.value, Expr::Object(_)) {
            self.library_source.get_or_insert(kv.key.span());
        }
        kv.visit_children_with(self);
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if let Pat::Ident(name) = &d.name
            && matches!(d.init.as_deref(), Some(Expr::Object(_)))
        {
            match &*name.id.sym {
                "Asyncify" => self.has_object = true,
                closure::CACHE => {
                    self.already_fixed.get_or_insert(d.span);
                }
                _ => {}
            }
        }
        d.visit_children_with(self);
    }

    fn visit_member_expr(&mut self, m: &MemberExpr) {
        if let Expr::Ident(object) = &*m.obj
            && &*object.sym == "WebAssembly"
            && matches!(
                member_prop_name(&m.prop),
                Some("Suspending" | "promising" | "Suspender")
            )
        {
            self.jspi.get_or_insert(m.span);
        }
        m.visit_children_with(self);
    }

    fn visit_new_expr(&mut self, new: &NewExpr) {
        // 3.1.22–3.1.60: `new WebAssembly.Function(type, f, { suspending: 'first' })`.
        if let Expr::Member(callee) = &*new.callee
            && matches!(&*callee.obj, Expr::Ident(i) if &*i.sym == "WebAssembly")
            && member_prop_name(&callee.prop) == Some("Function")
        {
            for arg in new.args.iter().flatten() {
                if let Expr::Object(options) = &*arg.expr
                    && (object_has_key(options, "suspending")
                        || object_has_key(options, "promising"))
                {
                    self.jspi.get_or_insert(new.span);
                }
            }
        }
        new.visit_children_with(self);
    }

    fn visit_lit(&mut self, lit: &Lit) {
        if let Lit::Str(s) = lit {
            let value = s.value.as_str().unwrap_or("");
            if value.starts_with("invalid state: ") {
                self.invalid_state
                    .push((s.span, self.functions.last().copied()));
            }
        }
    }

    fn visit_tpl(&mut self, tpl: &swc_ecma_ast::Tpl) {
        if tpl
            .quasis
            .first()
            .is_some_and(|q| q.raw.starts_with("invalid state: "))
        {
            self.invalid_state
                .push((tpl.span, self.functions.last().copied()));
        }
        tpl.visit_children_with(self);
    }
}

/// `var a = f(…), b = a + 12 (or 24)` first, and a store to `X[a + 8 >> 2]` (or `a + 16`) later.
fn looks_like_allocate_data(stmts: &[Stmt]) -> bool {
    let Some(Stmt::Decl(swc_ecma_ast::Decl::Var(var))) = stmts.first() else {
        return false;
    };
    let [first, second, ..] = var.decls.as_slice() else {
        return false;
    };
    let (Pat::Ident(ptr), Some(Expr::Call(_)), Some(Expr::Bin(header))) =
        (&first.name, first.init.as_deref(), second.init.as_deref())
    else {
        return false;
    };
    let header_size = match (&*header.left, &*header.right) {
        (Expr::Ident(i), Expr::Lit(Lit::Num(n)))
            if i.sym == ptr.id.sym && header.op == BinaryOp::Add =>
        {
            n.value
        }
        _ => return false,
    };
    if header_size != 12.0 && header_size != 24.0 {
        return false;
    }
    let rewind_offset = if header_size == 12.0 { 8.0 } else { 16.0 };
    struct Store<'a> {
        ptr: &'a str,
        offset: f64,
        found: bool,
    }
    impl Visit for Store<'_> {
        fn visit_member_expr(&mut self, m: &MemberExpr) {
            if let swc_ecma_ast::MemberProp::Computed(c) = &m.prop
                && let Expr::Bin(shift) = &*c.expr
                && let Expr::Bin(add) = &*shift.left
                && matches!(&*add.left, Expr::Ident(i) if &*i.sym == self.ptr)
                && matches!(&*add.right, Expr::Lit(Lit::Num(n)) if n.value == self.offset)
            {
                self.found = true;
            }
            m.visit_children_with(self);
        }
    }
    let mut store = Store {
        ptr: &ptr.id.sym,
        offset: rewind_offset,
        found: false,
    };
    stmts.visit_with(&mut store);
    store.found
}

fn object_has_key(object: &ObjectLit, name: &str) -> bool {
    object.props.iter().any(|p| matches!(p, PropOrSpread::Prop(p) if matches!(&**p, Prop::KeyValue(kv) if key_is(&kv.key, name))))
}

/// Second walk: each `var Asyncify = { … }` object, checked as it is met.
struct Runtimes<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    out: &'a mut Analysis,
}

impl Visit for Runtimes<'_, '_> {
    sparse!(self => self.marks);

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if let Pat::Ident(name) = &d.name
            && &*name.id.sym == "Asyncify"
            && let Some(Expr::Object(object)) = d.init.as_deref()
        {
            runtime(self.cx, object, self.out);
        }
        d.visit_children_with(self);
    }
}

#[cfg(test)]
mod tests {
    use super::header_sizes;

    /// Whether `header_sizes` keeps a `+` of `text` (the mark that leads the search to the
    /// function).
    fn kept(text: &str) -> bool {
        header_sizes(text.as_bytes()).next().is_some()
    }

    #[test]
    fn header_size_declarators_are_kept() {
        for text in [
            "var b=Ba(4108),c=b+12;",
            "var b = Ba(4108), c = b + 12, d;",
            "var b=Ba(4120),c=b+24}",
            "var b=Ba(4108),c=b+0xc;",
            "var b=Ba(4108),c=b+0o14;",
            "var b=Ba(4108),c=b+1_2;",
            "var b=Ba(4108),c=b+12.0;",
            "var b=Ba(4108),c=b+12",
            "var b=Ba(4108),c=b+12\nK[b>>2]=c",
            // Comments, line breaks and non-ASCII spaces on either side: kept, unread.
            "var b=Ba(4108),c=b+ /* size */ 12;",
            "var b=Ba(4108),c=b+ // size\n12;",
            "var b=Ba(4108),c=b+\n12;",
            "var b=Ba(4108),c=b+\u{a0}12;",
            "var b=Ba(4108),c=b+12 /* size */;",
            "var b=Ba(4108),c=b+12 <!-- size\n",
        ] {
            assert!(kept(text), "{text}");
        }
    }

    #[test]
    fn larger_expressions_are_not_kept() {
        for text in [
            "HEAP32[p+12>>2]=v;",
            "x=p+12|0;",
            "f(p+12);",
            "x=p+12*4;",
            "x=p+120;",
            "x=p+1.2;",
            "x=p+13;",
            "x=p+12n*2n;",
            "x=p+a12;",
        ] {
            assert!(!kept(text), "{text}");
        }
    }
}
