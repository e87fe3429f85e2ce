//! `apdu-run` runs smart-card personalisation and issuance flows, written as Rhai scripts or
//! YAML profiles, against PC/SC readers or a simulated reader and card.
//!
//! See `ARCHITECTURE.md` for the map of modules and the rules between them.

pub mod apdu;
pub mod batch;
pub mod cli;
pub mod clock;
pub mod cos;
pub mod crypto;
pub mod input;
pub mod iso14443;
pub mod iso7816;
pub mod keys;
pub mod lot;
pub mod mifare;
pub mod profile;
pub mod reader;
pub mod script;
pub mod scriptor;
pub mod secret;
pub mod sim;
pub mod spelling;

#[cfg(test)]
mod test_support;
