//! Data lots in the ledger database: import once, count, export the card records.
//!
//! A lot's values are stored for issuance only: nothing here returns them. `status` counts
//! rows by state; `export` gives one record per card of the lot with its identity, row,
//! verdict, station, reader, profile and times — never a value. Import checks the file
//! completely first (`data.rs`), then writes the lot and all its rows in one transaction,
//! so a lot is either whole or absent; a name is imported once.

use postgres::Client;
use serde::Serialize;

use super::conn::{DbError, Kind, Target};
use crate::batch::data::DataSet;

/// How many rows one INSERT carries on import.
const CHUNK: usize = 5_000;

/// A lot as the ledger knows it (no values).
#[derive(Debug, Clone)]
pub struct Lot {
    /// Its key.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its columns, in file order.
    pub columns: Vec<String>,
    /// The file it was imported from.
    pub source: String,
    /// SHA-256 of that file.
    pub data_hash: String,
}

/// A lot's rows by state (`ledger status`; the JSON field names are a contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Rows in the lot.
    pub total: i64,
    /// Rows a card began with and has not finished (running, or interrupted).
    pub leased: i64,
    /// Rows of cards issued `ok`.
    pub issued: i64,
    /// Rows of cards that failed (used up).
    pub failed: i64,
    /// Rows no card has had.
    pub open: i64,
}

/// One card record of `ledger export` (the field names are a contract).
#[derive(Debug, Clone, Serialize)]
pub struct CardRecord {
    /// What the card is told apart by.
    pub identity: String,
    /// Its sequence number in the ledger.
    pub seq: i64,
    /// Its lot.
    pub lot: String,
    /// Its row in the lot.
    pub row: i64,
    /// `ok`, `failed`, `interrupted`, or null while open.
    pub verdict: Option<String>,
    /// The station that began (or last resumed) it.
    pub station: String,
    /// The reader there.
    pub reader: String,
    /// The profile version's hash.
    pub profile: String,
    /// The step that failed or was interrupted.
    pub step: Option<String>,
    /// Its status word, if it had one.
    pub sw: Option<String>,
    /// When it was (last) begun, RFC 3339 UTC.
    pub begun: String,
    /// When it ended, RFC 3339 UTC.
    pub ended: Option<String>,
}

/// Imports `data` as lot `name`; returns the lot.
pub fn import(
    target: &Target,
    client: &mut Client,
    name: &str,
    data: &DataSet,
) -> Result<Lot, DbError> {
    let db = |e: postgres::Error| target.error(&e);
    let mut tx = client.transaction().map_err(db)?;
    tx.batch_execute("LOCK TABLE apdu_run_lot IN SHARE ROW EXCLUSIVE MODE")
        .map_err(db)?;
    if let Some(row) = tx
        .query_opt(
            "SELECT source, to_char(imported AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM apdu_run_lot WHERE name = $1",
            &[&name],
        )
        .map_err(db)?
    {
        let source = super::names::printable(&row.get::<_, String>(0));
        let when: String = row.get(1);
        return Err(target.fail(
            Kind::Invalid,
            format!("lot `{name}` exists (imported {when} from `{source}`); a lot is imported once, import new data under a new name"),
        ));
    }
    let source = data.path.display().to_string();
    let id: i64 = tx
        .query_one(
            "INSERT INTO apdu_run_lot (name, columns, source, data_hash) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&name, &data.columns, &source, &data.hash],
        )
        .map_err(db)?
        .get(0);
    let width = data.columns.len() as i64;
    let total = data.len();
    let mut first = 1u64;
    while first <= total {
        let last = (first + CHUNK as u64 - 1).min(total);
        let mut cells: Vec<String> = Vec::with_capacity(CHUNK * data.columns.len());
        for row in first..=last {
            cells.extend(data.row(row).into_iter().map(|(_, value)| value));
        }
        let (from, to) = (first as i64, last as i64);
        tx.execute(
            "INSERT INTO apdu_run_row (lot, row_no, cells)
             SELECT $1, n, ($2::text[])[((n - $3::bigint) * $5::bigint + 1)::int : ((n - $3::bigint + 1) * $5::bigint)::int]
             FROM generate_series($3::bigint, $4::bigint) AS n",
            &[&id, &cells, &from, &to, &width],
        )
        .map_err(db)?;
        first = last + 1;
    }
    tx.commit().map_err(db)?;
    Ok(Lot {
        id,
        name: name.to_string(),
        columns: data.columns.clone(),
        source,
        data_hash: data.hash.clone(),
    })
}

