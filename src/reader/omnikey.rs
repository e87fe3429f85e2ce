//! Host-side HID Omnikey 5x21 generic session (protocols.md §1.1): open, close, and send one
//! raw ISO 14443-3 frame to the card through the reader.
//!
//! - [`open`] sends `FF A0 00 07 03 01 00 01`, [`close`] `FF A0 00 07 03 01 00 02`; both
//!   need `90 00`.
//! - [`transceive`] sends `FF A0 00 05 <6+n> 01 00 F3 00 00 64 <frame> 00` — always with the
//!   trailing Le: without it the reader answers a bare `90 00` whatever happens — and
//!   returns the card's bytes, without the leading `00 00` and the final `90 00`.
//! - [`card_bytes`] reads such an answer. `64 00` means the card did not answer; when the
//!   ATR shows an ISO 14443-4 card (a MIFARE Plus in SL0 or SL3, a DESFire…) the error says
//!   why: such a card ignores unframed layer-3 frames and a second RATS (§3.6). A bare
//!   `90 00` with no data is an error too ("nothing was exchanged"), never success.
//! - [`session`] opens, runs a closure, and closes whatever the closure did.
//!
//! The reader adds and checks the CRC_A and adds no ISO 14443-4 framing: a host that wants an
//! I-block frames it itself with [`crate::iso14443::i_block`]. This file knows the wrapping,
//! not what any card does with the frame.

use super::{Card, Error as ReaderError};
use crate::apdu::{Response, StatusWord, hex};
use crate::iso14443::{Block, RATS, parse_block};

/// Opens a generic session.
pub const OPEN: [u8; 8] = [0xFF, 0xA0, 0x00, 0x07, 0x03, 0x01, 0x00, 0x01];
/// Closes the generic session.
pub const CLOSE: [u8; 8] = [0xFF, 0xA0, 0x00, 0x07, 0x03, 0x01, 0x00, 0x02];
/// The 6-byte header of a transceive; only the whole constant is confirmed (§1.1).
pub const TRANSCEIVE_HEADER: [u8; 6] = [0x01, 0x00, 0xF3, 0x00, 0x00, 0x64];
/// The longest frame a short APDU carries: Lc = 6 + n ≤ 255.
pub const MAX_FRAME: usize = 255 - TRANSCEIVE_HEADER.len();

/// The reader's "no response from media" (§1.1).
const NO_ANSWER: StatusWord = StatusWord(0x6400);
/// The simulated reader's "no generic session open" (`sim/frontend/sw.rs`).
const NO_SESSION: StatusWord = StatusWord(0x6985);

/// Why a generic-session command failed. Messages read after "failed to …".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An empty frame: nothing to send, and nothing was sent.
    #[error("the frame is empty: nothing to send")]
    EmptyFrame,
    /// A frame longer than one short APDU carries; nothing was sent.
    #[error("the frame has {len} bytes, more than the {MAX_FRAME} a transceive carries")]
    FrameTooLong {
        /// Bytes in the frame.
        len: usize,
    },
    /// The reader answered `64 00`: the card did not answer the frame.
    #[error("the card did not answer (reader status 64 00){}", hint(.frame, *.iso14443_4))]
    NoAnswer {
        /// The frame sent.
        frame: Vec<u8>,
        /// The ATR shows an ISO 14443-4 card.
        iso14443_4: bool,
    },
    /// The reader answered a bare `90 00`: no card bytes came back.
    #[error(
        "the reader answered a bare 90 00 with no card bytes: nothing was exchanged (a transceive \
         without its trailing Le gets this whatever the frame, protocols.md §1.1)"
    )]
    NothingExchanged,
    /// `90 00` with data that does not start with the `00 00` the reader puts first.
    #[error("unexpected answer `{}`: the reader's answer starts with `00 00`", hex::format(.0))]
    Malformed(Vec<u8>),
    /// The reader answered another status word.
    #[error("the reader answered {sw} ({}) to {what}{}", sw.describe_in(crate::apdu::Context::Omnikey), session_hint(*.sw))]
    Status {
        /// The command: "open", "close" or "the transceive".
        what: &'static str,
        /// Its status word.
        sw: StatusWord,
    },
    /// The transport failed, or the guard refused the command.
    #[error(transparent)]
    Reader(#[from] ReaderError),
}

fn hint(frame: &[u8], iso14443_4: bool) -> String {
    if !iso14443_4 {
        return String::new();
    }
    let what = match frame {
        [RATS, ..] => {
            "; the ATR shows an ISO 14443-4 card, which the reader activated with RATS when it \
             arrived: a card already in that state does not answer RATS again (protocols.md §3.6)"
        }
        _ if matches!(parse_block(frame), Ok(Block::I { .. })) => {
            "; the ATR shows an ISO 14443-4 card and the frame is an I-block: its block number \
             may not be the one the card expects, since the reader keeps its own (protocols.md \
             §3.6 B); sending the command directly is safer"
        }
        _ => {
            "; the ATR shows an ISO 14443-4 card (a MIFARE Plus in SL0 or SL3, a DESFire…), which \
             ignores unframed layer-3 frames: send its commands directly, without the generic \
             session (e.g. `mfp::write_perso`; the reader frames them), or frame I-blocks with \
             `iso14443::i_block` (docs/mifare-plus-sl1.md)"
        }
    };
    what.to_string()
}

