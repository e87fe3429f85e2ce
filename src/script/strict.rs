//! Strict checks of a compiled script, so that a misspelling stops the run before its first
//! APDU instead of after a VERIFY went out.
//!
//! Two checks. Every function the script calls must exist with that many arguments: a
//! registered API function (`iso::read_binary_sfi`), a standard Rhai function, a function
//! the script defines, or a variable that may hold a function pointer ([`check_calls`], at
//! compile time). Every variable the script reads must be defined by the script or
//! provided by the run — `--var`, a profile's variables, columns, captures, secrets and
//! built-ins ([`check_names`], Rhai's strict variables mode). A name the script tests
//! with `is_def_var("name")` counts as provided: the script handles its absence itself.
//! A function body that reads a variable it neither has as a parameter nor defines is an
//! error whatever the run provides (Rhai functions do not see the caller's scope; strict
//! mode alone would let a provided name through there).
//!
//! [`Survey`] also tells which outside names a script reads, so that a `--var` nothing uses
//! is refused. This is the one file that uses Rhai's `internals` feature (the AST walk, the
//! registered functions' list). It neither runs scripts nor decides exit codes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

use rhai::{AST, ASTNode, Engine, Expr, FnCallExpr, FnNamespace, ParseErrorType, Scope, Stmt};

use super::error::{ErrorKind, ScriptError};

/// Functions the engine resolves itself, whatever is registered.
const KEYWORD_FUNCTIONS: [&str; 11] = [
    "print",
    "debug",
    "type_of",
    "eval",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_var",
    "is_def_fn",
    "this",
];

/// A function call as written in the script.
#[derive(Debug)]
struct Call {
    /// `iso` for `iso::select(…)`, empty for a plain call.
    namespace: String,
    name: String,
    /// Arguments written, the object of a method call not counted.
    args: usize,
    /// `x.name(…)`.
    method: bool,
    /// 1-based line and column.
    position: Option<(usize, usize)>,
}

/// What one walk over a compiled script finds.
#[derive(Debug, Default)]
pub(super) struct Survey {
    /// Names tested with `is_def_var("…")`: the script copes with their absence.
    pub optional: BTreeSet<String>,
    /// Outside names the script reads: variables it does not define, the `is_def_var`
    /// names, and `today` when it calls `today()` (which `--var today` fixes).
    pub reads: BTreeSet<String>,
    calls: Vec<Call>,
    /// Variables, parameters and loop variables: any may hold a function pointer called
    /// like a function.
    callable: HashSet<String>,
    /// Keys of object-map literals and properties the script names: `obj.key(…)` may call
    /// a closure kept there.
    map_keys: HashSet<String>,
    /// Modules the script imports: their functions are not known before the run.
    imports: HashSet<String>,
    /// Functions the script defines, by name, with their parameter counts.
    defined: BTreeMap<String, BTreeSet<usize>>,
    /// Where function bodies (closures included) start and end, as (line, column).
    bodies: Vec<((usize, usize), (usize, usize))>,
    /// Variables a function body reads that it neither has as a parameter nor defines: a
    /// Rhai function cannot see the caller's variables, so these fail at run time.
    hidden: Vec<(String, Option<(usize, usize)>)>,
}

fn position(pos: rhai::Position) -> Option<(usize, usize)> {
    Some((pos.line()?, pos.position().unwrap_or(1)))
}

impl Survey {
    /// Walks `ast`, function bodies and closures included.
    pub fn of(ast: &AST) -> Survey {
        let mut survey = Survey::default();
        for f in ast.iter_functions() {
            survey
                .defined
                .entry(f.name.to_string())
                .or_default()
                .insert(f.params.len());
            survey
                .callable
                .extend(f.params.iter().map(|p| p.to_string()));
        }
        for (.., def) in ast.shared_lib().iter_script_fn_info() {
            let (start, end) = (def.body.start_position(), def.body.end_position());
            if let (Some(start), Some(end)) = (position(start), position(end)) {
                survey.bodies.push((start, end));
            }
        }
        ast.walk(&mut |path: &[ASTNode]| {
            if let Some(node) = path.last() {
                survey.visit(node);
            }
            true
        });
        survey
    }

