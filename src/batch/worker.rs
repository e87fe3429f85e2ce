//! One reader's loop: wait for a card, identify it, journal `begin`, run, journal `end`,
//! wait for its removal; until the batch has to end.
//!
//! Workers share the journal and the ledger behind one lock ([`Book`]): deciding what a
//! card gets and writing its `begin` happen under that lock, so two readers never take the
//! same row, and the row a card runs with is on disk before its first APDU. The profile
//! runs outside the lock. Each worker loads its own copy of the profile, because compiled
//! scripts cannot cross threads, and checks that it is the profile the journal belongs to.
//!
//! Waits poll in short slices so Ctrl-C and the other workers' stop are seen quickly.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::identify::{check_kind, read_uid};
use super::journal::Journal;
use super::ledger::{Decision, Full, Ledger};
use super::progress::Progress;
use super::record::{Begin, End, Record, Verdict};
use super::report::{CardReport, Report, StepReport};
use super::{Config, Error, Opener, Stop, time};
use crate::apdu::hex;
use crate::profile::{self, Environment, FailureKind, Inputs, OnError, Outcome, Profile};
use crate::reader::guard::Guarded;
use crate::reader::trace::Redactor;
use crate::reader::{Card, Error as ReaderError, Reader};
use crate::script::Settings;
use crate::secret::Secret;

/// How long one wait for a card event lasts before the stop flags are looked at again.
const POLL: Duration = Duration::from_millis(100);

