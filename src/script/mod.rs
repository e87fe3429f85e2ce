//! Rhai scripts: compile a flow, then run it against one card.
//!
//! [`Script::compile`] reads and compiles a file without touching any card, so syntax
//! errors stop a run before its first APDU. [`Script::run`] runs it against a [`Card`] in
//! an engine with the script API registered (one file per module: `card_api`, `bytes_api`,
//! `iso_api`, `cos_api`, `crypto_api`, `mfc_api`, `ul_api`, `mfp_api`, `omnikey_api`, `picc_api`,
//! `iso14443_api`) and evaluates it. The engine is built and the API registered once per
//! `Script` (at its first run) and reused for every run after: a batch worker, which loads
//! its own profile, runs each card of a `script:` step in the same engine. A run's card,
//! settings, redactor and fixed date go into the engine's session, and everything the API
//! functions remember between calls (`session::Remembered`) starts from `Default`, and
//! imported modules are evaluated again for every run (no module cache), so nothing of one
//! card reaches the next. The modules themselves are read and compiled with the script
//! (`modules`: literal import paths only), so syntax errors in them also stop a run before
//! its first APDU, and a run never reads a module from disk. Output from `print`/`debug`
//! goes to a caller-given [`Output`]; Ctrl-C is honoured through an interrupt flag polled by the
//! engine.
//!
//! This is the only module that names `rhai`. It does not print, pick readers or decide exit
//! codes; it reports an [`ErrorKind`] and the command line maps it.

mod bytes_api;
mod card_api;
mod clock_api;
mod cos_api;
mod crypto_api;
mod error;
mod iso14443_api;
mod iso_api;
mod keys_api;
mod limits;
mod mfc_api;
mod mfp_api;
mod modules;
mod omnikey_api;
mod parse_cache;
mod picc_api;
mod session;
mod strict;
mod ul_api;
mod value;

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rhai::{AST, Engine, Scope};

pub use error::{ErrorKind, ScriptError, one_line};
pub use session::Settings;
pub use value::Value;

use crate::reader::Card;
use crate::reader::trace::Redactor;

/// What `to_string` of a secret shows.
pub(crate) const MASKED: &str = "(secret)";

/// Where `print` and `debug` output goes.
pub type Output = Rc<dyn Fn(&str)>;

/// A compiled script.
pub struct Script {
    file: String,
    ast: AST,
    /// The engine its runs use, built at the first run (boxed: an engine is large, and
    /// scripts are moved about before they run).
    runner: RefCell<Option<Box<Runner>>>,
    /// How many engines its runs have built (one, unless runs nest).
    built: std::cell::Cell<usize>,
    /// The text, compiled again in strict variables mode by [`Script::check_names`].
    source: Rc<str>,
    /// What the script calls and reads.
    survey: Box<strict::Survey>,
    /// The modules it imports, read and compiled with it; its runs import only these.
    modules: Rc<modules::Modules>,
}

/// Everything a run needs besides the card.
pub struct RunOptions {
    /// Settings visible to the script (`armed()`) and the transport rules.
    pub settings: Settings,
    /// `--var NAME=VALUE` pairs, each a string constant in the script's scope.
    pub vars: Vec<(String, String)>,
    /// Secrets loaded by the script are added here, so traces can mask them.
    pub redactor: Redactor,
    /// Receives `print` and `debug` lines.
    pub output: Output,
    /// Set from outside (Ctrl-C) to stop the script at its next operation.
    pub interrupt: Arc<AtomicBool>,
}

/// A bare engine: used for compiling, where no card exists yet. The API is registered
/// against a session only for running, so compile-time checks stay card-free.
fn base_engine() -> Engine {
    let mut engine = Engine::new();
    limits::apply(&mut engine);
    engine
}

/// An engine with the whole script API registered against a card that is not there: what
/// the strict checks compile against (registered functions and modules), never run.
fn detached_engine() -> Engine {
    api_engine(&Rc::new(RefCell::new(session::Session::detached())))
}

/// A bare engine with the script API registered against `session`.
fn api_engine(session: &session::Shared) -> Engine {
    let mut engine = base_engine();
    bytes_api::register(&mut engine);
    card_api::register(&mut engine, session);
    iso_api::register(&mut engine, session);
    cos_api::register(&mut engine, session);
    mfc_api::register(&mut engine, session);
    crypto_api::register(&mut engine, session);
    keys_api::register(&mut engine);
    ul_api::register(&mut engine, session);
    mfp_api::register(&mut engine, session);
    omnikey_api::register(&mut engine, session);
    picc_api::register(&mut engine, session);
    iso14443_api::register(&mut engine);
    clock_api::register(&mut engine, session);
    error::register(&mut engine);
    engine
}

