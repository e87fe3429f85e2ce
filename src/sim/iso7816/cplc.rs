//! GET DATA (INS CA) for the card production life cycle data, CPLC (GlobalPlatform Card
//! Specification, tag `9F7F`), as JavaCards answer `80 CA 9F 7F 00`.
//!
//! The 42 bytes are fixed except the IC serial number (bytes 12-15 of the value, bytes 15-18
//! of the response after `9F 7F 2A`), which is the card's own: fresh cards of a stream get
//! one per position ([`serial_for`]), so a profile can tell them apart with
//! `identify: { apdu: 80 CA 9F 7F 00 }`. Class `00` and `80` are both accepted; any other
//! tag is `6A 88`. Nothing else of GlobalPlatform is simulated.

use super::FileCard;
use super::sw;
use super::transport::Reply;
use crate::apdu::{Command, StatusWord};

/// The IC serial number of the card at `position` (0-based) of a stream: distinct for the
/// first 2^32 positions.
pub(in crate::sim) fn serial_for(position: u64) -> u32 {
    0x1000_0000u32.wrapping_add(position as u32)
}

/// The serial of a card built without a position (the default card, old images).
pub(super) fn default_serial() -> u32 {
    serial_for(0)
}

/// The CPLC value (42 bytes) around `serial`.
pub(in crate::sim) fn value(serial: u32) -> [u8; 42] {
    let mut out = [0u8; 42];
    out[0..2].copy_from_slice(&[0x47, 0x90]); // IC fabricator
    out[2..4].copy_from_slice(&[0x50, 0x40]); // IC type
    out[4..6].copy_from_slice(&[0x41, 0x52]); // operating system identifier ("AR")
    out[6..8].copy_from_slice(&[0x60, 0x01]); // OS release date (YDDD)
    out[8..10].copy_from_slice(&[0x01, 0x00]); // OS release level
    out[10..12].copy_from_slice(&[0x60, 0x02]); // IC fabrication date
    out[12..16].copy_from_slice(&serial.to_be_bytes()); // IC serial number
    out[16..18].copy_from_slice(&[0x00, 0x01]); // IC batch identifier
    out
}

impl FileCard {
    /// GET DATA (INS CA): P1-P2 `9F 7F` gives `9F 7F 2A` and the CPLC.
    pub(super) fn get_data(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if !command.data.is_empty() {
            return Err(sw::WRONG_LENGTH);
        }
        if (command.p1, command.p2) != (0x9F, 0x7F) {
            return Err(sw::REFERENCE_NOT_FOUND);
        }
        let mut data = Vec::with_capacity(47);
        data.extend_from_slice(&[0x9F, 0x7F, 0x2A]);
        data.extend_from_slice(&value(self.state.serial));
        Ok(Reply::Blob(data))
    }
}
