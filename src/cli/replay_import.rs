//! `apdu-run replay import --from FORMAT LOG -o FILE.dump`: another tool's APDU log made a
//! dump that `--sim replay:FILE.dump` plays. The formats are `sim::replay::import`'s; this
//! file reads the log (bounded), writes the dump (refusing what cannot be written) and
//! says how many exchanges it holds.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Subcommand};

use super::exit::{Exit, invalid};
use super::{Failure, outln};
use crate::apdu::hex;
use crate::sim::replay::import::{self, Format};

/// The `replay` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReplayCommand {
    /// Turn a scriptor output, a `pcscd --debug --apdu` log or a raw pcsc-spy log into a
    /// dump for `--sim replay:FILE.dump`.
    Import(ImportArgs),
}

/// Options of `replay import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The log's format: scriptor, pcscd or pcsc-spy.
    #[arg(long, value_name = "FORMAT")]
    pub from: String,
    /// The card's ATR, when the log has none (pcsc-spy) or another is wanted.
    #[arg(long, value_name = "HEX")]
    pub atr: Option<String>,
    /// Where to write the dump.
    #[arg(short = 'o', long = "output", value_name = "FILE.dump")]
    pub output: PathBuf,
    /// The log to read.
    #[arg(value_name = "LOG")]
    pub log: PathBuf,
}

/// Runs `replay import`.
pub fn run(command: ReplayCommand) -> Result<Exit, Failure> {
    let ReplayCommand::Import(args) = command;
    let format: Format = args
        .from
        .parse()
        .map_err(|e: String| invalid(anyhow!("--from: {e}")))?;
    let atr = args
        .atr
        .as_deref()
        .map(|text| hex::parse(text).map_err(|e| invalid(anyhow!("--atr `{text}`: {e}"))))
        .transpose()?;
    super::paths::output("--output", &args.output)?;
    let text = crate::input::read_text(&args.log, crate::input::Kind::Scriptor)
        .map_err(|e| invalid(anyhow!("cannot read log `{}`: {e}", args.log.display())))?;
    let dump = import::import(format, &text, atr)
        .map_err(|e| invalid(anyhow!("{}:{e}", args.log.display())))?;
    let source = args.log.display().to_string();
    std::fs::write(&args.output, import::to_text(&dump, &source)).map_err(|e| {
        Failure::new(
            Exit::Failed,
            anyhow!("--output `{}`: cannot write: {e}", args.output.display()),
        )
    })?;
    outln!(
        "{}: {} exchanges, ATR {}, {}",
        args.output.display(),
        dump.exchanges.len(),
        hex::format_compact(&dump.atr),
        dump.protocol
    );
    Ok(Exit::Ok)
}
