//! Closure-renamed Asyncify runtimes (`--closure 1`), matched by structure instead of by name.
//!
//! Closure keeps none of the runtime's names, but it keeps its shape. growsafe anchors on:
//! 1. `handleSleep`: the one function holding the `invalid state: ` message (string concat or
//!    template literal);
//! 2. inside it, the rewind branch's `free(D), D = null` pair, after a call (the
//!    `asyncify_stop_rewind` through `runAndAbortIfError`);
//! 3. inside it, the unwind branch's `S = 1, D = alloc(), …start_unwind(D)…` (a state
//!    assignment, `D` set from a call without arguments, then a call that is passed `D`);
//! 4. the `if (…) { … startAsync(…) … }` branch around that unwind, `startAsync` being the
//!    function's first parameter;
//! 5. `alloc`, declared once and called only there: the inlined `allocateData`,
//!    `var p = malloc(12 + N), q = p + 12; …; H[p + 8 >> 2] = id; return p` (header 24 and
//!    rewind id at 16 under MEMORY64), with `N` the `StackSize` property (`X.Va`) or folded into
//!    the constant (`malloc(4108)`: `StackSize` 4096 can then never change).
//!
//! The fix routes `alloc`'s `malloc` through a cache object declared beside it, so the inlined
//! function itself still writes the header and the rewind id on every sleep: no header code is
//! duplicated and no heap view has to be identified.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use swc_atoms::Atom;
use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    ArrowExpr, ArrowFunctionBody, AssignExpr, AssignOp, AssignTarget, BinaryOp, BindingIdent,
    CallExpr, Callee, ClassDecl, Decl, Expr, FnDecl, FnExpr, Function, Ident, IfStmt, Lit, Pat,
    SeqExpr, SimpleAssignTarget, Stmt, VarDeclarator,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::looks_like_allocate_data;
use crate::fix::{Edit, Fix};
use crate::passes::marks::{self, Find, Marks};
use crate::passes::views::{sparse, visit_program};
use crate::passes::{Context, member_prop_name};
use crate::scope::{Bid, ScopeId};
use crate::style::Style;

/// The object growsafe declares beside the inlined `allocateData`.
pub(super) const CACHE: &str = "growsafeAsyncify";

type Id = Bid;

/// Why a Closure runtime got no fix.
pub(super) struct Refusal {
    /// Where to report it (the inlined `allocateData`, when known).
    pub at: Option<Span>,
    /// The missing or ambiguous anchor.
    pub reason: String,
    /// Whether `handleSleep` showed any Asyncify anchor at all (else it is not Asyncify).
    pub asyncify_like: bool,
}

/// A planned fix, reported at the inlined `allocateData`.
pub(super) struct Planned {
    pub at: Span,
    pub fix: Fix,
}

/// `D`: where `currData` lives (`T`, or `X.Qa` when Closure kept the object).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Var(Id),
    Member(Id, String),
}

fn place(cx: &Context<'_>, expr: &Expr) -> Option<Place> {
    match expr {
        Expr::Ident(i) => Some(Place::Var(cx.bid(i))),
        Expr::Paren(p) => place(cx, &p.expr),
        Expr::Member(m) => match &*m.obj {
            Expr::Ident(obj) => Some(Place::Member(
                cx.bid(obj),
                member_prop_name(&m.prop)?.to_owned(),
            )),
            _ => None,
        },
        _ => None,
    }
}

fn target_place(cx: &Context<'_>, target: &AssignTarget) -> Option<Place> {
    match target {
        AssignTarget::Simple(SimpleAssignTarget::Ident(b)) => Some(Place::Var(cx.bid(&b.id))),
        AssignTarget::Simple(SimpleAssignTarget::Member(m)) => place(cx, &Expr::Member(m.clone())),
        _ => None,
    }
}

