//! Host side of the ACS ACR122U (readers-and-keys.md §1b): a raw frame goes to the PN532 as
//! InCommunicateThru `FF 00 00 00 <Lc> D4 42 <frame>`, answered `D5 43 <status> <bytes>
//! 90 00`. The status byte inside is the PN532's (01 timeout, 14 MIFARE authentication
//! error, …); the outer `63 00` is the reader's refusal of the command itself. RF off/on is
//! RFConfiguration `D4 32 01 00/01`, then InListPassiveTarget `D4 4A 01 00` selects the chip
//! again. There is no session to open.
//!
//! This file knows the wrapping, not what any chip does with the frame.

use super::Card;
use super::driver::{self, Error, ReaderDriver, ReaderKind};
use crate::apdu::{Command, StatusWord, hex};
use crate::reader::framing::{IN_COMMUNICATE_THRU, TO_PN532, ValueOp};

/// The firmware version command; an ACR122U answers ASCII `ACR122U…`.
pub const FIRMWARE: [u8; 5] = [0xFF, 0x00, 0x48, 0x00, 0x00];
/// The longest frame: Lc = 2 + n ≤ 255.
pub const MAX_FRAME: usize = 253;
const FAMILY: &str = "ACS ACR122U (PN532)";

/// What a PN532 answer says went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    /// The reader refused the command: its status word.
    Reader(StatusWord),
    /// Not `D5 <command + 1> …` followed by `90 00`.
    Malformed,
    /// The PN532 status byte (low 6 bits) is not 00.
    Pn532(u8),
}

/// What a PN532 status code means (NXP PN532 user manual, libnfc `pn53x-internal.h`).
pub fn pn532_status(code: u8) -> &'static str {
    match code {
        0x01 => "timeout: the card did not answer",
        0x02 => "CRC error",
        0x03 => "parity error",
        0x04 => "wrong bit count during anticollision",
        0x05 => "framing error",
        0x06 => "bit collision",
        0x07 => "buffer too small",
        0x09 => "buffer overflow",
        0x0A => "RF timeout",
        0x0B => "RF protocol error",
        0x0D => "overheating",
        0x0E => "internal buffer overflow",
        0x10 => "invalid parameter",
        0x12 => "command not supported by the target (DEP)",
        0x13 => "invalid received frame",
        0x14 => "MIFARE authentication error",
        0x23 => "wrong UID check byte (BCC)",
        0x25 => "invalid state for the command (DEP)",
        0x26 => "operation not allowed in this configuration",
        0x27 => "command not acceptable in this context",
        0x29 => "the target was released",
        0x2A => "card ID mismatch",
        0x2B => "the card disappeared",
        0x2C => "NFCID3 mismatch",
        0x2D => "over-current",
        0x2E => "NAD missing",
        _ => "unknown PN532 status",
    }
}

impl AnswerError {
    fn meaning(&self) -> String {
        match self {
            AnswerError::Reader(sw) => format!(
                "the reader answered {sw}: it refused the command (the ACR122U's one error word: \
                 a wrong length, or no card in the field)"
            ),
            AnswerError::Malformed => "the answer is not a PN532 answer".to_string(),
            AnswerError::Pn532(code) => {
                format!("PN532 status {code:02X}: {}", pn532_status(*code))
            }
        }
    }
}

/// Reads the answer to PN532 command `command` (`D4 <command>`): `Ok` with the bytes after
/// the status byte when status is 00 and the outer word `90 00`. `with_status` is false for
/// the PN532 answers that carry no status byte. Never panics.
pub fn parse_answer(answer: &[u8], command: u8, with_status: bool) -> Result<Vec<u8>, AnswerError> {
    let Some((body, sw)) = answer.split_last_chunk::<2>() else {
        return Err(AnswerError::Malformed);
    };
    let sw = StatusWord::new(sw[0], sw[1]);
    if sw != StatusWord(0x9000) {
        return Err(if body.is_empty() {
            AnswerError::Reader(sw)
        } else {
            AnswerError::Malformed
        });
    }
    let [0xD5, reply, rest @ ..] = body else {
        return Err(AnswerError::Malformed);
    };
    if *reply != command.wrapping_add(1) {
        return Err(AnswerError::Malformed);
    }
    if !with_status {
        return Ok(rest.to_vec());
    }
    let [status, data @ ..] = rest else {
        return Err(AnswerError::Malformed);
    };
    match status & 0x3F {
        0 => Ok(data.to_vec()),
        code => Err(AnswerError::Pn532(code)),
    }
}

/// `FF 00 00 00 <Lc> D4 <command> <data>`.
pub fn direct_command(command: u8, data: &[u8]) -> Result<Vec<u8>, Error> {
    if data.len() > MAX_FRAME {
        return Err(Error::Frame {
            family: FAMILY,
            len: data.len(),
            why: "more than the 253 bytes one direct transmit carries",
        });
    }
    let mut apdu = vec![
        0xFF,
        0x00,
        0x00,
        0x00,
        (data.len() + 2) as u8,
        TO_PN532,
        command,
    ];
    apdu.extend_from_slice(data);
    Ok(apdu)
}

fn exchange(
    card: &mut dyn Card,
    command: u8,
    data: &[u8],
    with_status: bool,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    let apdu = direct_command(command, data)?;
    let answer = driver::send(card, &apdu)?;
    parse_answer(&answer, command, with_status).map_err(|e| match e {
        AnswerError::Malformed => Error::Malformed {
            family: FAMILY,
            what,
            answer: hex::format(&answer),
        },
        other => Error::Status {
            family: FAMILY,
            what,
            meaning: other.meaning(),
        },
    })
}

/// The ACR122U driver.
pub struct Driver;

impl ReaderDriver for Driver {
    fn kind(&self) -> ReaderKind {
        ReaderKind::AcsPn532
    }

    fn transceive(&self, card: &mut dyn Card, frame: &[u8]) -> Result<Vec<u8>, Error> {
        if frame.is_empty() {
            return Err(Error::Frame {
                family: FAMILY,
                len: 0,
                why: "an empty frame",
            });
        }
        exchange(card, IN_COMMUNICATE_THRU, frame, true, "InCommunicateThru")
    }

    fn field(&self, card: &mut dyn Card, on: bool) -> Result<(), Error> {
        exchange(card, 0x32, &[0x01, u8::from(on)], false, "RFConfiguration")?;
        if on {
            exchange(card, 0x4A, &[0x01, 0x00], false, "InListPassiveTarget")?;
        }
        Ok(())
    }

    fn value_command(&self, op: ValueOp, block: u8, n: u32) -> Result<Command, Error> {
        Ok(driver::acs_value(op, block, n))
    }

    fn feedback(&self, card: &mut dyn Card, ok: bool) -> Result<bool, Error> {
        driver::acs_feedback(card, ok, FAMILY)
    }
}

#[cfg(test)]
mod tests;
