//! From files to a [`Profile`]: read and parse the profile and its includes, check the
//! top-level fields, merge variables and secrets, then hand the spliced steps to `steps`.
//!
//! Includes are resolved against the including file's directory and spliced before the
//! including file's own steps, in order. An included profile contributes its steps and,
//! as defaults, its variables and secrets (the including profile's own values win; among
//! includes, the earlier wins). Its `card` must be compatible and its `irreversible` kinds
//! must be allowed by the top profile, which alone decides what a run may do. Resolving one
//! include is `include`'s job; looking inside steps is `steps`'.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::derive::{DeriveMethod, Derived, INPUT_BUILT_INS, METHOD_NAMES};
use super::error::{Problem, ProfileError};
use super::fingerprint;
use super::hash::Fnv1a;
use super::include::{include, normalize};
use super::kinds::{CardKind, Irreversible, OnError, Vocabulary};
use super::model::{self, DiversifyModel, Document, Located, SecretModel, StepModel};
use super::{Action, BUILT_INS, Profile, Step, Template, TemplateError, steps};
use crate::script::is_identifier;
use crate::secret::SecretSource;

/// More steps than this is a runaway.
const MAX_STEPS: usize = 20_000;

/// Reads, validates and assembles the profile at `path`.
///
/// `cli_vars` (`--var NAME=VALUE`) override the profile's `vars` and may add names;
/// `data_columns` are the names a batch's data rows will supply. Both count as known names
/// for `${name}`. Secrets are checked for form only, not loaded.
pub fn load(
    path: &Path,
    cli_vars: &[(String, String)],
    data_columns: &[String],
) -> Result<Profile, ProfileError> {
    let text =
        crate::input::read_text(path, crate::input::Kind::Profile).map_err(|e| ProfileError {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            problem: Problem::Read(e),
        })?;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let identity = fs::canonicalize(path).ok();
    assemble(
        path.to_path_buf(),
        dir,
        text,
        identity,
        cli_vars,
        data_columns,
    )
}

/// Like [`load`], for profile text that is not (necessarily) in a file: `name` is how
/// messages name it, `base_dir` is where its includes, scripts and secret files are found.
pub fn load_str(
    name: &str,
    text: &str,
    base_dir: &Path,
    cli_vars: &[(String, String)],
    data_columns: &[String],
) -> Result<Profile, ProfileError> {
    let identity = fs::canonicalize(base_dir.join(name)).ok();
    let file = PathBuf::from(name);
    assemble(
        file,
        base_dir.to_path_buf(),
        text.to_string(),
        identity,
        cli_vars,
        data_columns,
    )
}

/// A file read while loading: the profile, an included profile.
pub(super) struct Source {
    /// The path messages use.
    pub path: PathBuf,
    /// The directory relative paths in this file start from.
    pub dir: PathBuf,
    /// The text.
    pub text: String,
}

impl Source {
    /// An error at `line:column` of this file.
    pub fn error(&self, line: usize, column: usize, problem: Problem) -> ProfileError {
        ProfileError {
            file: self.path.clone(),
            line,
            column,
            problem,
        }
    }

    /// An error at a value of this file.
    pub fn error_at<T>(&self, at: &Located<T>, problem: Problem) -> ProfileError {
        self.error(at.line, at.column, problem)
    }
}

/// What collecting the include tree produces.
pub(super) struct Collected {
    /// Every file read, the top profile first.
    pub files: Vec<Source>,
    /// Steps in run order, each with the index of its file in `files`.
    pub steps: Vec<(usize, Located<StepModel>)>,
    /// Variables merged so far, first definition wins.
    pub vars: Vec<(String, String)>,
    /// Secrets merged so far, first definition wins.
    pub secrets: Vec<(String, SecretSource)>,
    /// Diversified secrets merged so far, first definition wins (names shared with
    /// `secrets`: a name is in one of the two).
    pub derived: Vec<Derived>,
    /// The fingerprint of every text read so far.
    pub hash: Fnv1a,
    /// The top profile's card kind, which included profiles must accept.
    pub card: CardKind,
    /// The top profile's irreversible kinds, which bound those of included profiles.
    pub irreversible: Vec<Irreversible>,
    /// Canonical paths and display paths of the files being included, outermost first.
    pub stack: Vec<(Option<PathBuf>, PathBuf)>,
}