fn unparen(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

/// `D = alloc()` inside the unwind branch.
#[derive(Debug, Clone)]
struct Unwind {
    place: Place,
    alloc: Id,
    span: Span,
}

/// `free(D), D = null` inside the rewind branch.
#[derive(Debug, Clone)]
struct Release {
    place: Place,
    free: Ident,
}

/// What `handleSleep` holds.
#[derive(Default)]
struct SleepAnchors {
    found: bool,
    start_async: Option<Id>,
    unwinds: Vec<Unwind>,
    releases: Vec<Release>,
    /// `if` blocks that call `startAsync` directly: (block span, first statement span).
    normal_blocks: Vec<(Span, Span)>,
}

/// Finds the function with `span` and collects its anchors.
struct FindSleep<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    target: Span,
    anchors: SleepAnchors,
}

impl FindSleep<'_, '_> {
    fn collect(&mut self, params: Vec<&Pat>, stmts: &[Stmt]) {
        self.anchors.found = true;
        if let Some(Pat::Ident(p)) = params.first() {
            self.anchors.start_async = Some(self.cx.bid(&p.id));
        }
        let mut inner = Inner {
            cx: self.cx,
            start_async: self.anchors.start_async.clone(),
            anchors: SleepAnchors::default(),
        };
        stmts.visit_with(&mut inner);
        self.anchors.unwinds = inner.anchors.unwinds;
        self.anchors.releases = inner.anchors.releases;
        self.anchors.normal_blocks = inner.anchors.normal_blocks;
    }
}

impl Visit for FindSleep<'_, '_> {
    sparse!(self => self.marks);

    fn visit_function(&mut self, f: &Function) {
        if f.span == self.target
            && let Some(body) = &f.body
        {
            self.collect(f.params.iter().map(|p| &p.pat).collect(), &body.stmts);
            return;
        }
        f.visit_children_with(self);
    }

    fn visit_arrow_expr(&mut self, a: &ArrowExpr) {
        if a.span == self.target
            && let ArrowFunctionBody::FunctionBody(body) = &*a.body
        {
            self.collect(a.params.iter().collect(), &body.stmts);
            return;
        }
        a.visit_children_with(self);
    }
}

/// The anchors in `handleSleep`'s own body (nested functions are the wakeUp callback and the
/// `runAndAbortIfError` thunks: not walked).
struct Inner<'a, 'cx> {
    cx: &'a Context<'cx>,
    start_async: Option<Id>,
    anchors: SleepAnchors,
}

impl Inner<'_, '_> {
    fn siblings(&mut self, list: &[&Expr]) {
        for (i, expr) in list.iter().enumerate() {
            // `S = 1, D = alloc(), …start_unwind(D)…`
            if let Expr::Assign(AssignExpr {
                op: AssignOp::Assign,
                left,
                right,
                ..
            }) = unparen(expr)
                && let Some(data) = target_place(self.cx, left)
                && let Expr::Call(call) = unparen(right)
                && call.args.is_empty()
                && let Callee::Expr(callee) = &call.callee
                && let Expr::Ident(alloc) = &**callee
                && i > 0
                && matches!(unparen(list[i - 1]), Expr::Assign(_))
                && list[i + 1..]
                    .iter()
                    .any(|e| passes_place(self.cx, e, &data))
            {
                self.anchors.unwinds.push(Unwind {
                    place: data,
                    alloc: self.cx.bid(alloc),
                    span: expr.span(),
                });
            }
            // `…stop_rewind…, free(D), D = null`
            if let Expr::Call(call) = unparen(expr)
                && let Callee::Expr(callee) = &call.callee
                && let Expr::Ident(free) = &**callee
                && let [arg] = call.args.as_slice()
                && arg.spread.is_none()
                && let Some(data) = place(self.cx, &arg.expr)
                && let Some(Expr::Assign(AssignExpr {
                    op: AssignOp::Assign,
                    left,
                    right,
                    ..
                })) = list.get(i + 1).map(|e| unparen(e))
                && target_place(self.cx, left).as_ref() == Some(&data)
                && matches!(unparen(right), Expr::Lit(Lit::Null(_)))
                && list[..i]
                    .iter()
                    .any(|e| matches!(unparen(e), Expr::Call(_)))
            {
                self.anchors.releases.push(Release {
                    place: data,
                    free: free.clone(),
                });
            }
        }
    }
}

