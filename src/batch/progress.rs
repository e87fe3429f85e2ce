//! What the operator sees while a batch runs: a progress bar on stderr, one line per card
//! on stdout, notes on stderr.
//!
//! The bar shows cards ok / failed / skipped, the rate per minute, the ETA when the number
//! of cards is known, and the reader and card being worked on. It is drawn only when
//! stderr is a terminal; lines are printed with the bar suspended so they never tear it.
//! This file and `cli` are the only places that print, and the only one naming
//! `indicatif`. It decides nothing about cards, except this: an output that cannot be
//! written (a closed pipe, a full disk) sets the batch's stop flag, so the batch ends as
//! on Ctrl-C (the card journalled) rather than going on with nobody seeing its lines.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::record::Verdict;
use super::report::CardReport;

/// Counts of cards by verdict, in this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Issued.
    pub ok: u64,
    /// Rejected by a failed step.
    pub failed: u64,
    /// Stopped mid-card.
    pub interrupted: u64,
    /// Not personalised.
    pub skipped: u64,
}

impl Tally {
    /// Counts one card.
    pub fn add(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Ok => self.ok += 1,
            Verdict::Failed => self.failed += 1,
            Verdict::Interrupted => self.interrupted += 1,
            Verdict::Skipped => self.skipped += 1,
        }
    }
}

/// The operator's view of a running batch; shared by every reader's worker.
pub struct Progress {
    bar: ProgressBar,
    state: Mutex<State>,
    started: Instant,
    /// Set when stdout or stderr cannot be written: the batch stops as on Ctrl-C.
    stop: Arc<AtomicBool>,
}

struct State {
    tally: Tally,
    /// Cards still to finish when the batch started, if known.
    total: Option<u64>,
    current: String,
}

impl Progress {
    /// A display for a batch with `total` cards still to finish (`None`: unknown); `stop`
    /// is set when an output cannot be written.
    pub fn new(total: Option<u64>, stop: Arc<AtomicBool>) -> Progress {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(total, target);
        let template = match total {
            Some(_) => "{spinner} [{elapsed_precise}] {bar:25} {pos}/{len} {wide_msg}",
            None => "{spinner} [{elapsed_precise}] {pos} cards {wide_msg}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        if std::io::stderr().is_terminal() {
            // indicatif starts a thread for the tick (and panics if it cannot); without a
            // terminal nothing is drawn, so no thread is started.
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        Progress {
            bar,
            state: Mutex::new(State {
                tally: Tally::default(),
                total,
                current: String::new(),
            }),
            started: Instant::now(),
            stop,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Shows which reader is busy with which card.
    pub fn working(&self, reader: &str, card: &str) {
        let mut state = self.state();
        state.current = format!("{reader} {card}");
        self.redraw(&state);
    }

    /// Shows that `reader` waits for a card.
    pub fn waiting(&self, reader: &str) {
        let mut state = self.state();
        state.current = format!("{reader}: waiting for a card");
        self.redraw(&state);
    }

    /// Prints the line of a card that is done with, and counts it.
    pub fn card(&self, card: &CardReport) {
        let mut state = self.state();
        state.tally.add(card.verdict);
        if matches!(card.verdict, Verdict::Ok | Verdict::Failed) {
            self.bar.inc(1);
        }
        let line = card_line(card);
        self.bar.suspend(|| self.out(&line));
        self.redraw(&state);
    }

    /// Counts a card without printing its line (a card done before, presented again); the
    /// bar shows it.
    pub fn count(&self, card: &CardReport) {
        let mut state = self.state();
        state.tally.add(card.verdict);
        let who = card.identity.as_deref().unwrap_or("(unidentified card)");
        state.current = format!("{} {who}: done before, remove it", card.reader);
        self.redraw(&state);
    }

    /// Prints a script's `print` output.
    pub fn output(&self, line: &str) {
        self.bar.suspend(|| self.out(line));
    }

    /// Prints a line on stdout, among the cards' lines (the batch's resuming line).
    pub fn line(&self, text: &str) {
        self.bar.suspend(|| self.out(text));
    }

    /// Prints a note for the operator on stderr (a repaired journal, why the batch ends).
    pub fn note(&self, text: &str) {
        self.bar.suspend(|| {
            let mut err = std::io::stderr().lock();
            if writeln!(err, "{text}").and_then(|()| err.flush()).is_err() {
                self.lost();
            }
        });
    }

    /// The counts so far.
    pub fn tally(&self) -> Tally {
        self.state().tally
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn redraw(&self, state: &State) {
        let t = state.tally;
        let minutes = self.started.elapsed().as_secs_f64() / 60.0;
        let done = t.ok + t.failed;
        let rate = if minutes > 0.0 {
            done as f64 / minutes
        } else {
            0.0
        };
        let eta = match state.total {
            Some(total) if rate > 0.0 && total > done => {
                let secs = ((total - done) as f64 / rate * 60.0) as u64;
                format!(" · ETA {}:{:02}", secs / 60, secs % 60)
            }
            _ => String::new(),
        };
        self.bar.set_message(format!(
            "ok {} · failed {} · skipped {} · {rate:.0}/min{eta} · {}",
            t.ok, t.failed, t.skipped, state.current
        ));
    }
}

impl Progress {
    /// Prints a line on stdout; a closed stdout (`| head`) stops the batch as Ctrl-C does.
    fn out(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            self.lost();
        }
    }

    fn lost(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `ok          seq 17  row 17  SIM-000017  Simulated reader (iso7816)  1.2 ms`.
pub fn card_line(card: &CardReport) -> String {
    let mut line = format!("{:<11}", card.verdict.name());
    if let Some(seq) = card.seq {
        line.push_str(&format!(" seq {seq}"));
    }
    if let Some(row) = card.row {
        line.push_str(&format!(" row {row}"));
    }
    let who = card
        .identity
        .as_deref()
        .or(card.uid.as_deref())
        .unwrap_or("(unidentified card)");
    line.push_str(&format!("  {who}  {}", card.reader));
    if card.resumed {
        line.push_str("  (resumed)");
    }
    if card.verdict != Verdict::Skipped {
        line.push_str(&format!("  {:.1} ms", card.micros as f64 / 1000.0));
    }
    if let Some(message) = &card.message {
        line.push_str(&format!("  {message}"));
    }
    line
}
