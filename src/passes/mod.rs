//! The passes: one hazard per file, each a read-only walk over the AST that reports
//! [`Finding`](crate::Finding)s, some carrying a fix. A walk descends only where the words it
//! looks for occur ([`marks`]) and resolves the names it meets by scope on demand
//! ([`crate::scope`]).
//!
//! The registry is the [`PassId`] enum: adding a pass means a variant, a file, and a line in
//! each `match` below.

use std::str::FromStr;
use std::sync::OnceLock as OnceCell;

use serde::Serialize;
use swc_common::{Span, Spanned};
use swc_ecma_ast::{CallExpr, Callee, Expr, Ident, MemberProp};

use crate::diagnostic::{Analysis, TextRange};
use crate::scope::{Bid, ScopeId, Scopes};
use crate::source::Parsed;
use crate::style::Style;
use marks::{Kind, MarkCache, Marks};

mod asyncify_sleep_alloc;
mod heap_destructure;
mod heap_object_copy;
mod heap_snapshot;
mod kept;
mod kept_buffer_view;
pub(crate) mod marks;
mod stored_heap_view;
mod unused_suppression;
pub(crate) mod views;

/// A pass, by its stable kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PassId {
    /// An object literal copies a heap view once.
    HeapSnapshot,
    /// Destructuring pins a heap view in a local.
    HeapDestructure,
    /// Asyncify mallocs a data block on every sleep.
    AsyncifySleepAlloc,
    /// A heap view is stored where it outlives a call that can grow memory (lint only).
    StoredHeapView,
    /// A typed array over the memory buffer is kept past a call that can grow memory (lint only).
    KeptBufferView,
    /// An object holding heap views is copied into a plain snapshot (lint only).
    HeapObjectCopy,
    /// A `growsafe-ignore` comment that silences nothing.
    UnusedSuppression,
}

/// Whether a pass's findings come with fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixAvailability {
    /// Every finding has a fix.
    Always,
    /// Some findings have a fix.
    Sometimes,
    /// No finding has a fix: a lint that only reports.
    Never,
}

/// What `growsafe passes` and `growsafe explain` print about a pass.
#[derive(Debug, Clone, Copy)]
pub struct PassMeta {
    /// Kebab-case name, stable (used by `--select`, output and docs).
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Whether findings carry fixes.
    pub fix: FixAvailability,
    /// The full documentation (markdown), generated from the pass's doc comment.
    pub docs: &'static str,
}

impl PassId {
    /// Every pass, in the order they run and are listed.
    pub const ALL: [PassId; 7] = [
        PassId::HeapSnapshot,
        PassId::HeapDestructure,
        PassId::AsyncifySleepAlloc,
        PassId::StoredHeapView,
        PassId::KeptBufferView,
        PassId::HeapObjectCopy,
        PassId::UnusedSuppression,
    ];

    /// Whether some of the pass's findings come with fixes (it is not lint-only).
    #[must_use]
    pub fn offers_fixes(self) -> bool {
        self.meta().fix != FixAvailability::Never
    }

    /// The pass's metadata.
    #[must_use]
    pub fn meta(self) -> PassMeta {
        match self {
            PassId::HeapSnapshot => PassMeta {
                name: "heap-snapshot",
                summary: "An object literal copies a heap view once; it goes dead when memory grows",
                fix: FixAvailability::Always,
                docs: include_str!("../../docs/passes/heap-snapshot.md"),
            },
            PassId::HeapDestructure => PassMeta {
                name: "heap-destructure",
                summary: "Destructuring pins a heap view in a local; it goes dead when memory grows",
                fix: FixAvailability::Sometimes,
                docs: include_str!("../../docs/passes/heap-destructure.md"),
            },
            PassId::AsyncifySleepAlloc => PassMeta {
                name: "asyncify-sleep-alloc",
                summary: "Asyncify mallocs a data block on every sleep, which can grow memory mid-sleep",
                fix: FixAvailability::Sometimes,
                docs: include_str!("../../docs/passes/asyncify-sleep-alloc.md"),
            },
            PassId::StoredHeapView => PassMeta {
                name: "stored-heap-view",
                summary: "A heap view is kept past a call that can grow memory; it goes dead when memory grows",
                fix: FixAvailability::Never,
                docs: include_str!("../../docs/passes/stored-heap-view.md"),
            },
            PassId::KeptBufferView => PassMeta {
                name: "kept-buffer-view",
                summary: "A typed array over the memory buffer outlives a call that can grow memory, which detaches it",
                fix: FixAvailability::Never,
                docs: include_str!("../../docs/passes/kept-buffer-view.md"),
            },
            PassId::HeapObjectCopy => PassMeta {
                name: "heap-object-copy",
                summary: "Copying an object that holds heap views snapshots them; the copies go dead when memory grows",
                fix: FixAvailability::Never,
                docs: include_str!("../../docs/passes/heap-object-copy.md"),
            },
            PassId::UnusedSuppression => PassMeta {
                name: "unused-suppression",
                summary: "A `growsafe-ignore` comment that silences nothing or names no rule",
                fix: FixAvailability::Never,
                docs: include_str!("../../docs/passes/unused-suppression.md"),
            },
        }
    }

