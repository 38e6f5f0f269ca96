//! ## What it does
//! Flags object-literal properties whose value is one of Emscripten's heap views read once, when
//! the object is built: shorthand `{ HEAP8 }`, `{ HEAP16: HEAP16 }`, renamed `{ h16: HEAP16 }`,
//! and `Module.HEAP16` / `Module['HEAP16']`. Only names that resolve to the glue's own view (a
//! global or a top-level `var`/`let`) count; a local or a top-level `const` that happens to be
//! called `HEAP8` does not.
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
//! ## Fix safety
//! The getter fix is safe: every read of the property returns the view that is current at that
//! moment, which is what the code meant. The accessor fix changes the object's interface: code
//! outside the file that indexes `memory.HEAP16[i]` must move to `.get(i)`/`.set(i, v)`; choose
//! it only when you control every consumer. The proxy fix keeps indexing, `.length` and methods
//! working, but `ArrayBuffer.isView(memory.HEAP16)` becomes `false`.
//!
//! Already fixed objects (getters returning a view, accessor objects, forwarding proxies) are
//! recognised and left byte-identical.
//!
//! ## References
//! - Emscripten `ALLOW_MEMORY_GROWTH`: <https://emscripten.org/docs/tools_reference/settings_reference.html#allow-memory-growth>
//! - WordPress Playground #3317, "Fix two WASM memory growth bugs"
//! - emscripten-core/emscripten#17622, "Memory growth causes Module.HEAPU8.length to be 0"

use swc_common::{Span, Spanned};
use swc_ecma_ast::{Expr, ObjectLit, Prop, PropName, PropOrSpread, Stmt};
use swc_ecma_visit::{Visit, VisitWith};

use super::heap_destructure::accessor_blocker;
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
    let mut visitor = Snapshots { cx, style, out };
    cx.parsed.program.visit_with(&mut visitor);
}

struct Snapshots<'a, 'cx> {
    cx: &'a Context<'cx>,
    style: HeapStyle,
    out: &'a mut Analysis,
}

impl Visit for Snapshots<'_, '_> {
    fn visit_object_lit(&mut self, object: &ObjectLit) {
        let mut already_fixed = 0;
        for prop in &object.props {
            let PropOrSpread::Prop(prop) = prop else {
                continue;
            };
            if self.is_fixed_shape(prop) {
                already_fixed += 1;
                continue;
            }
            // Only a property whose value reads the glue's own view at construction.
            let Some((key, view, value)) = self.snapshot(prop) else {
                continue;
            };
            let message = format!(
                "property `{key}` snapshots `{view}` once; the copy goes dead when memory grows"
            );
            let range = self.cx.range(prop.span());
            let fix = self.fix(prop, &key, value);
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
    /// `(key text, view name, value span)` if `prop` copies a glue view.
    fn snapshot(&self, prop: &Prop) -> Option<(String, &'static str, Span)> {
        match prop {
            Prop::Shorthand(ident) => {
                Some((ident.sym.to_string(), self.cx.glue_view(ident)?, ident.span))
            }
            Prop::KeyValue(kv) => {
                let view = self.cx.glue_view_expr(&kv.value)?;
                Some((key_text(self.cx, &kv.key), view, kv.value.span()))
            }
            _ => None,
        }
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

    fn fix(&self, prop: &Prop, key: &str, value: Span) -> Fix {
        let cx = self.cx;
        let compact = cx.style.compact;
        let value_text = cx.slice(value);
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
                        Fix::safe(
                            title,
                            vec![
                                Edit::insert_at(key_range.start, "get "),
                                Edit::replace(crate::TextRange::new(colon_at, colon_at + 1), open),
                                Edit::insert_at(cx.range(value).end, close),
                            ],
                        )
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
                    multiline.then_some((indent, &cx.style)),
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
        let sep = if self.cx.style.compact { ":" } else { ": " };
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
