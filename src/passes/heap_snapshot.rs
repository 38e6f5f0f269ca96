//! ## What it does
//! Flags object-literal properties whose value is one of Emscripten's heap views read once, when
//! the object is built: shorthand `{ HEAP8 }`, `{ HEAP16: HEAP16 }`, renamed `{ h16: HEAP16 }`,
//! and `Module.HEAP16` / `Module['HEAP16']`.
//!
//! A name counts only when it resolves (by scope, not by spelling) to the glue's own view:
//! - a global or a top-level `var`/`let` named `HEAP8` … `HEAPU64`;
//! - or a binding that the glue's refresh function assigns a new typed array. The refresh
//!   function (`updateGlobalBufferAndViews`, `updateMemoryViews`, or whatever Closure renamed it
//!   to) is recognised by its body: it assigns `new Int8Array(b)` … `new BigUint64Array(b)` to
//!   variables it does not declare itself. This finds the views of `MODULARIZE` and
//!   `EXPORT_ES6` builds, which live inside the factory function
//!   (`var Module = (() => { … var HEAP8, …; function updateMemoryViews() {…} … })()`), views
//!   declared after the refresh function (5.0.4+), and Closure-renamed views: in
//!   `a.HEAP32 = K = new Int32Array(b)`, `K` is `HEAP32`, and the message names both.
//!
//! A local or a top-level `const` that happens to be called `HEAP8` does not count.
//! `X.HEAP16` counts on a global or top-level `Module`, and on any object whose `HEAPx` the
//! refresh function writes (`Module['HEAP16'] = HEAP16 = …` inside a factory, Closure's
//! `a.HEAP16 = …`); since 4.0.7 Emscripten writes `Module.HEAPx` only for views listed in
//! `EXPORTED_RUNTIME_METHODS`, and reading an unwritten one gives `undefined`, not a stale view.
//!
//! Pthreads builds with memory growth read every view through Emscripten's helpers:
//! `GROWABLE_HEAP_I8()` (up to 4.0.8; Closure renames them, growsafe recognises their body:
//! "if the memory's buffer changed, refresh; return the view") or `(growMemViews(), HEAP8)`
//! (4.0.9+). Such a read is current when it runs, so `GROWABLE_HEAP_I8()[p]` is fine, but
//! `{ HEAP8: GROWABLE_HEAP_I8() }` still calls the helper once, when the object is built, and
//! keeps that view: it is flagged like a plain `{ HEAP8 }`. In such glue a getter that returns a
//! bare view (`get HEAP8() { return HEAP8; }`, written by hand after linking) is flagged too:
//! this thread may not have refreshed `HEAP8` since another thread grew memory, so the fix reads
//! it through the helper (`return GROWABLE_HEAP_I8()`), as growsafe's own getters there do.
//!
//! Not flagged, with a note: views built over a resizable buffer. With
//! `-sGROWABLE_ARRAYBUFFERS` (4.0.12–6.0.1, `var b = wasmMemory.toResizableBuffer();`) or
//! `GROWABLE_ARRAYBUFFERS=2` (6.0.2+, `getMemoryBuffer()` returns `toResizableBuffer()`), memory
//! grows in place and a view never detaches. 6.0.2+'s `GROWABLE_ARRAYBUFFERS=1` falls back to
//! `wasmMemory.buffer` on engines without resizable buffers, so there copies are still flagged.
//! MEMORY64 builds of 3.1.45–3.1.50 may make `HEAP8` … `HEAPU16` `Proxy` objects, but those
//! proxies index typed arrays over the buffer of the moment, so their copies go dead too.
//!
//! ## Why is this bad?
//! When WebAssembly memory grows, Emscripten replaces `HEAP8` … `HEAPF64` with new typed arrays
//! over the grown buffer. The object still holds the old view, whose buffer is now detached:
//! reads through it return `undefined`/0 and writes are silently lost. WordPress Playground hit
//! this as `SQLITE_IOERR`: a file-lock struct was written through a stale `memory.HEAP16`.
//!
//! ## Example
//! ```js
//! var memory = { HEAP8, HEAP16: HEAP16, h32: Module['HEAP32'] };
//! ```
//!
//! Use instead (`--heap-style getter`, the default; the object's interface is unchanged):
//! ```js
//! var memory = { get HEAP8() { return HEAP8; }, get HEAP16() { return HEAP16; }, get h32() { return Module['HEAP32']; } };
//! ```
//!
//! With `--heap-style accessor`, each property becomes an object with `get(offset)` and
//! `set(offset, value)` that index the current view:
//! ```js
//! var memory = { HEAP16: { get(offset) { return HEAP16[offset]; }, set(offset, value) { HEAP16[offset] = value; } } };
//! ```
//! Consumers in the same file that `heap-destructure` rewrites then call `memory.HEAP16.get(i)` /
//! `memory.HEAP16.set(i, v)`. If any of them uses a view in a way an accessor cannot serve
//! (`.subarray`, `.length`, passing the view on, compound assignment), growsafe says so and
//! uses getters for the whole file instead.
//!
//! With `--heap-style proxy`, each property becomes a `Proxy` that forwards every access to the
//! current view, so even a consumer that stores `memory.HEAP16` in a local keeps working after
//! growth, at the cost of a slower access path.
//!
//! In pthreads glue, a getter reads the view the way the file's own code does: a bare view
//! becomes `get HEAPU8() { return GROWABLE_HEAP_U8(); }` or
//! `get HEAPU8() { return (growMemViews(), HEAPU8); }`, because another thread may have grown
//! memory since this thread last refreshed its views; `{ HEAP8: GROWABLE_HEAP_I8() }` keeps its
//! helper call. Accessor objects and proxies read the view the same way.
//!
//! ## Fix safety
//! The getter fix is safe: every read of the property returns the view that is current at that
//! moment, which is what the code meant. The accessor fix changes the object's interface: code
//! outside the file that indexes `memory.HEAP16[i]` must move to `.get(i)`/`.set(i, v)`; choose
//! it only when you control every consumer. The proxy fix keeps indexing, `.length` and methods
//! working, but `ArrayBuffer.isView(memory.HEAP16)` becomes `false`.
//!
//! Already fixed objects (getters returning a view, accessor objects, forwarding proxies, also
//! through `GROWABLE_HEAP_I8()` or `(growMemViews(), HEAP8)`) are recognised and left
//! byte-identical; no view read is wrapped twice.
//!
//! ## References
//! - Emscripten `ALLOW_MEMORY_GROWTH`: <https://emscripten.org/docs/tools_reference/settings_reference.html#allow-memory-growth>
//! - WordPress Playground #3317, "Fix two WASM memory growth bugs"
//! - emscripten-core/emscripten#17622, "Memory growth causes Module.HEAPU8.length to be 0"

