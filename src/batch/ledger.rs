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
//! This file does no I/O: the journal writes, the ledger only counts.

use std::collections::{HashMap, HashSet};

use super::record::{Begin, End, Verdict};

/// Where one card stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Begun, not finished (running now, interrupted, or cut off by a crash).
    Open {
        seq: u64,
        row: Option<u64>,
        uid: Option<String>,
    },
    /// Finished: `ok` or `failed`.
    Done {
        seq: u64,
        row: Option<u64>,
        verdict: Verdict,
        time: String,
        step: Option<String>,
    },
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

/// The state of a batch, as far as the journal tells it.
#[derive(Debug, Default)]
pub struct Ledger {
    /// How many data rows there are (`None`: the batch has no data file).
    data_rows: Option<u64>,
    cards: HashMap<String, Entry>,
    /// Identity of the card that used each row.
    rows: HashMap<u64, String>,
    /// Identity of the card that has each sequence number.
    seqs: HashMap<u64, String>,
    next_seq: u64,
    rows_used: u64,
    finished: u64,
    open: usize,
    /// Cards being personalised right now, in this process.
    in_flight: HashSet<String>,
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
            data_rows: rows,
            next_seq: 1,
            ..Ledger::default()
        }
    }

    /// Whether `begin` agrees with the data and with every record before it.
    pub fn check_begin(&self, begin: &Begin) -> Result<(), Inconsistent> {
        let card = &begin.identity;
        let fail = |message: String| Err(Inconsistent(message));
        self.check_row(card, begin.row)?;
        if begin.seq == 0 {
            return fail(format!(
                "card `{card}` has seq 0 (sequence numbers start at 1)"
            ));
        }
        check_uid(card, begin.uid.as_deref())?;
        if let Some(row) = begin.row {
            if let Some(owner) = self.rows.get(&row).filter(|owner| *owner != card) {
                return fail(format!(
                    "row {row} is used by card `{card}` and card `{owner}`"
                ));
            }
        }
        if let Some(owner) = self.seqs.get(&begin.seq).filter(|owner| *owner != card) {
            return fail(format!(
                "seq {} is used by card `{card}` and card `{owner}`",
                begin.seq
            ));
        }
        match self.cards.get(card) {
            Some(Entry::Done { .. }) => {
                fail(format!("card `{card}` begins again after it was finished"))
            }
            Some(Entry::Open { seq, row, uid })
                if (*seq, *row, uid.as_deref()) != (begin.seq, begin.row, begin.uid.as_deref()) =>
            {
                fail(format!(
                    "card `{card}` begins again with {}, but it began with {}",
                    describe(begin.seq, begin.row),
                    describe(*seq, *row)
                ))
            }
            _ => Ok(()),
        }
    }

    /// Takes a `begin` into account, after [`Ledger::check_begin`]; nothing changes when it
    /// is refused.
    pub fn begin(&mut self, begin: &Begin) -> Result<(), Inconsistent> {
        self.check_begin(begin)?;
        if let Some(row) = begin.row {
            self.rows.insert(row, begin.identity.clone());
            self.rows_used = self.rows_used.max(row);
        }
        self.seqs.insert(begin.seq, begin.identity.clone());
        if !self.cards.contains_key(&begin.identity) {
            self.open += 1;
        }
        self.cards.insert(
            begin.identity.clone(),
            Entry::Open {
                seq: begin.seq,
                row: begin.row,
                uid: begin.uid.clone(),
            },
        );
        self.next_seq = self.next_seq.max(begin.seq + 1);
        Ok(())
    }

    /// Whether `end` closes a card that is open, with the sequence number, row and UID its
    /// `begin` gave.
    pub fn check_end(&self, end: &End) -> Result<(), Inconsistent> {
        let card = &end.identity;
        if end.verdict == Verdict::Skipped {
            return Err(Inconsistent(format!(
                "card `{card}` ends `skipped`, which no journal record says"
            )));
        }
        match self.cards.get(card) {
            Some(Entry::Open { seq, row, uid }) => {
                if (*seq, *row) != (end.seq, end.row) {
                    return Err(Inconsistent(format!(
                        "card `{card}` ends with {}, but it began with {}",
                        describe(end.seq, end.row),
                        describe(*seq, *row)
                    )));
                }
                if uid.as_deref() != end.uid.as_deref() {
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
        self.check_end(end)?;
        if matches!(end.verdict, Verdict::Ok | Verdict::Failed) {
            self.open -= 1;
            self.finished += 1;
            self.cards.insert(
                end.identity.clone(),
                Entry::Done {
                    seq: end.seq,
                    row: end.row,
                    verdict: end.verdict,
                    time: end.time.clone(),
                    step: end.step.clone(),
                },
            );
        }
        Ok(())
    }

    /// Whether `row` can belong to a card of this batch: a row in `1..=rows` with data, none
    /// without.
    fn check_row(&self, card: &str, row: Option<u64>) -> Result<(), Inconsistent> {
        let message = match (row, self.data_rows) {
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
        let row_text = |row: &Option<u64>| match row {
            Some(row) => format!("row {row}"),
            None => "no data row".to_string(),
        };
        match self.cards.get(identity) {
            None => Decision::New,
            Some(Entry::Open { .. }) if self.in_flight.contains(identity) => {
                Decision::Skip("the card is being personalised in another reader".to_string())
            }
            Some(Entry::Open { seq, row, .. }) => Decision::Resume {
                seq: *seq,
                row: *row,
            },
            Some(Entry::Done {
                seq,
                row,
                verdict: Verdict::Ok,
                time,
                ..
            }) => Decision::Issued(format!(
                "already issued ok at {time} with {} (seq {seq})",
                row_text(row)
            )),
            Some(Entry::Done {
                seq,
                row,
                time,
                step,
                ..
            }) => Decision::FailedBefore(format!(
                "failed at {time} with {} (seq {seq}) in step `{}`; a failed card is not tried again",
                row_text(row),
                step.as_deref().unwrap_or("?")
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
        let row = match rows {
            Some(rows) if self.rows_used >= rows => return Err(Full::Data),
            Some(_) => Some(self.rows_used + 1),
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
        let waiting = self.open - self.in_flight.len();
        match rows {
            Some(rows) if self.rows_used >= rows && waiting == 0 => Some(Full::Data),
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
            .values()
            .fold((0, 0), |(ok, failed), entry| match entry {
                Entry::Done {
                    verdict: Verdict::Ok,
                    ..
                } => (ok + 1, failed),
                Entry::Done { .. } => (ok, failed + 1),
                Entry::Open { .. } => (ok, failed),
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