impl Visit for Inner<'_, '_> {
    fn visit_function(&mut self, _: &Function) {}
    fn visit_arrow_expr(&mut self, _: &ArrowExpr) {}

    fn visit_seq_expr(&mut self, seq: &SeqExpr) {
        let list: Vec<&Expr> = seq.exprs.iter().map(|e| &**e).collect();
        self.siblings(&list);
        seq.visit_children_with(self);
    }

    fn visit_stmts(&mut self, stmts: &[Stmt]) {
        // Consecutive expression statements are siblings too (pretty-printed Closure output).
        let mut run: Vec<&Expr> = Vec::new();
        for stmt in stmts {
            if let Stmt::Expr(e) = stmt {
                run.push(&e.expr);
            } else {
                self.siblings(&run);
                run.clear();
            }
        }
        self.siblings(&run);
        for stmt in stmts {
            stmt.visit_with(self);
        }
    }

    fn visit_if_stmt(&mut self, stmt: &IfStmt) {
        if let Stmt::Block(block) = &*stmt.cons
            && let Some(start_async) = &self.start_async
            && block.stmts.iter().any(|s| calls(self.cx, s, start_async))
            && let Some(first) = block.stmts.first()
        {
            self.anchors.normal_blocks.push((block.span, first.span()));
        }
        stmt.visit_children_with(self);
    }
}

/// `startAsync(…)` as a statement of its own.
fn calls(cx: &Context<'_>, stmt: &Stmt, callee_id: &Id) -> bool {
    matches!(stmt, Stmt::Expr(e)
        if matches!(unparen(&e.expr), Expr::Call(CallExpr { callee: Callee::Expr(c), .. })
            if matches!(&**c, Expr::Ident(i) if cx.bid(i) == *callee_id)))
}

/// Whether `expr` contains a call that is passed `place` (the `asyncify_start_unwind(D)`).
fn passes_place(cx: &Context<'_>, expr: &Expr, data: &Place) -> bool {
    struct Finder<'p, 'cx> {
        cx: &'p Context<'cx>,
        data: &'p Place,
        found: bool,
    }
    impl Visit for Finder<'_, '_> {
        fn visit_call_expr(&mut self, call: &CallExpr) {
            self.found |= call
                .args
                .iter()
                .any(|a| place(self.cx, &a.expr).as_ref() == Some(self.data));
            call.visit_children_with(self);
        }
    }
    let mut finder = Finder {
        cx,
        data,
        found: false,
    };
    expr.visit_with(&mut finder);
    finder.found
}

/// The inlined `allocateData`.
struct Alloc {
    /// The statement declaring it (the helper goes right before it).
    stmt: Span,
    /// Its name, as declared.
    ident: Id,
    /// The `malloc` callee in `var p = malloc(size)`.
    malloc: Ident,
    /// `size`: `12 + X.Va`, or the folded constant.
    size: Span,
    /// The identifiers `size` reads.
    size_idents: Vec<Ident>,
    /// Why it does not match, if it does not.
    mismatch: Option<String>,
}

/// Program-wide facts (a sparse walk over the names involved): the declaration of `alloc`, how
/// often it is named, whether growsafe's name is taken.
struct Program<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    alloc: &'a Id,
    found: Vec<Alloc>,
    references: usize,
    uses_cache_name: bool,
}

impl Program<'_, '_> {
    fn check(&mut self, stmt: Span, ident: &Ident, f: &Function) {
        let stmts = f.body.as_ref().map_or(&[][..], |b| &b.stmts[..]);
        self.found.push(allocation(self.cx, stmt, ident, stmts));
    }
}

impl Visit for Program<'_, '_> {
    sparse!(self => self.marks; expr pat);

    fn visit_ident(&mut self, ident: &Ident) {
        if ident.sym == self.alloc.0 && self.cx.bid(ident) == *self.alloc {
            self.references += 1;
        }
        self.uses_cache_name |= &*ident.sym == CACHE;
    }

