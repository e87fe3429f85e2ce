//! Step validation: one [`StepModel`] at a time, in run order, into a [`Step`].
//!
//! A step has exactly one action. APDU text is split into hex and `${name}` placeholders;
//! a name must be known *at that step*: a variable, `--var`, data column, secret, built-in,
//! or the capture of an earlier step. Expectations and masks are parsed, scripts compiled,
//! `run:` files read and compiled (see `scripts`). Errors point into the value when the
//! position can be mapped (see `position`).

use std::collections::{HashMap, HashSet};

use super::error::{Problem, ProfileError};
use super::model::{Expect, Located, StepModel};
use super::position::inside;
use super::scripts::{inline_script, run_file};
use super::template::{MaskTemplate, Template, TemplateError};
use super::validate::{Collected, Source};
use super::{Action, BUILT_INS, Origin, Step};
use crate::apdu::{Command, SwExpectation, hex};
use crate::script::is_identifier;

/// Names a capture may not take: values the batch owns.
const BATCH_OWNED: [&str; 2] = ["row", "seq"];

/// Validates every collected step, in order.
pub(super) fn validate(
    c: &mut Collected,
    data_columns: &[String],
) -> Result<Vec<Step>, ProfileError> {
    let mut known: HashSet<&str> = BUILT_INS.into_iter().collect();
    known.extend(c.vars.iter().map(|(n, _)| n.as_str()));
    known.extend(c.secrets.iter().map(|(n, _)| n.as_str()));
    known.extend(c.derived.iter().map(|d| d.name.as_str()));
    known.extend(data_columns.iter().map(String::as_str));
    // Where each name is first captured, to tell "captured too late" from "unknown".
    let mut captured_at: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, (_, step)) in c.steps.iter().enumerate() {
        if let Some(capture) = &step.value.capture {
            captured_at.entry(&capture.value).or_insert((i, step.line));
        }
    }
    let mut scope = Scope {
        known,
        captured: HashSet::new(),
        captured_at,
        index: 0,
        vars: &c.vars,
        secrets: c
            .secrets
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(c.derived.iter().map(|d| d.name.as_str()))
            .collect(),
        data_columns,
    };
    let mut out = Vec::with_capacity(c.steps.len());
    let mut script_texts = Vec::new();
    for (i, (file, step)) in c.steps.iter().enumerate() {
        scope.index = i;
        let (validated, script_text) = validate_step(&c.files[*file], step, &scope)?;
        if let Some(capture) = &step.value.capture {
            scope.known.insert(&capture.value);
            scope.captured.insert(&capture.value);
        }
        script_texts.extend(script_text);
        out.push(validated);
    }
    for text in &script_texts {
        c.hash.write_text(text);
    }
    Ok(out)
}

/// The names visible at one step.
struct Scope<'a> {
    /// Every name `${…}` may use here.
    known: HashSet<&'a str>,
    /// Names captured by earlier steps.
    captured: HashSet<&'a str>,
    /// Step index and line of the first capture of each name.
    captured_at: HashMap<&'a str, (usize, usize)>,
    /// Index of the step being validated.
    index: usize,
    vars: &'a [(String, String)],
    secrets: HashSet<&'a str>,
    data_columns: &'a [String],
}

/// Validates one step; also returns the text of its `run:` file and of every module its
/// script imports, for the profile hash.
fn validate_step(
    source: &Source,
    step: &Located<StepModel>,
    scope: &Scope<'_>,
) -> Result<(Step, Vec<String>), ProfileError> {
    let m = &step.value;
    let mut actions: Vec<(&'static str, &Located<String>)> =
        [("apdu", &m.apdu), ("script", &m.script), ("run", &m.run)]
            .into_iter()
            .filter_map(|(kind, at)| at.as_ref().map(|at| (kind, at)))
            .collect();
    actions.sort_by_key(|(_, at)| (at.line, at.column));
    let (kind, at) = match actions.as_slice() {
        [] => return Err(source.error_at(step, Problem::NoAction)),
        [one] => *one,
        [(first, _), (second, at), ..] => {
            let problem = Problem::TwoActions { first, second };
            return Err(source.error_at(*at, problem));
        }
    };
    let step_number = scope.index + 1;
    let mut name = m.name.as_ref().map(|n| n.value.trim().to_string());
    let mut script_texts = Vec::new();
    let mut places = Vec::new();
    let action = match kind {
        "apdu" => {
            let template = apdu(source, at, scope)?;
            // Named by its masked command: a literal PIN must not become a name.
            name = name.or_else(|| Some(template.step_name()));
            // Where each `${name}` is in the file, for errors found when values are known.
            places = template
                .placeholders()
                .map(|(_, column)| inside(&source.text, at, &at.value, 1, column))
                .collect();
            Action::Apdu(template)
        }
        _ => {
            let fields = [
                ("expect", m.expect.as_ref().map(|e| (e.line, e.column))),
                ("response", m.response.as_ref().map(|e| (e.line, e.column))),
                ("capture", m.capture.as_ref().map(|e| (e.line, e.column))),
            ];
            if let Some((field, Some((line, column)))) = fields.into_iter().find(|f| f.1.is_some())
            {
                return Err(source.error(line, column, Problem::NotForScripts { field }));
            }
            // A script sees the names `${…}` may use here (`names.rs` puts them in scope).
            let mut names: Vec<&str> = scope.known.iter().copied().collect();
            names.sort_unstable();
            // The texts of the modules a script imports are part of the version too:
            // editing one changes what the step does.
            if kind == "script" {
                let script = inline_script(source, at, &names)?;
                script_texts.extend(script.modules().map(|(_, text)| text.to_string()));
                Action::Script(script)
            } else {
                let (script, text) = run_file(source, at, &names)?;
                script_texts.push(text);
                script_texts.extend(script.modules().map(|(_, text)| text.to_string()));
                Action::Run(script)
            }
        }
    };
    let expect = match &m.expect {
        Some(at) => expect(source, at)?,
        None => SwExpectation::ok(),
    };
    let response = match &m.response {
        Some(at) => Some(response(source, at, scope)?),
        None => None,
    };
    let capture = match &m.capture {
        Some(at) => Some(capture(source, at, scope)?),
        None => None,
    };
    let name = name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("step {step_number}"));
    let origin = Origin {
        file: source.path.clone(),
        line: step.line,
    };
    let step = Step {
        name,
        origin,
        action,
        expect,
        response,
        capture,
        places,
    };
    Ok((step, script_texts))
}

