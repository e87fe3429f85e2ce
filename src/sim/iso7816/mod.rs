//! The ISO 7816-4 file card: MF/DF/EF tree, PIN and PUK with retry counters, GET CHALLENGE,
//! over T=1 or T=0 (ISO 7816-4, protocols.md §8).
//!
//! [`FileCard::transmit`] takes raw command bytes and always answers with a status word:
//! malformed input gets `67 00`, an unsupported class `6E 00`/`68 8x`, an unknown instruction
//! `6D 00`. The card state is split in two: [`Persistent`] (files, PINs, counters, the
//! challenge generator) is what a card image stores; the session (current DF and EF, verified
//! PINs, data waiting for GET RESPONSE) is forgotten on reset.
//!
//! One file per concern: `fs` (the tree), `check` (loaded images), `fcp` (FCP templates
//! out, CREATE FILE templates in), `select`, `binary`, `record`, `pin`, `create`,
//! `delete`, `cplc` (GET DATA of the CPLC), `challenge`, `transport` (Le, `61xx`, `6Cxx`, GET RESPONSE), `demo` (the default card)
//! and `sw` (status word names). No secure messaging, logical channels, command chaining or
//! proprietary classes.

mod binary;
pub(crate) mod challenge;
mod check;
pub(in crate::sim) mod cplc;
mod create;
mod delete;
mod demo;
mod fcp;
pub(in crate::sim) mod fs;
mod pin;
mod record;
mod select;
pub(in crate::sim) mod sw;
pub(in crate::sim) mod transport;

use serde::{Deserialize, Serialize};

use crate::apdu::{Command, StatusWord};
use fs::{Condition, MF, Tree};
use pin::Pin;
use transport::Reply;

/// The transport protocol the card speaks, which decides how response data is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// T=0: case-4 data comes through `61xx` + GET RESPONSE, a wrong Le gets `6Cxx`.
    T0,
    /// T=1: data comes with the answer, truncated to Le.
    T1,
}

/// ATR of the T=1 card. `3B` direct convention; `8A` TD1 follows, 10 historical bytes;
/// `81` TD2 follows, T=1; `31` TA3 and TB3 follow, T=1; `FE` IFSC 254; `45` BWI 4, CWI 5;
/// historical bytes `80` (COMPACT-TLV follows) `68` (pre-issuing data, 8 bytes) `APDU-RUN`;
/// TCK `0D` (XOR of T0 to the last historical byte; present because T=1 is offered).
pub(crate) const ATR_T1: [u8; 17] = [
    0x3B, 0x8A, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x68, b'A', b'P', b'D', b'U', b'-', b'R', b'U', b'N',
    0x0D,
];

/// ATR of the T=0 card. `3B` direct convention; `0A` no interface bytes (so T=0 with default
/// timing), 10 historical bytes as in [`ATR_T1`]; no TCK, since only T=0 is offered.
pub(crate) const ATR_T0: [u8; 12] = [
    0x3B, 0x0A, 0x80, 0x68, b'A', b'P', b'D', b'U', b'-', b'R', b'U', b'N',
];

/// GET RESPONSE, the one instruction that does not discard pending response data.
const INS_GET_RESPONSE: u8 = 0xC0;

/// The part of the card that survives a reset and is stored in a card image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Persistent {
    /// The file system, MF first.
    files: Tree,
    /// PIN, reference 01.
    pin: Pin,
    /// PUK, reference 02: resets the PIN's counter.
    puk: Pin,
    /// State of the GET CHALLENGE generator.
    rng: u64,
    /// IC serial number, in the CPLC (`80 CA 9F 7F 00`).
    #[serde(default = "cplc::default_serial")]
    serial: u32,
}

/// The part of the card a reset clears.
#[derive(Debug, Default)]
struct Session {
    /// The current DF.
    df: usize,
    /// The current EF, if any.
    ef: Option<usize>,
    /// Verified PIN references, one bit each.
    verified: u8,
    /// Data waiting for GET RESPONSE.
    pending: Vec<u8>,
    /// The record pointer: EF and record index of the last READ RECORD.
    record: Option<(usize, usize)>,
}

impl Session {
    fn is_verified(&self, reference: u8) -> bool {
        reference < 8 && self.verified & (1 << reference) != 0
    }

    fn set_verified(&mut self, reference: u8, verified: bool) {
        if reference < 8 {
            if verified {
                self.verified |= 1 << reference;
            } else {
                self.verified &= !(1 << reference);
            }
        }
    }
}

/// A simulated ISO 7816-4 file card.
#[derive(Debug)]
pub(crate) struct FileCard {
    protocol: Protocol,
    state: Persistent,
    session: Session,
}

