//! Which reader the simulated contactless chip sits in (`--sim-reader`): the one registry of
//! simulated reader families.
//!
//! Each family is one module beside this one (`omnikey5421.rs` with the generic session of
//! `session.rs`, `acr122u.rs`, `acr1252u.rs`) and answers its own dialect, traps included;
//! this file only names them and forwards to them. Adding a family is a variant here, its
//! arm in each `match`, and its module. What is common to every reader (the storage-card
//! commands, key slots, pass-through) stays in `mod.rs`.

use std::fmt;
use std::str::FromStr;

use super::{Frontend, Picc, acr122u, acr1252u, omnikey5421};
use crate::apdu::StatusWord;
use crate::reader::framing::{Native, Reject};

/// A simulated PC/SC contactless reader model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ReaderModel {
    /// HID Omnikey 5421: generic session `FF A0`, values `FF D4`/`FF D8` LSB first.
    #[default]
    Omnikey5421,
    /// ACS ACR122U: PN532 direct transmit `FF 00 00 00 D4 40/42`, values `FF D7` MSB first,
    /// errors `63 00`, LED and buzzer.
    Acr122u,
    /// ACS ACR1252U: PC/SC Part 3 transparent session `FF C2`, values `FF D7`.
    Acr1252u,
}

impl ReaderModel {
    /// Every model, in the order they are listed to users.
    pub fn all() -> &'static [ReaderModel] {
        &[
            ReaderModel::Omnikey5421,
            ReaderModel::Acr122u,
            ReaderModel::Acr1252u,
        ]
    }

    /// The `--sim-reader` name.
    pub fn name(self) -> &'static str {
        match self {
            ReaderModel::Omnikey5421 => "omnikey-5421",
            ReaderModel::Acr122u => "acr122u",
            ReaderModel::Acr1252u => "acr1252u",
        }
    }

    /// The reader name as pcsc-lite with the CCID driver reports the real reader, without
    /// the trailing slot numbers; `None` for the default model, whose simulated cards keep
    /// the `Simulated reader (KIND)` name (a name no driver is picked by, so the reader is
    /// probed, as an unknown reader is).
    pub fn ccid_name(self) -> Option<&'static str> {
        match self {
            ReaderModel::Omnikey5421 => None,
            ReaderModel::Acr122u => Some(acr122u::NAME),
            ReaderModel::Acr1252u => Some(acr1252u::NAME),
        }
    }

    /// What the reader answers, itself, to a command of a dialect it does not speak; `None`
    /// lets the command through to the decoder.
    pub(super) fn refuse(self, apdu: &[u8]) -> Option<Vec<u8>> {
        match self {
            ReaderModel::Omnikey5421 => omnikey5421::refuse(apdu),
            ReaderModel::Acr122u => acr122u::refuse(apdu),
            ReaderModel::Acr1252u => acr1252u::refuse(apdu),
        }
    }

    /// The status word the reader reports for an error the common code found.
    pub(super) fn status(self, sw: StatusWord) -> StatusWord {
        match self {
            ReaderModel::Acr122u => acr122u::status(sw),
            ReaderModel::Omnikey5421 | ReaderModel::Acr1252u => sw,
        }
    }

    /// A pass-through answer as the reader hands it to the host.
    pub(super) fn pass_through(self, answer: Vec<u8>) -> Vec<u8> {
        match self {
            ReaderModel::Omnikey5421 => answer,
            ReaderModel::Acr122u | ReaderModel::Acr1252u => acr122u::append_status(answer),
        }
    }

    /// Answers a command in the family's own wrapping (`FF C2`, `FF 00`), decoded.
    pub(super) fn wrapped<P: Picc>(
        self,
        fe: &mut Frontend<P>,
        apdu: &[u8],
        outcome: Result<Native, Reject>,
    ) -> Vec<u8> {
        match self {
            ReaderModel::Acr122u => acr122u::answer(fe, apdu, outcome),
            ReaderModel::Acr1252u => acr1252u::answer(fe, apdu, outcome),
            // Refused before decoding.
            ReaderModel::Omnikey5421 => fe.plain(outcome),
        }
    }
}

impl fmt::Display for ReaderModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ReaderModel {
    type Err = String;

    /// Parses a `--sim-reader` name; the error lists the valid names.
    fn from_str(s: &str) -> Result<ReaderModel, String> {
        ReaderModel::all()
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let valid: Vec<&str> = ReaderModel::all().iter().map(|m| m.name()).collect();
                format!(
                    "unknown simulated reader `{s}` (valid: {})",
                    valid.join(", ")
                )
            })
    }
}