/// The lot called `name`, or an error saying it is not there.
pub fn find(target: &Target, client: &mut Client, name: &str) -> Result<Lot, DbError> {
    let row = client
        .query_opt(
            "SELECT id, columns, source, data_hash FROM apdu_run_lot WHERE name = $1",
            &[&name],
        )
        .map_err(|e| target.error(&e))?
        .ok_or_else(|| {
            target.fail(
                Kind::Invalid,
                format!("no lot `{name}`; import it first with `apdu-run ledger import --lot {name} FILE.csv`"),
            )
        })?;
    Ok(Lot {
        id: row.get(0),
        name: name.to_string(),
        columns: row.get(1),
        source: row.get(2),
        data_hash: row.get(3),
    })
}

/// Every row of `lot` with its values, in order: for the checks before a batch's first card
/// (hex, lengths), never for showing.
pub fn rows_for_checks(
    target: &Target,
    client: &mut Client,
    lot: &Lot,
) -> Result<Vec<(u64, Vec<String>)>, DbError> {
    let rows = client
        .query(
            "SELECT row_no, cells FROM apdu_run_row WHERE lot = $1 ORDER BY row_no",
            &[&lot.id],
        )
        .map_err(|e| target.error(&e))?;
    Ok(rows
        .iter()
        .map(|row| {
            let no: i64 = row.get(0);
            (no as u64, row.get::<_, Vec<String>>(1))
        })
        .collect())
}

/// The lot's rows by state.
pub fn status(target: &Target, client: &mut Client, lot: &Lot) -> Result<Status, DbError> {
    let row = client
        .query_one(
            "SELECT count(*),
                    count(*) FILTER (WHERE state = 'leased'),
                    count(*) FILTER (WHERE state = 'issued'),
                    count(*) FILTER (WHERE state = 'failed'),
                    count(*) FILTER (WHERE state = 'open')
             FROM apdu_run_row WHERE lot = $1",
            &[&lot.id],
        )
        .map_err(|e| target.error(&e))?;
    Ok(Status {
        total: row.get(0),
        leased: row.get(1),
        issued: row.get(2),
        failed: row.get(3),
        open: row.get(4),
    })
}

/// Calls `each` with every card record of `lot`, in sequence order.
pub fn export(
    target: &Target,
    client: &mut Client,
    lot: &Lot,
    each: &mut dyn FnMut(&CardRecord) -> std::io::Result<()>,
) -> Result<u64, DbError> {
    const TIME: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";
    let sql = format!(
        "SELECT identity, seq, row_no, verdict, station, reader, profile, step, sw,
                to_char(begun AT TIME ZONE 'UTC', {TIME}),
                to_char(ended AT TIME ZONE 'UTC', {TIME})
         FROM apdu_run_card WHERE lot = $1 ORDER BY seq"
    );
    let rows = client
        .query(sql.as_str(), &[&lot.id])
        .map_err(|e| target.error(&e))?;
    for row in &rows {
        let record = CardRecord {
            identity: row.get(0),
            seq: row.get(1),
            lot: lot.name.clone(),
            row: row.get(2),
            verdict: row.get(3),
            station: row.get(4),
            reader: row.get(5),
            profile: row.get(6),
            step: row.get(7),
            sw: row.get(8),
            begun: row.get(9),
            ended: row.get(10),
        };
        each(&record)
            .map_err(|e| target.fail(Kind::Failed, format!("cannot write the export: {e}")))?;
    }
    Ok(rows.len() as u64)
}
