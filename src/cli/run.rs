//! `run` and `check`: compile a script (or parse a scriptor file), find its card, run it,
//! report.
//!
//! Order matters: everything the user typed is validated (variables, simulator kind, UID,
//! trace file, the script itself) before a reader is opened, so invalid input never sends
//! an APDU. The simulated card's state is saved after the run even when the script failed,
//! because the card was changed either way (a blocked PIN stays blocked).

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use anyhow::{Context, anyhow};

use super::args::{CardArgs, RunArgs};
use super::exit::invalid;
use super::{Exit, Failure, outln, trace_out};
use crate::apdu::hex;
use crate::reader::driver::ReaderKind;
use crate::reader::guard::Guarded;
use crate::reader::pcsc::{self, CardState, PcscReader, Protocol};
use crate::reader::trace::{Redactor, Traced};
use crate::reader::{Card, Exchange, Reader};
use crate::script::{RunOptions, Script, Settings};
use crate::scriptor;
use crate::sim::{self, Simulator};

/// Every `--var NAME=VALUE`, split.
pub(super) fn parse_vars(texts: &[String]) -> Result<Vec<(String, String)>, Failure> {
    texts.iter().map(|text| parse_var(text)).collect()
}

/// Splits `NAME=VALUE`.
fn parse_var(text: &str) -> Result<(String, String), Failure> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| invalid(anyhow!("--var `{text}`: expected NAME=VALUE")))?;
    if !crate::script::is_identifier(name) {
        return Err(invalid(anyhow!(
            "--var `{text}`: `{name}` is not a valid variable name"
        )));
    }
    // `today` fixes the date of `today()` and `${today}`: only a real date will do.
    if name == "today" {
        crate::clock::Date::parse(value).map_err(|e| invalid(anyhow!("--var `{text}`: {e}")))?;
    }
    Ok((name.to_string(), value.to_string()))
}

/// The `61xx`/`6Cxx` rules `--no-auto-response` asks for (`run` and `batch` both take it).
pub(super) fn rules(no_auto_response: bool) -> Exchange {
    if no_auto_response {
        Exchange::RAW
    } else {
        Exchange::AUTO
    }
}

/// Where the card comes from, validated but not opened yet.
pub(super) enum Source {
    Sim {
        kind: sim::Kind,
        options: sim::Options,
        state: Option<PathBuf>,
    },
    Pcsc {
        pattern: Option<String>,
        protocol: Protocol,
        wait: Option<Duration>,
    },
    Serial {
        chosen: super::serial::Chosen,
        wait: Option<Duration>,
    },
    /// `--sim replay:FILE` / `replay-skip:FILE`: a recorded dump played back.
    Replay {
        dump: sim::replay::Dump,
        mode: sim::replay::Mode,
    },
}

/// The `--sim-reader` model, the default one when not given (`run --sim` and `sim serve`).
pub(super) fn sim_reader(text: Option<&str>) -> Result<sim::ReaderModel, Failure> {
    text.map_or(Ok(sim::ReaderModel::default()), |text| {
        text.parse()
            .map_err(|e: String| invalid(anyhow!("--sim-reader: {e}")))
    })
}

/// The bytes of `--sim-uid`, when given (`run --sim` and `sim serve` both take it).
pub(super) fn sim_uid(text: Option<&str>) -> Result<Option<Vec<u8>>, Failure> {
    text.map(|text| hex::parse(text).map_err(|e| invalid(anyhow!("--sim-uid `{text}`: {e}"))))
        .transpose()
}

/// The `--reader-kind` family, when given.
pub(super) fn reader_kind(args: &CardArgs) -> Result<Option<ReaderKind>, Failure> {
    args.reader_kind
        .as_deref()
        .map(|text| {
            text.parse()
                .map_err(|e: String| invalid(anyhow!("--reader-kind: {e}")))
        })
        .transpose()
}

