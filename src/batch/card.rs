//! One presented card: check its kind, read its UID, ask the ledger (skip, resume, new row),
//! record `begin`, run the profile, record `end`, report.
//!
//! Nothing is written to a card before its `begin` is recorded; a card of the wrong kind gets
//! no command, and a card without an identity no command beyond the one that identifies it
//! (`identify:`, or GET DATA `FF CA`) and no row: it is a failed card (it counts for
//! `--max-failures`), never a silent skip. Deciding and recording `begin` happen under the
//! book's lock, so no two readers take one row. Making a record durable happens after that
//! lock is released (readers then share syncs), but before anything depends on it: the
//! card gets its first APDU only once its `begin` is durable, and is reported (and the
//! reader goes on to its next card) only once its `end` is. The loop around this is
//! `worker.rs`.

use super::audit::CardTrace;
use super::identify::{check_kind, read_identity, read_uid};
use super::ledger::Full;
use super::record::{Begin, End, Verdict};
use super::report::{CardReport, StepReport};
use super::store::{Arrival, Begun, Known};
use super::worker::{Shared, lock, stop_for};
use super::{Error, Stop, time};
use crate::apdu::hex;
use crate::profile::{self, Environment, FailureKind, Inputs, OnError, Outcome, Profile};
use crate::reader::guard::Guarded;
use crate::reader::trace::Traced;
use crate::reader::{Card, Reader};

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
            trace: None,
        }
    }
}

