//! Profile errors: what is wrong and exactly where, as `file:line:column: message`.
//!
//! A [`ProfileError`] always names a file (the profile, an included profile or a script it
//! runs) and a 1-based line and column in it; a problem with a whole file (it cannot be
//! read, it is empty) points at `1:1`. The message is one line. Which exit code this means
//! is the command line's business.

use std::fmt;
use std::path::PathBuf;

use crate::apdu::CommandError;
use crate::secret::SecretError;

/// A profile that cannot be loaded, located in the file that is wrong.
///
/// Displays as one line, `file:line:column: message`; control characters from the profile
/// (a key with a line break in it) are escaped. The message is complete, so `source()` is
/// `None` and `{:#}` does not repeat a cause.
#[derive(Debug)]
pub struct ProfileError {
    /// The file the problem is in, as the user (or the including file) named it.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!(
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.problem
        );
        for c in text.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_fmt(format_args!("{c}"))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ProfileError {}

/// What is wrong with a profile. Messages are lowercase fragments, names in backticks.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The file cannot be read.
    #[error("cannot read the profile: {0}")]
    Read(#[source] std::io::Error),
    /// The YAML does not parse or does not fit the profile format (unknown field, wrong type,
    /// missing `name`, budget exceeded).
    #[error("{0}")]
    Yaml(String),
    /// An included file cannot be read.
    #[error("cannot read included profile `{}`: {source}", path.display())]
    Include {
        /// The included path, resolved against the including file.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// Profiles include each other.
    #[error("include cycle: {chain}")]
    IncludeCycle {
        /// The files of the cycle, `` `a.yaml` -> `b.yaml` -> `a.yaml` ``.
        chain: String,
    },
    /// Includes expand into more files or steps than any real profile has.
    #[error("includes expand to more than {limit} {what}")]
    TooLarge {
        /// What overflowed (`steps`, `included files`).
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// An included profile is for another kind of card.
    #[error("included profile is for `{included}` cards, this profile for `{including}` cards")]
    CardMismatch {
        /// The included profile's `card:`.
        included: String,
        /// This profile's `card:`.
        including: String,
    },
    /// An included profile may do an irreversible operation this profile does not allow.
    #[error(
        "included profile lists irreversible `{kind}`, which this profile's `irreversible` does not"
    )]
    IrreversibleNotAllowed {
        /// The kind missing here.
        kind: String,
    },
    /// The profile (with its includes) has no steps.
    #[error("profile has no steps")]
    NoSteps,
    /// A name from a closed set is misspelled.
    #[error("unknown {what} `{found}`, expected one of {expected}")]
    UnknownName {
        /// What kind of name (`card kind`).
        what: &'static str,
        /// What the profile says.
        found: String,
        /// The accepted names, backticked.
        expected: String,
    },
    /// A variable, secret or capture name is not an identifier.
    #[error("{what} name `{name}` is not an identifier (letters, digits, `_`)")]
    BadName {
        /// `variable`, `secret` or `capture`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A name is taken by a built-in or by another kind of value.
    #[error("{what} `{name}` clashes with {other}")]
    NameClash {
        /// `variable`, `secret` or `capture`.
        what: &'static str,
        /// The name.
        name: String,
        /// What else has the name (`the built-in \`row\``, `a secret`).
        other: String,
    },
    /// A `secrets:` entry is not `env:NAME` or `file:PATH`.
    #[error(transparent)]
    Secret(SecretError),
    /// A `diversify:` secret or an `encrypted-columns:` entry is malformed (the message
    /// names the secret or column and the field).
    #[error("{0}")]
    Key(String),
    /// A step has none of `apdu`, `script`, `run`.
    #[error("step has none of `apdu`, `script`, `run`")]
    NoAction,
    /// A step has more than one of `apdu`, `script`, `run`.
    #[error("step has both `{first}` and `{second}`, give exactly one")]
    TwoActions {
        /// The action written first.
        first: &'static str,
        /// The action written later (where the error points).
        second: &'static str,
    },
    /// `expect`, `response` or `capture` on a script step.
    #[error("`{field}` applies only to `apdu` steps")]
    NotForScripts {
        /// The field.
        field: &'static str,
    },
    /// Hex in `apdu` is malformed.
    #[error("bad hex in `apdu`: {0}")]
    Hex(String),
    /// A `${` placeholder is malformed.
    #[error("bad placeholder in `apdu`: {0}")]
    Placeholder(String),
    /// A fully literal `apdu` is not a valid command.
    #[error("`apdu` is not a valid command: {0}")]
    Command(#[source] CommandError),
    /// `${name}` names nothing known at this step.
    #[error("unknown variable `{name}` in `${{{name}}}`{hint}")]
    UnknownVariable {
        /// The name.
        name: String,
        /// `; did you mean `x`?` for a known name close to it, or empty.
        hint: String,
    },
    /// A `--var` that no step uses and the profile does not declare: most likely misspelt.
    #[error(
        "--var `{name}`: no step of the profile uses `{name}`{hint} (names a --var may set: {known})"
    )]
    UnusedVar {
        /// The `--var` name.
        name: String,
        /// `; did you mean `x`?`, or empty.
        hint: String,
        /// The profile's variables and the names its steps use, comma-separated.
        known: String,
    },
    /// `${name}` names a capture of a later step.
    #[error("`{name}` is used before it is captured (by the step on line {line})")]
    CapturedLater {
        /// The name.
        name: String,
        /// Line of the step that captures it.
        line: usize,
    },
    /// `${name}` names a variable whose value is not hex.
    #[error("variable `{name}` used in `apdu` is not hex: {reason}")]
    VariableNotHex {
        /// The variable.
        name: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// An `expect` or `response` pattern does not parse.
    #[error("bad `{field}` pattern: {message}")]
    Pattern {
        /// `expect` or `response`.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An inline script or a `run:` file does not compile.
    #[error("{what} does not compile: {message}")]
    Script {
        /// `inline script` or `script`.
        what: &'static str,
        /// The compiler's message.
        message: String,
    },
    /// `identify:` is malformed or cannot give an identity.
    #[error("`identify`: {0}")]
    Identify(String),
    /// A `run:` file cannot be read.
    #[error("cannot read script `{}`: {source}", path.display())]
    ScriptFile {
        /// The script path, resolved against the profile.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
}
