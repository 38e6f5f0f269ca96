//! The heap views Emscripten swaps on memory growth, and which bindings of a file are them.
//!
//! [`Views`] is built once per file (lazily, through `Context::views`) and shared by every pass.
//! A binding is the glue's view when either
//! - (a) it is named `HEAP8` … `HEAPU64` and is a global or a top-level `var`/`let` (not a
//!   top-level `const`, function, class or import: those never change), or
//! - (b) a *refresh function* assigns it a new typed array.
//!
//! A refresh function is any function (declaration, expression, arrow, method) whose own body
//! assigns `new <Int8|Uint8|Int16|Uint16|Int32|Uint32|Float32|Float64|BigInt64|BigUint64>Array(X)`
//! to bindings declared outside it or to `obj.HEAPx` properties, at least twice (a bare
//! `new Int16Array(X);` statement, which Closure leaves for unused views, counts towards the two),
//! or once to a target named like a view. Chains count once and give every target:
//! `Module['HEAP8'] = HEAP8 = new Int8Array(b)`, Closure's `a.HEAP32 = K = new Int32Array(b)`.
//! Each binding is resolved by swc's resolver (`Id`), never by name, and its view is its name
//! when it is named like one, else the constructor's (`K = new Int32Array(b)`: `K` is `HEAP32`).
//! This finds `updateGlobalBufferAndViews` / `updateMemoryViews` inside `MODULARIZE` and
//! `EXPORT_ES6` factory functions and after Closure renamed everything, while a local that
//! happens to be called `HEAP8` (a parameter, a local the function assigns itself) is still not
//! the glue's view.
//!
//! Also recorded:
//! - *mirrors*: `obj.HEAPx` properties a refresh function writes (`Module['HEAP8'] = …`, the
//!   Closure alias `a.HEAP8 = …`); 4.0.7+ glue usually writes none;
//! - *helpers* that refresh the views when the memory buffer changed: pthreads'
//!   `function GROWABLE_HEAP_I8() { if (wasmMemory.buffer != HEAP8.buffer) updateMemoryViews();
//!   return HEAP8; }` (≤4.0.8, renamed by Closure to `function c(){h.buffer!=l&&n(h.buffer);return aa}`)
//!   and `growMemViews()` (4.0.9+), recognised by that body shape: a guard comparing a `.buffer`,
//!   a call to a refresh function, and optionally `return VIEW`;
//! - whether every refresh function builds its views over a resizable buffer
//!   (`wasmMemory.toResizableBuffer()`, directly or through a function that only returns it):
//!   such views grow in place and never detach.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use swc_atoms::Atom;
use swc_common::{Span, SyntaxContext};
use swc_ecma_ast::{
    ArrowExpr, ArrowFunctionBody, AssignExpr, AssignOp, AssignTarget, BinaryOp, CallExpr, Callee,
    CatchClause, Class, ClassDecl, Decl, Expr, ExprStmt, FnDecl, Function, Id, Ident, ModuleDecl,
    ModuleItem, Pat, Program, SimpleAssignTarget, Stmt, VarDeclKind, VarDeclarator,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::member_prop_name;
use crate::source::Parsed;

/// Every view Emscripten replaces in `updateMemoryViews` / `updateGlobalBufferAndViews`.
pub(crate) const VIEW_NAMES: [&str; 10] = [
    "HEAP8", "HEAPU8", "HEAP16", "HEAPU16", "HEAP32", "HEAPU32", "HEAPF32", "HEAPF64", "HEAP64",
    "HEAPU64",
];

/// `name` as a `'static` view name, if it is one.
pub(crate) fn view_name(name: &str) -> Option<&'static str> {
    VIEW_NAMES.into_iter().find(|v| *v == name)
}

/// The view a typed-array constructor builds (`Int32Array` → `HEAP32`).
pub(crate) fn view_of_constructor(ctor: &str) -> Option<&'static str> {
    Some(match ctor {
        "Int8Array" => "HEAP8",
        "Uint8Array" => "HEAPU8",
        "Int16Array" => "HEAP16",
        "Uint16Array" => "HEAPU16",
        "Int32Array" => "HEAP32",
        "Uint32Array" => "HEAPU32",
        "Float32Array" => "HEAPF32",
        "Float64Array" => "HEAPF64",
        "BigInt64Array" => "HEAP64",
        "BigUint64Array" => "HEAPU64",
        _ => return None,
    })
}

/// The view returned by Emscripten's pthreads helper `name()`, e.g. `GROWABLE_HEAP_U8`.
pub(crate) fn growable_heap_view(name: &str) -> Option<&'static str> {
    Some(match name.strip_prefix("GROWABLE_HEAP_")? {
        "I8" => "HEAP8",
        "U8" => "HEAPU8",
        "I16" => "HEAP16",
        "U16" => "HEAPU16",
        "I32" => "HEAP32",
        "U32" => "HEAPU32",
        "F32" => "HEAPF32",
        "F64" => "HEAPF64",
        _ => return None,
    })
}

