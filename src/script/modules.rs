//! The modules a script imports: read, compiled and fixed when the script is compiled, and
//! served from memory when it runs.
//!
//! Every `import` must name its module with a string literal, so the whole set of modules
//! a script can use is known before its first card: their syntax is checked then (nothing
//! is sent to a card for a module that does not compile), a profile hashes their texts
//! into its version (editing a module is a changed profile), and a run evaluates exactly
//! the text that was read and hashed — a file edited during a batch changes nothing until
//! the batch is started again. A path is relative to the directory of the file that
//! imports it (a profile's inline `script:` counts as its profile's file), and `.rhai` is
//! put on it as Rhai does. A module that imports itself, directly or through others, and
//! more than [`MAX_MODULES`] modules are errors. Each run evaluates a module's top level
//! afresh (nothing is cached between runs: a module may read the card).
//!
//! This file does not check what a module calls or reads (that is left to the run, as
//! for any module function), and it does not run scripts.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use rhai::module_resolvers::ModuleResolver;
use rhai::{AST, ASTNode, Engine, EvalAltResult, Expr, Module, Position, Scope, Stmt};

use super::error::{ErrorKind, ScriptError, from_parse};

/// Most modules one script may import, directly and through other modules.
pub const MAX_MODULES: usize = 64;

/// One module read from its file.
#[derive(Debug)]
struct Loaded {
    /// Where it was read, as messages name it.
    path: PathBuf,
    /// Its text, as read (the profile hash covers it).
    text: String,
    ast: AST,
}

/// Every module a script imports, in the order they were first read.
#[derive(Debug, Default)]
pub(super) struct Modules {
    loaded: Vec<Loaded>,
    /// (the importing file's key, the path as written) -> index into `loaded`. The main
    /// script's key is the empty text (its AST has no source); a module's is its path.
    by_import: HashMap<(String, String), usize>,
}

impl Modules {
    /// Reads and compiles every module `ast` (the script `file`, in directory `dir`)
    /// imports, and every module those import.
    pub fn load(
        engine: &Engine,
        file: &str,
        ast: &AST,
        dir: &Path,
    ) -> Result<Modules, ScriptError> {
        let mut modules = Modules::default();
        let mut stack = Vec::new();
        modules.load_imports(engine, file, "", ast, dir, &mut stack)?;
        Ok(modules)
    }

    /// The modules' paths and texts, in the order they were first read.
    pub fn texts(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.loaded
            .iter()
            .map(|m| (m.path.as_path(), m.text.as_str()))
    }

    fn load_imports(
        &mut self,
        engine: &Engine,
        file: &str,
        key: &str,
        ast: &AST,
        dir: &Path,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), ScriptError> {
        for (written, position) in imports(file, ast)? {
            let error = |message: String| ScriptError {
                file: file.to_string(),
                position: location(position),
                kind: ErrorKind::Invalid,
                data_free: true,
                message,
            };
            let path = resolve(dir, &written);
            if let Some(at) = stack.iter().position(|p| *p == path) {
                let cycle: Vec<String> = stack[at..]
                    .iter()
                    .chain(std::iter::once(&path))
                    .map(|p| format!("`{}`", p.display()))
                    .collect();
                return Err(error(format!(
                    "module `{written}` imports itself ({})",
                    cycle.join(" -> ")
                )));
            }
            if let Some(index) = self.loaded.iter().position(|m| m.path == path) {
                self.by_import.insert((key.to_string(), written), index);
                continue;
            }
            // Modules still being read (on the stack) count: a chain is read depth first.
            if self.loaded.len() + stack.len() >= MAX_MODULES {
                return Err(error(format!(
                    "more than {MAX_MODULES} modules imported (the script limit)"
                )));
            }
            let text = crate::input::read_text(&path, crate::input::Kind::Script).map_err(|e| {
                error(format!(
                    "cannot read module `{written}` (`{}`): {e}",
                    path.display()
                ))
            })?;
            let shown = path.display().to_string();
            let mut module_ast = engine.compile(&text).map_err(|e| from_parse(&shown, &e))?;
            module_ast.set_source(shown.as_str());
            stack.push(path.clone());
            let parent = path.parent().unwrap_or(Path::new("")).to_path_buf();
            self.load_imports(engine, &shown, &shown, &module_ast, &parent, stack)?;
            stack.pop();
            self.by_import
                .insert((key.to_string(), written), self.loaded.len());
            self.loaded.push(Loaded {
                path,
                text,
                ast: module_ast,
            });
        }
        Ok(())
    }
}

