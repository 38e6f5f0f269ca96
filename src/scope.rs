//! Which declaration a name refers to, worked out from the AST when a pass asks.
//!
//! swc's resolver marks every identifier of a file with its binding, which costs a walk over
//! the whole AST (two thirds of a parse on 1 MB glue). growsafe only ever asks about a few
//! identifiers: the views, the variables that keep them, the objects that carry them. So it
//! resolves on demand: [`Scopes::resolve`] descends from the root to the identifier (binary
//! search through statement and property lists, so a query costs the depth of the tree, not
//! its size), collects the scopes on the way, and looks the name up in each, innermost first.
//! A scope's declarations are collected once, statement by statement without entering
//! expressions (`var` hoists out of blocks, not out of functions), and cached.
//!
//! The answer is a [`ScopeId`]: the program's top level ([`ScopeId::TOP`]), no declaration at
//! all ([`ScopeId::GLOBAL`]), or the scope node that declares the name. Two identifiers refer
//! to the same binding when their names and scopes are equal ([`Bid`]).
//!
//! The rules follow the language and swc's resolver where they differ only in corner cases:
//! parameters and the body of a function share a scope; a `catch` parameter and the catch
//! block share one; a class declaration's name is bound around it, a class or function
//! expression's name inside it; in sloppy code a function declared in a block is also hoisted
//! to the enclosing function. Type-only TypeScript declarations bind nothing.

use std::sync::{Arc, Mutex, PoisonError};

use rustc_hash::FxHashMap as HashMap;
use swc_atoms::Atom;
use swc_common::{BytePos, Span, Spanned};
use swc_ecma_ast::{
    ArrowExpr, ArrowFunctionBody, BlockStmt, CatchClause, Class, ClassDecl, ClassExpr, ClassMember,
    Constructor, Decl, DefaultDecl, ExportDefaultDecl, Expr, ExprOrSpread, FnDecl, FnExpr, ForHead,
    ForInStmt, ForOfStmt, ForStmt, Function, Ident, ImportSpecifier, ModuleDecl, ModuleItem,
    ObjectPatProp, Param, ParamOrTsParamProp, Pat, Program, PropOrSpread, StaticBlock, Stmt,
    SwitchCase, SwitchStmt, TsModuleDecl, TsModuleName, TsNamespaceBody, TsParamPropParam, VarDecl,
    VarDeclKind, VarDeclOrExpr, VarDeclarator,
};
use swc_ecma_visit::{Visit, VisitWith};

use crate::patch::Patches;

/// The scope that declares a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeId(u64);

impl ScopeId {
    /// No declaration: a global (or an undeclared name).
    pub const GLOBAL: ScopeId = ScopeId(0);
    /// The program's top level.
    pub const TOP: ScopeId = ScopeId(1);

    fn of(kind: FrameKind, at: BytePos) -> ScopeId {
        ScopeId((u64::from(at.0) << 4) | kind as u64)
    }

    /// Where the scope's node starts (for [`ScopeId::GLOBAL`] and [`ScopeId::TOP`]: 0).
    pub fn at(self) -> BytePos {
        BytePos(u32::try_from(self.0 >> 4).expect("built from a BytePos"))
    }

    /// Whether this is the scope of a function, an arrow or a constructor.
    pub fn is_function(self) -> bool {
        let kind = self.0 & 0xf;
        kind == FrameKind::Function as u64
            || kind == FrameKind::Arrow as u64
            || kind == FrameKind::Constructor as u64
    }

    /// Whether this is the scope of a function or class expression's own name.
    pub fn is_own_name(self) -> bool {
        self.0 & 0xf == FrameKind::OwnName as u64
    }
}

/// A binding: a name and the scope that declares it (the on-demand counterpart of swc's `Id`).
pub(crate) type Bid = (Atom, ScopeId);

/// How a name is declared in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    /// `var`, or a `var`-like binding (a sloppy-mode block function hoisted out of its block).
    Var,
    /// `let`, `const`, `using`.
    Lexical,
    /// A function or arrow parameter, a constructor parameter property.
    Param,
    /// A `catch` parameter.
    Catch,
    /// A function declaration.
    Function,
    /// A class declaration.
    Class,
    /// An import.
    Import,
    /// The own name of a function or class expression.
    OwnName,
    /// A TypeScript `enum`, `namespace` or `import x = …`.
    TsValue,
}

/// A name's declaration in a scope: how, and where its (first) binding identifier starts.
#[derive(Debug, Clone, Copy)]
pub struct DeclInfo {
    pub kind: DeclKind,
    pub site: BytePos,
}

type Decls = HashMap<Atom, DeclInfo>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum FrameKind {
    Function = 2,
    Arrow,
    Constructor,
    StaticBlock,
    Block,
    Catch,
    For,
    Switch,
    OwnName,
    TsModule,
}