impl FileCard {
    /// The demo card (see `demo.rs` for its contents) at `position` of a stream (its IC
    /// serial number), its GET CHALLENGE generator seeded with `rng`.
    pub(crate) fn demo(protocol: Protocol, position: u64, rng: u64) -> FileCard {
        let mut state = demo::state();
        state.serial = cplc::serial_for(position);
        state.rng = rng;
        FileCard::with_state(protocol, state)
    }

    fn with_state(protocol: Protocol, state: Persistent) -> FileCard {
        FileCard {
            protocol,
            state,
            session: Session {
                df: MF,
                ..Session::default()
            },
        }
    }

    /// Rebuilds a card from the `card` part of an image, checking it is consistent.
    pub(crate) fn from_image(
        protocol: Protocol,
        card: serde_json::Value,
    ) -> Result<FileCard, String> {
        let state: Persistent = serde_json::from_value(card).map_err(|e| e.to_string())?;
        state.files.validate()?;
        state.pin.validate().map_err(|e| format!("PIN: {e}"))?;
        state.puk.validate().map_err(|e| format!("PUK: {e}"))?;
        Ok(FileCard::with_state(protocol, state))
    }

    /// The answer-to-reset for the card's protocol.
    pub(crate) fn atr(&self) -> &'static [u8] {
        match self.protocol {
            Protocol::T0 => &ATR_T0,
            Protocol::T1 => &ATR_T1,
        }
    }

    /// Warm reset: back to the MF, no PIN verified, nothing pending.
    pub(crate) fn reset(&mut self) {
        self.session = Session {
            df: MF,
            ..Session::default()
        };
    }

    /// Answers one command APDU: response data followed by SW1 SW2.
    pub(crate) fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        let (mut data, sw) = match self.process(command) {
            Ok(answer) => answer,
            Err(sw) => (Vec::with_capacity(2), sw),
        };
        data.extend_from_slice(&sw.0.to_be_bytes());
        data
    }

    fn process(&mut self, bytes: &[u8]) -> Result<(Vec<u8>, StatusWord), StatusWord> {
        // Any command but GET RESPONSE discards the data a 61xx announced (protocols.md §8.2).
        if bytes.get(1) != Some(&INS_GET_RESPONSE) {
            self.session.pending.clear();
        }
        let &[cla, _, _, _, ..] = bytes else {
            return Err(sw::WRONG_LENGTH);
        };
        // GET DATA in GlobalPlatform's proprietary class `80` (CPLC) is the one exception.
        if !(cla == 0x80 && bytes[1] == 0xCA) {
            check_class(cla)?;
        }
        let command = Command::parse(bytes).map_err(|_| sw::WRONG_LENGTH)?;
        if self.protocol == Protocol::T0 && command.extended {
            // T=0 carries only short APDUs; extended ones need ENVELOPE (protocols.md §8.1).
            return Err(sw::WRONG_LENGTH);
        }
        Ok(match self.dispatch(&command)? {
            Reply::Done(data, sw) => (data, sw),
            Reply::Blob(data) => self.deliver(&command, data),
        })
    }

    fn dispatch(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        match command.ins {
            0xA4 => self.select(command),
            0xB0 => self.read_binary(command),
            0xD6 => self.update_binary(command),
            0xD0 => self.write_binary(command),
            0x0E => self.erase_binary(command),
            0xB2 => self.read_record(command),
            0xDC => self.update_record(command),
            0xE2 => self.append_record(command),
            0x20 => self.verify(command),
            0x24 => self.change_reference_data(command),
            0x2C => self.reset_retry_counter(command),
            0x84 => self.get_challenge(command),
            INS_GET_RESPONSE => self.get_response(command),
            0xE0 => self.create_file(command),
            0xE4 => self.delete_file(command),
            0xCA => self.get_data(command),
            _ => Err(sw::INS_NOT_SUPPORTED),
        }
    }

    /// `Ok` when the session satisfies `condition`, else `69 82`.
    fn allowed(&self, condition: Condition) -> Result<(), StatusWord> {
        match condition {
            Condition::Always => Ok(()),
            Condition::Pin(reference) if self.session.is_verified(reference) => Ok(()),
            Condition::Pin(_) | Condition::Never => Err(sw::SECURITY_NOT_SATISFIED),
        }
    }
}

/// A file card serializes as its persistent state, the `card` part of its image.
impl Serialize for FileCard {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.state.serialize(serializer)
    }
}

/// Accepts only the plain first interindustry class `00` (ISO/IEC 7816-4): the bits for
/// chaining, secure messaging and logical channels each get their own "not supported".
fn check_class(cla: u8) -> Result<(), StatusWord> {
    if cla & 0xE0 != 0 {
        Err(sw::CLA_NOT_SUPPORTED)
    } else if cla & 0x10 != 0 {
        Err(sw::NO_CHAINING)
    } else if cla & 0x0C != 0 {
        Err(sw::NO_SECURE_MESSAGING)
    } else if cla & 0x03 != 0 {
        Err(sw::NO_LOGICAL_CHANNEL)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
