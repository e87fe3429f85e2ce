//! YAML profiles: a personalisation flow as data, validated completely before any card.
//!
//! A profile file is parsed into plain serde structs (`model`), then [`load`] turns it into
//! a [`Profile`]: includes spliced in, every APDU checked as hex (with `${name}`
//! placeholders resolved against the names known at that step), every expectation and mask
//! parsed, every script compiled. Whatever is wrong is reported as one
//! `file:line:column: message` ([`ProfileError`]). A [`Profile`] holds no text left to
//! parse, so running it cannot fail on input.
//!
//! [`check_lengths`] renders every APDU step with the values a run will give it (each data
//! row, `--var`, the secrets' lengths) and refuses a value whose length breaks its APDU, so
//! that a row is never used up by a length that was wrong from the start (`lengths.rs`).
//!
//! [`run`] then drives one card through the steps of a validated profile (`run.rs`). This
//! module does not wait for cards, choose data rows or load secrets (the batch does); it
//! does not print and does not choose exit codes.

mod derive;
mod error;
mod fingerprint;
mod hash;
mod identify;
mod include;
mod kinds;
mod lengths;
mod model;
mod names;
mod position;
mod run;
mod scripts;
mod steps;
mod template;
mod validate;

use std::fmt;
use std::path::PathBuf;

use crate::apdu::SwExpectation;
use crate::reader::guard::Operation;
use crate::script::Script;
use crate::secret::SecretSource;

pub use derive::{
    CLASSIC_OFFSET, Derivations, DeriveMethod, Derived, METHOD_NAMES, MasterError, uid_len,
};
pub use error::{Problem, ProfileError};
pub use identify::{Identify, Unidentified};
pub use kinds::{CardKind, Irreversible, OnError, Vocabulary};
pub use lengths::{LengthError, check_lengths};
pub use run::{Environment, Failure, FailureKind, Inputs, Outcome, StepResult, run};
pub use template::{MaskTemplate, RenderError, Template, TemplateError, TemplatePart};
pub use validate::{load, load_str};

/// Names every profile can use without defining them: the card's UID and ATR, the data row,
/// the card's sequence number in the batch and the UTC date (`--var today=YYYY-MM-DD` fixes
/// it). They are supplied at run time.
pub const BUILT_INS: [&str; 5] = ["uid", "atr", "row", "seq", "today"];

/// A validated profile, ready to run card after card.
#[derive(Debug)]
pub struct Profile {
    /// The profile file as the user named it.
    pub file: PathBuf,
    /// `name:`.
    pub name: String,
    /// `description:`, if any.
    pub description: Option<String>,
    /// The card kind the profile is for ([`CardKind::Any`] when not given).
    pub card: CardKind,
    /// Variables in definition order: the profile's defaults (included profiles' defaults
    /// after the including profile's own), with `--var` values applied. Values are text;
    /// a value used in an APDU is hex.
    pub vars: Vec<(String, String)>,
    /// Secrets by name, in definition order. Not loaded: loading is the runner's job.
    /// A relative `file:` path is resolved against the profile's directory.
    pub secrets: Vec<(String, SecretSource)>,
    /// Secrets diversified per card (`diversify:`), in definition order; their names are
    /// distinct from `secrets`' names. Computed by [`Derivations`] before a card's first step.
    pub derived: Vec<Derived>,
    /// `encrypted-columns:`: (column, transport key spec), the top profile's only. Their
    /// cells are decrypted into secrets when a row is used (`keys::columns`).
    pub encrypted_columns: Vec<(String, String)>,
    /// The irreversible operation kinds this profile may do when the run is armed.
    pub irreversible: Vec<Irreversible>,
    /// What a batch does when a step fails.
    pub on_error: OnError,
    /// How a batch tells cards apart when it is not by UID (`identify:`).
    pub identify: Option<Identify>,
    /// Every step, includes spliced in order.
    pub steps: Vec<Step>,
    hash: u64,
}

impl Profile {
    /// A stable fingerprint of the profile's version: FNV-1a 64 over what the profile and
    /// every included profile say (parsed: comments, layout and `description:` do not
    /// count; `fingerprint.rs`) and the text of every `run:` script, in load order, as 16
    /// hex digits. The batch's ledger records it to notice a changed profile.
    pub fn hash(&self) -> String {
        format!("{:016x}", self.hash)
    }

    /// Whether the profile allows the irreversible operation `kind`.
    pub fn allows(&self, kind: Irreversible) -> bool {
        self.irreversible.contains(&kind)
    }

    /// The irreversible operations the guard may let through when the run is armed.
    pub fn guard_operations(&self) -> Vec<Operation> {
        self.irreversible
            .iter()
            .map(|kind| kind.operation())
            .collect()
    }
}

/// One step of a profile.
#[derive(Debug)]
pub struct Step {
    /// `name:`, or the APDU text for an unnamed APDU step, or `step N` (1-based).
    pub name: String,
    /// Where the step is written.
    pub origin: Origin,
    /// What the step does.
    pub action: Action,
    /// Accepted status words (`9000` unless `expect:` says otherwise). APDU steps only.
    pub expect: SwExpectation,
    /// Mask the response data must match, `${name}`s standing for their bytes. APDU steps
    /// only.
    pub response: Option<MaskTemplate>,
    /// Variable that receives the response data. APDU steps only.
    pub capture: Option<String>,
    /// File line and column of each `${name}` of the APDU, in order (empty for scripts).
    pub places: Vec<(usize, usize)>,
}

/// The file and line a step is written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The profile (or included profile) file.
    pub file: PathBuf,
    /// 1-based line of the step.
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// What a step does.
pub enum Action {
    /// Send an APDU built from a template.
    Apdu(Template),
    /// Run an inline script (named `file:line` after where it is written).
    Script(Script),
    /// Run a script file.
    Run(Script),
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Apdu(template) => write!(f, "Apdu({template})"),
            Action::Script(script) => write!(f, "Script({})", script.file()),
            Action::Run(script) => write!(f, "Run({})", script.file()),
        }
    }
}

#[cfg(test)]
mod tests;