/// A scope on the way from the root to an identifier.
#[derive(Debug, Clone, Copy)]
enum Frame<'a> {
    Program(&'a Program),
    Function(&'a Function),
    Arrow(&'a ArrowExpr),
    Constructor(&'a Constructor),
    StaticBlock(&'a StaticBlock),
    Block(&'a [Stmt], Span),
    Catch(&'a CatchClause),
    For(Option<&'a VarDecl>, Span),
    Switch(&'a SwitchStmt),
    OwnName(&'a Ident),
    TsModule(&'a [ModuleItem], Span),
}

impl Frame<'_> {
    fn id(self) -> ScopeId {
        let (kind, span) = match self {
            Frame::Program(_) => return ScopeId::TOP,
            Frame::Function(f) => (FrameKind::Function, f.span),
            Frame::Arrow(a) => (FrameKind::Arrow, a.span),
            Frame::Constructor(c) => (FrameKind::Constructor, c.span),
            Frame::StaticBlock(b) => (FrameKind::StaticBlock, b.span),
            Frame::Block(_, span) => (FrameKind::Block, span),
            Frame::Catch(c) => (FrameKind::Catch, c.span),
            Frame::For(_, span) => (FrameKind::For, span),
            Frame::Switch(s) => (FrameKind::Switch, s.span),
            Frame::OwnName(i) => (FrameKind::OwnName, i.span),
            Frame::TsModule(_, span) => (FrameKind::TsModule, span),
        };
        ScopeId::of(kind, span.lo)
    }
}

/// The on-demand resolver of one parsed file.
pub struct Scopes<'a> {
    program: &'a Program,
    /// The re-parsed nodes of a patched AST: a position inside one is reached through its
    /// anchor (see [`crate::patch`]).
    patches: &'a Patches,
    /// Declarations of the scopes met so far.
    /// (Behind locks: the passes of a round share one `Scopes` across threads.)
    decls: Mutex<HashMap<ScopeId, Arc<Decls>>>,
    /// Answers so far, by the identifier's start.
    resolved: Mutex<HashMap<BytePos, ScopeId>>,
}

impl<'a> Scopes<'a> {
    pub fn new(program: &'a Program, patches: &'a Patches) -> Self {
        Scopes {
            program,
            patches,
            decls: Mutex::default(),
            resolved: Mutex::default(),
        }
    }

    /// The scope that declares `ident` (an identifier of this file's AST, at its position).
    pub fn resolve(&self, ident: &Ident) -> ScopeId {
        let at = ident.span.lo;
        if let Some(&scope) = lock(&self.resolved).get(&at) {
            return scope;
        }
        self.resolve_range(at, at + BytePos(1));
        let scope = lock(&self.resolved).get(&at).copied();
        scope.unwrap_or_else(|| {
            // Not found where its span says (a node whose span does not cover its children):
            // resolved by name from the top.
            let top = lock(&self.decls).get(&ScopeId::TOP).cloned();
            let scope = match top {
                Some(decls) if decls.contains_key(&ident.sym) => ScopeId::TOP,
                _ => ScopeId::GLOBAL,
            };
            lock(&self.resolved).insert(at, scope);
            scope
        })
    }

    /// `ident`'s binding.
    pub fn bid(&self, ident: &Ident) -> Bid {
        (ident.sym.clone(), self.resolve(ident))
    }

    /// Resolves every identifier inside `span` in one walk (worth it before asking about many
    /// of them: a function a pass analyses as a whole).
    pub fn prime(&self, span: Span) {
        self.resolve_range(span.lo, span.hi);
    }

    /// Resolves every identifier that holds one of `points` (sorted) in one walk.
    pub fn prime_points(&self, points: &[BytePos]) {
        self.walk(self.targets(points.to_vec(), Vec::new()));
    }

    /// Where the innermost function, arrow or constructor around `ident` starts (`None` at the
    /// program level), e.g. for a declaration's identifier.
    pub fn enclosing_function(&self, at: BytePos) -> Option<BytePos> {
        self.walk(self.targets(vec![at], Vec::new())).flatten()
    }

    /// How `name` is declared in `scope`, if it is (a scope met by an earlier question).
    pub fn declaration(&self, scope: ScopeId, name: &Atom) -> Option<DeclInfo> {
        lock(&self.decls).get(&scope)?.get(name).copied()
    }

    fn resolve_range(&self, lo: BytePos, hi: BytePos) {
        self.walk(self.targets(Vec::new(), vec![Span::new(lo, hi)]));
    }

    /// Targets, with the anchors through which virtual ones are reached.
    fn targets(&self, mut points: Vec<BytePos>, mut ranges: Vec<Span>) -> Targets {
        let mut guides = Vec::new();
        if !self.patches.is_empty() {
            guides.extend(points.iter().filter_map(|&p| self.patches.anchor_of(p)));
            let inside: Vec<Span> = ranges
                .iter()
                .flat_map(|&r| self.patches.inside(r))
                .collect();
            guides.extend(ranges.iter().filter_map(|r| self.patches.anchor_of(r.lo)));
            guides.extend(inside.iter().filter_map(|r| self.patches.anchor_of(r.lo)));
            ranges.extend(inside);
        }
        points.sort_unstable();
        guides.sort_unstable();
        guides.dedup();
        Targets {
            points,
            ranges,
            guides,
        }
    }

    /// Resolves the targeted identifiers; for one point, also tells where the innermost
    /// function around it starts.
    fn walk(&self, targets: Targets) -> Option<Option<BytePos>> {
        let mut out = HashMap::default();
        let (lo, hi) = targets.bounds();
        let mut descent = Descent {
            targets,
            lo,
            hi,
            frames: Vec::new(),
            strict: Vec::new(),
            cache: &self.decls,
            out: &mut out,
            function_at: None,
        };
        descent.enter(Frame::Program(self.program), program_strict(self.program));
        match self.program {
            Program::Module(m) => descent.visit_module_items(&m.body),
            Program::Script(s) => descent.visit_stmts(&s.body),
        }
        let function_at = descent.function_at;
        lock(&self.resolved).extend(out);
        function_at
    }
}

/// Locks one of the caches; a panic elsewhere cannot leave them inconsistent (each update is
/// one insertion), so a poisoned lock is used as is.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether the program is strict from its start (a module, or `"use strict"` first).
fn program_strict(program: &Program) -> bool {
    match program {
        Program::Module(_) => true,
        Program::Script(s) => s.body.first().is_some_and(Stmt::is_use_strict),
    }
}

/// The names a scope declares.
fn declarations(frame: Frame<'_>, strict: bool) -> Decls {
    let mut out = Collector {
        strict,
        ..Collector::default()
    };
    match frame {
        Frame::Program(program) => match program {
            Program::Module(m) => out.items(&m.body),
            Program::Script(s) => out.stmts(&s.body, false),
        },
        Frame::Function(f) => {
            for param in &f.params {
                out.pat(&param.pat, DeclKind::Param);
            }
            if let Some(body) = &f.body {
                out.stmts(&body.stmts, false);
            }
        }
        Frame::Arrow(a) => {
            for param in &a.params {
                out.pat(param, DeclKind::Param);
            }
            if let ArrowFunctionBody::FunctionBody(body) = &*a.body {
                out.stmts(&body.stmts, false);
            }
        }
        Frame::Constructor(c) => {
            for param in &c.params {
                match param {
                    ParamOrTsParamProp::Param(p) => out.pat(&p.pat, DeclKind::Param),
                    ParamOrTsParamProp::TsParamProp(p) => match &p.param {
                        TsParamPropParam::Ident(b) => out.add(&b.id, DeclKind::Param),
                        TsParamPropParam::Assign(a) => out.pat(&a.left, DeclKind::Param),
                    },
                }
            }
            if let Some(body) = &c.body {
                out.stmts(&body.stmts, false);
            }
        }
        Frame::StaticBlock(b) => out.stmts(&b.body.stmts, false),
        Frame::Block(stmts, _) => out.lexical(stmts),
        Frame::Catch(c) => {
            if let Some(param) = &c.param {
                out.pat(param, DeclKind::Catch);
            }
            out.lexical(&c.body.stmts);
        }
        Frame::For(head, _) => {
            if let Some(var) = head
                && var.kind != VarDeclKind::Var
            {
                for d in &var.decls {
                    out.pat(&d.name, DeclKind::Lexical);
                }
            }
        }
        Frame::Switch(s) => {
            for case in &s.cases {
                out.lexical(&case.cons);
            }
        }
        Frame::OwnName(ident) => out.add(ident, DeclKind::OwnName),
        Frame::TsModule(items, _) => out.items(items),
    }
    out.decls
}

/// Collects the declarations of one scope.
#[derive(Default)]
struct Collector {
    decls: Decls,
    strict: bool,
}

impl Collector {
    fn add(&mut self, ident: &Ident, kind: DeclKind) {
        self.decls.entry(ident.sym.clone()).or_insert(DeclInfo {
            kind,
            site: ident.span.lo,
        });
    }

    /// The binding identifiers of a pattern (not those of default values or computed keys).
    fn pat(&mut self, pat: &Pat, kind: DeclKind) {
        match pat {
            Pat::Ident(b) => self.add(&b.id, kind),
            Pat::Array(a) => {
                for elem in a.elems.iter().flatten() {
                    self.pat(elem, kind);
                }
            }
            Pat::Rest(r) => self.pat(&r.arg, kind),
            Pat::Object(o) => {
                for prop in &o.props {
                    match prop {
                        ObjectPatProp::KeyValue(kv) => self.pat(&kv.value, kind),
                        ObjectPatProp::Assign(a) => self.add(&a.key.id, kind),
                        ObjectPatProp::Rest(r) => self.pat(&r.arg, kind),
                    }
                }
            }
            Pat::Assign(a) => self.pat(&a.left, kind),
            Pat::Expr(_) | Pat::Invalid(_) => {}
        }
    }

    fn var_decl(&mut self, var: &VarDecl, direct: bool) {
        let kind = if var.kind == VarDeclKind::Var {
            DeclKind::Var
        } else if direct {
            DeclKind::Lexical
        } else {
            return;
        };
        for d in &var.decls {
            self.pat(&d.name, kind);
        }
    }

    fn items(&mut self, items: &[ModuleItem]) {
        for item in items {
            match item {
                ModuleItem::Stmt(stmt) => self.stmt(stmt, false),
                ModuleItem::ModuleDecl(decl) => match decl {
                    ModuleDecl::Import(import) => {
                        // Type-only imports too (as swc's resolver does): a name is one binding.
                        for spec in &import.specifiers {
                            let local = match spec {
                                ImportSpecifier::Named(n) => &n.local,
                                ImportSpecifier::Default(d) => &d.local,
                                ImportSpecifier::Namespace(n) => &n.local,
                            };
                            self.add(local, DeclKind::Import);
                        }
                    }
                    ModuleDecl::ExportDecl(export) => self.decl(&export.decl, false),
                    ModuleDecl::ExportDefaultDecl(ExportDefaultDecl { decl, .. }) => match decl {
                        DefaultDecl::Fn(FnExpr {
                            ident: Some(ident), ..
                        }) => self.add(ident, DeclKind::Function),
                        DefaultDecl::Class(ClassExpr {
                            ident: Some(ident), ..
                        }) => self.add(ident, DeclKind::Class),
                        _ => {}
                    },
                    ModuleDecl::TsImportEquals(import) if !import.is_type_only => {
                        self.add(&import.id, DeclKind::TsValue);
                    }
                    _ => {}
                },
            }
        }
    }

    /// A var scope's statement list: every `var` below it (not in nested functions), and its
    /// direct lexical declarations.
    fn stmts(&mut self, stmts: &[Stmt], in_block: bool) {
        for stmt in stmts {
            self.stmt(stmt, in_block);
        }
    }

    fn decl(&mut self, decl: &Decl, in_block: bool) {
        match decl {
            Decl::Var(var) => self.var_decl(var, !in_block),
            // Block-scoped in strict code; sloppy code also hoists it out of the block.
            Decl::Fn(f) if !in_block || !self.strict => self.add(&f.ident, DeclKind::Function),
            Decl::Class(c) if !in_block => self.add(&c.ident, DeclKind::Class),
            Decl::Using(u) if !in_block => {
                for d in &u.decls {
                    self.pat(&d.name, DeclKind::Lexical);
                }
            }
            Decl::TsEnum(e) if !in_block => self.add(&e.id, DeclKind::TsValue),
            Decl::TsModule(m) if !in_block => {
                if let TsModuleName::Ident(id) = &m.id {
                    self.add(id, DeclKind::TsValue);
                }
            }
            _ => {}
        }
    }

    fn stmt(&mut self, stmt: &Stmt, in_block: bool) {
        match stmt {
            Stmt::Decl(decl) => self.decl(decl, in_block),
            Stmt::Block(b) => self.stmts(&b.stmts, true),
            Stmt::If(s) => {
                self.stmt(&s.cons, true);
                if let Some(alt) = &s.alt {
                    self.stmt(alt, true);
                }
            }
            Stmt::For(s) => {
                if let Some(VarDeclOrExpr::VarDecl(var)) = &s.init {
                    self.var_decl(var, false);
                }
                self.stmt(&s.body, true);
            }
            Stmt::ForIn(ForInStmt { left, body, .. })
            | Stmt::ForOf(ForOfStmt { left, body, .. }) => {
                if let ForHead::VarDecl(var) = left {
                    self.var_decl(var, false);
                }
                self.stmt(body, true);
            }
            Stmt::While(s) => self.stmt(&s.body, true),
            Stmt::DoWhile(s) => self.stmt(&s.body, true),
            Stmt::Labeled(s) => self.stmt(&s.body, in_block),
            Stmt::With(s) => self.stmt(&s.body, true),
            Stmt::Try(t) => {
                self.stmts(&t.block.stmts, true);
                if let Some(handler) = &t.handler {
                    self.stmts(&handler.body.stmts, true);
                }
                if let Some(finalizer) = &t.finalizer {
                    self.stmts(&finalizer.stmts, true);
                }
            }
            Stmt::Switch(s) => {
                for case in &s.cases {
                    self.stmts(&case.cons, true);
                }
            }
            _ => {}
        }
    }

    /// A block's own declarations: `let`, `const`, `class`, functions.
    fn lexical(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            let Stmt::Decl(decl) = stmt else { continue };
            match decl {
                Decl::Var(var) if var.kind != VarDeclKind::Var => {
                    for d in &var.decls {
                        self.pat(&d.name, DeclKind::Lexical);
                    }
                }
                Decl::Fn(f) => self.add(&f.ident, DeclKind::Function),
                Decl::Class(c) => self.add(&c.ident, DeclKind::Class),
                Decl::Using(u) => {
                    for d in &u.decls {
                        self.pat(&d.name, DeclKind::Lexical);
                    }
                }
                _ => {}
            }
        }
    }
}

/// What a [`Descent`] resolves: every identifier that holds one of `points`, every identifier
/// starting in one of `ranges`; `guides` only lead the walk (the anchors of virtual targets).
struct Targets {
    /// Sorted.
    points: Vec<BytePos>,
    ranges: Vec<Span>,
    /// Sorted.
    guides: Vec<BytePos>,
}

impl Targets {
    /// The bounds of everything targeted.
    fn bounds(&self) -> (BytePos, BytePos) {
        let lows = self
            .points
            .iter()
            .chain(&self.guides)
            .copied()
            .chain(self.ranges.iter().map(|r| r.lo));
        let highs = self
            .points
            .iter()
            .chain(&self.guides)
            .map(|p| *p + BytePos(1))
            .chain(self.ranges.iter().map(|r| r.hi));
        match (lows.min(), highs.max()) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => (BytePos(0), BytePos(0)),
        }
    }

    /// Whether `span` holds a target or a guide (for a range: overlaps it).
    fn covers(&self, span: Span) -> bool {
        let holds = |points: &[BytePos]| {
            let i = points.partition_point(|p| *p < span.lo);
            points.get(i).is_some_and(|p| *p < span.hi)
        };
        holds(&self.points)
            || self.ranges.iter().any(|r| span.lo < r.hi && r.lo < span.hi)
            || holds(&self.guides)
    }

    /// Whether the identifier spanning `span` is targeted.
    fn wants(&self, span: Span) -> bool {
        let i = self.points.partition_point(|p| *p < span.lo);
        self.points.get(i).is_some_and(|p| *p < span.hi)
            || self
                .ranges
                .iter()
                .any(|r| r.lo <= span.lo && span.lo < r.hi)
    }
}

/// Walks the parts of the AST that hold the targets, keeping the scopes around the node being
/// visited, and resolves every targeted identifier.
struct Descent<'s> {
    targets: Targets,
    /// `targets.bounds()`.
    lo: BytePos,
    hi: BytePos,
    /// The scopes around the node being visited, innermost last, with their declarations.
    frames: Vec<(ScopeId, Arc<Decls>)>,
    /// Whether the code being visited is strict.
    strict: Vec<bool>,
    cache: &'s Mutex<HashMap<ScopeId, Arc<Decls>>>,
    /// Every identifier resolved, by its start.
    out: &'s mut HashMap<BytePos, ScopeId>,
    /// For the last identifier resolved: where the innermost function around it starts.
    function_at: Option<Option<BytePos>>,
}

impl Descent<'_> {
    fn covers(&self, span: Span) -> bool {
        span.lo < self.hi && self.lo < span.hi && self.targets.covers(span)
    }

    /// Enters a scope, collecting its declarations the first time it is met.
    fn enter(&mut self, frame: Frame<'_>, directive: bool) {
        let strict = directive || self.strict.last().copied().unwrap_or(false);
        let id = frame.id();
        let known = lock(self.cache).get(&id).cloned();
        // Collected outside the lock (another thread may collect the same scope meanwhile:
        // the first one stored wins, and both are the same).
        let decls = known.unwrap_or_else(|| {
            let decls = Arc::new(declarations(frame, strict));
            Arc::clone(lock(self.cache).entry(id).or_insert(decls))
        });
        self.frames.push((id, decls));
        self.strict.push(strict);
    }

    fn leave(&mut self) {
        self.frames.pop();
        self.strict.pop();
    }

    /// Visits `inner` inside `frame`.
    fn within(&mut self, frame: Frame<'_>, directive: bool, inner: impl FnOnce(&mut Self)) {
        self.enter(frame, directive);
        inner(self);
        self.leave();
    }

    /// Visits `inner` in strict code (a class body).
    fn strictly(&mut self, inner: impl FnOnce(&mut Self)) {
        self.strict.push(true);
        inner(self);
        self.strict.pop();
    }

    fn lookup(&self, name: &Atom) -> ScopeId {
        self.frames
            .iter()
            .rev()
            .find(|(_, decls)| decls.contains_key(name))
            .map_or(ScopeId::GLOBAL, |(id, _)| *id)
    }

    /// `namespace A.B { … }`: `B` is declared inside `A`, the items inside `B`.
    fn namespace_body(&mut self, body: &TsNamespaceBody) {
        match body {
            TsNamespaceBody::TsModuleBlock(block) => {
                self.within(Frame::TsModule(&block.body, block.span), false, |d| {
                    block.body.visit_with(d);
                });
            }
            TsNamespaceBody::TsNamespaceDecl(ns) => {
                self.within(Frame::OwnName(&ns.id), false, |d| {
                    d.visit_ident(&ns.id);
                    d.namespace_body(&ns.body);
                });
            }
        }
    }
}

/// Whether a body starts with a `"use strict"` directive.
fn directive(stmts: &[Stmt]) -> bool {
    stmts.first().is_some_and(Stmt::is_use_strict)
}

macro_rules! list {
    ($name:ident, $ty:ty) => {
        fn $name(&mut self, list: &[$ty]) {
            let first = list.partition_point(|e| e.span().hi <= self.lo);
            for item in &list[first..] {
                let span = item.span();
                if span.lo >= self.hi {
                    break;
                }
                if self.targets.covers(span) {
                    item.visit_with(self);
                }
            }
        }
    };
}

macro_rules! prune {
    ($name:ident, $ty:ty) => {
        fn $name(&mut self, node: &$ty) {
            if self.covers(node.span()) {
                node.visit_children_with(self);
            }
        }
    };
}

impl Visit for Descent<'_> {
    list!(visit_stmts, Stmt);
    list!(visit_module_items, ModuleItem);
    list!(visit_prop_or_spreads, PropOrSpread);
    list!(visit_expr_or_spreads, ExprOrSpread);
    list!(visit_exprs, Box<Expr>);
    list!(visit_class_members, ClassMember);
    list!(visit_var_declarators, VarDeclarator);
    list!(visit_switch_cases, SwitchCase);
    list!(visit_params, Param);
    list!(visit_pats, Pat);
    list!(visit_object_pat_props, ObjectPatProp);

    prune!(visit_stmt, Stmt);
    prune!(visit_module_item, ModuleItem);
    prune!(visit_expr, Expr);
    prune!(visit_pat, Pat);
    prune!(visit_prop_or_spread, PropOrSpread);
    prune!(visit_class_member, ClassMember);
    prune!(visit_decl, Decl);
    prune!(visit_var_declarator, VarDeclarator);
    prune!(visit_expr_or_spread, ExprOrSpread);
    prune!(visit_param, Param);

    fn visit_ident(&mut self, ident: &Ident) {
        if self.targets.wants(ident.span) {
            let scope = self.lookup(&ident.sym);
            self.out.insert(ident.span.lo, scope);
            self.function_at = Some(
                self.frames
                    .iter()
                    .rev()
                    .map(|(id, _)| *id)
                    .find(|id| id.is_function())
                    .map(ScopeId::at),
            );
        }
    }

    fn visit_class(&mut self, c: &Class) {
        if self.covers(c.span) {
            self.strictly(|d| c.visit_children_with(d));
        }
    }

    fn visit_fn_decl(&mut self, f: &FnDecl) {
        if !self.covers(f.span()) {
            return;
        }
        self.visit_ident(&f.ident);
        f.function.visit_with(self);
    }

    fn visit_fn_expr(&mut self, f: &FnExpr) {
        if !self.covers(f.span()) {
            return;
        }
        match &f.ident {
            Some(ident) => self.within(Frame::OwnName(ident), false, |d| {
                d.visit_ident(ident);
                f.function.visit_with(d);
            }),
            None => f.function.visit_with(self),
        }
    }

    /// `export default function f() {}` / `class C {}` declare their name in the module.
    fn visit_export_default_decl(&mut self, e: &ExportDefaultDecl) {
        if !self.covers(e.span) {
            return;
        }
        match &e.decl {
            DefaultDecl::Fn(f) => {
                f.ident.visit_with(self);
                f.function.visit_with(self);
            }
            DefaultDecl::Class(c) => {
                c.ident.visit_with(self);
                c.class.visit_with(self);
            }
            DefaultDecl::TsInterfaceDecl(_) => {}
        }
    }

    fn visit_class_decl(&mut self, c: &ClassDecl) {
        if !self.covers(c.span()) {
            return;
        }
        self.visit_ident(&c.ident);
        c.class.visit_with(self);
    }

    fn visit_class_expr(&mut self, c: &ClassExpr) {
        if !self.covers(c.span()) {
            return;
        }
        match &c.ident {
            Some(ident) => self.within(Frame::OwnName(ident), false, |d| {
                d.visit_ident(ident);
                c.class.visit_with(d);
            }),
            None => c.class.visit_with(self),
        }
    }

    fn visit_function(&mut self, f: &Function) {
        if !self.covers(f.span) {
            return;
        }
        f.decorators.visit_with(self);
        let strict = f.body.as_ref().is_some_and(|b| directive(&b.stmts));
        self.within(Frame::Function(f), strict, |d| {
            f.params.visit_with(d);
            f.body.visit_with(d);
            f.type_params.visit_with(d);
            f.return_type.visit_with(d);
        });
    }

    fn visit_arrow_expr(&mut self, a: &ArrowExpr) {
        if !self.covers(a.span) {
            return;
        }
        let strict = matches!(&*a.body, ArrowFunctionBody::FunctionBody(b) if directive(&b.stmts));
        self.within(Frame::Arrow(a), strict, |d| a.visit_children_with(d));
    }

    fn visit_constructor(&mut self, c: &Constructor) {
        if !self.covers(c.span) {
            return;
        }
        c.key.visit_with(self);
        self.within(Frame::Constructor(c), false, |d| {
            c.params.visit_with(d);
            c.body.visit_with(d);
        });
    }

    fn visit_static_block(&mut self, b: &StaticBlock) {
        if !self.covers(b.span) {
            return;
        }
        self.within(Frame::StaticBlock(b), false, |d| b.body.stmts.visit_with(d));
    }

    fn visit_block_stmt(&mut self, b: &BlockStmt) {
        if !self.covers(b.span) {
            return;
        }
        self.within(Frame::Block(&b.stmts, b.span), false, |d| {
            b.stmts.visit_with(d);
        });
    }

    fn visit_catch_clause(&mut self, c: &CatchClause) {
        if !self.covers(c.span) {
            return;
        }
        self.within(Frame::Catch(c), false, |d| {
            c.param.visit_with(d);
            c.body.stmts.visit_with(d);
        });
    }

    fn visit_for_stmt(&mut self, s: &ForStmt) {
        if !self.covers(s.span) {
            return;
        }
        let head = match &s.init {
            Some(VarDeclOrExpr::VarDecl(var)) => Some(&**var),
            _ => None,
        };
        self.within(Frame::For(head, s.span), false, |d| {
            s.visit_children_with(d)
        });
    }

    fn visit_for_in_stmt(&mut self, s: &ForInStmt) {
        if !self.covers(s.span) {
            return;
        }
        let head = match &s.left {
            ForHead::VarDecl(var) => Some(&**var),
            _ => None,
        };
        self.within(Frame::For(head, s.span), false, |d| {
            s.visit_children_with(d)
        });
    }

    fn visit_for_of_stmt(&mut self, s: &ForOfStmt) {
        if !self.covers(s.span) {
            return;
        }
        let head = match &s.left {
            ForHead::VarDecl(var) => Some(&**var),
            _ => None,
        };
        self.within(Frame::For(head, s.span), false, |d| {
            s.visit_children_with(d)
        });
    }

    fn visit_switch_stmt(&mut self, s: &SwitchStmt) {
        if !self.covers(s.span) {
            return;
        }
        s.discriminant.visit_with(self);
        self.within(Frame::Switch(s), false, |d| s.cases.visit_with(d));
    }

    fn visit_ts_module_decl(&mut self, m: &TsModuleDecl) {
        if !self.covers(m.span) {
            return;
        }
        m.id.visit_with(self);
        if let Some(body) = &m.body {
            self.namespace_body(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Lang, parse};

    /// Every identifier of `text` as `(name, scope)`, in source order.
    fn resolve_all(text: &str) -> Vec<(String, ScopeId)> {
        let parsed = parse(text, Lang::JavaScript).expect("parses");
        let scopes = Scopes::new(&parsed.program, &parsed.patches);
        let mut idents = Vec::new();
        collect_idents(&parsed.program, &mut idents);
        idents
            .iter()
            .map(|i| (i.sym.to_string(), scopes.resolve(i)))
            .collect()
    }

    fn collect_idents(program: &Program, out: &mut Vec<Ident>) {
        struct All<'o>(&'o mut Vec<Ident>);
        impl Visit for All<'_> {
            fn visit_ident(&mut self, i: &Ident) {
                self.0.push(i.clone());
            }
        }
        program.visit_with(&mut All(out));
    }

    fn same(r: &[(String, ScopeId)], a: usize, b: usize) -> bool {
        r[a] == r[b]
    }

    #[test]
    fn hoisting_and_blocks() {
        // f, x, g, x, y, x, x, y
        let r = resolve_all("function f() { x; { var x; let y; g(y); } x; y; }\nvar x;");
        let names: Vec<&str> = r.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["f", "x", "x", "y", "g", "y", "x", "y", "x"]);
        assert_eq!(r[0].1, ScopeId::TOP);
        // The function's `x` (hoisted out of the block), not the top-level one.
        assert!(same(&r, 1, 2) && same(&r, 1, 6));
        assert_ne!(r[1].1, r[8].1);
        assert_eq!(r[8].1, ScopeId::TOP);
        // `y` is the block's inside it, a global outside.
        assert!(same(&r, 3, 5));
        assert_eq!(r[7].1, ScopeId::GLOBAL);
        assert_eq!(r[4].1, ScopeId::GLOBAL);
    }

    #[test]
    fn parameters_names_and_catch() {
        let r = resolve_all(
            "var a = function b(c) { return b(c, d); };\n\
             class C { m(C) { return C; } }\nnew C();\n\
             try {} catch (e) { e; }\ne;\n\
             (x => x)(x);",
        );
        let by = |n: &str, k: usize| r.iter().filter(|(name, _)| name == n).nth(k).unwrap().1;
        assert_eq!(by("a", 0), ScopeId::TOP);
        // A function expression's name is bound inside it only.
        assert_eq!(by("b", 0), by("b", 1));
        assert_ne!(by("b", 0), ScopeId::TOP);
        assert_eq!(by("c", 0), by("c", 1));
        assert_eq!(by("d", 0), ScopeId::GLOBAL);
        // The class declaration's name around it; the parameter shadows it inside `m`.
        assert_eq!(by("C", 0), ScopeId::TOP);
        assert_eq!(by("C", 1), by("C", 2));
        assert_ne!(by("C", 1), ScopeId::TOP);
        assert_eq!(by("C", 3), ScopeId::TOP);
        assert_eq!(by("e", 0), by("e", 1));
        assert_eq!(by("e", 2), ScopeId::GLOBAL);
        assert_eq!(by("x", 0), by("x", 1));
        assert_eq!(by("x", 2), ScopeId::GLOBAL);
    }
}

/// The differential check against swc's resolver, over real files (see the test below).
#[cfg(test)]
mod against_swc {
    use rustc_hash::FxHashSet as HashSet;
    use swc_common::{GLOBALS, Globals, Mark, SyntaxContext};
    use swc_ecma_ast::{
        BreakStmt, ContinueStmt, ExportNamedSpecifier, ImportNamedSpecifier, LabeledStmt,
        NamedExport, TsEntityName, TsEnumMember, TsInterfaceDecl, TsTypeAliasDecl, TsTypeAnn,
        TsTypeParamDecl, TsTypeParamInstantiation,
    };
    use swc_ecma_visit::VisitMutWith;

    use super::*;
    use crate::source::{Lang, parse};

    /// Every value identifier of a program (not labels, types or export/import names).
    #[derive(Default)]
    struct Values(Vec<Ident>);

    impl Visit for Values {
        fn visit_ident(&mut self, i: &Ident) {
            self.0.push(i.clone());
        }
        fn visit_labeled_stmt(&mut self, s: &LabeledStmt) {
            s.body.visit_with(self);
        }
        fn visit_break_stmt(&mut self, _: &BreakStmt) {}
        fn visit_continue_stmt(&mut self, _: &ContinueStmt) {}
        fn visit_export_named_specifier(&mut self, s: &ExportNamedSpecifier) {
            s.orig.visit_with(self);
        }
        fn visit_named_export(&mut self, e: &NamedExport) {
            // `export { x } from "m"` names another module's bindings, `export type { T }` types.
            if e.src.is_none() && !e.type_only {
                e.visit_children_with(self);
            }
        }
        fn visit_import_named_specifier(&mut self, s: &ImportNamedSpecifier) {
            s.local.visit_with(self);
        }
        fn visit_ts_type_ann(&mut self, _: &TsTypeAnn) {}
        fn visit_ts_type_param_decl(&mut self, _: &TsTypeParamDecl) {}
        fn visit_ts_type_param_instantiation(&mut self, _: &TsTypeParamInstantiation) {}
        fn visit_ts_interface_decl(&mut self, _: &TsInterfaceDecl) {}
        fn visit_ts_type_alias_decl(&mut self, _: &TsTypeAliasDecl) {}
        fn visit_ts_entity_name(&mut self, _: &TsEntityName) {}
        fn visit_ts_enum_member(&mut self, m: &TsEnumMember) {
            m.init.visit_with(self);
        }
    }

    /// Where the two resolvers disagree, as readable lines (empty: they agree).
    pub(super) fn disagreements(text: &str, lang: Lang) -> Vec<String> {
        let Ok(parsed) = parse(text, lang) else {
            return Vec::new();
        };
        // swc's resolver, on a copy (growsafe's own resolver reads the unmarked AST).
        let mut program = parsed.program.clone();
        let (unresolved, top_level) = GLOBALS.set(&Globals::new(), || {
            let unresolved = Mark::new();
            let top_level = Mark::new();
            program.visit_mut_with(&mut swc_ecma_transforms_base::resolver(
                unresolved,
                top_level,
                lang != Lang::JavaScript,
            ));
            (
                SyntaxContext::empty().apply_mark(unresolved),
                SyntaxContext::empty().apply_mark(top_level),
            )
        });
        let (program, unresolved, top_level) = (&program, &unresolved, &top_level);
        let mut values = Values::default();
        program.visit_with(&mut values);
        let none = Patches::default();
        let scopes = Scopes::new(program, &none);
        // The same answers when everything is resolved in one walk.
        let primed = Scopes::new(program, &none);
        primed.prime(program.span());
        // And when asked about every other identifier by position, in one walk.
        let pointed = Scopes::new(program, &none);
        let points: Vec<BytePos> = values.0.iter().step_by(2).map(|i| i.span.lo).collect();
        pointed.prime_points(&points);
        let mut ours: HashMap<(Atom, SyntaxContext), HashSet<ScopeId>> = HashMap::default();
        let mut theirs: HashMap<Bid, HashSet<SyntaxContext>> = HashMap::default();
        let mut out = Vec::new();
        let line = |at: BytePos| {
            let offset = (at - parsed.start_pos).0 as usize;
            text[..offset.min(text.len())].matches('\n').count() + 1
        };
        for ident in &values.0 {
            let scope = scopes.resolve(ident);
            if primed.resolve(ident) != scope || pointed.resolve(ident) != scope {
                out.push(format!(
                    "line {}: `{}`: one walk and one question disagree",
                    line(ident.span.lo),
                    ident.sym
                ));
            }
            let special = (ident.ctxt == *unresolved, ident.ctxt == *top_level);
            if special != (scope == ScopeId::GLOBAL, scope == ScopeId::TOP) {
                out.push(format!(
                    "line {}: `{}`: swc global/top {special:?}, ours {scope:?}",
                    line(ident.span.lo),
                    ident.sym
                ));
            }
            ours.entry((ident.sym.clone(), ident.ctxt))
                .or_default()
                .insert(scope);
            theirs
                .entry((ident.sym.clone(), scope))
                .or_default()
                .insert(ident.ctxt);
        }
        for ((sym, ctxt), set) in &ours {
            if set.len() > 1 {
                out.push(format!(
                    "`{sym}` ({ctxt:?}) is {} bindings of ours",
                    set.len()
                ));
            }
        }
        for ((sym, scope), set) in &theirs {
            if set.len() > 1 {
                out.push(format!(
                    "`{sym}` ({scope:?}) is {} bindings of swc",
                    set.len()
                ));
            }
        }
        out.sort();
        out
    }

    /// The fixtures and pinned glue, and the files below `GROWSAFE_SCOPE_CORPUS` when set.
    fn corpus() -> Vec<std::path::PathBuf> {
        let mut files = crate::tests::corpus();
        if let Ok(extra) = std::env::var("GROWSAFE_SCOPE_CORPUS") {
            crate::tests::sources_in(std::path::Path::new(&extra), &mut files);
            files.sort();
        }
        files
    }

    #[test]
    fn agrees_with_swc_resolver_on_the_corpus() {
        let mut failures = Vec::new();
        for path in corpus() {
            let text = std::fs::read_to_string(&path).unwrap();
            let lang = Lang::from_path(&path);
            let body = crate::source::SourceText::new(&text).body.to_owned();
            let found =
                crate::source::with_big_stack(body.len(), || disagreements(&body, lang)).unwrap();
            if !found.is_empty() {
                failures.push(format!(
                    "{}:\n  {}",
                    path.display(),
                    found.into_iter().take(8).collect::<Vec<_>>().join("\n  ")
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
