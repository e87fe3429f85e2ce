//! The figures of a lot, gathered from its journals (and reports) in one pass.
//!
//! A [`Lot`] takes [`Entry`]s as they are read and keeps only what the page and the summary
//! need: each card's last verdict (a card may be interrupted and resumed, so only its last
//! record counts), ends per time bucket, the durations of the cards that ended, counts of
//! failures by step, status word, reader and station, the slowest cards, and from reports
//! the skipped cards and step times. Memory grows with the number of cards by a few dozen
//! bytes each. This file reads no file and renders nothing.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use serde::Serialize;

use super::read::{CardEvent, Entry, Header};

/// How many slowest cards are kept.
pub const SLOWEST: usize = 10;

/// Where a card's last record left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Ok,
    Failed,
    Interrupted,
}

/// Ends in one minute, by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Ends {
    /// Cards issued.
    pub ok: u64,
    /// Cards failed.
    pub failed: u64,
    /// Cards interrupted.
    pub interrupted: u64,
}

impl Ends {
    /// All ends.
    pub fn total(&self) -> u64 {
        self.ok + self.failed + self.interrupted
    }
}

/// Failures and interruptions of one step, status word, reader or station.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Trouble {
    /// Cards that failed there.
    pub failed: u64,
    /// Cards interrupted there.
    pub interrupted: u64,
}

/// One of the slowest cards.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Slow {
    /// Time its steps took.
    pub micros: u64,
    /// When it ended, microseconds since 1970.
    pub time: i64,
    /// Its sequence number in its journal.
    pub seq: u64,
    /// Its identity.
    pub identity: String,
    /// Its reader.
    pub reader: String,
    /// Its station.
    pub station: String,
    /// How it ended.
    pub verdict: String,
    /// Its trace file, when the batch kept one.
    pub trace: Option<String>,
}

/// Time of one step over every reported card.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StepStats {
    /// How many times it ran.
    pub runs: u64,
    /// Total time.
    pub micros: u64,
    /// Longest run.
    pub max_micros: u64,
}

/// One journal of the lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Journal {
    /// The file, as given.
    pub path: String,
    /// Its station: named in its records, else the file's name.
    pub station: String,
    /// The profile's name, from the header.
    pub profile: Option<String>,
    /// The profile file, from the header.
    pub profile_file: Option<String>,
    /// The data file, from the header.
    pub data: Option<String>,
    /// When the journal was started.
    pub started: Option<String>,
}

/// Everything gathered so far.
#[derive(Debug, Default)]
pub struct Lot {
    /// The journals, in the order given.
    pub journals: Vec<Journal>,
    cards: HashMap<(u32, u64), State>,
    resumed: u64,
    /// Ends per minute (minutes since 1970).
    pub per_minute: BTreeMap<i64, Ends>,
    /// Durations of the cards that ended `ok`, microseconds.
    pub durations: Vec<u64>,
    /// By failing step.
    pub by_step: HashMap<String, Trouble>,
    /// By status word of the failing step.
    pub by_sw: HashMap<String, Trouble>,
    /// By reader.
    pub by_reader: HashMap<String, Trouble>,
    /// By station.
    pub by_station: HashMap<String, Trouble>,
    slowest: BinaryHeap<Reverse<Slow>>,
    /// First and last record times, microseconds since 1970.
    pub span: Option<(i64, i64)>,
    /// Skipped cards (from reports) by reason.
    pub skipped: HashMap<String, u64>,
    /// Step times (from reports).
    pub steps: HashMap<String, StepStats>,
    /// Report lines read.
    pub reported: u64,
    /// Records of kinds this build does not know.
    pub unknown: u64,
}

impl Lot {
    /// Starts the journal at `path`; its entries follow with [`Lot::journal_entry`].
    pub fn add_journal(&mut self, path: &str, station: &str) {
        self.journals.push(Journal {
            path: path.to_string(),
            station: station.to_string(),
            profile: None,
            profile_file: None,
            data: None,
            started: None,
        });
    }

