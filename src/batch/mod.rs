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
pub mod identify;
pub mod journal;
pub mod ledger;
pub mod progress;
pub mod record;
pub mod report;
pub mod time;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::profile::{Action, LengthError, Profile, ProfileError, check_lengths};
use crate::reader::trace::Redactor;
use crate::reader::{self, Exchange, Reader};
use crate::secret::{Encoding, Secret, SecretError};

pub use data::{DataError, DataSet};
pub use journal::JournalError;
pub use progress::Tally;
pub use record::Verdict;

use journal::Journal;
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
    /// `--report`.
    pub report: Option<PathBuf>,
    /// `--trace-file DIR`: one masked trace per card (`audit`).
    pub trace_dir: Option<PathBuf>,
    /// `--max-failures` consecutive failed cards stop the batch (0: never).
    pub max_failures: u32,
    /// `--arm-irreversible`.
    pub armed: bool,
    /// How `61xx`/`6Cxx` are followed.
    pub rules: Exchange,
    /// `--reader-feedback`: show each card's verdict on the reader (LED and buzzer where the
    /// reader family has them, `reader/driver.rs`).
    pub feedback: bool,
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
    /// Skipped cards that were not simply done before (wrong kind, no UID, no row left).
    pub rejected: u64,
    /// Why the batch ended.
    pub stop: Stop,
    /// The error that stopped it, for [`Stop::Fatal`].
    pub fatal: Option<Error>,
    /// Cards finished in the journal, this run and earlier ones.
    pub finished: u64,
    /// How long the batch ran.
    pub elapsed: Duration,
    /// The journal.
    pub journal: PathBuf,
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

/// Runs the batch: `profile` is the validated profile (for its hash and secrets), one
/// worker per opener. `interrupt` is set by Ctrl-C.
pub fn run(
    config: &Config,
    profile: &Profile,
    openers: Vec<Opener>,
    interrupt: Arc<AtomicBool>,
) -> Result<Summary, Error> {
    let started = Instant::now();
    let secrets = load_secrets(profile)?;
    // Every row's values, the variables and the secrets' lengths against every APDU, before
    // the journal is touched: a bad length found on a card would use up its row.
    check_lengths(
        profile,
        Some(&secret_lengths(&secrets)),
        &mut data_rows(config.data.as_ref()),
    )?;
    let redactor = Redactor::default();
    for (_, secret) in &secrets {
        redactor.add(secret.expose());
    }
    let header = Header {
        version: record::VERSION,
        profile: profile.name.clone(),
        file: config.profile.display().to_string(),
        hash: profile.hash(),
        data: config.data.as_ref().map(|d| d.path.display().to_string()),
        data_hash: config.data.as_ref().map(|d| d.hash.clone()),
        time: time::now(),
    };
    let rows = config.data.as_ref().map(DataSet::len);
    let opened = Journal::open(&config.journal, &header, rows)?;
    let report = match &config.report {
        Some(path) => Some(Mutex::new(Report::open(path).map_err(|source| {
            Error::Report {
                path: path.clone(),
                source,
            }
        })?)),
        None => None,
    };
    let finished = opened.ledger.finished();
    let total = match (config.count, rows) {
        (Some(count), _) => Some(count.saturating_sub(finished)),
        (None, Some(rows)) => Some(rows.saturating_sub(finished)),
        (None, None) => None,
    };
    let progress = Arc::new(Progress::new(total, interrupt.clone()));
    if let Some(repair) = opened.repaired.as_ref().filter(|r| r.kept) {
        progress.note(&format!(
            "journal `{}`: line {} is a complete record that lacked its newline (the last run stopped between the two); kept it, added the newline and went on",
            config.journal.display(),
            repair.line
        ));
    } else if let Some(repair) = &opened.repaired {
        progress.note(&format!(
            "journal `{}`: line {} was cut off ({} bytes, the last run stopped while writing it); removed it and went on",
            config.journal.display(),
            repair.line,
            repair.bytes
        ));
    }
    if !opened.created {
        progress.note(&format!(
            "journal `{}`: resuming, {} card(s) finished before, {} left open",
            config.journal.display(),
            finished,
            opened.ledger.open()
        ));
    }
    let shared = worker::Shared {
        config,
        expected_hash: profile.hash(),
        book: Mutex::new(worker::Book {
            journal: opened.journal,
            ledger: opened.ledger,
            consecutive_failures: 0,
        }),
        report,
        progress: progress.clone(),
        secrets,
        redactor,
        interrupt,
        stop: AtomicBool::new(false),
        outcome: Mutex::new(worker::Ending::default()),
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
    let ending = shared
        .outcome
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let book = shared
        .book
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let stop = if shared.stop.load(Ordering::Relaxed) || ending.fatal.is_some() {
        ending.stop.unwrap_or(Stop::Fatal)
    } else if book.ledger.exhausted(rows, config.count) == Some(ledger::Full::Count) {
        Stop::Count
    } else {
        ending.stop.unwrap_or(Stop::StreamEnd)
    };
    Ok(Summary {
        tally: progress.tally(),
        rejected: ending.rejected,
        stop,
        fatal: ending.fatal,
        finished: book.ledger.finished(),
        elapsed: started.elapsed(),
        journal: config.journal.clone(),
    })
}

#[cfg(test)]
mod tests;