/// Handles one presented card; returns why the worker must stop, if it must.
pub(super) fn one_card(
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
    // With `--trace-file DIR`, everything sent to the card from here on is its audit trail;
    // the guard sits outside the trace, so a refused command is not traced as sent.
    let mut trace = config.trace_dir.as_deref().map(CardTrace::new);
    // With `--record DIR`, the same exchanges as the card's apdu4j dump.
    let mut dump = config
        .record_dir
        .as_deref()
        .map(|dir| CardTrace::dump(dir, &presented.reader, &presented.atr));
    let sinks: Vec<_> = trace
        .iter()
        .chain(dump.iter())
        .map(CardTrace::sink)
        .collect();
    let card: Box<dyn Card> = if sinks.is_empty() {
        card
    } else {
        let mut sinks = sinks;
        let sink = Box::new(move |event: &_| sinks.iter_mut().for_each(|sink| sink(event)));
        Box::new(Traced::new(card, sink, shared.redactor.clone(), false))
    };
    // Every command of the batch, identification included, goes through the guard.
    let guarded = Guarded::new(card, config.armed).only(profile.guard_operations());
    let mut card: Box<dyn Card> = Box::new(guarded);
    if let Err(why) = check_kind(profile.card, &presented.atr) {
        shared.report(&presented.report(Verdict::Skipped, Some(why)), false);
        return Ok(None);
    }
    // A card that cannot be told apart is a failed card: it counts for --max-failures (so a
    // line of such cards stops the batch), gets no row and no further command.
    let identity = match tell_apart(profile, card.as_mut(), &mut presented) {
        Ok(identity) => identity,
        Err(message) => return Ok(unidentified(shared, profile, &presented, message)),
    };
    shared.progress.working(&presented.reader, &identity);

    // Decide and record `begin` under one lock: no other reader can take the same row.
    // The lock is released before the `begin` is made durable (see below).
    let arrival = Arrival {
        identity: identity.clone(),
        uid: presented.uid.as_deref().map(hex::format_compact),
        reader: presented.reader.clone(),
        atr: hex::format_compact(&presented.atr),
    };
    let (lease, ticket) = {
        let mut book = lock(&shared.book);
        let begun = match book.store.known(&identity)? {
            // Cards done before are summed up in one line when the batch starts, so each
            // one presented again is not a line of its own.
            Known::Issued(why) => {
                drop(book);
                shared.done_before(&presented.report(Verdict::Skipped, Some(why)), true);
                return Ok(None);
            }
            Known::FailedBefore(why) => {
                drop(book);
                shared.done_before(&presented.report(Verdict::Skipped, Some(why)), false);
                return Ok(None);
            }
            Known::Skip(why) => {
                drop(book);
                shared.report(&presented.report(Verdict::Skipped, Some(why)), false);
                return Ok(None);
            }
            Known::Open | Known::New => book.store.begin(&arrival, config.count)?,
        };
        match begun {
            Begun::Run(lease, ticket) => (lease, ticket),
            Begun::Elsewhere(why) => {
                drop(book);
                shared.report(&presented.report(Verdict::Skipped, Some(why)), false);
                return Ok(None);
            }
            Begun::Full(full) => {
                let exhausted = book.store.exhausted(config.count)?.is_some();
                drop(book);
                if exhausted || full == Full::Count {
                    return Ok(Some(stop_for(full)));
                }
                let message =
                    "no data row is left for a new card (interrupted cards can still be finished)"
                        .to_string();
                shared.report(&presented.report(Verdict::Skipped, Some(message)), false);
                return Ok(None);
            }
        }
    };
    // Nothing is sent to the card before its `begin` is durable. If it cannot be made so,
    // the card never ran: the error (which says so) stops the batch.
    ticket.wait()?;
    let begin = Begin {
        time: time::now(),
        seq: lease.seq,
        row: lease.row,
        uid: arrival.uid,
        identity: arrival.identity,
        reader: arrival.reader,
        atr: arrival.atr,
    };
    for trace in trace.iter_mut().chain(dump.iter_mut()) {
        trace.attach(begin.seq, &identity, &begin.reader, begin.row);
    }
    let resumed = lease.resumed;
    let inputs = Inputs {
        data: &lease.values,
        secrets: &shared.secrets,
        uid: presented.uid.clone(),
        atr: presented.atr.clone(),
        row: begin.row,
        seq: begin.seq,
    };
    let (mut card, outcome) = profile::run(profile, card, &inputs, env);
    // The verdict on the reader as the run ends (the card goes before the journal is
    // written); a reader that cannot show it costs a note, never the card's verdict.
    let shown = end_record(&begin, &outcome).verdict;
    if config.feedback && matches!(shown, Verdict::Ok | Verdict::Failed) {
        if let Err(e) =
            crate::reader::driver::signal(card.as_mut(), shown == Verdict::Ok, config.reader_kind)
        {
            shared.progress.note(&format!("reader feedback: {e}"));
        }
    }
    // The trace sink lives in the card: drop it before the trace is made durable.
    drop(card);
    let mut end = end_record(&begin, &outcome);
    if let Some(trace) = trace {
        match trace.finish() {
            Ok(name) => end.trace = name,
            Err(why) => shared
                .progress
                .note(&format!("warning: card {} has no trace: {why}", begin.seq)),
        }
    }
    // The dump is made durable before `end` too; the journal names only the trace.
    if let Some(Err(why)) = dump.map(CardTrace::finish) {
        shared
            .progress
            .note(&format!("warning: card {} has no dump: {why}", begin.seq));
    }
    let verdict = end.verdict;
    // The end is not recorded (not written, or not made durable): whatever the steps did,
    // the card stays open in the ledger with its row, and is finished with it when
    // presented again.
    let unrecorded = |e: Error| {
        let mut report = presented.report(
            Verdict::Interrupted,
            Some(format!(
                "its end could not be recorded ({e}); it stays open with its row and is finished when presented again"
            )),
        );
        report.seq = Some(begin.seq);
        report.row = begin.row;
        report.resumed = resumed;
        shared.report(&report, true);
        Err(e)
    };
    let (stop, ticket) = {
        let mut book = lock(&shared.book);
        let ticket = match book.store.end(&end) {
            Ok(ticket) => ticket,
            Err(e) => {
                drop(book);
                return unrecorded(e);
            }
        };
        match verdict {
            Verdict::Ok => book.consecutive_failures = 0,
            Verdict::Failed => book.consecutive_failures += 1,
            Verdict::Interrupted | Verdict::Skipped => {}
        }
        let failures = book.consecutive_failures;
        let stop = if verdict == Verdict::Failed && profile.on_error == OnError::Abort {
            Some(Stop::Abort)
        } else if config.max_failures > 0 && failures >= config.max_failures {
            Some(Stop::MaxFailures(failures))
        } else {
            match outcome.failure.as_ref().map(|f| f.kind) {
                Some(FailureKind::Interrupted) => Some(Stop::Interrupted),
                Some(FailureKind::Refused) => Some(Stop::Refused),
                // A card pulled mid-run (or a reader that failed under it) ends the batch with
                // exit 3: the card is journalled `interrupted` and is finished with its row
                // when it is presented to the restarted batch.
                Some(FailureKind::Transport) => {
                    Some(Stop::CardLost(end.message.clone().unwrap_or_default()))
                }
                _ => None,
            }
        };
        (stop, ticket)
    };
    // Reported (and the reader's next card taken) only once the end is durable.
    if let Err(e) = ticket.wait() {
        return unrecorded(e);
    }
    let mut report = presented.report(verdict, end.message.clone());
    report.seq = Some(begin.seq);
    report.row = begin.row;
    report.resumed = resumed;
    report.step = end.step;
    report.sw = end.sw;
    report.micros = outcome.micros;
    report.trace = end.trace.clone();
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

/// What the card is told apart by: the `identify:` command's bytes when the profile has
/// one, else its UID (`FF CA`), else a simulated card's name; `Err` says why it has none.
fn tell_apart(
    profile: &Profile,
    card: &mut dyn Card,
    presented: &mut Presented,
) -> Result<String, String> {
    if let Some(identify) = &profile.identify {
        // The UID is not read: with `identify:` it is not what the card is told apart by
        // (a random UID would even contradict a resumed card's journal).
        presented.identity = None;
        let bytes = match read_identity(card, identify) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(why)) => return Err(format!("not identified: {why}; nothing else is sent")),
            Err(e) => {
                return Err(format!(
                    "not identified: the `identify:` command failed: {e}"
                ));
            }
        };
        let identity = hex::format_compact(&bytes);
        presented.identity = Some(identity.clone());
        return Ok(identity);
    }
    match read_uid(card) {
        Ok(uid) => presented.uid = uid,
        Err(e) => return Err(format!("not identified: could not read the UID: {e}")),
    }
    if let Some(uid) = &presented.uid {
        presented.identity = Some(hex::format_compact(uid));
    }
    presented.identity.clone().ok_or_else(|| {
        "not identified: the card has no UID (GET DATA `FF CA` gave none), and without an identity the batch cannot make sure it is not issued twice; give the profile an `identify:` command (README: identify)".to_string()
    })
}