use swc_common::{Span, Spanned};
use swc_ecma_ast::{Expr, Ident, ObjectLit, Prop, PropName, PropOrSpread, Stmt};
use swc_ecma_visit::{Visit, VisitWith};

use super::heap_destructure::accessor_blocker;
use super::kept::short;
use super::marks::{Kind, Marks};
use super::views::{sparse, visit_program};
use super::{Context, HeapStyle, PassId, find_punct};
use crate::diagnostic::{Analysis, Finding, Remark, RemarkKind};
use crate::fix::{Edit, Fix};
use crate::style::Style;

// heap-snapshot
pub(crate) fn heap_snapshot(cx: &Context<'_>, out: &mut Analysis) {
    let style = match cx.options.heap_style {
        HeapStyle::Accessor => match accessor_blocker(cx) {
            Some((range, why)) => {
                out.remarks.push(Remark {
                    pass: PassId::HeapSnapshot,
                    kind: RemarkKind::Fallback,
                    range: Some(range),
                    message: format!("{why}, which an accessor object cannot serve; using getters in this file instead"),
                });
                HeapStyle::Getter
            }
            None => HeapStyle::Accessor,
        },
        other => other,
    };
    let resizable = cx.views().resizable();
    let marks = cx.view_reads().clone().with(cx.marks(Kind::Snapshots));
    let mut visitor = Snapshots {
        cx,
        marks: &marks,
        style,
        resizable: resizable.is_some(),
        left_alone: 0,
        out,
    };
    visit_program(&cx.parsed.program, &mut visitor);
    if let Some(call) = resizable
        && visitor.left_alone > 0
    {
        let count = visitor.left_alone;
        visitor.out.remarks.push(Remark {
            pass: PassId::HeapSnapshot,
            kind: RemarkKind::LeftAlone,
            range: Some(cx.range(call)),
            message: format!(
                "{count} snapshot(s) of heap views left alone: the views are built over `{}`, \
                 which grows in place, so a copy stays valid",
                short(cx.slice(call))
            ),
        });
    }
}