    /// The kebab-case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.meta().name
    }

    /// Path of the source file whose module doc is this pass's documentation (for the docs test).
    #[must_use]
    pub fn source_file(self) -> &'static str {
        match self {
            PassId::HeapSnapshot => "src/passes/heap_snapshot.rs",
            PassId::HeapDestructure => "src/passes/heap_destructure.rs",
            PassId::AsyncifySleepAlloc => "src/passes/asyncify_sleep_alloc.rs",
            PassId::StoredHeapView => "src/passes/stored_heap_view.rs",
            PassId::KeptBufferView => "src/passes/kept_buffer_view.rs",
            PassId::HeapObjectCopy => "src/passes/heap_object_copy.rs",
            PassId::UnusedSuppression => "src/passes/unused_suppression.rs",
        }
    }

    pub(crate) fn analyze(self, cx: &Context<'_>, out: &mut Analysis) {
        match self {
            PassId::HeapSnapshot => heap_snapshot::heap_snapshot(cx, out),
            PassId::HeapDestructure => heap_destructure::heap_destructure(cx, out),
            PassId::AsyncifySleepAlloc => asyncify_sleep_alloc::asyncify_sleep_alloc(cx, out),
            PassId::StoredHeapView => stored_heap_view::stored_heap_view(cx, out),
            PassId::KeptBufferView => kept_buffer_view::kept_buffer_view(cx, out),
            PassId::HeapObjectCopy => heap_object_copy::heap_object_copy(cx, out),
            // Judged after every other pass has run, by `crate::suppress`.
            PassId::UnusedSuppression => {}
        }
    }
}

impl std::fmt::Display for PassId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PassId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PassId::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = PassId::ALL.iter().map(|p| p.name()).collect();
                format!("unknown pass `{s}` (passes: {})", names.join(", "))
            })
    }
}

/// How `heap-snapshot` rewrites a snapshotted view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeapStyle {
    /// `get HEAP16() { return HEAP16; }`: the object's interface is unchanged.
    #[default]
    Getter,
    /// `HEAP16: { get(offset) {…}, set(offset, value) {…} }`: consumers call `.get`/`.set`.
    Accessor,
    /// `HEAP16: new Proxy(…)`: forwards every access to the current view, even when stored.
    Proxy,
}

/// What the caller asks of the analysis.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How snapshots are rewritten.
    pub heap_style: HeapStyle,
    /// Run only these passes (`None`: all).
    pub select: Option<Vec<PassId>>,
    /// Never run these passes.
    pub ignore: Vec<PassId>,
}

impl Options {
    /// The passes to run, in order.
    #[must_use]
    pub fn passes(&self) -> Vec<PassId> {
        PassId::ALL
            .into_iter()
            .filter(|p| self.select.as_ref().is_none_or(|s| s.contains(p)))
            .filter(|p| !self.ignore.contains(p))
            .collect()
    }
}