    fn visit(&mut self, node: &ASTNode) {
        match node {
            ASTNode::Expr(Expr::Variable(x, short, pos)) => {
                let (long, name, namespace, _) = &**x;
                // Resolved at parse time to a local (`let`, parameter) or not: only the
                // latter comes from outside, and never into a function body.
                if namespace.is_empty() && long.is_none() && short.is_none() {
                    let at = position(*pos);
                    let inside = at.is_some_and(|at| {
                        self.bodies
                            .iter()
                            .any(|(start, end)| *start <= at && at <= *end)
                    });
                    if inside {
                        self.hidden.push((name.to_string(), at));
                    } else {
                        self.reads.insert(name.to_string());
                    }
                }
            }
            ASTNode::Expr(Expr::FnCall(call, pos)) | ASTNode::Stmt(Stmt::FnCall(call, pos)) => {
                self.call(call, *pos, false);
            }
            ASTNode::Expr(Expr::MethodCall(call, pos)) => self.call(call, *pos, true),
            ASTNode::Expr(Expr::Map(map, _)) => {
                self.map_keys
                    .extend(map.0.iter().map(|(key, _)| key.name.to_string()));
            }
            // A map literal of constants (closures that capture nothing included) is folded
            // into one value by the optimiser.
            ASTNode::Expr(Expr::DynamicConstant(value, _)) => {
                if let Some(map) = value.read_lock::<rhai::Map>() {
                    self.map_keys.extend(map.keys().map(|k| k.to_string()));
                }
            }
            ASTNode::Expr(Expr::Property(property, _)) => {
                self.map_keys.insert(property.2.to_string());
            }
            ASTNode::Stmt(Stmt::Var(var, ..)) => {
                self.callable.insert(var.0.name.to_string());
            }
            ASTNode::Stmt(Stmt::For(each, _)) => {
                self.callable.insert(each.0.name.to_string());
                if let Some(counter) = &each.1 {
                    self.callable.insert(counter.name.to_string());
                }
            }
            ASTNode::Stmt(Stmt::Import(import, _)) => {
                self.imports.insert(import.1.name.to_string());
            }
            _ => {}
        }
    }

    fn call(&mut self, call: &FnCallExpr, pos: rhai::Position, method: bool) {
        let name = call.name.as_str();
        if call.op_token.is_some() || !super::is_identifier(name) {
            return; // an operator
        }
        if name == "is_def_var"
            && let Some(Expr::StringConstant(text, _)) = call.args.first()
        {
            self.optional.insert(text.to_string());
            self.reads.insert(text.to_string());
        }
        if name == "today" && call.namespace.is_empty() && call.args.is_empty() {
            self.reads.insert("today".to_string());
        }
        let at = if call.namespace.is_empty() {
            pos
        } else {
            call.namespace.position()
        };
        self.calls.push(Call {
            namespace: call
                .namespace
                .path
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join("::"),
            name: name.to_string(),
            args: call.args.len(),
            method,
            position: position(at),
        });
    }
}

/// Every registered function by `(namespace, name)`, with the argument counts it takes.
type Registry = BTreeMap<(String, String), BTreeSet<usize>>;

/// The functions of the full script API and Rhai's standard library, read once from an
/// engine built like a run's.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let engine = super::detached_engine();
        let mut registry = Registry::new();
        let found = engine.collect_fn_metadata(
            None,
            |info| {
                let global = info.metadata.namespace == FnNamespace::Global;
                Some((
                    info.namespace.to_string(),
                    info.metadata.name.to_string(),
                    info.metadata.num_params,
                    global,
                ))
            },
            true,
        );
        for (namespace, name, params, global) in found {
            if global && !namespace.is_empty() {
                // A module function exposed globally is also called without its module.
                let plain = (String::new(), name.clone());
                registry.entry(plain).or_default().insert(params);
            }
            registry
                .entry((namespace, name))
                .or_default()
                .insert(params);
        }
        registry
    })
}

/// `name` as written, with its module.
fn full_name(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}::{name}")
    }
}

/// "1 argument", "1 or 2 arguments".
fn counts(set: &BTreeSet<usize>) -> String {
    let numbers: Vec<String> = set.iter().map(usize::to_string).collect();
    let text = match numbers.as_slice() {
        [] => String::from("no"),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    };
    let plural = if set.len() == 1 && set.contains(&1) {
        ""
    } else {
        "s"
    };
    format!("{text} argument{plural}")
}

/// Checks that every function `survey` saw called exists with that many arguments, and
/// that no function body reads a variable it cannot see.
pub(super) fn check_calls(file: &str, survey: &Survey) -> Result<(), ScriptError> {
    if let Some((name, at)) = survey.hidden.first() {
        return Err(ScriptError {
            file: file.to_string(),
            position: *at,
            kind: ErrorKind::Invalid,
            data_free: true,
            message: format!(
                "undefined variable `{name}` in a function: a function sees only its \
                 parameters and its own variables (pass `{name}` as an argument)"
            ),
        });
    }
    let registry = registry();
    for call in &survey.calls {
        if let Some(message) = judge(registry, survey, call) {
            return Err(ScriptError {
                file: file.to_string(),
                position: call.position,
                kind: ErrorKind::Invalid,
                data_free: true,
                message,
            });
        }
    }
    Ok(())
}