/// A sparse walk over the objects that may hold a view: every snapshot, getter, accessor
/// object or proxy of one holds a mark (see `heap_snapshot`).
struct Snapshots<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    style: HeapStyle,
    /// The views are over a resizable buffer: nothing goes dead.
    resizable: bool,
    /// Snapshots not reported because of that.
    left_alone: usize,
    out: &'a mut Analysis,
}

/// A property value that copies a view.
struct Snap<'p> {
    key: String,
    view: &'static str,
    value: Value<'p>,
}

/// The value of a property: a shorthand's identifier or an expression.
#[derive(Clone, Copy)]
enum Value<'p> {
    Shorthand(&'p Ident),
    Expr(&'p Expr),
}

impl<'p> Value<'p> {
    fn span(self) -> Span {
        match self {
            Value::Shorthand(ident) => ident.span,
            Value::Expr(expr) => expr.span(),
        }
    }

    /// The identifier it reads, when it is one (`HEAP8`, `(K)`).
    fn ident(self) -> Option<&'p Ident> {
        match self {
            Value::Shorthand(ident) => Some(ident),
            Value::Expr(expr) => match unparen(expr) {
                Expr::Ident(ident) => Some(ident),
                _ => None,
            },
        }
    }
}

impl Visit for Snapshots<'_, '_> {
    sparse!(self => self.marks);

    fn visit_object_lit(&mut self, object: &ObjectLit) {
        let mut already_fixed = 0;
        for prop in &object.props {
            let PropOrSpread::Prop(prop) = prop else {
                continue;
            };
            if let Some(finding) = self.unprotected_getter(prop) {
                self.out.findings.push(finding);
                continue;
            }
            if self.is_fixed_shape(prop) {
                already_fixed += 1;
                continue;
            }
            // Only a property whose value reads the glue's own view at construction.
            let Some(snap) = self.snapshot(prop) else {
                continue;
            };
            if self.resizable {
                self.left_alone += 1;
                continue;
            }
            let message = self.message(&snap);
            let range = self.cx.range(prop.span());
            let fix = self.fix(prop, &snap);
            self.out
                .findings
                .push(Finding::fixable(PassId::HeapSnapshot, range, message, fix));
        }
        if already_fixed > 0 {
            self.out.remarks.push(Remark {
                pass: PassId::HeapSnapshot,
                kind: RemarkKind::AlreadyFixed,
                range: Some(self.cx.range(object.span)),
                message: format!(
                    "{already_fixed} heap view(s) in this object are already read at access time"
                ),
            });
        }
        object.visit_children_with(self);
    }
}

