//! `run PROFILE.yaml` and `check PROFILE.yaml`: one card through a profile, or validation
//! only.
//!
//! The order is `run`'s: the profile is validated completely and its secrets loaded before
//! a reader is opened, so a bad profile exits 2 with `file:line:column: message` and sends
//! nothing. The card is identified like in a batch (`${uid}` from GET DATA when the card
//! has one), `${seq}` is 1 and `${row}` has no value. Batches live in `cli/batch.rs`.

use std::path::Path;
use std::rc::Rc;

use anyhow::{Context, anyhow};

use super::args::RunArgs;
use super::exit::invalid;
use super::run::{Connected, connect, parse_vars, rules, save_simulator, source};
use super::{Exit, Failure, outln, trace_out};
use crate::apdu::hex;
use crate::batch::identify::read_uid;
use crate::batch::{DataSet, apdu_columns, data_rows, load_secrets, secret_lengths};
use crate::profile::{self, Environment, FailureKind, Inputs, check_lengths};
use crate::reader::Card;
use crate::reader::guard::Guarded;
use crate::reader::trace::{Redactor, Traced};
use crate::script::Settings;

/// Whether `file` is a YAML profile (by its extension).
pub fn is_profile(file: &Path) -> bool {
    matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// `apdu-run check PROFILE.yaml [--data FILE.csv] [--var NAME=VALUE]…`.
pub fn check(
    file: &Path,
    data: Option<&Path>,
    vars: &[String],
    json: bool,
) -> Result<Exit, Failure> {
    let vars = parse_vars(vars)?;
    let data = data.map(DataSet::load).transpose().map_err(invalid)?;
    let columns = data.as_ref().map(|d| d.columns.clone()).unwrap_or_default();
    let profile = profile::load(file, &vars, &columns).map_err(invalid)?;
    if let Some(data) = &data {
        data.check_hex(apdu_columns(&profile, data))
            .map_err(invalid)?;
    }
    // Secrets are not loaded by `check`: steps whose lengths depend on one are left to the run.
    check_lengths(&profile, None, &mut data_rows(data.as_ref())).map_err(invalid)?;
    // Encrypted cells are decrypted (transport keys loaded) so a bad cell is found now.
    if let (Some(data), false) = (&data, profile.encrypted_columns.is_empty()) {
        let keys = profile::Derivations::load(&profile).map_err(invalid)?;
        keys.check_rows(&mut data_rows(Some(data)))
            .map_err(|e| invalid(anyhow::anyhow!("{}: {e}", data.path.display())))?;
    }
    super::check_out::Checked {
        steps: Some(profile.steps.len()),
        hash: Some(profile.hash()),
        ..super::check_out::Checked::new(file, "profile")
    }
    .print(json)
}

/// `apdu-run run PROFILE.yaml`: the profile once, on one card.
pub fn run(args: &RunArgs, file: &Path) -> Result<Exit, Failure> {
    let vars = parse_vars(&args.vars)?;
    let source = source(&args.card)?;
    let profile = profile::load(file, &vars, &[]).map_err(invalid)?;
    let secrets = load_secrets(&profile).map_err(invalid)?;
    let derivations = profile::Derivations::load(&profile).map_err(invalid)?;
    check_lengths(
        &profile,
        Some(&secret_lengths(&secrets)),
        &mut std::iter::empty(),
    )
    .map_err(invalid)?;
    let redactor = Redactor::default();
    for (_, secret) in &secrets {
        redactor.add(secret.expose());
    }
    if let Some(path) = &args.trace_file {
        crate::input::check_output(path)
            .with_context(|| "cannot create the trace file")
            .map_err(invalid)?;
    }
    let sink = trace_out::sink(args.trace, args.trace_file.as_deref())
        .with_context(|| "cannot create the trace file")
        .map_err(invalid)?;
    let interrupt = super::interrupt_flag();

    let Connected { card, simulator } = connect(source)?;
    let atr = card.atr().to_vec();
    let card: Box<dyn Card> = match sink {
        Some(sink) => Box::new(Traced::new(card, sink, redactor.clone(), args.show_secrets)),
        None => card,
    };
    // Armed or not, only the kinds the profile lists in `irreversible:` may pass.
    let guarded = Guarded::new(card, args.arm_irreversible).only(profile.guard_operations());
    let mut card: Box<dyn Card> = Box::new(guarded);
    let uid = read_uid(card.as_mut()).map_err(|e| Failure::new(Exit::Transport, e))?;
    let inputs = Inputs {
        data: &[],
        secrets: &secrets,
        uid,
        atr,
        row: None,
        seq: 1,
    };
    let env = Environment {
        settings: Settings {
            armed: args.arm_irreversible,
            rules: rules(args.no_auto_response),
            reader_kind: super::run::reader_kind(&args.card)?,
        },
        redactor,
        output: Rc::new(|line: &str| outln!("{line}")),
        interrupt,
        derivations,
    };
    let (_card, outcome) = profile::run(&profile, card, &inputs, &env);
    for step in &outcome.steps {
        let sw = step.sw.map_or("    ".to_string(), |sw| sw.to_string());
        outln!(
            "{sw}  {:>8.2} ms  {}",
            step.micros as f64 / 1000.0,
            step.name
        );
    }
    save_simulator(&simulator)?;
    match &outcome.failure {
        None => {
            let uid = inputs.uid.as_deref().map(hex::format_compact);
            let uid = uid.map(|u| format!(", UID {u}")).unwrap_or_default();
            outln!(
                "ok: {} steps in {:.2} ms{uid}",
                outcome.steps.len(),
                outcome.micros as f64 / 1000.0
            );
            Ok(Exit::Ok)
        }
        Some(failure) => {
            let exit = match failure.kind {
                FailureKind::Failed => Exit::Failed,
                FailureKind::Refused => Exit::Refused,
                FailureKind::Transport => Exit::Transport,
                FailureKind::Interrupted => Exit::Interrupted,
            };
            let origin = &profile.steps[failure.index].origin;
            Err(Failure::new(exit, anyhow!("{origin}: {failure}")))
        }
    }
}