/// What is wrong with one call, if anything.
fn judge(registry: &Registry, survey: &Survey, call: &Call) -> Option<String> {
    let name = call.name.as_str();
    if call.namespace.is_empty() {
        if KEYWORD_FUNCTIONS.contains(&name)
            || (!call.method && survey.callable.contains(name))
            || (call.method && survey.map_keys.contains(name))
        {
            return None;
        }
    } else {
        let root = call.namespace.split("::").next().unwrap_or_default();
        if survey.imports.contains(root) || root == "global" {
            return None;
        }
    }
    let key = (call.namespace.clone(), call.name.clone());
    let mut takes: BTreeSet<usize> = registry.get(&key).cloned().unwrap_or_default();
    if call.namespace.is_empty()
        && let Some(script) = survey.defined.get(name)
    {
        takes.extend(script.iter().copied());
        if call.method {
            // A script function called as a method gets the object as `this`.
            takes.extend(script.iter().map(|n| n + 1));
        }
    }
    let written = if call.method {
        call.args + 1
    } else {
        call.args
    };
    let full = full_name(&call.namespace, name);
    if takes.is_empty() {
        let hint = suggestion(registry, survey, &call.namespace, name)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        let what = if call.method { "method" } else { "function" };
        return Some(format!("unknown {what} `{full}`{hint}"));
    }
    if takes.contains(&written) {
        return None;
    }
    let (shown, takes) = if call.method {
        // Count as written: the object is not an argument in the script's eyes.
        let minus: BTreeSet<usize> = takes.iter().filter(|n| **n > 0).map(|n| n - 1).collect();
        (call.args, minus)
    } else {
        (call.args, takes)
    };
    Some(format!("`{full}` takes {}, not {shown}", counts(&takes)))
}

/// The closest known function name in the same module, if one is near enough.
fn suggestion(registry: &Registry, survey: &Survey, namespace: &str, name: &str) -> Option<String> {
    let mut names: Vec<&str> = registry
        .keys()
        .filter(|(ns, n)| ns == namespace && super::is_identifier(n))
        .map(|(_, n)| n.as_str())
        .collect();
    if namespace.is_empty() {
        names.extend(survey.defined.keys().map(String::as_str));
    }
    closest(name, &names).map(|n| full_name(namespace, n))
}

/// The name closest to `word` (`crate::spelling`).
pub(super) fn closest<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    crate::spelling::closest(word, names)
}

