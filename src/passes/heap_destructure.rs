//! ## What it does
//! Flags heap views pinned in a local by destructuring: parameters
//! (`function bindUserSpace({ memory: { HEAP16, HEAP32 } })`, arrows, methods), declarations
//! (`const { HEAP32 } = memory;`, `var { HEAPU8: u8 } = Module;`), nested and renamed bindings.
//! Any destructured property named like a view (`HEAP8` … `HEAPU64`) counts, whatever object it
//! comes from: the point of destructuring a view is to keep it. So this works the same inside a
//! `MODULARIZE` factory and on Closure output, where property names survive
//! (`var {HEAP32:fa}=a;`).
//!
//! On Closure output the keys are renamed too (`function pa({memory:{i:b,h:c}})`). There a
//! property counts when an object literal that reaches the pattern holds a view under that key:
//! `pa({memory:b})` after `var b={l:H,i:J,h:N}`, where `J` is the glue's `HEAP16` (found from
//! the refresh function). Literals are followed through names (`var b = {…}`, `b = c`) and the
//! arguments of calls to a named function (`function pa`, `var pa = (…) => …`), a few hops deep;
//! a getter `get i() { return J; }` (what `heap-snapshot` writes) counts as holding `J`.
//!
//! Not flagged, with a note: destructuring in glue whose views are built over a resizable buffer
//! (`wasmMemory.toResizableBuffer()`, see `heap-snapshot`): those views never detach.
//!
//! ## Why is this bad?
//! Destructuring reads the view once. When WebAssembly memory grows, Emscripten replaces its
//! views, and the local keeps the old one, whose buffer is detached: reads return
//! `undefined`/0 and writes are silently lost. Even when the object is fixed to hand out current
//! views (see `heap-snapshot`), the local is a second, independent stale copy.
//!
//! ## Example
//! ```js
//! function bindUserSpace({ memory: { HEAP16, HEAP32 } }) {
//!   return (ptr) => { HEAP16[ptr >> 1] = 2; HEAP32[(ptr + 4) >> 2] = 0; };
//! }
//! const { HEAPU8: u8 } = Module;
//! u8[p] = 1;
//! ```
//!
//! Use instead: keep the object and read the view at each use.
//! ```js
//! function bindUserSpace({ memory }) {
//!   return (ptr) => { memory.HEAP16[ptr >> 1] = 2; memory.HEAP32[(ptr + 4) >> 2] = 0; };
//! }
//! Module.HEAPU8[p] = 1;
//! ```
//! When the source is not a plain identifier that is never reassigned (`this.memory`, a call),
//! it is kept in a `const` so it is still evaluated once. If the name growsafe would bind clashes
//! with another name in scope, a fresh one is used (`memory_1`). Every use is rewritten,
//! including in nested functions that close over the binding.
//!
//! With `--heap-style accessor`, element reads and writes become `memory.HEAP16.get(i)` and
//! `memory.HEAP16.set(i, v)`, to match the accessor objects `heap-snapshot` writes.
//!
//! In 4.0.9+ pthreads glue a use is `(growMemViews(), HEAP16)[p]`; it becomes
//! `(growMemViews(), memory.HEAP16)[p]` (the object's getter reads the current view). An
//! accessor object cannot serve that form, so `--heap-style accessor` falls back to getters.
//!
//! When nothing is destructured, the pass notes that views are already read through their
//! object at each use if it sees `object.HEAPx` on an object other than `Module` or another
//! object Emscripten's refresh function writes views onto (Closure's `a.HEAP8 = …`).
//!
//! ## Fix safety
//! The fix is safe: each use now reads the property at the time of use, which is what the code
//! meant. No fix is offered (the finding is still reported) when a binding is reassigned, has a
//! default value, is exported, sits in a pattern with a `...rest` element (removing it would
//! change `rest`), or is destructured in an assignment, a loop head or a `catch` clause.
//!
//! ## References
//! - WordPress Playground #3317, "Fix two WASM memory growth bugs" (`memory: { HEAP16, HEAP64, HEAP32 }`)
//! - emscripten-core/emscripten#6747, "Attempting to access detached ArrayBuffer in WASM after memory growth"

mod flow;

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock as OnceCell;

use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    ArrowExpr, ArrowFunctionBody, AssignExpr, AssignOp, AssignTarget, Constructor, Decl, Expr,
    ExprStmt, Function, Ident, MemberExpr, MemberProp, ModuleExportName, ModuleItem, NamedExport,
    ObjectLit, ObjectPat, ObjectPatProp, Pat, Prop, PropName, PropOrSpread, SimpleAssignTarget,
    Stmt, UpdateExpr, VarDecl, VarDeclarator,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::marks::{Find, Kind, Marks};
use super::views::{sparse, visit_program};
use crate::scope::Bid;

use super::views::view_name;
use super::{Context, HeapStyle, PassId};
use crate::diagnostic::{Analysis, Finding, Remark, RemarkKind, TextRange};
use crate::fix::{Edit, Fix};