/// What a pass sees of a file.
pub(crate) struct Context<'a> {
    /// The body text (after any BOM).
    pub text: &'a str,
    /// The parsed program.
    pub parsed: &'a Parsed,
    /// The caller's options.
    pub options: &'a Options,
    /// How generated code should look, detected on first use (only fixes need it).
    style: OnceCell<Style>,
    /// Which declaration each name refers to, worked out when asked.
    pub scopes: Scopes<'a>,
    /// Where in the text the passes have to look.
    marks: MarkCache,
    /// [`Kind::ViewReads`] and the names of this file's view bindings and helpers.
    view_reads: OnceCell<Marks>,
    /// Which bindings are the glue's heap views (see [`views`]), built on first use.
    views: OnceCell<views::Views>,
    /// The destructuring analysis, shared by `heap-destructure` and `heap-snapshot`.
    pub destructure: heap_destructure::PlanCell,
    /// The kept-value analysis, shared by `stored-heap-view` and `kept-buffer-view`.
    pub kept: kept::KeptCell,
}

impl<'a> Context<'a> {
    #[cfg(test)]
    pub fn new(text: &'a str, parsed: &'a Parsed, options: &'a Options) -> Self {
        Self::with(text, parsed, options, MarkCache::default(), None)
    }

    /// A context whose text searches may already be done (see [`MarkCache::prefill`]), and
    /// whose heap views may be known (see [`views::Views::carried`]).
    pub fn with(
        text: &'a str,
        parsed: &'a Parsed,
        options: &'a Options,
        marks: MarkCache,
        views: Option<views::Views>,
    ) -> Self {
        Context {
            text,
            parsed,
            options,
            style: OnceCell::new(),
            scopes: Scopes::new(&parsed.program, &parsed.patches),
            marks,
            view_reads: OnceCell::new(),
            views: views.map_or_else(OnceCell::new, OnceCell::from),
            destructure: heap_destructure::PlanCell::new(),
            kept: kept::KeptCell::new(),
        }
    }

    /// The heap views, if they were built, and the text searches.
    pub fn into_parts(self) -> (Option<views::Views>, MarkCache) {
        (self.views.into_inner(), self.marks)
    }

    /// How generated code should look.
    pub fn style(&self) -> &Style {
        self.style.get_or_init(|| Style::detect(self.text))
    }

    /// The marks of one kind (see [`marks`]).
    pub fn marks(&self, kind: Kind) -> &Marks {
        self.marks.get(kind, self.text, self.place())
    }

