//! The analysis shared by `stored-heap-view` and `kept-buffer-view`: stores that keep a heap
//! view, a typed array over the wasm memory buffer, or the buffer itself beyond a point where
//! memory can grow.
//!
//! A store *outlives* such a point when:
//! - it writes a property (`this.view = HEAPU8`, `obj.u8 = new Uint8Array(memory.buffer)`, a
//!   class field, an object-literal property for buffer views): the object outlives the call;
//! - it assigns a variable declared outside the assigning function (or a global);
//! - it sets a local that is read after a *growth point* of the same function: a call, `new`,
//!   `await` or `yield` that ends after the store and before the read in source order, or any
//!   growth point in a loop around the read that does not contain the store; the read is the
//!   one this store reaches (the last store to the variable before it in the same function);
//! - it sets a local that a nested function reads (the closure may run after memory grew).
//!
//! Not growth points: constructing typed arrays, `DataView`s, `ArrayBuffer`s and errors, calling
//! a method of a heap view or of a kept value (`u8.subarray(…)`), string and array methods that
//! take no callback (`str.charCodeAt(i)`, `out.push(x)`, by name), `Math.*`, `Atomics.*`,
//! `String.*`, `Number.*`, `BigInt.*`, the global conversions `BigInt(…)`, `Number(…)`,
//! `String(…)`, `Boolean(…)`, Emscripten's refresh helpers (`GROWABLE_HEAP_U8()`,
//! `growMemViews()`, also Closure-renamed ones: see `Context::views`), calls of a function
//! declaration of the file whose own body calls nothing and that is never reassigned (Closure's
//! inlined `function P(a){return 16384===(a&61440)}`), and anything inside a `throw` statement
//! (the function leaves through the exception).
//!
//! The glue's views are `Context::glue_view`'s: also views inside `MODULARIZE` factories and
//! Closure-renamed ones, found through the refresh function that assigns them.
//!
//! Never reported: the refresh function itself (a function that assigns a new typed array to a
//! glue view or to a `X.HEAPx` property, like `updateMemoryViews`) and any variable it also
//! assigns (3.1.x's `buffer` global); values whose `.buffer` the code compares with `==`/`!=`
//! (it re-validates them; a property path matches within the same class); a bare buffer kept by
//! a function that calls `X.grow(…)` itself (it reads the old size on purpose, like
//! Emscripten's `growMemory`); reads that only compare the kept value
//! (`old !== wasmMemory.buffer`). A point in the read's own statement (`f(g(), view)`) does not
//! count: statement order is what the analysis follows.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::RefCell;
use std::sync::OnceLock as OnceCell;

use swc_atoms::Atom;
use swc_common::{BytePos, Span, Spanned};
use swc_ecma_ast::{
    ArrowExpr, AssignExpr, AssignOp, AssignTarget, AwaitExpr, BinExpr, BinaryOp, CallExpr, Callee,
    CatchClause, Class, ClassMember, ClassProp, Constructor, DoWhileStmt, Expr, ExprOrSpread,
    FnDecl, ForInStmt, ForOfStmt, ForStmt, Function, Ident, MemberExpr, MemberProp, ModuleItem,
    NewExpr, OptCall, ParamOrTsParamProp, Pat, Prop, PropName, PropOrSpread, SimpleAssignTarget,
    Stmt, SwitchCase, TaggedTpl, ThrowStmt, TsParamPropParam, UpdateExpr, VarDeclarator, WhileStmt,
    YieldExpr,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::marks::{self, Find, Kind, Marks};
use super::views::{Helper, sparse, view_name};
use super::{Context, member_prop_name};
use crate::diagnostic::TextRange;
use crate::scope::{Bid, DeclKind, ScopeId};

/// The cell in [`Context`] that holds the shared analysis.
pub(crate) type KeptCell = OnceCell<Vec<Kept>>;

/// Every store that keeps a memory-backed value beyond a point where memory can grow.
pub(crate) fn kept<'c>(cx: &'c Context<'_>) -> &'c [Kept] {
    cx.kept.get_or_init(|| analyze(cx))
}

/// A store that keeps a value past a point where memory can grow.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    /// The store: a declarator, an assignment or a property.
    pub range: TextRange,
    /// What it keeps.
    pub held: Held,
    /// Why the value outlives a growth.
    pub outlives: Outlives,
}

/// What a store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Held {
    /// A heap view itself: `HEAPU8`, `Module.HEAPU8`, `memory.HEAP16` (its source text).
    View(String),
    /// A typed array or `DataView` over the memory buffer, or a view's `subarray(…)` (a
    /// description for a message, code in backticks).
    BufferView(String),
    /// The memory buffer itself: `wasmMemory.buffer`, `HEAPU8.buffer` (its text in backticks).
    Buffer(String),
}

/// Why a kept value outlives a point where memory can grow.
#[derive(Debug, Clone)]
pub(crate) enum Outlives {
    /// Stored in a property (the text is the target, e.g. `this.view`).
    Property(String),
    /// Stored in a variable declared outside the function that assigns it.
    OuterVariable(String),
    /// A local read after a growth point (its label, e.g. `` `_malloc(…)` ``).
    Call { var: String, point: String },
    /// A local read inside a nested function.
    Closure(String),
}

