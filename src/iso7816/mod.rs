//! ISO/IEC 7816-4 spoken right on any card: what the ATR announces, and transfers of any
//! length split into commands the card accepts.
//!
//! [`capabilities`] reads the card-capabilities object of the ATR's historical bytes (does
//! the card take extended Lc/Le?). [`transfer`] builds READ/UPDATE BINARY, READ RECORD and
//! GET CHALLENGE sequences over a caller-supplied `send` function, so it is testable without
//! Rhai and without a reader. Neither file sends anything by itself, follows `61xx`/`6Cxx`
//! (that stays in `reader::Card::exchange`) or knows about scripts.

pub mod capabilities;
pub mod transfer;

pub use capabilities::extended_length_announced;
pub use transfer::{Failure, Outcome, RecordMode, Transfer};
