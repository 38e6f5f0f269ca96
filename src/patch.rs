//! Fixing without parsing the whole file again: the nodes a fix changed are re-parsed on their
//! own and spliced into the previous round's AST.
//!
//! A fix edits a few object literals or functions of a file (a `{ HEAP8, HEAP16 }` snapshot,
//! the `Asyncify` object, a function that destructures views). The next round of `fix` must
//! analyse the fixed text, which differs from the previous one only inside those nodes. So
//! each edited node's new text is parsed alone, wrapped in what makes it parse the same way
//! in place (inside an `async`/generator function when it sits in one, strict when its code
//! is), and replaces the old node in the AST.
//!
//! The new nodes cannot take the positions of the new text: the nodes after them keep those of
//! the old one. They are parsed at *virtual* positions past the end of any file, and each
//! spliced node keeps its old span (so that lists stay ordered by position), with its
//! contents at virtual positions. [`Patches`] maps any position of the patched AST to an
//! offset of the new text and back; a sparse walk reaches a virtual node through its anchor
//! (a mark inside it also marks the anchor's start, see `passes::marks`).
//!
//! Only when every edit sits strictly inside such a node and each one parses is the file
//! patched; otherwise it is parsed again as a whole (which also reports a fix that broke the
//! syntax). A node that parses alone in its context parses in place: the wrapper reproduces
//! what the text around it decides (module or script, strictness, `await` and `yield`), and
//! the node begins and ends with the same tokens as before, so its neighbours read it the same
//! way.

use swc_common::{BytePos, Span, Spanned};
use swc_ecma_ast::{
    ArrowExpr, ArrowFunctionBody, Class, Decl, EsVersion, Expr, FnDecl, Function, ModuleItem,
    Program, Stmt,
};
use swc_ecma_parser::{Lexer, Parser, StringInput};
use swc_ecma_visit::{Visit, VisitMut, VisitMutWith, VisitWith};

use crate::diagnostic::TextRange;
use crate::source::{Lang, Parsed};

/// Where virtual positions start: past any file growsafe reads (at most 1 GiB).
const VIRTUAL: u32 = 1 << 31;

/// One re-parsed node.
#[derive(Debug, Clone, Copy)]
struct Unit {
    /// The node's span in the previous AST, which it keeps.
    anchor: Span,
    /// Where its contents are (virtual positions).
    virt: Span,
    /// Its range in the new text.
    new: TextRange,
}

impl Unit {
    /// How much longer the node's text became.
    fn growth(self) -> i64 {
        let old = i64::from((self.anchor.hi - self.anchor.lo).0);
        i64::from(self.new.end - self.new.start) - old
    }
}

/// The re-parsed nodes of a patched AST (none for a freshly parsed one).
#[derive(Debug, Default, Clone)]
pub struct Patches {
    /// By position.
    units: Vec<Unit>,
    /// A re-parsed function declaration has another name than before.
    renames: bool,
}

impl Patches {
    /// Whether nothing was patched.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The text offset of an AST position (`start` is the text's first position).
    #[must_use]
    pub fn offset(&self, pos: BytePos, start: BytePos) -> u32 {
        if pos.0 >= VIRTUAL {
            let unit = self
                .units
                .iter()
                .find(|u| u.virt.lo <= pos && pos <= u.virt.hi)
                .expect("a virtual position belongs to a unit");
            return unit.new.start + (pos - unit.virt.lo).0;
        }
        let before: i64 = self
            .units
            .iter()
            .take_while(|u| u.anchor.hi <= pos)
            .map(|u| u.growth())
            .sum();
        u32::try_from(i64::from((pos - start).0) + before).expect("inside the text")
    }

