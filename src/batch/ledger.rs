//! What the journal says so far: which cards are done, which are open, which rows are used.
//!
//! The ledger is rebuilt from the journal at start and kept up to date with every record
//! written, so replaying a journal and living through it give the same state. It decides,
//! for a card presented, whether it is skipped (issued or failed before), resumed with the
//! row it had (a `begin` without a final `end`), or new; and a new card gets the next
//! sequence number and the next unused row. Rows are handed out in file order and never
//! again: a failed card's row stays used, an interrupted card keeps its row.
//!
//! Every record is checked against what came before and against the data before it is
//! taken into account ([`Ledger::check_begin`], [`Ledger::check_end`]): a row outside
//! `1..=rows` (or a row without data, or no row with data), a sequence number or a row used
//! by two cards, a card that begins again after it was finished or is resumed with another
//! row, an `end` without its `begin` or that names another row than its `begin`, a UID that
//! is not the card's identity. A journal that says any of these is refused rather than
//! guessed at, and a live record that would say one is never written.
//!
//! A journal may go on with another data file as a new lot (`--new-lot`): rows are then
//! numbered within their lot, each lot's rows handed out once, and a card left open in an
//! earlier lot is not resumed with the rows of this one (it waits for its own lot's data).
//!
//! The state is kept compact (`index.rs`): identities in one arena, 32 bytes per card,
//! rows and sequence numbers as dense vectors, so that a journal of a million cards
//! replays in a few tens of megabytes. This file does no I/O: the journal writes, the
//! ledger only counts.

use std::collections::HashSet;

use super::index::{self, Identities, Owners};
use super::record::{Begin, End, Verdict};

/// No step, no row (rows start at 1).
const NONE: u32 = u32::MAX;

/// Where one card stands, in 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Card {
    seq: u64,
    /// Its row, 0 for none.
    row: u64,
    /// When it finished: microseconds since 1970, or `-(i + 1)` for text `i` of
    /// [`Ledger::texts`] (a time not in the usual form).
    time: i64,
    /// The failed step's name, an index into [`Ledger::texts`], or [`NONE`].
    step: u32,
    /// The lot its row is from.
    lot: u16,
    state: State,
    /// Whether it has a UID (which then is its identity).
    uid: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Begun, not finished (running now, interrupted, or cut off by a crash).
    Open,
    /// Finished `ok`.
    Ok,
    /// Finished `failed`.
    Failed,
}

fn row_of(row: u64) -> Option<u64> {
    (row != 0).then_some(row)
}

/// What to do with a card that was presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Leave it alone, it was issued before; the text says when and with which row.
    Issued(String),
    /// Leave it alone, it failed before and is not tried again; the text says when.
    FailedBefore(String),
    /// Leave it alone; the text says why (it is busy in another reader).
    Skip(String),
    /// Finish it with the sequence number and row it had.
    Resume {
        /// Its sequence number.
        seq: u64,
        /// Its row.
        row: Option<u64>,
    },
    /// A card never seen: give it the next sequence number and row.
    New,
}

/// Why a new card cannot be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// `--count` cards are finished or being finished.
    Count,
    /// Every data row is used.
    Data,
}

/// One data lot of the journal.
#[derive(Debug, Default)]
struct Lot {
    /// How many data rows it has (`None`: no data file), when known: the rows of a lot
    /// whose data is not at hand (an earlier lot) are not.
    rows: Option<Option<u64>>,
    /// The highest row handed out.
    rows_used: u64,
    /// Cards begun with a row of this lot and not finished.
    open: usize,
    /// The card that used each row.
    owners: Owners,
}