    fn visit_stmt(&mut self, stmt: &Stmt) {
        if !self.marks.covers(stmt.span()) {
            return;
        }
        match stmt {
            Stmt::Decl(Decl::Fn(f))
                if f.ident.sym == self.alloc.0 && self.cx.bid(&f.ident) == *self.alloc =>
            {
                self.check(stmt.span(), &f.ident, &f.function);
            }
            Stmt::Decl(Decl::Var(var)) => {
                for d in &var.decls {
                    if let VarDeclarator {
                        name: Pat::Ident(name),
                        init: Some(init),
                        ..
                    } = d
                        && name.id.sym == self.alloc.0
                        && self.cx.bid(&name.id) == *self.alloc
                        && let Expr::Fn(f) = unparen(init)
                    {
                        self.check(stmt.span(), &name.id, &f.function);
                    }
                }
            }
            _ => {}
        }
        stmt.visit_children_with(self);
    }
}

/// The scopes each of `names` is bound in anywhere in the file (declared, assigned, a function
/// or class name).
fn bindings(cx: &Context<'_>, names: &[&Atom]) -> HashMap<Atom, HashSet<ScopeId>> {
    struct Bindings<'a, 'cx> {
        cx: &'a Context<'cx>,
        marks: &'a Marks,
        names: &'a [&'a Atom],
        out: HashMap<Atom, HashSet<ScopeId>>,
    }
    impl Bindings<'_, '_> {
        fn bind(&mut self, ident: &Ident) {
            if self.names.contains(&&ident.sym) {
                let scope = self.cx.scope(ident);
                self.out.entry(ident.sym.clone()).or_default().insert(scope);
            }
        }
    }
    impl Visit for Bindings<'_, '_> {
        sparse!(self => self.marks);

        fn visit_binding_ident(&mut self, b: &BindingIdent) {
            self.bind(&b.id);
            b.visit_children_with(self);
        }

        fn visit_fn_decl(&mut self, f: &FnDecl) {
            self.bind(&f.ident);
            f.visit_children_with(self);
        }

        fn visit_fn_expr(&mut self, f: &FnExpr) {
            if let Some(i) = &f.ident {
                self.bind(i);
            }
            f.visit_children_with(self);
        }

        fn visit_class_decl(&mut self, c: &ClassDecl) {
            self.bind(&c.ident);
            c.visit_children_with(self);
        }
    }
    let words: Vec<Find<'_>> = names.iter().map(|n| Find::Name(n)).collect();
    let marks = cx.find(&words);
    let mut walk = Bindings {
        cx,
        marks: &marks,
        names,
        out: HashMap::default(),
    };
    visit_program(&cx.parsed.program, &mut walk);
    walk.out
}