    /// The AST position of a text offset.
    #[must_use]
    pub fn pos(&self, offset: u32, start: BytePos) -> BytePos {
        let mut shift = 0i64;
        for unit in &self.units {
            if offset < unit.new.start {
                break;
            }
            if offset < unit.new.end {
                return unit.virt.lo + BytePos(offset - unit.new.start);
            }
            shift += unit.growth();
        }
        start + BytePos(u32::try_from(i64::from(offset) - shift).expect("inside the text"))
    }

    /// Each re-parsed node's range in the previous text and in the new one (`start` is the
    /// previous text's first position).
    pub(crate) fn edited(&self, start: BytePos) -> impl Iterator<Item = (TextRange, TextRange)> {
        self.units.iter().map(move |u| {
            let old = TextRange::new((u.anchor.lo - start).0, (u.anchor.hi - start).0);
            (old, u.new)
        })
    }

    /// Whether a re-parsed function declaration has another name than before.
    pub(crate) fn renames(&self) -> bool {
        self.renames
    }

    /// The start of the node a virtual position belongs to (for a position of the previous
    /// AST: `None`).
    #[must_use]
    pub fn anchor_of(&self, pos: BytePos) -> Option<BytePos> {
        if pos.0 < VIRTUAL {
            return None;
        }
        self.units
            .iter()
            .find(|u| u.virt.lo <= pos && pos <= u.virt.hi)
            .map(|u| u.anchor.lo)
    }

    /// The virtual contents of the nodes inside `span` (a span of the previous AST).
    pub fn inside(&self, span: Span) -> impl Iterator<Item = Span> + '_ {
        self.units
            .iter()
            .filter(move |u| span.lo <= u.anchor.lo && u.anchor.hi <= span.hi)
            .map(|u| u.virt)
    }
}

/// A node that can be re-parsed on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An object literal, an arrow or a function expression: parsed as an expression.
    Expr,
    /// A function declaration: parsed as a statement.
    FnDecl,
}

/// What the text around a node decides about how it parses.
#[derive(Debug, Clone, Copy, Default)]
struct Around {
    /// Inside a function (else at the top level).
    function: bool,
    is_async: bool,
    is_generator: bool,
    /// Strict code (a module, a class, a `"use strict"` directive).
    strict: bool,
}

/// The smallest re-parsable node around one range of the previous text.
#[derive(Debug, Clone, Copy)]
struct Found {
    span: Span,
    kind: Kind,
    around: Around,
}

/// Patches `parsed` (the AST of `old`) into the AST of `new`, given the edits applied
/// (`spliced`: each edit's range in `old` and in `new`). `None` when the edits do not sit
/// inside re-parsable nodes or a node does not parse on its own: parse `new` instead.
pub(crate) fn patch(
    mut parsed: Parsed,
    new: &str,
    spliced: &[(TextRange, TextRange)],
    lang: Lang,
) -> Option<Parsed> {
    // Real positions must stay below the virtual ones (the CLI reads at most 1 GiB, but the
    // library takes any text).
    let real_end = (u64::from(parsed.start_pos.0) + new.len() as u64)
        .max(u64::from(parsed.program.span().hi.0));
    if !parsed.patches.is_empty() || spliced.is_empty() || real_end >= u64::from(VIRTUAL) {
        return None;
    }
    let start = parsed.start_pos;
    let module = matches!(parsed.program, Program::Module(_));
    // The node around each edit, merged when one holds another.
    let mut nodes: Vec<Found> = Vec::new();
    for (old, _) in spliced {
        let lo = start + BytePos(old.start);
        let hi = start + BytePos(old.end);
        let found = enclosing(&parsed.program, lo, hi, module)?;
        nodes.push(found);
    }
    nodes.sort_by_key(|n| (n.span.lo, std::cmp::Reverse(n.span.hi)));
    let mut units: Vec<Found> = Vec::new();
    for node in nodes {
        match units.last() {
            Some(last) if node.span.hi <= last.span.hi => {}
            Some(last) if node.span.lo < last.span.hi => return None,
            _ => units.push(node),
        }
    }
    // Each unit's range in the new text: its old range, moved by the edits before it and
    // grown by those inside it (every edit sits strictly inside a unit).
    let map = |offset: u32| -> u32 {
        let shift: i64 = spliced
            .iter()
            .take_while(|(old, _)| old.end <= offset)
            .map(|(old, new)| i64::from(new.end - new.start) - i64::from(old.end - old.start))
            .sum();
        u32::try_from(i64::from(offset) + shift).expect("inside the text")
    };
    let mut next_virtual = VIRTUAL;
    let mut patches = Vec::new();
    let mut replacements = Vec::new();
    for unit in &units {
        let old = TextRange::new((unit.span.lo - start).0, (unit.span.hi - start).0);
        let new_range = TextRange::new(map(old.start), map(old.end));
        let text = &new[new_range.as_usize()];
        let virt_lo = BytePos(next_virtual);
        let node = reparse(text, virt_lo, unit.kind, unit.around, module, lang)?;
        let virt = Span::new(virt_lo, virt_lo + BytePos(new_range.end - new_range.start));
        next_virtual = virt.hi.0.checked_add(1)?;
        patches.push(Unit {
            anchor: unit.span,
            virt,
            new: new_range,
        });
        replacements.push((unit.span, node));
    }
    let mut splice = Splice {
        replacements,
        done: 0,
        renames: false,
    };
    parsed.program.visit_mut_with(&mut splice);
    if splice.done != patches.len() {
        return None;
    }
    parsed.patches = Patches {
        units: patches,
        renames: splice.renames,
    };
    Some(parsed)
}

