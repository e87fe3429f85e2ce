//! Script errors: what went wrong, where in the file, and which kind of failure it is.
//!
//! Native functions fail with a [`Fault`] carried inside Rhai's runtime error, so that the
//! kind (a card that failed, an operation refused by the guard) survives the trip through
//! the engine. [`ScriptError`] is what leaves this module: one line, `file:line:column:
//! message`, plus an [`ErrorKind`] the command line maps to an exit code.

use std::fmt;

use rhai::{Dynamic, EvalAltResult, NativeCallContext, ParseError, Position};

/// The kind of a script failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The script does not compile, or its inputs (file, `--var`) are invalid. No APDU sent.
    Invalid,
    /// The script failed while running: an expectation, a thrown error, a bad argument.
    Failed,
    /// The reader or card failed (removed, reader gone, service down).
    Transport,
    /// An irreversible operation was refused because the run is not armed.
    Refused,
    /// The run was interrupted (Ctrl-C).
    Interrupted,
}

/// A script failure, located in its file when the engine knows where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The script file as the user named it.
    pub file: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// Whether the message was written by the tool from names, numbers and status words
    /// only (a limit reached, a transport failure, a refusal, a compile error), so the
    /// journal and report may keep it. A script's own failure (a thrown value, a failed
    /// expectation quoting a command) is not: it can hold data values.
    pub data_free: bool,
    /// The message, one line, without the location.
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ScriptError {}

/// A failure raised by one of our native functions, carried through Rhai as a value.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub kind: ErrorKind,
    pub message: String,
}

impl Fault {
    pub fn failed(message: impl Into<String>) -> Box<EvalAltResult> {
        Fault {
            kind: ErrorKind::Failed,
            message: message.into(),
        }
        .into()
    }

    pub fn refused(message: impl Into<String>) -> Box<EvalAltResult> {
        Fault {
            kind: ErrorKind::Refused,
            message: message.into(),
        }
        .into()
    }

    /// A failure below the script: the guard's refusal stays a refusal (exit 4), anything
    /// else is the transport's (exit 3).
    pub fn transport(error: &crate::reader::Error) -> Box<EvalAltResult> {
        let kind = match error {
            crate::reader::Error::Refused { .. } => ErrorKind::Refused,
            _ => ErrorKind::Transport,
        };
        Fault {
            kind,
            message: error.to_string(),
        }
        .into()
    }
}

impl From<Fault> for Box<EvalAltResult> {
    fn from(fault: Fault) -> Box<EvalAltResult> {
        Box::new(EvalAltResult::ErrorRuntime(
            Dynamic::from(fault),
            Position::NONE,
        ))
    }
}

/// Rhai gives errors raised in namespaced functions no position; this adds the call's.
pub(crate) fn at<T>(
    ctx: &NativeCallContext,
    result: Result<T, Box<EvalAltResult>>,
) -> Result<T, Box<EvalAltResult>> {
    result.map_err(|mut e| {
        if e.position().is_none() {
            e.set_position(ctx.call_position());
        }
        e
    })
}

/// Sets `name` in a Rhai `Module` to a native function whose errors carry the position of
/// the call ([`at`]). Every `module::` function of the script API is set through this, so
/// none can leave its errors unlocated.
///
/// The function is written as a closure over typed arguments whose body is a `Result`; it is
/// a `move` closure, so a session it uses is cloned first:
///
/// ```ignore
/// let s = session.clone();
/// located_fn!(m, "read", |page: INT| read_pages(&s, page));
/// ```
macro_rules! located_fn {
    // `||` is one token, not two `|`.
    ($module:expr, $name:literal, || $body:expr) => {
        $crate::script::error::located_fn!($module, $name, | | $body)
    };
    ($module:expr, $name:literal, |$($arg:ident: $ty:ty),* $(,)?| $body:expr) => {
        $module.set_native_fn(
            $name,
            move |ctx: ::rhai::NativeCallContext $(, $arg: $ty)*| {
                $crate::script::error::at(&ctx, $body)
            },
        )
    };
}
pub(crate) use located_fn;

fn location(position: Position) -> Option<(usize, usize)> {
    match (position.line(), position.position()) {
        (Some(line), Some(column)) => Some((line, column)),
        (Some(line), None) => Some((line, 1)),
        _ => None,
    }
}

/// Turns a compile error into a located [`ScriptError`].
pub(crate) fn from_parse(file: &str, error: &ParseError) -> ScriptError {
    ScriptError {
        file: file.to_string(),
        position: location(error.position()),
        kind: ErrorKind::Invalid,
        data_free: true,
        message: one_line(&error.err_type().to_string()),
    }
}

