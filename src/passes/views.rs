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
//! Each binding is resolved by scope (`crate::scope`'s `Bid`), never by name, and its view is
//! its name when it is named like one, else the constructor's (`K = new Int32Array(b)`: `K` is
//! `HEAP32`).
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

use std::sync::{Mutex, PoisonError};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use swc_atoms::Atom;
use swc_common::Span;
use swc_ecma_ast::{
    ArrowExpr, ArrowFunctionBody, AssignExpr, AssignOp, AssignTarget, BinaryOp, BindingIdent,
    CallExpr, Callee, Class, ClassDecl, Decl, Expr, ExprStmt, FnDecl, Function, Ident, ModuleDecl,
    ModuleItem, Pat, Program, SimpleAssignTarget, Stmt, VarDeclKind, VarDeclarator,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::marks::{Find, Kind, Marks};
use super::{Context, member_prop_name};
use crate::scope::{Bid, ScopeId};

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
    /// View names the top level binds to something that never changes.
    fixed: Vec<&'static str>,
    /// Bindings a refresh function assigns, with their view.
    bindings: HashMap<Bid, &'static str>,
    /// `(object, view)` for every `object.HEAPx` a refresh function writes.
    mirrors: HashSet<(Bid, &'static str)>,
    /// The refresh functions' bindings, when they have one (`updateMemoryViews`, Closure's `da`).
    refreshers: Vec<Option<Bid>>,
    helpers: HashMap<Bid, Helper>,
    /// For each helper name asked about: in how many scopes the file binds that name (a helper
    /// is only called by name where its name means it everywhere).
    binders: Mutex<HashMap<Atom, usize>>,
    /// The `toResizableBuffer()` call every refresh function builds its views over, if so.
    resizable: Option<Span>,
}

impl Views {
    /// Analyses a parsed file: a sparse walk over its typed arrays and `.buffer`s.
    pub fn build(cx: &Context<'_>) -> Views {
        let marks = cx.marks(Kind::Views);
        let mut walk = Walk {
            cx,
            marks,
            pending: None,
            fns: Vec::new(),
            returns_resizable: HashMap::default(),
        };
        if !marks.is_empty() {
            visit_program(&cx.parsed.program, &mut walk);
        }
        let mut views = Views {
            fixed: fixed_top_level(&cx.parsed.program),
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
        let refresh_ids: HashSet<&Bid> =
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
                Some(ident) => match views.ident_view(cx, ident) {
                    Some(view) => Helper::View(view),
                    None => continue,
                },
            };
            views.helpers.insert(binding.clone(), helper);
        }
        views
    }

    /// These views for the next round of a fix whose edits cannot have changed them (no word
    /// [`Views::build`] looks for in or near an edited node, no function renamed: see
    /// `fix_body_with`), without what was worked out on the whole previous text.
    pub fn carried(self) -> Views {
        Views {
            binders: Mutex::default(),
            ..self
        }
    }

    /// The view `ident` refers to: rule (a) or (b) of the module documentation.
    pub fn ident_view(&self, cx: &Context<'_>, ident: &Ident) -> Option<&'static str> {
        let named = view_name(&ident.sym);
        // Resolving is the cost: first rule out a name no view can have.
        if named.is_none() && !self.bindings.keys().any(|(name, _)| *name == ident.sym) {
            return None;
        }
        let bid = cx.bid(ident);
        if let Some(view) = self.bindings.get(&bid) {
            return Some(view);
        }
        let name = named?;
        match bid.1 {
            ScopeId::GLOBAL => Some(name),
            ScopeId::TOP => (!self.fixed.contains(&name)).then_some(name),
            _ => None,
        }
    }

    /// The names of the bindings a refresh function assigns (for marks: Closure renames them).
    pub fn binding_names(&self) -> impl Iterator<Item = &Atom> {
        self.bindings.keys().map(|(name, _)| name)
    }

    /// The names of the view helpers (for marks).
    pub fn helper_names(&self) -> impl Iterator<Item = &Atom> {
        self.helpers.keys().map(|(name, _)| name)
    }

    /// The view a refresh function assigns to the binding `id` (rule (b) only).
    #[cfg(test)]
    pub fn refreshed(&self, id: &Bid) -> Option<&'static str> {
        self.bindings.get(id).copied()
    }

    /// The view `object.prop` holds when a refresh function writes it.
    pub fn mirror(&self, cx: &Context<'_>, object: &Ident, prop: &str) -> Option<&'static str> {
        let view = view_name(prop)?;
        if self.mirrors.is_empty() {
            return None;
        }
        self.mirrors
            .contains(&(cx.bid(object), view))
            .then_some(view)
    }

    /// Whether a refresh function writes views onto `object`.
    pub fn is_mirror_object(&self, cx: &Context<'_>, object: &Ident) -> bool {
        if self.mirrors.is_empty() {
            return false;
        }
        let id = cx.bid(object);
        self.mirrors.iter().any(|(o, _)| *o == id)
    }

    /// How many refresh functions the file has.
    #[cfg(test)]
    pub fn refresh_count(&self) -> usize {
        self.refreshers.len()
    }

    /// What calling `callee` does, when it is a view helper: a structural one of this file, or
    /// a global `GROWABLE_HEAP_I8` … / `growMemViews` (an Emscripten library source).
    pub fn helper(&self, cx: &Context<'_>, callee: &Ident) -> Option<Helper> {
        let named = growable_heap_view(&callee.sym)
            .map(Helper::View)
            .or_else(|| (&*callee.sym == "growMemViews").then_some(Helper::Check));
        if named.is_none() && !self.helpers.keys().any(|(name, _)| *name == callee.sym) {
            return None;
        }
        let bid = cx.bid(callee);
        if let Some(helper) = self.helpers.get(&bid) {
            return Some(*helper);
        }
        if bid.1 != ScopeId::GLOBAL && bid.1 != ScopeId::TOP {
            return None;
        }
        named
    }

    /// How to read `view` (whose binding is in `scope`) the way the file's own pthreads code
    /// does: `GROWABLE_HEAP_I8()`, or `(growMemViews(), HEAP8)` where `text` reads the view
    /// (also `(GROWABLE_HEAP_I8(), HEAP64)` for a view without its own helper: every helper
    /// refreshes all views). `None` when the file has no such helper in that scope, or its name
    /// is bound elsewhere too.
    pub fn protected_read(
        &self,
        cx: &Context<'_>,
        view: &'static str,
        text: &str,
        scope: ScopeId,
        compact: bool,
    ) -> Option<String> {
        if scope == ScopeId::GLOBAL {
            return None;
        }
        let usable = |id: &Bid| id.1 == scope && self.binder_count(cx, &id.0) == 1;
        let mut helpers: Vec<(&Bid, &Helper)> =
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

    /// In how many scopes the file binds `name` (as a declared or assigned name, a function or
    /// a class declaration).
    fn binder_count(&self, cx: &Context<'_>, name: &Atom) -> usize {
        let known = self
            .binders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .copied();
        if let Some(count) = known {
            return count;
        }
        let marks = cx.find(&[Find::Name(name)]);
        let mut binders = Binders {
            cx,
            marks: &marks,
            name,
            scopes: HashSet::default(),
        };
        visit_program(&cx.parsed.program, &mut binders);
        let count = binders.scopes.len();
        self.binders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.clone(), count);
        count
    }

    /// The `toResizableBuffer()` call the views are built over, when every refresh function
    /// builds them over a resizable buffer: such views grow in place and never detach.
    pub fn resizable(&self) -> Option<Span> {
        self.resizable
    }
}

/// Visits the top-level items of `program` through the visitor's own list method (a sparse
/// visitor's visits only those that hold a mark).
pub(crate) fn visit_program<V: Visit>(program: &Program, v: &mut V) {
    match program {
        Program::Module(m) => v.visit_module_items(&m.body),
        Program::Script(s) => v.visit_stmts(&s.body),
    }
}

/// Sparse walking: the overrides that skip everything without a mark, searching lists for the
/// elements that hold one. `$marks` is an expression for the `&Marks` (given `self`); the
/// optional list names the node kinds guarded by a span check (`stmt expr pat`, the default),
/// for visitors that override some of them themselves (and check the span there).
macro_rules! sparse {
    ($self:ident => $marks:expr) => {
        $crate::passes::views::sparse!($self => $marks; stmt expr pat);
    };
    ($self:ident => $marks:expr; $($node:ident)*) => {
        fn visit_stmts(&mut $self, list: &[swc_ecma_ast::Stmt]) {
            let marks = $marks;
            for item in marks.each(list) {
                item.visit_with($self);
            }
        }
        fn visit_module_items(&mut $self, list: &[swc_ecma_ast::ModuleItem]) {
            let marks = $marks;
            for item in marks.each(list) {
                item.visit_with($self);
            }
        }
        fn visit_prop_or_spreads(&mut $self, list: &[swc_ecma_ast::PropOrSpread]) {
            let marks = $marks;
            for item in marks.each(list) {
                item.visit_with($self);
            }
        }
        fn visit_expr_or_spreads(&mut $self, list: &[swc_ecma_ast::ExprOrSpread]) {
            let marks = $marks;
            for item in marks.each(list) {
                item.visit_with($self);
            }
        }
        fn visit_class_members(&mut $self, list: &[swc_ecma_ast::ClassMember]) {
            let marks = $marks;
            for item in marks.each(list) {
                item.visit_with($self);
            }
        }
        fn visit_var_declarators(&mut $self, list: &[swc_ecma_ast::VarDeclarator]) {
            let marks = $marks;
            for item in marks.each(list) {
                item.visit_with($self);
            }
        }
        fn visit_exprs(&mut $self, list: &[Box<swc_ecma_ast::Expr>]) {
            let marks = $marks;
            for item in marks.each(list) {
                item.visit_with($self);
            }
        }
        fn visit_switch_cases(&mut $self, list: &[swc_ecma_ast::SwitchCase]) {
            let marks = $marks;
            for item in marks.each(list) {
                item.visit_with($self);
            }
        }
        $( $crate::passes::views::sparse!(@guard $node $self $marks); )*
    };
    (@guard stmt $self:ident $marks:expr) => {
        fn visit_stmt(&mut $self, node: &swc_ecma_ast::Stmt) {
            if ($marks).covers(swc_common::Spanned::span(node)) {
                node.visit_children_with($self);
            }
        }
    };
    (@guard expr $self:ident $marks:expr) => {
        fn visit_expr(&mut $self, node: &swc_ecma_ast::Expr) {
            if ($marks).covers(swc_common::Spanned::span(node)) {
                node.visit_children_with($self);
            }
        }
    };
    (@guard pat $self:ident $marks:expr) => {
        fn visit_pat(&mut $self, node: &swc_ecma_ast::Pat) {
            if ($marks).covers(swc_common::Spanned::span(node)) {
                node.visit_children_with($self);
            }
        }
    };
}
pub(crate) use sparse;

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
    Binding(Bid, &'static str),
    /// `object.HEAPx`.
    Mirror(Bid, &'static str),
}

/// What a refresh function builds its views over.
#[derive(Debug, Clone)]
enum Buffer {
    /// `X.toResizableBuffer()`.
    Resizable(Span),
    /// `f()`: whatever `f` returns.
    CallOf(Bid),
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
    calls: Bid,
    returns: Option<Ident>,
}

#[derive(Debug)]
struct FnFacts {
    binding: Option<Bid>,
    refresh: Option<Refresh>,
    helper: Option<HelperShape>,
}

/// The sparse walk over the functions that hold a typed array, a `.buffer` or a resizable
/// buffer: only those can refresh views, be a helper, or return a resizable buffer.
struct Walk<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    /// The name of the function about to be visited (resolved when the function matters).
    pending: Option<Ident>,
    fns: Vec<FnFacts>,
    /// Functions whose whole body is `return X.toResizableBuffer()`.
    returns_resizable: HashMap<Bid, Span>,
}

impl Walk<'_, '_> {
    fn function(&mut self, span: Span, params: Vec<&Pat>, body: FnBody<'_>) {
        let name = self.pending.take();
        let cx = self.cx;
        let binding = || name.as_ref().map(|n| cx.bid(n));
        let stmts: &[Stmt] = match body {
            FnBody::Block(stmts) => stmts,
            FnBody::Expr(expr) => {
                if let Some(call) = resizable_call(expr)
                    && let Some(binding) = binding()
                {
                    self.returns_resizable.insert(binding, call);
                }
                return;
            }
        };
        if let [Stmt::Return(ret)] = stmts
            && let Some(call) = ret.arg.as_deref().and_then(resizable_call)
            && let Some(binding) = binding()
        {
            self.returns_resizable.insert(binding, call);
        }
        let mut own = Own {
            cx,
            marks: self.marks,
            function: span,
            stmts,
            assigns: Vec::new(),
            bare: 0,
        };
        for stmt in self.marks.each(stmts) {
            stmt.visit_with(&mut own);
        }
        let refresh = own.refresh();
        let helper = if params.is_empty() {
            helper_shape(cx, stmts)
        } else {
            None
        };
        if refresh.is_some() || helper.is_some() {
            self.fns.push(FnFacts {
                binding: binding(),
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

impl Visit for Walk<'_, '_> {
    sparse!(self => self.marks);

    fn visit_fn_decl(&mut self, f: &FnDecl) {
        self.pending = Some(f.ident.clone());
        f.function.visit_with(self);
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if !self.marks.covers(d.span) {
            return;
        }
        if let (Pat::Ident(binding), Some(init)) = (&d.name, &d.init)
            && matches!(unparen(init), Expr::Fn(_) | Expr::Arrow(_))
        {
            self.pending = Some(binding.id.clone());
        }
        d.init.visit_with(self);
        self.pending = None;
    }

    fn visit_function(&mut self, f: &Function) {
        if !self.marks.covers(f.span) {
            self.pending = None;
            return;
        }
        if let Some(body) = &f.body {
            let params = f.params.iter().map(|p| &p.pat).collect();
            self.function(f.span, params, FnBody::Block(&body.stmts));
        }
        self.pending = None;
        f.visit_children_with(self);
    }

    fn visit_arrow_expr(&mut self, a: &ArrowExpr) {
        if !self.marks.covers(a.span) {
            self.pending = None;
            return;
        }
        let body = match &*a.body {
            ArrowFunctionBody::FunctionBody(block) => FnBody::Block(&block.stmts),
            ArrowFunctionBody::Expr(expr) => FnBody::Expr(expr),
        };
        self.function(a.span, a.params.iter().collect(), body);
        self.pending = None;
        a.visit_children_with(self);
    }
}

/// A sparse walk over one function's own body (not nested functions or classes).
struct Own<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    /// The function's span and own statements.
    function: Span,
    stmts: &'a [Stmt],
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

impl Own<'_, '_> {
    /// `new Int8Array(X)` with one plain argument: the view and the buffer.
    fn typed_array<'e>(&self, expr: &'e Expr) -> Option<(&'static str, &'e Expr)> {
        let Expr::New(new) = unparen(expr) else {
            return None;
        };
        let Expr::Ident(ctor) = &*new.callee else {
            return None;
        };
        let view = view_of_constructor(&ctor.sym)?;
        if !self.cx.is_global(ctor) {
            return None;
        }
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

    /// What `arg` is as a buffer; a local is what its last initialised declaration before
    /// `at` in this function's own body set it to.
    fn buffer(&self, arg: &Expr, at: Span) -> Buffer {
        let Expr::Ident(ident) = unparen(arg) else {
            return buffer_of(self.cx, unparen(arg));
        };
        let bid = self.cx.bid(ident);
        let marks = self.cx.find_in(self.function, &[Find::Name(&ident.sym)]);
        let mut finder = Declarators {
            cx: self.cx,
            marks: &marks,
            bid: &bid,
            before: self.cx.range(at).start,
            found: None,
        };
        for stmt in marks.each(self.stmts) {
            stmt.visit_with(&mut finder);
        }
        finder.found.map_or(Buffer::Other, |(_, buffer)| buffer)
    }

    /// Whether `ident` is declared in this function (a parameter, a local, in a nested block).
    fn declared_here(&self, ident: &Ident) -> bool {
        let scope = self.cx.scope(ident);
        if scope == ScopeId::GLOBAL || scope == ScopeId::TOP || scope.is_own_name() {
            return false;
        }
        let function = self.cx.range(self.function);
        let at = self.cx.parsed.offset(scope.at());
        function.start <= at && at < function.end
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
                    RawTarget::Binding(ident) if !self.declared_here(ident) => {
                        let name = view_name(&ident.sym);
                        named |= name.is_some();
                        targets.push(Target::Binding(self.cx.bid(ident), name.unwrap_or(view)));
                    }
                    RawTarget::Binding(_) => {}
                    RawTarget::Mirror(object, prop) => {
                        named = true;
                        targets.push(Target::Mirror(self.cx.bid(object), prop));
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

impl Visit for Own<'_, '_> {
    sparse!(self => self.marks);

    fn visit_function(&mut self, _: &Function) {}

    fn visit_arrow_expr(&mut self, _: &ArrowExpr) {}

    fn visit_class(&mut self, _: &Class) {}

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
        let buffer = self.buffer(arg, a.span);
        self.assigns.push((targets, view, buffer));
    }
}

/// Finds the last `var NAME = …` declarator (with a value) of one binding before a position, in
/// one function's own body, and what that value is as a buffer.
struct Declarators<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    bid: &'a Bid,
    /// A text offset.
    before: u32,
    found: Option<(u32, Buffer)>,
}

impl Visit for Declarators<'_, '_> {
    sparse!(self => self.marks);

    fn visit_function(&mut self, _: &Function) {}

    fn visit_arrow_expr(&mut self, _: &ArrowExpr) {}

    fn visit_class(&mut self, _: &Class) {}

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if !self.marks.covers(d.span) {
            return;
        }
        let start = self.cx.range(d.span).start;
        if let (Pat::Ident(binding), Some(init)) = (&d.name, &d.init)
            && start < self.before
            && binding.id.sym == self.bid.0
            && self.cx.bid(&binding.id) == *self.bid
            && self.found.as_ref().is_none_or(|(at, _)| *at < start)
        {
            self.found = Some((start, buffer_of(self.cx, unparen(init))));
        }
        d.init.visit_with(self);
    }
}

/// Counts the scopes a name is bound in.
struct Binders<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    name: &'a Atom,
    scopes: HashSet<ScopeId>,
}

impl Visit for Binders<'_, '_> {
    sparse!(self => self.marks);

    fn visit_binding_ident(&mut self, b: &BindingIdent) {
        if b.id.sym == *self.name {
            self.scopes.insert(self.cx.scope(&b.id));
        }
    }

    fn visit_fn_decl(&mut self, f: &FnDecl) {
        if f.ident.sym == *self.name {
            self.scopes.insert(self.cx.scope(&f.ident));
        }
        f.function.visit_with(self);
    }

    fn visit_class_decl(&mut self, c: &ClassDecl) {
        if c.ident.sym == *self.name {
            self.scopes.insert(self.cx.scope(&c.ident));
        }
        c.class.visit_with(self);
    }
}

/// What a buffer expression is: `X.toResizableBuffer()`, a call `f()`, or anything else.
fn buffer_of(cx: &Context<'_>, expr: &Expr) -> Buffer {
    if let Some(span) = resizable_call(expr) {
        return Buffer::Resizable(span);
    }
    if let Expr::Call(call) = expr
        && call.args.is_empty()
        && let Callee::Expr(callee) = &call.callee
        && let Expr::Ident(f) = unparen(callee)
    {
        return Buffer::CallOf(cx.bid(f));
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
fn helper_shape(cx: &Context<'_>, stmts: &[Stmt]) -> Option<HelperShape> {
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
                Stmt::Expr(e) => called(cx, &e.expr)?,
                Stmt::Block(block) => match block.stmts.as_slice() {
                    [Stmt::Expr(e)] => called(cx, &e.expr)?,
                    _ => return None,
                },
                _ => return None,
            }
        }
        Stmt::Expr(e) => match unparen(&e.expr) {
            Expr::Bin(bin) if bin.op == BinaryOp::LogicalAnd && buffer_compare(&bin.left) => {
                called(cx, &bin.right)?
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
fn called(cx: &Context<'_>, expr: &Expr) -> Option<Bid> {
    let Expr::Call(CallExpr {
        callee: Callee::Expr(callee),
        ..
    }) = unparen(expr)
    else {
        return None;
    };
    match unparen(callee) {
        Expr::Ident(f) => Some(cx.bid(f)),
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
    use crate::passes::Options;
    use crate::source::{Lang, parse};

    /// Parses `text` and hands over its identifiers by name and occurrence.
    fn analyse(text: &str) -> (crate::source::Parsed, Vec<Ident>) {
        let parsed = parse(text, Lang::JavaScript).expect("parses");
        struct Idents(Vec<Ident>);
        impl Visit for Idents {
            fn visit_ident(&mut self, i: &Ident) {
                self.0.push(i.clone());
            }
        }
        let mut idents = Idents(Vec::new());
        parsed.program.visit_with(&mut idents);
        (parsed, idents.0)
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
        let text = "var Module = (() => { return async function (moduleArg = {}) {\n\
               var Module = moduleArg; var wasmMemory, HEAP8, HEAPU8;\n\
               function updateMemoryViews() { var b = wasmMemory.buffer;\n\
                 Module['HEAP8'] = HEAP8 = new Int8Array(b); HEAPU8 = new Uint8Array(b); }\n\
               function f(HEAP8) { return HEAP8; }\n\
               return { HEAP8, HEAPU8 };\n\
             }; })();";
        let (parsed, ids) = analyse(text);
        let options = Options::default();
        let cx = Context::new(text, &parsed, &options);
        let views = cx.views();
        assert_eq!(views.refresh_count(), 1);
        // The factory's `HEAP8`, not the parameter of `f`.
        assert_eq!(views.ident_view(&cx, nth(&ids, "HEAP8", 0)), Some("HEAP8"));
        assert_eq!(views.ident_view(&cx, nth(&ids, "HEAP8", 2)), None);
        assert_eq!(views.ident_view(&cx, nth(&ids, "HEAP8", 4)), Some("HEAP8"));
        assert_eq!(
            views.ident_view(&cx, nth(&ids, "HEAPU8", 2)),
            Some("HEAPU8")
        );
        // `Module` (the factory's) mirrors HEAP8 only.
        let module = nth(&ids, "Module", 1);
        assert_eq!(views.mirror(&cx, module, "HEAP8"), Some("HEAP8"));
        assert_eq!(views.mirror(&cx, module, "HEAPU8"), None);
        assert!(!views.is_mirror_object(&cx, nth(&ids, "Module", 0)));
        assert!(views.resizable().is_none());
    }

    #[test]
    fn closure_renamed_views_take_their_constructor_name() {
        let text = "var ca,J,K,L;function da(){var b=H.buffer;ca=b;a.HEAP8=new Int8Array(b);\
             a.HEAP32=K=new Int32Array(b);J=new Uint8Array(b);new Float64Array(b)}\
             function q(){var J=new Uint8Array(4);return J}";
        let (parsed, ids) = analyse(text);
        let options = Options::default();
        let cx = Context::new(text, &parsed, &options);
        let views = cx.views();
        assert_eq!(views.ident_view(&cx, nth(&ids, "K", 0)), Some("HEAP32"));
        assert_eq!(views.ident_view(&cx, nth(&ids, "J", 1)), Some("HEAPU8"));
        // A local of another function, even one built as a typed array.
        assert_eq!(views.ident_view(&cx, nth(&ids, "J", 2)), None);
        assert_eq!(views.ident_view(&cx, nth(&ids, "L", 0)), None);
        // `ca` is assigned the buffer, not a view.
        assert_eq!(views.ident_view(&cx, nth(&ids, "ca", 0)), None);
        assert_eq!(views.mirror(&cx, nth(&ids, "a", 0), "HEAP8"), Some("HEAP8"));
        assert_eq!(
            views.mirror(&cx, nth(&ids, "a", 0), "HEAP32"),
            Some("HEAP32")
        );
    }

    #[test]
    fn a_function_that_builds_its_own_typed_arrays_is_no_refresh() {
        let text = "function f(n) { var HEAP8, x; HEAP8 = new Int8Array(n); x = new Int32Array(n);\
             return { HEAP8 }; }\nvar y; function g() { y = new Uint8Array(16); }";
        let (parsed, ids) = analyse(text);
        let options = Options::default();
        let cx = Context::new(text, &parsed, &options);
        let views = cx.views();
        assert!(views.refresh_count() == 0);
        assert_eq!(views.ident_view(&cx, nth(&ids, "HEAP8", 2)), None);
        // One renamed target is not enough evidence.
        assert_eq!(views.ident_view(&cx, nth(&ids, "y", 0)), None);
    }

    #[test]
    fn one_named_view_is_enough() {
        // 6.0.4+ keeps only the views the program uses.
        let text = "(function () { var HEAPU8; function updateMemoryViews() { \
             var b = wasmMemory.buffer; HEAPU8 = new Uint8Array(b); } return HEAPU8; })();";
        let (parsed, ids) = analyse(text);
        let options = Options::default();
        let cx = Context::new(text, &parsed, &options);
        let views = cx.views();
        assert_eq!(views.refresh_count(), 1);
        assert_eq!(
            views.refreshed(&cx.bid(nth(&ids, "HEAPU8", 2))),
            Some("HEAPU8")
        );
    }

    #[test]
    fn views_declared_after_the_refresh_function_are_hoisted_bindings() {
        // 5.0.4+: `var HEAP32;` follows `updateMemoryViews` in the library section.
        let text = "var f = async function (moduleArg = {}) { function updateMemoryViews() { \
             var b = wasmMemory.buffer; HEAP8 = new Int8Array(b); HEAP32 = new Int32Array(b); }\n\
             var HEAP32;\nvar HEAP8;\n};";
        let (parsed, ids) = analyse(text);
        let options = Options::default();
        let cx = Context::new(text, &parsed, &options);
        let views = cx.views();
        assert_eq!(
            views.ident_view(&cx, nth(&ids, "HEAP32", 1)),
            Some("HEAP32")
        );
        assert_eq!(views.ident_view(&cx, nth(&ids, "HEAP8", 1)), Some("HEAP8"));
    }

    #[test]
    fn pthreads_helpers_are_recognised_by_shape() {
        let text = "function GROWABLE_HEAP_I8() { if (wasmMemory.buffer != HEAP8.buffer) { \
             updateMemoryViews(); } return HEAP8; }\n\
             function growMemViews() { if (wasmMemory.buffer != HEAP8.buffer) updateMemoryViews(); }\n\
             function c(){h.buffer!=l&&n(h.buffer);return aa}\n\
             function notOne() { if (x.buffer != y) log(); return HEAP8; }\n\
             var HEAP8, aa, bb; function updateMemoryViews() { var b = wasmMemory.buffer; \
             HEAP8 = new Int8Array(b); }\n\
             function n(b){l=b;aa=new Uint8Array(b);bb=new Int32Array(b)}";
        let (parsed, ids) = analyse(text);
        let options = Options::default();
        let cx = Context::new(text, &parsed, &options);
        let views = cx.views();
        assert_eq!(
            views.helper(&cx, nth(&ids, "GROWABLE_HEAP_I8", 0)),
            Some(Helper::View("HEAP8"))
        );
        assert_eq!(
            views.helper(&cx, nth(&ids, "growMemViews", 0)),
            Some(Helper::Check)
        );
        assert_eq!(
            views.helper(&cx, nth(&ids, "c", 0)),
            Some(Helper::View("HEAPU8"))
        );
        assert_eq!(views.helper(&cx, nth(&ids, "notOne", 0)), None);
        let heap8 = nth(&ids, "HEAP8", 0);
        assert_eq!(
            views.protected_read(&cx, "HEAP8", "HEAP8", cx.scope(heap8), false),
            Some("GROWABLE_HEAP_I8()".to_owned())
        );
        assert_eq!(
            views.protected_read(&cx, "HEAP16", "HEAP16", cx.scope(heap8), true),
            Some("(growMemViews(),HEAP16)".to_owned())
        );
        // Not in another scope, nor for a global.
        assert_eq!(
            views.protected_read(&cx, "HEAP8", "HEAP8", ScopeId::GLOBAL, false),
            None
        );
    }

    #[test]
    fn a_view_without_its_own_helper_is_read_after_another_one() {
        // ≤4.0.8 never wrapped HEAP64: any helper refreshes every view.
        let text = "var HEAP8, HEAP64; function updateMemoryViews() { var b = wasmMemory.buffer;              HEAP8 = new Int8Array(b); HEAP64 = new BigInt64Array(b); }
             function GROWABLE_HEAP_I8() { if (wasmMemory.buffer != HEAP8.buffer) {              updateMemoryViews(); } return HEAP8; }
             function f(GROWABLE_HEAP_X) {}";
        let (parsed, ids) = analyse(text);
        let options = Options::default();
        let cx = Context::new(text, &parsed, &options);
        let views = cx.views();
        let heap64 = nth(&ids, "HEAP64", 0);
        assert_eq!(
            views.protected_read(&cx, "HEAP64", "HEAP64", cx.scope(heap64), false),
            Some("(GROWABLE_HEAP_I8(), HEAP64)".to_owned())
        );
    }

    #[test]
    fn a_helper_whose_name_is_bound_twice_is_not_used() {
        let text = "var HEAP8; function updateMemoryViews() { var b = wasmMemory.buffer;              HEAP8 = new Int8Array(b); }
             function growMemViews() { if (wasmMemory.buffer != HEAP8.buffer) updateMemoryViews(); }
             function g(growMemViews) { return { HEAP8 }; }";
        let (parsed, ids) = analyse(text);
        let options = Options::default();
        let cx = Context::new(text, &parsed, &options);
        let views = cx.views();
        let heap8 = nth(&ids, "HEAP8", 0);
        assert_eq!(
            views.helper(&cx, nth(&ids, "growMemViews", 0)),
            Some(Helper::Check)
        );
        assert_eq!(
            views.protected_read(&cx, "HEAP8", "HEAP8", cx.scope(heap8), false),
            None
        );
    }

    #[test]
    fn resizable_buffers_are_noticed() {
        let direct = "var HEAP8, HEAP32; function updateMemoryViews() { \
             var b = wasmMemory.toResizableBuffer(); HEAP8 = new Int8Array(b); \
             HEAP32 = new Int32Array(b); }";
        let resizable = |text: &str| {
            let (parsed, _) = analyse(text);
            let options = Options::default();
            let cx = Context::new(text, &parsed, &options);
            cx.views().resizable().is_some()
        };
        assert!(resizable(direct));
        let through = "var HEAP8; function getMemoryBuffer() { return wasmMemory.toResizableBuffer(); }\n\
             function updateMemoryViews() { if (HEAP8?.buffer?.resizable) return; \
             var b = getMemoryBuffer(); HEAP8 = new Int8Array(b); }";
        assert!(resizable(through));
        // 6.0.2+ GROWABLE_ARRAYBUFFERS=1: a runtime fallback to the plain buffer.
        let runtime = "var HEAP8; function getMemoryBuffer() { try { \
             var b = wasmMemory.toResizableBuffer(); return b; } catch {} return wasmMemory.buffer; }\n\
             function updateMemoryViews() { var b = getMemoryBuffer(); HEAP8 = new Int8Array(b); }";
        assert!(!resizable(runtime));
    }
}