/// A re-parsed node, ready to take its anchor's place.
enum Node {
    Expr(Box<Expr>),
    FnDecl(FnDecl),
}

/// Parses a node's new text on its own at `at` (virtual), in a wrapper that reproduces its
/// surroundings.
fn reparse(
    text: &str,
    at: BytePos,
    kind: Kind,
    around: Around,
    module: bool,
    lang: Lang,
) -> Option<Node> {
    let directive = if around.strict && !module {
        "\"use strict\";"
    } else {
        ""
    };
    let function = format!(
        "{}function{} __growsafe__(){{{directive}",
        if around.is_async { "async " } else { "" },
        if around.is_generator { "*" } else { "" },
    );
    let (prefix, suffix) = match (kind, around.function) {
        (Kind::Expr, true) => (format!("{function}return("), ")}".to_owned()),
        (Kind::Expr, false) => (format!("{directive}("), ")".to_owned()),
        (Kind::FnDecl, true) => (function, "}".to_owned()),
        (Kind::FnDecl, false) => (directive.to_owned(), String::new()),
    };
    let wrapped = format!("{prefix}{text}{suffix}");
    let lo = at - BytePos(u32::try_from(prefix.len()).ok()?);
    let hi = lo + BytePos(u32::try_from(wrapped.len()).ok()?);
    // As `source::parse_program` parses: the latest ECMAScript.
    let lexer = Lexer::new(
        lang.syntax(),
        EsVersion::latest(),
        StringInput::new(&wrapped, lo, hi),
        None,
    );
    let mut parser = Parser::new_from(lexer);
    let items: Vec<ModuleItem> = if module {
        parser.parse_module().ok()?.body
    } else {
        parser
            .parse_script()
            .ok()?
            .body
            .into_iter()
            .map(ModuleItem::Stmt)
            .collect()
    };
    if !parser.take_errors().is_empty() {
        return None;
    }
    let mut stmts: Vec<Stmt> = items
        .into_iter()
        .map(|item| match item {
            ModuleItem::Stmt(s) => Some(s),
            ModuleItem::ModuleDecl(_) => None,
        })
        .collect::<Option<_>>()?;
    if around.function {
        // The wrapper function's body.
        let Some(Stmt::Decl(Decl::Fn(wrapper))) = stmts.pop() else {
            return None;
        };
        stmts = wrapper.function.body?.stmts;
    }
    // Past a directive of the wrapper's.
    let last = stmts.pop()?;
    let node = match (kind, around.function, last) {
        (Kind::Expr, true, Stmt::Return(ret)) => Node::Expr(unparen(*ret.arg?)?),
        (Kind::Expr, false, Stmt::Expr(e)) => Node::Expr(unparen(*e.expr)?),
        (Kind::FnDecl, _, Stmt::Decl(Decl::Fn(f))) => Node::FnDecl(f),
        _ => return None,
    };
    let span = match &node {
        Node::Expr(e) => e.span(),
        Node::FnDecl(f) => f.span(),
    };
    (span.lo == at && span.hi == at + BytePos(u32::try_from(text.len()).ok()?)).then_some(node)
}

