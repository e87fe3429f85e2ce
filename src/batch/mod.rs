//! The production batch: card after card, on one or several readers, each card with its
//! own data row, recorded so that a crash never issues a card twice or reuses a row.
//!
//! [`run`] loads the profile's secrets once, opens (or replays) the journal, then starts one
//! worker per reader (`worker`). Per card: wait for it, check its kind, read its UID, find
//! it in the ledger (skip a card done before, resume an interrupted one with its row, give
//! a new one the next row), journal `begin`, run the steps, journal `end`, wait for its
//! removal. The batch ends at `--count` finished cards, at the end of the data, at
//! `--max-failures` consecutive failures, at the first failure with `on-error: abort`, at
//! the first refused irreversible operation, when every simulated stream is done, or on
//! Ctrl-C.
//!
//! Files: `data` (the CSV), `record` (journal lines), `ledger` (what the journal says),
//! `journal` (the file), `identify` (kind and UID), `worker` (the per-reader loop),
//! `card` (one presented card),
//! `report` (`--report`), `progress` (the only printing here), `time` (timestamps).
//! Validating the profile and choosing readers is the command line's job.

pub mod audit;
mod card;
pub mod data;
pub mod file_store;
pub mod identify;
pub mod index;
pub mod journal;
pub mod ledger;
pub mod postgres;
pub mod progress;
pub mod record;
pub mod report;
pub mod store;
pub mod time;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::profile::{Action, CardKind, LengthError, Profile, ProfileError, check_lengths};
use crate::reader::trace::Redactor;
use crate::reader::{self, Exchange, Reader};
use crate::secret::{Encoding, Secret, SecretError};

pub use data::{DataError, DataSet};
pub use journal::JournalError;
pub use progress::Tally;
pub use record::Verdict;
pub use store::Store;

use file_store::FileStore;
use progress::Progress;
use record::Header;
use report::Report;

/// Opens one reader, on the worker's own thread (PC/SC handles stay on their thread).
pub type Opener = Box<dyn FnOnce() -> Result<Box<dyn Reader>, reader::Error> + Send>;

/// Everything a batch is asked to do, validated.
pub struct Config {
    /// The profile file (each worker loads its own copy: compiled scripts are not `Send`).
    pub profile: PathBuf,
    /// `--var` values.
    pub vars: Vec<(String, String)>,
    /// `--data`.
    pub data: Option<DataSet>,
    /// `--count`: finished cards the journal should hold at the end.
    pub count: Option<u64>,
    /// `--journal`.
    pub journal: PathBuf,
    /// `--profile-changed` and `--new-lot`: what the journal may go on with.
    pub allow: journal::Continue,
    /// `--report`.
    pub report: Option<PathBuf>,
    /// `--trace-file DIR`: one masked trace per card (`audit`).
    pub trace_dir: Option<PathBuf>,
    /// `--record DIR`: one apdu4j dump per card, named as the trace (`audit.rs`).
    pub record_dir: Option<PathBuf>,
    /// `--max-failures` consecutive failed cards stop the batch (0: never).
    pub max_failures: u32,
    /// `--arm-irreversible`.
    pub armed: bool,
    /// How `61xx`/`6Cxx` are followed.
    pub rules: Exchange,
    /// `--reader-feedback`: show each card's verdict on the reader (LED and buzzer where the
    /// reader family has them, `reader/driver.rs`).
    pub feedback: bool,
    /// `--reader-kind`: the reader family's dialect, instead of detecting it per reader.
    pub reader_kind: Option<crate::reader::driver::ReaderKind>,
}

