//! One reader's loop: wait for a card, identify it, journal `begin`, run, journal `end`,
//! wait for its removal; until the batch has to end.
//!
//! Workers share the ledger (`store.rs`) behind one lock ([`Book`]): deciding what a card
//! gets and writing its `begin` happen under that lock, so two readers never take the same
//! row, and the row a card runs with is recorded before its first APDU. The profile
//! runs outside the lock, and so do the waits that make records durable: with the
//! journal, readers whose records were written meanwhile share one sync (group commit). Each worker loads its own copy of the profile, because compiled
//! scripts cannot cross threads, and checks that it is the profile the journal belongs to.
//!
//! Waits poll in short slices so Ctrl-C and the other workers' stop are seen quickly. What
//! happens to one presented card is `card.rs`.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::ledger::Full;
use super::progress::Progress;
use super::record::Verdict;
use super::report::{CardReport, Report};
use super::store::Store;
use super::{Config, Error, Opener, Stop};
use crate::profile::{self, Environment};
use crate::reader::Error as ReaderError;
use crate::reader::trace::Redactor;
use crate::script::Settings;
use crate::secret::Secret;

/// Each worker's stack. A script's values may nest about a thousand levels deep within one
/// expression (`script::limits`), and printing or dropping them recurses; the default
/// 2 MiB of a spawned thread is not enough for that in a debug build. Only the pages used
/// are ever committed.
const STACK: usize = 64 * 1024 * 1024;

/// Starts the worker of reader `index` (from 0) on its own thread; a system that cannot
/// start one more thread is an error for the batch to report, not a panic.
pub(super) fn spawn<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    index: usize,
    work: impl FnOnce() + Send + 'scope,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("reader {}", index + 1))
        .stack_size(STACK)
        .spawn_scoped(scope, work)
        .map(|_| ())
}

/// How long one wait for a card event lasts before the stop flags are looked at again.
const POLL: Duration = Duration::from_millis(100);

/// The ledger, behind one lock.
pub(super) struct Book<'a> {
    pub store: Box<dyn Store + 'a>,
    /// Failed cards in a row, in this run.
    pub consecutive_failures: u32,
}

/// Why the workers ended, gathered from all of them.
#[derive(Default)]
pub(super) struct Ending {
    pub stop: Option<Stop>,
    pub fatal: Option<Error>,
    /// Skipped cards other than those done before.
    pub rejected: u64,
}

/// What every worker shares.
pub(super) struct Shared<'a> {
    pub config: &'a Config,
    pub expected_hash: String,
    pub book: Mutex<Book<'a>>,
    pub report: Option<Mutex<Report>>,
    pub progress: Arc<Progress>,
    pub secrets: Vec<(String, Secret)>,
    pub redactor: Redactor,
    pub interrupt: Arc<AtomicBool>,
    /// Set when every worker must stop (Ctrl-C, too many failures, a fatal error).
    pub stop: AtomicBool,
    pub outcome: Mutex<Ending>,
    /// Whether the cards done before were summed up in one line at the start.
    pub summarised: bool,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared<'_> {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.interrupt.load(Ordering::Relaxed)
    }

    /// Ends this worker for `stop`; a reason that concerns every worker stops them all.
    pub(super) fn end(&self, stop: Stop, fatal: Option<Error>) {
        let everyone = !matches!(stop, Stop::Count | Stop::DataEnd | Stop::StreamEnd);
        let mut ending = lock(&self.outcome);
        let replace = match ending.stop {
            None => true,
            Some(Stop::Count | Stop::DataEnd | Stop::StreamEnd) => everyone,
            Some(_) => false,
        };
        if replace {
            ending.stop = Some(stop);
        }
        if fatal.is_some() && ending.fatal.is_none() {
            ending.fatal = fatal;
        }
        if everyone {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    pub(super) fn report(&self, card: &CardReport, benign: bool) {
        if card.verdict == Verdict::Skipped && !benign {
            lock(&self.outcome).rejected += 1;
        }
        self.progress.card(card);
        self.write_report(card);
    }

    /// Like [`Shared::report`] for a card the journal says is done (issued, or failed
    /// before): counted and reported, but no line of its own, since the batch said at its
    /// start how many cards are done.
    pub(super) fn done_before(&self, card: &CardReport, benign: bool) {
        if !self.summarised {
            self.report(card, benign);
            return;
        }
        if card.verdict == Verdict::Skipped && !benign {
            lock(&self.outcome).rejected += 1;
        }
        self.progress.count(card);
        self.write_report(card);
    }

    fn write_report(&self, card: &CardReport) {
        if let Some(report) = &self.report {
            if let Err(e) = lock(report).write(card) {
                self.progress
                    .note(&format!("warning: cannot write the report: {e}"));
            }
        }
    }
}

/// The per-reader loop.
pub(super) fn work(shared: &Shared<'_>, opener: Opener) {
    if let Err(e) = work_inner(shared, opener) {
        shared.end(Stop::Fatal, Some(e));
    }
}

fn work_inner(shared: &Shared<'_>, opener: Opener) -> Result<(), Error> {
    let config = shared.config;
    let profile = profile::load(&config.profile, &config.vars, &columns(config))?;
    if profile.hash() != shared.expected_hash {
        return Err(Error::ProfileChanged {
            path: config.profile.clone(),
        });
    }
    let mut reader = opener()?;
    let progress = shared.progress.clone();
    let env = Environment {
        settings: Settings {
            armed: config.armed,
            rules: config.rules,
            reader_kind: config.reader_kind,
        },
        redactor: shared.redactor.clone(),
        output: Rc::new(move |line: &str| progress.output(line)),
        interrupt: shared.interrupt.clone(),
        derivations: profile::Derivations::load(&profile)?,
    };
    loop {
        if shared.interrupt.load(Ordering::Relaxed) {
            shared.end(Stop::Interrupted, None);
            return Ok(());
        }
        if shared.stopping() {
            return Ok(());
        }
        let exhausted = lock(&shared.book).store.exhausted(config.count)?;
        if let Some(full) = exhausted {
            shared.end(stop_for(full), None);
            return Ok(());
        }
        shared.progress.waiting(reader.name());
        let card = match reader.next_card(Some(POLL))? {
            Some(card) => card,
            None if reader.is_finite() => {
                shared.end(Stop::StreamEnd, None);
                return Ok(());
            }
            None => continue,
        };
        let next = super::card::one_card(shared, &profile, &env, reader.as_mut(), card)?;
        if let Some(stop) = next {
            shared.end(stop, None);
            return Ok(());
        }
        // A batch that is done does not wait for its last card to be taken out (a serial
        // reader's card, or one left in a PC/SC reader, may never be).
        let exhausted = lock(&shared.book).store.exhausted(config.count)?;
        if let Some(full) = exhausted {
            shared.end(stop_for(full), None);
            return Ok(());
        }
        // Removal is awaited even after Ctrl-C was pressed, unless it was pressed now.
        loop {
            if shared.stopping() {
                break;
            }
            match reader.wait_removed(Some(POLL)) {
                Ok(()) => break,
                Err(ReaderError::Timeout { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

pub(super) fn stop_for(full: Full) -> Stop {
    match full {
        Full::Count => Stop::Count,
        Full::Data => Stop::DataEnd,
    }
}

fn columns(config: &Config) -> Vec<String> {
    config
        .data
        .as_ref()
        .map(|d| d.columns.clone())
        .unwrap_or_default()
}
