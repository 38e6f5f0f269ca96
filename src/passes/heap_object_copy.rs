//! ## What it does
//! Flags copies of an object that holds heap views into a new plain object:
//! `{ ...memory }`, `Object.assign({}, memory)`, `Object.assign(target, memory)` and
//! `structuredClone(memory)`.
//!
//! growsafe does not guess from names. An object holds heap views when the file shows it:
//! - a variable or property initialised or assigned with an object literal that has a view
//!   property: a getter named like a view or returning one (`get HEAP16() { return HEAP16; }`),
//!   a shorthand `{ HEAP8 }`, or a key-value property whose value is a view (`h: Module.HEAPU8`)
//!   or whose key is a view name (`HEAP32: heap32`);
//! - or a view read or written through it anywhere in the file: `memory.HEAP16[i]`,
//!   `Module['HEAPU8'] = …`, `Object.defineProperty(memory, 'HEAP8', …)`. A parameter counts
//!   too (`function bind({ memory }) { … memory.HEAP16 … }`), and so does a property path
//!   (`this.memory`, `LOCKS.memory`), compared by its text.
//!
//! Properties that are get/set accessor objects (`HEAP16: { get(offset) {…}, set(offset, v) {…} }`)
//! or forwarding proxies, and views used only through `.get(…)`/`.set(…)`, do not count: a copy
//! of those still reads the current view.
//!
//! Not flagged: a copy that is merged back into the object it came from. Emscripten's shell
//! does this with `Module` before any view exists (`var moduleOverrides = { ...Module };` …
//! `Object.assign(Module, moduleOverrides);`).
//!
//! ## Why is this bad?
//! A getter reads the current view each time, which is what keeps an object like php-wasm's
//! `memory` correct after WebAssembly memory grows (see `heap-snapshot`). Spreading or
//! `Object.assign` calls each getter once and stores the result as a plain data property, so the
//! copy is a snapshot again: after growth its views are over a detached buffer, reads give
//! `undefined`/0 and writes are silently lost. A plain object of views (or `Module`, whose
//! `HEAPx` properties Emscripten refreshes in place) loses the refresh the same way.
//! `structuredClone` is worse: it copies the memory behind the views, so the clone never sees
//! wasm memory at all.
//!
//! ## Example
//! ```js
//! var memory = { get HEAP16() { return HEAP16; }, get HEAP32() { return HEAP32; } };
//! var userSpace = bindUserSpace({ memory: { ...memory, pid } });
//! var env = Object.assign({}, memory);
//! ```
//!
//! Use instead: pass the object itself, or copy its accessors rather than their values.
//! ```js
//! var memory = { get HEAP16() { return HEAP16; }, get HEAP32() { return HEAP32; } };
//! var userSpace = bindUserSpace({ memory, pid });
//! var env = Object.defineProperties({}, Object.getOwnPropertyDescriptors(memory));
//! ```
//!
//! ## Fix safety
//! There is no automatic fix: this is a lint. Copying accessors instead of values
//! (`Object.getOwnPropertyDescriptors`) keeps getters live, but it changes which properties win
//! when the copy merges several objects, copies non-enumerable properties too, and does not help
//! a plain object of views, which must first become getters (`heap-snapshot` fixes that).
//! Which of these the code needs is the author's call.
//!
//! ## References
//! - WordPress Playground #3317, "Fix two WASM memory growth bugs" (the getter-based `memory` object)
//! - MDN, "Spread syntax": spreading an object copies own enumerable properties by value
//! - MDN, `Object.getOwnPropertyDescriptors` (copying accessors)

use rustc_hash::FxHashSet as HashSet;

use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    AssignExpr, AssignOp, AssignTarget, CallExpr, Callee, Expr, MemberExpr, ObjectLit, Prop,
    PropName, PropOrSpread, SimpleAssignTarget, Stmt, VarDeclarator,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::kept::short;
use super::marks::{Find, Marks};
use super::views::{sparse, view_name, visit_program};
use super::{Context, PassId, member_prop_name};
use crate::diagnostic::{Analysis, Finding};
use crate::scope::Bid;

