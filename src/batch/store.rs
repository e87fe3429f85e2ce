//! The ledger interface: what a batch needs from the record of its cards, whichever back end
//! keeps it.
//!
//! A batch asks its ledger four things: what is known of a card identity
//! ([`Store::known`]), to lease a row for a card and record its `begin` in one step
//! ([`Store::begin`]), to record its `end` ([`Store::end`]), and whether any further card
//! can be started ([`Store::exhausted`]). The JSON Lines journal (`file_store.rs`, the
//! default) and PostgreSQL (`postgres.rs`, several stations on one lot) implement it; the
//! card loop (`card.rs`, `worker.rs`) knows only this trait.
//!
//! The promises every back end keeps: a `begin` is durable once the [`Ticket`] that
//! [`Store::begin`] returned with it has been waited on (the caller waits before the
//! card's first APDU), an `end` once the ticket of [`Store::end`] has been (before the card
//! is reported); a row is leased to one card only, ever; a card finished (`ok` or
//! `failed`) is never begun again; a card begun and not finished is resumed with the row it
//! had. The card identity is an
//! opaque string (a UID in hex, a simulated card's name, or whatever the batch identifies
//! cards by). This file holds the types only.
//!
//! Why tickets: the batch calls `begin` and `end` under the workers' one lock, which makes
//! deciding and writing one step; waiting for durability under it would make N readers
//! take turns at N syncs. The journal returns its record written and not yet durable, and
//! the caller waits for it after releasing the lock, so readers share syncs (group
//! commit). A back end that commits before returning (PostgreSQL) returns
//! [`Ticket::durable`].

use super::Error;
use super::journal::Pending;
use super::ledger::Full;
use super::record::End;

/// A presented card, as far as the batch identified it.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// What the card is told apart by (opaque to the ledger).
    pub identity: String,
    /// Its UID, uppercase hex, when it has one.
    pub uid: Option<String>,
    /// The reader it is in.
    pub reader: String,
    /// Its ATR, uppercase hex.
    pub atr: String,
}

/// What is known of a card identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// Issued before: leave it alone; the text says when and with which row.
    Issued(String),
    /// Failed before: it is not tried again (its row stays used); the text says when.
    FailedBefore(String),
    /// Not to be run; the text says why (it is being issued elsewhere, and where).
    Skip(String),
    /// Begun and not finished: finish it with the row it had.
    Open,
    /// Never seen: it needs a new row.
    New,
}

/// What [`Store::begin`] did.
#[derive(Debug)]
pub enum Begun {
    /// The card's `begin` is recorded: run it once the ticket's wait returns `Ok`.
    Run(Lease, Ticket),
    /// Between [`Store::known`] and [`Store::begin`] another station took the card; the text
    /// says where it is being issued. Nothing was recorded.
    Elsewhere(String),
    /// No new card can start: `--count` is reached or no row is left.
    Full(Full),
}

/// The row a card runs with, and its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The card's sequence number (kept when it is resumed).
    pub seq: u64,
    /// Its data row, 1-based within its lot (`None` for a batch without data).
    pub row: Option<u64>,
    /// The row's values, for the profile only: never shown, never recorded.
    pub values: Vec<(String, String)>,
    /// Whether the card was begun before and is being resumed.
    pub resumed: bool,
}

/// Whether a record that [`Store::begin`] or [`Store::end`] wrote is durable yet.
#[derive(Debug)]
#[must_use = "a record is not durable until its ticket's wait returns"]
pub struct Ticket(Option<Pending>);

impl Ticket {
    /// A record that is durable already (the back end committed it before returning).
    pub fn durable() -> Ticket {
        Ticket(None)
    }

    /// A journal record written and not yet durable.
    pub(super) fn pending(pending: Pending) -> Ticket {
        Ticket(Some(pending))
    }

    /// Returns once the record is durable, or with the error that lost it. Called without
    /// the workers' lock, so that other readers' records can share the sync.
    pub fn wait(self) -> Result<(), Error> {
        match self.0 {
            None => Ok(()),
            Some(pending) => Ok(pending.wait()?),
        }
    }
}

/// The record of a batch's cards: the journal file or a database.
pub trait Store: Send {
    /// What the ledger is, for messages: "journal `t.journal.jsonl`", "lot `L` in
    /// postgresql://host/db" (never a password).
    fn describe(&self) -> String;

    /// Lines to show once at the start (a repaired journal, cards open from before).
    fn notes(&self) -> Vec<String>;

    /// The one line that sums up the cards done before, when the ledger goes on from an
    /// earlier run (`resuming: 12 cards already in …`).
    fn resuming(&self) -> Option<String> {
        None
    }

    /// What is known of the card `identity`.
    fn known(&mut self, identity: &str) -> Result<Known, Error>;

    /// Records the `begin` of a card that [`Store::known`] found [`Known::Open`] (resumed
    /// with its row) or [`Known::New`] (leasing the next row of the lot, under `count`
    /// finished cards), as one step: no other card can take the same row, no other
    /// station the same card. The `begin` is durable once the ticket of [`Begun::Run`]
    /// has been waited on.
    fn begin(&mut self, card: &Arrival, count: Option<u64>) -> Result<Begun, Error>;

    /// Records a card's `end`, durable once the ticket returned has been waited on; an
    /// `interrupted` card stays open with its row.
    fn end(&mut self, end: &End) -> Result<Ticket, Error>;

    /// Why no further card can be started at all, if none can.
    fn exhausted(&mut self, count: Option<u64>) -> Result<Option<Full>, Error>;

    /// Cards finished (`ok` or `failed`), in this run and before.
    fn finished(&mut self) -> Result<u64, Error>;

    /// Cards begun and not finished.
    fn open(&mut self) -> Result<u64, Error>;
}