// heap-destructure
pub(crate) fn heap_destructure(cx: &Context<'_>, out: &mut Analysis) {
    let plan = plan(cx);
    if let Some(call) = cx.views().resizable()
        && !plan.groups.is_empty()
    {
        out.remarks.push(Remark {
            pass: PassId::HeapDestructure,
            kind: RemarkKind::LeftAlone,
            range: Some(cx.range(call)),
            message: format!(
                "{} destructuring(s) of heap views left alone: the views are built over `{}`, \
                 which grows in place, so a local copy stays valid",
                plan.groups.len(),
                super::kept::short(cx.slice(call))
            ),
        });
        return;
    }
    let accessor = cx.options.heap_style == HeapStyle::Accessor;
    if accessor && let Some((range, why)) = &plan.blocker {
        out.remarks.push(Remark {
            pass: PassId::HeapDestructure,
            kind: RemarkKind::Fallback,
            range: Some(*range),
            message: format!("{why}, which an accessor object cannot serve; rewriting uses as `object.HEAPx[...]` instead"),
        });
    }
    let accessor = accessor && plan.blocker.is_none();
    if plan.groups.is_empty() {
        // Nothing pinned: say so when views are visibly read through an object at each use,
        // which is what this pass's fix writes (so `--require` holds on fixed output).
        if let Some(span) = call_time_view_read(cx, plan) {
            out.remarks.push(Remark {
                pass: PassId::HeapDestructure,
                kind: RemarkKind::AlreadyFixed,
                range: Some(cx.range(span)),
                message: "heap views are read through their object at each use".to_owned(),
            });
        }
        return;
    }
    for group in &plan.groups {
        // The view, and the local when it has another name (`{ HEAPU8: u8 }`, Closure's
        // `{HEAP32:fa}`).
        let views: Vec<String> = group
            .bindings
            .iter()
            .map(|b| {
                if b.key != b.view && *b.local.0 == *b.key {
                    format!("`{}` (property `{}`)", b.view, b.key)
                } else if b.key != b.view {
                    format!("`{}` (property `{}`, as `{}`)", b.view, b.key, b.local.0)
                } else if *b.local.0 == *b.key {
                    format!("`{}`", b.key)
                } else {
                    format!("`{}` (as `{}`)", b.key, b.local.0)
                }
            })
            .collect();
        let message = format!(
            "destructuring pins {} in a local; it goes dead when memory grows",
            views.join(", ")
        );
        let finding = match &group.blocked {
            Some(reason) => Finding::unfixable(
                PassId::HeapDestructure,
                group.range,
                message,
                reason.clone(),
            ),
            None => Finding::fixable(
                PassId::HeapDestructure,
                group.range,
                message,
                group_fix(cx, plan, group, accessor),
            ),
        };
        out.findings.push(finding);
    }
}

/// The first `object.HEAPx` read on an object other than `Module` or another object the
/// refresh function writes views onto (Closure's `a.HEAP8 = …`), if any; on Closure output also
/// `memory.i` where an object literal holding a view under `i` reaches `memory`.
fn call_time_view_read(cx: &Context<'_>, plan: &Plan) -> Option<Span> {
    struct Finder<'a, 'cx> {
        cx: &'a Context<'cx>,
        marks: Option<&'a Marks>,
        plan: &'a Plan,
        found: Option<Span>,
    }
    impl Finder<'_, '_> {
        /// `memory.i` on Closure output, where `memory` is known to hold `{i: J}`.
        fn renamed_view(&self, object: &Ident, prop: &str) -> bool {
            let Some(flow) = self.plan.flow.get() else {
                return false;
            };
            let mut objects = flow.objects_of_expr(self.cx, &Expr::Ident(object.clone()));
            if let Some(more) = self.plan.reaching.get(&self.cx.bid(object)) {
                objects.extend(more);
            }
            flow.view(&objects, prop).is_some()
        }
    }
    impl Visit for Finder<'_, '_> {
        sparse!(self => Prune(self.marks));

        fn visit_member_expr(&mut self, m: &MemberExpr) {
            if self.found.is_none()
                && let Expr::Ident(object) = &*m.obj
                && &*object.sym != "Module"
                && !self.cx.views().is_mirror_object(self.cx, object)
                && let Some(prop) = super::member_prop_name(&m.prop)
                && (view_name(prop).is_some() || self.renamed_view(object, prop))
            {
                self.found = Some(m.span);
            }
            m.visit_children_with(self);
        }

        fn visit_assign_expr(&mut self, a: &AssignExpr) {
            // `Module.HEAP8 = HEAP8 = new Int8Array(b)` (Closure: `a.HEAP8=H=…`) refreshes the
            // mirror; it is not a read at the time of use.
            if let AssignTarget::Simple(SimpleAssignTarget::Member(m)) = &a.left {
                m.obj.visit_with(self);
                m.prop.visit_with(self);
            } else {
                a.left.visit_with(self);
            }
            a.right.visit_with(self);
        }
    }
    // Without renamed keys (see `Plan::flow`), only `X.HEAPx` can be such a read.
    let marks = (!plan.follows_flow).then(|| cx.find(&[Find::Member("HEAP")]));
    let mut finder = Finder {
        cx,
        marks: marks.as_ref(),
        plan,
        found: None,
    };
    visit_program(&cx.parsed.program, &mut finder);
    finder.found
}

/// Marks that may be absent (a full walk).
#[derive(Clone, Copy)]
struct Prune<'m>(Option<&'m Marks>);

impl Prune<'_> {
    fn covers(self, span: Span) -> bool {
        self.0.is_none_or(|m| m.covers(span))
    }

    fn each<T: Spanned>(self, list: &[T]) -> impl Iterator<Item = &T> {
        let (all, some) = match self.0 {
            None => (Some(list.iter()), None),
            Some(marks) => (None, Some(marks.each(list))),
        };
        all.into_iter().flatten().chain(some.into_iter().flatten())
    }
}

/// The first use of a destructured view that an accessor object cannot serve, if any.
pub(crate) fn accessor_blocker(cx: &Context<'_>) -> Option<(TextRange, String)> {
    plan(cx).blocker.clone()
}

fn plan<'c>(cx: &'c Context<'_>) -> &'c Plan {
    cx.destructure.get_or_init(|| Plan::build(cx))
}

/// The cell in [`Context`] that holds the shared analysis.
pub(crate) type PlanCell = OnceCell<Plan>;

/// Everything the pass knows about a file's destructured views, shared with `heap-snapshot`.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    groups: Vec<Group>,
    uses: HashMap<Bid, Vec<Use>>,
    /// Every identifier in a group's scope (and some more): `(identifier, offset)`, for clash
    /// checks.
    idents: Vec<(Ident, u32)>,
    blocker: Option<(TextRange, String)>,
    /// Whether some object literal holds a view under a key not named like one (Closure
    /// output), so that literals are followed to the patterns they reach (see [`flow`]);
    /// otherwise a property counts only when it is named like a view, and the walks are sparse.
    follows_flow: bool,
    /// Where object literals flow, when some pattern needed it.
    flow: OnceCell<flow::Flow>,
    /// Locals bound by a pattern that object literals are known to reach (`memory` in
    /// Closure's `function pa({memory})` called as `pa({memory:b})`).
    reaching: HashMap<Bid, flow::Objects>,
}