    /// Where the text's offsets are in the AST.
    pub fn place(&self) -> marks::Place<'_> {
        marks::Place::new(self.parsed.start_pos, &self.parsed.patches)
    }

    /// Where a glue view may be read as a whole: [`Kind::ViewReads`], and every occurrence of
    /// a name a refresh function assigns or of a view helper's name (Closure renames them).
    pub fn view_reads(&self) -> &Marks {
        self.view_reads.get_or_init(|| {
            let views = self.views();
            let names: Vec<&str> = views
                .binding_names()
                .chain(views.helper_names())
                .map(|name| &**name)
                .filter(|name| !name.contains("HEAP"))
                .collect();
            let base = self.marks(Kind::ViewReads);
            if names.is_empty() {
                return base.clone();
            }
            let words: Vec<marks::Find<'_>> = names.into_iter().map(marks::Find::Name).collect();
            self.find(&words).with(base)
        })
    }

    /// Marks of other words (computed on each call).
    pub fn find(&self, words: &[marks::Find<'_>]) -> Marks {
        self.marks.find(words, self.text, self.place())
    }

    /// Where one of the fixed words of [`marks`] occurs (offsets into the text).
    pub fn occurrences(&self, word: &str) -> &[u32] {
        self.marks.occurrences(word, self.text)
    }

    /// Marks of other words inside `span` only.
    pub fn find_in(&self, span: Span, words: &[marks::Find<'_>]) -> Marks {
        let range = self.range(span);
        marks::find(
            &self.text[range.as_usize()],
            self.place().within(range.start),
            words,
        )
    }

    /// The scope that declares `ident`.
    pub fn scope(&self, ident: &Ident) -> ScopeId {
        self.scopes.resolve(ident)
    }

    /// `ident`'s binding.
    pub fn bid(&self, ident: &Ident) -> Bid {
        self.scopes.bid(ident)
    }

    /// Whether `ident` is declared nowhere in the file (a global).
    pub fn is_global(&self, ident: &Ident) -> bool {
        self.scope(ident) == ScopeId::GLOBAL
    }

    /// The body-relative range of a span.
    pub fn range(&self, span: Span) -> TextRange {
        self.parsed.range(span)
    }

    /// The source text of a span.
    pub fn slice(&self, span: Span) -> &'a str {
        &self.text[self.range(span).as_usize()]
    }

    /// Whether `ident` refers to a global or a top-level binding (not a local).
    pub fn is_top_or_global(&self, ident: &Ident) -> bool {
        matches!(self.scope(ident), ScopeId::TOP | ScopeId::GLOBAL)
    }

    /// The file's heap views, refresh functions, mirrors and helpers (built once per file).
    pub fn views(&self) -> &views::Views {
        self.views.get_or_init(|| views::Views::build(self))
    }

    /// The view name if `ident` refers to the glue's own heap view: a global or top-level
    /// `var`/`let` named `HEAP8` … (never a local or a top-level `const`/function/import), or a
    /// binding the file's refresh function assigns a new typed array (views inside a
    /// `MODULARIZE` factory, Closure-renamed views: `K = new Int32Array(b)` is `HEAP32`).
    pub fn glue_view(&self, ident: &Ident) -> Option<&'static str> {
        self.views().ident_view(self, ident)
    }

    /// The view name if `expr` reads the glue's view at the time it runs: directly,
    /// `Module.HEAPx` / `Module['HEAPx']` on a global or top-level `Module`, `obj.HEAPx` on an
    /// object the refresh function writes views onto, a pthreads helper call
    /// (`GROWABLE_HEAP_I8()`, Closure's `c()`) or `(growMemViews(), HEAP8)`.
    pub fn glue_view_expr(&self, expr: &Expr) -> Option<&'static str> {
        match expr {
            Expr::Ident(ident) => self.glue_view(ident),
            Expr::Paren(paren) => self.glue_view_expr(&paren.expr),
            Expr::Member(member) => {
                let Expr::Ident(object) = &*member.obj else {
                    return None;
                };
                let prop = member_prop_name(&member.prop)?;
                if &*object.sym == "Module" && self.is_top_or_global(object) {
                    return views::view_name(prop);
                }
                self.views().mirror(self, object, prop)
            }
            Expr::Call(call) if call.args.is_empty() => match self.helper_call(call)? {
                views::Helper::View(view) => Some(view),
                views::Helper::Check => None,
            },
            Expr::Seq(seq) => {
                let (last, checks) = seq.exprs.split_last()?;
                // `(growMemViews(), HEAP8)`, or `(GROWABLE_HEAP_I8(), HEAP64)`: every helper
                // refreshes all views.
                let all_checks = checks.iter().all(|e| match &**e {
                    Expr::Call(call) if call.args.is_empty() => self.helper_call(call).is_some(),
                    _ => false,
                });
                (!checks.is_empty() && all_checks)
                    .then(|| self.glue_view_expr(last))
                    .flatten()
            }
            _ => None,
        }
    }

    /// What a call to a view helper does (`GROWABLE_HEAP_I8()`, `growMemViews()`).
    pub fn helper_call(&self, call: &CallExpr) -> Option<views::Helper> {
        let Callee::Expr(callee) = &call.callee else {
            return None;
        };
        let Expr::Ident(callee) = &**callee else {
            return None;
        };
        self.views().helper(self, callee)
    }

    /// The text between two spans, for locating punctuation such as a property's `:`.
    pub fn between(&self, before: Span, after: Span) -> (u32, &'a str) {
        let start = self.range(before).end;
        let end = self.range(after.span()).start;
        (start, &self.text[start as usize..end as usize])
    }
}

/// The static name of a member property: `.x` or `['x']`.
pub(crate) fn member_prop_name(prop: &MemberProp) -> Option<&str> {
    match prop {
        MemberProp::Ident(i) => Some(&i.sym),
        MemberProp::Computed(c) => match &*c.expr {
            Expr::Lit(swc_ecma_ast::Lit::Str(s)) => s.value.as_str(),
            _ => None,
        },
        MemberProp::PrivateName(_) => None,
    }
}

/// Finds the first `needle` byte in `gap` that is not inside a comment; `gap` is source text
/// between two tokens, so it holds only whitespace, comments and punctuation.
pub(crate) fn find_punct(gap: &str, needle: u8) -> Option<usize> {
    let bytes = gap.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = gap[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = gap[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b if b == needle => return Some(i),
            _ => i += 1,
        }
    }
    None
}