/// Matches `var p = malloc(size), q = p + 12; …; return p`.
fn allocation(cx: &Context<'_>, stmt: Span, ident: &Ident, stmts: &[Stmt]) -> Alloc {
    let mut alloc = Alloc {
        stmt,
        ident: cx.bid(ident),
        malloc: ident.clone(),
        size: ident.span,
        size_idents: Vec::new(),
        mismatch: None,
    };
    let shape = "does not start `var p = malloc(12 + StackSize), q = p + 12` \
                 (or `malloc(<12 + StackSize folded>)`, 24 under MEMORY64)";
    let Some(Stmt::Decl(Decl::Var(var))) = stmts.first() else {
        alloc.mismatch = Some(shape.to_owned());
        return alloc;
    };
    let (Some(first), Some(second)) = (var.decls.first(), var.decls.get(1)) else {
        alloc.mismatch = Some(shape.to_owned());
        return alloc;
    };
    let header = match (&first.name, first.init.as_deref(), second.init.as_deref()) {
        (Pat::Ident(ptr), Some(Expr::Call(call)), Some(Expr::Bin(bin)))
            if bin.op == BinaryOp::Add
                && matches!(&*bin.left, Expr::Ident(i) if i.sym == ptr.id.sym)
                && let Expr::Lit(Lit::Num(n)) = &*bin.right
                && (n.value == 12.0 || n.value == 24.0)
                && let Callee::Expr(callee) = &call.callee
                && let Expr::Ident(malloc) = &**callee
                && let [arg] = call.args.as_slice()
                && arg.spread.is_none() =>
        {
            alloc.malloc = malloc.clone();
            alloc.size = arg.expr.span();
            Some((n.value, &*arg.expr, ptr))
        }
        _ => None,
    };
    let Some((header, size, ptr)) = header else {
        alloc.mismatch = Some(shape.to_owned());
        return alloc;
    };
    let size_ok = match unparen(size) {
        Expr::Lit(Lit::Num(n)) => n.value > header,
        Expr::Bin(bin) if bin.op == BinaryOp::Add => match (&*bin.left, &*bin.right) {
            (Expr::Lit(Lit::Num(n)), other) | (other, Expr::Lit(Lit::Num(n)))
                if n.value == header =>
            {
                match other {
                    Expr::Ident(i) => {
                        alloc.size_idents.push(i.clone());
                        true
                    }
                    Expr::Member(m) => match (&*m.obj, member_prop_name(&m.prop)) {
                        (Expr::Ident(i), Some(_)) => {
                            alloc.size_idents.push(i.clone());
                            true
                        }
                        _ => false,
                    },
                    _ => false,
                }
            }
            _ => false,
        },
        _ => false,
    };
    if !size_ok {
        alloc.mismatch = Some(format!(
            "allocates neither `{header} + StackSize` bytes nor a folded constant"
        ));
        return alloc;
    }
    if !looks_like_allocate_data(stmts) {
        alloc.mismatch = Some(format!(
            "does not store the rewind id at `{} + {}`",
            ptr.id.sym,
            if header == 12.0 { 8 } else { 16 }
        ));
        return alloc;
    }
    if !matches!(stmts.last(), Some(Stmt::Return(r))
        if matches!(r.arg.as_deref(), Some(Expr::Ident(i)) if i.sym == ptr.id.sym))
    {
        alloc.mismatch = Some(format!("does not end `return {}`", ptr.id.sym));
    }
    alloc
}

