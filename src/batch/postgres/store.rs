//! The PostgreSQL ledger behind the ledger interface: several stations on one lot.
//!
//! Each station (one `apdu-run batch` process) holds one connection; its readers share it
//! behind the batch's lock. A new card's row is leased with `SELECT … FOR UPDATE SKIP
//! LOCKED` in the same transaction that inserts the card's line (its `begin`), so two
//! stations never take one row, and the UNIQUE card identity makes the insert of a card
//! another station has just begun do nothing: the transaction is rolled back (the row
//! goes back to the lot) and the card is skipped with where it is being issued. A card
//! being run holds an advisory lock on its `seq` for as long as its station's connection
//! lives, so a card left open by a station that died (or lost the database) is resumed with
//! its row by the next station that sees it, and a card running elsewhere is not.
//!
//! The per-card SQL is prepared once per connection (`statements.rs`); a new card's `begin`
//! and every `end` are one server-side function call each, so a card costs the station
//! about five round trips and two commits.
//!
//! Every `begin` and `end` is committed before the call returns (synchronous commit). A
//! lost connection is [`Kind::Unreachable`]: the batch stops (exit 3), and the card whose
//! `end` could not be written stays open in the ledger and is finished with its row when
//! presented again. Row values leave the database only as a lease's values, for the run.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use postgres::{Client, Transaction};

use super::conn::{DbError, Kind, Target};
use super::lots::{self, Lot};
use super::names;
use super::schema;
use super::statements::{Statements, TIME};
use crate::batch::Error;
use crate::batch::ledger::Full;
use crate::batch::record::{End, Verdict};
use crate::batch::store::{Arrival, Begun, Known, Lease, Store, Ticket};

/// How long "the lot has open rows" is believed without asking again.
const ROWS_LEFT_FOR: Duration = Duration::from_millis(50);

/// Which profile a batch runs, for the ledger's version history.
#[derive(Debug, Clone)]
pub struct ProfileVersion {
    /// The profile's content hash.
    pub hash: String,
    /// Its `name:`.
    pub name: String,
    /// Its file.
    pub file: String,
    /// `--profile-changed`: continue the ledger with a profile other than the last one run.
    pub changed: bool,
}

/// One station's connection to the ledger, drawing from one lot.
pub struct PgStore {
    target: Target,
    client: Client,
    sql: Statements,
    lot: Lot,
    station: String,
    profile: String,
    /// The last row this station leased: where it looks for the next open row first.
    low: i64,
    /// When the lot was last seen to have open rows.
    rows_left: Option<Instant>,
    /// Cards being run by this station's readers now.
    in_flight: HashSet<String>,
    /// Cards whose advisory lock this session holds, with their `seq`.
    held: HashMap<String, i64>,
    notes: Vec<String>,
}

impl PgStore {
    /// Connects, checks the schema, finds the lot and records the profile version (refused
    /// when it changed without `profile.changed`).
    pub fn open(
        target: Target,
        lot: &str,
        station: &str,
        profile: &ProfileVersion,
    ) -> Result<PgStore, DbError> {
        let mut client = target.connect()?;
        schema::check(&target, &mut client)?;
        let lot = lots::find(&target, &mut client, lot)?;
        let mut notes = Vec::new();
        let last: Option<(String, String)> = client
            .query_opt(
                &format!(
                    "SELECT hash, to_char(adopted AT TIME ZONE 'UTC', {TIME}) FROM apdu_run_profile ORDER BY id DESC LIMIT 1"
                ),
                &[],
            )
            .map_err(|e| target.error(&e))?
            .map(|row| (row.get(0), row.get(1)));
        let adopt = match &last {
            None => true,
            Some((hash, _)) if *hash == profile.hash => false,
            Some((hash, when)) if profile.changed => {
                notes.push(format!(
                    "ledger `{}`: profile changed (hash {} replaces {hash}, run since {when}); cards issued under every earlier version stay issued",
                    target.shown(),
                    profile.hash
                ));
                true
            }
            Some((hash, when)) => {
                return Err(target.fail(
                    Kind::Invalid,
                    format!(
                        "the profile changed: the ledger runs profile hash {hash} (since {when}), `{}` has hash {}; continue with --profile-changed (cards issued under earlier versions are never issued again), or run the profile the ledger runs",
                        profile.file, profile.hash
                    ),
                ));
            }
        };
        if adopt {
            client
                .execute(
                    "INSERT INTO apdu_run_profile (hash, name, file) VALUES ($1, $2, $3)",
                    &[&profile.hash, &profile.name, &profile.file],
                )
                .map_err(|e| target.error(&e))?;
        }
        let status = lots::status(&target, &mut client, &lot)?;
        notes.push(format!(
            "ledger `{}` lot `{}` at station `{station}`: {} rows, {} issued, {} failed, {} leased, {} open",
            target.shown(),
            lot.name,
            status.total,
            status.issued,
            status.failed,
            status.leased,
            status.open
        ));
        let sql = Statements::prepare(&mut client).map_err(|e| target.error(&e))?;
        Ok(PgStore {
            target,
            client,
            sql,
            lot,
            low: 1,
            rows_left: None,
            station: station.to_string(),
            profile: profile.hash.clone(),
            in_flight: HashSet::new(),
            held: HashMap::new(),
            notes,
        })
    }