pub(super) fn source(args: &CardArgs) -> Result<Source, Failure> {
    reader_kind(args)?;
    if let Some((mode, path)) = args.sim.as_deref().and_then(sim::replay::parse_spec) {
        // A dump is read, never changed: a card image or UID would be silently ignored.
        if args.sim_state.is_some() || args.sim_uid.is_some() {
            return Err(invalid(anyhow!(
                "--sim-state and --sim-uid do not apply to a replayed dump (`{}`)",
                path.display()
            )));
        }
        let dump = sim::replay::load(&path).map_err(|e| invalid(anyhow!(e)))?;
        return Ok(Source::Replay { dump, mode });
    }
    if let Some(kind) = &args.sim {
        let kind: sim::Kind = kind.parse().map_err(invalid)?;
        let uid = sim_uid(args.sim_uid.as_deref())?;
        let options = sim::Options {
            uid,
            position: None,
            seed: args.sim_seed,
            reader: sim_reader(args.sim_reader.as_deref())?,
        };
        super::paths::output_opt("--sim-state", args.sim_state.as_deref())?;
        Simulator::check_options(kind, &options).map_err(|e| {
            let text = args.sim_uid.as_deref().unwrap_or_default();
            invalid(anyhow!("--sim-uid `{text}`: {e}"))
        })?;
        return Ok(Source::Sim {
            kind,
            options,
            state: args.sim_state.clone(),
        });
    }
    let protocol: Protocol = args.protocol.parse().map_err(invalid)?;
    if let Some(chosen) = super::serial::choose(args.reader.as_deref(), args.serial.as_deref())? {
        return Ok(Source::Serial {
            chosen,
            wait: args.wait.map(Duration::from_secs),
        });
    }
    Ok(Source::Pcsc {
        pattern: args.reader.clone(),
        protocol,
        wait: args.wait.map(Duration::from_secs),
    })
}

/// A connected card, and the simulator behind it when there is one.
pub(super) struct Connected {
    pub card: Box<dyn Card>,
    pub simulator: Option<(Simulator, Option<PathBuf>)>,
}

pub(super) fn connect(source: Source) -> Result<Connected, Failure> {
    match source {
        Source::Sim {
            kind,
            options,
            state,
        } => {
            let simulator = Simulator::open(kind, &options, state.as_deref()).map_err(invalid)?;
            Ok(Connected {
                card: simulator.card(),
                simulator: Some((simulator, state)),
            })
        }
        Source::Replay { dump, mode } => Ok(Connected {
            card: Box::new(sim::replay::ReplayCard::new(dump, mode)),
            simulator: None,
        }),
        Source::Serial { chosen, wait } => {
            let transport = |e| Failure::new(Exit::Transport, e);
            let mut reader = super::serial::open(&chosen).map_err(transport)?;
            let card = match wait {
                Some(timeout) => reader
                    .as_reader()
                    .next_card(Some(timeout))
                    .map_err(transport)?
                    .ok_or_else(|| {
                        Failure::new(
                            Exit::Transport,
                            anyhow!(
                                "no card inserted in reader `{}` within {}s",
                                chosen.spec,
                                timeout.as_secs()
                            ),
                        )
                    })?,
                None => reader.connect().map_err(transport)?,
            };
            Ok(Connected {
                card,
                simulator: None,
            })
        }
        Source::Pcsc {
            pattern,
            protocol,
            wait,
        } => {
            let transport = |e| Failure::new(Exit::Transport, e);
            let pattern = match pattern {
                Some(pattern) => pattern,
                None => default_reader().map_err(transport)?,
            };
            let mut reader = PcscReader::open(&pattern, protocol).map_err(transport)?;
            let card = match wait {
                Some(timeout) => reader
                    .next_card(Some(timeout))
                    .map_err(transport)?
                    .ok_or_else(|| {
                        Failure::new(
                            Exit::Transport,
                            anyhow!(
                                "no card inserted in reader `{}` within {}s",
                                reader.name(),
                                timeout.as_secs()
                            ),
                        )
                    })?,
                None => reader.connect().map_err(transport)?,
            };
            Ok(Connected {
                card,
                simulator: None,
            })
        }
    }
}