/// Compiles `source` again in Rhai's strict variables mode, with `provided` and the
/// script's `is_def_var` names declared, so that a variable read that nothing defines is
/// an error at its position. The names are declared as variables, not constants, so the
/// optimiser bakes no value in (the AST is thrown away anyway).
pub(super) fn check_names(
    file: &str,
    source: &str,
    survey: &Survey,
    provided: &[&str],
) -> Result<(), ScriptError> {
    thread_local! {
        // Built once per thread: a profile may hold thousands of script steps.
        static STRICT: Engine = {
            let mut engine = super::detached_engine();
            engine.set_strict_variables(true);
            engine
        };
    }
    let mut scope = Scope::new();
    let mut known: BTreeSet<&str> = provided.iter().copied().collect();
    known.extend(survey.optional.iter().map(String::as_str));
    for name in &known {
        scope.push_dynamic(*name, rhai::Dynamic::UNIT);
    }
    let Err(e) = STRICT.with(|engine| engine.compile_with_scope(&scope, source)) else {
        return Ok(());
    };
    let message = match e.err_type() {
        ParseErrorType::VariableUndefined(name) => {
            let names: Vec<&str> = known.iter().copied().collect();
            // The script's own variables are candidates for a misspelling too.
            let mut near: Vec<&str> = names.clone();
            near.extend(survey.callable.iter().map(String::as_str));
            let hint = match closest(name, &near) {
                Some(near) => format!("; did you mean `{near}`?"),
                None => String::new(),
            };
            let list = if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            };
            format!("undefined variable `{name}`{hint} (the run provides: {list})")
        }
        ParseErrorType::ModuleUndefined(name) => format!("unknown module `{name}`"),
        _ => return Err(super::error::from_parse(file, &e)),
    };
    Err(ScriptError {
        file: file.to_string(),
        position: position(e.position()),
        kind: ErrorKind::Invalid,
        data_free: true,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Script;
    use proptest::prelude::*;

    /// The message of compiling `source` and checking it with `provided`, or `ok`.
    fn verdict(source: &str, provided: &[&str]) -> String {
        match Script::compile_source("t.rhai", source).and_then(|s| s.check_names(provided)) {
            Ok(()) => "ok".to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn misspelt_and_miscounted_functions_are_caught_where_they_are_called() {
        for (source, expected) in [
            (
                "let x = 1;\nlet r = iso::read_bianry_sfi(1, 0, 4);",
                "t.rhai:2:9: unknown function `iso::read_bianry_sfi`; did you mean `iso::read_binary_sfi`?",
            ),
            (
                "iso::read_binary(1, 0, 4);",
                "t.rhai:1:1: `iso::read_binary` takes 2 arguments, not 3",
            ),
            (
                "iso::read_record();",
                "t.rhai:1:1: `iso::read_record` takes 1 or 2 arguments, not 0",
            ),
            (
                "sendd(\"00A4\");",
                "t.rhai:1:1: unknown function `sendd`; did you mean `send`?",
            ),
            (
                "fn f(a) { a }\nf(1, 2);",
                "t.rhai:2:1: `f` takes 1 argument, not 2",
            ),
            (
                "let r = send(\"00 B0 00 00 01\");\nr.expct(\"9000\");",
                "t.rhai:2:3: unknown method `expct`; did you mean `expect`?",
            ),
            ("nosuch::f();", "t.rhai:1:1: unknown function `nosuch::f`"),
            (
                "fn g() { hexx(1) }",
                "t.rhai:1:10: unknown function `hexx`; did you mean `hex`?",
            ),
        ] {
            assert_eq!(verdict(source, &[]), expected, "{source}");
        }
    }

    #[test]
    fn undefined_variables_are_caught_with_the_names_the_run_provides() {
        assert_eq!(
            verdict("let x = 1;\niso::verify(1, pn);", &["pin", "seq"]),
            "t.rhai:2:16: undefined variable `pn`; did you mean `pin`? (the run provides: pin, seq)"
        );
        assert_eq!(
            verdict("print(holder);", &[]),
            "t.rhai:1:7: undefined variable `holder` (the run provides: none)"
        );
        // A function cannot see the run's names: Rhai functions have no outer scope.
        assert_eq!(
            verdict("fn f() { pin }", &["pin"]),
            "t.rhai:1:10: undefined variable `pin` in a function: a function sees only its \
             parameters and its own variables (pass `pin` as an argument)"
        );
        // A closure captures only what exists where it is written.
        assert!(verdict("let f = || pinn;", &["pin"]).contains("undefined variable `pinn`"));
    }

    #[test]
    fn what_real_scripts_do_is_not_flagged() {
        let source = r#"
            let pin = if is_def_var("pin") { pin } else { "1234" };
            fn twice(f, x) { f.call(f.call(x)) }
            fn add(a, b) { a + b }
            fn bump() { this += 1; }
            let n = 1;
            n.bump();
            let counter = #{ step: |x| x + 1, total: 0 };
            counter.total = counter.step(1);
            let obj = #{};
            obj.handler = |x| x * 2;
            print(obj.handler(2));
            let inc = |x| x + n;
            let k = twice(inc, 1) + add(1, 2) + inc(3);
            for (item, i) in [1, 2, 3] { if item > 1 { let late = item; print(late + i); } }
            let s = "abc";
            print(s.len() + s.to_upper().len() + `${s}`.len());
            switch n { 1 => print("one"), _ => {} }
            try { throw "x"; } catch (e) { print(e); }
            let f = Fn("add");
            print(f.call(1, 2) + call(f, 1, 2) + type_of(f).len());
            print(today() + now() + hex(blob(2, 0)) + iso::cla());
            do { n -= 1; } while n > 0;
            print(seq + row);
        "#;
        assert_eq!(verdict(source, &["seq", "row"]), "ok");
    }

    #[test]
    fn reads_lists_the_outside_names_a_script_uses() {
        let script = Script::compile_source(
            "t.rhai",
            r#"let a = 1; let k = if is_def_var("key") { key } else { 0 };
               fn f(x) { let y = x; y }
               print(f(a) + issuer + today());"#,
        )
        .unwrap();
        let reads: Vec<&str> = script.reads().collect();
        assert_eq!(reads, ["issuer", "key", "today"]);
    }

    proptest! {
        #[test]
        fn any_text_is_judged_without_panicking(source in "[a-z:;(){}=\" .,0-9|]{0,40}") {
            let _ = verdict(&source, &["pin"]);
        }
    }
}