    fn db(&self, e: &postgres::Error) -> Error {
        Error::Ledger(self.target.error(e))
    }

    /// Where a card begun elsewhere stands, in words.
    fn where_is(&mut self, identity: &str) -> Result<String, Error> {
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT station, reader, verdict, to_char(begun AT TIME ZONE 'UTC', {TIME}) FROM apdu_run_card WHERE identity = $1"
                ),
                &[&identity],
            )
            .map_err(|e| Error::Ledger(self.target.error(&e)))?;
        Ok(match row {
            Some(row) => {
                // Stored by another station (or anyone with the database): escaped.
                let station = names::printable(&row.get::<_, String>(0));
                let reader = names::printable(&row.get::<_, String>(1));
                let verdict: Option<String> = row.get(2);
                let begun: String = row.get(3);
                match verdict {
                    Some(v) => format!("{v} at station `{station}` ({reader}), begun {begun}"),
                    None => format!("being issued at station `{station}` ({reader}) since {begun}"),
                }
            }
            None => "taken by another station".to_string(),
        })
    }

    fn release(&mut self, identity: &str) -> Result<(), Error> {
        self.in_flight.remove(identity);
        if let Some(seq) = self.held.remove(identity) {
            self.client
                .execute(&self.sql.unlock, &[&seq])
                .map_err(|e| Error::Ledger(self.target.error(&e)))?;
        }
        Ok(())
    }

    fn values(
        tx: &mut Transaction<'_>,
        lot: i64,
        row: i64,
    ) -> Result<Vec<(String, String)>, postgres::Error> {
        let found = tx.query_one(
            "SELECT l.columns, r.cells FROM apdu_run_row r JOIN apdu_run_lot l ON l.id = r.lot WHERE r.lot = $1 AND r.row_no = $2",
            &[&lot, &row],
        )?;
        let columns: Vec<String> = found.get(0);
        let cells: Vec<String> = found.get(1);
        Ok(columns.into_iter().zip(cells).collect())
    }

    fn resume(&mut self, card: &Arrival, seq: i64) -> Result<Begun, Error> {
        let db = |e: postgres::Error| Error::Ledger(self.target.error(&e));
        let mut tx = self.client.transaction().map_err(db)?;
        let found = tx
            .query_opt(
                "UPDATE apdu_run_card SET verdict = NULL, station = $2, reader = $3, profile = $4,
                     begun = now(), ended = NULL, step = NULL, sw = NULL
                 WHERE seq = $1 AND (verdict IS NULL OR verdict = 'interrupted')
                 RETURNING lot, row_no",
                &[&seq, &self.station, &card.reader, &self.profile],
            )
            .map_err(db)?;
        let Some(found) = found else {
            drop(tx);
            let why = self.where_is(&card.identity)?;
            self.release(&card.identity)?;
            return Ok(Begun::Elsewhere(why));
        };
        let (lot, row): (i64, i64) = (found.get(0), found.get(1));
        let values = Self::values(&mut tx, lot, row).map_err(db)?;
        tx.commit().map_err(db)?;
        self.in_flight.insert(card.identity.clone());
        // Committed above: the ticket is durable already.
        Ok(Begun::Run(
            Lease {
                seq: seq as u64,
                row: Some(row as u64),
                values,
                resumed: true,
            },
            Ticket::durable(),
        ))
    }

    fn lease(&mut self, card: &Arrival, count: Option<u64>) -> Result<Begun, Error> {
        let count = count.map(|c| i64::try_from(c).unwrap_or(i64::MAX));
        let found = self
            .client
            .query_one(
                &self.sql.lease,
                &[
                    &self.lot.id,
                    &card.identity,
                    &card.uid,
                    &card.atr,
                    &self.station,
                    &card.reader,
                    &self.profile,
                    &count,
                    &self.low,
                ],
            )
            .map_err(|e| self.db(&e))?;
        let outcome: &str = found.get(0);
        match outcome {
            "run" => {}
            "count" => return Ok(Begun::Full(Full::Count)),
            "data" => {
                self.rows_left = None;
                return Ok(Begun::Full(Full::Data));
            }
            "elsewhere" => {
                let why = self.where_is(&card.identity)?;
                return Ok(Begun::Elsewhere(why));
            }
            other => {
                return Err(Error::Ledger(self.target.fail(
                    Kind::Failed,
                    format!("the lease answered `{other}`, which this apdu-run does not know"),
                )));
            }
        }
        let (seq, row): (i64, i64) = (found.get(1), found.get(2));
        let cells: Vec<String> = found.get(3);
        let values = self.lot.columns.iter().cloned().zip(cells).collect();
        self.low = row;
        self.held.insert(card.identity.clone(), seq);
        self.in_flight.insert(card.identity.clone());
        // The lease function committed: the ticket is durable already.
        Ok(Begun::Run(
            Lease {
                seq: seq as u64,
                row: Some(row as u64),
                values,
                resumed: false,
            },
            Ticket::durable(),
        ))
    }

    fn counts(&mut self) -> Result<(i64, i64, i64), Error> {
        let row = self
            .client
            .query_one(
                "SELECT (SELECT count(*) FROM apdu_run_row WHERE lot = $1 AND state = 'open'),
                        (SELECT count(*) FROM apdu_run_card WHERE lot = $1 AND verdict IN ('ok', 'failed')),
                        (SELECT count(*) FROM apdu_run_card WHERE lot = $1 AND (verdict IS NULL OR verdict = 'interrupted'))",
                &[&self.lot.id],
            )
            .map_err(|e| self.db(&e))?;
        Ok((row.get(0), row.get(1), row.get(2)))
    }
}