/// A function that refreshes the views when the memory buffer changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Helper {
    /// Refreshes, then returns this view (`GROWABLE_HEAP_I8`).
    View(&'static str),
    /// Only refreshes (`growMemViews`).
    Check,
}

/// Everything the passes know about a file's heap views.
#[derive(Debug, Default)]
pub(crate) struct Views {
    unresolved: SyntaxContext,
    top_level: SyntaxContext,
    /// View names the top level binds to something that never changes.
    fixed: Vec<&'static str>,
    /// Bindings a refresh function assigns, with their view.
    bindings: HashMap<Id, &'static str>,
    /// `(object, view)` for every `object.HEAPx` a refresh function writes.
    mirrors: HashSet<(Id, &'static str)>,
    /// The refresh functions' bindings, when they have one (`updateMemoryViews`, Closure's `da`).
    refreshers: Vec<Option<Id>>,
    helpers: HashMap<Id, Helper>,
    /// Every name bound anywhere, with the contexts it is bound in (to tell whether a helper's
    /// name means the helper wherever it is written).
    binders: HashMap<Atom, HashSet<SyntaxContext>>,
    /// The `toResizableBuffer()` call every refresh function builds its views over, if so.
    resizable: Option<Span>,
}

impl Views {
    /// Analyses a parsed file.
    pub fn build(parsed: &Parsed) -> Views {
        let mut walk = Walk {
            unresolved: parsed.unresolved,
            pending: None,
            fns: Vec::new(),
            returns_resizable: HashMap::default(),
            binders: HashMap::default(),
        };
        parsed.program.visit_with(&mut walk);
        let mut views = Views {
            unresolved: parsed.unresolved,
            top_level: parsed.top_level,
            fixed: fixed_top_level(&parsed.program),
            binders: walk.binders,
            ..Views::default()
        };
        let mut sources = Vec::new();
        for f in &walk.fns {
            let Some(refresh) = &f.refresh else { continue };
            for target in &refresh.targets {
                match target {
                    Target::Binding(id, view) => {
                        views.bindings.insert(id.clone(), view);
                    }
                    Target::Mirror(id, view) => {
                        views.mirrors.insert((id.clone(), view));
                    }
                }
            }
            views.refreshers.push(f.binding.clone());
            sources.push(&refresh.buffer);
        }
        // Resizable only when every refresh function is.
        views.resizable = sources
            .iter()
            .map(|source| match source {
                Buffer::Resizable(span) => Some(*span),
                Buffer::CallOf(id) => walk.returns_resizable.get(id).copied(),
                Buffer::Other => None,
            })
            .collect::<Option<Vec<Span>>>()
            .and_then(|spans| spans.first().copied());
        let refresh_ids: HashSet<&Id> =
            views.refreshers.iter().filter_map(Option::as_ref).collect();
        for f in &walk.fns {
            let (Some(binding), Some(shape)) = (&f.binding, &f.helper) else {
                continue;
            };
            if !refresh_ids.contains(&shape.calls) {
                continue;
            }
            let helper = match &shape.returns {
                None => Helper::Check,
                Some(ident) => match views.ident_view(ident) {
                    Some(view) => Helper::View(view),
                    None => continue,
                },
            };
            views.helpers.insert(binding.clone(), helper);
        }
        views
    }

    /// The view `ident` refers to: rule (a) or (b) of the module documentation.
    pub fn ident_view(&self, ident: &Ident) -> Option<&'static str> {
        if let Some(view) = self.bindings.get(&ident.to_id()) {
            return Some(view);
        }
        let name = view_name(&ident.sym)?;
        if ident.ctxt == self.unresolved {
            return Some(name);
        }
        (ident.ctxt == self.top_level && !self.fixed.contains(&name)).then_some(name)
    }