/// Saves the simulated card to its `--sim-state` image, when the run has both. Done after
/// failed runs too: the card changed either way (a blocked PIN stays blocked).
pub(super) fn save_simulator(
    simulator: &Option<(Simulator, Option<PathBuf>)>,
) -> Result<(), Failure> {
    if let Some((simulator, Some(path))) = simulator {
        simulator.save(path).map_err(|e| {
            Failure::new(
                Exit::Failed,
                anyhow!(e).context("cannot save the simulated card"),
            )
        })?;
    }
    Ok(())
}

/// The reader to use when none is named: the first with a card in it, or the only one.
fn default_reader() -> Result<String, crate::reader::Error> {
    let readers = pcsc::list_readers()?;
    if let Some(reader) = readers.iter().find(|r| r.state == CardState::Present) {
        return Ok(reader.index.to_string());
    }
    match readers.as_slice() {
        [] => Err(crate::reader::Error::NoReaders),
        [only] => Ok(only.index.to_string()),
        several => Err(crate::reader::Error::NoCard {
            reader: several
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join("`, `"),
        }),
    }
}

/// A flow to run, compiled or parsed: the kind follows the file extension.
enum Flow {
    /// A Rhai script (`.rhai`, and any other extension).
    Rhai(Script),
    /// A scriptor file (`.apdu`).
    Scriptor(Vec<scriptor::Item>),
}

fn load_flow(file: &Path, vars: &[(String, String)]) -> Result<Flow, Failure> {
    if file.extension().is_some_and(|e| e == "apdu") {
        let text = crate::input::read_text(file, crate::input::Kind::Scriptor).map_err(|e| {
            invalid(anyhow!(
                "{}: cannot read scriptor file: {e}",
                file.display()
            ))
        })?;
        let items =
            scriptor::parse(&text).map_err(|e| invalid(anyhow!("{}:{e}", file.display())))?;
        if let Some((name, _)) = vars.first() {
            return Err(invalid(anyhow!(
                "--var `{name}`: {} is a scriptor file, which uses no variables",
                file.display()
            )));
        }
        return Ok(Flow::Scriptor(items));
    }
    let script = Script::compile(file).map_err(invalid)?;
    strict_names(&script, vars)?;
    Ok(Flow::Rhai(script))
}

/// A script's names checked against its `--var`s before any card: every variable it reads
/// is defined (by the script, `is_def_var`, or a `--var`), and every `--var` is read.
fn strict_names(script: &Script, vars: &[(String, String)]) -> Result<(), Failure> {
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    script.check_names(&names).map_err(invalid)?;
    let reads: Vec<&str> = script.reads().collect();
    if let Some((name, _)) = vars.iter().find(|(n, _)| !reads.contains(&n.as_str())) {
        let list = if reads.is_empty() {
            "none".to_string()
        } else {
            reads.join(", ")
        };
        return Err(invalid(anyhow!(
            "--var `{name}`: {} does not use `{name}` (names it reads: {list})",
            script.file()
        )));
    }
    Ok(())
}

/// `apdu-run check FILE`: a script is compiled, a scriptor file parsed, a profile validated
/// (`profile_run`).
pub fn check(
    file: &Path,
    data: Option<&Path>,
    vars: &[String],
    json: bool,
) -> Result<Exit, Failure> {
    if super::profile_run::is_profile(file) {
        return super::profile_run::check(file, data, vars, json);
    }
    if data.is_some() {
        return Err(invalid(anyhow!("--data applies to YAML profiles only")));
    }
    let vars = parse_vars(vars)?;
    let kind = match load_flow(file, &vars)? {
        Flow::Rhai(_) => "script",
        Flow::Scriptor(_) => "scriptor",
    };
    super::check_out::Checked::new(file, kind).print(json)
}