/// One object pattern that destructures views.
#[derive(Debug)]
struct Group {
    range: TextRange,
    pattern: TextRange,
    origin: Origin,
    bindings: Vec<Binding>,
    /// Source text of the pattern's other properties, kept when the views are taken out.
    others: Vec<String>,
    /// Where the names growsafe introduces must not clash: the enclosing function (or file).
    scope: TextRange,
    /// The same, as a span.
    scope_span: Span,
    blocked: Option<String>,
}

#[derive(Debug)]
struct Binding {
    /// The property read (`HEAPU8` in `{ HEAPU8: u8 }`, Closure's `i` in `{i:b}`).
    key: String,
    /// The view it holds (`HEAP16` for Closure's `i`, when a literal `{i:J}` flows in).
    view: &'static str,
    /// The local it is bound to.
    local: Bid,
    /// Where the local is declared (the pattern's identifier).
    decl: Span,
}

#[derive(Debug, Clone)]
enum Origin {
    /// `{ memory: { HEAP16 } }`: the property `memory` of an enclosing pattern.
    Nested {
        prop: TextRange,
        key: Option<String>,
    },
    /// `const { HEAP32 } = init;`
    Declarator {
        declarator: TextRange,
        init: TextRange,
        init_ident: Option<Bid>,
        decl: DeclInfo,
    },
    /// `function f({ HEAP16 })`
    Param,
    /// Anywhere else (assignment, loop head, catch clause, array element…).
    Other(&'static str),
}

#[derive(Debug, Clone)]
struct DeclInfo {
    stmt: TextRange,
    listed: bool,
    siblings: Vec<TextRange>,
    index: usize,
}

#[derive(Debug, Clone)]
struct Use {
    range: TextRange,
    kind: UseKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum UseKind {
    /// `HEAP16[i]` read: `(index range)`.
    Read { member: TextRange, index: TextRange },
    /// `HEAP16[i] = v;` as a statement.
    Write {
        assign: TextRange,
        index: TextRange,
        value: TextRange,
    },
    /// `{ HEAP16 }` in an object literal.
    Shorthand,
    /// Anything else: passed on, `.subarray`, `.length`…
    Other(&'static str),
    /// `HEAP16 = …`, `HEAP16++`, `export { HEAP16 }`.
    Blocking(&'static str),
}

impl Plan {
    fn build(cx: &Context<'_>) -> Plan {
        let follows_flow = renamed_view_keys(cx);
        if follows_flow {
            // Every pattern and name of the file is looked at: resolve all in one walk.
            cx.scopes.prime(cx.parsed.program.span());
        }
        // A pattern names a view (`{ HEAP16 }`, `{ 'HEAP16': h }`) unless keys are renamed.
        let marks = (!follows_flow).then(|| cx.marks(Kind::ViewReads));
        let mut collector = Collector {
            cx,
            marks,
            pending: None,
            groups: Vec::new(),
            scopes: Vec::new(),
            decl: None,
            listed: rustc_hash::FxHashSet::default(),
            fn_name: None,
            incoming: Vec::new(),
            flow: OnceCell::new(),
            reaching: HashMap::default(),
        };
        visit_program(&cx.parsed.program, &mut collector);
        let mut plan = Plan {
            groups: collector.groups,
            flow: collector.flow,
            reaching: collector.reaching,
            follows_flow,
            ..Plan::default()
        };
        if plan.groups.is_empty() {
            return plan;
        }
        // The destructured locals (with their declaration), and the identifiers they were
        // destructured from (`memory` in `const { HEAP32 } = memory`), whose reassignment
        // would make `memory.HEAP32` read another object.
        let mut targets: HashMap<Bid, Option<Span>> = plan
            .groups
            .iter()
            .flat_map(|g| g.bindings.iter().map(|b| (b.local.clone(), Some(b.decl))))
            .collect();
        for group in &plan.groups {
            if let Origin::Declarator {
                init_ident: Some(id),
                ..
            } = &group.origin
            {
                targets.entry(id.clone()).or_insert(None);
            }
        }
        // Every identifier of each group's scope (uses, clashes), and elsewhere every identifier
        // named like a target (a source read or reassigned outside the scope).
        let names: Vec<&str> = targets.keys().map(|(name, _)| &**name).collect();
        let words: Vec<Find<'_>> = names.iter().map(|n| Find::Name(n)).collect();
        let mut scopes: Vec<Span> = plan.groups.iter().map(|g| g.scope_span).collect();
        for scope in &scopes {
            cx.scopes.prime(*scope);
        }
        // The contents of re-parsed nodes inside them (see `crate::patch`).
        let inside: Vec<Span> = scopes
            .iter()
            .flat_map(|&s| cx.parsed.patches.inside(s))
            .collect();
        scopes.extend(inside);
        let marks = cx.find(&words).with_ranges(scopes);
        let mut uses = Uses {
            cx,
            marks: &marks,
            targets: &targets,
            names: names.iter().map(|n| swc_atoms::Atom::from(*n)).collect(),
            uses: HashMap::default(),
            idents: Vec::new(),
            statement: None,
        };
        visit_program(&cx.parsed.program, &mut uses);
        plan.uses = uses.uses;
        plan.idents = uses.idents;
        for group in &mut plan.groups {
            if group.blocked.is_some() {
                continue;
            }
            for binding in &group.bindings {
                let blocking = plan
                    .uses
                    .get(&binding.local)
                    .into_iter()
                    .flatten()
                    .find_map(|u| match u.kind {
                        UseKind::Blocking(why) => Some(why),
                        _ => None,
                    });
                if let Some(why) = blocking {
                    group.blocked = Some(format!("`{}` {why}", binding.local.0));
                    break;
                }
            }
        }
        plan.blocker = plan
            .groups
            .iter()
            .filter(|g| g.blocked.is_none())
            .flat_map(|g| g.bindings.iter())
            .flat_map(|b| {
                plan.uses
                    .get(&b.local)
                    .into_iter()
                    .flatten()
                    .map(move |u| (b, u))
            })
            .filter_map(|(b, u)| match u.kind {
                UseKind::Other(what) => Some((u.range, format!("`{}` {what}", b.local.0))),
                _ => None,
            })
            .min_by_key(|(r, _)| r.start);
        plan
    }

    /// Whether `name` is free to bind in `scope`: no identifier of that name occurs there, and
    /// no identifier of that name with another binding occurs anywhere a use sits.
    fn name_is_free(&self, name: &str, scope: TextRange) -> bool {
        !self
            .idents
            .iter()
            .any(|(ident, at)| &*ident.sym == name && scope.start <= *at && *at < scope.end)
    }

    /// Whether `id` can be read at every use of the group: nothing named like it with another
    /// binding occurs in the scope, and it is never assigned.
    fn source_is_stable(&self, cx: &Context<'_>, id: &Bid, scope: TextRange) -> bool {
        let shadowed = self.idents.iter().any(|(ident, at)| {
            ident.sym == id.0 && scope.start <= *at && *at < scope.end && cx.scope(ident) != id.1
        });
        !shadowed
            && !self
                .uses
                .get(id)
                .is_some_and(|u| u.iter().any(|u| matches!(u.kind, UseKind::Blocking(_))))
    }

    fn fresh_name(&self, base: &str, scope: TextRange) -> String {
        if self.name_is_free(base, scope) {
            return base.to_owned();
        }
        (1..)
            .map(|n| format!("{base}_{n}"))
            .find(|n| self.name_is_free(n, scope))
            .expect("unbounded")
    }
}

/// Whether some object literal holds a glue view under a key that is not named like one
/// (Closure's `{l:H,i:J}`), or a getter returning one under such a key: only then can a
/// pattern's renamed key mean a view, and only then are literals followed (see [`flow`]).
fn renamed_view_keys(cx: &Context<'_>) -> bool {
    struct Find<'a, 'cx> {
        cx: &'a Context<'cx>,
        marks: &'a Marks,
        found: bool,
    }
    impl Visit for Find<'_, '_> {
        sparse!(self => self.marks);

        fn visit_object_lit(&mut self, object: &ObjectLit) {
            let cx = self.cx;
            self.found |= object.props.iter().any(|p| {
                let PropOrSpread::Prop(p) = p else {
                    return false;
                };
                match &**p {
                    Prop::Shorthand(ident) => {
                        view_name(&ident.sym).is_none() && cx.glue_view(ident).is_some()
                    }
                    Prop::KeyValue(kv) => prop_key(&kv.key)
                        .is_some_and(|k| view_name(k).is_none() && cx.glue_view_expr(&kv.value).is_some()),
                    Prop::Getter(getter) => {
                        prop_key(&getter.key).is_some_and(|k| view_name(k).is_none())
                            && getter.function.body.as_ref().is_some_and(|b| {
                                matches!(b.stmts.as_slice(), [Stmt::Return(r)]
                                    if r.arg.as_deref().is_some_and(|a| cx.glue_view_expr(a).is_some()))
                            })
                    }
                    _ => false,
                }
            });
            if !self.found {
                object.visit_children_with(self);
            }
        }
    }
    let marks = cx.view_reads();
    let mut find = Find {
        cx,
        marks,
        found: false,
    };
    visit_program(&cx.parsed.program, &mut find);
    find.found
}

/// Builds the edits for one group: the pattern change plus every use.
fn group_fix(cx: &Context<'_>, plan: &Plan, group: &Group, accessor: bool) -> Fix {
    let compact = cx.style().compact;
    let sep = if compact { "," } else { ", " };
    let others = || {
        if compact {
            format!("{{{}}}", group.others.join(","))
        } else {
            format!("{{ {} }}", group.others.join(", "))
        }
    };
    let eq = if compact { "=" } else { " = " };
    let mut edits = Vec::new();
    let name = match &group.origin {
        Origin::Nested { prop, key } => {
            let key = key.as_deref().expect("checked when collecting");
            let name = plan.fresh_name(key, group.scope);
            let binding = if name == key {
                name.clone()
            } else {
                format!("{key}:{}{name}", if compact { "" } else { " " })
            };
            if group.others.is_empty() {
                edits.push(Edit::replace(*prop, binding));
            } else {
                edits.push(Edit::replace(group.pattern, others()));
                edits.push(Edit::insert_at(prop.end, format!("{sep}{binding}")));
            }
            name
        }
        Origin::Declarator {
            declarator,
            init,
            init_ident,
            decl,
        } => {
            let init_text = &cx.text[init.as_usize()];
            match init_ident {
                Some(id)
                    if plan.source_is_stable(cx, id, group.scope)
                        && group.others.is_empty()
                        && decl.listed =>
                {
                    edits.push(delete_declarator(cx, decl));
                    id.0.to_string()
                }
                Some(id) if plan.source_is_stable(cx, id, group.scope) => {
                    if group.others.is_empty() {
                        // Not in a statement list (`for (var {…} = m;;)`): keep an alias.
                        let name = plan.fresh_name(&id.0, group.scope);
                        edits.push(Edit::replace(group.pattern, name.clone()));
                        name
                    } else {
                        edits.push(Edit::replace(group.pattern, others()));
                        id.0.to_string()
                    }
                }
                _ => {
                    let base = init_ident
                        .as_ref()
                        .map_or_else(|| base_name(init_text), |id| id.0.to_string());
                    let name = plan.fresh_name(&base, group.scope);
                    if group.others.is_empty() {
                        edits.push(Edit::replace(group.pattern, name.clone()));
                    } else {
                        edits.push(Edit::replace(
                            *declarator,
                            format!("{name}{eq}{init_text}{sep}{}{eq}{name}", others()),
                        ));
                    }
                    name
                }
            }
        }
        Origin::Param => {
            let name = plan.fresh_name("heap", group.scope);
            edits.push(Edit::replace(group.pattern, name.clone()));
            name
        }
        Origin::Other(_) => unreachable!("blocked when collecting"),
    };
    for binding in &group.bindings {
        let access = format!("{name}.{}", binding.key);
        for u in plan.uses.get(&binding.local).into_iter().flatten() {
            edits.extend(use_edits(cx, u, &access, binding, accessor));
        }
    }
    let title = format!(
        "Read the view{} through `{name}` at each use",
        if group.bindings.len() > 1 { "s" } else { "" }
    );
    Fix::safe(title, edits)
}

fn use_edits(
    cx: &Context<'_>,
    u: &Use,
    access: &str,
    binding: &Binding,
    accessor: bool,
) -> Vec<Edit> {
    let sep = if cx.style().compact { "," } else { ", " };
    // Edits stay outside the index and value, so uses nested in them get their own edits.
    match &u.kind {
        UseKind::Read { member, index } if accessor => vec![
            Edit::replace(
                TextRange::new(u.range.start, index.start),
                format!("{access}.get("),
            ),
            Edit::replace(TextRange::new(index.end, member.end), ")"),
        ],
        UseKind::Write {
            assign: _,
            index,
            value,
        } if accessor => vec![
            Edit::replace(
                TextRange::new(u.range.start, index.start),
                format!("{access}.set("),
            ),
            Edit::replace(TextRange::new(index.end, value.start), sep),
            Edit::insert_at(value.end, ")"),
        ],
        UseKind::Shorthand => vec![Edit::replace(
            u.range,
            format!(
                "{}:{}{access}",
                binding.local.0,
                if cx.style().compact { "" } else { " " }
            ),
        )],
        _ => vec![Edit::replace(u.range, access.to_owned())],
    }
}

/// Removes one declarator, or the whole statement when it is the only one.
fn delete_declarator(cx: &Context<'_>, decl: &DeclInfo) -> Edit {
    if decl.siblings.len() == 1 {
        // Take the statement's whole line when nothing else is on it.
        let text = cx.text;
        let start = decl.stmt.start as usize;
        let end = decl.stmt.end as usize;
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let rest = &text[end..];
        let line_end = rest.find('\n').map(|i| end + i + 1);
        if text[line_start..start].trim().is_empty()
            && let Some(line_end) = line_end
            && text[end..line_end].trim().is_empty()
        {
            return Edit::delete(TextRange::new(
                u32::try_from(line_start).expect("small"),
                u32::try_from(line_end).expect("small"),
            ));
        }
        return Edit::delete(decl.stmt);
    }
    let i = decl.index;
    if i + 1 < decl.siblings.len() {
        Edit::delete(TextRange::new(
            decl.siblings[i].start,
            decl.siblings[i + 1].start,
        ))
    } else {
        Edit::delete(TextRange::new(
            decl.siblings[i - 1].end,
            decl.siblings[i].end,
        ))
    }
}

/// A readable name for a hoisted source: the last property name of `this.memory`, else `memory`.
fn base_name(init: &str) -> String {
    if init.trim_end().ends_with([')', ']']) {
        return "memory".to_owned();
    }
    let tail = init
        .rsplit(['.', '[', '(', ')', ']', '\'', '"', ' '])
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let valid = tail
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && tail
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if valid && view_name(tail).is_none() {
        tail.to_owned()
    } else {
        "memory".to_owned()
    }
}

/// First walk: find object patterns that destructure views, with where they sit (sparse over
/// view names, unless keys are renamed).
struct Collector<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: Option<&'a Marks>,
    /// The origin of the pattern about to be visited.
    pending: Option<Origin>,
    groups: Vec<Group>,
    /// Enclosing functions' spans.
    scopes: Vec<Span>,
    /// The declaration whose declarators are being visited.
    decl: Option<(TextRange, bool, Vec<TextRange>)>,
    /// The `var` statements that sit directly in a statement list (a set: a file has
    /// thousands).
    listed: rustc_hash::FxHashSet<Span>,
    /// The name of the function about to be visited (`function pa(…)`, `var pa = (…) => …`).
    fn_name: Option<Bid>,
    /// The object literals known to reach the pattern about to be visited.
    incoming: flow::Objects,
    /// Object literals and where they flow, built when a pattern first needs it.
    flow: OnceCell<flow::Flow>,
    /// See [`Plan::reaching`].
    reaching: HashMap<Bid, flow::Objects>,
}

impl Collector<'_, '_> {
    fn scope(&self) -> Span {
        self.scopes.last().copied().unwrap_or_else(|| {
            let len = u32::try_from(self.cx.text.len()).expect("small");
            Span::new(self.cx.parsed.start_pos, self.cx.parsed.pos(len))
        })
    }

    fn skip(&self, span: Span) -> bool {
        !Prune(self.marks).covers(span)
    }

    fn visit_pattern(&mut self, pat: &Pat, origin: Origin) {
        self.pending = Some(origin);
        pat.visit_with(self);
        self.pending = None;
    }

    fn flow(&self) -> &flow::Flow {
        self.flow.get_or_init(|| flow::Flow::build(self.cx))
    }

    /// The object literals that reach a parameter `pat` of the function `name` (only worked out
    /// for an object pattern, and when literals are followed at all).
    fn param_objects(&self, name: Option<&Bid>, index: usize, pat: &Pat) -> flow::Objects {
        match (name, object_pattern(pat)) {
            (Some(name), Some(_)) if self.marks.is_none() => self.flow().arguments(name, index),
            _ => Vec::new(),
        }
    }

    /// The view property `key` of the pattern holds: any property named like a view, or one
    /// that holds a view in an object literal known to reach the pattern (Closure's
    /// `{memory:{i:b}}` receiving `{memory:{i:J}}`).
    fn view_key(&self, key: &str, incoming: &[usize]) -> Option<&'static str> {
        view_name(key).or_else(|| {
            if incoming.is_empty() || !is_identifier(key) {
                return None;
            }
            self.flow().view(incoming, key)
        })
    }

    /// Records which object literals reach a plain binding of the pattern (`{memory}`), so a
    /// later `memory.i` read is known to read a view.
    fn note_reaching(&mut self, prop: &ObjectPatProp, incoming: &[usize]) {
        if incoming.is_empty() {
            return;
        }
        let (key, local) = match prop {
            ObjectPatProp::Assign(assign) if assign.value.is_none() => {
                (&*assign.key.id.sym, &assign.key.id)
            }
            ObjectPatProp::KeyValue(kv) => match (prop_key(&kv.key), &*kv.value) {
                (Some(key), Pat::Ident(local)) => (key, &local.id),
                _ => return,
            },
            _ => return,
        };
        let objects = self.flow().property(incoming, key);
        if !objects.is_empty() {
            self.reaching
                .entry(self.cx.bid(local))
                .or_default()
                .extend(objects);
        }
    }

    fn object_pat(&mut self, pat: &ObjectPat, origin: Origin, incoming: &[usize]) {
        let cx = self.cx;
        let mut bindings = Vec::new();
        let mut others = Vec::new();
        let mut blocked: Option<String> = None;
        let mut has_rest = false;
        for prop in &pat.props {
            match prop {
                ObjectPatProp::Assign(assign)
                    if let Some(view) = self.view_key(&assign.key.id.sym, incoming) =>
                {
                    let key = assign.key.id.sym.to_string();
                    if assign.value.is_some() {
                        blocked.get_or_insert_with(|| format!("`{key}` has a default value"));
                    }
                    bindings.push(Binding {
                        key,
                        view,
                        local: cx.bid(&assign.key.id),
                        decl: assign.key.id.span,
                    });
                }
                ObjectPatProp::KeyValue(kv)
                    if let Some(key) = prop_key(&kv.key)
                        && let Some(view) = self.view_key(key, incoming) =>
                {
                    let key = key.to_owned();
                    match &*kv.value {
                        Pat::Ident(local) => bindings.push(Binding {
                            key,
                            view,
                            local: cx.bid(&local.id),
                            decl: local.id.span,
                        }),
                        Pat::Assign(assign) => {
                            blocked.get_or_insert_with(|| format!("`{key}` has a default value"));
                            if let Pat::Ident(local) = &*assign.left {
                                bindings.push(Binding {
                                    key,
                                    view,
                                    local: cx.bid(&local.id),
                                    decl: local.id.span,
                                });
                            }
                        }
                        _ => {
                            blocked
                                .get_or_insert_with(|| format!("`{key}` is destructured further"));
                        }
                    }
                }
                ObjectPatProp::Rest(_) => {
                    has_rest = true;
                    others.push(cx.slice(prop.span()).to_owned());
                }
                _ => {
                    others.push(cx.slice(prop.span()).to_owned());
                    self.note_reaching(prop, incoming);
                }
            }
        }
        if !bindings.is_empty() || blocked.is_some() {
            if has_rest {
                blocked.get_or_insert_with(|| {
                    "the pattern has a `...rest` element, which would change".to_owned()
                });
            }
            match &origin {
                Origin::Other(what) => {
                    blocked.get_or_insert_with(|| format!("it is destructured {what}"));
                }
                Origin::Nested { key: None, .. } => {
                    blocked.get_or_insert_with(|| {
                        "the enclosing property has no plain name".to_owned()
                    });
                }
                Origin::Param if !others.is_empty() => {
                    blocked.get_or_insert_with(|| {
                        "the parameter destructures other properties too".to_owned()
                    });
                }
                _ => {}
            }
            let pattern = pattern_range(cx, pat);
            let range = match &origin {
                Origin::Nested { prop, .. } => *prop,
                _ => pattern,
            };
            let scope_span = self.scope();
            self.groups.push(Group {
                range,
                pattern,
                origin,
                bindings,
                others,
                scope: cx.range(scope_span),
                scope_span,
                blocked,
            });
        }
        // Nested patterns and default values.
        for prop in &pat.props {
            match prop {
                ObjectPatProp::KeyValue(kv) => {
                    kv.key.visit_with(self);
                    let nested = Origin::Nested {
                        prop: cx.range(kv.span()),
                        key: prop_key(&kv.key)
                            .filter(|k| is_identifier(k))
                            .map(str::to_owned),
                    };
                    self.incoming = match prop_key(&kv.key) {
                        Some(key)
                            if !incoming.is_empty() && object_pattern(&kv.value).is_some() =>
                        {
                            self.flow().property(incoming, key)
                        }
                        _ => Vec::new(),
                    };
                    self.visit_pattern(&kv.value, nested);
                }
                ObjectPatProp::Assign(assign) => assign.value.visit_with(self),
                ObjectPatProp::Rest(rest) => {
                    self.visit_pattern(&rest.arg, Origin::Other("in a rest element"))
                }
            }
        }
    }
}

impl Visit for Collector<'_, '_> {
    fn visit_expr(&mut self, expr: &Expr) {
        if !self.skip(expr.span()) {
            expr.visit_children_with(self);
        }
    }

