//! Reader drivers: one interface to send a native frame to the contactless chip, manage the
//! reader's raw session and RF field, and build the reader's own value and feedback
//! commands, whatever the reader family (readers-and-keys.md §1).
//!
//! [`ReaderKind`] is the one registry: each family is one file beside this one —
//! `omnikey.rs` (HID generic session `FF A0`), `part3.rs` (PC/SC Part 3 transparent session
//! `FF C2`), `acs_pn532.rs` (ACR122U direct transmit `FF 00 00 00 D4 …`), `direct.rs` (the
//! command itself, framed by the reader: ISO 14443-4 chips) — and its arm in
//! [`ReaderKind::driver`]. The kind comes from `--reader-kind`, else from the reader name as
//! the CCID driver reports it ([`ReaderKind::from_name`]), else from probing the reader with
//! two commands it answers itself and no chip receives ([`ReaderKind::probe`]).
//!
//! This module sends bytes through [`Card`] only; it does not know scripts, and judges
//! nothing (the guard below every [`Card`] does).

use std::fmt;
use std::str::FromStr;

use super::{Card, Error as ReaderError, acs_pn532, direct, omnikey, part3};
use crate::apdu::Command;
use crate::reader::framing::ValueOp;

/// A reader family's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReaderKind {
    /// HID Omnikey xx21: generic session `FF A0`, values `FF D4`/`FF D8` LSB first.
    Omnikey,
    /// ACS ACR122U (PN532): direct transmit `FF 00 00 00 D4 42`, values `FF D7` MSB first,
    /// LED and buzzer.
    AcsPn532,
    /// PC/SC 2.0 Part 3 transparent session (ACS ACR1252U, ACR1552U): `FF C2`, values
    /// `FF D7`.
    PcscPart3,
    /// No raw channel: the frame is an ISO 14443-4 command the reader frames itself.
    Direct,
}

impl ReaderKind {
    /// Every kind, in the order they are listed to users.
    pub fn all() -> &'static [ReaderKind] {
        &[
            ReaderKind::Omnikey,
            ReaderKind::AcsPn532,
            ReaderKind::PcscPart3,
            ReaderKind::Direct,
        ]
    }

    /// The `--reader-kind` name.
    pub fn name(self) -> &'static str {
        match self {
            ReaderKind::Omnikey => "omnikey",
            ReaderKind::AcsPn532 => "acs-pn532",
            ReaderKind::PcscPart3 => "pcsc-part3",
            ReaderKind::Direct => "direct",
        }
    }

    /// The family as messages name it.
    pub fn family(self) -> &'static str {
        match self {
            ReaderKind::Omnikey => "HID Omnikey generic session",
            ReaderKind::AcsPn532 => "ACS ACR122U (PN532)",
            ReaderKind::PcscPart3 => "PC/SC Part 3 transparent session",
            ReaderKind::Direct => "direct ISO 14443-4",
        }
    }

    /// The driver of this family: the one place a family plugs in.
    pub fn driver(self) -> &'static dyn ReaderDriver {
        match self {
            ReaderKind::Omnikey => &omnikey::Driver,
            ReaderKind::AcsPn532 => &acs_pn532::Driver,
            ReaderKind::PcscPart3 => &part3::Driver,
            ReaderKind::Direct => &direct::Driver,
        }
    }

    /// The family from a reader name as pcsc-lite's CCID driver reports it (`ACS ACR122U
    /// PICC Interface 00 00`, `ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00`,
    /// `HID Global OMNIKEY 5421 …`); `None` for names that say nothing.
    pub fn from_name(name: &str) -> Option<ReaderKind> {
        let name = name.to_ascii_uppercase();
        if name.contains("ACR122") {
            Some(ReaderKind::AcsPn532)
        } else if ["ACR1252", "ACM1252", "ACR1552", "ACR1255"]
            .iter()
            .any(|model| name.contains(model))
        {
            Some(ReaderKind::PcscPart3)
        } else if name.contains("OMNIKEY") {
            Some(ReaderKind::Omnikey)
        } else {
            None
        }
    }

    /// Asks the reader what it is, with commands the reader answers itself (nothing reaches
    /// the chip): the ACS firmware string `FF 00 48 00 00` (libnfc's test for an ACR122),
    /// then the PC/SC Part 3 version object `FF C2 00 00 02 80 00`. A reader that knows
    /// neither is taken for an Omnikey (the generic session is the dialect of the HID
    /// readers, which answer both with an error).
    pub fn probe(card: &mut dyn Card) -> Result<ReaderKind, ReaderError> {
        let firmware = card.transmit(&acs_pn532::FIRMWARE)?;
        if firmware.starts_with(b"ACR122") {
            return Ok(ReaderKind::AcsPn532);
        }
        let version = card.transmit(&part3::VERSION)?;
        if part3::parse_answer(&version).is_ok() {
            return Ok(ReaderKind::PcscPart3);
        }
        Ok(ReaderKind::Omnikey)
    }

    /// The family: `chosen` (`--reader-kind`) if given, else from the reader's name, else
    /// probed.
    pub fn detect(
        card: &mut dyn Card,
        chosen: Option<ReaderKind>,
    ) -> Result<ReaderKind, ReaderError> {
        if let Some(kind) = chosen.or_else(|| ReaderKind::from_name(card.reader_name())) {
            return Ok(kind);
        }
        ReaderKind::probe(card)
    }
}

impl fmt::Display for ReaderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ReaderKind {
    type Err = String;

    /// Parses a `--reader-kind` name; the error lists the valid names.
    fn from_str(s: &str) -> Result<ReaderKind, String> {
        ReaderKind::all()
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let valid: Vec<&str> = ReaderKind::all().iter().map(|k| k.name()).collect();
                format!("unknown reader kind `{s}` (valid: {})", valid.join(", "))
            })
    }
}