/// Reports a card that could not be told apart as failed, counts it for `--max-failures`
/// and `on-error: abort`, and says whether the batch must stop. Nothing is journalled: the
/// card has no identity to journal it under, and no row was taken.
fn unidentified(
    shared: &Shared<'_>,
    profile: &Profile,
    presented: &Presented,
    message: String,
) -> Option<Stop> {
    let failures = {
        let mut book = lock(&shared.book);
        book.consecutive_failures += 1;
        book.consecutive_failures
    };
    shared.report(&presented.report(Verdict::Failed, Some(message)), true);
    let max = shared.config.max_failures;
    if profile.on_error == OnError::Abort {
        Some(Stop::Abort)
    } else if max > 0 && failures >= max {
        Some(Stop::MaxFailures(failures))
    } else {
        None
    }
}

fn end_record(begin: &Begin, outcome: &Outcome) -> End {
    let failure = outcome.failure.as_ref();
    let verdict = match failure.map(|f| f.kind) {
        None => Verdict::Ok,
        Some(FailureKind::Failed) => Verdict::Failed,
        // A card pulled mid-run, or stopped by the guard (the run is not armed), keeps its
        // row and is resumed when presented again.
        Some(FailureKind::Transport | FailureKind::Interrupted | FailureKind::Refused) => {
            Verdict::Interrupted
        }
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
        message: failure.map(profile::Failure::record_line),
        micros: outcome.micros,
        trace: None,
    }
}