/// Finds the stores in three steps, none of which walks the whole file:
///
/// 1. A sparse walk over the words memory-backed values are made of (views, `.buffer`, and the
///    names of variables found to hold one) finds every store of such a value, every alias
///    (`var u8 = HEAPU8`), every `.buffer` comparison and the refresh functions. It is repeated
///    with the names it found until no new name turns up, so that it also sees every store to
///    and read of those variables (an alias of an alias, a global assigned a view).
/// 2. Property stores are decided from that alone.
/// 3. A variable declared in a function is decided by a walk of that function's own body in
///    full, and of the functions nested in it towards the marks of step 1 (a local's stores and
///    reads all sit inside it; only the growth points of the function that stores and reads
///    it count): whether a growth point or a closure separates a store from a read. A global's
///    stores and reads were all seen in step 1, and so were a variable's that step 1 shows
///    re-validated or refreshed along with the views (never reported).
fn analyze(cx: &Context<'_>) -> Vec<Kept> {
    let base = cx.view_reads().clone().with(cx.marks(Kind::Kept));
    let leaves = Leaves::default();
    let mut names: HashSet<Atom> = HashSet::default();
    let mut followed: HashSet<Bid> = HashSet::default();
    let mut marks = base.clone();
    let scan = loop {
        let mut scan = Walker::new(cx, &leaves, &marks, None, Vec::new(), names.clone());
        scan.program();
        // The variables to follow: aliases, and the variables with a memory-backed store.
        let found: Vec<Bid> = scan
            .aliases
            .iter()
            .map(|(id, _, _)| id.clone())
            .chain(
                scan.defs
                    .iter()
                    .filter(|(_, defs)| defs.iter().any(|d| d.held.is_some()))
                    .map(|(id, _)| id.clone()),
            )
            .filter(|id| !followed.contains(id))
            .collect();
        let scan = scan.into_scan();
        if found.is_empty() {
            break scan;
        }
        // Each one's name, where it can mean it: in the function that declares it (a local
        // is read nowhere else), or anywhere.
        let mut more = Vec::new();
        for id in found {
            let word = [Find::Name(&id.0)];
            let within = declaring_fn(cx, &id).and_then(|d| scan.span_of(d));
            more.push(match within {
                Some(span) => cx.find_in(span, &word),
                None => cx.find(&word),
            });
            names.insert(id.0.clone());
            followed.insert(id);
        }
        marks = marks.with_all(&more);
    };
    let mut out = scan.property_stores();
    // Variables, by the function that declares them (`None`: globals); not those the scan
    // already shows exempt (a walk of their whole function would only confirm it: 3.1.x's
    // top-level `buffer` would cost a walk of the whole file).
    let mut by_fn: Vec<(Option<Declared>, Bid)> = scan
        .defs
        .iter()
        .filter(|(id, defs)| defs.iter().any(|d| d.held.is_some()) && !scan.exempt(id))
        .map(|(id, _)| (declaring_fn(cx, id), id.clone()))
        .collect();
    by_fn.sort();
    let mut i = 0;
    while i < by_fn.len() {
        let declared = by_fn[i].0;
        let mut vars = Vec::new();
        while i < by_fn.len() && by_fn[i].0 == declared {
            vars.push(by_fn[i].1.clone());
            i += 1;
        }
        match declared {
            None => out.extend(scan.globals(&vars)),
            Some(function) => {
                let aliases = if function.program {
                    Vec::new()
                } else {
                    scan.aliases_before(cx.parsed.offset(function.at))
                };
                // The way to the function, and the marks inside it (for nested functions).
                let inside = match scan.span_of(function) {
                    Some(span) => marks.within(span),
                    None => marks.clone(),
                };
                let at = inside.with(&marks::at(vec![function.at], cx.place()));
                let wanted = vars.iter().map(|(name, _)| name.clone()).collect();
                let mut walker = Walker::new(cx, &leaves, &at, Some(function), aliases, wanted);
                walker.guarded_ids = scan.guarded_ids.clone();
                walker.program();
                out.extend(walker.locals(&vars));
            }
        }
    }
    out.sort_by_key(|k| k.range.start);
    out
}

/// The function a variable is declared in, as the walk records it: a parameter, a `var`/`let`/
/// `const` (also in a pattern) or a `catch` parameter belongs to the innermost function around
/// it; any other binding (a function or class name, an import) to the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Declared {
    /// Where the function node starts (0: the program).
    at: BytePos,
    /// For the program: whether it is the whole file.
    program: bool,
}

fn declaring_fn(cx: &Context<'_>, id: &Bid) -> Option<Declared> {
    let program = Declared {
        at: BytePos(0),
        program: true,
    };
    let scope = id.1;
    if scope == ScopeId::GLOBAL {
        return None;
    }
    let Some(decl) = cx.scopes.declaration(scope, &id.0) else {
        return Some(program);
    };
    if !matches!(
        decl.kind,
        DeclKind::Var | DeclKind::Lexical | DeclKind::Param | DeclKind::Catch
    ) {
        return Some(program);
    }
    Some(match cx.scopes.enclosing_function(decl.site) {
        Some(at) => Declared { at, program: false },
        None => program,
    })
}

/// Whether calling a function declaration cannot grow memory, by binding (see [`leaf`]).
type Leaves = RefCell<HashMap<Bid, bool>>;

#[derive(Debug)]
struct FnInfo {
    /// The function's node (the program's for the first).
    span: Span,
    parent: Option<usize>,
    /// Assigns a new typed array to a glue view or an `X.HEAPx` property.
    refresh: bool,
    /// Calls `X.grow(…)`.
    grows: bool,
    /// Has any call, `new`, `await`, `yield` or tagged template in its own body.
    calls: bool,
}

/// A call, `new`, `await` or `yield` that may let memory grow.
#[derive(Debug)]
struct Point {
    func: usize,
    end: u32,
    label: Label,
    /// The object whose method is called, when it is a plain identifier (resolved when asked).
    receiver: Option<Ident>,
    /// The function called, when it is a plain identifier (`P(…)`).
    callee: Option<Ident>,
}

/// How a growth point is named in messages, rendered only when one is reported (every call of
/// a file is a point).
#[derive(Debug, Clone, Copy)]
enum Label {
    /// `` `callee(…)` ``, with the callee's range.
    Call(TextRange),
    /// `` `callee?.(…)` ``.
    OptCall(TextRange),
    /// `` `new Callee(…)` ``.
    New(TextRange),
    /// `` the tagged template `tag…` ``.
    Tagged(TextRange),
    Await,
    Yield,
}

impl Label {
    fn text(self, text: &str) -> String {
        let slice = |r: TextRange| short(&text[r.as_usize()]);
        match self {
            Label::Call(callee) => format!("`{}(…)`", slice(callee)),
            Label::OptCall(callee) => format!("`{}?.(…)`", slice(callee)),
            Label::New(callee) => format!("`new {}(…)`", slice(callee)),
            Label::Tagged(tag) => format!("the tagged template `{}…`", slice(tag)),
            Label::Await => "`await`".to_owned(),
            Label::Yield => "`yield`".to_owned(),
        }
    }
}

/// A store to a variable (declarator or plain assignment).
#[derive(Debug)]
struct Def {
    func: usize,
    range: TextRange,
    end: u32,
    held: Option<Held>,
}

#[derive(Debug, Clone, Copy)]
struct Use {
    func: usize,
    start: u32,
    /// Where the innermost statement around the read starts.
    statement: u32,
}

#[derive(Debug)]
struct PropStore {
    func: usize,
    range: TextRange,
    target: String,
    /// The target as a path (`this.views[]`), to match a `.buffer` comparison.
    path: Option<String>,
    /// The class around the store, if any: paths through `this` only match inside it.
    scope: Option<TextRange>,
    held: Held,
}