/// Where a run's `print`/`debug` lines go and the flag that stops it; the engine's hooks
/// read them here, so one engine serves runs with different ones.
struct Hooks {
    output: Output,
    interrupt: Arc<AtomicBool>,
}

impl Default for Hooks {
    fn default() -> Hooks {
        Hooks {
            output: Rc::new(|_: &str| {}),
            interrupt: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// An engine with the script API and the hooks registered once, and the session and hooks
/// its functions read: a [`Script`] keeps one for all its runs, so a card costs no engine
/// build and no registration. Between runs the session holds no card and no secret.
struct Runner {
    engine: Engine,
    session: session::Shared,
    hooks: Rc<RefCell<Hooks>>,
}

impl Runner {
    fn new(modules: Rc<modules::Modules>) -> Runner {
        let session = Rc::new(RefCell::new(session::Session::detached()));
        let hooks = Rc::new(RefCell::new(Hooks::default()));
        let mut engine = api_engine(&session);
        limits::check_reads(&mut engine);
        // Imports are served from the texts read when the script was compiled, and
        // evaluated again at each import: a module's top level may read the card
        // (`export const UID = uid();`), so a module kept for the engine's life would hand
        // card 1's values to every later card.
        engine.set_module_resolver(modules::Preloaded(modules));
        let h = hooks.clone();
        engine.on_print(move |text| {
            let output = h.borrow().output.clone();
            output(text)
        });
        let h = hooks.clone();
        engine.on_debug(move |text, _source, position| {
            let output = h.borrow().output.clone();
            match (position.line(), position.position()) {
                (Some(line), Some(column)) => output(&format!("[debug {line}:{column}] {text}")),
                _ => output(&format!("[debug] {text}")),
            }
        });
        let h = hooks.clone();
        engine.on_progress(move |_| {
            h.borrow()
                .interrupt
                .load(Ordering::Relaxed)
                .then(|| "interrupted".into())
        });
        Runner {
            engine,
            session,
            hooks,
        }
    }
}

/// The name among `names` closest to `word` (a likely misspelling of it), if any is near.
pub fn closest_name<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    strict::closest(word, names)
}

/// Whether `name` can be a Rhai variable name.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_"
}

impl Script {
    /// Reads and compiles a script file. `file` is how messages name it.
    /// Modules it imports are read relative to the file's directory.
    pub fn compile(path: &Path) -> Result<Script, ScriptError> {
        let file = path.display().to_string();
        let source =
            crate::input::read_text(path, crate::input::Kind::Script).map_err(|e| ScriptError {
                file: file.clone(),
                position: None,
                kind: ErrorKind::Invalid,
                data_free: true,
                message: format!("cannot read script: {e}"),
            })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        Script::compile_source_in(&file, &source, dir)
    }

    /// Compiles script text; `file` names it in messages. A call of a function that is
    /// neither registered nor defined by the script, or with a number of arguments it does
    /// not take, is a compile error here.
    /// Modules it imports are read relative to the working directory.
    pub fn compile_source(file: &str, source: &str) -> Result<Script, ScriptError> {
        Script::compile_source_in(file, source, Path::new(""))
    }

    /// Like [`Script::compile_source`], for text that belongs in directory `dir` (a
    /// profile's inline `script:`): the modules it imports are read relative to `dir`,
    /// now, with every module those import (`modules.rs`).
    pub fn compile_source_in(file: &str, source: &str, dir: &Path) -> Result<Script, ScriptError> {
        let engine = base_engine();
        let ast = engine
            .compile(source)
            .map_err(|e| error::from_parse(file, &e))?;
        let survey = Box::new(strict::Survey::of(&ast));
        strict::check_calls(file, &survey)?;
        let modules = Rc::new(modules::Modules::load(&engine, file, &ast, dir)?);
        Ok(Script {
            file: file.to_string(),
            ast,
            runner: RefCell::new(None),
            built: std::cell::Cell::new(0),
            source: source.into(),
            survey,
            modules,
        })
    }

