//! Running a validated [`Profile`] against one card: step after step, with the card's values.
//!
//! An APDU step renders its template, sends it with the run's transport rules, checks the
//! status word against `expect:` and the data against `response:`, and keeps the data under
//! its `capture:` name. A `script:` or `run:` step runs Rhai with every name of the card in
//! scope. The first step that fails ends the run; its [`Failure`] says which step, the
//! status word and what it means. A status word is data until an expectation is written.
//!
//! This file does not wait for cards, choose data rows, load secrets or write records: the
//! batch does, and hands the values in through [`Inputs`]. It does not print; script output
//! goes to [`Environment::output`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::derive::Derivations;
use super::names::Names;
use super::{Action, Profile, Step, Template};
use crate::apdu::{Command, StatusWord};
use crate::reader::trace::Redactor;
use crate::reader::{Card, Error as ReaderError};
use crate::script::{ErrorKind, Output, RunOptions, Script, ScriptError, Settings};
use crate::secret::Secret;

/// What a run needs that stays the same from card to card.
pub struct Environment {
    /// Whether the run is armed, and how `61xx`/`6Cxx` are followed.
    pub settings: Settings,
    /// The run's secrets, to mask in messages.
    pub redactor: Redactor,
    /// Where `print` and `debug` of script steps go.
    pub output: Output,
    /// Set from outside (Ctrl-C): the run stops before the next step or script operation.
    pub interrupt: Arc<AtomicBool>,
    /// The master keys of the profile's `diversify:` secrets (empty when it has none).
    pub derivations: Derivations,
}

/// The values of one card: what `${name}` can refer to besides the profile's variables.
#[derive(Debug, Default)]
pub struct Inputs<'a> {
    /// This card's data row as (column, value); values used in APDUs are hex.
    pub data: &'a [(String, String)],
    /// The profile's secrets, loaded.
    pub secrets: &'a [(String, Secret)],
    /// `${uid}`: the card's UID; empty bytes when the card has none.
    pub uid: Option<Vec<u8>>,
    /// `${atr}`.
    pub atr: Vec<u8>,
    /// `${row}`: the 1-based data row, when the batch has data.
    pub row: Option<u64>,
    /// `${seq}`: the card's 1-based sequence number in the batch.
    pub seq: u64,
}

/// How one step went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepResult {
    /// The step's name.
    pub name: String,
    /// The status word of an APDU step (`None` for script steps and unsent APDUs).
    pub sw: Option<StatusWord>,
    /// Time the step took.
    pub micros: u64,
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// An expectation was not met, a script threw, a value was missing.
    Failed,
    /// The guard refused an irreversible operation.
    Refused,
    /// The reader or the card failed (card pulled, reader gone).
    Transport,
    /// Ctrl-C.
    Interrupted,
}

/// The step that stopped a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// 0-based index of the step.
    pub index: usize,
    /// The step's name.
    pub step: String,
    /// The status word that did not meet the expectation, if one did not.
    pub sw: Option<StatusWord>,
    /// What kind of failure.
    pub kind: FailureKind,
    /// What went wrong, without the step (secrets masked). May quote data values (a
    /// script's own message, a command it sent): for the console only.
    pub message: String,
    /// What went wrong with no data value in it (names, status words, lengths, positions):
    /// what the journal and the report keep ([`Failure::record_line`]).
    pub record: String,
}

impl Failure {
    /// The one-line, data-free account of the failure for the journal and the report:
    /// `step N `name`: …` with [`Failure::record`].
    pub fn record_line(&self) -> String {
        format!("step {} `{}`: {}", self.index + 1, self.step, self.record)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {} `{}`: {}",
            self.index + 1,
            self.step,
            self.message
        )
    }
}

/// How a run went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The steps that ran, the failed one last.
    pub steps: Vec<StepResult>,
    /// Why the run stopped early; `None` when every step passed.
    pub failure: Option<Failure>,
    /// Time the whole run took.
    pub micros: u64,
}

impl Outcome {
    /// Whether every step passed.
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
}

fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Runs every step of `profile` against `card`. The card is handed back, whatever happens.
pub fn run(
    profile: &Profile,
    mut card: Box<dyn Card>,
    inputs: &Inputs<'_>,
    env: &Environment,
) -> (Box<dyn Card>, Outcome) {
    let started = Instant::now();
    let refuse = |message: String| {
        let failure = Failure {
            index: 0,
            step: "secrets".to_string(),
            sw: None,
            kind: FailureKind::Failed,
            message: message.clone(),
            record: message,
        };
        Outcome {
            steps: Vec::new(),
            failure: Some(failure),
            micros: micros_since(started),
        }
    };
    // The row's encrypted cells, decrypted in memory before any command.
    let (data, decrypted) = match env.derivations.decrypt_row(inputs.data, inputs.row) {
        Ok(split) => split,
        Err(message) => return (card, refuse(message)),
    };
    // Recognised in traffic while this card runs, forgotten after (guards live to the end).
    let mut _recognised: Vec<_> = decrypted
        .iter()
        .map(|(_, secret)| env.redactor.add_while(secret.expose()))
        .collect();
    let plain_inputs = Inputs {
        data: &data,
        secrets: inputs.secrets,
        uid: inputs.uid.clone(),
        atr: inputs.atr.clone(),
        row: inputs.row,
        seq: inputs.seq,
    };
    let inputs = &plain_inputs;
    // This card's diversified keys, before any command: a card whose keys cannot be
    // computed is refused with nothing sent.
    let derived = match env.derivations.derive(profile, inputs) {
        Ok(derived) => derived,
        Err((name, message)) => return (card, refuse(format!("secret `{name}`: {message}"))),
    };
    _recognised.extend(
        derived
            .iter()
            .map(|(_, secret)| env.redactor.add_while(secret.expose())),
    );
    let secrets: Vec<(String, Secret)> = inputs
        .secrets
        .iter()
        .cloned()
        .chain(decrypted)
        .chain(derived)
        .collect();
    let inputs = &Inputs {
        data: &data,
        secrets: &secrets,
        uid: inputs.uid.clone(),
        atr: inputs.atr.clone(),
        row: inputs.row,
        seq: inputs.seq,
    };
    let mut captures: Vec<(String, Vec<u8>)> = Vec::new();
    let mut steps = Vec::with_capacity(profile.steps.len());
    let mut failure = None;
    for (index, step) in profile.steps.iter().enumerate() {
        let step_started = Instant::now();
        let fail = |sw, kind, (message, record): (String, String)| Failure {
            index,
            step: step.name.clone(),
            sw,
            kind,
            message,
            record,
        };
        if env.interrupt.load(Ordering::Relaxed) {
            let message = "interrupted before this step".to_string();
            failure = Some(fail(
                None,
                FailureKind::Interrupted,
                (message.clone(), message),
            ));
            break;
        }
        let names = Names {
            profile,
            inputs,
            captures: &captures,
        };
        let (result, sw) = match &step.action {
            Action::Apdu(template) => {
                let (result, sw) = apdu_step(card.as_mut(), step, template, &names, env);
                if let (Ok(data), Some(name)) = (&result, &step.capture) {
                    captures.push((name.clone(), data.clone()));
                }
                // An APDU step's messages are built here from names, status words and
                // lengths only, so the console and the journal can share them.
                let result = result
                    .map(|_| ())
                    .map_err(|(kind, message)| (kind, (message.clone(), message)));
                (result, sw)
            }
            Action::Script(script) | Action::Run(script) => {
                let inline = matches!(step.action, Action::Script(_));
                let (back, result) = script_step(card, script, inline, &names, env);
                card = back;
                (result, None)
            }
        };
        steps.push(StepResult {
            name: step.name.clone(),
            sw,
            micros: micros_since(step_started),
        });
        if let Err((kind, message)) = result {
            failure = Some(fail(sw, kind, message));
            break;
        }
    }
    let outcome = Outcome {
        steps,
        failure,
        micros: micros_since(started),
    };
    (card, outcome)
}

type StepError = (FailureKind, String);

/// A failed step's kind, its console message and its data-free record.
type StepFailure = (FailureKind, (String, String));