    /// Takes one entry of the journal last added.
    pub fn journal_entry(&mut self, entry: Entry) {
        let index = self.journals.len().saturating_sub(1) as u32;
        match entry {
            Entry::Header(header) => self.header(index, header),
            Entry::Begin(begin) => {
                self.seen(begin.time);
                let state = self.cards.entry((index, begin.seq)).or_insert(State::Open);
                if *state == State::Interrupted {
                    self.resumed += 1;
                }
                *state = State::Open;
            }
            Entry::End(end) => self.end(index, end),
            Entry::Reported(_) | Entry::Unknown => self.unknown += 1,
        }
    }

    /// Takes one entry of a report.
    pub fn report_entry(&mut self, entry: Entry) {
        match entry {
            Entry::Reported(card) => {
                self.reported += 1;
                if card.verdict == "skipped" {
                    let reason = card.message.unwrap_or_else(|| "(no reason given)".into());
                    *self.skipped.entry(reason).or_default() += 1;
                }
                for step in card.steps {
                    let stats = self.steps.entry(step.name).or_default();
                    stats.runs += 1;
                    stats.micros = stats.micros.saturating_add(step.micros);
                    stats.max_micros = stats.max_micros.max(step.micros);
                }
            }
            _ => self.unknown += 1,
        }
    }

    fn header(&mut self, index: u32, header: Header) {
        if let Some(journal) = self.journals.get_mut(index as usize) {
            journal.profile = Some(header.profile);
            journal.profile_file = Some(header.file);
            journal.data = header.data;
            journal.started = Some(header.time);
        }
    }

    fn seen(&mut self, time: i64) {
        self.span = Some(match self.span {
            None => (time, time),
            Some((first, last)) => (first.min(time), last.max(time)),
        });
    }

    fn end(&mut self, index: u32, end: CardEvent) {
        self.seen(end.time);
        let verdict = end.verdict.clone().unwrap_or_default();
        let state = match verdict.as_str() {
            "ok" => State::Ok,
            "failed" => State::Failed,
            "interrupted" => State::Interrupted,
            _ => {
                self.unknown += 1;
                return;
            }
        };
        self.cards.insert((index, end.seq), state);
        let bucket = self
            .per_minute
            .entry(end.time.div_euclid(60_000_000))
            .or_default();
        match state {
            State::Ok => bucket.ok += 1,
            State::Failed => bucket.failed += 1,
            _ => bucket.interrupted += 1,
        }
        let station = end.station.clone().unwrap_or_else(|| {
            self.journals
                .get(index as usize)
                .map(|j| j.station.clone())
                .unwrap_or_default()
        });
        match state {
            State::Ok => self.durations.push(end.micros),
            State::Failed | State::Interrupted => {
                let add = |map: &mut HashMap<String, Trouble>, key: String| {
                    let t = map.entry(key).or_default();
                    if state == State::Failed {
                        t.failed += 1;
                    } else {
                        t.interrupted += 1;
                    }
                };
                add(
                    &mut self.by_step,
                    end.step.clone().unwrap_or_else(|| "(no step)".into()),
                );
                add(
                    &mut self.by_sw,
                    end.sw.clone().unwrap_or_else(|| "(none)".into()),
                );
                add(&mut self.by_reader, end.reader.clone());
                add(&mut self.by_station, station.clone());
            }
            State::Open => {}
        }
        self.slowest.push(Reverse(Slow {
            micros: end.micros,
            time: end.time,
            seq: end.seq,
            identity: end.identity,
            reader: end.reader,
            station,
            verdict,
            trace: end.trace,
        }));
        if self.slowest.len() > SLOWEST {
            self.slowest.pop();
        }
    }

    /// The lot's totals.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            resumed: self.resumed,
            skipped: self.skipped.values().sum(),
            ..Totals::default()
        };
        for state in self.cards.values() {
            t.cards += 1;
            match state {
                State::Open => t.open += 1,
                State::Ok => t.ok += 1,
                State::Failed => t.failed += 1,
                State::Interrupted => t.interrupted += 1,
            }
        }
        t
    }

    /// The slowest cards, slowest first.
    pub fn slowest(&self) -> Vec<Slow> {
        let mut v: Vec<Slow> = self.slowest.iter().map(|r| r.0.clone()).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }

    /// Percentiles of the issued cards' durations: (p50, p90, p99, max), microseconds.
    pub fn percentiles(&mut self) -> Option<[u64; 4]> {
        if self.durations.is_empty() {
            return None;
        }
        self.durations.sort_unstable();
        let d = &self.durations;
        let at = |p: usize| d[((d.len() - 1) * p).div_ceil(100)];
        Some([at(50), at(90), at(99), d[d.len() - 1]])
    }
}