/// The state of a batch, as far as the journal tells it.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Every lot, the first one the journal's header names; `lot` is the current one.
    lots: Vec<Lot>,
    lot: usize,
    /// Card identities, numbered; `cards[i]` is where card `i` stands.
    ids: Identities,
    cards: Vec<Card>,
    /// Step names and unusual times, referred to from [`Card`].
    texts: Vec<Box<str>>,
    /// The card that has each sequence number.
    seqs: Owners,
    next_seq: u64,
    finished: u64,
    open: usize,
    /// Cards being personalised right now, in this process.
    in_flight: HashSet<String>,
}

/// What the ledger reads of a `begin` record (borrowed: a replay need not copy it).
#[derive(Debug, Clone, Copy)]
pub struct BeginFacts<'a> {
    /// The card's sequence number.
    pub seq: u64,
    /// Its row.
    pub row: Option<u64>,
    /// Its UID.
    pub uid: Option<&'a str>,
    /// What it is told apart by.
    pub identity: &'a str,
}

impl<'a> BeginFacts<'a> {
    /// The facts of `begin`.
    pub fn of(begin: &'a Begin) -> BeginFacts<'a> {
        BeginFacts {
            seq: begin.seq,
            row: begin.row,
            uid: begin.uid.as_deref(),
            identity: &begin.identity,
        }
    }
}

/// What the ledger reads of an `end` record.
#[derive(Debug, Clone, Copy)]
pub struct EndFacts<'a> {
    /// As in its `begin`.
    pub seq: u64,
    /// As in its `begin`.
    pub row: Option<u64>,
    /// As in its `begin`.
    pub uid: Option<&'a str>,
    /// As in its `begin`.
    pub identity: &'a str,
    /// How it ended.
    pub verdict: Verdict,
    /// When.
    pub time: &'a str,
    /// The step that failed or was interrupted.
    pub step: Option<&'a str>,
}

impl<'a> EndFacts<'a> {
    /// The facts of `end`.
    pub fn of(end: &'a End) -> EndFacts<'a> {
        EndFacts {
            seq: end.seq,
            row: end.row,
            uid: end.uid.as_deref(),
            identity: &end.identity,
            verdict: end.verdict,
            time: &end.time,
            step: end.step.as_deref(),
        }
    }
}

/// A replayed record that contradicts the ones before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Inconsistent(pub String);

impl Ledger {
    /// An empty ledger for a batch with `rows` data rows (`None`: no data file): no card
    /// seen, row 1 next.
    pub fn new(rows: Option<u64>) -> Ledger {
        Ledger {
            lots: vec![Lot {
                rows: Some(rows),
                ..Lot::default()
            }],
            next_seq: 1,
            ..Ledger::default()
        }
    }

    /// A ledger whose first lot's row count is not known (its data is not at hand): its
    /// records are checked for everything but the range of their rows.
    pub fn with_unknown_rows() -> Ledger {
        Ledger {
            lots: vec![Lot::default()],
            next_seq: 1,
            ..Ledger::default()
        }
    }

    /// Goes on with lot `index` (0: the header's; one past the last: a new lot), which has
    /// `rows` data rows when known.
    pub fn switch_lot(&mut self, index: usize, rows: Option<Option<u64>>) {
        if index >= self.lots.len() {
            self.lots.push(Lot::default());
        }
        let index = index.min(self.lots.len() - 1);
        if rows.is_some() {
            self.lots[index].rows = rows;
        }
        self.lot = index;
    }

    /// The current lot.
    pub fn current_lot(&self) -> usize {
        self.lot
    }

    fn current(&self) -> &Lot {
        &self.lots[self.lot]
    }

    fn card(&self, identity: &str) -> Option<Card> {
        self.ids.find(identity).map(|i| self.cards[i as usize])
    }

    fn text(&self, index: u32) -> &str {
        self.texts.get(index as usize).map_or("?", |t| t)
    }

    fn time(&self, card: &Card) -> String {
        if card.time >= 0 {
            index::format_micros(card.time)
        } else {
            self.text((-(card.time + 1)) as u32).to_string()
        }
    }

