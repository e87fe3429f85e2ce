//! Host side of the PC/SC 2.0 Part 3 transparent session (readers-and-keys.md §1a): start
//! and end the session, RF off/on, switch protocol `8F`, transceive a frame with `95` after a
//! timer `5F 46`, and read the answer's data
//! objects — the status in `C0`, the RX status in `96`, the chip's bytes in `97` — never
//! trusting the outer status word, which such readers set to `90 00` even on failure.
//!
//! This file knows the wrapping, not what any chip does with the frame.

use super::Card;
use super::driver::{self, Error, ReaderDriver, ReaderKind};
use crate::apdu::{Command, StatusWord, hex};
use crate::reader::framing::{ValueOp, parse_dos};

/// Manage session: get the version data object (a probe: the reader answers it itself).
pub const VERSION: [u8; 7] = [0xFF, 0xC2, 0x00, 0x00, 0x02, 0x80, 0x00];
const START: [u8; 7] = [0xFF, 0xC2, 0x00, 0x00, 0x02, 0x81, 0x00];
const END: [u8; 7] = [0xFF, 0xC2, 0x00, 0x00, 0x02, 0x82, 0x00];
const RF_OFF: [u8; 7] = [0xFF, 0xC2, 0x00, 0x00, 0x02, 0x83, 0x00];
const RF_ON: [u8; 7] = [0xFF, 0xC2, 0x00, 0x00, 0x02, 0x84, 0x00];
/// The response timeout sent before each frame: `5F 46 04` and 100,000 µs, LSB first.
const TIMER: [u8; 7] = [0x5F, 0x46, 0x04, 0xA0, 0x86, 0x01, 0x00];
/// The longest frame one short transparent exchange carries: the timer and `95 81 <len>`
/// in Lc ≤ 255.
pub const MAX_FRAME: usize = 255 - TIMER.len() - 3;
const FAMILY: &str = "PC/SC Part 3 transparent session";

/// What a Part 3 answer says went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    /// The bytes are not data objects followed by a status word, or there is no `C0`.
    Malformed,
    /// `C0` holds another status than `90 00`: the index of the offending DO and the status.
    Status {
        /// The DO index (00: the command as a whole).
        index: u8,
        /// The status inside `C0`.
        sw: StatusWord,
    },
    /// `96` reports a CRC, collision, parity or framing error (its low nibble).
    Rx(u8),
}

impl AnswerError {
    fn meaning(&self) -> String {
        match self {
            AnswerError::Malformed => "the answer holds no `C0` status object".to_string(),
            AnswerError::Status { index, sw } => {
                let what = match sw.0 {
                    0x6282 => "warning: information not available",
                    0x6300 => "no information given",
                    0x6301 => "stopped: another data object failed",
                    0x6400 => "no response from the reader's RF front end",
                    0x6401 => "no response from the card",
                    0x6700 => "unexpected data object length",
                    0x6A80 => "unexpected data object value",
                    0x6A81 => {
                        "data object not supported (is a transparent session open? `picc::open`)"
                    }
                    _ => "no precise diagnosis",
                };
                let at = if *index == 0 {
                    "the command".to_string()
                } else {
                    format!("data object {index}")
                };
                format!("status {sw} inside C0 for {at}: {what} (the outer 90 00 means nothing)")
            }
            AnswerError::Rx(bits) => {
                let mut errors = Vec::new();
                for (bit, name) in [(1, "CRC"), (2, "collision"), (4, "parity"), (8, "framing")] {
                    if bits & bit != 0 {
                        errors.push(name);
                    }
                }
                format!(
                    "the reader saw a {} error in the card's answer (96)",
                    errors.join(" and ")
                )
            }
        }
    }
}