impl Store for PgStore {
    fn describe(&self) -> String {
        format!(
            "lot `{}` of ledger `{}`",
            self.lot.name,
            self.target.shown()
        )
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn known(&mut self, identity: &str) -> Result<Known, Error> {
        let row = self
            .client
            .query_opt(&self.sql.known, &[&identity])
            .map_err(|e| self.db(&e))?;
        let Some(row) = row else {
            return Ok(Known::New);
        };
        let seq: i64 = row.get(0);
        let verdict: Option<String> = row.get(1);
        let station: String = row.get(2);
        let row_no: i64 = row.get(3);
        let lot: String = row.get(4);
        let step: Option<String> = row.get(5);
        let when: String = row.get(6);
        match verdict.as_deref() {
            Some("ok") => Ok(Known::Issued(format!(
                "already issued ok at {when} at station `{station}` with row {row_no} of lot `{lot}` (seq {seq})"
            ))),
            Some("failed") => Ok(Known::FailedBefore(format!(
                "failed at {when} at station `{station}` with row {row_no} of lot `{lot}` (seq {seq}) in step `{}`; a failed card is not tried again",
                step.as_deref().unwrap_or("?")
            ))),
            _ if self.in_flight.contains(identity) => Ok(Known::Skip(
                "the card is being personalised in another reader".to_string(),
            )),
            _ => {
                let locked: bool = self
                    .client
                    .query_one(&self.sql.try_lock, &[&seq])
                    .map_err(|e| self.db(&e))?
                    .get(0);
                if locked {
                    self.held.insert(identity.to_string(), seq);
                    Ok(Known::Open)
                } else {
                    Ok(Known::Skip(self.where_is(identity)?))
                }
            }
        }
    }

    fn begin(&mut self, card: &Arrival, count: Option<u64>) -> Result<Begun, Error> {
        match self.held.get(&card.identity) {
            Some(&seq) => self.resume(card, seq),
            None => self.lease(card, count),
        }
    }

    fn end(&mut self, end: &End) -> Result<Ticket, Error> {
        let seq = end.seq as i64;
        let state = match end.verdict {
            Verdict::Ok => Some("issued"),
            Verdict::Failed => Some("failed"),
            Verdict::Interrupted | Verdict::Skipped => None,
        };
        let recorded: bool = self
            .client
            .query_one(
                &self.sql.end,
                &[
                    &seq,
                    &end.identity,
                    &end.verdict.name(),
                    &end.step,
                    &end.sw,
                    &state,
                ],
            )
            .map_err(|e| self.db(&e))?
            .get(0);
        if recorded {
            // apdu_run_end let the advisory lock go.
            self.held.remove(&end.identity);
        } else {
            return Err(Error::Ledger(self.target.fail(
                Kind::Failed,
                format!(
                    "card `{}` (seq {seq}) is not open in the ledger, its end is not recorded",
                    end.identity
                ),
            )));
        }
        self.release(&end.identity)?;
        Ok(Ticket::durable())
    }

    fn exhausted(&mut self, count: Option<u64>) -> Result<Option<Full>, Error> {
        // Asked before every card: the finished cards are counted only for --count, the
        // rest are index lookups (open rows, open cards), whatever the size of the lot.
        if let Some(count) = count {
            if self.counts()?.1 as u64 >= count {
                return Ok(Some(Full::Count));
            }
        }
        // A row is never open again once taken, so "open rows are left" only goes stale
        // towards a later stop: it is believed for a moment (the worker asks after each
        // card and again before waiting for the next), never after a lease found none.
        if self
            .rows_left
            .is_some_and(|at| at.elapsed() < ROWS_LEFT_FOR)
        {
            return Ok(None);
        }
        let row = self
            .client
            .query_one(&self.sql.more, &[&self.lot.id, &self.low])
            .map_err(|e| self.db(&e))?;
        let (open_rows, open_cards): (bool, Option<i64>) = (row.get(0), row.get(1));
        self.rows_left = open_rows.then(Instant::now);
        let open_cards = open_cards.unwrap_or(0);
        let waiting = open_cards - self.in_flight.len() as i64;
        Ok((!open_rows && waiting <= 0).then_some(Full::Data))
    }

    fn finished(&mut self) -> Result<u64, Error> {
        Ok(self.counts()?.1 as u64)
    }

    fn open(&mut self) -> Result<u64, Error> {
        Ok(self.counts()?.2 as u64)
    }
}

/// This machine's name, the default station name.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "station".to_string())
}