/// Every `import` of `ast` (top level and inside functions) with its path as written;
/// an import whose path is not a string literal is an error.
fn imports(file: &str, ast: &AST) -> Result<Vec<(String, Position)>, ScriptError> {
    let mut found = Vec::new();
    let mut computed = None;
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(import, position))) = path.last() {
            match &import.0 {
                Expr::StringConstant(text, _) => found.push((text.to_string(), *position)),
                other => {
                    computed.get_or_insert(other.position());
                }
            }
        }
        true
    });
    if let Some(position) = computed {
        return Err(ScriptError {
            file: file.to_string(),
            position: location(position),
            kind: ErrorKind::Invalid,
            data_free: true,
            message: "an import's path must be a string literal (`import \"lib\" as lib;`): \
                      modules are read and checked before the first card"
                .to_string(),
        });
    }
    Ok(found)
}

/// Where the module written `written` in a file in `dir` is: relative paths start at
/// `dir`, and `.rhai` replaces any extension (Rhai's rule). `.` and `..` are folded so
/// that one file has one name.
fn resolve(dir: &Path, written: &str) -> PathBuf {
    let mut path = dir.join(written);
    path.set_extension("rhai");
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn location(position: Position) -> Option<(usize, usize)> {
    match (position.line(), position.position()) {
        (Some(line), Some(column)) => Some((line, column)),
        _ => None,
    }
}

/// Serves a script's imports from its [`Modules`]; never reads a file.
pub(super) struct Preloaded(pub Rc<Modules>);

impl Preloaded {
    /// The module the file keyed `importer` (`None`: the main script) imports as `path`.
    fn find(&self, importer: Option<&str>, path: &str) -> Option<&Loaded> {
        let key = (importer.unwrap_or("").to_string(), path.to_string());
        self.0
            .by_import
            .get(&key)
            .map(|&index| &self.0.loaded[index])
    }

    fn evaluate(
        engine: &Engine,
        global: &mut rhai::GlobalRuntimeState,
        scope: &mut Scope,
        loaded: &Loaded,
        pos: Position,
    ) -> Result<Rc<Module>, Box<EvalAltResult>> {
        let name = loaded.path.display().to_string();
        Module::eval_ast_as_new_raw(engine, scope, global, &loaded.ast)
            .map(Into::into)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(name, e, pos)))
    }
}

impl ModuleResolver for Preloaded {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Rc<Module>, Box<EvalAltResult>> {
        let Some(loaded) = self.find(source, path) else {
            return Err(not_read(path, pos));
        };
        let global = &mut engine.new_global_runtime_state();
        Preloaded::evaluate(engine, global, &mut Scope::new(), loaded, pos)
    }

    fn resolve_raw(
        &self,
        engine: &Engine,
        global: &mut rhai::GlobalRuntimeState,
        scope: &mut Scope,
        path: &str,
        pos: Position,
    ) -> Result<Rc<Module>, Box<EvalAltResult>> {
        let Some(loaded) = self.find(global.source(), path) else {
            return Err(not_read(path, pos));
        };
        // The importer's scope, as Rhai's own file resolver gives it.
        Preloaded::evaluate(engine, global, scope, loaded, pos)
    }
}

