//! The HID Omnikey 5x21 generic session `FF A0` (protocols.md §1.1), as the reader takes it:
//!
//! - `FF A0 00 07 03 01 00 01` opens the session, `… 01 00 02` closes it;
//! - `FF A0 00 05 <6+n> 01 00 F3 00 <timeout 2> <frame n> [Le]` sends the frame: any two
//!   timeout bytes, the frame as long as Lc says. Without Le the simulated reader answers a
//!   bare `90 00` and sends nothing; with no session open it refuses (`69 85`). Both are
//!   UNCONFIRMED on real readers, so the decoder also says what a lenient reader would
//!   deliver ([`Doubt::Lenient`]).
//!
//! Other `FF A0` forms (other header bytes, other P1 P2, extended lengths) are refused as the
//! simulated reader refuses them, with [`Doubt::RawChannel`]: a real reader may take them.

use std::ops::Range;

use super::{Decoded, Decoder, Doubt, Native, ReaderCommand, Reject, frame};
use crate::apdu::Command;

/// Data of the open (`… 01`) and close (`… 02`) commands.
const OPEN: [u8; 3] = [0x01, 0x00, 0x01];
const CLOSE: [u8; 3] = [0x01, 0x00, 0x02];

/// The constant start of the 6-byte transceive header; the last two bytes are a timeout.
const TRANSCEIVE: [u8; 4] = [0x01, 0x00, 0xF3, 0x00];
/// Bytes of the transceive header.
const HEADER: usize = 6;

/// Decodes an `FF A0` command.
pub(super) fn generic(decoder: &mut Decoder, apdu: &[u8]) -> Decoded {
    let command = match Command::parse(apdu) {
        Ok(command) if !command.extended => command,
        _ => return Decoded::certain(Err(Reject::WrongLength)),
    };
    match (command.p1, command.p2) {
        (0x00, 0x07) => Decoded::certain(if command.data == OPEN {
            decoder.session = true;
            Ok(Native::Reader(ReaderCommand::Session(true)))
        } else if command.data == CLOSE {
            decoder.session = false;
            Ok(Native::Reader(ReaderCommand::Session(false)))
        } else {
            Err(Reject::NotSupported)
        }),
        (0x00, 0x05) => transceive(decoder, &command),
        _ => Decoded::certain(Err(Reject::WrongP1P2)),
    }
}

fn transceive(decoder: &mut Decoder, command: &Command) -> Decoded {
    let data = &command.data;
    if data.len() < HEADER {
        return Decoded::certain(Err(Reject::WrongLength));
    }
    if data[..TRANSCEIVE.len()] != TRANSCEIVE {
        return Decoded::certain(Err(Reject::NotSupported));
    }
    let frame = &data[HEADER..];
    if frame.is_empty() {
        return Decoded::certain(Err(Reject::WrongLength));
    }
    let held = if !decoder.session {
        Some(Err(Reject::NoSession))
    } else if command.le.is_none() {
        Some(Ok(Native::Reader(ReaderCommand::BareAnswer)))
    } else {
        None
    };
    match held {
        None => Decoded::certain(Ok(Native::Frame(decoder.frame(frame)))),
        Some(outcome) => {
            // Not delivered here; what a reader that delivers it would give the chip.
            let mut lenient = decoder.clone();
            let native = Native::Frame(lenient.frame(frame));
            Decoded {
                outcome,
                doubt: Some(Doubt::Lenient {
                    native,
                    changes_state: lenient.frames != decoder.frames,
                }),
            }
        }
    }
}

/// The range of the ISO 14443-4 command a transceive carries (see [`super::native_span`]).
pub(super) fn span(apdu: &[u8]) -> Option<Range<usize>> {
    let command = Command::parse(apdu).ok()?;
    if command.extended || (command.p1, command.p2) != (0x00, 0x05) {
        return None;
    }
    let data = &command.data;
    if data.len() <= HEADER || data[..TRANSCEIVE.len()] != TRANSCEIVE {
        return None;
    }
    // Short APDU: the data starts after CLA INS P1 P2 Lc.
    let start = 5 + HEADER;
    let frame = &data[HEADER..];
    let inner = frame::command_span(frame);
    Some(start + inner.start..start + inner.end)
}