// heap-object-copy
pub(crate) fn heap_object_copy(cx: &Context<'_>, out: &mut Analysis) {
    // Every piece of evidence names a view: read as a whole (`{ HEAP8 }`, `{ h: K }`), as a
    // property (`memory.HEAP16[i]`, `Object.defineProperty(m, 'HEAP8', …)`), or merges copies
    // back with `Object.assign`.
    let marks = cx
        .find(&[Find::Member("HEAP"), Find::Name("assign")])
        .with(cx.view_reads());
    let mut evidence = Evidence {
        cx,
        marks: &marks,
        heap: HashSet::default(),
        merges: HashSet::default(),
        accessor_uses: HashSet::default(),
    };
    visit_program(&cx.parsed.program, &mut evidence);
    // Nothing in the file holds heap views: nothing to copy.
    if evidence.heap.is_empty() {
        return;
    }
    // A copy is a spread, `Object.assign` or `structuredClone`.
    let marks = cx.find(&[
        Find::Text("..."),
        Find::Name("assign"),
        Find::Name("structuredClone"),
    ]);
    let mut copies = Copies {
        cx,
        marks: &marks,
        evidence: &evidence,
        target: None,
        out,
    };
    visit_program(&cx.parsed.program, &mut copies);
}

/// An object by identity: a binding, or a property path compared by its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Binding(Bid),
    Path(String),
}

fn key_of(cx: &Context<'_>, expr: &Expr) -> Option<Key> {
    match strip(expr) {
        Expr::Ident(ident) => Some(Key::Binding(cx.bid(ident))),
        Expr::Member(member) => path(member).map(Key::Path),
        _ => None,
    }
}

/// `a.b.c` / `this.memory` as text, when every step is a static name.
fn path(member: &MemberExpr) -> Option<String> {
    let prop = member_prop_name(&member.prop)?;
    let object = match strip(&member.obj) {
        Expr::Ident(ident) => ident.sym.to_string(),
        Expr::This(_) => "this".to_owned(),
        Expr::Member(inner) => path(inner)?,
        _ => return None,
    };
    Some(format!("{object}.{prop}"))
}

fn strip(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => strip(&p.expr),
        Expr::TsAs(e) => strip(&e.expr),
        Expr::TsNonNull(e) => strip(&e.expr),
        Expr::TsSatisfies(e) => strip(&e.expr),
        Expr::TsTypeAssertion(e) => strip(&e.expr),
        _ => expr,
    }
}

/// First walk: which objects hold heap views, and which copies are merged back.
struct Evidence<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    heap: HashSet<Key>,
    /// `Object.assign(object, copy)`: `(object, copy)`.
    merges: HashSet<(Key, Bid)>,
    /// `memory.HEAP16` spans used as `memory.HEAP16.get(…)` / `.set(…)` (accessor objects).
    accessor_uses: HashSet<Span>,
}

impl Evidence<'_, '_> {
    /// Whether an object literal has a property that holds or reads a heap view.
    fn has_view_props(&self, object: &ObjectLit) -> bool {
        object.props.iter().any(|p| {
            let PropOrSpread::Prop(prop) = p else {
                return false;
            };
            match &**prop {
                Prop::Shorthand(ident) => view_name(&ident.sym).is_some(),
                Prop::KeyValue(kv) => {
                    let live = matches!(
                        strip(&kv.value),
                        Expr::Object(_) | Expr::New(_) | Expr::Fn(_) | Expr::Arrow(_)
                    );
                    self.is_view(&kv.value) || (is_view_key(&kv.key) && !live)
                }
                Prop::Getter(getter) => {
                    is_view_key(&getter.key)
                        || getter.function.body.as_ref().is_some_and(|b| {
                            b.stmts.iter().any(|s| {
                                matches!(s, Stmt::Return(r)
                                if r.arg.as_deref().is_some_and(|a| self.is_view(a)))
                            })
                        })
                }
                _ => false,
            }
        })
    }