/// Plans the fix for the Closure runtime whose `handleSleep` is the function at `sleep`.
pub(super) fn plan(cx: &Context<'_>, sleep: Span) -> Result<Planned, Refusal> {
    let at = marks::at(vec![sleep.lo], cx.place());
    let mut find = FindSleep {
        cx,
        marks: &at,
        target: sleep,
        anchors: SleepAnchors::default(),
    };
    visit_program(&cx.parsed.program, &mut find);
    let a = find.anchors;
    debug_assert!(a.found, "the scan recorded this function");
    // An unwind-like `x = f()` alone is common; with the rewind's `free(D), D = null` too, it
    // is an Asyncify runtime.
    let asyncify_like = !a.unwinds.is_empty() && !a.releases.is_empty();
    let refuse = |at: Option<Span>, reason: String| Refusal {
        at,
        reason,
        asyncify_like,
    };

    // Anchor 2: the rewind's `free(D), D = null`.
    let release = match a.releases.as_slice() {
        [] => {
            return Err(refuse(
                None,
                "no `free(D), D = null` pair after `asyncify_stop_rewind` in `handleSleep` \
                 (the function with the `invalid state: ` message)"
                    .to_owned(),
            ));
        }
        [one] => one.clone(),
        more => {
            return Err(refuse(
                None,
                format!(
                    "`handleSleep` has {} `free(D), D = null` pairs: the rewind branch is ambiguous",
                    more.len()
                ),
            ));
        }
    };
    // Anchor 3: the unwind's `S = 1, D = alloc(), …start_unwind(D)…`, with the same `D`.
    let unwinds: Vec<&Unwind> = a
        .unwinds
        .iter()
        .filter(|u| u.place == release.place)
        .collect();
    let unwind = match unwinds.as_slice() {
        [] => {
            return Err(refuse(
                None,
                "no unwind branch `state = 1, D = allocate(), …asyncify_start_unwind(D)…` \
                 assigning the `D` that the rewind frees"
                    .to_owned(),
            ));
        }
        [one] => (*one).clone(),
        more => {
            return Err(refuse(
                None,
                format!(
                    "`handleSleep` has {} unwind branches `D = allocate()`: ambiguous",
                    more.len()
                ),
            ));
        }
    };
    // Anchor 4: the branch that calls `startAsync`, around the unwind.
    if a.start_async.is_none() {
        return Err(refuse(
            None,
            "`handleSleep` has no plain `startAsync` parameter".to_owned(),
        ));
    }
    let Some(&(_, first_stmt)) = a
        .normal_blocks
        .iter()
        .filter(|(block, _)| {
            let (block, unwind) = (cx.range(*block), cx.range(unwind.span));
            block.start <= unwind.start && unwind.end <= block.end
        })
        .min_by_key(|(block, _)| cx.range(*block).end - cx.range(*block).start)
    else {
        return Err(refuse(
            None,
            "no `if (state === Normal) { … startAsync(…) … }` branch around the unwind".to_owned(),
        ));
    };

    // Anchor 5: the inlined `allocateData`, declared once and called only from the unwind.
    let names = cx.find(&[Find::Name(&unwind.alloc.0), Find::Name(CACHE)]);
    let mut program = Program {
        cx,
        marks: &names,
        alloc: &unwind.alloc,
        found: Vec::new(),
        references: 0,
        uses_cache_name: false,
    };
    visit_program(&cx.parsed.program, &mut program);
    let name = &unwind.alloc.0;
    let mut found = std::mem::take(&mut program.found);
    let alloc = match found.len() {
        0 => {
            return Err(refuse(
                None,
                format!(
                    "the unwind's `{name}()` (the inlined `allocateData`) is not a function declared in this file"
                ),
            ));
        }
        1 => found.pop().expect("one"),
        more => {
            return Err(refuse(
                None,
                format!("`{name}` (the inlined `allocateData`) is declared {more} times"),
            ));
        }
    };
    let at = Some(alloc.stmt);
    if let Some(mismatch) = &alloc.mismatch {
        return Err(refuse(
            at,
            format!("`{name}` (the unwind's allocation, the inlined `allocateData`) {mismatch}"),
        ));
    }
    // The declaration and the unwind's call.
    if program.references != 2 {
        return Err(refuse(
            at,
            format!(
                "`{name}` (the inlined `allocateData`) is also used outside the unwind \
                 ({} more references), so a cached block could be handed out outside a sleep",
                program.references.saturating_sub(2)
            ),
        ));
    }
    if program.uses_cache_name {
        return Err(refuse(
            at,
            format!("the name `{CACHE}` is already taken in this file"),
        ));
    }
    // The helper sits beside `alloc`: everything it calls must mean the same thing there.
    let called: Vec<&Atom> = [&alloc.malloc.sym, &release.free.sym]
        .into_iter()
        .chain(alloc.size_idents.iter().map(|i| &i.sym))
        .collect();
    let bound = bindings(cx, &called);
    let visible = |ident: &Ident| {
        let scope = cx.scope(ident);
        scope == alloc.ident.1
            || ((scope == ScopeId::TOP || scope == ScopeId::GLOBAL)
                && bound
                    .get(&ident.sym)
                    .is_none_or(|scopes| scopes.iter().all(|s| *s == scope)))
    };
    for (role, ident) in [("malloc", &alloc.malloc), ("free", &release.free)]
        .into_iter()
        .chain(alloc.size_idents.iter().map(|i| ("StackSize", i)))
    {
        if !visible(ident) {
            return Err(refuse(
                at,
                format!(
                    "the {role} function `{}` is not declared beside `{name}`, so growsafe cannot call it from there",
                    ident.sym
                ),
            ));
        }
    }

    let taken: HashSet<&str> = [&*alloc.malloc.sym, &*release.free.sym]
        .into_iter()
        .chain(alloc.size_idents.iter().map(|i| &*i.sym))
        .collect();
    let helper = helper(
        cx,
        alloc.stmt,
        &Names::pick(&taken),
        &alloc.malloc.sym,
        &release.free.sym,
        cx.slice(alloc.size),
    );
    let compact = cx.style().compact || !cx.slice(alloc.stmt).contains('\n');
    let reserve_at = cx.range(first_stmt).start;
    let reserve = if compact {
        format!("{CACHE}.reserve();")
    } else {
        format!(
            "{CACHE}.reserve();{}{}",
            cx.style().newline,
            Style::indent_at(cx.text, reserve_at)
        )
    };
    let fix = Fix::safe(
        "Allocate the Asyncify data block once and reuse it for every sleep",
        vec![
            Edit::insert_at(cx.range(alloc.stmt).start, helper),
            Edit::replace(cx.range(alloc.malloc.span), format!("{CACHE}.alloc")),
            Edit::insert_at(reserve_at, reserve),
            Edit::replace(cx.range(release.free.span), format!("{CACHE}.release")),
        ],
    );
    Ok(Planned {
        at: alloc.stmt,
        fix,
    })
}

