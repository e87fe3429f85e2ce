//! `sim serve`: put simulated cards into pcscd's virtual reader, one line per card event.
//!
//! Validates everything first (kind, UID, address, `--state` and `--sim-uid` only with one
//! card; exit 2), then hands the cards to [`vpcd::serve`] and prints its events to stderr.
//! A single card (no `--count`, or `--count 1`) is the card `--sim KIND` would be: its
//! default UID or `--sim-uid`, loaded from and saved to `--state`. A stream of several cards
//! gets fresh cards with distinct UIDs derived from their position
//! ([`sim::uid_for`]), for the kinds that have one.
//!
//! The card state is saved whenever pcscd powers the card off (no application holds it, so
//! the image is consistent) and once more when the server stops. The hidden `--timing PATH`
//! records when each command arrived ([`sim_timing`](super::sim_timing)), for the benches.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::anyhow;

use super::args::SimServeArgs;
use super::exit::invalid;
use super::run::sim_uid;
use super::sim_timing::Timings;
use super::{Exit, Failure};
use crate::apdu::hex;
use crate::reader::Card;
use crate::sim::vpcd::{self, Event, Finish};
use crate::sim::{self, Simulator};

/// One line on stderr. A closed stderr (`sim serve 2>&1 | head`) stops the server as
/// Ctrl-C does (the card saved) rather than panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        super::errln!($($arg)*);
    }};
}

/// `apdu-run sim serve`.
pub fn serve(args: SimServeArgs) -> Result<Exit, Failure> {
    if let Some((mode, path)) = sim::replay::parse_spec(&args.card) {
        return serve_replay(&args, mode, &path);
    }
    let kind: sim::Kind = args.card.parse().map_err(invalid)?;
    let many = args.count.filter(|&count| count > 1);
    if let Some(count) = many {
        if args.state.is_some() {
            return Err(invalid(anyhow!(
                "--state keeps one card; it cannot be combined with --count {count}"
            )));
        }
        if args.sim_uid.is_some() {
            return Err(invalid(anyhow!(
                "--sim-uid names one card's UID; with --count {count} each card gets its own"
            )));
        }
    }
    let uid = sim_uid(args.sim_uid.as_deref())?;
    let model = args.sim_reader;
    if let Some(serial) = &args.serial {
        super::paths::output_opt("--state", args.state.as_deref())?;
        let options = sim::Options {
            uid,
            position: None,
            seed: args.sim_seed,
            reader: model,
        };
        let simulator = Simulator::open(kind, &options, args.state.as_deref()).map_err(invalid)?;
        let stop = super::interrupt_flag();
        let mouse = sim::serial::MouseOptions {
            echo: args.echo,
            inverse: args.inverse,
        };
        let result = super::serial::serve(serial, &simulator, mouse, &stop);
        if let Some(path) = &args.state {
            simulator.save(path).map_err(|e| {
                Failure::new(
                    Exit::Failed,
                    anyhow!(e).context("cannot save the simulated card"),
                )
            })?;
        }
        return result;
    }
    check_address(&args.vpcd)?;
    super::paths::output_opt("--state", args.state.as_deref())?;
    super::paths::output_opt("--timing", args.timing.as_deref())?;

    let mut cards = if many.is_some() {
        Cards::stream(kind, args.sim_seed, model)
    } else {
        let options = sim::Options {
            uid,
            position: None,
            seed: args.sim_seed,
            reader: model,
        };
        let simulator = Simulator::open(kind, &options, args.state.as_deref()).map_err(invalid)?;
        Cards::single(kind, simulator, args.state.clone())
    };
    if args.timing.is_some() {
        cards.timings = Some(Timings::new());
    }
    cards.dwell_ms = args.dwell_ms;

    let stop = super::interrupt_flag();

    let config = vpcd::Config {
        address: args.vpcd.clone(),
        count: args.count,
        dwell: Duration::from_millis(args.dwell_ms),
        claim_within: vpcd::CLAIM_WITHIN,
        quickack: !args.no_quickack,
    };
    let finish =
        vpcd::serve(&config, &mut cards, &stop).map_err(|e| Failure::new(Exit::Transport, e));
    cards.save();
    // Written whatever ended the serving; a transport failure is still the error reported.
    let timing = match (&cards.timings, &args.timing) {
        (Some(timings), Some(path)) => timings.write(path).map_err(|e| {
            Failure::new(
                Exit::Failed,
                anyhow!("--timing `{}`: cannot write: {e}", path.display()),
            )
        }),
        _ => Ok(()),
    };
    let finish = finish?;
    timing?;
    if let Some(error) = cards.save_error.take() {
        return Err(Failure::new(
            Exit::Failed,
            anyhow!(error).context("cannot save the simulated card"),
        ));
    }
    Ok(match finish {
        Finish::Done => Exit::Ok,
        // Ctrl-C is how a single card's server ends; a stream cut short is interrupted.
        Finish::Stopped if args.count.is_none() => Exit::Ok,
        Finish::Stopped => Exit::Interrupted,
    })
}

