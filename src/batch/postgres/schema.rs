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
//! Version 2 (one round trip and one commit for each of a card's `begin` and `end`):
//! - `apdu_run_lease(lot, identity, uid, atr, station, reader, profile, count, low)` —
//!   under `count` cards finished or being run at any station (when given; such leases of
//!   one lot take turns), takes the lot's first open row at or
//!   after `low` (the station's last row; the whole lot when none is left there) with
//!   `FOR UPDATE SKIP LOCKED`, inserts the card (nothing when its identity is there
//!   already), marks the row `leased` and takes the card's advisory lock; returns
//!   `outcome` (`run`, `count`, `data` or `elsewhere`) and, for `run`, the card's `seq`, its
//!   `row_no` and the row's `cells`.
//! - `apdu_run_end(seq, identity, verdict, step, sw, state)` — records an open card's end
//!   and, when `state` is given, its row's, and lets the card's advisory lock go; false
//!   when the card is not open.
//! - `apdu_run_more(lot, low)` — whether the lot has an open row (looked for from `low`
//!   first) and, only when it has none, how many of its cards are open.
//!
//! Why the low mark: a leased row's old entry stays in the index of open rows until vacuum,
//! so a search from the lot's first row steps over every row taken so far, and a lot's
//! leases would cost more and more as it is used up.
//!
//! A card being run holds a session-level advisory lock on its `seq`: the server drops it
//! when the station's connection ends (a station killed, a network lost), which is how
//! another station tells an interrupted card from one being issued right now.

use postgres::Client;

use super::conn::{DbError, Kind, Target};

/// The schema version this build works with.
pub const VERSION: i32 = 2;

/// Migration `n` (from 1) takes the schema from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    "
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
",
    "
CREATE FUNCTION apdu_run_lease(
    p_lot bigint, p_identity text, p_uid text, p_atr text, p_station text, p_reader text,
    p_profile text, p_count bigint, p_low bigint
) RETURNS TABLE (outcome text, seq bigint, row_no bigint, cells text[])
LANGUAGE plpgsql AS $$
DECLARE
    v_row bigint;
    v_cells text[];
    v_seq bigint;
BEGIN
    IF p_count IS NOT NULL THEN
        -- Under --count, leases of the lot take turns (the lot's line stays locked until
        -- this commit), and count the lot's cards finished and those being run at any
        -- station (open, with their advisory lock held: a bigint key shows as classid,
        -- objid with objsubid 1), so stations together never start more than asked.
        PERFORM 1 FROM apdu_run_lot l WHERE l.id = p_lot FOR NO KEY UPDATE;
        IF (SELECT count(*) FROM apdu_run_card c
            WHERE c.lot = p_lot AND c.verdict IN ('ok', 'failed'))
         + (SELECT count(*) FROM apdu_run_card c
            WHERE c.lot = p_lot AND c.verdict IS NULL AND EXISTS (
                SELECT 1 FROM pg_locks k
                WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1
                  AND k.classid = (c.seq >> 32)::oid AND k.objid = (c.seq & 4294967295)::oid))
         >= p_count THEN
            RETURN QUERY SELECT 'count'::text, NULL::bigint, NULL::bigint, NULL::text[];
            RETURN;
        END IF;
    END IF;
    -- From the station's low mark first: a row never goes back to `open`, so the rows
    -- below it were taken, or locked by another station when this one passed them; only
    -- when nothing is left above it is the whole lot searched (those rows again).
    SELECT r.row_no, r.cells INTO v_row, v_cells FROM apdu_run_row r
    WHERE r.lot = p_lot AND r.state = 'open' AND r.row_no >= p_low
    ORDER BY r.row_no LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND AND p_low > 1 THEN
        SELECT r.row_no, r.cells INTO v_row, v_cells FROM apdu_run_row r
        WHERE r.lot = p_lot AND r.state = 'open'
        ORDER BY r.row_no LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    IF v_row IS NULL THEN
        RETURN QUERY SELECT 'data'::text, NULL::bigint, NULL::bigint, NULL::text[];
        RETURN;
    END IF;
    -- The card first: when another station began it a moment ago, nothing is written and
    -- the row, only locked, stays open for the next card.
    INSERT INTO apdu_run_card AS c
        (identity, lot, row_no, uid, atr, station, reader, profile, begun)
    VALUES (p_identity, p_lot, v_row, p_uid, p_atr, p_station, p_reader, p_profile, now())
    ON CONFLICT (identity) DO NOTHING
    RETURNING c.seq INTO v_seq;
    IF v_seq IS NULL THEN
        RETURN QUERY SELECT 'elsewhere'::text, NULL::bigint, NULL::bigint, NULL::text[];
        RETURN;
    END IF;
    UPDATE apdu_run_row r SET state = 'leased' WHERE r.lot = p_lot AND r.row_no = v_row;
    -- Held from before the commit, so no other station can see the card unlocked.
    PERFORM pg_advisory_lock(v_seq);
    RETURN QUERY SELECT 'run'::text, v_seq, v_row, v_cells;
END
$$;
CREATE FUNCTION apdu_run_end(
    p_seq bigint, p_identity text, p_verdict text, p_step text, p_sw text, p_state text
) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_lot bigint;
    v_row bigint;
BEGIN
    UPDATE apdu_run_card c SET verdict = p_verdict, step = p_step, sw = p_sw, ended = now()
    WHERE c.seq = p_seq AND c.identity = p_identity AND c.verdict IS NULL
    RETURNING c.lot, c.row_no INTO v_lot, v_row;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF p_state IS NOT NULL THEN
        UPDATE apdu_run_row r SET state = p_state WHERE r.lot = v_lot AND r.row_no = v_row;
    END IF;
    -- Let go before the commit: a station that takes the lock in between and tries to
    -- resume the card waits for this transaction's row lock, then finds the card ended.
    PERFORM pg_advisory_unlock(p_seq);
    RETURN true;
END
$$;
CREATE FUNCTION apdu_run_more(p_lot bigint, p_low bigint)
RETURNS TABLE (open_rows boolean, open_cards bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM apdu_run_row r
               WHERE r.lot = p_lot AND r.state = 'open' AND r.row_no >= p_low) THEN
        RETURN QUERY SELECT true, NULL::bigint;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM apdu_run_row r WHERE r.lot = p_lot AND r.state = 'open') THEN
        RETURN QUERY SELECT true, NULL::bigint;
        RETURN;
    END IF;
    RETURN QUERY SELECT false, count(*) FROM apdu_run_card c
        WHERE c.lot = p_lot AND (c.verdict IS NULL OR c.verdict = 'interrupted');
END
$$;
",
];

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