/// The helper's local names, clear of every name it calls.
struct Names {
    cache: &'static str,
    size: &'static str,
    ptr: &'static str,
}

impl Names {
    fn pick(taken: &HashSet<&str>) -> Self {
        let first = |options: [&'static str; 3]| {
            options
                .into_iter()
                .find(|o| !taken.contains(o))
                .expect("three distinct candidates, at most one clash each")
        };
        Names {
            cache: first(["c", "cache", "growsafeCache"]),
            size: first(["n", "size", "growsafeSize"]),
            ptr: first(["p", "ptr", "growsafePtr"]),
        }
    }
}

/// `var growsafeAsyncify = {…};`, in the style of the code around `alloc`.
fn helper(
    cx: &Context<'_>,
    alloc_stmt: Span,
    names: &Names,
    malloc: &str,
    free: &str,
    size: &str,
) -> String {
    let Names {
        cache,
        size: n,
        ptr,
    } = names;
    let reserve = [
        format!("var {cache} = {CACHE}, {n} = {size};"),
        format!(
            "if ({cache}.busy || {cache}.reserving || {cache}.block && {cache}.size === {n}) return;"
        ),
        format!("{cache}.reserving = true;"),
        "try {".to_owned(),
        format!("\tif ({cache}.block) {free}({cache}.block);"),
        format!("\t{cache}.block = 0;"),
        format!("\t{cache}.block = {malloc}({n});"),
        format!("\t{cache}.size = {n};"),
        "} finally {".to_owned(),
        format!("\t{cache}.reserving = false;"),
        "}".to_owned(),
    ];
    let alloc = [
        format!("var {cache} = {CACHE};"),
        format!(
            "if (!{cache}.block || {cache}.busy || {cache}.size !== {n}) return {malloc}({n});"
        ),
        format!("{cache}.busy = true;"),
        format!("return {cache}.block;"),
    ];
    let release = [
        format!("var {cache} = {CACHE};"),
        format!("if ({ptr} && {ptr} === {cache}.block) {cache}.busy = false;"),
        format!("else {free}({ptr});"),
    ];
    let fields = "block: 0, size: 0, busy: false, reserving: false";
    let methods = [
        ("reserve", "", &reserve[..]),
        ("alloc", *n, &alloc[..]),
        ("release", *ptr, &release[..]),
    ];
    let compact = cx.style().compact || !cx.slice(alloc_stmt).contains('\n');
    if compact {
        let mut out = format!("var {CACHE}={{{}", super::minify(fields));
        for (name, param, body) in methods {
            out.push_str(&format!(
                ",{name}:function({param}){{{}}}",
                super::minify(&body.join(""))
            ));
        }
        out.push_str("};");
        return out;
    }
    let nl = cx.style().newline;
    let unit = &cx.style().indent_unit;
    let start = cx.range(alloc_stmt).start;
    let indent = Style::indent_at(cx.text, start);
    let mut out = format!(
        "// growsafe: one Asyncify data block, reused by every sleep (see `growsafe explain asyncify-sleep-alloc`){nl}{indent}var {CACHE} = {{{nl}{indent}{unit}{fields}"
    );
    for (name, param, body) in methods {
        out.push_str(&format!(",{nl}{indent}{unit}{name}: function({param}) {{"));
        for line in body {
            out.push_str(&format!(
                "{nl}{indent}{unit}{unit}{}",
                line.replace('\t', unit)
            ));
        }
        out.push_str(&format!("{nl}{indent}{unit}}}"));
    }
    out.push_str(&format!("{nl}{indent}}};{nl}{indent}"));
    out
}