/// Why a batch cannot start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A secret of the profile cannot be loaded.
    #[error("secret `{name}`: {source}")]
    Secret {
        /// The profile's name for it.
        name: String,
        /// Why.
        source: SecretError,
    },
    /// The master key of a `diversify:` secret cannot be loaded.
    #[error(transparent)]
    Master(#[from] crate::profile::MasterError),
    /// The journal cannot be used.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The PostgreSQL ledger cannot be used, or was lost.
    #[error(transparent)]
    Ledger(#[from] postgres::DbError),
    /// The report file cannot be written.
    #[error("report `{}`: {source}", path.display())]
    Report {
        /// The report file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A worker could not load the profile (it changed under the batch).
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The profile file changed after the batch started.
    #[error("profile `{}` changed while the batch was starting", path.display())]
    ProfileChanged {
        /// The profile file.
        path: PathBuf,
    },
    /// A reader failed (not found, gone, pcscd down).
    #[error(transparent)]
    Reader(#[from] reader::Error),
    /// A data value, variable or secret has a length its APDU cannot carry.
    #[error(transparent)]
    Lengths(#[from] LengthError),
    /// The profile is for cards that have no UID and says no other way to tell them apart.
    #[error(
        "{}: `card: {card}` cards have no UID, so the batch cannot tell them apart to make sure none is issued twice; add `identify:` with a command whose answer is unique per card, e.g. `identify: {{ apdu: 80 CA 9F 7F 00, bytes: 3-20 }}` (GET DATA CPLC: IC fabricator and type through IC serial number and batch) — README: identify",
        path.display()
    )]
    NoIdentity {
        /// The profile file.
        path: PathBuf,
        /// Its `card:` kind.
        card: CardKind,
    },
    /// The thread for a reader's worker could not be started (a thread or memory limit).
    #[error("cannot start the worker thread of reader {reader}: {source}")]
    Thread {
        /// Which reader, from 1.
        reader: usize,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Why the batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The journal holds `--count` finished cards.
    Count,
    /// Every data row is used.
    DataEnd,
    /// Every simulated stream presented its cards.
    StreamEnd,
    /// This many consecutive cards failed.
    MaxFailures(u32),
    /// A card failed and the profile says `on-error: abort`.
    Abort,
    /// Ctrl-C.
    Interrupted,
    /// A card was pulled out (or its reader or pcscd failed) in the middle of its steps;
    /// the text says what the reader reported.
    CardLost(String),
    /// The guard refused an irreversible operation (the run is not armed, or the profile
    /// does not allow that kind): every card would stop there, so the batch does.
    Refused,
    /// A reader or the journal failed (see [`Summary::fatal`]).
    Fatal,
}

/// How a batch went.
#[derive(Debug)]
pub struct Summary {
    /// Cards by verdict, in this run.
    pub tally: Tally,
    /// Skipped cards that were not simply done before (wrong kind, failed before, no row
    /// left).
    pub rejected: u64,
    /// Why the batch ended.
    pub stop: Stop,
    /// The error that stopped it, for [`Stop::Fatal`].
    pub fatal: Option<Error>,
    /// Cards finished in the ledger, this run and earlier ones.
    pub finished: u64,
    /// How long the batch ran.
    pub elapsed: Duration,
    /// The ledger, in words (`journal `PATH``, a lot in a database).
    pub ledger: String,
}

impl Summary {
    /// Whether every card presented was issued (or had been issued before).
    pub fn all_ok(&self) -> bool {
        let t = self.tally;
        t.failed == 0 && t.interrupted == 0 && self.rejected == 0 && self.fatal.is_none()
    }
}

/// Loads the profile's secrets, as hex, before the first card.
pub fn load_secrets(profile: &Profile) -> Result<Vec<(String, Secret)>, Error> {
    profile
        .secrets
        .iter()
        .map(|(name, source)| {
            source
                .load(Encoding::Hex)
                .map(|secret| (name.clone(), secret))
                .map_err(|source| Error::Secret {
                    name: name.clone(),
                    source,
                })
        })
        .collect()
}

/// The secrets' lengths, for [`check_lengths`] (their bytes stay where they are).
pub fn secret_lengths(secrets: &[(String, Secret)]) -> Vec<(String, usize)> {
    secrets
        .iter()
        .map(|(name, secret)| (name.clone(), secret.expose().len()))
        .collect()
}

/// Every data row with its 1-based number, for [`check_lengths`] (none without data).
pub fn data_rows(data: Option<&DataSet>) -> impl Iterator<Item = (u64, Vec<(String, String)>)> {
    let rows = data.map_or(0, DataSet::len);
    (1..=rows).map(move |row| (row, data.map(|d| d.row(row)).unwrap_or_default()))
}

/// The data columns a profile sends in APDUs (their values must be hex).
pub fn apdu_columns<'a>(profile: &'a Profile, data: &'a DataSet) -> Vec<&'a str> {
    let mut used: Vec<&str> = Vec::new();
    for step in &profile.steps {
        if let Action::Apdu(template) = &step.action {
            for (name, _) in template.placeholders() {
                if data.columns.iter().any(|c| c == name) && !used.contains(&name) {
                    used.push(name);
                }
            }
        }
    }
    used
}

/// Checks that cards can be told apart, then every data row, variable and secret length
/// against every APDU, and loads the secrets, before any ledger or card is touched: a bad
/// length found on a card would use up its row.
fn prepare(config: &Config, profile: &Profile) -> Result<Vec<(String, Secret)>, Error> {
    check_identity(config, profile)?;
    let secrets = load_secrets(profile)?;
    check_lengths(
        profile,
        Some(&secret_lengths(&secrets)),
        &mut data_rows(config.data.as_ref()),
    )?;
    Ok(secrets)
}

/// The journal header for `config` and `profile`.
pub fn header(config: &Config, profile: &Profile) -> Header {
    Header {
        version: record::VERSION,
        profile: profile.name.clone(),
        file: config.profile.display().to_string(),
        hash: profile.hash(),
        data: config.data.as_ref().map(|d| d.path.display().to_string()),
        data_hash: config.data.as_ref().map(|d| d.hash.clone()),
        time: time::now(),
    }
}

/// Runs the batch on the journal file `config.journal`: `profile` is the validated profile
/// (for its hash and secrets), one worker per opener. `interrupt` is set by Ctrl-C.
pub fn run(
    config: &Config,
    profile: &Profile,
    openers: Vec<Opener>,
    interrupt: Arc<AtomicBool>,
) -> Result<Summary, Error> {
    let secrets = prepare(config, profile)?;
    let store = FileStore::open(
        &config.journal,
        &header(config, profile),
        config.data.as_ref(),
        config.allow,
    )?;
    run_on(
        config,
        profile,
        Box::new(store),
        secrets,
        openers,
        interrupt,
    )
}

/// Runs the batch on any ledger back end (`store`), which the caller opened for this
/// profile; otherwise as [`run`].
pub fn run_with<'a>(
    config: &'a Config,
    profile: &Profile,
    store: Box<dyn Store + 'a>,
    openers: Vec<Opener>,
    interrupt: Arc<AtomicBool>,
) -> Result<Summary, Error> {
    let secrets = prepare(config, profile)?;
    run_on(config, profile, store, secrets, openers, interrupt)
}

fn run_on<'a>(
    config: &'a Config,
    profile: &Profile,
    mut store: Box<dyn Store + 'a>,
    secrets: Vec<(String, Secret)>,
    openers: Vec<Opener>,
    interrupt: Arc<AtomicBool>,
) -> Result<Summary, Error> {
    let started = Instant::now();
    let redactor = Redactor::default();
    for (_, secret) in &secrets {
        redactor.add(secret.expose());
    }
    let report = match &config.report {
        Some(path) => Some(Mutex::new(Report::open(path).map_err(|source| {
            Error::Report {
                path: path.clone(),
                source,
            }
        })?)),
        None => None,
    };
    let finished = store.finished()?;
    let rows = config.data.as_ref().map(DataSet::len);
    let total = match (config.count, rows) {
        (Some(count), _) => Some(count.saturating_sub(finished)),
        (None, Some(rows)) => Some(rows.saturating_sub(finished)),
        (None, None) => None,
    };
    let progress = Arc::new(Progress::new(total, interrupt.clone()));
    for note in store.notes() {
        progress.note(&note);
    }
    // One line for every card done before: presented again, such a card is counted, not
    // printed (`Shared::done_before`). A ledger that sums up nothing (a fresh journal, a
    // lot shared by stations) gets a line per such card, saying where it was done.
    let summarised = store.resuming();
    if let Some(line) = &summarised {
        progress.line(line);
    }
    let ledger = store.describe();
    let shared = worker::Shared {
        config,
        expected_hash: profile.hash(),
        book: Mutex::new(worker::Book {
            store,
            consecutive_failures: 0,
        }),
        report,
        progress: progress.clone(),
        secrets,
        redactor,
        interrupt,
        stop: AtomicBool::new(false),
        outcome: Mutex::new(worker::Ending::default()),
        summarised: summarised.is_some(),
    };
    std::thread::scope(|scope| {
        for (i, opener) in openers.into_iter().enumerate() {
            let shared = &shared;
            if let Err(source) = worker::spawn(scope, i, move || worker::work(shared, opener)) {
                // The workers already started see the stop and end after their card.
                shared.end(
                    Stop::Fatal,
                    Some(Error::Thread {
                        reader: i + 1,
                        source,
                    }),
                );
                break;
            }
        }
    });
    progress.finish();
    let mut ending = shared
        .outcome
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut book = shared
        .book
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let stop = if shared.stop.load(Ordering::Relaxed) || ending.fatal.is_some() {
        ending.stop.take().unwrap_or(Stop::Fatal)
    } else if matches!(
        book.store.exhausted(config.count),
        Ok(Some(ledger::Full::Count))
    ) {
        Stop::Count
    } else {
        ending.stop.take().unwrap_or(Stop::StreamEnd)
    };
    // A ledger that cannot be asked any more (a lost database) counts what this run saw.
    let finished = book.store.finished().unwrap_or(finished);
    Ok(Summary {
        tally: progress.tally(),
        rejected: ending.rejected,
        stop,
        fatal: ending.fatal,
        finished,
        elapsed: started.elapsed(),
        ledger,
    })
}

/// Refuses a profile whose cards can have no identity: contact cards (`card: iso7816`) have
/// no UID, so without `identify:` every one of them would fail identification.
pub fn check_identity(config: &Config, profile: &Profile) -> Result<(), Error> {
    if profile.card.is_contact() && profile.identify.is_none() {
        return Err(Error::NoIdentity {
            path: config.profile.clone(),
            card: profile.card,
        });
    }
    Ok(())
}

/// `resuming: 12 cards already in the journal (10 ok, 2 failed), 1 left open to finish
/// with its row; journal `x.jsonl``.
pub(crate) fn resuming_line(
    journal: &std::path::Path,
    finished: u64,
    ok: u64,
    failed: u64,
    open: usize,
) -> String {
    let cards = if finished == 1 { "card" } else { "cards" };
    let open = match open {
        0 => String::new(),
        1 => ", 1 left open to finish with its row".to_string(),
        n => format!(", {n} left open to finish with their rows"),
    };
    format!(
        "resuming: {finished} {cards} already in the journal ({ok} ok, {failed} failed){open}; journal `{}`",
        journal.display()
    )
}

#[cfg(test)]
mod tests;
