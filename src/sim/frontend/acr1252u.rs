//! The simulated ACS ACR1252U: the PC/SC 2.0 Part 3 transparent session `FF C2`
//! (readers-and-keys.md §1a), the ACS value command `FF D7`, the ACR122U-compatible LED
//! command `FF 00 40`.
//!
//! Every `FF C2 00 00/01/02` answer starts with the generic status object
//! `C0 03 <DO index> <SW1 SW2>` and ends with an outer `90 00` — also when the status inside
//! says the command failed: that is the trap (a host must parse `C0`, never trust the outer
//! word). A transceive `95` the chip answers gives `C0 03 00 90 00 92 01 00 96 02 00 00
//! 97 <len> <card bytes> 90 00`; a silent chip `C0 03 <index of the 95 DO> 64 01 90 00`
//! ("no response from ICC"). RF off/on (`83 00`, `84 00`) re-activates the chip. Switch
//! protocol answers without the `8F 01 <SAK>` object; a transparent exchange with no session
//! open is `6A 81` inside `C0` (what the PN512 driver does is not byte-exact, UNCONFIRMED).
//!
//! It refuses (`6A 81`) the HID commands (`FF A0`, `FF D4`, `FF D8`) and the ACR122U's
//! PN532 direct transmit and firmware command.

use super::{Frontend, Picc, sw};
use crate::reader::framing::{ManageOp, Native, ReaderCommand, Reject, parse_dos};

/// The reader name pcsc-lite reports (CCID driver), without the slot numbers.
pub const NAME: &str = "ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC]";

/// Commands of other dialects: `6A 81`.
pub(super) fn refuse(apdu: &[u8]) -> Option<Vec<u8>> {
    match apdu {
        [0xFF, 0xA0 | 0xD4 | 0xD8, ..] | [0xFF, 0x00, 0x00 | 0x48, ..] => {
            Some(sw::NOT_SUPPORTED.0.to_be_bytes().to_vec())
        }
        _ => None,
    }
}

/// `C0 03 <index> <SW1 SW2>`.
fn status_object(index: u8, word: u16) -> Vec<u8> {
    let [sw1, sw2] = word.to_be_bytes();
    vec![0xC0, 0x03, index, sw1, sw2]
}

/// The status inside `C0` for a refused command.
fn refused(reject: Reject) -> u16 {
    match reject {
        Reject::WrongLength => 0x6700,
        Reject::WrongP1P2 => 0x6A80,
        Reject::NotSupported | Reject::NoSession | Reject::ClaNotSupported => 0x6A81,
        Reject::KeyType => 0x6F00,
    }
}

/// A BER-TLV length.
fn ber_length(len: usize) -> Vec<u8> {
    match len {
        0..=0x7F => vec![len as u8],
        0x80..=0xFF => vec![0x81, len as u8],
        _ => {
            let [hi, lo] = (len.min(0xFFFF) as u16).to_be_bytes();
            vec![0x82, hi, lo]
        }
    }
}

/// The 1-based index of the frame DO in a transparent exchange.
fn frame_index(apdu: &[u8]) -> u8 {
    apdu.get(5..)
        .and_then(parse_dos)
        .and_then(|dos| dos.iter().position(|o| o.tag == 0x95 || o.tag == 0x93))
        .map_or(0, |i| (i + 1).min(255) as u8)
}

/// Answers an `FF C2 00 00/01/02` or `FF 00 40` command as the ACR1252U does.
pub(super) fn answer<P: Picc>(
    fe: &mut Frontend<P>,
    apdu: &[u8],
    outcome: Result<Native, Reject>,
) -> Vec<u8> {
    if let [0xFF, 0x00, ..] = apdu {
        return match outcome {
            Ok(Native::Reader(ReaderCommand::Feedback { state, .. })) => vec![0x90, state & 0x03],
            other => fe.plain(other),
        };
    }
    let mut out = match outcome {
        Err(reject) => status_object(0, refused(reject)),
        Ok(Native::Reader(ReaderCommand::Manage(ops))) => {
            let mut out = status_object(0, 0x9000);
            for op in ops {
                match op {
                    ManageOp::Version => out.extend_from_slice(&[0x80, 0x03, 0x02, 0x02, 0x00]),
                    ManageOp::GetParameters => out.extend_from_slice(&[0xFF, 0x6D, 0x00]),
                    ManageOp::RfOff | ManageOp::RfOn => fe.cycle_field(),
                    ManageOp::Start | ManageOp::End | ManageOp::Timer(_) => {}
                }
            }
            out
        }
        Ok(Native::Reader(ReaderCommand::Switch { .. })) => status_object(0, 0x9000),
        Ok(Native::Frame(frame)) => match fe.picc.frame(&frame) {
            Some(answer) => {
                let mut out = status_object(0, 0x9000);
                out.extend_from_slice(&[0x92, 0x01, 0x00, 0x96, 0x02, 0x00, 0x00, 0x97]);
                out.extend(ber_length(answer.len()));
                out.extend_from_slice(&answer);
                out
            }
            None => status_object(frame_index(apdu), 0x6401),
        },
        Ok(other) => return fe.plain(Ok(other)),
    };
    out.extend_from_slice(&sw::OK.0.to_be_bytes());
    out
}
