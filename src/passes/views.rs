//! The heap views Emscripten swaps on memory growth, and which names in a file refer to them.

use swc_ecma_ast::{Decl, ModuleDecl, ModuleItem, Pat, Program, Stmt, VarDeclKind};

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

/// View names that a file's top level binds to something that is not a swappable view:
/// a `const`, a function, a class or an import. Such a binding never changes, so reading it
/// once is harmless and it is not the glue's view.
#[derive(Debug, Default)]
pub(crate) struct TopLevelViews {
    fixed: Vec<&'static str>,
}

impl TopLevelViews {
    pub fn collect(parsed: &Parsed) -> Self {
        let mut fixed = Vec::new();
        match &parsed.program {
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
                            collect_decl(&export.decl, &mut fixed)
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
        TopLevelViews { fixed }
    }

    /// Whether the top level binds `name` to something that never changes.
    pub fn not_a_view(&self, name: &str) -> bool {
        self.fixed.contains(&name)
    }
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