    /// The view a refresh function assigns to the binding `id` (rule (b) only).
    #[cfg(test)]
    pub fn refreshed(&self, id: &Id) -> Option<&'static str> {
        self.bindings.get(id).copied()
    }

    /// The view `object.prop` holds when a refresh function writes it.
    pub fn mirror(&self, object: &Ident, prop: &str) -> Option<&'static str> {
        let view = view_name(prop)?;
        self.mirrors
            .contains(&(object.to_id(), view))
            .then_some(view)
    }

    /// Whether a refresh function writes views onto `object`.
    pub fn is_mirror_object(&self, object: &Ident) -> bool {
        let id = object.to_id();
        self.mirrors.iter().any(|(o, _)| *o == id)
    }

    /// How many refresh functions the file has.
    #[cfg(test)]
    pub fn refresh_count(&self) -> usize {
        self.refreshers.len()
    }

    /// What calling `callee` does, when it is a view helper: a structural one of this file, or
    /// a global `GROWABLE_HEAP_I8` … / `growMemViews` (an Emscripten library source).
    pub fn helper(&self, callee: &Ident) -> Option<Helper> {
        if let Some(helper) = self.helpers.get(&callee.to_id()) {
            return Some(*helper);
        }
        if callee.ctxt != self.unresolved && callee.ctxt != self.top_level {
            return None;
        }
        if let Some(view) = growable_heap_view(&callee.sym) {
            return Some(Helper::View(view));
        }
        (&*callee.sym == "growMemViews").then_some(Helper::Check)
    }

    /// How to read `view` (whose binding is in `ctxt`) the way the file's own pthreads code does:
    /// `GROWABLE_HEAP_I8()`, or `(growMemViews(), HEAP8)` where `text` reads the view (also
    /// `(GROWABLE_HEAP_I8(), HEAP64)` for a view without its own helper: every helper refreshes
    /// all views). `None` when the file has no such helper in that scope, or its name is bound
    /// elsewhere too.
    pub fn protected_read(
        &self,
        view: &'static str,
        text: &str,
        ctxt: SyntaxContext,
        compact: bool,
    ) -> Option<String> {
        if ctxt == self.unresolved {
            return None;
        }
        let usable = |id: &Id| {
            id.1 == ctxt
                && self
                    .binders
                    .get(&id.0)
                    .is_some_and(|ctxts| ctxts.len() == 1)
        };
        let mut helpers: Vec<(&Id, &Helper)> =
            self.helpers.iter().filter(|(id, _)| usable(id)).collect();
        helpers.sort_by(|a, b| a.0.0.cmp(&b.0.0));
        if let Some((id, _)) = helpers.iter().find(|(_, h)| **h == Helper::View(view)) {
            return Some(format!("{}()", id.0));
        }
        let (id, _) = helpers
            .iter()
            .find(|(_, h)| **h == Helper::Check)
            .or_else(|| helpers.first())?;
        let sep = if compact { "," } else { ", " };
        Some(format!("({}(){sep}{text})", id.0))
    }

    /// The `toResizableBuffer()` call the views are built over, when every refresh function
    /// builds them over a resizable buffer: such views grow in place and never detach.
    pub fn resizable(&self) -> Option<Span> {
        self.resizable
    }
}

/// View names that a file's top level binds to something that is not a swappable view:
/// a `const`, a function, a class or an import. Such a binding never changes, so reading it
/// once is harmless and it is not the glue's view.
fn fixed_top_level(program: &Program) -> Vec<&'static str> {
    let mut fixed = Vec::new();
    match program {
        Program::Script(script) => {
            for stmt in &script.body {
                if let Stmt::Decl(decl) = stmt {
                    collect_decl(decl, &mut fixed);
                }
            }
        }
        Program::Module(module) => {
            for item in &module.body {
                match item {
                    ModuleItem::Stmt(Stmt::Decl(decl)) => collect_decl(decl, &mut fixed),
                    ModuleItem::Stmt(_) => {}
                    ModuleItem::ModuleDecl(ModuleDecl::ExportDecl(export)) => {
                        collect_decl(&export.decl, &mut fixed);
                    }
                    ModuleItem::ModuleDecl(ModuleDecl::Import(import)) => {
                        for spec in &import.specifiers {
                            let local = match spec {
                                swc_ecma_ast::ImportSpecifier::Named(n) => &n.local,
                                swc_ecma_ast::ImportSpecifier::Default(d) => &d.local,
                                swc_ecma_ast::ImportSpecifier::Namespace(n) => &n.local,
                            };
                            fixed.extend(view_name(&local.sym));
                        }
                    }
                    ModuleItem::ModuleDecl(_) => {}
                }
            }
        }
    }
    fixed
}

fn collect_decl(decl: &Decl, fixed: &mut Vec<&'static str>) {
    match decl {
        Decl::Var(var) if var.kind == VarDeclKind::Const => {
            for declarator in &var.decls {
                if let Pat::Ident(binding) = &declarator.name {
                    fixed.extend(view_name(&binding.id.sym));
                }
            }
        }
        Decl::Fn(f) => fixed.extend(view_name(&f.ident.sym)),
        Decl::Class(c) => fixed.extend(view_name(&c.ident.sym)),
        _ => {}
    }
}