/// The journal and what it says, behind one lock.
pub(super) struct Book {
    pub journal: Journal,
    pub ledger: Ledger,
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
    pub book: Mutex<Book>,
    pub report: Option<Mutex<Report>>,
    pub progress: Arc<Progress>,
    pub secrets: Vec<(String, Secret)>,
    pub redactor: Redactor,
    pub interrupt: Arc<AtomicBool>,
    /// Set when every worker must stop (Ctrl-C, too many failures, a fatal error).
    pub stop: AtomicBool,
    pub outcome: Mutex<Ending>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared<'_> {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.interrupt.load(Ordering::Relaxed)
    }

    /// Ends this worker for `stop`; a reason that concerns every worker stops them all.
    fn end(&self, stop: Stop, fatal: Option<Error>) {
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

    fn rows(&self) -> Option<u64> {
        self.config.data.as_ref().map(|d| d.len())
    }

    fn report(&self, card: &CardReport, benign: bool) {
        if card.verdict == Verdict::Skipped && !benign {
            lock(&self.outcome).rejected += 1;
        }
        self.progress.card(card);
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
        },
        redactor: shared.redactor.clone(),
        output: Rc::new(move |line: &str| progress.output(line)),
        interrupt: shared.interrupt.clone(),
    };
    loop {
        if shared.interrupt.load(Ordering::Relaxed) {
            shared.end(Stop::Interrupted, None);
            return Ok(());
        }
        if shared.stopping() {
            return Ok(());
        }
        let exhausted = lock(&shared.book)
            .ledger
            .exhausted(shared.rows(), config.count);
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
        let next = one_card(shared, &profile, &env, reader.as_mut(), card)?;
        if let Some(stop) = next {
            shared.end(stop, None);
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

fn stop_for(full: Full) -> Stop {
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

/// A card as far as it has been identified.
struct Presented {
    reader: String,
    atr: Vec<u8>,
    uid: Option<Vec<u8>>,
    identity: Option<String>,
}

impl Presented {
    fn report(&self, verdict: Verdict, message: Option<String>) -> CardReport {
        CardReport {
            time: time::now(),
            reader: self.reader.clone(),
            uid: self.uid.as_deref().map(hex::format_compact),
            identity: self.identity.clone(),
            atr: hex::format_compact(&self.atr),
            seq: None,
            row: None,
            verdict,
            resumed: false,
            step: None,
            sw: None,
            message,
            steps: Vec::new(),
            micros: 0,
        }
    }
}

/// Handles one presented card; returns why the worker must stop, if it must.
fn one_card(
    shared: &Shared<'_>,
    profile: &Profile,
    env: &Environment,
    reader: &mut dyn Reader,
    card: Box<dyn Card>,
) -> Result<Option<Stop>, Error> {
    let config = shared.config;
    let mut presented = Presented {
        reader: reader.name().to_string(),
        atr: card.atr().to_vec(),
        uid: None,
        // A simulated card's name costs no command, so even a rejected card shows it.
        identity: reader.card_identity(),
    };
    // Every command of the batch, identification included, goes through the guard.
    let guarded = Guarded::new(card, config.armed).only(profile.guard_operations());
    let mut card: Box<dyn Card> = Box::new(guarded);
    if let Err(why) = check_kind(profile.card, &presented.atr) {
        shared.report(&presented.report(Verdict::Skipped, Some(why)), false);
        return Ok(None);
    }
    match read_uid(card.as_mut()) {
        Ok(uid) => presented.uid = uid,
        Err(e) => {
            let message = format!("could not read the UID: {e}");
            shared.report(&presented.report(Verdict::Skipped, Some(message)), false);
            return Ok(None);
        }
    }
    if let Some(uid) = &presented.uid {
        presented.identity = Some(hex::format_compact(uid));
    }
    let Some(identity) = presented.identity.clone() else {
        let message = "the card has no UID (GET DATA `FF CA` gave none), and a batch tells cards apart by UID: without one it cannot make sure the card is not issued twice".to_string();
        shared.report(&presented.report(Verdict::Skipped, Some(message)), false);
        return Ok(None);
    };
    shared.progress.working(&presented.reader, &identity);

    // Decide and journal `begin` under one lock: no other reader can take the same row.
    let (begin, resumed) = {
        let mut book = lock(&shared.book);
        let (seq, row, resumed) = match book.ledger.decide(&identity) {
            Decision::Skip(why) => {
                drop(book);
                let benign = why.starts_with("already issued ok");
                shared.report(&presented.report(Verdict::Skipped, Some(why)), benign);
                return Ok(None);
            }
            Decision::Resume { seq, row } => (seq, row, true),
            Decision::New => match book.ledger.allocate(shared.rows(), config.count) {
                Ok((seq, row)) => (seq, row, false),
                Err(full) => {
                    let exhausted = book.ledger.exhausted(shared.rows(), config.count).is_some();
                    drop(book);
                    if exhausted || full == Full::Count {
                        return Ok(Some(stop_for(full)));
                    }
                    let message = "no data row is left for a new card (interrupted cards can still be finished)".to_string();
                    shared.report(&presented.report(Verdict::Skipped, Some(message)), false);
                    return Ok(None);
                }
            },
        };
        let begin = Begin {
            time: time::now(),
            seq,
            row,
            uid: presented.uid.as_deref().map(hex::format_compact),
            identity: identity.clone(),
            reader: presented.reader.clone(),
            atr: hex::format_compact(&presented.atr),
        };
        book.journal.append(&Record::Begin(begin.clone()))?;
        book.ledger
            .begin(&begin)
            .map_err(|e| journal_bug(&book.journal, e.0))?;
        book.ledger.set_in_flight(&identity, true);
        (begin, resumed)
    };

    let data = match (&config.data, begin.row) {
        (Some(data), Some(row)) => data.row(row),
        _ => Vec::new(),
    };
    let inputs = Inputs {
        data: &data,
        secrets: &shared.secrets,
        uid: presented.uid.clone(),
        atr: presented.atr.clone(),
        row: begin.row,
        seq: begin.seq,
    };
    let (_card, outcome) = profile::run(profile, card, &inputs, env);
    let end = end_record(&begin, &outcome);
    let verdict = end.verdict;
    let stop = {
        let mut book = lock(&shared.book);
        book.journal.append(&Record::End(end.clone()))?;
        book.ledger
            .end(&end)
            .map_err(|e| journal_bug(&book.journal, e.0))?;
        book.ledger.set_in_flight(&identity, false);
        match verdict {
            Verdict::Ok => book.consecutive_failures = 0,
            Verdict::Failed => book.consecutive_failures += 1,
            Verdict::Interrupted | Verdict::Skipped => {}
        }
        let failures = book.consecutive_failures;
        if verdict == Verdict::Failed && profile.on_error == OnError::Abort {
            Some(Stop::Abort)
        } else if config.max_failures > 0 && failures >= config.max_failures {
            Some(Stop::MaxFailures(failures))
        } else if outcome
            .failure
            .as_ref()
            .is_some_and(|f| f.kind == FailureKind::Interrupted)
        {
            Some(Stop::Interrupted)
        } else {
            None
        }
    };
    let mut report = presented.report(verdict, end.message.clone());
    report.seq = Some(begin.seq);
    report.row = begin.row;
    report.resumed = resumed;
    report.step = end.step;
    report.sw = end.sw;
    report.micros = outcome.micros;
    report.steps = outcome
        .steps
        .iter()
        .map(|s| StepReport {
            name: s.name.clone(),
            sw: s.sw.map(|sw| sw.to_string()),
            micros: s.micros,
        })
        .collect();
    shared.report(&report, true);
    Ok(stop)
}

fn end_record(begin: &Begin, outcome: &Outcome) -> End {
    let failure = outcome.failure.as_ref();
    let verdict = match failure.map(|f| f.kind) {
        None => Verdict::Ok,
        Some(FailureKind::Failed | FailureKind::Refused) => Verdict::Failed,
        // A card pulled mid-run keeps its row and is resumed when presented again.
        Some(FailureKind::Transport | FailureKind::Interrupted) => Verdict::Interrupted,
    };
    End {
        time: time::now(),
        seq: begin.seq,
        row: begin.row,
        uid: begin.uid.clone(),
        identity: begin.identity.clone(),
        reader: begin.reader.clone(),
        verdict,
        step: failure.map(|f| f.step.clone()),
        sw: failure.and_then(|f| f.sw).map(|sw| sw.to_string()),
        message: failure.map(ToString::to_string),
        micros: outcome.micros,
    }
}

fn journal_bug(journal: &Journal, message: String) -> Error {
    Error::Journal(super::JournalError::Corrupt {
        path: journal.path().to_path_buf(),
        line: 0,
        message: format!("internal inconsistency: {message}"),
    })
}