/// Reads a Part 3 answer: data objects, then the outer status word (whatever it says). `Ok`
/// with the `97` bytes (empty when there is none) when `C0` says `90 00` and `96` reports no
/// error. Never panics.
pub fn parse_answer(answer: &[u8]) -> Result<Vec<u8>, AnswerError> {
    let body = answer
        .len()
        .checked_sub(2)
        .map(|end| &answer[..end])
        .ok_or(AnswerError::Malformed)?;
    let dos = parse_dos(body).ok_or(AnswerError::Malformed)?;
    let status = dos
        .iter()
        .find(|o| o.tag == 0xC0)
        .ok_or(AnswerError::Malformed)?;
    let [index, sw1, sw2] = body[status.value.clone()] else {
        return Err(AnswerError::Malformed);
    };
    let sw = StatusWord::new(sw1, sw2);
    if sw != StatusWord(0x9000) {
        return Err(AnswerError::Status { index, sw });
    }
    if let Some(rx) = dos.iter().find(|o| o.tag == 0x96) {
        if let Some(bits) = body[rx.value.clone()].first().map(|b| b & 0x0F) {
            if bits != 0 {
                return Err(AnswerError::Rx(bits));
            }
        }
    }
    Ok(dos
        .iter()
        .find(|o| o.tag == 0x97)
        .map(|o| body[o.value.clone()].to_vec())
        .unwrap_or_default())
}

/// The transparent exchange `FF C2 00 01 <Lc> 5F 46 04 <100 ms> 95 <len> <frame> 00`: a
/// response timeout, then the frame.
pub fn transceive_command(frame: &[u8]) -> Result<Vec<u8>, Error> {
    let too = |why| Error::Frame {
        family: FAMILY,
        len: frame.len(),
        why,
    };
    if frame.is_empty() {
        return Err(too("an empty frame"));
    }
    if frame.len() > MAX_FRAME {
        return Err(too(
            "more than the 245 bytes one transparent exchange carries",
        ));
    }
    let mut object = TIMER.to_vec();
    object.push(0x95);
    if frame.len() > 0x7F {
        object.push(0x81);
    }
    object.push(frame.len() as u8);
    object.extend_from_slice(frame);
    let mut command = vec![0xFF, 0xC2, 0x00, 0x01, object.len() as u8];
    command.extend(object);
    command.push(0x00);
    Ok(command)
}

fn checked(card: &mut dyn Card, command: &[u8], what: &'static str) -> Result<Vec<u8>, Error> {
    let answer = driver::send(card, command)?;
    parse_answer(&answer).map_err(|e| match e {
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

/// The PC/SC Part 3 driver.
pub struct Driver;

impl ReaderDriver for Driver {
    fn kind(&self) -> ReaderKind {
        ReaderKind::PcscPart3
    }

    fn open(&self, card: &mut dyn Card) -> Result<(), Error> {
        checked(card, &START, "start session").map(drop)
    }

    fn close(&self, card: &mut dyn Card) -> Result<(), Error> {
        checked(card, &END, "end session").map(drop)
    }

    fn transceive(&self, card: &mut dyn Card, frame: &[u8]) -> Result<Vec<u8>, Error> {
        let command = transceive_command(frame)?;
        checked(card, &command, "the transparent exchange")
    }

    fn field(&self, card: &mut dyn Card, on: bool) -> Result<(), Error> {
        let (command, what) = if on {
            (&RF_ON, "RF on")
        } else {
            (&RF_OFF, "RF off")
        };
        checked(card, command, what).map(drop)
    }

    fn switch_protocol(&self, card: &mut dyn Card, standard: u8, layer: u8) -> Result<(), Error> {
        let command = [0xFF, 0xC2, 0x00, 0x02, 0x04, 0x8F, 0x02, standard, layer];
        checked(card, &command, "switch protocol").map(drop)
    }

    /// The readers known to run Part 3 sessions (ACS ACR1252U, ACR1552U) take ACS `FF D7`.
    fn value_command(&self, op: ValueOp, block: u8, n: u32) -> Result<Command, Error> {
        Ok(driver::acs_value(op, block, n))
    }

    fn feedback(&self, card: &mut dyn Card, ok: bool) -> Result<bool, Error> {
        driver::acs_feedback(card, ok, FAMILY)
    }
}

#[cfg(test)]
mod tests;
