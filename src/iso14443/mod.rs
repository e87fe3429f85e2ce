//! ISO/IEC 14443 type A framing: CRC_A and ISO/IEC 14443-4 blocks (protocols.md Appendices A
//! and B).
//!
//! Pure: bytes in, bytes out, no I/O and nothing else from this crate. This is what a raw or
//! transparent session (protocols.md §3.6 B and C) needs to frame I-blocks itself, and what a
//! simulated card needs to read them. It does not select cards, time anything or keep
//! protocol state beyond the [`BlockNumber`] a caller holds.

mod block;
mod crc;
mod number;
#[cfg(test)]
mod tests;

pub use block::{
    Block, MAX_CID, MAX_WTXM, RKind, SKind, i_block, i_block_chaining, i_block_with_cid,
    parse_block,
};
pub use crc::{append_crc_a, check_crc_a, crc_a};
pub use number::BlockNumber;

/// First byte of RATS (request for answer to select).
pub const RATS: u8 = 0xE0;

/// The highest FSDI accepted by [`rats`]: 8, a 256-byte frame. Later editions of
/// ISO/IEC 14443-4 define larger frames; they are not accepted here.
pub const MAX_FSDI: u8 = 8;

/// Why bytes are not a valid ISO/IEC 14443-4 block, or why a block cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No bytes at all: a block has at least a PCB.
    #[error("empty block, expected at least a PCB")]
    Empty,
    /// The first byte is not the PCB of an I-, R- or S-block.
    #[error("PCB `{0:02X}` is not an I-, R- or S-block")]
    InvalidPcb(u8),
    /// The PCB announces a NAD byte, which this module does not model.
    #[error("PCB `{0:02X}` announces a NAD, which is not supported")]
    NadNotSupported(u8),
    /// The PCB announces a CID byte but the block ends there.
    #[error("block with PCB `{0:02X}` ends before its CID byte")]
    MissingCid(u8),
    /// The CID byte holds reserved bits or CID 15.
    #[error("CID byte `{0:02X}` does not hold a CID from 0 to 14")]
    InvalidCidByte(u8),
    /// An S(WTX) block without its WTXM byte.
    #[error("S(WTX) ends before its WTXM byte")]
    MissingWtxm,
    /// A waiting time extension multiplier outside 1 to 59.
    #[error("WTXM must be 1 to 59, got {0}")]
    InvalidWtxm(u8),
    /// An R-block or S-block with more bytes than its kind carries.
    #[error("block with PCB `{pcb:02X}` has {extra} unexpected trailing bytes")]
    TrailingBytes {
        /// The PCB of the block.
        pcb: u8,
        /// How many bytes are left over.
        extra: usize,
    },
    /// A CID argument outside 0 to 14.
    #[error("CID must be 0 to 14, got {0}")]
    InvalidCid(u8),
    /// An FSDI argument above [`MAX_FSDI`].
    #[error("FSDI must be 0 to 8, got {0}")]
    InvalidFsdi(u8),
    /// A block number other than 0 or 1.
    #[error("block number must be 0 or 1, got {0}")]
    InvalidBlockNumber(u8),
}

/// Builds RATS, `E0` then `FSDI << 4 | CID`, without its CRC_A.
///
/// FSDI 8 announces that the reader accepts 256-byte frames; `rats(8, 0)` is `E0 80`, sent
/// as `E0 80 31 73` (protocols.md §3.5). Fails if `fsdi` is above [`MAX_FSDI`] or `cid`
/// above [`MAX_CID`].
pub fn rats(fsdi: u8, cid: u8) -> Result<[u8; 2], Error> {
    if fsdi > MAX_FSDI {
        return Err(Error::InvalidFsdi(fsdi));
    }
    block::check_cid(cid)?;
    Ok([RATS, fsdi << 4 | cid])
}