    fn visit_stmt(&mut self, stmt: &Stmt) {
        if !self.skip(stmt.span()) {
            stmt.visit_children_with(self);
        }
    }

    fn visit_prop_or_spreads(&mut self, list: &[swc_ecma_ast::PropOrSpread]) {
        for item in Prune(self.marks).each(list) {
            item.visit_with(self);
        }
    }

    fn visit_expr_or_spreads(&mut self, list: &[swc_ecma_ast::ExprOrSpread]) {
        for item in Prune(self.marks).each(list) {
            item.visit_with(self);
        }
    }

    fn visit_class_members(&mut self, list: &[swc_ecma_ast::ClassMember]) {
        for item in Prune(self.marks).each(list) {
            item.visit_with(self);
        }
    }

    fn visit_pat(&mut self, pat: &Pat) {
        let origin = self
            .pending
            .take()
            .unwrap_or(Origin::Other("in an assignment, loop head or catch clause"));
        let incoming = std::mem::take(&mut self.incoming);
        if self.skip(pat.span()) {
            return;
        }
        match pat {
            Pat::Object(object) => self.object_pat(object, origin, &incoming),
            Pat::Assign(assign) => {
                let origin = match origin {
                    Origin::Param | Origin::Declarator { .. } => {
                        Origin::Other("with a default value")
                    }
                    other => other,
                };
                self.incoming = incoming;
                self.visit_pattern(&assign.left, origin);
                assign.right.visit_with(self);
            }
            Pat::Array(array) => {
                for elem in array.elems.iter().flatten() {
                    self.visit_pattern(elem, Origin::Other("inside an array pattern"));
                }
            }
            other => other.visit_children_with(self),
        }
    }

