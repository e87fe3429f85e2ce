//! Script steps: compile `script:` text and `run:` files before anything runs.
//!
//! An inline script is named `profile.yaml:LINE` after the line its text starts on, and a
//! compile error in it is mapped back into the YAML file. A `run:` file is found relative to
//! the profile that names it; its errors name the script file itself. Modules a script
//! imports are read with it, relative to the file that imports them (an inline script's
//! is its profile); their errors name the module's file. Running scripts is not this
//! file's business.

use std::path::{Path, PathBuf};

use super::error::{Problem, ProfileError};
use super::include::normalize;
use super::model::Located;
use super::position::inside;
use super::validate::Source;
use crate::script::{Script, ScriptError};

/// Compiles `script:` text, named `file:line` after where the script starts, and checks
/// that every variable it reads is one of `names` (what the step provides) or its own.
pub(super) fn inline_script(
    source: &Source,
    at: &Located<String>,
    names: &[&str],
) -> Result<Script, ProfileError> {
    let line = at.text.map_or(at.line, |t| t.line);
    let name = format!("{}:{line}", source.path.display());
    let compiled = Script::compile_source_in(&name, &at.value, &source.dir)
        .and_then(|script| script.check_names(names).map(|()| script));
    compiled.map_err(|e| {
        if e.file != name {
            // In a module the script imports: named by the module's file.
            return in_module(&e);
        }
        let (line, column) = match e.position {
            Some((line, column)) => inside(&source.text, at, &at.value, line, column),
            None => (at.line, at.column),
        };
        let problem = script_problem("inline script", &e);
        source.error(line, column, problem)
    })
}

/// Reads and compiles a `run:` file and checks its variables against `names`; errors in it
/// name the script file.
pub(super) fn run_file(
    source: &Source,
    at: &Located<String>,
    names: &[&str],
) -> Result<(Script, String), ProfileError> {
    let joined = source.dir.join(&at.value);
    let path = normalize(&joined);
    let text = crate::input::read_text(&joined, crate::input::Kind::Script).map_err(|e| {
        let problem = Problem::ScriptFile {
            path: path.clone(),
            source: e,
        };
        source.error_at(at, problem)
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let shown = path.display().to_string();
    let compiled = Script::compile_source_in(&shown, &text, dir)
        .and_then(|script| script.check_names(names).map(|()| script));
    let script = compiled.map_err(|e| {
        if e.file != shown {
            return in_module(&e);
        }
        let (line, column) = e.position.unwrap_or((1, 1));
        ProfileError {
            file: path.clone(),
            line,
            column,
            problem: script_problem("script", &e),
        }
    })?;
    Ok((script, text))
}

/// An error in a module a step's script imports, named by the module's file.
fn in_module(e: &ScriptError) -> ProfileError {
    let (line, column) = e.position.unwrap_or((1, 1));
    ProfileError {
        file: PathBuf::from(&e.file),
        line,
        column,
        problem: script_problem("module", e),
    }
}

fn script_problem(what: &'static str, e: &ScriptError) -> Problem {
    // Rhai capitalises its messages; ours are lowercase fragments.
    let mut chars = e.message.chars();
    let message = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    Problem::Script { what, message }
}