    /// Keeps `text` aside; its index, or [`NONE`] when there are too many.
    fn keep(&mut self, text: &str) -> u32 {
        match u32::try_from(self.texts.len()) {
            Ok(i) if i != NONE => {
                self.texts.push(text.into());
                i
            }
            _ => NONE,
        }
    }

    /// Whether `begin` agrees with the data and with every record before it.
    pub fn check_begin(&self, begin: &Begin) -> Result<(), Inconsistent> {
        self.check_begin_facts(&BeginFacts::of(begin))
    }

    /// [`Ledger::check_begin`] on what the ledger reads of a `begin`.
    pub fn check_begin_facts(&self, begin: &BeginFacts<'_>) -> Result<(), Inconsistent> {
        let card = begin.identity;
        let fail = |message: String| Err(Inconsistent(message));
        self.check_row(card, begin.row)?;
        if begin.seq == 0 {
            return fail(format!(
                "card `{card}` has seq 0 (sequence numbers start at 1)"
            ));
        }
        check_uid(card, begin.uid)?;
        let me = self.ids.find(card);
        if let Some(row) = begin.row {
            if let Some(owner) = self.current().owners.get(row).filter(|o| Some(*o) != me) {
                return fail(format!(
                    "row {row} is used by card `{card}` and card `{}`",
                    self.ids.text(owner)
                ));
            }
        }
        if let Some(owner) = self.seqs.get(begin.seq).filter(|o| Some(*o) != me) {
            return fail(format!(
                "seq {} is used by card `{card}` and card `{}`",
                begin.seq,
                self.ids.text(owner)
            ));
        }
        match me.map(|i| self.cards[i as usize]) {
            Some(c) if c.state != State::Open => {
                fail(format!("card `{card}` begins again after it was finished"))
            }
            Some(c) if usize::from(c.lot) != self.lot => fail(format!(
                "card `{card}` begins again in lot {}, but it began in lot {}",
                self.lot + 1,
                c.lot + 1
            )),
            Some(c)
                if (c.seq, row_of(c.row), c.uid) != (begin.seq, begin.row, begin.uid.is_some()) =>
            {
                fail(format!(
                    "card `{card}` begins again with {}, but it began with {}",
                    describe(begin.seq, begin.row),
                    describe(c.seq, row_of(c.row))
                ))
            }
            _ => Ok(()),
        }
    }

    /// Takes a `begin` into account, after [`Ledger::check_begin`]; nothing changes when it
    /// is refused.
    pub fn begin(&mut self, begin: &Begin) -> Result<(), Inconsistent> {
        self.begin_facts(&BeginFacts::of(begin))
    }

    /// [`Ledger::begin`] on what the ledger reads of a `begin`.
    pub fn begin_facts(&mut self, begin: &BeginFacts<'_>) -> Result<(), Inconsistent> {
        self.check_begin_facts(begin)?;
        let lot = u16::try_from(self.lot)
            .map_err(|_| Inconsistent("more than 65535 data lots".to_string()))?;
        let found = self.ids.find(begin.identity);
        let known = found.is_some();
        let i = match found {
            Some(i) => i,
            None => self
                .ids
                .insert_new(begin.identity)
                .ok_or_else(|| Inconsistent("more cards than one journal can hold".to_string()))?,
        };
        if let Some(row) = begin.row {
            let current = &mut self.lots[self.lot];
            current.owners.insert(row, i);
            current.rows_used = current.rows_used.max(row);
        }
        self.seqs.insert(begin.seq, i);
        if !known {
            self.open += 1;
            self.lots[self.lot].open += 1;
        }
        let card = Card {
            seq: begin.seq,
            row: begin.row.unwrap_or(0),
            time: 0,
            step: NONE,
            lot,
            state: State::Open,
            uid: begin.uid.is_some(),
        };
        if (i as usize) < self.cards.len() {
            self.cards[i as usize] = card;
        } else {
            self.cards.push(card);
        }
        self.next_seq = self.next_seq.max(begin.seq + 1);
        Ok(())
    }

