//! Which object literals can reach a destructuring pattern, so a view is recognised behind a
//! key that is not named like one.
//!
//! Closure renames property keys: `{ memory: { HEAP16, HEAP32 } }` becomes
//! `function pa({memory:{i:b,h:c}})`, called as `pa({memory:b})` after `var b={l:H,i:J,h:N}`.
//! Nothing in the pattern says "view"; the object literal that flows into it does (`J` is the
//! glue's `HEAP16`). This module follows such literals through names (`var b = {…}`,
//! `b = {…}`, `var c = b`) and through the arguments of calls to a named function, a few hops
//! deep. It only ever adds patterns to flag: an object it cannot follow is simply not known.

use std::collections::HashMap;

use swc_common::BytePos;
use swc_ecma_ast::{
    AssignExpr, AssignTarget, CallExpr, Callee, Expr, ObjectLit, Pat, Prop, PropOrSpread,
    SimpleAssignTarget, Stmt, VarDeclarator,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::prop_key;
use crate::passes::Context;
use crate::scope::Bid as Id;

/// How many names a literal is followed through.
const MAX_HOPS: usize = 4;

/// What a value is, as far as views go.
#[derive(Debug, Clone)]
enum Val {
    /// Reads the glue's view (directly, or a getter returning it).
    View(&'static str),
    /// A name, bound elsewhere.
    Name(Id),
    /// An object literal: its index in [`Flow::objects`].
    Object(usize),
    /// Anything else.
    Other,
}

/// The object literals of a file and the names and call arguments they flow into.
#[derive(Debug, Default)]
pub(super) struct Flow {
    /// Each object literal's plainly named properties.
    objects: Vec<Vec<(String, Val)>>,
    /// Object literals by where they start.
    by_start: HashMap<BytePos, usize>,
    /// What each name is bound or assigned to (`var b = {…}`, `b = c`), when that is an object
    /// literal or another name.
    bound: HashMap<Id, Vec<Val>>,
    /// The arguments of each call of a plain name, when one of them is an object or a name.
    calls: HashMap<Id, Vec<Vec<Val>>>,
}

/// A set of object literals that may reach one place.
pub(super) type Objects = Vec<usize>;

impl Flow {
    pub(super) fn build(cx: &Context<'_>) -> Flow {
        let mut builder = Builder {
            cx,
            flow: Flow::default(),
        };
        cx.parsed.program.visit_with(&mut builder);
        builder.flow
    }

    /// The object literals `expr` may evaluate to.
    pub(super) fn objects_of_expr(&self, cx: &Context<'_>, expr: &Expr) -> Objects {
        let val = match expr.unwrap_parens() {
            Expr::Ident(ident) => Val::Name(cx.bid(ident)),
            Expr::Object(object) => match self.by_start.get(&object.span.lo) {
                Some(&i) => Val::Object(i),
                None => Val::Other,
            },
            _ => Val::Other,
        };
        self.objects(&val)
    }

    /// The object literals passed as argument `index` to calls of the function named `callee`.
    pub(super) fn arguments(&self, callee: &Id, index: usize) -> Objects {
        let mut out = Vec::new();
        for args in self.calls.get(callee).into_iter().flatten() {
            if let Some(arg) = args.get(index) {
                out.extend(self.objects(arg));
            }
        }
        dedup(out)
    }

    /// The view that property `key` of any of `objects` holds, if one does.
    pub(super) fn view(&self, objects: &[usize], key: &str) -> Option<&'static str> {
        objects.iter().find_map(|&i| {
            self.objects[i].iter().find_map(|(k, v)| match v {
                Val::View(view) if k == key => Some(*view),
                _ => None,
            })
        })
    }

    /// The object literals property `key` of any of `objects` may hold.
    pub(super) fn property(&self, objects: &[usize], key: &str) -> Objects {
        let mut out = Vec::new();
        for &i in objects {
            for (k, v) in &self.objects[i] {
                if k == key {
                    out.extend(self.objects(v));
                }
            }
        }
        dedup(out)
    }

    fn objects(&self, val: &Val) -> Objects {
        let mut out = Vec::new();
        self.collect(val, MAX_HOPS, &mut out);
        dedup(out)
    }

    fn collect(&self, val: &Val, hops: usize, out: &mut Objects) {
        match val {
            Val::Object(i) => out.push(*i),
            Val::Name(id) if hops > 0 => {
                for bound in self.bound.get(id).into_iter().flatten() {
                    self.collect(bound, hops - 1, out);
                }
            }
            _ => {}
        }
    }
}

fn dedup(mut v: Objects) -> Objects {
    v.sort_unstable();
    v.dedup();
    v
}

struct Builder<'a, 'cx> {
    cx: &'a Context<'cx>,
    flow: Flow,
}

impl Builder<'_, '_> {
    fn val(&mut self, expr: &Expr) -> Val {
        if let Some(view) = self.cx.glue_view_expr(expr) {
            return Val::View(view);
        }
        match expr.unwrap_parens() {
            Expr::Ident(ident) => Val::Name(self.cx.bid(ident)),
            Expr::Object(object) => Val::Object(self.object(object)),
            _ => Val::Other,
        }
    }

    /// Summarises an object literal (and the literals nested in it), once.
    fn object(&mut self, object: &ObjectLit) -> usize {
        if let Some(&i) = self.flow.by_start.get(&object.span.lo) {
            return i;
        }
        let index = self.flow.objects.len();
        self.flow.objects.push(Vec::new());
        self.flow.by_start.insert(object.span.lo, index);
        let mut props = Vec::new();
        for prop in &object.props {
            let PropOrSpread::Prop(prop) = prop else {
                continue;
            };
            match &**prop {
                Prop::Shorthand(ident) => {
                    let val = match self.cx.glue_view(ident) {
                        Some(view) => Val::View(view),
                        None => Val::Name(self.cx.bid(ident)),
                    };
                    props.push((ident.sym.to_string(), val));
                }
                Prop::KeyValue(kv) => {
                    if let Some(key) = prop_key(&kv.key) {
                        let val = self.val(&kv.value);
                        props.push((key.to_owned(), val));
                    }
                }
                Prop::Getter(getter) => {
                    // `get i() { return J; }`: what heap-snapshot writes.
                    if let Some(key) = prop_key(&getter.key)
                        && let Some(body) = &getter.function.body
                        && let [Stmt::Return(ret)] = body.stmts.as_slice()
                        && let Some(arg) = &ret.arg
                        && let Some(view) = self.cx.glue_view_expr(arg)
                    {
                        props.push((key.to_owned(), Val::View(view)));
                    }
                }
                _ => {}
            }
        }
        self.flow.objects[index] = props;
        index
    }

    fn bind(&mut self, id: Id, val: Val) {
        if matches!(val, Val::Name(_) | Val::Object(_)) {
            self.flow.bound.entry(id).or_default().push(val);
        }
    }
}

impl Visit for Builder<'_, '_> {
    fn visit_object_lit(&mut self, object: &ObjectLit) {
        self.object(object);
        object.visit_children_with(self);
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if let (Pat::Ident(name), Some(init)) = (&d.name, &d.init) {
            let val = self.val(init);
            self.bind(self.cx.bid(&name.id), val);
        }
        d.visit_children_with(self);
    }

    fn visit_assign_expr(&mut self, assign: &AssignExpr) {
        if let AssignTarget::Simple(SimpleAssignTarget::Ident(name)) = &assign.left {
            let val = self.val(&assign.right);
            self.bind(self.cx.bid(&name.id), val);
        }
        assign.visit_children_with(self);
    }

    fn visit_call_expr(&mut self, call: &CallExpr) {
        if let Callee::Expr(callee) = &call.callee
            && let Expr::Ident(callee) = &**callee
        {
            let mut args = Vec::with_capacity(call.args.len());
            for arg in &call.args {
                if arg.spread.is_some() {
                    break;
                }
                args.push(self.val(&arg.expr));
            }
            if args
                .iter()
                .any(|a| matches!(a, Val::Name(_) | Val::Object(_)))
            {
                self.flow
                    .calls
                    .entry(self.cx.bid(callee))
                    .or_default()
                    .push(args);
            }
        }
        call.visit_children_with(self);
    }
}