    fn is_view(&self, expr: &Expr) -> bool {
        let expr = strip(expr);
        self.cx.glue_view_expr(expr).is_some()
            || matches!(expr, Expr::Member(m)
                if member_prop_name(&m.prop).and_then(view_name).is_some())
    }
}

impl Visit for Evidence<'_, '_> {
    sparse!(self => self.marks);

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if let (swc_ecma_ast::Pat::Ident(binding), Some(init)) = (&d.name, &d.init)
            && let Expr::Object(object) = strip(init)
            && self.has_view_props(object)
        {
            self.heap.insert(Key::Binding(self.cx.bid(&binding.id)));
        }
        d.visit_children_with(self);
    }

    fn visit_assign_expr(&mut self, a: &AssignExpr) {
        if a.op == AssignOp::Assign
            && let Expr::Object(object) = strip(&a.right)
            && self.has_view_props(object)
        {
            let key = match &a.left {
                AssignTarget::Simple(SimpleAssignTarget::Ident(b)) => {
                    Some(Key::Binding(self.cx.bid(&b.id)))
                }
                AssignTarget::Simple(SimpleAssignTarget::Member(m)) => path(m).map(Key::Path),
                _ => None,
            };
            self.heap.extend(key);
        }
        a.visit_children_with(self);
    }

    fn visit_member_expr(&mut self, m: &MemberExpr) {
        if member_prop_name(&m.prop).and_then(view_name).is_some()
            && !self.accessor_uses.contains(&m.span)
        {
            self.heap.extend(key_of(self.cx, &m.obj));
        }
        m.visit_children_with(self);
    }

    fn visit_call_expr(&mut self, call: &CallExpr) {
        if let Callee::Expr(callee) = &call.callee
            && let Expr::Member(method) = strip(callee)
        {
            let name = member_prop_name(&method.prop);
            // `memory.HEAP16.get(i)`: an accessor object, which a copy keeps live.
            if matches!(name, Some("get" | "set"))
                && let Expr::Member(view) = strip(&method.obj)
            {
                self.accessor_uses.insert(view.span);
            }
            if let Expr::Ident(object) = strip(&method.obj)
                && &*object.sym == "Object"
                && self.cx.is_global(object)
            {
                let args = &call.args;
                match name {
                    Some("defineProperty") => {
                        if let [target, prop, ..] = args.as_slice()
                            && let Expr::Lit(swc_ecma_ast::Lit::Str(s)) = strip(&prop.expr)
                            && s.value.as_str().and_then(view_name).is_some()
                        {
                            self.heap.extend(key_of(self.cx, &target.expr));
                        }
                    }
                    Some("defineProperties") => {
                        if let [target, props, ..] = args.as_slice()
                            && let Expr::Object(props) = strip(&props.expr)
                            && props.props.iter().any(|p| {
                                matches!(p, PropOrSpread::Prop(p)
                                if matches!(&**p, Prop::KeyValue(kv) if is_view_key(&kv.key)))
                            })
                        {
                            self.heap.extend(key_of(self.cx, &target.expr));
                        }
                    }
                    Some("assign") => {
                        if let Some((target, sources)) = args.split_first()
                            && let Some(target) = key_of(self.cx, &target.expr)
                        {
                            for source in sources {
                                if let Expr::Ident(copy) = strip(&source.expr) {
                                    self.merges.insert((target.clone(), self.cx.bid(copy)));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        call.visit_children_with(self);
    }
}

fn is_view_key(key: &PropName) -> bool {
    match key {
        PropName::Ident(i) => view_name(&i.sym).is_some(),
        PropName::Str(s) => s.value.as_str().and_then(view_name).is_some(),
        _ => false,
    }
}

/// Second walk: the copies.
struct Copies<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    evidence: &'a Evidence<'a, 'cx>,
    /// The expression being stored in a variable, and that variable.
    target: Option<(Span, Bid)>,
    out: &'a mut Analysis,
}

impl Copies<'_, '_> {
    fn heap_object(&self, expr: &Expr) -> Option<Key> {
        key_of(self.cx, expr).filter(|k| self.evidence.heap.contains(k))
    }

    /// Whether the copy `whole` is stored in a variable that is merged back into `source`.
    fn merged_back(&self, whole: Span, source: &Key) -> bool {
        self.target.as_ref().is_some_and(|(span, id)| {
            *span == whole && self.evidence.merges.contains(&(source.clone(), id.clone()))
        })
    }

    fn report(&mut self, span: Span, message: String, name: &str) {
        let reason = format!(
            "lint only: a plain copy cannot keep getters live; pass `{name}` itself, or copy its accessors with `Object.getOwnPropertyDescriptors({name})`"
        );
        self.out.findings.push(Finding::unfixable(
            PassId::HeapObjectCopy,
            self.cx.range(span),
            message,
            reason,
        ));
    }
}

impl Visit for Copies<'_, '_> {
    sparse!(self => self.marks);

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        let saved = self.target.take();
        if let (swc_ecma_ast::Pat::Ident(binding), Some(init)) = (&d.name, &d.init) {
            self.target = Some((strip(init).span(), self.cx.bid(&binding.id)));
        }
        d.visit_children_with(self);
        self.target = saved;
    }

    fn visit_assign_expr(&mut self, a: &AssignExpr) {
        let saved = self.target.take();
        if let AssignTarget::Simple(SimpleAssignTarget::Ident(binding)) = &a.left {
            self.target = Some((strip(&a.right).span(), self.cx.bid(&binding.id)));
        }
        a.visit_children_with(self);
        self.target = saved;
    }

    fn visit_object_lit(&mut self, object: &ObjectLit) {
        for prop in &object.props {
            // Only a spread of an object known to hold heap views.
            let PropOrSpread::Spread(spread) = prop else {
                continue;
            };
            let Some(key) = self.heap_object(&spread.expr) else {
                continue;
            };
            if self.merged_back(object.span, &key) {
                continue;
            }
            let name = short(self.cx.slice(strip(&spread.expr).span()));
            let message = format!(
                "spreading `{name}` copies its heap views once; the copies go dead when memory grows"
            );
            self.report(spread.span(), message, &name);
        }
        let saved = self.target.take();
        object.visit_children_with(self);
        self.target = saved;
    }

    fn visit_call_expr(&mut self, call: &CallExpr) {
        let whole = call.span;
        if let Callee::Expr(callee) = &call.callee {
            match strip(callee) {
                // `Object.assign(target, memory)`: every source after the target.
                Expr::Member(method)
                    if member_prop_name(&method.prop) == Some("assign")
                        && matches!(strip(&method.obj), Expr::Ident(o)
                            if &*o.sym == "Object" && self.cx.is_global(o)) =>
                {
                    for source in call.args.iter().skip(1) {
                        if source.spread.is_some() {
                            continue;
                        }
                        let Some(key) = self.heap_object(&source.expr) else {
                            continue;
                        };
                        if self.merged_back(whole, &key) {
                            continue;
                        }
                        let name = short(self.cx.slice(strip(&source.expr).span()));
                        let message = format!(
                            "`Object.assign` copies the heap views of `{name}` once; the copies go dead when memory grows"
                        );
                        self.report(source.expr.span(), message, &name);
                    }
                }
                // `structuredClone(memory)`: a deep copy of the memory behind the views.
                Expr::Ident(f) if &*f.sym == "structuredClone" && self.cx.is_global(f) => {
                    if let Some(first) = call.args.first()
                        && first.spread.is_none()
                        && self.heap_object(&first.expr).is_some()
                    {
                        let name = short(self.cx.slice(strip(&first.expr).span()));
                        let message = format!(
                            "`structuredClone` copies the memory behind the heap views of `{name}`; the clone never sees wasm memory again"
                        );
                        self.report(whole, message, &name);
                    }
                }
                _ => {}
            }
        }
        let saved = self.target.take();
        call.visit_children_with(self);
        self.target = saved;
    }
}