    fn visit_fn_decl(&mut self, f: &swc_ecma_ast::FnDecl) {
        if self.skip(f.function.span) {
            return;
        }
        self.fn_name = Some(self.cx.bid(&f.ident));
        f.function.visit_with(self);
    }

    fn visit_function(&mut self, f: &Function) {
        let name = self.fn_name.take();
        if self.skip(f.span) {
            return;
        }
        self.scopes.push(f.span);
        f.decorators.visit_with(self);
        for (index, param) in f.params.iter().enumerate() {
            self.incoming = self.param_objects(name.as_ref(), index, &param.pat);
            self.visit_pattern(&param.pat, Origin::Param);
        }
        f.body.visit_with(self);
        self.scopes.pop();
    }

    fn visit_constructor(&mut self, c: &Constructor) {
        if self.skip(c.span) {
            return;
        }
        self.scopes.push(c.span);
        for param in &c.params {
            match param {
                swc_ecma_ast::ParamOrTsParamProp::Param(p) => {
                    self.visit_pattern(&p.pat, Origin::Param)
                }
                other => other.visit_with(self),
            }
        }
        c.body.visit_with(self);
        self.scopes.pop();
    }

    fn visit_arrow_expr(&mut self, arrow: &ArrowExpr) {
        let name = self.fn_name.take();
        if self.skip(arrow.span) {
            return;
        }
        self.scopes.push(arrow.span);
        for (index, param) in arrow.params.iter().enumerate() {
            self.incoming = self.param_objects(name.as_ref(), index, param);
            self.visit_pattern(param, Origin::Param);
        }
        match &*arrow.body {
            ArrowFunctionBody::FunctionBody(b) => b.visit_with(self),
            ArrowFunctionBody::Expr(e) => e.visit_with(self),
        }
        self.scopes.pop();
    }

