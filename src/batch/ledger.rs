//! What the journal says so far: which cards are done, which are open, which rows are used.
//!
//! The ledger is rebuilt from the journal at start and kept up to date with every record
//! written, so replaying a journal and living through it give the same state. It decides,
//! for a card presented, whether it is skipped (issued or failed before), resumed with the
//! row it had (a `begin` without a final `end`), or new; and a new card gets the next
//! sequence number and the next unused row. Rows are handed out in file order and never
//! again: a failed card's row stays used, an interrupted card keeps its row.
//!
//! This file does no I/O: the journal writes, the ledger only counts.

use std::collections::{HashMap, HashSet};

use super::record::{Begin, End, Verdict};

/// Where one card stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Begun, not finished (running now, interrupted, or cut off by a crash).
    Open { seq: u64, row: Option<u64> },
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
    /// Leave it alone; the text says why (it failed before, or is busy elsewhere).
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
    cards: HashMap<String, Entry>,
    /// Identity of the card that used each row.
    rows: HashMap<u64, String>,
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
    /// An empty ledger: no card seen, row 1 next.
    pub fn new() -> Ledger {
        Ledger {
            next_seq: 1,
            ..Ledger::default()
        }
    }

    /// Takes a `begin` into account, checking that its row was not used by another card.
    pub fn begin(&mut self, begin: &Begin) -> Result<(), Inconsistent> {
        if let Some(row) = begin.row {
            match self.rows.get(&row) {
                Some(owner) if *owner != begin.identity => {
                    return Err(Inconsistent(format!(
                        "row {row} is used by card `{}` and card `{owner}`",
                        begin.identity
                    )));
                }
                Some(_) => {}
                None => {
                    self.rows.insert(row, begin.identity.clone());
                }
            }
            self.rows_used = self.rows_used.max(row);
        }
        match self.cards.get(&begin.identity) {
            Some(Entry::Done { .. }) => {
                return Err(Inconsistent(format!(
                    "card `{}` begins again after it was finished",
                    begin.identity
                )));
            }
            Some(Entry::Open { .. }) => {}
            None => self.open += 1,
        }
        self.cards.insert(
            begin.identity.clone(),
            Entry::Open {
                seq: begin.seq,
                row: begin.row,
            },
        );
        self.next_seq = self.next_seq.max(begin.seq + 1);
        Ok(())
    }

    /// Takes an `end` into account.
    pub fn end(&mut self, end: &End) -> Result<(), Inconsistent> {
        match self.cards.get(&end.identity) {
            Some(Entry::Open { .. }) => {}
            _ => {
                return Err(Inconsistent(format!(
                    "card `{}` ends without a begin",
                    end.identity
                )));
            }
        }
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
            Some(Entry::Open { seq, row }) => Decision::Resume {
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
            }) => Decision::Skip(format!(
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

    /// Cards begun and not finished, including those in flight.
    pub fn open(&self) -> usize {
        self.open
    }
}

#[cfg(test)]
mod tests;
