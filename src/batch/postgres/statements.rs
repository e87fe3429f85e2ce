//! The statements a station runs for every card, prepared once per connection.
//!
//! Each is parsed and planned by the server once, when the station connects; a card then
//! costs one round trip per statement (bind and execute), not two (parse, then execute).
//! `begin` and `end` of a new card are one server-side function call each
//! (`apdu_run_lease`, `apdu_run_end`, schema version 2), run in the server's own implicit
//! transaction: one round trip and one commit each. This file holds the SQL only; what the
//! answers mean is `store.rs`.

use postgres::{Client, Statement};

/// `to_char` format of the times shown.
pub const TIME: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

/// The per-card statements of one connection.
pub struct Statements {
    /// What is known of an identity: `seq`, `verdict`, `station`, `row_no`, lot name,
    /// `step`, when.
    pub known: Statement,
    /// `apdu_run_lease(…)`: a new card's `begin`.
    pub lease: Statement,
    /// `apdu_run_end(…)`: a card's `end`.
    pub end: Statement,
    /// Takes a card's advisory lock if no other session holds it.
    pub try_lock: Statement,
    /// Lets a card's advisory lock go.
    pub unlock: Statement,
    /// `apdu_run_more(…)`: whether the lot has an open row, and if not, how many of its
    /// cards are open.
    pub more: Statement,
}

impl Statements {
    /// Prepares them on `client`.
    pub fn prepare(client: &mut Client) -> Result<Statements, postgres::Error> {
        Ok(Statements {
            known: client.prepare(&format!(
                "SELECT c.seq, c.verdict, c.station, c.row_no, l.name, c.step,
                        to_char(coalesce(c.ended, c.begun) AT TIME ZONE 'UTC', {TIME})
                 FROM apdu_run_card c JOIN apdu_run_lot l ON l.id = c.lot WHERE c.identity = $1"
            ))?,
            lease: client.prepare(
                "SELECT outcome, seq, row_no, cells
                 FROM apdu_run_lease($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )?,
            end: client.prepare("SELECT apdu_run_end($1, $2, $3, $4, $5, $6)")?,
            try_lock: client.prepare("SELECT pg_try_advisory_lock($1)")?,
            unlock: client.prepare("SELECT pg_advisory_unlock($1)")?,
            more: client.prepare("SELECT open_rows, open_cards FROM apdu_run_more($1, $2)")?,
        })
    }
}
