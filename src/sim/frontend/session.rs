//! The Omnikey 5x21 generic session (protocols.md §1.1): open, close, and transceive one raw
//! ISO 14443-3 frame.
//!
//! - `FF A0 00 07 03 01 00 01` opens a session, `… 01 00 02` closes it; both answer `90 00`.
//! - `FF A0 00 05 <6+n> 01 00 F3 00 <timeout 2> <frame n> 00` sends the frame (the reader
//!   adds and checks the CRC, adds no ISO 14443-4 framing) and answers `00 00 <card bytes>
//!   90 00`, or `64 00` when the chip stays silent.
//! - Without the trailing Le the reader answers a bare `90 00` whatever the frame (§1.1,
//!   forum observation). Whether the frame reaches the card then is UNCONFIRMED; here it
//!   does not, so a script that forgets Le learns nothing and changes nothing.
//! - A transceive with no open session gets `69 85`. Real readers may be more lenient
//!   (UNCONFIRMED); being strict means a script that works here also works there.

use super::sw;
use super::{Answer, Frontend, Picc};
use crate::apdu::{Command, StatusWord};

/// Data of the open (`… 01`) and close (`… 02`) commands after the `03` length.
const OPEN: [u8; 3] = [0x01, 0x00, 0x01];
const CLOSE: [u8; 3] = [0x01, 0x00, 0x02];

/// The constant start of the 6-byte transceive header; the last two bytes are a timeout.
const TRANSCEIVE: [u8; 4] = [0x01, 0x00, 0xF3, 0x00];

/// Answers `FF A0`.
pub(super) fn generic<P: Picc>(
    fe: &mut Frontend<P>,
    command: &Command,
) -> Result<Answer, StatusWord> {
    match (command.p1, command.p2) {
        (0x00, 0x07) => {
            if command.data == OPEN {
                fe.session = true;
            } else if command.data == CLOSE {
                fe.session = false;
            } else {
                return Err(sw::NOT_SUPPORTED);
            }
            Ok((Vec::new(), sw::OK))
        }
        (0x00, 0x05) => transceive(fe, command),
        _ => Err(sw::WRONG_P1P2),
    }
}

fn transceive<P: Picc>(fe: &mut Frontend<P>, command: &Command) -> Result<Answer, StatusWord> {
    let data = &command.data;
    if data.len() < 6 {
        return Err(sw::WRONG_LENGTH);
    }
    if data[..4] != TRANSCEIVE {
        return Err(sw::NOT_SUPPORTED);
    }
    let frame = &data[6..];
    if frame.is_empty() {
        return Err(sw::WRONG_LENGTH);
    }
    if !fe.session {
        return Err(sw::NO_SESSION);
    }
    if command.le.is_none() {
        return Ok((Vec::new(), sw::OK));
    }
    match fe.picc.frame(frame) {
        Some(answer) => {
            let mut out = Vec::with_capacity(answer.len() + 2);
            out.extend_from_slice(&[0x00, 0x00]);
            out.extend_from_slice(&answer);
            Ok((out, sw::OK))
        }
        None => Err(sw::NO_RESPONSE),
    }
}
