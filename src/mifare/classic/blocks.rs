//! Whole special blocks of MIFARE Classic: the sector trailer (protocols.md §4.1) and the
//! manufacturer block 0 of a card with a 4-byte UID (§4.5).
//!
//! Byte placement and the block-0 check byte only. The access bytes inside a trailer are
//! encoded and judged by [`crate::mifare::access`]; keys are plain bytes here, and
//! [`Trailer`]'s `Debug` hides them so they do not leak into logs or test output.

use std::fmt;

use crate::mifare::access::{self, AccessBits, Malformed};

/// The general purpose byte of the transport configuration (`FF 07 80 69`, §4.1).
pub const TRANSPORT_GPB: u8 = 0x69;

/// Builds a sector trailer: `key A (6) | access bits (3) | GPB | key B (6)` (§4.1).
pub fn trailer(key_a: [u8; 6], access: [u8; 3], gpb: u8, key_b: [u8; 6]) -> [u8; 16] {
    Trailer {
        key_a,
        access,
        gpb,
        key_b,
    }
    .to_bytes()
}

/// A sector trailer split into its fields.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Bytes 0–5. Reads back as zeros from a real card: key A is never readable.
    pub key_a: [u8; 6],
    /// Bytes 6–8, the access bits.
    pub access: [u8; 3],
    /// Byte 9, the general purpose byte.
    pub gpb: u8,
    /// Bytes 10–15. Reads back as zeros unless the conditions make key B readable.
    pub key_b: [u8; 6],
}

impl Trailer {
    /// The 16 bytes of the trailer.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..6].copy_from_slice(&self.key_a);
        out[6..9].copy_from_slice(&self.access);
        out[9] = self.gpb;
        out[10..].copy_from_slice(&self.key_b);
        out
    }

    /// Splits 16 bytes into the trailer's fields. Never fails: any bytes can be split; use
    /// [`Trailer::access_bits`] to check the access bytes.
    pub fn from_bytes(block: &[u8; 16]) -> Trailer {
        let mut t = Trailer {
            key_a: [0; 6],
            access: [0; 3],
            gpb: block[9],
            key_b: [0; 6],
        };
        t.key_a.copy_from_slice(&block[..6]);
        t.access.copy_from_slice(&block[6..9]);
        t.key_b.copy_from_slice(&block[10..]);
        t
    }

    /// The decoded access conditions, or why they are malformed.
    pub fn access_bits(&self) -> Result<AccessBits, Malformed> {
        access::decode(self.access)
    }
}

impl fmt::Debug for Trailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trailer")
            .field("key_a", &"(redacted)")
            .field("access", &crate::mifare::hex(&self.access))
            .field("gpb", &format_args!("{:02X}", self.gpb))
            .field("key_b", &"(redacted)")
            .finish()
    }
}

/// The block check character of a 4-byte UID: the XOR of its bytes (§4.5).
pub fn bcc(uid: [u8; 4]) -> u8 {
    uid.iter().fold(0, |acc, b| acc ^ b)
}

/// Why a block 0 would soft-brick a card (§4.5, MifareClassicTool `isValidBlock0`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Block0Error {
    /// Byte 4 is not the XOR of the four UID bytes.
    #[error("block 0 BCC is {found:02X}, expected {expected:02X} (XOR of the UID bytes)")]
    Bcc {
        /// Byte 4 as found.
        found: u8,
        /// The XOR of bytes 0–3.
        expected: u8,
    },
    /// The UID starts with `88`, the cascade tag, which a 4-byte UID must not.
    #[error("block 0 UID starts with 88, the cascade tag, which a 4-byte UID must not")]
    CascadeTag,
}

/// Block 0 of a card with a 4-byte UID: `UID0..3 BCC SAK ATQA(LSB first) manufacturer(8)` (§4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block0 {
    /// The 4-byte UID.
    pub uid: [u8; 4],
    /// The SAK (`08` for a 1K card, `18` for a 4K card, §5).
    pub sak: u8,
    /// The ATQA as written in the standard, MSB first: `0x0004` for a 1K card, `0x0002` for 4K.
    /// Stored LSB first in the block (`04 00`).
    pub atqa: u16,
    /// Bytes 8–15, manufacturer data.
    pub manufacturer: [u8; 8],
}

impl Block0 {
    /// The 16 bytes of block 0, with the BCC computed from the UID.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..4].copy_from_slice(&self.uid);
        out[4] = bcc(self.uid);
        out[5] = self.sak;
        out[6..8].copy_from_slice(&self.atqa.to_le_bytes());
        out[8..].copy_from_slice(&self.manufacturer);
        out
    }

    /// Reads block 0, refusing a wrong BCC or a UID starting with the cascade tag `88`.
    pub fn parse(block: &[u8; 16]) -> Result<Block0, Block0Error> {
        let uid = [block[0], block[1], block[2], block[3]];
        let expected = bcc(uid);
        if block[4] != expected {
            return Err(Block0Error::Bcc {
                found: block[4],
                expected,
            });
        }
        if uid[0] == 0x88 {
            return Err(Block0Error::CascadeTag);
        }
        let mut manufacturer = [0u8; 8];
        manufacturer.copy_from_slice(&block[8..]);
        Ok(Block0 {
            uid,
            sak: block[5],
            atqa: u16::from_le_bytes([block[6], block[7]]),
            manufacturer,
        })
    }
}