    /// Whether `end` closes a card that is open, with the sequence number, row and UID its
    /// `begin` gave.
    pub fn check_end(&self, end: &End) -> Result<(), Inconsistent> {
        self.check_end_facts(&EndFacts::of(end))
    }

    /// [`Ledger::check_end`] on what the ledger reads of an `end`.
    pub fn check_end_facts(&self, end: &EndFacts<'_>) -> Result<(), Inconsistent> {
        let card = end.identity;
        if end.verdict == Verdict::Skipped {
            return Err(Inconsistent(format!(
                "card `{card}` ends `skipped`, which no journal record says"
            )));
        }
        match self.card(card) {
            Some(c) if c.state == State::Open && usize::from(c.lot) != self.lot => {
                Err(Inconsistent(format!(
                    "card `{card}` ends in lot {}, but it began in lot {}",
                    self.lot + 1,
                    c.lot + 1
                )))
            }
            Some(c) if c.state == State::Open => {
                if (c.seq, row_of(c.row)) != (end.seq, end.row) {
                    return Err(Inconsistent(format!(
                        "card `{card}` ends with {}, but it began with {}",
                        describe(end.seq, end.row),
                        describe(c.seq, row_of(c.row))
                    )));
                }
                if c.uid != end.uid.is_some() || end.uid.is_some_and(|uid| uid != card) {
                    return Err(Inconsistent(format!(
                        "card `{card}` ends with another UID than it began with"
                    )));
                }
                Ok(())
            }
            _ => Err(Inconsistent(format!("card `{card}` ends without a begin"))),
        }
    }

    /// Takes an `end` into account, after [`Ledger::check_end`]; nothing changes when it is
    /// refused.
    pub fn end(&mut self, end: &End) -> Result<(), Inconsistent> {
        self.end_facts(&EndFacts::of(end))
    }

    /// [`Ledger::end`] on what the ledger reads of an `end`.
    pub fn end_facts(&mut self, end: &EndFacts<'_>) -> Result<(), Inconsistent> {
        self.check_end_facts(end)?;
        let state = match end.verdict {
            Verdict::Ok => State::Ok,
            Verdict::Failed => State::Failed,
            Verdict::Interrupted | Verdict::Skipped => return Ok(()),
        };
        let Some(i) = self.ids.find(end.identity) else {
            return Ok(());
        };
        let time = match index::parse_micros(end.time) {
            Some(micros) => micros,
            None => -i64::from(self.keep(end.time)) - 1,
        };
        let step = match end.step {
            Some(step) => self.keep(step),
            None => NONE,
        };
        self.open -= 1;
        self.lots[self.lot].open -= 1;
        self.finished += 1;
        let card = &mut self.cards[i as usize];
        card.state = state;
        card.time = time;
        card.step = step;
        Ok(())
    }

    /// Whether `row` can belong to a card of this batch: a row in `1..=rows` with data, none
    /// without.
    fn check_row(&self, card: &str, row: Option<u64>) -> Result<(), Inconsistent> {
        let Some(rows) = self.current().rows else {
            // An earlier lot whose data is not at hand: any row goes, but a row it is.
            return match row {
                Some(0) => Err(Inconsistent(format!("card `{card}` has row 0"))),
                _ => Ok(()),
            };
        };
        let message = match (row, rows) {
            (Some(row), Some(rows)) if row == 0 || row > rows => {
                format!("card `{card}` has row {row}, outside the data's rows 1..={rows}")
            }
            (Some(row), None) => {
                format!("card `{card}` has row {row}, but the batch has no data file")
            }
            (None, Some(rows)) => {
                format!("card `{card}` has no row, but the batch has data (rows 1..={rows})")
            }
            _ => return Ok(()),
        };
        Err(Inconsistent(message))
    }

