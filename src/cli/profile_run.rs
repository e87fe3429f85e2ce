//! `run PROFILE.yaml` and `check PROFILE.yaml`: one card through a profile, or validation
//! only.
//!
//! The order is `run`'s: the profile is validated completely and its secrets loaded before
//! a reader is opened, so a bad profile exits 2 with `file:line:column: message` and sends
//! nothing. The card is identified like in a batch (`${uid}` from GET DATA when the card
//! has one), `${seq}` is 1 and `${row}` has no value — unless `--data FILE --row N` gives
//! the card row N of a batch's data (the columns, `${row}`), checked like a batch checks
//! it. A `--sim` kind that can never be the profile's `card:` is refused. Batches live in
//! `cli/batch.rs`.

use std::path::Path;
use std::rc::Rc;

use anyhow::{Context, anyhow};

use super::args::RunArgs;
use super::exit::invalid;
use super::run::{Connected, Source, connect, parse_vars, rules, save_simulator, source};
use super::{Exit, Failure, outln, trace_out};
use crate::apdu::hex;
use crate::batch::identify::read_uid;
use crate::batch::{DataSet, apdu_columns, data_rows, load_secrets, secret_lengths};
use crate::profile::{self, CardKind, Environment, FailureKind, Inputs, Profile, check_lengths};
use crate::reader::Card;
use crate::reader::guard::Guarded;
use crate::reader::trace::{Redactor, Traced};
use crate::script::Settings;
use crate::sim;

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

/// The data a `run --data FILE --row N` gives its card: the file and the row's values.
struct OneRow {
    data: DataSet,
    row: u64,
}

/// Loads `--data` and checks `--row` against it (exit 2 for a row that is not there, or
/// `--data` without `--row`).
fn one_row(args: &RunArgs) -> Result<Option<OneRow>, Failure> {
    let Some(path) = &args.data else {
        return Ok(None);
    };
    let data = DataSet::load(path).map_err(invalid)?;
    let rows = data.len();
    let Some(row) = args.row else {
        return Err(invalid(anyhow!(
            "--data `{}` needs --row N: `run` personalises one card with one row (1..={rows}); `apdu-run batch --data {} PROFILE` runs every row, card after card",
            path.display(),
            path.display()
        )));
    };
    if row == 0 || row > rows {
        let plural = if rows == 1 { "row" } else { "rows" };
        return Err(invalid(anyhow!(
            "--row {row}: `{}` has {rows} data {plural} (rows are counted from 1, as in the batch journal)",
            path.display()
        )));
    }
    Ok(Some(OneRow { data, row }))
}

/// Refuses a simulated kind whose cards can never be the profile's `card:` (exit 2), before
/// any card: every card of it would be rejected.
pub(super) fn check_sim_kind(
    profile: &Profile,
    profile_file: &Path,
    kind: sim::Kind,
) -> Result<(), Failure> {
    let fits = |kind: sim::Kind| match profile.card {
        CardKind::Any => true,
        // The COS card is an ISO 7816 contact card too.
        CardKind::Iso7816 => matches!(
            kind,
            sim::Kind::Iso7816 | sim::Kind::Iso7816T0 | sim::Kind::Cos | sim::Kind::CosT1
        ),
        CardKind::Classic1k => kind == sim::Kind::Classic1K,
        CardKind::Classic4k => kind == sim::Kind::Classic4K,
        CardKind::Ultralight => kind == sim::Kind::Ultralight,
        CardKind::Plus2k => kind == sim::Kind::Plus2K,
        CardKind::Plus4k => kind == sim::Kind::Plus4K,
    };
    if fits(kind) {
        return Ok(());
    }
    let matching: Vec<&str> = sim::Kind::all()
        .iter()
        .copied()
        .filter(|&k| fits(k))
        .map(sim::Kind::name)
        .collect();
    Err(invalid(anyhow!(
        "--sim {kind}: a simulated `{kind}` card can never be the `card: {}` card of `{}`; use --sim {}",
        profile.card,
        profile_file.display(),
        matching.join(" or --sim ")
    )))
}

/// The data's values a step sends must be hex, and no column may take a secret's name.
pub(super) fn check_data(profile: &Profile, data: &DataSet) -> Result<(), Failure> {
    data.check_hex(apdu_columns(profile, data))
        .map_err(invalid)?;
    let secret_names = profile.secrets.iter().map(|(n, _)| n);
    let derived_names = profile.derived.iter().map(|d| &d.name);
    if let Some(name) = secret_names
        .chain(derived_names)
        .find(|n| data.columns.contains(n))
    {
        return Err(invalid(anyhow!(
            "{}: column `{name}` has the name of a secret of the profile",
            data.path.display()
        )));
    }
    Ok(())
}

/// `apdu-run run PROFILE.yaml`: the profile once, on one card.
pub fn run(args: &RunArgs, file: &Path) -> Result<Exit, Failure> {
    let vars = parse_vars(&args.vars)?;
    let source = source(&args.card)?;
    let one = one_row(args)?;
    let columns = one
        .as_ref()
        .map(|o| o.data.columns.clone())
        .unwrap_or_default();
    let profile = profile::load(file, &vars, &columns).map_err(invalid)?;
    if let Source::Sim { kind, .. } = &source {
        check_sim_kind(&profile, file, *kind)?;
    }
    if let Some(one) = &one {
        check_data(&profile, &one.data)?;
    }
    let secrets = load_secrets(&profile).map_err(invalid)?;
    let values = one.as_ref().map(|o| o.data.row(o.row)).unwrap_or_default();
    let row = one.as_ref().map(|o| o.row);
    let derivations = profile::Derivations::load(&profile).map_err(invalid)?;
    check_lengths(
        &profile,
        Some(&secret_lengths(&secrets)),
        &mut row.map(|row| (row, values.clone())).into_iter(),
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
    super::paths::output_opt("--record", args.record.as_deref())?;
    let interrupt = super::interrupt_flag();

    let Connected { card, simulator } = connect(source)?;
    let atr = card.atr().to_vec();
    let recorder = match &args.record {
        Some(path) => Some(super::record_out::start(
            path,
            args.show_secrets,
            card.as_ref(),
        )?),
        None => None,
    };
    let sink = super::record_out::fan_out(sink, recorder.as_ref());
    let card: Box<dyn Card> = match sink {
        Some(sink) => Box::new(Traced::new(card, sink, redactor.clone(), args.show_secrets)),
        None => card,
    };
    let card = match &recorder {
        Some(recorder) => recorder.gate(card),
        None => card,
    };
    // Armed or not, only the kinds the profile lists in `irreversible:` may pass.
    let guarded = Guarded::new(card, args.arm_irreversible).only(profile.guard_operations());
    let mut card: Box<dyn Card> = Box::new(guarded);
    let uid = read_uid(card.as_mut()).map_err(|e| Failure::new(Exit::Transport, e))?;
    let inputs = Inputs {
        data: &values,
        secrets: &secrets,
        uid,
        atr,
        row,
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
    super::record_out::finish(recorder.as_ref())?;
    match &outcome.failure {
        None => {
            let uid = inputs.uid.as_deref().map(hex::format_compact);
            let uid = uid.map(|u| format!(", UID {u}")).unwrap_or_default();
            let row = row.map(|r| format!(", data row {r}")).unwrap_or_default();
            outln!(
                "ok: {} steps in {:.2} ms{uid}{row}",
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