fn assemble(
    file: PathBuf,
    dir: PathBuf,
    text: String,
    identity: Option<PathBuf>,
    cli_vars: &[(String, String)],
    data_columns: &[String],
) -> Result<Profile, ProfileError> {
    let root = Source {
        path: file,
        dir,
        text,
    };
    let document = model::parse(&root.text).map_err(|e| yaml(&root, e))?;
    let mut hash = Fnv1a::new();
    fingerprint::feed(&mut hash, &document);
    let mut c = Collected {
        files: vec![root],
        steps: Vec::new(),
        vars: Vec::new(),
        secrets: Vec::new(),
        derived: Vec::new(),
        hash,
        card: CardKind::Any,
        irreversible: Vec::new(),
        stack: Vec::new(),
    };
    let (card, irreversible, on_error) = header(&c.files[0], &document)?;
    c.card = card;
    c.irreversible = irreversible;
    let identify = document
        .identify
        .as_ref()
        .map(|at| super::identify::validate(&c.files[0], at))
        .transpose()?;
    let name = document.name.value.clone();
    let description = document.description.as_ref().map(|d| d.value.clone());
    c.stack.push((identity, c.files[0].path.clone()));
    let encrypted_columns = encrypted_columns(&c.files[0], &document, data_columns)?;
    collect(&mut c, 0, document)?;
    let declared: Vec<String> = c.vars.iter().map(|(n, _)| n.clone()).collect();
    for (name, value) in cli_vars {
        match c.vars.iter_mut().find(|(n, _)| n == name) {
            Some(var) => var.1 = value.clone(),
            None => c.vars.push((name.clone(), value.clone())),
        }
    }
    for derived in &c.derived {
        derive_names(&c, derived, data_columns)?;
    }
    let steps = steps::validate(&mut c, data_columns)?;
    if steps.is_empty() {
        return Err(c.files[0].error(1, 1, Problem::NoSteps));
    }
    let secrets: Vec<&str> = c
        .secrets
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(c.derived.iter().map(|d| d.name.as_str()))
        .collect();
    unused_vars(&c.files[0], cli_vars, &declared, &secrets, &steps)?;
    Ok(Profile {
        file: c.files[0].path.clone(),
        name,
        description,
        card: c.card,
        vars: c.vars,
        secrets: c.secrets,
        derived: c.derived,
        encrypted_columns,
        irreversible: c.irreversible,
        on_error,
        identify,
        steps,
        hash: c.hash.finish(),
    })
}

pub(super) fn yaml(source: &Source, e: model::YamlError) -> ProfileError {
    source.error(e.line, e.column, Problem::Yaml(e.message))
}

fn vocabulary<T: Vocabulary>(source: &Source, at: &Located<String>) -> Result<T, ProfileError> {
    T::from_name(&at.value).ok_or_else(|| {
        source.error_at(
            at,
            Problem::UnknownName {
                what: T::WHAT,
                found: at.value.clone(),
                expected: T::names(),
            },
        )
    })
}

/// Checks `card`, `irreversible` and `on-error` of any profile file.
pub(super) fn header(
    source: &Source,
    document: &Document,
) -> Result<(CardKind, Vec<Irreversible>, OnError), ProfileError> {
    let card = match &document.card {
        Some(at) => vocabulary(source, at)?,
        None => CardKind::Any,
    };
    let mut irreversible = Vec::new();
    for at in &document.irreversible {
        let kind = vocabulary(source, at)?;
        if !irreversible.contains(&kind) {
            irreversible.push(kind);
        }
    }
    let on_error = match &document.on_error {
        Some(at) => vocabulary(source, at)?,
        None => OnError::default(),
    };
    Ok((card, irreversible, on_error))
}