impl Snapshots<'_, '_> {
    /// The key, view and value if `prop` copies a glue view.
    fn snapshot<'p>(&self, prop: &'p Prop) -> Option<Snap<'p>> {
        match prop {
            Prop::Shorthand(ident) => Some(Snap {
                key: ident.sym.to_string(),
                view: self.cx.glue_view(ident)?,
                value: Value::Shorthand(ident),
            }),
            Prop::KeyValue(kv) => Some(Snap {
                key: key_text(self.cx, &kv.key),
                view: self.cx.glue_view_expr(&kv.value)?,
                value: Value::Expr(&kv.value),
            }),
            _ => None,
        }
    }

    fn message(&self, snap: &Snap<'_>) -> String {
        let Snap { key, view, value } = snap;
        let tail = "the copy goes dead when memory grows";
        if let Some(ident) = value.ident()
            && &*ident.sym != *view
        {
            return format!(
                "property `{key}` snapshots `{view}` (named `{}` here) once; {tail}",
                ident.sym
            );
        }
        let Value::Expr(value) = value else {
            return format!("property `{key}` snapshots `{view}` once; {tail}");
        };
        match unparen(value) {
            Expr::Call(_) | Expr::Seq(_) => format!(
                "property `{key}` snapshots `{view}` once: `{}` refreshes it only when the \
                 object is built; {tail}",
                short(self.cx.slice(value.span()))
            ),
            _ => format!("property `{key}` snapshots `{view}` once; {tail}"),
        }
    }

    /// How the fixed code reads the view: the value's own text, or, in pthreads glue with
    /// Emscripten's helpers, a bare view read through them (`GROWABLE_HEAP_I8()`,
    /// `(growMemViews(), HEAP8)`), because another thread may have grown memory.
    fn read_text(&self, snap: &Snap<'_>) -> String {
        let text = self.cx.slice(snap.value.span());
        let scope = match (snap.value.ident(), snap.value) {
            (Some(ident), _) => Some(self.cx.scope(ident)),
            (None, Value::Expr(expr)) => match unparen(expr) {
                Expr::Member(member) => match &*member.obj {
                    Expr::Ident(object) => Some(self.cx.scope(object)),
                    _ => None,
                },
                _ => None,
            },
            (None, Value::Shorthand(_)) => None,
        };
        scope
            .and_then(|scope| {
                self.cx.views().protected_read(
                    self.cx,
                    snap.view,
                    text,
                    scope,
                    self.cx.style().compact,
                )
            })
            .unwrap_or_else(|| text.to_owned())
    }

    /// A getter that returns a bare view in pthreads glue, which reads every view through
    /// Emscripten's helpers (`get HEAP8() { return HEAP8; }` beside `GROWABLE_HEAP_I8()`):
    /// another thread may have grown memory since this thread last refreshed its views, so the
    /// getter can hand out a view that ends short of the new memory. Fixed by reading through
    /// the helper, as `heap-snapshot`'s own getters there do.
    fn unprotected_getter(&self, prop: &Prop) -> Option<Finding> {
        let Prop::Getter(getter) = prop else {
            return None;
        };
        let body = getter.function.body.as_ref()?;
        let [Stmt::Return(ret)] = body.stmts.as_slice() else {
            return None;
        };
        let arg = ret.arg.as_deref()?;
        let Expr::Ident(ident) = unparen(arg) else {
            return None;
        };
        let view = self.cx.glue_view(ident)?;
        let text = self.cx.slice(ident.span);
        let read = self.cx.views().protected_read(
            self.cx,
            view,
            text,
            self.cx.scope(ident),
            self.cx.style().compact,
        )?;
        let key = key_text(self.cx, &getter.key);
        let fix = Fix::safe(
            format!("Read `{view}` through `{read}`"),
            vec![Edit::replace(self.cx.range(ident.span), read.clone())],
        );
        Some(Finding::fixable(
            PassId::HeapSnapshot,
            self.cx.range(prop.span()),
            format!(
                "getter `{key}` returns `{text}` without refreshing it; in pthreads glue another \
                 thread may have grown memory, so read it through `{read}` like the rest of the glue"
            ),
            fix,
        ))
    }

    /// Whether `prop` already reads a view at access time: a getter returning it, an accessor
    /// object indexing it, or a forwarding proxy.
    fn is_fixed_shape(&self, prop: &Prop) -> bool {
        match prop {
            Prop::Getter(getter) => {
                let Some(body) = &getter.function.body else { return false };
                matches!(body.stmts.as_slice(), [Stmt::Return(ret)]
                    if ret.arg.as_deref().is_some_and(|arg| self.cx.glue_view_expr(arg).is_some()))
            }
            Prop::KeyValue(kv) => match &*kv.value {
                Expr::Object(inner) => {
                    inner.props.iter().any(|p| matches!(p, PropOrSpread::Prop(p) if matches!(&**p, Prop::Method(m) if prop_name_is(&m.key, "get"))))
                        && mentions_view(self.cx, &kv.value)
                }
                Expr::New(new) => {
                    matches!(&*new.callee, Expr::Ident(callee) if &*callee.sym == "Proxy") && mentions_view(self.cx, &kv.value)
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn fix(&self, prop: &Prop, snap: &Snap<'_>) -> Fix {
        let cx = self.cx;
        let compact = cx.style().compact;
        let key = snap.key.as_str();
        let value = snap.value.span();
        let read = self.read_text(snap);
        let value_text = read.as_str();
        let prop_range = cx.range(prop.span());
        match self.style {
            HeapStyle::Getter => {
                let title = format!("Turn `{key}` into a getter");
                let (open, close) = if compact {
                    ("(){return ", "}")
                } else {
                    ("() { return ", "; }")
                };
                match prop {
                    Prop::KeyValue(kv) => {
                        let key_range = cx.range(kv.key.span());
                        let (gap_start, gap) = cx.between(kv.key.span(), value);
                        let colon =
                            find_punct(gap, b':').expect("a key-value property has a colon");
                        let after = &gap[colon + 1..];
                        // `return` followed by a line break would return undefined (ASI).
                        let (open, close) = if after.contains(['\n', '\r', '\u{2028}', '\u{2029}'])
                        {
                            (
                                format!("{}{}(", open.trim_end(), if compact { "" } else { " " }),
                                format!("){close}"),
                            )
                        } else if after.is_empty() {
                            (open.to_owned(), close.to_owned())
                        } else {
                            (open.trim_end().to_owned(), close.to_owned())
                        };
                        let colon_at = gap_start + u32::try_from(colon).expect("small gap");
                        let mut edits = vec![
                            Edit::insert_at(key_range.start, "get "),
                            Edit::replace(crate::TextRange::new(colon_at, colon_at + 1), open),
                            Edit::insert_at(cx.range(value).end, close),
                        ];
                        if value_text != cx.slice(value) {
                            edits.push(Edit::replace(cx.range(value), value_text));
                        }
                        Fix::safe(title, edits)
                    }
                    _ => Fix::safe(
                        title,
                        vec![Edit::replace(
                            prop_range,
                            format!("get {key}{open}{value_text}{close}"),
                        )],
                    ),
                }
            }
            HeapStyle::Accessor => {
                let title = format!("Turn `{key}` into a get/set accessor object");
                let indent = Style::indent_at(cx.text, prop_range.start);
                let multiline = !compact && Style::starts_line(cx.text, prop_range.start);
                let object = accessor_object(
                    value_text,
                    compact,
                    multiline.then_some((indent, cx.style())),
                );
                self.value_fix(prop, title, object)
            }
            HeapStyle::Proxy => {
                let title = format!("Turn `{key}` into a forwarding Proxy");
                self.value_fix(prop, title, proxy_object(value_text, compact))
            }
        }
    }

    /// Replaces the property's value (expanding a shorthand) with `replacement`.
    fn value_fix(&self, prop: &Prop, title: String, replacement: String) -> Fix {
        let sep = if self.cx.style().compact { ":" } else { ": " };
        match prop {
            Prop::Shorthand(ident) => Fix::safe(
                title,
                vec![Edit::replace(
                    self.cx.range(ident.span),
                    format!("{}{sep}{replacement}", ident.sym),
                )],
            ),
            Prop::KeyValue(kv) => Fix::safe(
                title,
                vec![Edit::replace(self.cx.range(kv.value.span()), replacement)],
            ),
            _ => unreachable!("snapshot() only returns shorthand and key-value properties"),
        }
    }
}

/// `{ get(offset) { return V[offset]; }, set(offset, value) { V[offset] = value; } }`, laid out
/// on several lines when `layout` gives the property's indentation.
fn accessor_object(view: &str, compact: bool, layout: Option<(&str, &Style)>) -> String {
    if compact {
        return format!("{{get(o){{return {view}[o]}},set(o,v){{{view}[o]=v}}}}");
    }
    let get = format!("get(offset) {{ return {view}[offset]; }}");
    let set = format!("set(offset, value) {{ {view}[offset] = value; }}");
    match layout {
        Some((indent, style)) => {
            let nl = style.newline;
            let inner = format!("{indent}{}", style.indent_unit);
            format!("{{{nl}{inner}{get},{nl}{inner}{set},{nl}{indent}}}")
        }
        None => format!("{{ {get}, {set} }}"),
    }
}

/// A `Proxy` over an empty target whose traps forward to the current value of `view`.
fn proxy_object(view: &str, compact: bool) -> String {
    if compact {
        format!(
            "new Proxy({{}},{{get(_,k){{var h={view},x=h[k];return typeof x==\"function\"?x.bind(h):x}},\
             set(_,k,x){{{view}[k]=x;return true}},has(_,k){{return k in {view}}}}})"
        )
    } else {
        format!(
            "new Proxy({{}}, {{ get(_, key) {{ var view = {view}, v = view[key]; return typeof v === \"function\" ? v.bind(view) : v; }}, \
             set(_, key, value) {{ {view}[key] = value; return true; }}, has(_, key) {{ return key in {view}; }} }})"
        )
    }
}

fn unparen(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

fn key_text(cx: &Context<'_>, key: &PropName) -> String {
    match key {
        PropName::Ident(i) => i.sym.to_string(),
        other => cx.slice(other.span()).to_owned(),
    }
}

fn prop_name_is(key: &PropName, name: &str) -> bool {
    matches!(key, PropName::Ident(i) if &*i.sym == name)
}

/// Whether `expr` reads a glue view anywhere inside.
fn mentions_view(cx: &Context<'_>, expr: &Expr) -> bool {
    struct Finder<'a, 'cx> {
        cx: &'a Context<'cx>,
        found: bool,
    }
    impl Visit for Finder<'_, '_> {
        fn visit_expr(&mut self, expr: &Expr) {
            if self.cx.glue_view_expr(expr).is_some() {
                self.found = true;
            } else {
                expr.visit_children_with(self);
            }
        }
    }
    let mut finder = Finder { cx, found: false };
    expr.visit_with(&mut finder);
    finder.found
}