fn unparen(expr: Expr) -> Option<Box<Expr>> {
    match expr {
        Expr::Paren(p) => Some(p.expr),
        _ => None,
    }
}

/// Finds the smallest re-parsable node that holds `lo..hi` strictly inside (its first and last
/// bytes unchanged), with its surroundings.
fn enclosing(program: &Program, lo: BytePos, hi: BytePos, module: bool) -> Option<Found> {
    let strict = module
        || matches!(program, Program::Script(s) if s.body.first().is_some_and(Stmt::is_use_strict));
    let mut finder = Enclosing {
        lo,
        hi,
        around: Around {
            strict,
            ..Around::default()
        },
        found: None,
    };
    program.visit_with(&mut finder);
    finder.found
}

struct Enclosing {
    lo: BytePos,
    hi: BytePos,
    /// The surroundings of the node being visited.
    around: Around,
    found: Option<Found>,
}

impl Enclosing {
    fn holds(&self, span: Span) -> bool {
        span.lo < self.lo && self.hi < span.hi
    }

    fn candidate(&mut self, span: Span, kind: Kind) {
        if self.holds(span) {
            self.found = Some(Found {
                span,
                kind,
                around: self.around,
            });
        }
    }

    /// Visits a function's inside with its surroundings.
    fn inside(
        &mut self,
        is_async: bool,
        is_generator: bool,
        strict: bool,
        visit: impl FnOnce(&mut Self),
    ) {
        let saved = self.around;
        self.around = Around {
            function: true,
            is_async,
            is_generator,
            strict: saved.strict || strict,
        };
        visit(self);
        self.around = saved;
    }
}

impl Visit for Enclosing {
    fn visit_expr(&mut self, expr: &Expr) {
        let span = expr.span();
        if !(span.lo <= self.lo && self.hi <= span.hi) {
            return;
        }
        if matches!(expr, Expr::Object(_) | Expr::Fn(_) | Expr::Arrow(_)) {
            self.candidate(span, Kind::Expr);
        }
        expr.visit_children_with(self);
    }

    fn visit_stmt(&mut self, stmt: &Stmt) {
        let span = stmt.span();
        if !(span.lo <= self.lo && self.hi <= span.hi) {
            return;
        }
        if let Stmt::Decl(Decl::Fn(f)) = stmt
            && !f.declare
        {
            self.candidate(span, Kind::FnDecl);
        }
        stmt.visit_children_with(self);
    }

    fn visit_function(&mut self, f: &Function) {
        let strict = f
            .body
            .as_ref()
            .is_some_and(|b| b.stmts.first().is_some_and(Stmt::is_use_strict));
        self.inside(f.is_async, f.is_generator, strict, |me| {
            f.visit_children_with(me);
        });
    }

    fn visit_arrow_expr(&mut self, a: &ArrowExpr) {
        let strict = matches!(&*a.body, ArrowFunctionBody::FunctionBody(b)
            if b.stmts.first().is_some_and(Stmt::is_use_strict));
        // No `yield` in an arrow; `await` is its own.
        self.inside(a.is_async, false, strict, |me| {
            a.visit_children_with(me);
        });
    }