/// Merges the variables and secrets of file `index`, then splices its includes' steps and
/// its own.
pub(super) fn collect(
    c: &mut Collected,
    index: usize,
    document: Document,
) -> Result<(), ProfileError> {
    for (key, value) in document.vars.0 {
        check_name(c, index, &key, "variable")?;
        if !c.vars.iter().any(|(n, _)| *n == key.value) {
            c.vars.push((key.value, value.value));
        }
    }
    if let (true, Some((column, _))) = (index > 0, document.encrypted_columns.0.first()) {
        let problem = Problem::Key(
            "`encrypted-columns` belongs in the top profile, which names the data".to_string(),
        );
        return Err(c.files[index].error_at(column, problem));
    }
    for (key, value) in document.secrets.0 {
        check_name(c, index, &key, "secret")?;
        let source = &c.files[index];
        let text = match value.value {
            SecretModel::Spec(text) => text,
            SecretModel::Diversify(body) => {
                let derived = diversified(source, &key.value, *body)?;
                let known = c.secrets.iter().any(|(n, _)| *n == key.value)
                    || c.derived.iter().any(|d| d.name == key.value);
                if !known {
                    c.derived.push(derived);
                }
                continue;
            }
        };
        let value = Located {
            value: text,
            line: value.line,
            column: value.column,
            text: value.text,
        };
        let secret = match SecretSource::parse(&value.value) {
            Ok(SecretSource::File(path)) if path.is_relative() => {
                SecretSource::File(normalize(&source.dir.join(path)))
            }
            Ok(secret) => secret,
            Err(e) => return Err(source.error_at(&value, Problem::Secret(e))),
        };
        if !c.secrets.iter().any(|(n, _)| *n == key.value)
            && !c.derived.iter().any(|d| d.name == key.value)
        {
            c.secrets.push((key.value, secret));
        }
    }
    for entry in &document.include {
        include(c, index, entry)?;
    }
    for step in document.steps {
        if c.steps.len() >= MAX_STEPS {
            let problem = Problem::TooLarge {
                what: "steps",
                limit: MAX_STEPS,
            };
            return Err(c.files[index].error_at(&step, problem));
        }
        c.steps.push((index, step));
    }
    Ok(())
}

/// Validates `encrypted-columns:`: identifiers, columns of the data when it is known, and
/// well-formed transport key specs (a relative `file:` resolved against the profile).
fn encrypted_columns(
    source: &Source,
    document: &Document,
    data_columns: &[String],
) -> Result<Vec<(String, String)>, ProfileError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (column, spec) in &document.encrypted_columns.0 {
        let problem = if !is_identifier(&column.value) {
            Some(Problem::BadName {
                what: "encrypted column",
                name: column.value.clone(),
            })
        } else if !data_columns.is_empty() && !data_columns.contains(&column.value) {
            Some(Problem::Key(format!(
                "encrypted column `{}` is not a column of the data",
                column.value
            )))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(source.error_at(column, problem));
        }
        let key = match spec.value.strip_prefix("file:") {
            Some(path) if !path.is_empty() && Path::new(path).is_relative() => {
                format!("file:{}", normalize(&source.dir.join(path)).display())
            }
            _ => spec.value.clone(),
        };
        if let Err(e) = crate::keys::check_spec(&key) {
            let problem = Problem::Key(format!(
                "encrypted column `{}`: transport key: {e}",
                column.value
            ));
            return Err(source.error_at(spec, problem));
        }
        if !out.iter().any(|(n, _)| *n == column.value) {
            out.push((column.value.clone(), key));
        }
    }
    Ok(out)
}

/// Validates the body of a `diversify:` secret: method, master spec (a relative `file:`
/// resolved against the profile's directory) and input template.
fn diversified(source: &Source, name: &str, body: DiversifyModel) -> Result<Derived, ProfileError> {
    let method = DeriveMethod::parse(&body.method.value).ok_or_else(|| {
        source.error_at(
            &body.method,
            Problem::UnknownName {
                what: "diversification method",
                found: body.method.value.clone(),
                expected: METHOD_NAMES.map(|n| format!("`{n}`")).join(", "),
            },
        )
    })?;
    let master = match body.master.value.strip_prefix("file:") {
        Some(path) if !path.is_empty() && Path::new(path).is_relative() => {
            format!("file:{}", normalize(&source.dir.join(path)).display())
        }
        _ => body.master.value.clone(),
    };
    if let Err(e) = crate::keys::check_spec(&master) {
        let problem = Problem::Key(format!("secret `{name}`: `master`: {e}"));
        return Err(source.error_at(&body.master, problem));
    }
    let input = Template::parse(&body.input.value).map_err(|e| {
        let (TemplateError::Hex { message, column }
        | TemplateError::Placeholder { message, column }) = e;
        let problem = Problem::Key(format!(
            "secret `{name}`: `input`: {message} (column {column} of the value)"
        ));
        source.error_at(&body.input, problem)
    })?;
    if input.placeholders().next().is_none() {
        let problem = Problem::Key(format!(
            "secret `{name}`: `input` names no card value (`${{uid}}`): every card would get \
             the same key"
        ));
        return Err(source.error_at(&body.input, problem));
    }
    Ok(Derived {
        name: name.to_string(),
        master,
        method,
        input,
        file: source.path.clone(),
        line: body.input.line,
        column: body.input.column,
    })
}

