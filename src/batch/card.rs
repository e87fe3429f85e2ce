//! One presented card: check its kind, read its UID, ask the ledger (skip, resume, new row),
//! record `begin`, run the profile, record `end`, report.
//!
//! Nothing is written to a card before its `begin` is on disk; a card of the wrong kind or
//! without an identity gets no command beyond GET DATA (`FF CA`), and no row. Deciding and
//! writing `begin` happen under the book's lock, so no two readers take one row. The loop around this is `worker.rs`.

use super::identify::{check_kind, read_uid};
use super::ledger::Full;
use super::record::{Begin, End, Verdict};
use super::report::{CardReport, StepReport};
use super::store::{Arrival, Begun, Known};
use super::worker::{Shared, lock, stop_for};
use super::{Error, Stop, time};
use crate::apdu::hex;
use crate::profile::{self, Environment, FailureKind, Inputs, OnError, Outcome, Profile};
use crate::reader::guard::Guarded;
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

    // Decide and record `begin` under one lock: no other reader can take the same row.
    let arrival = Arrival {
        identity: identity.clone(),
        uid: presented.uid.as_deref().map(hex::format_compact),
        reader: presented.reader.clone(),
        atr: hex::format_compact(&presented.atr),
    };
    let lease = {
        let mut book = lock(&shared.book);
        let begun = match book.store.known(&identity)? {
            Known::Issued(why) => {
                drop(book);
                shared.report(&presented.report(Verdict::Skipped, Some(why)), true);
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
            Begun::Run(lease) => lease,
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
    let begin = Begin {
        time: time::now(),
        seq: lease.seq,
        row: lease.row,
        uid: arrival.uid,
        identity: arrival.identity,
        reader: arrival.reader,
        atr: arrival.atr,
    };
    let resumed = lease.resumed;
    let inputs = Inputs {
        data: &lease.values,
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
        if let Err(e) = book.store.end(&end) {
            drop(book);
            // The end is not recorded: whatever the steps did, the card stays open in the
            // ledger with its row, and is finished with it when presented again.
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
            return Err(e);
        }
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
    }
}