    /// Checks that every variable the script reads is defined by the script, tested with
    /// `is_def_var`, or one of `provided` (the names the run puts in scope: `--var`s, a
    /// profile step's variables, columns, captures, secrets, built-ins). The error names
    /// the first that is not, at its position, with the names the run provides.
    pub fn check_names(&self, provided: &[&str]) -> Result<(), ScriptError> {
        strict::check_names(&self.file, &self.source, &self.survey, provided)
    }

    /// The outside names the script reads: variables it does not define, names it tests
    /// with `is_def_var("…")`, and `today` when it calls `today()`. A `--var` not among
    /// them is used by nothing.
    pub fn reads(&self) -> impl Iterator<Item = &str> {
        self.survey.reads.iter().map(String::as_str)
    }

    /// Every module the script imports (directly or through other modules): where it was
    /// read and its text, in the order read. A profile hashes the texts into its version.
    pub fn modules(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.modules.texts()
    }

    /// The file name messages use.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Runs the script against `card`. The card is handed back, whatever the outcome.
    pub fn run(
        &self,
        card: Box<dyn Card>,
        options: RunOptions,
    ) -> (Box<dyn Card>, Result<(), ScriptError>) {
        self.run_with(card, options, &[])
    }

    /// Like [`Script::run`], with further named constants of any type in scope (a profile
    /// step's variables, captures, secrets and built-ins); a name in `values` wins over
    /// the same name in `options.vars`.
    ///
    /// Every run of one `Script` uses the same engine (built at the first run); the run
    /// puts its card, settings, redactor, fixed date, output and interrupt flag in the
    /// engine's session and hooks, starts what the API remembers from nothing, and takes
    /// them all out again at its end.
    pub fn run_with(
        &self,
        card: Box<dyn Card>,
        options: RunOptions,
        values: &[(String, Value)],
    ) -> (Box<dyn Card>, Result<(), ScriptError>) {
        // A run inside a run of the same script (not something a flow does) gets an
        // engine of its own rather than the one in use.
        let mut own = None;
        let mut kept = self.runner.try_borrow_mut().ok();
        let runner: &Runner = match kept.as_deref_mut() {
            Some(slot) => slot.get_or_insert_with(|| self.build()),
            None => own.insert(self.build()),
        };
        let today = fixed_today(&options, values);
        *runner.session.borrow_mut() = session::Session::new(
            card,
            options.settings.clone(),
            options.redactor.clone(),
            today,
        );
        *runner.hooks.borrow_mut() = Hooks {
            output: options.output.clone(),
            interrupt: options.interrupt.clone(),
        };
        let result = self.eval(runner, &options, values);
        *runner.hooks.borrow_mut() = Hooks::default();
        let session = std::mem::replace(
            &mut *runner.session.borrow_mut(),
            session::Session::detached(),
        );
        (session.card, result)
    }

    fn build(&self) -> Box<Runner> {
        self.built.set(self.built.get() + 1);
        Box::new(Runner::new(self.modules.clone()))
    }

    /// How many engines this script's runs have built so far.
    #[cfg(test)]
    fn engines_built(&self) -> usize {
        self.built.get()
    }

    fn eval(
        &self,
        runner: &Runner,
        options: &RunOptions,
        values: &[(String, Value)],
    ) -> Result<(), ScriptError> {
        let mut scope = Scope::new();
        let vars = options
            .vars
            .iter()
            .map(|(n, v)| (n, Value::Text(v.clone())));
        let values = values.iter().map(|(n, v)| (n, v.clone()));
        for (name, value) in vars.chain(values) {
            if !is_identifier(name) {
                return Err(ScriptError {
                    file: self.file.clone(),
                    position: None,
                    kind: ErrorKind::Invalid,
                    data_free: true,
                    message: format!("--var `{name}`: not a valid variable name"),
                });
            }
            scope.push_constant_dynamic(name.as_str(), value.to_dynamic());
        }
        runner
            .engine
            .run_ast_with_scope(&mut scope, &self.ast)
            .map_err(|e| error::from_eval(&self.file, &e))
    }
}

/// The date `today()` returns for a run: `--var today` (or a profile's `today`), values
/// winning over vars; `None` for the system clock's.
fn fixed_today(options: &RunOptions, values: &[(String, Value)]) -> Option<String> {
    values
        .iter()
        .rev()
        .find_map(|(n, v)| match v {
            Value::Text(text) if n == "today" => Some(text.clone()),
            _ => None,
        })
        .or_else(|| {
            let var = options.vars.iter().rev().find(|(n, _)| n == "today");
            var.map(|(_, v)| v.clone())
        })
}

#[cfg(test)]
mod tests;