/// Refuses a name in a diversification input that a card does not have before its first
/// step: only `${uid}`, `${atr}`, `${seq}`, `${row}`, variables and data columns.
fn derive_names(
    c: &Collected,
    derived: &Derived,
    data_columns: &[String],
) -> Result<(), ProfileError> {
    for (name, _) in derived.input.placeholders() {
        let known = INPUT_BUILT_INS.contains(&name)
            || c.vars.iter().any(|(n, _)| n == name)
            || data_columns.iter().any(|n| n == name);
        if !known {
            return Err(ProfileError {
                file: derived.file.clone(),
                line: derived.line,
                column: derived.column,
                problem: Problem::Key(format!(
                    "secret `{}`: `input` uses `${{{name}}}`, which is not a variable, a data \
                     column or one of `${{uid}}`, `${{atr}}`, `${{seq}}`, `${{row}}`",
                    derived.name
                )),
            });
        }
    }
    Ok(())
}

/// Checks a variable or secret name where it is defined.
fn check_name(
    c: &Collected,
    index: usize,
    key: &Located<String>,
    what: &'static str,
) -> Result<(), ProfileError> {
    let name = &key.value;
    let clash = |other: String| Problem::NameClash {
        what,
        name: name.clone(),
        other,
    };
    let problem = if !is_identifier(name) {
        Problem::BadName {
            what,
            name: name.clone(),
        }
    } else if BUILT_INS.contains(&name.as_str()) {
        clash(format!("the built-in `{name}`"))
    } else if what == "variable"
        && (c.secrets.iter().any(|(n, _)| n == name) || c.derived.iter().any(|d| d.name == *name))
    {
        clash("a secret".to_string())
    } else if what == "secret" && c.vars.iter().any(|(n, _)| n == name) {
        clash("a variable".to_string())
    } else {
        return Ok(());
    };
    Err(c.files[index].error_at(key, problem))
}

/// Refuses a `--var` that sets nothing: neither a variable the profile declares nor a name
/// any step uses (`${name}`, a script's variable). Points at the top of the profile.
fn unused_vars(
    source: &Source,
    cli_vars: &[(String, String)],
    declared: &[String],
    secrets: &[&str],
    steps: &[Step],
) -> Result<(), ProfileError> {
    let mut known: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
    for step in steps {
        match &step.action {
            Action::Apdu(template) => known.extend(template.placeholders().map(|(n, _)| n)),
            Action::Script(script) | Action::Run(script) => known.extend(script.reads()),
        }
        if let Some(mask) = &step.response {
            known.extend(mask.placeholders().map(|(n, _)| n));
        }
    }
    // Built-ins the card or the batch gives, secrets and captures win over a variable of
    // the same name, so a --var cannot set them; `today` it can.
    let captures: Vec<&str> = steps.iter().filter_map(|s| s.capture.as_deref()).collect();
    known.retain(|n| {
        (!BUILT_INS.contains(n) || *n == "today") && !secrets.contains(n) && !captures.contains(n)
    });
    let Some((name, _)) = cli_vars.iter().find(|(n, _)| !known.contains(n.as_str())) else {
        return Ok(());
    };
    let names: Vec<&str> = known.iter().copied().collect();
    let hint = crate::script::closest_name(name, &names)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    let known = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    let problem = Problem::UnusedVar {
        name: name.clone(),
        hint,
        known,
    };
    Err(source.error(1, 1, problem))
}