fn session_hint(sw: StatusWord) -> &'static str {
    if sw == NO_SESSION {
        ": is a generic session open? (`omnikey::open`, `omnikey::session`)"
    } else {
        ""
    }
}

/// The transceive APDU for `frame`: `FF A0 00 05 <6+n> 01 00 F3 00 00 64 <frame> 00`.
pub fn transceive_command(frame: &[u8]) -> Result<Vec<u8>, Error> {
    if frame.is_empty() {
        return Err(Error::EmptyFrame);
    }
    if frame.len() > MAX_FRAME {
        return Err(Error::FrameTooLong { len: frame.len() });
    }
    let mut command = vec![
        0xFF,
        0xA0,
        0x00,
        0x05,
        (TRANSCEIVE_HEADER.len() + frame.len()) as u8,
    ];
    command.extend_from_slice(&TRANSCEIVE_HEADER);
    command.extend_from_slice(frame);
    command.push(0x00);
    Ok(command)
}

/// The frame inside a transceive APDU (trailing Le excluded) and where it starts in the
/// APDU; `None` if `apdu` is not a transceive.
pub fn frame_of(apdu: &[u8]) -> Option<(usize, &[u8])> {
    const START: usize = 5 + TRANSCEIVE_HEADER.len();
    let [0xFF, 0xA0, 0x00, 0x05, lc, body @ ..] = apdu else {
        return None;
    };
    let body = body.get(..usize::from(*lc))?;
    let frame = body.strip_prefix(&TRANSCEIVE_HEADER[..])?;
    Some((START, frame))
}

/// The card's bytes in a transceive answer: `00 00 <card bytes> 90 00` gives `<card bytes>`.
/// `frame` and `atr` only shape the message when the card did not answer.
pub fn card_bytes(response: &Response, frame: &[u8], atr: &[u8]) -> Result<Vec<u8>, Error> {
    if response.sw == NO_ANSWER {
        return Err(Error::NoAnswer {
            frame: frame.to_vec(),
            iso14443_4: super::atr::is_iso14443_4(atr),
        });
    }
    if !response.is_ok() {
        return Err(Error::Status {
            what: "the transceive",
            sw: response.sw,
        });
    }
    match response.data.as_slice() {
        [] => Err(Error::NothingExchanged),
        [0x00, 0x00, card @ ..] => Ok(card.to_vec()),
        other => Err(Error::Malformed(other.to_vec())),
    }
}

fn send(card: &mut dyn Card, command: &[u8], what: &'static str) -> Result<(), Error> {
    let response = card.transmit_response(command)?;
    if response.is_ok() {
        Ok(())
    } else {
        Err(Error::Status {
            what,
            sw: response.sw,
        })
    }
}

/// Opens a generic session (`FF A0 00 07 03 01 00 01`).
pub fn open(card: &mut dyn Card) -> Result<(), Error> {
    send(card, &OPEN, "open")
}

/// Closes the generic session (`FF A0 00 07 03 01 00 02`).
pub fn close(card: &mut dyn Card) -> Result<(), Error> {
    send(card, &CLOSE, "close")
}

/// Sends one layer-3 frame (without CRC) and returns the card's answer (without CRC). An
/// empty or too long frame is an error and nothing is sent.
pub fn transceive(card: &mut dyn Card, frame: &[u8]) -> Result<Vec<u8>, Error> {
    let command = transceive_command(frame)?;
    let response = card.transmit_response(&command)?;
    card_bytes(&response, frame, card.atr())
}

/// Opens a session, runs `f`, and closes the session whatever `f` returned. An error from
/// `f` wins over one from closing.
pub fn session<T, E: From<Error>>(
    card: &mut dyn Card,
    f: impl FnOnce(&mut dyn Card) -> Result<T, E>,
) -> Result<T, E> {
    open(card)?;
    let result = f(card);
    let closed = close(card);
    let value = result?;
    closed?;
    Ok(value)
}

#[cfg(test)]
mod tests;

/// The Omnikey xx21 driver: the generic session, `FF D4`/`FF D8` values; no RF control
/// command and no LED a host may drive (documented in README).
pub struct Driver;

impl super::driver::ReaderDriver for Driver {
    fn kind(&self) -> super::driver::ReaderKind {
        super::driver::ReaderKind::Omnikey
    }

    fn open(&self, card: &mut dyn Card) -> Result<(), super::driver::Error> {
        open(card).map_err(driver_error)
    }

    fn close(&self, card: &mut dyn Card) -> Result<(), super::driver::Error> {
        close(card).map_err(driver_error)
    }

    fn transceive(
        &self,
        card: &mut dyn Card,
        frame: &[u8],
    ) -> Result<Vec<u8>, super::driver::Error> {
        transceive(card, frame).map_err(driver_error)
    }

    fn field(&self, _card: &mut dyn Card, _on: bool) -> Result<(), super::driver::Error> {
        Err(super::driver::Error::Unsupported {
            family: "HID Omnikey generic session",
            what: "RF field control",
            hint: ": use `reset()` to activate the card afresh",
        })
    }

    fn value_command(
        &self,
        op: crate::reader::framing::ValueOp,
        block: u8,
        n: u32,
    ) -> Result<crate::apdu::Command, super::driver::Error> {
        Ok(super::driver::hid_value(op, block, n))
    }
}

fn driver_error(error: Error) -> super::driver::Error {
    match error {
        Error::Reader(e) => super::driver::Error::Reader(e),
        other => super::driver::Error::Omnikey(other),
    }
}