/// The walk behind the analysis: sparse over `marks` (step 1 of [`analyze`]), or, with a
/// `target`, along the path to one function (marked by its start) and then all of it.
struct Walker<'a, 'cx> {
    cx: &'a Context<'cx>,
    leaves: &'a Leaves,
    marks: &'a Marks,
    target: Option<Declared>,
    /// Inside the target function (always, for the program): no node is skipped.
    inside: bool,
    /// The variables whose every store and read is recorded (others: only memory-backed
    /// stores), so that not every identifier has to be resolved.
    wanted: HashSet<Atom>,
    fns: Vec<FnInfo>,
    stack: Vec<usize>,
    /// Per function on the stack: whether the walk is inside a `throw` statement's operand.
    throwing: Vec<bool>,
    loops: Vec<(usize, TextRange)>,
    /// Starts of the statements around the node being visited.
    statements: Vec<u32>,
    points: Vec<Point>,
    defs: HashMap<Bid, Vec<Def>>,
    /// Every read of a variable, in walk order (grouped by variable only for the few that
    /// hold a memory-backed value, in `finish`).
    uses: Vec<(Bid, Use)>,
    /// The function that declares each variable (absent: global, or the program).
    decl_fn: HashMap<Bid, usize>,
    /// Variables declared with a memory-backed initialiser, and where that declaration ends
    /// (a text offset).
    aliases: Vec<(Bid, Held, u32)>,
    props: Vec<PropStore>,
    /// Variables and property names whose `.buffer` the code compares.
    guarded_ids: HashSet<Bid>,
    guarded_paths: HashSet<(String, Option<TextRange>)>,
    /// The classes around the node being visited.
    classes: Vec<TextRange>,
    /// Reads that are operands of an equality comparison: `(variable, offset)`.
    compared: HashSet<(Bid, u32)>,
}

/// What the sparse scan found (step 1 of [`analyze`]).
struct Scan {
    fns: Vec<FnInfo>,
    defs: HashMap<Bid, Vec<Def>>,
    uses: Vec<(Bid, Use)>,
    aliases: Vec<(Bid, Held, u32)>,
    props: Vec<PropStore>,
    guarded_ids: HashSet<Bid>,
    guarded_paths: HashSet<(String, Option<TextRange>)>,
    compared: HashSet<(Bid, u32)>,
    text: String,
}

impl Scan {
    /// Property stores that keep a value (step 2).
    fn property_stores(&self) -> Vec<Kept> {
        let mut out = Vec::new();
        for store in &self.props {
            if self.fns[store.func].refresh
                || store
                    .path
                    .as_ref()
                    .is_some_and(|path| self.guarded_paths.contains(&(path.clone(), store.scope)))
            {
                continue;
            }
            out.push(Kept {
                range: store.range,
                held: store.held.clone(),
                outlives: Outlives::Property(store.target.clone()),
            });
        }
        out
    }

    /// The aliases declared before `at` (a text offset; in walk order), to seed a walk that
    /// starts there.
    fn aliases_before(&self, at: u32) -> Vec<(Bid, Held, u32)> {
        let _ = &self.text;
        self.aliases
            .iter()
            .filter(|(_, _, end)| *end <= at)
            .cloned()
            .collect()
    }

    /// The span of the function (not the program) `declared` names, if the scan entered it.
    fn span_of(&self, declared: Declared) -> Option<Span> {
        if declared.program {
            return None;
        }
        self.fns
            .iter()
            .find(|f| f.span.lo == declared.at)
            .map(|f| f.span)
    }

    /// Whether `id` is re-validated (its `.buffer` compared) or assigned in a view refresh
    /// (3.1.x's `buffer`, which `updateGlobalBufferAndViews` assigns): never reported. What a
    /// walk sees here, a walk of more of the file sees too.
    fn exempt(&self, id: &Bid) -> bool {
        self.guarded_ids.contains(id)
            || self
                .defs
                .get(id)
                .is_some_and(|defs| defs.iter().any(|d| self.fns[d.func].refresh))
    }

    /// Stores to globals (declared nowhere): every store and read of them was seen.
    fn globals(&self, vars: &[Bid]) -> Vec<Kept> {
        let mut out = Vec::new();
        for id in vars {
            let defs = &self.defs[id];
            if self.exempt(id) {
                continue;
            }
            let read = self
                .uses
                .iter()
                .any(|(u, read)| u == id && !self.compared.contains(&(id.clone(), read.start)));
            if !read {
                continue;
            }
            for def in defs {
                let Some(held) = &def.held else { continue };
                if self.fns[def.func].refresh
                    || (matches!(held, Held::Buffer(_)) && self.fns[def.func].grows)
                {
                    continue;
                }
                out.push(Kept {
                    range: def.range,
                    held: held.clone(),
                    outlives: Outlives::OuterVariable(id.0.to_string()),
                });
            }
        }
        out
    }
}

impl<'a, 'cx> Walker<'a, 'cx> {
    fn new(
        cx: &'a Context<'cx>,
        leaves: &'a Leaves,
        marks: &'a Marks,
        target: Option<Declared>,
        aliases: Vec<(Bid, Held, u32)>,
        wanted: HashSet<Atom>,
    ) -> Self {
        let inside = target.is_some_and(|d| d.program);
        Walker {
            cx,
            leaves,
            marks,
            target,
            inside,
            wanted,
            fns: vec![FnInfo {
                span: cx.parsed.program.span(),
                parent: None,
                refresh: false,
                grows: false,
                calls: false,
            }],
            stack: vec![0],
            throwing: vec![false],
            loops: Vec::new(),
            statements: Vec::new(),
            points: Vec::new(),
            defs: HashMap::default(),
            uses: Vec::new(),
            decl_fn: HashMap::default(),
            aliases,
            props: Vec::new(),
            guarded_ids: HashSet::default(),
            guarded_paths: HashSet::default(),
            classes: Vec::new(),
            compared: HashSet::default(),
        }
    }

    /// Walks the program (what of it the walk is for).
    fn program(&mut self) {
        super::views::visit_program(&self.cx.parsed.program, self);
    }

    fn into_scan(self) -> Scan {
        Scan {
            fns: self.fns,
            defs: self.defs,
            uses: self.uses,
            aliases: self.aliases,
            props: self.props,
            guarded_ids: self.guarded_ids,
            guarded_paths: self.guarded_paths,
            compared: self.compared,
            text: String::new(),
        }
    }

    /// Whether the walk skips `span`: it holds no mark (off the path to the target).
    fn skip(&self, span: Span) -> bool {
        !self.inside && !self.marks.covers(span)
    }

    /// Whether entering a function at `span` starts the target.
    fn enters_target(&self, span: Span) -> bool {
        !self.inside && self.target.is_some_and(|d| !d.program && d.at == span.lo)
    }

    fn current(&self) -> usize {
        *self
            .stack
            .last()
            .expect("the program is always on the stack")
    }