/// One target of a typed-array assignment in a refresh function.
#[derive(Debug, Clone)]
enum Target {
    /// A binding declared outside the function, with its view.
    Binding(Id, &'static str),
    /// `object.HEAPx`.
    Mirror(Id, &'static str),
}

/// What a refresh function builds its views over.
#[derive(Debug, Clone)]
enum Buffer {
    /// `X.toResizableBuffer()`.
    Resizable(Span),
    /// `f()`: whatever `f` returns.
    CallOf(Id),
    Other,
}

#[derive(Debug)]
struct Refresh {
    targets: Vec<Target>,
    buffer: Buffer,
}

/// The shape of a view helper: `if (a.buffer != b) refresh(); [return VIEW;]`.
#[derive(Debug)]
struct HelperShape {
    /// The function the guard calls (must turn out to be a refresh function).
    calls: Id,
    returns: Option<Ident>,
}

#[derive(Debug)]
struct FnFacts {
    binding: Option<Id>,
    refresh: Option<Refresh>,
    helper: Option<HelperShape>,
}

/// The walk over every function of the file.
struct Walk {
    unresolved: SyntaxContext,
    /// The binding of the function about to be visited.
    pending: Option<Id>,
    fns: Vec<FnFacts>,
    /// Functions whose whole body is `return X.toResizableBuffer()`.
    returns_resizable: HashMap<Id, Span>,
    binders: HashMap<Atom, HashSet<SyntaxContext>>,
}

impl Walk {
    fn bind(&mut self, ident: &Ident) {
        self.binders
            .entry(ident.sym.clone())
            .or_default()
            .insert(ident.ctxt);
    }

    fn function(&mut self, params: Vec<&Pat>, body: FnBody<'_>) {
        let binding = self.pending.take();
        let stmts: &[Stmt] = match body {
            FnBody::Block(stmts) => stmts,
            FnBody::Expr(expr) => {
                if let (Some(binding), Some(call)) = (&binding, resizable_call(expr)) {
                    self.returns_resizable.insert(binding.clone(), call);
                }
                return;
            }
        };
        if let (Some(binding), [Stmt::Return(ret)]) = (&binding, stmts)
            && let Some(call) = ret.arg.as_deref().and_then(resizable_call)
        {
            self.returns_resizable.insert(binding.clone(), call);
        }
        let mut own = Own {
            unresolved: self.unresolved,
            declared: HashSet::default(),
            inits: HashMap::default(),
            assigns: Vec::new(),
            bare: 0,
        };
        for param in &params {
            own.declare(param);
        }
        for stmt in stmts {
            stmt.visit_with(&mut own);
        }
        let refresh = own.refresh();
        let helper = if params.is_empty() {
            helper_shape(stmts)
        } else {
            None
        };
        if refresh.is_some() || helper.is_some() {
            self.fns.push(FnFacts {
                binding,
                refresh,
                helper,
            });
        }
    }
}

enum FnBody<'a> {
    Block(&'a [Stmt]),
    Expr(&'a Expr),
}

impl Visit for Walk {
    fn visit_fn_decl(&mut self, f: &FnDecl) {
        self.bind(&f.ident);
        self.pending = Some(f.ident.to_id());
        f.function.visit_with(self);
    }

    fn visit_class_decl(&mut self, c: &ClassDecl) {
        self.bind(&c.ident);
        c.class.visit_with(self);
    }

    fn visit_binding_ident(&mut self, b: &swc_ecma_ast::BindingIdent) {
        self.bind(&b.id);
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        d.name.visit_with(self);
        if let (Pat::Ident(binding), Some(init)) = (&d.name, &d.init)
            && matches!(unparen(init), Expr::Fn(_) | Expr::Arrow(_))
        {
            self.pending = Some(binding.id.to_id());
        }
        d.init.visit_with(self);
        self.pending = None;
    }

    fn visit_function(&mut self, f: &Function) {
        if let Some(body) = &f.body {
            let params = f.params.iter().map(|p| &p.pat).collect();
            self.function(params, FnBody::Block(&body.stmts));
        }
        self.pending = None;
        f.visit_children_with(self);
    }

    fn visit_arrow_expr(&mut self, a: &ArrowExpr) {
        let body = match &*a.body {
            ArrowFunctionBody::FunctionBody(block) => FnBody::Block(&block.stmts),
            ArrowFunctionBody::Expr(expr) => FnBody::Expr(expr),
        };
        self.function(a.params.iter().collect(), body);
        self.pending = None;
        a.visit_children_with(self);
    }
}

/// A walk over one function's own body (not nested functions or classes).
struct Own {
    unresolved: SyntaxContext,
    /// Bindings declared in the function: parameters, `var`/`let`/`const`, functions, classes.
    declared: HashSet<Id>,
    /// What the function's locals are initialised with, as buffers.
    inits: HashMap<Id, Buffer>,
    /// Typed-array assignments: `(targets, the constructor's view, the buffer argument)`.
    assigns: Vec<(Vec<RawTarget>, &'static str, Buffer)>,
    /// `new Int16Array(b);` statements.
    bare: usize,
}

#[derive(Debug)]
enum RawTarget {
    Binding(Ident),
    Mirror(Ident, &'static str),
}

impl Own {
    fn declare(&mut self, pat: &Pat) {
        struct Bindings<'w>(&'w mut HashSet<Id>);
        impl Visit for Bindings<'_> {
            fn visit_binding_ident(&mut self, b: &swc_ecma_ast::BindingIdent) {
                self.0.insert(b.id.to_id());
            }
            fn visit_expr(&mut self, _: &Expr) {}
        }
        pat.visit_with(&mut Bindings(&mut self.declared));
    }

    /// `new Int8Array(X)` with one plain argument: the view and the buffer.
    fn typed_array<'e>(&self, expr: &'e Expr) -> Option<(&'static str, &'e Expr)> {
        let Expr::New(new) = unparen(expr) else {
            return None;
        };
        let Expr::Ident(ctor) = &*new.callee else {
            return None;
        };
        if ctor.ctxt != self.unresolved {
            return None;
        }
        let view = view_of_constructor(&ctor.sym)?;
        match new.args.as_deref() {
            // Over a buffer (a name, `x.buffer`, `f()`), not `new Int8Array(16)` or `([…])`.
            Some([arg])
                if arg.spread.is_none()
                    && matches!(
                        unparen(&arg.expr),
                        Expr::Ident(_) | Expr::Member(_) | Expr::Call(_)
                    ) =>
            {
                Some((view, &arg.expr))
            }
            _ => None,
        }
    }

    fn buffer(&self, arg: &Expr) -> Buffer {
        match unparen(arg) {
            Expr::Ident(ident) => self
                .inits
                .get(&ident.to_id())
                .cloned()
                .unwrap_or(Buffer::Other),
            other => buffer_of(other),
        }
    }

    /// The refresh this function performs, if it is a refresh function.
    fn refresh(self) -> Option<Refresh> {
        let mut targets = Vec::new();
        let mut qualifying = 0;
        let mut named = false;
        let mut buffer = None;
        for (raw, view, arg) in &self.assigns {
            let before = targets.len();
            for target in raw {
                match target {
                    RawTarget::Binding(ident) if !self.declared.contains(&ident.to_id()) => {
                        let name = view_name(&ident.sym);
                        named |= name.is_some();
                        targets.push(Target::Binding(ident.to_id(), name.unwrap_or(view)));
                    }
                    RawTarget::Binding(_) => {}
                    RawTarget::Mirror(object, prop) => {
                        named = true;
                        targets.push(Target::Mirror(object.to_id(), prop));
                    }
                }
            }
            if targets.len() > before {
                qualifying += 1;
                buffer.get_or_insert_with(|| arg.clone());
            }
        }
        let refresh = qualifying >= 1 && (qualifying + self.bare >= 2 || named);
        refresh.then(|| Refresh {
            targets,
            buffer: buffer.unwrap_or(Buffer::Other),
        })
    }
}

impl Visit for Own {
    fn visit_function(&mut self, _: &Function) {}

    fn visit_arrow_expr(&mut self, _: &ArrowExpr) {}

    fn visit_class(&mut self, _: &Class) {}

    fn visit_fn_decl(&mut self, f: &FnDecl) {
        self.declared.insert(f.ident.to_id());
    }

    fn visit_class_decl(&mut self, c: &ClassDecl) {
        self.declared.insert(c.ident.to_id());
    }

    fn visit_catch_clause(&mut self, c: &CatchClause) {
        if let Some(param) = &c.param {
            self.declare(param);
        }
        c.body.visit_with(self);
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        self.declare(&d.name);
        if let (Pat::Ident(binding), Some(init)) = (&d.name, &d.init) {
            let buffer = buffer_of(unparen(init));
            self.inits.insert(binding.id.to_id(), buffer);
        }
        d.init.visit_with(self);
    }

    fn visit_expr_stmt(&mut self, s: &ExprStmt) {
        if self.typed_array(&s.expr).is_some() {
            self.bare += 1;
        }
        s.expr.visit_with(self);
    }

    fn visit_assign_expr(&mut self, a: &AssignExpr) {
        if a.op != AssignOp::Assign {
            a.visit_children_with(self);
            return;
        }
        // Follow the chain `t1 = t2 = … = value`.
        let mut lefts = vec![&a.left];
        let mut value = &*a.right;
        while let Expr::Assign(inner) = unparen(value)
            && inner.op == AssignOp::Assign
        {
            lefts.push(&inner.left);
            value = &inner.right;
        }
        for left in &lefts {
            if let AssignTarget::Simple(SimpleAssignTarget::Member(member)) = left {
                member.visit_with(self);
            }
        }
        value.visit_with(self);
        let Some((view, arg)) = self.typed_array(value) else {
            return;
        };
        let targets = lefts
            .into_iter()
            .filter_map(|left| match left {
                AssignTarget::Simple(SimpleAssignTarget::Ident(b)) => {
                    Some(RawTarget::Binding(b.id.clone()))
                }
                AssignTarget::Simple(SimpleAssignTarget::Member(m)) => {
                    let Expr::Ident(object) = unparen(&m.obj) else {
                        return None;
                    };
                    let prop = view_name(member_prop_name(&m.prop)?)?;
                    Some(RawTarget::Mirror(object.clone(), prop))
                }
                _ => None,
            })
            .collect();
        let buffer = self.buffer(arg);
        self.assigns.push((targets, view, buffer));
    }
}

/// What a buffer expression is: `X.toResizableBuffer()`, a call `f()`, or anything else.
fn buffer_of(expr: &Expr) -> Buffer {
    if let Some(span) = resizable_call(expr) {
        return Buffer::Resizable(span);
    }
    if let Expr::Call(call) = expr
        && call.args.is_empty()
        && let Callee::Expr(callee) = &call.callee
        && let Expr::Ident(f) = unparen(callee)
    {
        return Buffer::CallOf(f.to_id());
    }
    Buffer::Other
}

/// The span of `X.toResizableBuffer()`, if `expr` is that call.
fn resizable_call(expr: &Expr) -> Option<Span> {
    let Expr::Call(call) = unparen(expr) else {
        return None;
    };
    let Callee::Expr(callee) = &call.callee else {
        return None;
    };
    let Expr::Member(member) = unparen(callee) else {
        return None;
    };
    (member_prop_name(&member.prop) == Some("toResizableBuffer")).then_some(call.span)
}

/// `if (a.buffer != b) refresh(…);` / `a.buffer != b && refresh(…);`, then optionally
/// `return VIEW;`.
fn helper_shape(stmts: &[Stmt]) -> Option<HelperShape> {
    let (guard, returns) = match stmts {
        [guard] => (guard, None),
        [guard, Stmt::Return(ret)] => match ret.arg.as_deref().map(unparen) {
            Some(Expr::Ident(view)) => (guard, Some(view.clone())),
            _ => return None,
        },
        _ => return None,
    };
    let calls = match guard {
        Stmt::If(if_stmt) if if_stmt.alt.is_none() && buffer_compare(&if_stmt.test) => {
            match &*if_stmt.cons {
                Stmt::Expr(e) => called(&e.expr)?,
                Stmt::Block(block) => match block.stmts.as_slice() {
                    [Stmt::Expr(e)] => called(&e.expr)?,
                    _ => return None,
                },
                _ => return None,
            }
        }
        Stmt::Expr(e) => match unparen(&e.expr) {
            Expr::Bin(bin) if bin.op == BinaryOp::LogicalAnd && buffer_compare(&bin.left) => {
                called(&bin.right)?
            }
            _ => return None,
        },
        _ => return None,
    };
    Some(HelperShape { calls, returns })
}

/// `a.buffer != b` / `a !== b.buffer`.
fn buffer_compare(test: &Expr) -> bool {
    let Expr::Bin(bin) = unparen(test) else {
        return false;
    };
    let is_buffer = |e: &Expr| matches!(unparen(e), Expr::Member(m) if member_prop_name(&m.prop) == Some("buffer"));
    matches!(bin.op, BinaryOp::NotEq | BinaryOp::NotEqEq)
        && (is_buffer(&bin.left) || is_buffer(&bin.right))
}

/// The function a plain call `f(…)` calls.
fn called(expr: &Expr) -> Option<Id> {
    let Expr::Call(CallExpr {
        callee: Callee::Expr(callee),
        ..
    }) = unparen(expr)
    else {
        return None;
    };
    match unparen(callee) {
        Expr::Ident(f) => Some(f.to_id()),
        _ => None,
    }
}

fn unparen(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Lang, parse};

    /// Builds the analysis and hands it the text's identifiers by name and occurrence.
    fn analyse(text: &str) -> (Views, Vec<Ident>) {
        let parsed = parse(text, Lang::JavaScript).expect("parses");
        struct Idents(Vec<Ident>);
        impl Visit for Idents {
            fn visit_ident(&mut self, i: &Ident) {
                self.0.push(i.clone());
            }
        }
        let mut idents = Idents(Vec::new());
        parsed.program.visit_with(&mut idents);
        (Views::build(&parsed), idents.0)
    }

    /// The `n`th identifier called `name` (0-based).
    fn nth<'a>(idents: &'a [Ident], name: &str, n: usize) -> &'a Ident {
        idents
            .iter()
            .filter(|i| &*i.sym == name)
            .nth(n)
            .unwrap_or_else(|| panic!("no {name} #{n}"))
    }

    #[test]
    fn modularize_factory_views_are_found_by_binding() {
        let (views, ids) = analyse(
            "var Module = (() => { return async function (moduleArg = {}) {\n\
               var Module = moduleArg; var wasmMemory, HEAP8, HEAPU8;\n\
               function updateMemoryViews() { var b = wasmMemory.buffer;\n\
                 Module['HEAP8'] = HEAP8 = new Int8Array(b); HEAPU8 = new Uint8Array(b); }\n\
               function f(HEAP8) { return HEAP8; }\n\
               return { HEAP8, HEAPU8 };\n\
             }; })();",
        );
        assert_eq!(views.refresh_count(), 1);
        // The factory's `HEAP8`, not the parameter of `f`.
        assert_eq!(views.ident_view(nth(&ids, "HEAP8", 0)), Some("HEAP8"));
        assert_eq!(views.ident_view(nth(&ids, "HEAP8", 2)), None);
        assert_eq!(views.ident_view(nth(&ids, "HEAP8", 4)), Some("HEAP8"));
        assert_eq!(views.ident_view(nth(&ids, "HEAPU8", 2)), Some("HEAPU8"));
        // `Module` (the factory's) mirrors HEAP8 only.
        let module = nth(&ids, "Module", 1);
        assert_eq!(views.mirror(module, "HEAP8"), Some("HEAP8"));
        assert_eq!(views.mirror(module, "HEAPU8"), None);
        assert!(!views.is_mirror_object(nth(&ids, "Module", 0)));
        assert!(views.resizable().is_none());
    }

    #[test]
    fn closure_renamed_views_take_their_constructor_name() {
        let (views, ids) = analyse(
            "var ca,J,K,L;function da(){var b=H.buffer;ca=b;a.HEAP8=new Int8Array(b);\
             a.HEAP32=K=new Int32Array(b);J=new Uint8Array(b);new Float64Array(b)}\
             function q(){var J=new Uint8Array(4);return J}",
        );
        assert_eq!(views.ident_view(nth(&ids, "K", 0)), Some("HEAP32"));
        assert_eq!(views.ident_view(nth(&ids, "J", 1)), Some("HEAPU8"));
        // A local of another function, even one built as a typed array.
        assert_eq!(views.ident_view(nth(&ids, "J", 2)), None);
        assert_eq!(views.ident_view(nth(&ids, "L", 0)), None);
        // `ca` is assigned the buffer, not a view.
        assert_eq!(views.ident_view(nth(&ids, "ca", 0)), None);
        assert_eq!(views.mirror(nth(&ids, "a", 0), "HEAP8"), Some("HEAP8"));
        assert_eq!(views.mirror(nth(&ids, "a", 0), "HEAP32"), Some("HEAP32"));
    }

    #[test]
    fn a_function_that_builds_its_own_typed_arrays_is_no_refresh() {
        let (views, ids) = analyse(
            "function f(n) { var HEAP8, x; HEAP8 = new Int8Array(n); x = new Int32Array(n);\
             return { HEAP8 }; }\nvar y; function g() { y = new Uint8Array(16); }",
        );
        assert!(views.refresh_count() == 0);
        assert_eq!(views.ident_view(nth(&ids, "HEAP8", 2)), None);
        // One renamed target is not enough evidence.
        assert_eq!(views.ident_view(nth(&ids, "y", 0)), None);
    }

    #[test]
    fn one_named_view_is_enough() {
        // 6.0.4+ keeps only the views the program uses.
        let (views, ids) = analyse(
            "(function () { var HEAPU8; function updateMemoryViews() { \
             var b = wasmMemory.buffer; HEAPU8 = new Uint8Array(b); } return HEAPU8; })();",
        );
        assert_eq!(views.refresh_count(), 1);
        assert_eq!(
            views.refreshed(&nth(&ids, "HEAPU8", 2).to_id()),
            Some("HEAPU8")
        );
    }

    #[test]
    fn views_declared_after_the_refresh_function_are_hoisted_bindings() {
        // 5.0.4+: `var HEAP32;` follows `updateMemoryViews` in the library section.
        let (views, ids) = analyse(
            "var f = async function (moduleArg = {}) { function updateMemoryViews() { \
             var b = wasmMemory.buffer; HEAP8 = new Int8Array(b); HEAP32 = new Int32Array(b); }\n\
             var HEAP32;\nvar HEAP8;\n};",
        );
        assert_eq!(views.ident_view(nth(&ids, "HEAP32", 1)), Some("HEAP32"));
        assert_eq!(views.ident_view(nth(&ids, "HEAP8", 1)), Some("HEAP8"));
    }

    #[test]
    fn pthreads_helpers_are_recognised_by_shape() {
        let (views, ids) = analyse(
            "function GROWABLE_HEAP_I8() { if (wasmMemory.buffer != HEAP8.buffer) { \
             updateMemoryViews(); } return HEAP8; }\n\
             function growMemViews() { if (wasmMemory.buffer != HEAP8.buffer) updateMemoryViews(); }\n\
             function c(){h.buffer!=l&&n(h.buffer);return aa}\n\
             function notOne() { if (x.buffer != y) log(); return HEAP8; }\n\
             var HEAP8, aa, bb; function updateMemoryViews() { var b = wasmMemory.buffer; \
             HEAP8 = new Int8Array(b); }\n\
             function n(b){l=b;aa=new Uint8Array(b);bb=new Int32Array(b)}",
        );
        assert_eq!(
            views.helper(nth(&ids, "GROWABLE_HEAP_I8", 0)),
            Some(Helper::View("HEAP8"))
        );
        assert_eq!(
            views.helper(nth(&ids, "growMemViews", 0)),
            Some(Helper::Check)
        );
        assert_eq!(
            views.helper(nth(&ids, "c", 0)),
            Some(Helper::View("HEAPU8"))
        );
        assert_eq!(views.helper(nth(&ids, "notOne", 0)), None);
        let heap8 = nth(&ids, "HEAP8", 0);
        assert_eq!(
            views.protected_read("HEAP8", "HEAP8", heap8.ctxt, false),
            Some("GROWABLE_HEAP_I8()".to_owned())
        );
        assert_eq!(
            views.protected_read("HEAP16", "HEAP16", heap8.ctxt, true),
            Some("(growMemViews(),HEAP16)".to_owned())
        );
        // Not in another scope, nor for a global.
        assert_eq!(
            views.protected_read("HEAP8", "HEAP8", SyntaxContext::empty(), false),
            None
        );
    }

    #[test]
    fn a_view_without_its_own_helper_is_read_after_another_one() {
        // ≤4.0.8 never wrapped HEAP64: any helper refreshes every view.
        let (views, ids) = analyse(
            "var HEAP8, HEAP64; function updateMemoryViews() { var b = wasmMemory.buffer;              HEAP8 = new Int8Array(b); HEAP64 = new BigInt64Array(b); }
             function GROWABLE_HEAP_I8() { if (wasmMemory.buffer != HEAP8.buffer) {              updateMemoryViews(); } return HEAP8; }
             function f(GROWABLE_HEAP_X) {}",
        );
        let heap64 = nth(&ids, "HEAP64", 0);
        assert_eq!(
            views.protected_read("HEAP64", "HEAP64", heap64.ctxt, false),
            Some("(GROWABLE_HEAP_I8(), HEAP64)".to_owned())
        );
    }

    #[test]
    fn a_helper_whose_name_is_bound_twice_is_not_used() {
        let (views, ids) = analyse(
            "var HEAP8; function updateMemoryViews() { var b = wasmMemory.buffer;              HEAP8 = new Int8Array(b); }
             function growMemViews() { if (wasmMemory.buffer != HEAP8.buffer) updateMemoryViews(); }
             function g(growMemViews) { return { HEAP8 }; }",
        );
        let heap8 = nth(&ids, "HEAP8", 0);
        assert_eq!(
            views.helper(nth(&ids, "growMemViews", 0)),
            Some(Helper::Check)
        );
        assert_eq!(
            views.protected_read("HEAP8", "HEAP8", heap8.ctxt, false),
            None
        );
    }

    #[test]
    fn resizable_buffers_are_noticed() {
        let direct = "var HEAP8, HEAP32; function updateMemoryViews() { \
             var b = wasmMemory.toResizableBuffer(); HEAP8 = new Int8Array(b); \
             HEAP32 = new Int32Array(b); }";
        assert!(analyse(direct).0.resizable().is_some());
        let through = "var HEAP8; function getMemoryBuffer() { return wasmMemory.toResizableBuffer(); }\n\
             function updateMemoryViews() { if (HEAP8?.buffer?.resizable) return; \
             var b = getMemoryBuffer(); HEAP8 = new Int8Array(b); }";
        assert!(analyse(through).0.resizable().is_some());
        // 6.0.2+ GROWABLE_ARRAYBUFFERS=1: a runtime fallback to the plain buffer.
        let runtime = "var HEAP8; function getMemoryBuffer() { try { \
             var b = wasmMemory.toResizableBuffer(); return b; } catch {} return wasmMemory.buffer; }\n\
             function updateMemoryViews() { var b = getMemoryBuffer(); HEAP8 = new Int8Array(b); }";
        assert!(analyse(runtime).0.resizable().is_none());
    }
}