/// How many cards ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Cards in the journals.
    pub cards: u64,
    /// Issued.
    pub ok: u64,
    /// Failed (their rows are used up).
    pub failed: u64,
    /// Interrupted and not resumed yet.
    pub interrupted: u64,
    /// Begun without an end (a station stopped mid-card).
    pub open: u64,
    /// Interrupted cards that were later begun again.
    pub resumed: u64,
    /// Cards skipped (from reports).
    pub skipped: u64,
}

/// `map` sorted by failures, most first (ties by name).
pub fn ranked(map: &HashMap<String, Trouble>) -> Vec<(&str, Trouble)> {
    let mut v: Vec<(&str, Trouble)> = map.iter().map(|(k, t)| (k.as_str(), *t)).collect();
    v.sort_by(|a, b| {
        (b.1.failed + b.1.interrupted)
            .cmp(&(a.1.failed + a.1.interrupted))
            .then(a.0.cmp(b.0))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time_s: i64, seq: u64, verdict: Option<&str>, micros: u64) -> CardEvent {
        CardEvent {
            time: time_s * 1_000_000,
            seq,
            identity: format!("ID{seq}"),
            reader: "R0".into(),
            station: None,
            verdict: verdict.map(str::to_string),
            step: verdict.filter(|v| *v != "ok").map(|_| "write".to_string()),
            sw: verdict
                .filter(|v| *v == "failed")
                .map(|_| "6982".to_string()),
            micros,
            trace: None,
        }
    }

    #[test]
    fn a_resumed_card_counts_once_with_its_last_verdict() {
        let mut lot = Lot::default();
        lot.add_journal("a.jsonl", "a");
        lot.journal_entry(Entry::Begin(event(0, 1, None, 0)));
        lot.journal_entry(Entry::End(event(1, 1, Some("interrupted"), 10)));
        lot.journal_entry(Entry::Begin(event(70, 1, None, 0)));
        lot.journal_entry(Entry::End(event(71, 1, Some("ok"), 20)));
        lot.journal_entry(Entry::Begin(event(72, 2, None, 0)));
        lot.journal_entry(Entry::End(event(73, 2, Some("failed"), 30)));
        lot.journal_entry(Entry::Begin(event(74, 3, None, 0)));
        let t = lot.totals();
        assert_eq!(
            (t.cards, t.ok, t.failed, t.interrupted, t.open),
            (3, 1, 1, 0, 1)
        );
        assert_eq!(t.resumed, 1);
        assert_eq!(lot.per_minute.len(), 2);
        assert_eq!(lot.per_minute[&1].total(), 2);
        assert_eq!(
            lot.by_step["write"],
            Trouble {
                failed: 1,
                interrupted: 1
            }
        );
        assert_eq!(lot.by_sw["6982"].failed, 1);
        assert_eq!(lot.by_station["a"].failed, 1);
        assert_eq!(lot.slowest()[0].micros, 30);
        assert_eq!(lot.percentiles(), Some([20, 20, 20, 20]));
        assert_eq!(lot.span, Some((0, 74_000_000)));
    }

    #[test]
    fn the_same_seq_in_two_journals_is_two_cards() {
        let mut lot = Lot::default();
        for name in ["a", "b"] {
            lot.add_journal(name, name);
            lot.journal_entry(Entry::Begin(event(0, 1, None, 0)));
            lot.journal_entry(Entry::End(event(1, 1, Some("ok"), 5)));
        }
        assert_eq!(lot.totals().ok, 2);
    }

    #[test]
    fn keeps_only_the_slowest_cards() {
        let mut lot = Lot::default();
        lot.add_journal("a", "a");
        for seq in 1..=100 {
            lot.journal_entry(Entry::End(event(
                seq as i64,
                seq,
                Some("ok"),
                seq * 7 % 101,
            )));
        }
        let slow = lot.slowest();
        assert_eq!(slow.len(), SLOWEST);
        assert_eq!(slow[0].micros, 100);
        assert!(slow.windows(2).all(|w| w[0].micros >= w[1].micros));
    }
}
