//! Layer-3 frames to the Ultralight, as the Omnikey generic session delivers them
//! (protocols.md §1.1: the reader appends and checks CRC_A, so frames here carry no CRC).
//!
//! | frame | answer |
//! |---|---|
//! | `30 <page>` READ | 16 bytes (4 pages, wrapping after page 15), or NAK |
//! | `A2 <page> d0 d1 d2 d3` WRITE | ACK `0A` or NAK |
//! | `A0 <page>` COMPATIBILITY WRITE, phase 1 | ACK, or NAK 0 for pages 0–1 and past 15 |
//! | any frame right after phase 1 | 16 bytes: ACK or NAK, the first 4 bytes are written to `<page>`; other lengths NAK 1 |
//! | `A0 <page> <16 bytes>` (one frame) | ACK or NAK: the first 4 bytes are written |
//! | anything else (HALT `50 00`, EV1 commands, an empty frame) | no answer (`None`) |
//!
//! An ACK or NAK is a 4-bit value; here it is one byte holding it (`0A`, `00`, `01`). Real
//! tags take a compatibility write in two phases with an ACK between (§6.2); the one-frame
//! form is a convenience of this simulator, so a script can send it in one transceive
//! (and the guard can see the page and data together). Unsupported commands get no answer,
//! as on a real tag (§6.2); a real tag would also go idle until re-selected, which is not
//! modelled — the front-end turns "no answer" into the reader's timeout status.
//! Frames are read by the one framing decoder (`reader/framing/frame.rs`), which also keeps
//! the page of a compatibility write between its two frames; this file answers the decoded
//! commands. It does not know about APDUs or status words.

use super::{Page, Ultralight};
use crate::mifare::ultralight::{PageKind, page_kind};
use crate::reader::framing::{Frame, Layer3};

/// The ACK of a WRITE or COMPATIBILITY WRITE: the 4-bit value `A` (protocols.md §6.2).
pub const ACK: u8 = 0x0A;

const READ: u8 = 0x30;
const WRITE: u8 = 0xA2;
const COMPAT_WRITE: u8 = 0xA0;
/// Bytes in the data phase of a COMPATIBILITY WRITE.
const COMPAT_DATA: usize = 16;

/// A negative acknowledge: the 4-bit values an MF0ICU1 sends (protocols.md §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Nak {
    /// NAK `0`: invalid argument — a page past 15, a read-only page (0–1), a locked page,
    /// or a locked OTP page.
    #[error("NAK 0 (invalid argument: page out of range, read-only or locked)")]
    InvalidArgument,
    /// NAK `1`: parity or CRC error. The simulator sends it for a READ, WRITE or
    /// COMPATIBILITY WRITE frame of the wrong length, which a real tag would see as a frame
    /// whose CRC does not check (what real tags answer here is not confirmed by a source).
    #[error("NAK 1 (parity or CRC error: frame of the wrong length)")]
    Frame,
}

impl Nak {
    /// The 4-bit NAK value, as the one byte the front-end passes on.
    pub fn code(self) -> u8 {
        match self {
            Nak::InvalidArgument => 0x0,
            Nak::Frame => 0x1,
        }
    }
}

/// The one-byte answer to a write: ACK or the NAK's code.
fn ack_or_nak(result: Result<(), Nak>) -> Vec<u8> {
    vec![match result {
        Ok(()) => ACK,
        Err(nak) => nak.code(),
    }]
}

fn first_page(data: &[u8]) -> Page {
    let mut page = [0; 4];
    page.copy_from_slice(&data[..4]);
    page
}

/// Pages a COMPATIBILITY WRITE may address: 2–15 (pages 0–1 hold the serial number).
fn compat_target(page: u8) -> Result<u8, Nak> {
    match page_kind(page) {
        None | Some(PageKind::Serial) => Err(Nak::InvalidArgument),
        Some(_) => Ok(page),
    }
}

impl Ultralight {
    /// Answers one layer-3 frame without CRC (see the module docs for the table), or `None`
    /// when a real tag would stay silent. Never panics, whatever the bytes. The frame is read
    /// by the one framing decoder, as behind the simulated reader.
    pub fn frame(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        match self.frames.deliver(frame) {
            Frame::Layer3(command) => self.layer3(&command),
            _ => None,
        }
    }

    /// Answers one decoded layer-3 command, or `None` when a real tag would stay silent.
    pub fn layer3(&mut self, command: &Layer3) -> Option<Vec<u8>> {
        match command {
            // Phase 2 of a COMPATIBILITY WRITE: the frame is the data, whatever it starts
            // with. Only the first 4 of the 16 bytes are stored (§6.2, §6.6). The decoder
            // announced the page whatever it was; a page the tag NAKed in phase 1 is NAKed
            // again here.
            Layer3::CompatWrite { page, data } => Some(ack_or_nak(if data.len() == COMPAT_DATA {
                compat_target(*page).and_then(|page| self.write_page(page, first_page(data)))
            } else {
                Err(Nak::Frame)
            })),
            Layer3::Read { page } => Some(match self.read4(*page) {
                Ok(data) => data.to_vec(),
                Err(nak) => vec![nak.code()],
            }),
            Layer3::Write { page, data } => Some(ack_or_nak(self.write_page(*page, *data))),
            Layer3::CompatStart { page } => Some(ack_or_nak(compat_target(*page).map(|_| ()))),
            Layer3::Halt | Layer3::Rats { .. } => None,
            Layer3::Other(bytes) => match bytes.first() {
                Some(&(READ | WRITE | COMPAT_WRITE)) => Some(vec![Nak::Frame.code()]),
                _ => None,
            },
        }
    }
}