    fn visit_stmts(&mut self, stmts: &[Stmt]) {
        for stmt in Prune(self.marks).each(stmts) {
            if let Stmt::Decl(Decl::Var(var)) = stmt {
                self.listed.insert(var.span);
            }
            stmt.visit_with(self);
        }
    }

    fn visit_module_items(&mut self, items: &[ModuleItem]) {
        for item in Prune(self.marks).each(items) {
            if let ModuleItem::Stmt(Stmt::Decl(Decl::Var(var))) = item {
                self.listed.insert(var.span);
            }
            item.visit_with(self);
        }
    }

    fn visit_export_decl(&mut self, export: &swc_ecma_ast::ExportDecl) {
        // An exported binding is part of the module's interface: report, never rewrite.
        if let Decl::Var(var) = &export.decl {
            for d in &var.decls {
                self.visit_pattern(&d.name, Origin::Other("in an exported declaration"));
                d.init.visit_with(self);
            }
        } else {
            export.decl.visit_with(self);
        }
    }

    fn visit_var_decl(&mut self, var: &VarDecl) {
        if self.skip(var.span) {
            return;
        }
        let listed = self.listed.contains(&var.span);
        let siblings = var.decls.iter().map(|d| self.cx.range(d.span)).collect();
        let saved = self
            .decl
            .replace((self.cx.range(var.span), listed, siblings));
        for (index, declarator) in var.decls.iter().enumerate() {
            self.visit_declarator(declarator, index);
        }
        self.decl = saved;
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        // Reached only outside `visit_var_decl` (never in practice); treat conservatively.
        self.visit_pattern(&d.name, Origin::Other("in an unusual declaration"));
        d.init.visit_with(self);
    }
}

impl Collector<'_, '_> {
    fn visit_declarator(&mut self, d: &VarDeclarator, index: usize) {
        let (stmt, listed, siblings) = self.decl.clone().expect("inside visit_var_decl");
        let origin = match &d.init {
            Some(init) => Origin::Declarator {
                declarator: self.cx.range(d.span),
                init: self.cx.range(init.span()),
                init_ident: match &**init {
                    Expr::Ident(ident) => Some(self.cx.bid(ident)),
                    _ => None,
                },
                decl: DeclInfo {
                    stmt,
                    listed,
                    siblings,
                    index,
                },
            },
            None => Origin::Other("in a loop head"),
        };
        self.incoming = match &d.init {
            Some(init)
                if self.marks.is_none()
                    && object_pattern(&d.name).is_some()
                    && matches!(init.unwrap_parens(), Expr::Ident(_) | Expr::Object(_)) =>
            {
                self.flow().objects_of_expr(self.cx, init)
            }
            _ => Vec::new(),
        };
        self.visit_pattern(&d.name, origin);
        // `var pa = function ({ memory: { i: b } }) {…}`: calls of `pa` reach its parameters.
        if let (Pat::Ident(name), Some(init)) = (&d.name, &d.init)
            && matches!(init.unwrap_parens(), Expr::Fn(_) | Expr::Arrow(_))
        {
            self.fn_name = Some(self.cx.bid(&name.id));
        }
        d.init.visit_with(self);
        self.fn_name = None;
    }
}

/// Second walk: every use of the destructured locals, and every identifier (for clash checks).
/// Sparse: the groups' scopes entirely, and elsewhere the occurrences of the targets' names.
struct Uses<'a, 'cx> {
    cx: &'a Context<'cx>,
    marks: &'a Marks,
    targets: &'a HashMap<Bid, Option<Span>>,
    /// The targets' names (checked before resolving an identifier).
    names: Vec<swc_atoms::Atom>,
    uses: HashMap<Bid, Vec<Use>>,
    idents: Vec<(Ident, u32)>,
    /// The expression statement being visited, to recognise `HEAP16[i] = v;`.
    statement: Option<Span>,
}

impl Uses<'_, '_> {
    fn target(&self, ident: &Ident) -> bool {
        self.names.contains(&ident.sym) && self.targets.contains_key(&self.cx.bid(ident))
    }

