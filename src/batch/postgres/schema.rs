//! The ledger's tables, created and migrated by `apdu-run ledger init`.
//!
//! `apdu_run_schema` holds one line per migration applied (its version and when).
//! [`init`] applies the missing migrations in order, in one transaction, under a lock on
//! that table, so two `init`s never race; every other use of the ledger checks that the
//! schema is exactly [`VERSION`] and refuses otherwise, saying to run `ledger init` (an
//! older schema) or to use a newer apdu-run (a newer one).
//!
//! Version 1:
//! - `apdu_run_lot` — a data lot: `name` (unique), `columns`, the data file's SHA-256 and
//!   name, when it was imported.
//! - `apdu_run_row` — one data row: (`lot`, `row_no`) key, `cells` (the values, for issuance
//!   only), `state`: `open`, `leased` (a card began with it), `issued`, `failed`.
//! - `apdu_run_profile` — every profile version a batch ran: `hash`, `name`, `file`, when
//!   it was first run; the highest `id` is the current one.
//! - `apdu_run_card` — one line per card ever begun: `seq` (its number), `identity`
//!   (UNIQUE: the whole database is one issuance scope, so no card is begun twice across
//!   lots, stations or profile versions), its (`lot`, `row_no`) (UNIQUE: a row serves one
//!   card), `uid`, `atr`, `station`, `reader`, `profile` (hash), `verdict` (NULL while
//!   open, then `ok`, `failed` or `interrupted`), `step`, `sw`, `begun`, `ended`.
//!
//! A card being run holds a session-level advisory lock on its `seq`: the server drops it
//! when the station's connection ends (a station killed, a network lost), which is how
//! another station tells an interrupted card from one being issued right now.

use postgres::Client;

use super::conn::{DbError, Kind, Target};

/// The schema version this build works with.
pub const VERSION: i32 = 1;

/// Migration `n` (from 1) takes the schema from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &["
CREATE TABLE apdu_run_lot (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    columns text[] NOT NULL,
    source text NOT NULL,
    data_hash text NOT NULL,
    imported timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE apdu_run_row (
    lot bigint NOT NULL REFERENCES apdu_run_lot (id),
    row_no bigint NOT NULL CHECK (row_no >= 1),
    cells text[] NOT NULL,
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'leased', 'issued', 'failed')),
    PRIMARY KEY (lot, row_no)
);
CREATE INDEX apdu_run_row_open ON apdu_run_row (lot, row_no) WHERE state = 'open';
CREATE TABLE apdu_run_profile (
    id bigserial PRIMARY KEY,
    hash text NOT NULL,
    name text NOT NULL,
    file text NOT NULL,
    adopted timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE apdu_run_card (
    seq bigserial PRIMARY KEY,
    identity text NOT NULL UNIQUE,
    lot bigint NOT NULL,
    row_no bigint NOT NULL,
    uid text,
    atr text NOT NULL,
    station text NOT NULL,
    reader text NOT NULL,
    profile text NOT NULL,
    verdict text CHECK (verdict IN ('ok', 'failed', 'interrupted')),
    step text,
    sw text,
    begun timestamptz NOT NULL,
    ended timestamptz,
    UNIQUE (lot, row_no),
    FOREIGN KEY (lot, row_no) REFERENCES apdu_run_row (lot, row_no)
);
CREATE INDEX apdu_run_card_lot ON apdu_run_card (lot, verdict);
"];

/// What [`init`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// The version found (0: no schema).
    pub from: i32,
    /// The version now.
    pub to: i32,
}

/// Creates or migrates the schema to [`VERSION`].
pub fn init(target: &Target, client: &mut Client) -> Result<Migrated, DbError> {
    let db = |e: postgres::Error| target.error(&e);
    let mut tx = client.transaction().map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS apdu_run_schema (
            version integer PRIMARY KEY,
            applied timestamptz NOT NULL DEFAULT now()
        );
        LOCK TABLE apdu_run_schema IN EXCLUSIVE MODE;",
    )
    .map_err(db)?;
    let from: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM apdu_run_schema", &[])
        .map_err(db)?
        .get(0);
    if from > VERSION {
        return Err(newer(target, from));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let version = i as i32 + 1;
        tx.batch_execute(sql).map_err(db)?;
        tx.execute(
            "INSERT INTO apdu_run_schema (version) VALUES ($1)",
            &[&version],
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)?;
    Ok(Migrated { from, to: VERSION })
}

/// Checks that the schema is [`VERSION`].
pub fn check(target: &Target, client: &mut Client) -> Result<(), DbError> {
    let db = |e: postgres::Error| target.error(&e);
    let exists: bool = client
        .query_one("SELECT to_regclass('apdu_run_schema') IS NOT NULL", &[])
        .map_err(db)?
        .get(0);
    let found: Option<i32> = if exists {
        Some(
            client
                .query_one("SELECT coalesce(max(version), 0) FROM apdu_run_schema", &[])
                .map_err(db)?
                .get(0),
        )
    } else {
        None
    };
    match found {
        Some(VERSION) => Ok(()),
        Some(v) if v > VERSION => Err(newer(target, v)),
        Some(v) => Err(target.fail(
            Kind::Invalid,
            format!("the schema is version {v}, this apdu-run needs {VERSION}; run `apdu-run ledger init` to migrate it"),
        )),
        None => Err(target.fail(
            Kind::Invalid,
            "no apdu-run ledger here yet; run `apdu-run ledger init` first",
        )),
    }
}

fn newer(target: &Target, version: i32) -> DbError {
    target.fail(
        Kind::Invalid,
        format!("the schema is version {version}, newer than this apdu-run knows ({VERSION}); use a newer apdu-run"),
    )
}