    /// What to do with the card `identity` when it is presented.
    pub fn decide(&self, identity: &str) -> Decision {
        let row_text = |row: u64| match row {
            0 => "no data row".to_string(),
            row => format!("row {row}"),
        };
        let Some(c) = self.card(identity) else {
            return Decision::New;
        };
        match c.state {
            State::Open if self.in_flight.contains(identity) => {
                Decision::Skip("the card is being personalised in another reader".to_string())
            }
            State::Open if usize::from(c.lot) != self.lot => Decision::Skip(format!(
                "it was begun with {} of data lot {} and is open; it is finished when the batch runs with that lot's data again (--new-lot names a lot seen before too)",
                row_text(c.row),
                c.lot + 1
            )),
            State::Open => Decision::Resume {
                seq: c.seq,
                row: row_of(c.row),
            },
            State::Ok => Decision::Issued(format!(
                "already issued ok at {} with {} (seq {})",
                self.time(&c),
                row_text(c.row),
                c.seq
            )),
            State::Failed => Decision::FailedBefore(format!(
                "failed at {} with {} (seq {}) in step `{}`; a failed card is not tried again",
                self.time(&c),
                row_text(c.row),
                c.seq,
                if c.step == NONE {
                    "?"
                } else {
                    self.text(c.step)
                }
            )),
        }
    }

    /// The sequence number and row for a new card, or why there is none. `rows` is how
    /// many data rows there are (`None` without data); `count` is `--count`.
    pub fn allocate(
        &self,
        rows: Option<u64>,
        count: Option<u64>,
    ) -> Result<(u64, Option<u64>), Full> {
        if count.is_some_and(|count| self.finished + self.in_flight.len() as u64 >= count) {
            return Err(Full::Count);
        }
        let used = self.current().rows_used;
        let row = match rows {
            Some(rows) if used >= rows => return Err(Full::Data),
            Some(_) => Some(used + 1),
            None => None,
        };
        Ok((self.next_seq, row))
    }

    /// Why no further card can be started at all, if none can: `--count` cards finished,
    /// or every row used and no interrupted card left to finish.
    pub fn exhausted(&self, rows: Option<u64>, count: Option<u64>) -> Option<Full> {
        if count.is_some_and(|count| self.finished >= count) {
            return Some(Full::Count);
        }
        let waiting = self.current().open.saturating_sub(self.in_flight.len());
        match rows {
            Some(rows) if self.current().rows_used >= rows && waiting == 0 => Some(Full::Data),
            _ => None,
        }
    }

    /// Marks a card as being personalised in this process (between its begin and end).
    pub fn set_in_flight(&mut self, identity: &str, in_flight: bool) {
        if in_flight {
            self.in_flight.insert(identity.to_string());
        } else {
            self.in_flight.remove(identity);
        }
    }

    /// Cards finished (`ok` or `failed`), in this run and before.
    pub fn finished(&self) -> u64 {
        self.finished
    }

    /// Cards finished `ok` and cards finished `failed`, in this run and before.
    pub fn done(&self) -> (u64, u64) {
        self.cards
            .iter()
            .fold((0, 0), |(ok, failed), card| match card.state {
                State::Ok => (ok + 1, failed),
                State::Failed => (ok, failed + 1),
                State::Open => (ok, failed),
            })
    }

    /// Cards begun and not finished, including those in flight.
    pub fn open(&self) -> usize {
        self.open
    }
}

/// A card's UID, when it has one, is what it is told apart by.
fn check_uid(card: &str, uid: Option<&str>) -> Result<(), Inconsistent> {
    match uid {
        Some(uid) if uid != card => Err(Inconsistent(format!(
            "card `{card}` has UID `{uid}`, but a card with a UID is told apart by it"
        ))),
        _ => Ok(()),
    }
}

fn describe(seq: u64, row: Option<u64>) -> String {
    match row {
        Some(row) => format!("seq {seq} and row {row}"),
        None => format!("seq {seq} and no row"),
    }
}

#[cfg(test)]
mod tests;