/// Turns a runtime error into a located [`ScriptError`], keeping the innermost position
/// (the failing call inside a script function, not the call of that function) and the
/// file it is in (a module's, for an error inside an imported module).
pub(crate) fn from_eval(file: &str, error: &EvalAltResult) -> ScriptError {
    let mut position = error.position();
    let mut at_file = file.to_string();
    let mut inner = error;
    while let EvalAltResult::ErrorInFunctionCall(_, _, next, _)
    | EvalAltResult::ErrorInModule(_, next, _) = inner
    {
        // Which file the next position is in: a module's (its resolver names it by path,
        // and its functions carry it as their source), or the script's own.
        let within = match inner {
            EvalAltResult::ErrorInModule(module, ..) => Some(module.as_str()),
            EvalAltResult::ErrorInFunctionCall(_, source, ..) if source.is_empty() => Some(file),
            EvalAltResult::ErrorInFunctionCall(_, source, ..) => Some(source.as_str()),
            _ => None,
        };
        inner = next;
        if !inner.position().is_none() {
            position = inner.position();
            if let Some(within) = within {
                at_file = within.to_string();
            }
        }
    }
    let (kind, message, data_free) = match inner {
        EvalAltResult::ErrorRuntime(value, _) => match value.clone().try_cast::<Fault>() {
            // Transport failures and refusals are the reader's and the guard's words; a
            // failed expectation or argument check may quote the command it judged.
            Some(fault) => (fault.kind, fault.message, fault.kind != ErrorKind::Failed),
            // A value thrown by the script itself.
            None => (
                ErrorKind::Failed,
                format!("script threw: {}", thrown(value)),
                false,
            ),
        },
        EvalAltResult::ErrorTerminated(_, _) => {
            (ErrorKind::Interrupted, "interrupted".to_string(), true)
        }
        limit if super::limits::describe(limit).is_some() => (
            ErrorKind::Failed,
            super::limits::describe(limit).unwrap_or_default(),
            true,
        ),
        other => (ErrorKind::Failed, strip_position(&other.to_string()), false),
    };
    ScriptError {
        file: at_file,
        position: location(position),
        kind,
        data_free,
        message: one_line(&without_type_paths(&message)),
    }
}

/// A thrown value as a message shows it: a string as it is, a secret as `(secret)`.
fn thrown(value: &Dynamic) -> String {
    if value.is::<crate::secret::Secret>() {
        return super::MASKED.to_string();
    }
    value.to_string()
}

/// Rust type paths (`apdu_run::secret::Secret`) that Rhai prints for our types, replaced by
/// the names scripts know them by; a secret by `(secret)`, never its bytes.
fn without_type_paths(message: &str) -> String {
    const CRATES: [&str; 5] = ["apdu_run", "alloc", "core", "std", "rhai"];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = CRATES
        .iter()
        .filter_map(|c| rest.find(&format!("{c}::")).map(|i| (i, c.len())))
        .min()
        .map(|(i, _)| i)
    {
        // Only a whole word starts a path (`my_alloc::x` is not one of ours).
        let before = rest[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            let step = at + rest[at..].find("::").map_or(1, |i| i + 2);
            out.push_str(&rest[..step]);
            rest = &rest[step..];
            continue;
        }
        out.push_str(&rest[..at]);
        let path_len = rest[at..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len() - at);
        let path = &rest[at..at + path_len];
        let last = path.rsplit("::").next().unwrap_or(path);
        out.push_str(match last {
            "Secret" => super::MASKED,
            "ScriptResponse" => "Response",
            "Fault" => "Error",
            other => other,
        });
        rest = &rest[at + path_len..];
    }
    out.push_str(rest);
    out
}

/// Text made one line: control characters (a newline, an escape sequence from user data)
/// are written as escapes (`\n`, `\u{1b}`), so a message cannot break lines or drive a
/// terminal.
pub fn one_line(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Rhai appends ` (line L, position C)` to its messages; we print the location up front.
fn strip_position(message: &str) -> String {
    match message.rfind(" (line ") {
        Some(at) if message.ends_with(')') => message[..at].to_string(),
        _ => message.to_string(),
    }
}

/// Registers the `Fault` type, so that a script that catches an error can show it:
/// `try { … } catch (e) { print(e) }` prints the message, and `e.message` and `e.kind`
/// (`"failed"`, `"transport"`, `"refused"`, …) read its parts.
pub(crate) fn register(engine: &mut rhai::Engine) {
    engine
        .register_type_with_name::<Fault>("Error")
        .register_fn("to_string", |f: &mut Fault| f.message.clone())
        .register_fn("to_debug", |f: &mut Fault| f.message.clone())
        .register_get("message", |f: &mut Fault| f.message.clone())
        .register_get("kind", |f: &mut Fault| {
            match f.kind {
                ErrorKind::Invalid => "invalid",
                ErrorKind::Failed => "failed",
                ErrorKind::Transport => "transport",
                ErrorKind::Refused => "refused",
                ErrorKind::Interrupted => "interrupted",
            }
            .to_string()
        });
}