fn apdu(
    source: &Source,
    at: &Located<String>,
    scope: &Scope<'_>,
) -> Result<Template, ProfileError> {
    let error_inside = |column, problem| {
        let (line, column) = inside(&source.text, at, &at.value, 1, column);
        source.error(line, column, problem)
    };
    let template = Template::parse(&at.value).map_err(|e| match e {
        TemplateError::Hex { column, message } => error_inside(column, Problem::Hex(message)),
        TemplateError::Placeholder { column, message } => {
            error_inside(column, Problem::Placeholder(message))
        }
    })?;
    for (name, column) in template.placeholders() {
        if let Some(problem) = check_reference(name, scope) {
            return Err(error_inside(column, problem));
        }
    }
    if let Some(bytes) = template.literal() {
        Command::parse(&bytes).map_err(|e| source.error_at(at, Problem::Command(e)))?;
    }
    Ok(template)
}

/// A `response:` mask: wildcards and `${name}` placeholders, each name known here.
fn response(
    source: &Source,
    at: &Located<String>,
    scope: &Scope<'_>,
) -> Result<MaskTemplate, ProfileError> {
    let error_inside = |column, problem| {
        let (line, column) = inside(&source.text, at, &at.value, 1, column);
        source.error(line, column, problem)
    };
    let mask = MaskTemplate::parse(&at.value).map_err(|e| {
        let column = e.column();
        let message = match e {
            TemplateError::Hex { message, .. } | TemplateError::Placeholder { message, .. } => {
                message
            }
        };
        let field = "response";
        error_inside(column, Problem::Pattern { field, message })
    })?;
    for (name, column) in mask.placeholders() {
        if let Some(problem) = check_reference(name, scope) {
            return Err(error_inside(column, problem));
        }
    }
    Ok(mask)
}

/// What is wrong with `${name}` at this step, if anything.
fn check_reference(name: &str, scope: &Scope<'_>) -> Option<Problem> {
    if !scope.known.contains(name) {
        return Some(match scope.captured_at.get(name) {
            Some(&(index, line)) if index >= scope.index => Problem::CapturedLater {
                name: name.to_string(),
                line,
            },
            _ => {
                let mut names: Vec<&str> = scope.known.iter().copied().collect();
                names.sort_unstable();
                let hint = crate::script::closest_name(name, &names)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                Problem::UnknownVariable {
                    name: name.to_string(),
                    hint,
                }
            }
        });
    }
    // A data column or an earlier capture replaces the default at run time; `today` is a
    // date (`--var today` checked by the command line), sent as BCD.
    if scope.captured.contains(name)
        || scope.data_columns.iter().any(|c| c == name)
        || name == "today"
    {
        return None;
    }
    let (_, value) = scope.vars.iter().find(|(n, _)| n == name)?;
    hex::parse(value).err().map(|e| Problem::VariableNotHex {
        name: name.to_string(),
        reason: super::template::hex_reason(&e),
    })
}

fn expect(source: &Source, at: &Located<Expect>) -> Result<SwExpectation, ProfileError> {
    let parse = |item: &Located<String>| {
        SwExpectation::parse(&item.value)
            .map_err(|e| pattern(source, item, &item.value, "expect", e.column, e.message))
    };
    match &at.value {
        Expect::One(text) | Expect::Typed(text) => SwExpectation::parse(text)
            .map_err(|e| pattern(source, at, text, "expect", e.column, e.message)),
        Expect::List(items) if items.is_empty() => Err(source.error_at(
            at,
            Problem::Pattern {
                field: "expect",
                message: "the list is empty".to_string(),
            },
        )),
        Expect::List(items) => {
            for item in items {
                parse(item)?;
            }
            SwExpectation::parse_all(items.iter().map(|i| i.value.as_str()))
                .map_err(|e| pattern(source, at, "", "expect", e.column, e.message))
        }
    }
}

fn pattern<T>(
    source: &Source,
    at: &Located<T>,
    text: &str,
    field: &'static str,
    column: usize,
    message: String,
) -> ProfileError {
    let (line, column) = inside(&source.text, at, text, 1, column);
    source.error(line, column, Problem::Pattern { field, message })
}

fn capture(
    source: &Source,
    at: &Located<String>,
    scope: &Scope<'_>,
) -> Result<String, ProfileError> {
    let name = &at.value;
    let clash = |other: String| Problem::NameClash {
        what: "capture",
        name: name.clone(),
        other,
    };
    let problem = if !is_identifier(name) {
        Problem::BadName {
            what: "capture",
            name: name.clone(),
        }
    } else if BATCH_OWNED.contains(&name.as_str()) {
        clash(format!("the built-in `{name}`"))
    } else if scope.secrets.contains(name.as_str()) {
        clash("a secret".to_string())
    } else {
        return Ok(name.clone());
    };
    Err(source.error_at(at, problem))
}