    fn push(&mut self, ident: &Ident, kind: UseKind) {
        let range = self.cx.range(ident.span);
        self.uses
            .entry(self.cx.bid(ident))
            .or_default()
            .push(Use { range, kind });
    }
}

impl Visit for Uses<'_, '_> {
    sparse!(self => self.marks; stmt pat);

    fn visit_ident(&mut self, ident: &Ident) {
        self.idents
            .push((ident.clone(), self.cx.range(ident.span).start));
    }

    fn visit_binding_ident(&mut self, binding: &swc_ecma_ast::BindingIdent) {
        // A binding position: the declaration itself, or a redeclaration / destructuring
        // assignment, which makes the local unsafe to rewrite.
        self.visit_ident(&binding.id);
        if self.target(&binding.id)
            && self
                .targets
                .get(&self.cx.bid(&binding.id))
                .is_some_and(|decl| decl.is_some_and(|decl| decl != binding.id.span))
        {
            self.push(
                &binding.id,
                UseKind::Blocking("is reassigned or redeclared"),
            );
        }
    }

    fn visit_expr_stmt(&mut self, stmt: &ExprStmt) {
        let saved = self.statement.replace(stmt.expr.span());
        stmt.expr.visit_with(self);
        self.statement = saved;
    }

    fn visit_expr(&mut self, expr: &Expr) {
        if !self.marks.covers(expr.span()) {
            return;
        }
        match expr {
            Expr::Ident(ident) if self.target(ident) => {
                self.visit_ident(ident);
                self.push(
                    ident,
                    UseKind::Other("is used as a whole (passed on, stored or compared)"),
                );
            }
            Expr::Member(member) => self.member(member, None),
            Expr::Assign(assign) => self.assign(assign),
            Expr::Update(update) => self.update(update),
            _ => expr.visit_children_with(self),
        }
    }

