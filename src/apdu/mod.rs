//! ISO 7816-4 vocabulary: command and response APDUs, status words, hex, expectations.
//!
//! Pure: no I/O, no clock, nothing else from this crate. Everything above the reader seam
//! speaks in these types; the seam itself moves plain bytes.

mod command;
mod context;
pub mod expect;
pub mod hex;
mod response;
mod status;

pub use command::{Case, Command, CommandError, MAX_COMMAND_LEN, MAX_LE};
pub use context::Context;
pub use expect::{DataMask, PatternError, SwExpectation, SwPattern};
pub use response::Response;
pub use status::StatusWord;

/// Why a line of hex text is not a command APDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduTextError {
    /// The text is not hex.
    #[error(transparent)]
    Hex(#[from] hex::HexError),
    /// The bytes are not a valid command.
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// Parses hex text (`00 A4 04 00 …`) into a validated [`Command`].
pub fn parse_command(text: &str) -> Result<Command, ApduTextError> {
    Ok(Command::parse(&hex::parse(text)?)?)
}