/// An import that was not read with the script (it cannot happen: every import is a
/// literal read at compile time; kept so that nothing is ever read from disk at run time).
fn not_read(path: &str, pos: Position) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::script::{ErrorKind, Script};

    fn files(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    #[test]
    fn imports_are_read_with_the_script_relative_to_the_file_that_imports_them() {
        let dir = tempfile::tempdir().unwrap();
        files(
            dir.path(),
            &[
                (
                    "main.rhai",
                    "import \"lib/a\" as a;\nfn f() { import \"lib/c.txt\" as c; }\n",
                ),
                (
                    "lib/a.rhai",
                    "import \"b\" as b;\nimport \"../lib/./b\" as again;\n",
                ),
                ("lib/b.rhai", "export const B = 1;\n"),
                // `.rhai` replaces any extension, as in Rhai.
                ("lib/c.rhai", "export const C = 3;\n"),
            ],
        );
        let script = Script::compile(&dir.path().join("main.rhai")).unwrap();
        let read: Vec<_> = script
            .modules()
            .map(|(path, text)| (path.strip_prefix(dir.path()).unwrap().to_path_buf(), text))
            .collect();
        // Depth first, each file once: b (for a), a, then c (inside a function).
        let names: Vec<_> = read.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(names, ["lib/b.rhai", "lib/a.rhai", "lib/c.rhai"]);
        assert_eq!(read[0].1, "export const B = 1;\n");
    }

    #[test]
    fn an_import_that_is_not_a_literal_is_refused_at_its_place() {
        let e = Script::compile_source("t.rhai", "let n = \"lib\";\nimport n as lib;\n")
            .err()
            .unwrap();
        assert_eq!((e.kind, e.position), (ErrorKind::Invalid, Some((2, 8))));
        assert!(e.message.contains("string literal"), "{e}");
        let e = Script::compile_source("t.rhai", "fn n() { \"lib\" }\nimport n() as lib;\n")
            .err()
            .unwrap();
        assert!(e.message.contains("string literal"), "{e}");
    }

    #[test]
    fn a_module_that_imports_itself_is_refused_naming_the_cycle() {
        let dir = tempfile::tempdir().unwrap();
        files(
            dir.path(),
            &[
                ("main.rhai", "import \"x\" as x;\n"),
                ("x.rhai", "\nimport \"y\" as y;\n"),
                ("y.rhai", "import \"x\" as x;\n"),
                ("self.rhai", "import \"self\" as me;\n"),
            ],
        );
        let e = Script::compile(&dir.path().join("main.rhai"))
            .err()
            .unwrap();
        assert!(e.file.ends_with("y.rhai"), "{e}");
        assert!(e.message.contains("imports itself"), "{e}");
        assert!(e.message.contains("x.rhai` -> `"), "{e}");
        let e = Script::compile(&dir.path().join("self.rhai"))
            .err()
            .unwrap();
        assert!(e.message.contains("imports itself"), "{e}");
    }

    #[test]
    fn more_modules_than_the_limit_are_refused() {
        // A chain of 66 files, each importing the next.
        let dir = tempfile::tempdir().unwrap();
        let chain: Vec<(String, String)> = (0..66)
            .map(|i| {
                (
                    format!("m{i}.rhai"),
                    format!("import \"m{}\" as next;\n", i + 1),
                )
            })
            .chain([("m66.rhai".to_string(), "1;".to_string())])
            .collect();
        let chain: Vec<(&str, &str)> = chain
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        files(dir.path(), &chain);
        let e = Script::compile(&dir.path().join("m0.rhai")).err().unwrap();
        assert!(e.message.contains("more than 64 modules"), "{e}");
        // 64 are fine.
        let ok = Script::compile(&dir.path().join("m2.rhai")).unwrap();
        assert_eq!(ok.modules().count(), 64);
    }

    #[test]
    fn a_module_that_does_not_compile_or_cannot_be_read_fails_the_compile() {
        let dir = tempfile::tempdir().unwrap();
        files(
            dir.path(),
            &[
                ("bad.rhai", "fn x( {\n"),
                ("main.rhai", "print(1);\nimport \"bad\" as b;\n"),
                ("none.rhai", "import \"absent\" as b;\n"),
            ],
        );
        let e = Script::compile(&dir.path().join("main.rhai"))
            .err()
            .unwrap();
        assert!(e.file.ends_with("bad.rhai"), "{e}");
        assert_eq!(e.position.map(|p| p.0), Some(1));
        let e = Script::compile(&dir.path().join("none.rhai"))
            .err()
            .unwrap();
        assert!(e.file.ends_with("none.rhai"), "{e}");
        assert!(e.message.contains("cannot read module `absent`"), "{e}");
    }
}
