//! `apdu-run ledger init|import|status|export`: the PostgreSQL issuance ledger outside a
//! batch, and the choice of ledger that `batch --lot` shares.
//!
//! The ledger is named by `--ledger postgresql://USER@HOST:PORT/DB` or the environment
//! variable `APDU_RUN_LEDGER`; a password is accepted only from the environment (the
//! variable's URL, `PGPASSWORD`, a password file), never from the command line, and never
//! shown. Nothing here talks to a card, and nothing prints a data value.

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Subcommand};

use super::exit::invalid;
use super::{Exit, Failure, outln};
use crate::batch::DataSet;
use crate::batch::postgres::{DbError, Kind, LEDGER_ENV, Origin, Target, lots, names, schema};

/// Options of `ledger`.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// The ledger database, `postgresql://USER@HOST:PORT/DB` (default: $APDU_RUN_LEDGER);
    /// no password here: use $APDU_RUN_LEDGER, PGPASSWORD or a password file.
    #[arg(long, value_name = "URL", global = true)]
    pub ledger: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: LedgerAction,
}

/// The ledger's commands.
#[derive(Debug, Subcommand)]
pub enum LedgerAction {
    /// Create the ledger's tables, or migrate them to this version.
    Init,
    /// Import a CSV data file as a new lot (its values are used for issuance only).
    Import {
        /// The lot's name (a lot is imported once).
        #[arg(long, value_name = "NAME")]
        lot: String,
        /// The data, one row per card; the header names the columns.
        #[arg(value_name = "FILE.csv")]
        data: PathBuf,
    },
    /// Rows of a lot: total, leased, issued, failed, open.
    Status {
        /// The lot.
        #[arg(long, value_name = "NAME")]
        lot: String,
        /// Print one JSON object (`total`, `leased`, `issued`, `failed`, `open`).
        #[arg(long)]
        json: bool,
    },
    /// One JSON line per card of a lot (identity, row, verdict, station, profile, times).
    Export {
        /// The lot.
        #[arg(long, value_name = "NAME")]
        lot: String,
    },
}

/// The exit code for a ledger failure.
pub(super) fn failure(e: DbError) -> Failure {
    let exit = match e.kind {
        Kind::Unreachable => Exit::Transport,
        Kind::Invalid => Exit::Invalid,
        Kind::Failed => Exit::Failed,
    };
    Failure::new(exit, e)
}

/// The ledger named by `--ledger` or, without it, by the environment.
pub(super) fn target(argument: Option<&str>) -> Result<Target, Failure> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (url, origin) = match argument {
        Some(url) => (url.to_string(), Origin::Argument),
        None => match env(LEDGER_ENV) {
            Some(url) => (url, Origin::Environment),
            None => {
                return Err(invalid(anyhow!(
                    "no ledger given: --ledger postgresql://USER@HOST:PORT/DB, or set {LEDGER_ENV}"
                )));
            }
        },
    };
    let what = match origin {
        Origin::Argument => "--ledger",
        Origin::Environment => LEDGER_ENV,
    };
    Target::parse(&url, origin, &env).map_err(|e| invalid(anyhow!("{what}: {e}")))
}

/// `apdu-run ledger …`.
pub fn run(args: LedgerArgs) -> Result<Exit, Failure> {
    // A lot's name is checked before the database is reached (`names.rs`).
    if let LedgerAction::Import { lot, .. }
    | LedgerAction::Status { lot, .. }
    | LedgerAction::Export { lot } = &args.action
    {
        names::lot(lot).map_err(|e| invalid(anyhow!("--lot: {e}")))?;
    }
    // The data file is checked before the database is reached.
    let data = match &args.action {
        LedgerAction::Import { data, .. } => Some(DataSet::load(data).map_err(invalid)?),
        _ => None,
    };
    let target = target(args.ledger.as_deref())?;
    let mut client = target.connect().map_err(failure)?;
    match args.action {
        LedgerAction::Init => {
            let done = schema::init(&target, &mut client).map_err(failure)?;
            if done.from == done.to {
                outln!(
                    "ledger `{}`: schema version {} already",
                    target.shown(),
                    done.to
                );
            } else {
                outln!(
                    "ledger `{}`: schema version {} (was {})",
                    target.shown(),
                    done.to,
                    done.from
                );
            }
        }
        LedgerAction::Import { lot, .. } => {
            schema::check(&target, &mut client).map_err(failure)?;
            let Some(data) = data else {
                return Err(invalid(anyhow!("no data file")));
            };
            let imported = lots::import(&target, &mut client, &lot, &data).map_err(failure)?;
            outln!(
                "ledger `{}`: lot `{}`: {} rows imported from `{}` (columns {})",
                target.shown(),
                imported.name,
                data.len(),
                imported.source,
                imported.columns.join(", ")
            );
        }
        LedgerAction::Status { lot, json } => {
            schema::check(&target, &mut client).map_err(failure)?;
            let lot = lots::find(&target, &mut client, &lot).map_err(failure)?;
            let s = lots::status(&target, &mut client, &lot).map_err(failure)?;
            if json {
                let text = serde_json::to_string(&s).map_err(|e| Failure::new(Exit::Failed, e))?;
                outln!("{text}");
            } else {
                outln!(
                    "lot `{}`: {} rows: {} leased, {} issued, {} failed, {} open",
                    lot.name,
                    s.total,
                    s.leased,
                    s.issued,
                    s.failed,
                    s.open
                );
            }
        }
        LedgerAction::Export { lot } => {
            schema::check(&target, &mut client).map_err(failure)?;
            let lot = lots::find(&target, &mut client, &lot).map_err(failure)?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            lots::export(&target, &mut client, &lot, &mut |record| {
                serde_json::to_writer(&mut out, record)?;
                out.write_all(b"\n")
            })
            .map_err(failure)?;
            out.flush()
                .map_err(|e| Failure::new(Exit::Failed, anyhow!("cannot write the export: {e}")))?;
        }
    }
    Ok(Exit::Ok)
}