    fn enter(&mut self, span: Span) -> usize {
        let parent = self.current();
        self.fns.push(FnInfo {
            span,
            parent: Some(parent),
            refresh: false,
            grows: false,
            calls: false,
        });
        let id = self.fns.len() - 1;
        self.stack.push(id);
        self.throwing.push(false);
        id
    }

    fn leave(&mut self) {
        self.stack.pop();
        self.throwing.pop();
    }

    /// Visits a function-like node: skipped off the path, the whole of it once it is the
    /// target. A function nested in the target is walked towards the marks only: the target's
    /// findings need its own body in full (its growth points and loops) and, of a nested
    /// function, only where the variables occur and what the marks lead to (stores of views,
    /// refreshes, `.grow(…)` calls, `.buffer` comparisons).
    fn function(&mut self, span: Span, body: impl FnOnce(&mut Self)) {
        if self.skip(span) {
            return;
        }
        let outer = self.inside;
        if self.enters_target(span) {
            self.inside = true;
        } else if self.target.is_some() {
            self.inside = false;
        }
        self.enter(span);
        body(self);
        self.leave();
        self.inside = outer;
    }

    /// Records the bindings of a parameter or catch pattern as declared in the current function.
    fn declare_pat(&mut self, pat: &Pat) {
        struct Bindings<'w>(&'w mut Vec<Ident>);
        impl Visit for Bindings<'_> {
            fn visit_binding_ident(&mut self, b: &swc_ecma_ast::BindingIdent) {
                self.0.push(b.id.clone());
            }
            fn visit_expr(&mut self, _: &Expr) {}
        }
        let mut idents = Vec::new();
        pat.visit_with(&mut Bindings(&mut idents));
        let func = self.current();
        for ident in idents {
            if self.wanted.contains(&ident.sym) {
                self.decl_fn.insert(self.cx.bid(&ident), func);
            }
        }
    }

    fn def(&mut self, ident: &Ident, range: TextRange, held: Option<Held>) {
        if held.is_none() && !self.wanted.contains(&ident.sym) {
            return;
        }
        let func = self.current();
        self.defs.entry(self.cx.bid(ident)).or_default().push(Def {
            func,
            range,
            end: range.end,
            held,
        });
    }

    /// The memory-backed value a variable was declared with, if it is an alias seen so far.
    fn alias(&self, ident: &Ident) -> Option<&Held> {
        if self.aliases.is_empty() {
            return None;
        }
        let id = self.cx.bid(ident);
        self.aliases
            .iter()
            .rev()
            .find(|(a, _, _)| *a == id)
            .map(|(_, held, _)| held)
    }

    /// What a value expression keeps, if it is backed by wasm memory.
    fn classify(&self, expr: &Expr) -> Option<Held> {
        let expr = unwrap(expr);
        if let Some(view) = self.view_text(expr) {
            return Some(Held::View(view));
        }
        if let Some(buffer) = self.buffer_text(expr) {
            return Some(Held::Buffer(format!("`{buffer}`")));
        }
        match expr {
            Expr::New(new) => {
                let Expr::Ident(callee) = &*new.callee else {
                    return None;
                };
                let ctor = &*callee.sym;
                // Only a typed array or DataView constructed over the buffer, not `new Uint8Array(n)`.
                if !is_typed_array(ctor) && ctor != "DataView" {
                    return None;
                }
                let first = new.args.as_ref()?.first()?;
                if first.spread.is_some() {
                    return None;
                }
                let buffer = self.buffer_text(unwrap(&first.expr))?;
                let article = if ctor.starts_with('I') { "an" } else { "a" };
                Some(Held::BufferView(format!(
                    "{article} `{ctor}` over `{buffer}`"
                )))
            }
            Expr::Call(call) => {
                let Callee::Expr(callee) = &call.callee else {
                    return None;
                };
                let Expr::Member(member) = &**callee else {
                    return None;
                };
                if member_prop_name(&member.prop) != Some("subarray") {
                    return None;
                }
                let view = self.view_text(unwrap(&member.obj))?;
                Some(Held::BufferView(format!("`{view}.subarray(…)`")))
            }
            _ => None,
        }
    }

    /// Whether `ident` is the glue's view: global or top-level, or assigned by the file's
    /// refresh function (`MODULARIZE` glue declares its views inside the factory function;
    /// Closure renames them). See `Context::views`.
    fn is_glue_view(&self, ident: &Ident) -> bool {
        self.cx.glue_view(ident).is_some()
    }

    /// The text of a heap-view expression: a glue view, `X.HEAPx` on any object, a variable
    /// declared with one, or Emscripten's `GROWABLE_HEAP_U8()` helpers (named by their view).
    fn view_text(&self, expr: &Expr) -> Option<String> {
        let expr = unwrap(expr);
        if let Expr::Call(call) = expr
            && call.args.is_empty()
            && let Some(Helper::View(view)) = self.cx.helper_call(call)
        {
            return Some(view.to_owned());
        }
        if self.cx.glue_view_expr(expr).is_some() {
            return Some(short(self.cx.slice(expr.span())));
        }
        match expr {
            Expr::Member(member) => {
                view_name(member_prop_name(&member.prop)?)?;
                Some(short(self.cx.slice(member.span)))
            }
            Expr::Ident(ident) => match self.alias(ident) {
                Some(Held::View(_)) => Some(ident.sym.to_string()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The text of a memory-buffer expression: `X.buffer` where X is a heap view or a wasm
    /// memory (`wasmMemory`, `memory`, `…Memory`, `x.memory`), or a variable declared with one.
    fn buffer_text(&self, expr: &Expr) -> Option<String> {
        match unwrap(expr) {
            Expr::Member(member) if member_prop_name(&member.prop) == Some("buffer") => {
                let object = unwrap(&member.obj);
                (is_memory(object) || self.view_text(object).is_some())
                    .then(|| short(&format!("{}.buffer", self.cx.slice(object.span()))))
            }
            Expr::Ident(ident) => match self.alias(ident) {
                Some(Held::Buffer(_)) => Some(ident.sym.to_string()),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether `value` (through `a = b = …` chains) constructs a typed array: a view refresh.
    fn is_refresh_value(value: &Expr) -> bool {
        match unwrap(value) {
            Expr::New(new) => {
                matches!(&*new.callee, Expr::Ident(c) if is_typed_array(&c.sym) || &*c.sym == "DataView")
            }
            _ => false,
        }
    }

    /// Marks the current function as a view refresh (never the program's top level).
    fn mark_refresh(&mut self) {
        let func = self.current();
        if func != 0 {
            self.fns[func].refresh = true;
        }
    }

    /// Notes that the current function's own body calls something.
    fn calls(&mut self) {
        let func = self.current();
        self.fns[func].calls = true;
    }

    fn point(&mut self, end: u32, label: Label, receiver: Option<Ident>) {
        self.point_calling(end, label, receiver, None);
    }

    fn point_calling(
        &mut self,
        end: u32,
        label: Label,
        receiver: Option<Ident>,
        callee: Option<Ident>,
    ) {
        // `throw new N(28)`: the function leaves through the exception, so nothing after it in
        // the function runs once the operand did (Closure renames `FS.ErrnoError`).
        if self.throwing.last().copied().unwrap_or(false) {
            return;
        }
        let func = self.current();
        self.points.push(Point {
            func,
            end,
            label,
            receiver,
            callee,
        });
    }

    fn loop_range(&mut self, range: TextRange) {
        let func = self.current();
        self.loops.push((func, range));
    }

    /// Records `operand` of an equality comparison: a compared read, or a guarded `.buffer`.
    fn compared_operand(&mut self, operand: &Expr) {
        match unwrap(operand) {
            Expr::Ident(ident) if self.wanted.contains(&ident.sym) => {
                let id = self.cx.bid(ident);
                self.compared.insert((id, self.cx.range(ident.span).start));
            }
            Expr::Ident(_) => {}
            Expr::Member(member) if member_prop_name(&member.prop) == Some("buffer") => {
                match unwrap(&member.obj) {
                    Expr::Ident(ident) => {
                        let id = self.cx.bid(ident);
                        self.guarded_ids.insert(id);
                    }
                    other => {
                        if let Some(path) = member_path(other) {
                            let scope = self.classes.last().copied();
                            self.guarded_paths.insert((path, scope));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Visits the elements of a list: all of them inside the target, else those with a mark.
macro_rules! elements {
    ($name:ident, $ty:ty) => {
        fn $name(&mut self, list: &[$ty]) {
            if self.inside {
                for item in list {
                    item.visit_with(self);
                }
            } else {
                let marks = self.marks;
                for item in marks.each(list) {
                    item.visit_with(self);
                }
            }
        }
    };
}

impl Visit for Walker<'_, '_> {
    elements!(visit_stmts, Stmt);
    elements!(visit_module_items, ModuleItem);
    elements!(visit_prop_or_spreads, PropOrSpread);
    elements!(visit_expr_or_spreads, ExprOrSpread);
    elements!(visit_class_members, ClassMember);
    elements!(visit_var_declarators, VarDeclarator);
    elements!(visit_exprs, Box<Expr>);
    elements!(visit_switch_cases, SwitchCase);

    fn visit_pat(&mut self, p: &Pat) {
        if !self.skip(p.span()) {
            p.visit_children_with(self);
        }
    }

    fn visit_tagged_tpl(&mut self, t: &TaggedTpl) {
        t.visit_children_with(self);
        self.calls();
        let label = Label::Tagged(self.cx.range(t.tag.span()));
        self.point(self.cx.range(t.span).end, label, None);
    }

    fn visit_function(&mut self, f: &Function) {
        self.function(f.span, |w| {
            for param in &f.params {
                w.declare_pat(&param.pat);
            }
            f.visit_children_with(w);
        });
    }

    fn visit_arrow_expr(&mut self, arrow: &ArrowExpr) {
        self.function(arrow.span, |w| {
            for param in &arrow.params {
                w.declare_pat(param);
            }
            arrow.visit_children_with(w);
        });
    }

    fn visit_constructor(&mut self, c: &Constructor) {
        self.function(c.span, |w| {
            for param in &c.params {
                match param {
                    ParamOrTsParamProp::Param(p) => w.declare_pat(&p.pat),
                    ParamOrTsParamProp::TsParamProp(p) => match &p.param {
                        TsParamPropParam::Ident(b) => {
                            if w.wanted.contains(&b.id.sym) {
                                let func = w.current();
                                w.decl_fn.insert(w.cx.bid(&b.id), func);
                            }
                        }
                        TsParamPropParam::Assign(a) => w.declare_pat(&a.left),
                    },
                }
            }
            c.visit_children_with(w);
        });
    }

    fn visit_catch_clause(&mut self, c: &CatchClause) {
        if self.skip(c.span) {
            return;
        }
        if let Some(param) = &c.param {
            self.declare_pat(param);
        }
        c.visit_children_with(self);
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if self.skip(d.span) {
            return;
        }
        d.init.visit_with(self);
        let Pat::Ident(binding) = &d.name else {
            // Destructuring is `heap-destructure`'s; still record its bindings.
            self.declare_pat(&d.name);
            d.name.visit_with(self);
            return;
        };
        let func = self.current();
        if self.wanted.contains(&binding.id.sym) {
            self.decl_fn.insert(self.cx.bid(&binding.id), func);
        }
        let Some(init) = &d.init else {
            return;
        };
        let held = self.classify(init);
        if let Some(held) = &held {
            self.aliases.push((
                self.cx.bid(&binding.id),
                held.clone(),
                self.cx.range(d.span).end,
            ));
        }
        self.def(&binding.id, self.cx.range(d.span), held);
    }

    fn visit_assign_expr(&mut self, a: &AssignExpr) {
        a.right.visit_with(self);
        let range = self.cx.range(a.span);
        match &a.left {
            AssignTarget::Simple(SimpleAssignTarget::Ident(binding)) => {
                if a.op != AssignOp::Assign {
                    self.visit_expr(&Expr::Ident(binding.id.clone()));
                    self.def(&binding.id, range, None);
                    return;
                }
                if self.is_glue_view(&binding.id) {
                    // `HEAP8 = new Int8Array(b)`: the refresh itself.
                    if Self::is_refresh_value(&a.right) {
                        self.mark_refresh();
                    }
                    return;
                }
                let held = self.classify(&a.right);
                self.def(&binding.id, range, held);
            }
            AssignTarget::Simple(SimpleAssignTarget::Member(member)) => {
                member.visit_with(self);
                if a.op != AssignOp::Assign {
                    return;
                }
                if member_prop_name(&member.prop).is_some_and(|k| view_name(k).is_some())
                    && Self::is_refresh_value(&a.right)
                {
                    // `Module['HEAP8'] = …new Int8Array(b)`: the refresh itself.
                    self.mark_refresh();
                    return;
                }
                if let Some(held) = self.classify(&a.right) {
                    let func = self.current();
                    self.props.push(PropStore {
                        func,
                        range,
                        target: short(self.cx.slice(member.span)),
                        path: member_expr_path(member),
                        scope: self.classes.last().copied(),
                        held,
                    });
                }
            }
            AssignTarget::Simple(other) => other.visit_with(self),
            AssignTarget::Pat(pat) => {
                // Destructuring assignment: every bound variable gets an unknown value.
                struct Targets<'w>(&'w mut Vec<Ident>);
                impl Visit for Targets<'_> {
                    fn visit_binding_ident(&mut self, b: &swc_ecma_ast::BindingIdent) {
                        self.0.push(b.id.clone());
                    }
                    fn visit_expr(&mut self, _: &Expr) {}
                }
                let mut idents = Vec::new();
                pat.visit_with(&mut Targets(&mut idents));
                pat.visit_with(self);
                for ident in idents {
                    self.def(&ident, range, None);
                }
            }
        }
    }

    fn visit_update_expr(&mut self, u: &UpdateExpr) {
        u.visit_children_with(self);
        if let Expr::Ident(ident) = &*u.arg {
            self.def(ident, self.cx.range(u.span), None);
        }
    }

    fn visit_expr(&mut self, expr: &Expr) {
        if self.skip(expr.span()) {
            return;
        }
        if let Expr::Ident(ident) = expr {
            if !self.wanted.contains(&ident.sym) {
                return;
            }
            let start = self.cx.range(ident.span).start;
            let key = (self.cx.bid(ident), start);
            if !self.compared.contains(&key) {
                let (id, _) = key;
                let func = self.current();
                let statement = self.statements.last().copied().unwrap_or(0);
                self.uses.push((
                    id,
                    Use {
                        func,
                        start,
                        statement,
                    },
                ));
            }
            return;
        }
        expr.visit_children_with(self);
    }

    fn visit_prop(&mut self, prop: &Prop) {
        if self.skip(prop.span()) {
            return;
        }
        match prop {
            Prop::Shorthand(ident) => self.visit_expr(&Expr::Ident(ident.clone())),
            Prop::KeyValue(kv) => {
                kv.visit_children_with(self);
                // Views in object literals are `heap-snapshot`'s; buffer views are ours.
                if let Some(held @ (Held::BufferView(_) | Held::Buffer(_))) =
                    self.classify(&kv.value)
                {
                    let func = self.current();
                    self.props.push(PropStore {
                        func,
                        range: self.cx.range(kv.span()),
                        target: short(self.cx.slice(kv.key.span())),
                        path: None,
                        scope: None,
                        held,
                    });
                }
            }
            other => other.visit_children_with(self),
        }
    }

    fn visit_class_prop(&mut self, p: &ClassProp) {
        if self.skip(p.span) {
            return;
        }
        p.visit_children_with(self);
        let Some(value) = &p.value else {
            return;
        };
        if let Some(held) = self.classify(value) {
            let func = self.current();
            self.props.push(PropStore {
                func,
                range: self.cx.range(p.span),
                target: format!("this.{}", short(self.cx.slice(p.key.span()))),
                path: prop_key(&p.key).map(|k| format!("this.{k}")),
                scope: self.classes.last().copied(),
                held,
            });
        }
    }

    fn visit_class(&mut self, c: &Class) {
        if self.skip(c.span) {
            return;
        }
        self.classes.push(self.cx.range(c.span));
        c.visit_children_with(self);
        self.classes.pop();
    }

    fn visit_bin_expr(&mut self, b: &BinExpr) {
        if matches!(
            b.op,
            BinaryOp::EqEq | BinaryOp::NotEq | BinaryOp::EqEqEq | BinaryOp::NotEqEq
        ) {
            self.compared_operand(&b.left);
            self.compared_operand(&b.right);
        }
        b.visit_children_with(self);
    }

    fn visit_call_expr(&mut self, call: &CallExpr) {
        call.visit_children_with(self);
        self.calls();
        let Callee::Expr(callee) = &call.callee else {
            return;
        };
        let callee = unwrap(callee);
        if let Expr::Member(member) = callee
            && member_prop_name(&member.prop) == Some("grow")
        {
            let func = self.current();
            self.fns[func].grows = true;
        }
        if !self.may_grow(callee) {
            return;
        }
        let receiver = match callee {
            Expr::Member(member) => match unwrap(&member.obj) {
                Expr::Ident(object) => Some(object.clone()),
                _ => None,
            },
            _ => None,
        };
        let called = match callee {
            Expr::Ident(ident) => Some(ident.clone()),
            _ => None,
        };
        let label = Label::Call(self.cx.range(callee.span()));
        self.point_calling(self.cx.range(call.span).end, label, receiver, called);
    }

    fn visit_opt_call(&mut self, call: &OptCall) {
        call.visit_children_with(self);
        self.calls();
        let callee = unwrap(&call.callee);
        if !self.may_grow(callee) {
            return;
        }
        let label = Label::OptCall(self.cx.range(callee.span()));
        self.point(self.cx.range(call.span).end, label, None);
    }

    fn visit_new_expr(&mut self, new: &NewExpr) {
        new.visit_children_with(self);
        self.calls();
        if let Expr::Ident(callee) = &*new.callee
            && (is_typed_array(&callee.sym)
                || matches!(
                    &*callee.sym,
                    "DataView"
                        | "ArrayBuffer"
                        | "SharedArrayBuffer"
                        | "Error"
                        | "TypeError"
                        | "RangeError"
                ))
        {
            return;
        }
        let label = Label::New(self.cx.range(new.callee.span()));
        self.point(self.cx.range(new.span).end, label, None);
    }

    fn visit_await_expr(&mut self, a: &AwaitExpr) {
        a.visit_children_with(self);
        self.calls();
        self.point(self.cx.range(a.span).end, Label::Await, None);
    }

    fn visit_yield_expr(&mut self, y: &YieldExpr) {
        y.visit_children_with(self);
        self.calls();
        self.point(self.cx.range(y.span).end, Label::Yield, None);
    }

    fn visit_throw_stmt(&mut self, t: &ThrowStmt) {
        let outer = self.throwing.last().copied().unwrap_or(false);
        if let Some(last) = self.throwing.last_mut() {
            *last = true;
        }
        t.visit_children_with(self);
        if let Some(last) = self.throwing.last_mut() {
            *last = outer;
        }
    }

    fn visit_stmt(&mut self, s: &Stmt) {
        if self.skip(s.span()) {
            return;
        }
        self.statements.push(self.cx.range(s.span()).start);
        s.visit_children_with(self);
        self.statements.pop();
    }

    fn visit_for_stmt(&mut self, s: &ForStmt) {
        self.loop_range(self.cx.range(s.span));
        s.visit_children_with(self);
    }

    fn visit_for_in_stmt(&mut self, s: &ForInStmt) {
        self.loop_range(self.cx.range(s.span));
        s.visit_children_with(self);
    }

    fn visit_for_of_stmt(&mut self, s: &ForOfStmt) {
        self.loop_range(self.cx.range(s.span));
        s.visit_children_with(self);
    }

    fn visit_while_stmt(&mut self, s: &WhileStmt) {
        self.loop_range(self.cx.range(s.span));
        s.visit_children_with(self);
    }

    fn visit_do_while_stmt(&mut self, s: &DoWhileStmt) {
        self.loop_range(self.cx.range(s.span));
        s.visit_children_with(self);
    }
}

impl Walker<'_, '_> {
    /// Whether calling `callee` may run wasm code (and so grow memory).
    fn may_grow(&self, callee: &Expr) -> bool {
        match callee {
            // Emscripten's view helpers only refresh the views (`GROWABLE_HEAP_U8()`,
            // `growMemViews()`, also Closure-renamed ones, recognised by their body), and the
            // global conversion functions never call into wasm (`BigInt(k)`).
            Expr::Ident(ident) => {
                self.cx.views().helper(self.cx, ident).is_none()
                    && !(matches!(&*ident.sym, "BigInt" | "Number" | "String" | "Boolean")
                        && self.cx.is_global(ident))
            }
            Expr::Member(member) => {
                let object = unwrap(&member.obj);
                // A method of a heap view or of a kept value: typed-array methods.
                if self.classify(object).is_some() {
                    return false;
                }
                // String and array methods that take no callback (`str.charCodeAt(i)`).
                if member_prop_name(&member.prop).is_some_and(is_plain_builtin_method) {
                    return false;
                }
                // Built-ins that never call back into wasm.
                let mut root = object;
                while let Expr::Member(inner) = root {
                    root = unwrap(&inner.obj);
                }
                !matches!(root, Expr::Ident(r)
                    if matches!(&*r.sym, "Math" | "Atomics" | "String" | "Number" | "BigInt")
                        && self.cx.is_global(r))
            }
            _ => true,
        }
    }

    /// The findings for variables declared in the walked target (step 3 of [`analyze`]).
    fn locals(&self, vars: &[Bid]) -> Vec<Kept> {
        let mut out = Vec::new();
        let refresh = |func: usize| self.fns[func].refresh;
        let wanted: HashSet<&Bid> = vars.iter().collect();
        let mut reads: HashMap<&Bid, Vec<Use>> = HashMap::default();
        for (id, read) in &self.uses {
            if wanted.contains(id) {
                reads.entry(id).or_default().push(*read);
            }
        }
        for id in vars {
            let Some(defs) = self.defs.get(id) else {
                continue;
            };
            // Re-validated (`.buffer` compared), or refreshed along with the views (3.1.x's
            // `buffer` global, which `updateGlobalBufferAndViews` assigns).
            if self.guarded_ids.contains(id) || defs.iter().any(|d| refresh(d.func)) {
                continue;
            }
            let uses = reads.get(id).map_or(&[][..], Vec::as_slice);
            if uses.is_empty() {
                continue;
            }
            for def in defs {
                let Some(held) = &def.held else { continue };
                if refresh(def.func)
                    || (matches!(held, Held::Buffer(_)) && self.fns[def.func].grows)
                {
                    continue;
                }
                let name = id.0.to_string();
                let declared = self.declared_in(id);
                let outlives = if declared != Some(def.func) {
                    Some(Outlives::OuterVariable(name))
                } else {
                    self.stale_read(id, def, defs, uses).map(|why| match why {
                        Why::Point(point) => Outlives::Call {
                            var: name.clone(),
                            point,
                        },
                        Why::Closure => Outlives::Closure(name.clone()),
                    })
                };
                if let Some(outlives) = outlives {
                    out.push(Kept {
                        range: def.range,
                        held: held.clone(),
                        outlives,
                    });
                }
            }
        }
        out
    }

    /// The function that declares `id`: recorded, else the program for a top-level binding;
    /// `None` for a global.
    fn declared_in(&self, id: &Bid) -> Option<usize> {
        if let Some(func) = self.decl_fn.get(id) {
            return Some(*func);
        }
        if id.1 == ScopeId::GLOBAL {
            None
        } else {
            // A binding the walk did not see declared (a function or class name): the program.
            Some(0)
        }
    }

    /// Whether `ancestor` encloses `func` (strictly).
    fn encloses(&self, ancestor: usize, mut func: usize) -> bool {
        while let Some(parent) = self.fns[func].parent {
            if parent == ancestor {
                return true;
            }
            func = parent;
        }
        false
    }

    /// The first read that `def` reaches after a growth point, or from a nested function.
    fn stale_read(&self, id: &Bid, def: &Def, defs: &[Def], uses: &[Use]) -> Option<Why> {
        let mut uses: Vec<Use> = uses.to_vec();
        uses.sort_by_key(|u| u.start);
        for read in uses {
            if read.start < def.end {
                continue;
            }
            if read.func == def.func {
                // The store this read sees: the last one before it in the same function.
                let reaching = defs
                    .iter()
                    .filter(|d| d.func == def.func && d.end <= read.start)
                    .max_by_key(|d| d.end);
                if !reaching.is_some_and(|d| std::ptr::eq(d, def)) {
                    continue;
                }
                if let Some(point) = self.point_between(id, def, read) {
                    return Some(Why::Point(point.label.text(self.cx.text)));
                }
            } else if self.encloses(def.func, read.func) {
                // A closure: unless it stores a value itself before reading.
                let own = defs
                    .iter()
                    .any(|d| d.func == read.func && d.end <= read.start);
                if !own {
                    return Some(Why::Closure);
                }
            }
        }
        None
    }

    /// A growth point of the def's function that can run between the store and the read.
    fn point_between(&self, id: &Bid, def: &Def, read: Use) -> Option<&Point> {
        // The outermost loop around the read that does not contain the store.
        let around = self
            .loops
            .iter()
            .filter(|(func, r)| {
                *func == def.func
                    && r.start <= read.start
                    && read.start < r.end
                    && !(r.start <= def.range.start && def.range.start < r.end)
            })
            .map(|(_, r)| *r)
            .min_by_key(|r| r.start);
        // Statement order: a point in the read's own statement (`f(g(), view)`) runs after the
        // store only when the store is in that statement too.
        let before = if def.end > read.statement {
            read.start
        } else {
            read.statement
        };
        let kept = |r: &Ident| {
            (r.sym == id.0 || self.aliases.iter().any(|(a, _, _)| a.0 == r.sym)) && {
                let r = self.cx.bid(r);
                r == *id || self.aliases.iter().any(|(a, _, _)| *a == r)
            }
        };
        self.points.iter().find(|p| {
            p.func == def.func
                && ((def.end < p.end && p.end <= before)
                    || around.is_some_and(|r| r.start < p.end && p.end <= r.end))
                && !p.receiver.as_ref().is_some_and(kept)
                // A call of a function declaration whose body calls nothing (Closure's inlined
                // `function P(a){return 16384===(a&61440)}`, `FS.isDir`) cannot run wasm code.
                && !p
                    .callee
                    .as_ref()
                    .is_some_and(|c| leaf(self.cx, self.leaves, &self.cx.bid(c)))
        })
    }
}

/// Whether calling `callee` cannot grow memory because it is a function declaration whose own
/// body calls nothing (no call, `new`, `await`, `yield` or tagged template outside nested
/// functions) and the name is never reassigned. Found from the name's occurrences; memoised.
fn leaf(cx: &Context<'_>, leaves: &Leaves, callee: &Bid) -> bool {
    if let Some(&leaf) = leaves.borrow().get(callee) {
        return leaf;
    }
    struct Declarations<'a, 'cx> {
        cx: &'a Context<'cx>,
        marks: &'a Marks,
        callee: &'a Bid,
        /// A declaration of it whose body calls nothing.
        quiet: bool,
        assigned: bool,
    }
    impl Visit for Declarations<'_, '_> {
        sparse!(self => self.marks);

        fn visit_fn_decl(&mut self, f: &FnDecl) {
            if f.ident.sym == self.callee.0 && self.cx.bid(&f.ident) == *self.callee {
                let mut calls = Calls(false);
                f.function.body.visit_with(&mut calls);
                self.quiet |= !calls.0;
            }
            f.visit_children_with(self);
        }

        fn visit_simple_assign_target(&mut self, t: &SimpleAssignTarget) {
            if let SimpleAssignTarget::Ident(b) = t
                && b.id.sym == self.callee.0
                && self.cx.bid(&b.id) == *self.callee
            {
                self.assigned = true;
            }
            t.visit_children_with(self);
        }
    }
    /// Whether a body calls anything outside its nested functions.
    struct Calls(bool);
    impl Visit for Calls {
        fn visit_function(&mut self, _: &Function) {}
        fn visit_arrow_expr(&mut self, _: &ArrowExpr) {}
        fn visit_constructor(&mut self, _: &Constructor) {}
        fn visit_call_expr(&mut self, _: &CallExpr) {
            self.0 = true;
        }
        fn visit_opt_call(&mut self, _: &OptCall) {
            self.0 = true;
        }
        fn visit_new_expr(&mut self, _: &NewExpr) {
            self.0 = true;
        }
        fn visit_await_expr(&mut self, _: &AwaitExpr) {
            self.0 = true;
        }
        fn visit_yield_expr(&mut self, _: &YieldExpr) {
            self.0 = true;
        }
        fn visit_tagged_tpl(&mut self, _: &TaggedTpl) {
            self.0 = true;
        }
    }
    let marks = cx.find(&[Find::Name(&callee.0)]);
    let mut find = Declarations {
        cx,
        marks: &marks,
        callee,
        quiet: false,
        assigned: false,
    };
    super::views::visit_program(&cx.parsed.program, &mut find);
    let leaf = find.quiet && !find.assigned;
    leaves.borrow_mut().insert(callee.clone(), leaf);
    leaf
}

enum Why {
    Point(String),
    Closure,
}

/// Strips parentheses, TypeScript casts, `a, b` sequences (to `b`) and `a = b` chains (to `b`).
fn unwrap(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unwrap(&p.expr),
        Expr::TsAs(e) => unwrap(&e.expr),
        Expr::TsNonNull(e) => unwrap(&e.expr),
        Expr::TsSatisfies(e) => unwrap(&e.expr),
        Expr::TsTypeAssertion(e) => unwrap(&e.expr),
        Expr::TsConstAssertion(e) => unwrap(&e.expr),
        Expr::Seq(s) => s.exprs.last().map_or(expr, |e| unwrap(e)),
        Expr::Assign(a) if a.op == AssignOp::Assign => unwrap(&a.right),
        _ => expr,
    }
}

/// Whether `expr` names a wasm memory: `wasmMemory`, `memory`, `…Memory`, or `x.memory`.
fn is_memory(expr: &Expr) -> bool {
    let name = match expr {
        Expr::Ident(ident) => &*ident.sym,
        Expr::Member(member) => match member_prop_name(&member.prop) {
            Some(name) => name,
            None => return false,
        },
        _ => return false,
    };
    name == "memory" || name.ends_with("Memory")
}

/// Methods of strings and arrays that never call back into user code, by name. A user object
/// with a method of the same name is assumed to behave like them.
fn is_plain_builtin_method(name: &str) -> bool {
    matches!(
        name,
        "charAt"
            | "charCodeAt"
            | "codePointAt"
            | "indexOf"
            | "lastIndexOf"
            | "includes"
            | "startsWith"
            | "endsWith"
            | "substring"
            | "substr"
            | "toLowerCase"
            | "toUpperCase"
            | "trim"
            | "padStart"
            | "padEnd"
            | "push"
            | "pop"
            | "slice"
            | "concat"
    )
}

fn is_typed_array(name: &str) -> bool {
    matches!(
        name,
        "Int8Array"
            | "Uint8Array"
            | "Uint8ClampedArray"
            | "Int16Array"
            | "Uint16Array"
            | "Int32Array"
            | "Uint32Array"
            | "Float16Array"
            | "Float32Array"
            | "Float64Array"
            | "BigInt64Array"
            | "BigUint64Array"
    )
}

/// A member chain as a path, computed indexes as `[]`: `this.views[i]` → `this.views[]`.
fn member_path(expr: &Expr) -> Option<String> {
    match unwrap(expr) {
        Expr::Ident(ident) => Some(ident.sym.to_string()),
        Expr::This(_) => Some("this".to_owned()),
        Expr::Member(member) => member_expr_path(member),
        _ => None,
    }
}

fn member_expr_path(member: &MemberExpr) -> Option<String> {
    let object = member_path(&member.obj)?;
    match (member_prop_name(&member.prop), &member.prop) {
        (Some(name), _) => Some(format!("{object}.{name}")),
        (None, MemberProp::Computed(_)) => Some(format!("{object}[]")),
        (None, _) => None,
    }
}

fn prop_key(key: &PropName) -> Option<Atom> {
    match key {
        PropName::Ident(i) => Some(i.sym.clone()),
        PropName::Str(s) => s.value.as_str().map(Atom::from),
        _ => None,
    }
}

/// Source text for a message: whitespace collapsed, long text cut.
pub(crate) fn short(text: &str) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > 40 {
        let cut: String = collapsed.chars().take(39).collect();
        format!("{cut}…")
    } else {
        collapsed
    }
}
