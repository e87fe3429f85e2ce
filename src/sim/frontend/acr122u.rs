//! The simulated ACS ACR122U: a PN532 behind a CCID micro-controller (readers-and-keys.md
//! §1b). What it adds to the common reader:
//!
//! - direct transmit `FF 00 00 00 <Lc> D4 …`: InDataExchange `D4 40 01` (the PN532 frames
//!   an ISO 14443-4 command itself; a layer-3 chip gets the frame) answered
//!   `D5 41 <status> <data> 90 00`, InCommunicateThru `D4 42` answered `D5 43 …`; a chip
//!   that stays silent gives PN532 status `01` (timeout) *inside* an outer `90 00`;
//!   InListPassiveTarget `D4 4A` (the chip activated afresh), InRelease, InDeselect,
//!   InSelect, RFConfiguration, GetFirmwareVersion, GetGeneralStatus;
//! - LED and buzzer `FF 00 40` answered `90 <LED state>`; the firmware version
//!   `FF 00 48 00 00` answered `ACR122U207` with no status word (UNCONFIRMED: libnfc copies
//!   the whole answer as the version string);
//! - its traps: every error of the common commands is `63 00` (the manual's one error
//!   word), the HID commands (`FF A0`, `FF D4`, `FF D8`) and PC/SC Part 3 (`FF C2`) are
//!   `63 00` too, and a one-byte pass-through answer gets `90 00` appended.
//!
//! The PN532 runs no Crypto1 here: MIFARE Classic frames through InDataExchange reach the
//! chip as raw frames, which the simulated Classic does not answer (status `01`); scripts use
//! the storage-card commands (`FF 82`/`FF 86`/`FF B0`/`FF D6`/`FF D7`), as on the real reader.

use super::{Frontend, Picc, storage_atr, sw};
use crate::apdu::StatusWord;
use crate::reader::framing::{Channel, Native, ReaderCommand, Reject, channel};

/// The reader name pcsc-lite reports (CCID driver), without the slot numbers.
pub const NAME: &str = "ACS ACR122U PICC Interface";
/// The firmware string `FF 00 48 00 00` returns.
const FIRMWARE: &[u8] = b"ACR122U207";
/// PN532 status: OK.
const PN532_OK: u8 = 0x00;
/// PN532 status: timeout, the target did not answer.
const PN532_TIMEOUT: u8 = 0x01;
/// The reader's one error word.
const ERROR: StatusWord = sw::AUTH_FAILED;

/// Commands of other dialects: `63 00`.
pub(super) fn refuse(apdu: &[u8]) -> Option<Vec<u8>> {
    match apdu {
        [0xFF, 0xA0 | 0xC2 | 0xD4 | 0xD8, ..] => Some(ERROR.0.to_be_bytes().to_vec()),
        _ => None,
    }
}

/// Every error is `63 00`; a wrong Le for the UID and a short UID keep their words, which
/// `FF CA` users rely on.
pub(super) fn status(word: StatusWord) -> StatusWord {
    if word == sw::OK || word == sw::END_OF_DATA || word.0 >> 8 == 0x6C {
        word
    } else {
        ERROR
    }
}

/// ACS readers append `90 00` to a pass-through answer shorter than a status word (the
/// one status byte of a MIFARE Plus).
pub(super) fn append_status(mut answer: Vec<u8>) -> Vec<u8> {
    if answer.len() < 2 {
        answer.extend_from_slice(&sw::OK.0.to_be_bytes());
    }
    answer
}

/// `D5 <command + 1> <status> <data> 90 00`.
fn pn532(command: u8, status: Option<u8>, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0xD5, command.wrapping_add(1)];
    out.extend(status);
    out.extend_from_slice(data);
    out.extend_from_slice(&sw::OK.0.to_be_bytes());
    out
}

/// ATQA and SAK of the chip, for InListPassiveTarget (NXP data sheets): from its PC/SC card
/// name, or `00 44` / `20` for an ISO 14443-4 chip with a 7-byte UID.
fn atqa_sak<P: Picc>(picc: &P) -> ([u8; 2], u8) {
    if picc.atr() != storage_atr(picc.card_name()) {
        return ([0x00, 0x44], 0x20);
    }
    let seven = picc.uid().len() == 7;
    match picc.card_name() {
        0x0002 | 0x0037 if seven => ([0x00, 0x42], 0x18),
        0x0002 | 0x0037 => ([0x00, 0x02], 0x18),
        0x0003 => ([0x00, 0x44], 0x00),
        _ if seven => ([0x00, 0x44], 0x08),
        _ => ([0x00, 0x04], 0x08),
    }
}

/// Answers an `FF 00` command (or a refused one) as the ACR122U does.
pub(super) fn answer<P: Picc>(
    fe: &mut Frontend<P>,
    apdu: &[u8],
    outcome: Result<Native, Reject>,
) -> Vec<u8> {
    let Channel::Pn532(command) = channel(apdu) else {
        return match outcome {
            Ok(Native::Reader(ReaderCommand::Firmware)) => FIRMWARE.to_vec(),
            Ok(Native::Reader(ReaderCommand::Feedback { state, .. })) => {
                // The final LED state: bit 0 red, bit 1 green.
                vec![0x90, state & 0x03]
            }
            other => fe.plain(other),
        };
    };
    match outcome {
        Err(_) => ERROR.0.to_be_bytes().to_vec(),
        Ok(Native::Apdu(command_apdu)) => match fe.picc.apdu(&command_apdu) {
            Some(answer) => pn532(command, Some(PN532_OK), &answer),
            None => pn532(command, Some(PN532_TIMEOUT), &[]),
        },
        Ok(Native::Frame(frame)) => match fe.picc.frame(&frame) {
            Some(answer) => pn532(command, Some(PN532_OK), &answer),
            None => pn532(command, Some(PN532_TIMEOUT), &[]),
        },
        Ok(Native::Reader(ReaderCommand::Pn532 { command, field })) => {
            if field {
                fe.cycle_field();
            }
            match command {
                0x4A => {
                    let (atqa, sak) = atqa_sak(&fe.picc);
                    let uid = fe.picc.uid().to_vec();
                    let mut target = vec![0x01, 0x01, atqa[0], atqa[1], sak, uid.len() as u8];
                    target.extend_from_slice(&uid);
                    pn532(command, None, &target)
                }
                // PN532 version 1.6, ISO 14443 A and B and ISO 18092 supported.
                0x02 => pn532(command, None, &[0x32, 0x01, 0x06, 0x07]),
                // No error, field on, no target listed.
                0x04 => pn532(command, None, &[0x00, 0x01, 0x00]),
                _ => pn532(command, Some(PN532_OK), &[]),
            }
        }
        Ok(other) => fe.plain(Ok(other)),
    }
}