/// `apdu-run run FILE` (and the shorthand).
pub fn run(args: RunArgs) -> Result<Exit, Failure> {
    super::stdout::configure(args.line_buffered);
    let file = args
        .file
        .clone()
        .ok_or_else(|| invalid(anyhow!("no script given")))?;
    if super::profile_run::is_profile(&file) {
        return super::profile_run::run(&args, &file);
    }
    if args.data.is_some() {
        return Err(invalid(anyhow!(
            "--data and --row apply to YAML profiles only; a script reads its values from --var"
        )));
    }
    let vars = parse_vars(&args.vars)?;
    let source = source(&args.card)?;
    let flow = load_flow(&file, &vars)?;
    if let Some(path) = &args.trace_file {
        crate::input::check_output(path)
            .with_context(|| format!("cannot create trace file `{}`", path.display()))
            .map_err(invalid)?;
    }
    let sink = trace_out::sink(args.trace, args.trace_file.as_deref())
        .with_context(|| {
            format!(
                "cannot create trace file `{}`",
                args.trace_file
                    .as_deref()
                    .unwrap_or(Path::new(""))
                    .display()
            )
        })
        .map_err(invalid)?;

    super::paths::output_opt("--record", args.record.as_deref())?;
    let interrupt = super::interrupt_flag();

    let Connected { card, simulator } = connect(source)?;
    let recorder = match &args.record {
        Some(path) => Some(super::record_out::start(
            path,
            args.show_secrets,
            card.as_ref(),
        )?),
        None => None,
    };
    let sink = super::record_out::fan_out(sink, recorder.as_ref());
    let redactor = Redactor::default();
    let card: Box<dyn Card> = match sink {
        Some(sink) => Box::new(Traced::new(card, sink, redactor.clone(), args.show_secrets)),
        None => card,
    };
    let card = match &recorder {
        Some(recorder) => recorder.gate(card),
        None => card,
    };
    // The guard sits outside the trace: a refused command never reaches the wire, so it is
    // not traced as sent.
    let card: Box<dyn Card> = Box::new(Guarded::new(card, args.arm_irreversible));
    let rules = rules(args.no_auto_response);
    let result = match flow {
        Flow::Rhai(script) => {
            let options = RunOptions {
                settings: Settings {
                    armed: args.arm_irreversible,
                    rules,
                    reader_kind: reader_kind(&args.card)?,
                },
                vars,
                redactor,
                output: Rc::new(|line: &str| outln!("{line}")),
                interrupt,
            };
            script
                .run(card, options)
                .1
                .map_err(|e| Failure::new(Exit::from(e.kind), e))
        }
        Flow::Scriptor(items) => {
            let mut card = card;
            let io = scriptor::Io {
                output: &mut |line| outln!("{line}"),
                stop: &|| interrupt.load(std::sync::atomic::Ordering::Relaxed),
            };
            // scriptor sends exactly the file's lines: no GET RESPONSE, no resend on 6Cxx,
            // unless asked (an explicit GET RESPONSE line would otherwise meet no data).
            let rules = if args.auto_response {
                crate::reader::Exchange::AUTO
            } else {
                crate::reader::Exchange::RAW
            };
            scriptor::run(&items, card.as_mut(), rules, args.show_secrets, io).map_err(|e| {
                let exit = match &e {
                    scriptor::RunError::Expectation { .. } => Exit::Failed,
                    scriptor::RunError::Interrupted { .. } => Exit::Interrupted,
                    scriptor::RunError::Card {
                        source: crate::reader::Error::Refused { .. },
                        ..
                    } => Exit::Refused,
                    scriptor::RunError::Card { .. } => Exit::Transport,
                };
                Failure::new(exit, anyhow!("{}:{e}", file.display()))
            })
        }
    };

    save_simulator(&simulator)?;
    let recorded = super::record_out::finish(recorder.as_ref());
    result?;
    recorded.map(|()| Exit::Ok)
}