    fn visit_class(&mut self, c: &Class) {
        let saved = self.around;
        self.around.strict = true;
        c.visit_children_with(self);
        self.around = saved;
    }
}

/// Replaces each anchor with its re-parsed node, which keeps the anchor's span.
struct Splice {
    replacements: Vec<(Span, Node)>,
    done: usize,
    /// A function declaration got another name.
    renames: bool,
}

impl Splice {
    fn wants(&self, span: Span) -> bool {
        self.replacements
            .iter()
            .any(|(anchor, _)| span.lo <= anchor.lo && anchor.hi <= span.hi)
    }

    /// The replacement for the node at `span`, if it is an anchor of this kind.
    fn take(&mut self, span: Span, expr: bool) -> Option<Node> {
        let i = self
            .replacements
            .iter()
            .position(|(a, node)| *a == span && matches!(node, Node::Expr(_)) == expr)?;
        self.done += 1;
        Some(self.replacements.swap_remove(i).1)
    }
}

impl VisitMut for Splice {
    fn visit_mut_expr(&mut self, expr: &mut Expr) {
        let span = expr.span();
        if !self.wants(span) {
            return;
        }
        if matches!(expr, Expr::Object(_) | Expr::Fn(_) | Expr::Arrow(_))
            && let Some(Node::Expr(mut node)) = self.take(span, true)
        {
            set_span(&mut node, span);
            *expr = *node;
            return;
        }
        expr.visit_mut_children_with(self);
    }

    fn visit_mut_stmt(&mut self, stmt: &mut Stmt) {
        let span = stmt.span();
        if !self.wants(span) {
            return;
        }
        if let Stmt::Decl(Decl::Fn(old)) = stmt
            && let Some(Node::FnDecl(mut node)) = self.take(span, false)
        {
            self.renames |= node.ident.sym != old.ident.sym;
            node.function.span = span;
            *stmt = Stmt::Decl(Decl::Fn(node));
            return;
        }
        stmt.visit_mut_children_with(self);
    }
}