/// `sim serve --card replay:FILE.dump` (or `replay-skip:`): the dump played back as a card
/// in vpcd's reader — with `--count N`, N fresh plays of it one after another. The server
/// asks it nothing itself (no UID probe), so a client sees exactly the recorded session.
fn serve_replay(
    args: &SimServeArgs,
    mode: sim::replay::Mode,
    path: &Path,
) -> Result<Exit, Failure> {
    // A dump is read, never changed: options about a simulated chip would be ignored.
    for (given, option) in [
        (args.state.is_some(), "--state"),
        (args.sim_uid.is_some(), "--sim-uid"),
        (args.serial.is_some(), "--serial"),
        (args.timing.is_some(), "--timing"),
    ] {
        if given {
            return Err(invalid(anyhow!(
                "{option} does not apply to a replayed dump (`{}`)",
                path.display()
            )));
        }
    }
    check_address(&args.vpcd)?;
    let dump = sim::replay::load(path).map_err(|e| invalid(anyhow!(e)))?;
    let mut cards = Cards::stream(sim::Kind::Iso7816, None, sim::ReaderModel::default());
    cards.replay = Some((dump, mode));
    cards.dwell_ms = args.dwell_ms;
    let stop = super::interrupt_flag();
    let config = vpcd::Config {
        address: args.vpcd.clone(),
        count: args.count,
        dwell: Duration::from_millis(args.dwell_ms),
        claim_within: vpcd::CLAIM_WITHIN,
        quickack: !args.no_quickack,
    };
    let finish =
        vpcd::serve(&config, &mut cards, &stop).map_err(|e| Failure::new(Exit::Transport, e))?;
    Ok(match finish {
        Finish::Done => Exit::Ok,
        Finish::Stopped if args.count.is_none() => Exit::Ok,
        Finish::Stopped => Exit::Interrupted,
    })
}

/// `--vpcd` must be `HOST:PORT`; the name is resolved when connecting.
fn check_address(address: &str) -> Result<(), Failure> {
    match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(invalid(anyhow!(
            "--vpcd `{address}`: expected HOST:PORT, e.g. {}",
            vpcd::DEFAULT_ADDRESS
        ))),
    }
}

/// The cards to present, and what the command line does with their events.
struct Cards {
    kind: sim::Kind,
    /// The single card, until `card(1)` takes it.
    single: Option<Simulator>,
    /// The card in the reader now, kept for saving.
    current: Option<Simulator>,
    state: Option<PathBuf>,
    save_error: Option<sim::Error>,
    /// With `--timing`: every card's command arrivals.
    timings: Option<Timings>,
    /// `--dwell-ms`, for the line of a card removed unused.
    dwell_ms: u64,
    /// `--sim-seed`, for the cards of a stream.
    seed: Option<u64>,
    /// `--sim-reader`, for the cards of a stream.
    model: sim::ReaderModel,
    /// `--card replay:FILE.dump`: every card is a fresh play of this dump.
    replay: Option<(sim::replay::Dump, sim::replay::Mode)>,
}

impl Cards {
    fn single(kind: sim::Kind, simulator: Simulator, state: Option<PathBuf>) -> Cards {
        Cards {
            kind,
            single: Some(simulator),
            current: None,
            state,
            save_error: None,
            timings: None,
            dwell_ms: 0,
            seed: None,
            model: sim::ReaderModel::default(),
            replay: None,
        }
    }

    fn stream(kind: sim::Kind, seed: Option<u64>, model: sim::ReaderModel) -> Cards {
        Cards {
            kind,
            single: None,
            current: None,
            state: None,
            save_error: None,
            timings: None,
            dwell_ms: 0,
            seed,
            model,
            replay: None,
        }
    }

    /// Saves the current card to `--state`, if given; reports a failure once, keeps the first.
    fn save(&mut self) {
        let (Some(path), Some(simulator)) = (&self.state, &self.current) else {
            return;
        };
        if let Err(error) = simulator.save(path) {
            if self.save_error.is_none() {
                say!("warning: cannot save the simulated card: {error}");
                self.save_error = Some(error);
            }
        }
    }
}

impl vpcd::Handler for Cards {
    fn card(&mut self, position: u32) -> Box<dyn Card> {
        if let Some((dump, mode)) = &self.replay {
            return Box::new(sim::replay::ReplayCard::new(dump.clone(), *mode));
        }
        let simulator = self.single.take().unwrap_or_else(|| {
            // Card 1 is position 0 of the stream, the kind's default card.
            let position = u64::from(position.saturating_sub(1));
            Simulator::new(
                self.kind,
                &sim::Options {
                    reader: self.model,
                    ..sim::Options::in_stream(self.kind, position, self.seed)
                },
            )
        });
        let card = simulator.card();
        self.current = Some(simulator);
        match &self.timings {
            Some(timings) => timings.wrap(card),
            None => card,
        }
    }

    fn uid(&mut self, card: &mut dyn Card) -> Option<Vec<u8>> {
        if self.replay.is_some() {
            None
        } else {
            vpcd::reported_uid(card)
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Inserted { card, uid, atr } => match uid {
                Some(uid) => say!("card {card}: inserted (UID {})", hex::format(uid)),
                None => say!("card {card}: inserted (ATR {})", hex::format(atr)),
            },
            Event::PoweredOff { .. } => self.save(),
            Event::Removed { card, commands: 0 } => {
                say!(
                    "card {card}: removed unused, no command within --dwell-ms {}",
                    self.dwell_ms
                );
                self.save();
            }
            Event::Removed { card, commands } => {
                say!("card {card}: removed after {}", plural(commands, "command"));
                self.save();
            }
            Event::Closed {
                card,
                commands,
                error,
            } => match error {
                Some(error) => say!(
                    "card {card}: connection to vpcd failed after {} ({error}); reconnecting",
                    plural(commands, "command")
                ),
                None => say!(
                    "card {card}: vpcd closed the connection after {}; reconnecting",
                    plural(commands, "command")
                ),
            },
            Event::Dropped { card, error } => {
                say!("card {card}: malformed frame from vpcd ({error}); reconnecting")
            }
            Event::Fault { card, message } => say!("card {card}: {message}"),
        }
    }
}

/// `1 command`, `12 commands`.
fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