    fn visit_prop(&mut self, prop: &Prop) {
        match prop {
            Prop::Shorthand(ident) if self.target(ident) => {
                self.visit_ident(ident);
                self.push(ident, UseKind::Shorthand);
            }
            _ => prop.visit_children_with(self),
        }
    }

    fn visit_simple_assign_target(&mut self, target: &SimpleAssignTarget) {
        match target {
            SimpleAssignTarget::Ident(binding) if self.target(&binding.id) => {
                self.visit_ident(&binding.id);
                self.push(&binding.id, UseKind::Blocking("is reassigned"));
            }
            SimpleAssignTarget::Member(member) => self.member(member, None),
            _ => target.visit_children_with(self),
        }
    }

    fn visit_named_export(&mut self, export: &NamedExport) {
        for spec in &export.specifiers {
            if let swc_ecma_ast::ExportSpecifier::Named(named) = spec
                && let ModuleExportName::Ident(ident) = &named.orig
                && self.target(ident)
            {
                self.push(ident, UseKind::Blocking("is exported"));
            }
        }
        export.visit_children_with(self);
    }
}

impl Uses<'_, '_> {
    /// `X[i]`, `X.length`, `X.subarray(…)`: `write` is the assignment when `X[i] = v;`.
    fn member(&mut self, member: &MemberExpr, write: Option<(&AssignExpr, TextRange)>) {
        let Expr::Ident(object) = &*member.obj else {
            member.visit_children_with(self);
            return;
        };
        if !self.target(object) {
            member.visit_children_with(self);
            return;
        }
        self.visit_ident(object);
        let kind = match (&member.prop, write) {
            (MemberProp::Computed(index), Some((assign, value))) => UseKind::Write {
                assign: self.cx.range(assign.span),
                index: self.cx.range(index.expr.span()),
                value,
            },
            (MemberProp::Computed(index), None) => UseKind::Read {
                member: self.cx.range(member.span),
                index: self.cx.range(index.expr.span()),
            },
            (MemberProp::Ident(prop), _) => match &*prop.sym {
                "subarray" | "slice" | "set" | "fill" | "copyWithin" => {
                    UseKind::Other("calls a typed-array method")
                }
                "length" | "byteLength" | "byteOffset" | "buffer" => {
                    UseKind::Other("reads a typed-array property")
                }
                _ => UseKind::Other("reads a property of the view"),
            },
            _ => UseKind::Other("is used in a way an accessor cannot serve"),
        };
        self.push(object, kind);
        member.prop.visit_with(self);
    }

    fn assign(&mut self, assign: &AssignExpr) {
        if let AssignTarget::Simple(SimpleAssignTarget::Member(member)) = &assign.left
            && let Expr::Ident(object) = &*member.obj
            && self.target(object)
        {
            let statement = self.statement == Some(assign.span);
            if assign.op == AssignOp::Assign && statement {
                self.member(member, Some((assign, self.cx.range(assign.right.span()))));
            } else {
                self.member(member, None);
                if let Some(uses) = self.uses.get_mut(&self.cx.bid(object))
                    && let Some(last) = uses.last_mut()
                {
                    last.kind = UseKind::Other(if assign.op == AssignOp::Assign {
                        "is written in an expression whose value is used"
                    } else {
                        "is updated with a compound assignment"
                    });
                }
            }
            assign.right.visit_with(self);
            return;
        }
        assign.visit_children_with(self);
    }

    fn update(&mut self, update: &UpdateExpr) {
        if let Expr::Member(member) = &*update.arg
            && let Expr::Ident(object) = &*member.obj
            && self.target(object)
        {
            self.member(member, None);
            if let Some(last) = self
                .uses
                .get_mut(&self.cx.bid(object))
                .and_then(|u| u.last_mut())
            {
                last.kind = UseKind::Other("is updated with `++`/`--`");
            }
            return;
        }
        if let Expr::Ident(ident) = &*update.arg
            && self.target(ident)
        {
            self.visit_ident(ident);
            self.push(ident, UseKind::Blocking("is reassigned"));
            return;
        }
        update.visit_children_with(self);
    }
}

/// The object pattern `pat` is, or starts with a default value for.
fn object_pattern(pat: &Pat) -> Option<&ObjectPat> {
    match pat {
        Pat::Object(object) => Some(object),
        Pat::Assign(assign) => object_pattern(&assign.left),
        _ => None,
    }
}

fn prop_key(key: &PropName) -> Option<&str> {
    match key {
        PropName::Ident(i) => Some(&i.sym),
        PropName::Str(s) => s.value.as_str(),
        _ => None,
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        && !matches!(
            s,
            "this"
                | "null"
                | "true"
                | "false"
                | "new"
                | "class"
                | "function"
                | "var"
                | "let"
                | "const"
                | "delete"
                | "typeof"
                | "void"
                | "in"
                | "instanceof"
                | "default"
                | "arguments"
                | "eval"
        )
}

/// The pattern's braces, without a TypeScript annotation that follows them.
fn pattern_range(cx: &Context<'_>, pat: &ObjectPat) -> TextRange {
    let range = cx.range(pat.span);
    let Some(ann) = &pat.type_ann else {
        return range;
    };
    let ann_start = cx.range(ann.span).start.min(range.end);
    let text = &cx.text[range.start as usize..ann_start as usize];
    let close = text.rfind('}').map_or(ann_start, |i| {
        range.start + u32::try_from(i).expect("small") + 1
    });
    TextRange::new(range.start, close)
}