/// Gives a re-parsed expression its anchor's span (its contents stay virtual).
fn set_span(expr: &mut Expr, span: Span) {
    match expr {
        Expr::Object(o) => o.span = span,
        Expr::Fn(f) => f.function.span = span,
        Expr::Arrow(a) => a.span = span,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse;
    use swc_ecma_ast::Ident;

    /// Applies `edits` (old range, replacement) to `old`: the new text and each edit's range in
    /// the old text and in the new one, as `fix` reports them.
    fn edit(old: &str, edits: &[(&str, &str)]) -> (String, Vec<(TextRange, TextRange)>) {
        let mut new = String::new();
        let mut spliced = Vec::new();
        let mut at = 0;
        for (find, replace) in edits {
            let start = at + old[at..].find(find).expect("the edited text is there");
            new.push_str(&old[at..start]);
            let end = start + find.len();
            let new_start = new.len();
            new.push_str(replace);
            let r = |a: usize, b: usize| {
                TextRange::new(u32::try_from(a).unwrap(), u32::try_from(b).unwrap())
            };
            spliced.push((r(start, end), r(new_start, new.len())));
            at = end;
        }
        new.push_str(&old[at..]);
        (new, spliced)
    }

    /// Every identifier of an AST, with its range in the text.
    fn idents(parsed: &Parsed) -> Vec<(String, TextRange)> {
        struct Idents<'a>(&'a Parsed, Vec<(String, TextRange)>);
        impl Visit for Idents<'_> {
            fn visit_ident(&mut self, i: &Ident) {
                self.1.push((i.sym.to_string(), self.0.range(i.span)));
            }
        }
        let mut v = Idents(parsed, Vec::new());
        parsed.program.visit_with(&mut v);
        v.1.sort_by_key(|(_, r)| (r.start, r.end));
        v.1
    }

    /// Patches `old` with `edits`: `None` if it falls back to a full parse; else checks the
    /// patched AST against the new text parsed afresh.
    fn patched(old: &str, edits: &[(&str, &str)], lang: Lang) -> Option<usize> {
        let (new, spliced) = edit(old, edits);
        let result = patch(parse(old, lang).unwrap(), &new, &spliced, lang)?;
        let fresh = parse(&new, lang).unwrap();
        let got = idents(&result);
        assert_eq!(got, idents(&fresh), "{new}");
        for (name, range) in &got {
            assert_eq!(&new[range.as_usize()], name);
        }
        for offset in 0..u32::try_from(new.len()).unwrap() {
            assert_eq!(result.offset(result.pos(offset)), offset);
        }
        Some(result.patches.units.len())
    }

    #[test]
    fn an_edited_object_or_function_is_parsed_alone() {
        let old = "var a = 1;\nvar o = { HEAP8, HEAP16 };\nfunction f() {\n  return HEAP8[0];\n}\nvar z = 2;\n";
        let edits = [
            ("HEAP8, HEAP16", "get HEAP8() { return HEAP8; }, HEAP16"),
            ("HEAP8[0]", "o.HEAP8[0]"),
        ];
        assert_eq!(patched(old, &edits, Lang::JavaScript), Some(2));
    }

    #[test]
    fn nested_edits_make_one_unit() {
        let old = "function f() {\n  var o = { HEAP8 };\n  return () => HEAP8[1];\n}\n";
        let edits = [
            ("{ HEAP8 }", "{ get HEAP8() { return HEAP8; } }"),
            ("HEAP8[1]", "o.HEAP8[1]"),
        ];
        assert_eq!(patched(old, &edits, Lang::JavaScript), Some(1));
    }

    #[test]
    fn the_wrapper_keeps_await_yield_and_strictness() {
        let old = "async function f() {\n  var o = { a: await g(), HEAP8 };\n}\n";
        let edits = [("HEAP8", "get HEAP8() { return HEAP8; }")];
        assert_eq!(patched(old, &edits, Lang::JavaScript), Some(1));
        // `yield` is an identifier in sloppy code outside generators.
        let old = "function f() {\n  var o = { yield: yield, HEAP8 };\n}\n";
        assert_eq!(patched(old, &edits, Lang::JavaScript), Some(1));
        let old = "function* f() {\n  var o = { a: yield 1, HEAP8 };\n}\n";
        assert_eq!(patched(old, &edits, Lang::JavaScript), Some(1));
        // Top-level `await` in a module.
        let old = "var o = { a: await g(), HEAP8 };\nexport {};\n";
        assert_eq!(patched(old, &edits, Lang::JavaScript), Some(1));
    }

    #[test]
    fn unsafe_edits_fall_back_to_a_full_parse() {
        // At the top level, no node holds the edit.
        let old = "var a = HEAP8;\n";
        assert_eq!(
            patched(old, &[("HEAP8", "x.HEAP8")], Lang::JavaScript),
            None
        );
        // The edit touches the node's first byte.
        let old = "var o = { HEAP8 };\n";
        assert_eq!(patched(old, &[("{ HEAP8", "{ x")], Lang::JavaScript), None);
        // `super` belongs to the method around the arrow.
        let old = "class A extends B {\n  m() {\n    return () => super.m(HEAP8);\n  }\n}\n";
        let edits = [("(HEAP8)", "(x.HEAP8)")];
        // swc may accept the arrow alone (its AST is then the same) or refuse it (a full parse).
        let _ = patched(old, &edits, Lang::JavaScript);
        // A fix that breaks the syntax.
        let old = "function f() {\n  return { HEAP8 };\n}\n";
        assert_eq!(
            patched(old, &[("HEAP8 }", "HEAP8: }")], Lang::JavaScript),
            None
        );
    }
}