/// Why a driver operation failed. Messages read after "failed to …" and name the family.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The family has no such operation; nothing was sent.
    #[error("the {family} reader family has no {what}{hint}")]
    Unsupported {
        /// The family.
        family: &'static str,
        /// The operation.
        what: &'static str,
        /// How to proceed.
        hint: &'static str,
    },
    /// The reader or the chip reported a failure.
    #[error("{family}: {what} failed: {meaning}")]
    Status {
        /// The family.
        family: &'static str,
        /// The operation.
        what: &'static str,
        /// The status and what it means.
        meaning: String,
    },
    /// The reader's answer does not have the family's form.
    #[error("{family}: unexpected answer `{answer}` to {what}")]
    Malformed {
        /// The family.
        family: &'static str,
        /// The operation.
        what: &'static str,
        /// The answer, in hex.
        answer: String,
    },
    /// A frame that does not fit the family's command; nothing was sent.
    #[error("{family}: the frame has {len} bytes: {why}; nothing sent")]
    Frame {
        /// The family.
        family: &'static str,
        /// Bytes in the frame.
        len: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// The Omnikey generic session failed.
    #[error(transparent)]
    Omnikey(omnikey::Error),
    /// The transport failed, or the guard refused the command.
    #[error(transparent)]
    Reader(#[from] ReaderError),
}

/// Shows a card's verdict on its reader (a batch's `--reader-feedback`): the family is
/// detected as for scripts, then its feedback command sent; `Ok(false)` when the family has
/// nothing to show it with.
pub fn signal(card: &mut dyn Card, ok: bool, chosen: Option<ReaderKind>) -> Result<bool, Error> {
    let kind = ReaderKind::detect(card, chosen)?;
    kind.driver().feedback(card, ok)
}

/// Sends `command` raw (no 61xx/6Cxx following: raw-channel answers are not ISO answers).
pub(super) fn send(card: &mut dyn Card, command: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(card.transmit(command)?)
}

/// A reader family's operations on the chip in its field.
pub trait ReaderDriver {
    /// The family.
    fn kind(&self) -> ReaderKind;

    /// Opens the family's raw session (a no-op where there is none, the default).
    fn open(&self, _card: &mut dyn Card) -> Result<(), Error> {
        Ok(())
    }

    /// Closes it.
    fn close(&self, _card: &mut dyn Card) -> Result<(), Error> {
        Ok(())
    }

    /// Sends one native frame (CRC added by the reader) and returns the chip's answer.
    fn transceive(&self, card: &mut dyn Card, frame: &[u8]) -> Result<Vec<u8>, Error>;

    /// Switches the RF field off (`on` false) or on; the chip is activated afresh.
    fn field(&self, card: &mut dyn Card, on: bool) -> Result<(), Error>;

    /// The MIFARE Classic INCREMENT or DECREMENT (with TRANSFER) of block `block` by `n`,
    /// in the reader's own command and byte order.
    fn value_command(&self, op: ValueOp, block: u8, n: u32) -> Result<Command, Error>;

    /// Switches the reader's protocol to `standard` (`00` ISO 14443 A, …) at `layer` (`03`,
    /// `04`, …); only PC/SC Part 3 readers have the command.
    fn switch_protocol(&self, card: &mut dyn Card, standard: u8, layer: u8) -> Result<(), Error> {
        let _ = (card, standard, layer);
        Err(Error::Unsupported {
            family: self.kind().family(),
            what: "protocol switch",
            hint: " (PC/SC Part 3 readers only)",
        })
    }

    /// Signals a card's verdict on the reader (LED, buzzer); `false` when the family has
    /// nothing to signal with.
    fn feedback(&self, card: &mut dyn Card, ok: bool) -> Result<bool, Error> {
        let _ = (card, ok);
        Ok(false)
    }
}

/// The Omnikey `FF D4`/`FF D8` or ACS `FF D7` value command.
pub(super) fn hid_value(op: ValueOp, block: u8, n: u32) -> Command {
    let ins = match op {
        ValueOp::Increment => 0xD4,
        ValueOp::Decrement => 0xD8,
    };
    Command::new(0xFF, ins, 0x00, block).with_data(n.to_le_bytes().to_vec())
}

/// The ACS `FF D7 00 <blk> 05 01|02 <n MSB first>` value command.
pub(super) fn acs_value(op: ValueOp, block: u8, n: u32) -> Command {
    let code = match op {
        ValueOp::Increment => 0x01,
        ValueOp::Decrement => 0x02,
    };
    let mut data = vec![code];
    data.extend_from_slice(&n.to_be_bytes());
    Command::new(0xFF, 0xD7, 0x00, block).with_data(data)
}

/// The ACS LED and buzzer command (ACR122U, and ACR1252U's compatible set): green for a good
/// card; red and a 500 ms beep for a failed one.
pub(super) fn acs_feedback(
    card: &mut dyn Card,
    ok: bool,
    family: &'static str,
) -> Result<bool, Error> {
    let command: [u8; 9] = if ok {
        [0xFF, 0x00, 0x40, 0x0E, 0x04, 0x00, 0x00, 0x00, 0x00]
    } else {
        [0xFF, 0x00, 0x40, 0x0D, 0x04, 0x05, 0x00, 0x01, 0x01]
    };
    let answer = send(card, &command)?;
    match answer.first() {
        Some(0x90) if answer.len() == 2 => Ok(true),
        _ => Err(Error::Malformed {
            family,
            what: "the LED and buzzer command",
            answer: crate::apdu::hex::format(&answer),
        }),
    }
}

#[cfg(test)]
mod tests;