/// Sends one APDU step; on success returns the response data.
fn apdu_step(
    card: &mut dyn Card,
    step: &Step,
    template: &Template,
    names: &Names<'_>,
    env: &Environment,
) -> (Result<Vec<u8>, StepError>, Option<StatusWord>) {
    let failed = |message: String| (Err((FailureKind::Failed, message)), None);
    let values = match names.resolve(template.placeholders()) {
        Ok(values) => values,
        Err(message) => return failed(message),
    };
    let (bytes, secret) = match template.render_marked(&|name| values.marked(name)) {
        Ok(rendered) => rendered,
        Err(e) => return failed(e.to_string()),
    };
    // The trace masks exactly the bytes `${secret}` placeholders filled, whatever their length.
    let _scope = env.redactor.provenance(&bytes, &secret);
    let command = match Command::parse(&bytes) {
        Ok(command) => command,
        Err(e) => {
            return failed(format!(
                "the APDU with its values is not a valid command: {e}"
            ));
        }
    };
    let response = match card.exchange_with(&command, env.settings.rules) {
        Ok(response) => response,
        Err(e) => return (Err(transport(&e)), None),
    };
    let sw = Some(response.sw);
    if !step.expect.matches(response.sw) {
        let message = format!(
            "expected {}, card answered {} ({})",
            step.expect,
            response.sw,
            response.sw.describe_after(&command.to_bytes())
        );
        return (Err((FailureKind::Failed, message)), sw);
    }
    if let Some(template) = &step.response {
        let values = match names.resolve(template.placeholders()) {
            Ok(values) => values,
            Err(message) => return (Err((FailureKind::Failed, message)), sw),
        };
        let mask = match template.render(&|name| values.get(name)) {
            Ok(mask) => mask,
            Err(e) => return (Err((FailureKind::Failed, e.to_string())), sw),
        };
        if let Some(at) = mask.first_mismatch(&response.data) {
            // No data value in a message (it goes to the journal and report): the length
            // and where it differs, never the bytes.
            let message = format!(
                "response data ({} bytes) does not match `{template}` (first difference at byte {})",
                response.data.len(),
                at + 1
            );
            return (Err((FailureKind::Failed, message)), sw);
        }
    }
    (Ok(response.data), sw)
}

fn transport(error: &ReaderError) -> StepError {
    match error {
        ReaderError::Refused { .. } => (FailureKind::Refused, error.to_string()),
        _ => (FailureKind::Transport, error.to_string()),
    }
}

fn script_step(
    card: Box<dyn Card>,
    script: &Script,
    inline: bool,
    names: &Names<'_>,
    env: &Environment,
) -> (Box<dyn Card>, Result<(), StepFailure>) {
    let options = RunOptions {
        settings: env.settings.clone(),
        vars: Vec::new(),
        redactor: env.redactor.clone(),
        output: env.output.clone(),
        interrupt: env.interrupt.clone(),
    };
    let (card, result) = script.run_with(card, options, &names.values());
    let result = result.map_err(|e| {
        let kind = match e.kind {
            ErrorKind::Invalid | ErrorKind::Failed => FailureKind::Failed,
            ErrorKind::Transport => FailureKind::Transport,
            ErrorKind::Refused => FailureKind::Refused,
            ErrorKind::Interrupted => FailureKind::Interrupted,
        };
        let at = where_in_file(inline, &e);
        let message = format!("{} ({at})", e.message);
        // A script's own failure can say anything (a thrown string, a command with row
        // values in it): the journal and report only learn where. Messages the tool wrote
        // from names and numbers (limits, transport failures, refusals) are kept.
        let record = if e.data_free {
            message.clone()
        } else {
            format!(
                "the script failed at {at} (its message is not journalled: it may hold data values)"
            )
        };
        (kind, (message, record))
    });
    (card, result)
}

/// Where a script error is, in the file the user edits: an inline script is named
/// `profile.yaml:START` after the line its text starts on, so its line `n` is file line
/// `START + n - 1` (exact for `script: |` blocks, the form inline scripts are written in).
fn where_in_file(inline: bool, e: &ScriptError) -> String {
    let start = e
        .file
        .rsplit_once(':')
        .and_then(|(file, start)| Some((file, start.parse::<usize>().ok()?)));
    match (inline, start, e.position) {
        (true, Some((file, start)), Some((line, _))) => format!("{file}:{}", start + line - 1),
        // Elsewhere, or in a module an inline script imports (named by its path).
        (_, _, Some((line, column))) => format!("{}:{line}:{column}", e.file),
        (_, _, None) => e.file.clone(),
    }
}
