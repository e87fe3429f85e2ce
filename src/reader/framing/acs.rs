//! The ACS ACR122U pseudo-APDUs of class `FF 00` (readers-and-keys.md §1b): direct transmit
//! of a PN532 command, the LED and buzzer, the firmware version.
//!
//! - `FF 00 00 00 <Lc> D4 40 01 <data>` InDataExchange with target 1: the PN532 frames
//!   `data` itself — in I-blocks for an ISO 14443-4 chip (so the chip receives `data` as a
//!   command, [`Native::Apdu`]), as a layer-3 frame for a storage chip;
//! - `FF 00 00 00 <Lc> D4 42 <frame>` InCommunicateThru: the frame as it is, CRC added (the
//!   same frames as a generic session);
//! - `D4 4A` InListPassiveTarget, `D4 44` InDeselect, `D4 52` InRelease, `D4 54` InSelect,
//!   `D4 32` RFConfiguration: the chip is (re)activated or the field changes
//!   ([`ReaderCommand::Pn532`], `field: true`); `D4 02` GetFirmwareVersion, `D4 04`
//!   GetGeneralStatus: reader information;
//! - `FF 00 40 <LED state> 04 <T1> <T2> <repeat> <buzzer>` LED and buzzer;
//! - `FF 00 48 00 00` the firmware version (ASCII, e.g. `ACR122U207`).
//!
//! Any other PN532 command (register writes, other targets, …) is refused as the simulated
//! reader refuses it, and reported as a raw channel ([`super::Doubt::RawChannel`], which the
//! decoder adds to every refused `FF 00`).

use std::ops::Range;

use super::{Decoded, Decoder, Native, Protocol, ReaderCommand, Reject, frame};
use crate::apdu::Command;

/// The PN532 command byte of a host-to-PN532 frame.
pub const TO_PN532: u8 = 0xD4;
/// InDataExchange.
pub const IN_DATA_EXCHANGE: u8 = 0x40;
/// InCommunicateThru.
pub const IN_COMMUNICATE_THRU: u8 = 0x42;

/// Decodes an `FF 00` command; `None` for other classes and instructions.
pub(super) fn decode(decoder: &mut Decoder, apdu: &[u8]) -> Option<Decoded> {
    let [0xFF, 0x00, p1, p2, ..] = *apdu else {
        return None;
    };
    let refused = |reject| Some(Decoded::certain(Err(reject)));
    let command = match Command::parse(apdu) {
        Ok(command) if !command.extended => command,
        _ => return refused(Reject::WrongLength),
    };
    match (p1, p2) {
        (0x00, 0x00) => Some(direct(decoder, &command)),
        (0x40, state) => {
            let [t1, t2, repeat, buzzer] = command.data[..] else {
                return refused(Reject::WrongLength);
            };
            Some(Decoded::certain(Ok(Native::Reader(
                ReaderCommand::Feedback {
                    state,
                    t1,
                    t2,
                    repeat,
                    buzzer,
                },
            ))))
        }
        (0x48, 0x00) if command.data.is_empty() => Some(Decoded::certain(Ok(Native::Reader(
            ReaderCommand::Firmware,
        )))),
        _ => refused(Reject::NotSupported),
    }
}

fn direct(decoder: &mut Decoder, command: &Command) -> Decoded {
    let outcome = match command.data[..] {
        [TO_PN532, IN_DATA_EXCHANGE, 0x01, ref data @ ..] if !data.is_empty() => {
            Ok(match decoder.protocol {
                Protocol::IsoDep => Native::Apdu(data.to_vec()),
                Protocol::Layer3 => Native::Frame(decoder.frame(data)),
            })
        }
        [TO_PN532, IN_COMMUNICATE_THRU, ref data @ ..] if !data.is_empty() => {
            Ok(Native::Frame(decoder.frame(data)))
        }
        [TO_PN532, command @ (0x4A | 0x44 | 0x52 | 0x54 | 0x32), ..] => {
            // The chip is activated afresh or the field changes: pending frames are gone.
            decoder.frames = Default::default();
            Ok(Native::Reader(ReaderCommand::Pn532 {
                command,
                field: true,
            }))
        }
        [TO_PN532, command @ (0x02 | 0x04)] => Ok(Native::Reader(ReaderCommand::Pn532 {
            command,
            field: false,
        })),
        [TO_PN532, IN_DATA_EXCHANGE | IN_COMMUNICATE_THRU, ..] => Err(Reject::WrongLength),
        _ => Err(Reject::NotSupported),
    };
    Decoded::certain(outcome)
}

/// Where the ISO 14443-4 command a direct transmit carries sits in `apdu` (for the trace).
pub(super) fn span(apdu: &[u8]) -> Option<Range<usize>> {
    let [0xFF, 0x00, 0x00, 0x00, lc, TO_PN532, ins, ..] = *apdu else {
        return None;
    };
    let end = 5 + usize::from(lc);
    if apdu.len() < end {
        return None;
    }
    match ins {
        IN_DATA_EXCHANGE if end > 8 => Some(8..end),
        IN_COMMUNICATE_THRU if end > 7 => {
            let inner = frame::command_span(&apdu[7..end]);
            Some(7 + inner.start..7 + inner.end)
        }
        _ => None,
    }
}
