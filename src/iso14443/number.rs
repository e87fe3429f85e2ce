//! The ISO/IEC 14443-4 block number and its toggling rule (protocols.md Appendix B).
//!
//! A value a caller keeps between exchanges; nothing here remembers it for them.

use super::Error;

/// The one-bit block number of I- and R-blocks.
///
/// The reader starts at [`BlockNumber::Zero`] and toggles after each I-block or R(ACK) it
/// accepts from the card; the card answers with the number it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BlockNumber {
    /// Block number 0, where every session starts.
    #[default]
    Zero,
    /// Block number 1.
    One,
}

impl BlockNumber {
    /// The other block number.
    pub fn toggled(self) -> BlockNumber {
        match self {
            BlockNumber::Zero => BlockNumber::One,
            BlockNumber::One => BlockNumber::Zero,
        }
    }

    /// Switches to the other block number, as after an accepted I-block or R(ACK).
    pub fn toggle(&mut self) {
        *self = self.toggled();
    }

    /// The number as PCB bit b1: 0 or 1.
    pub fn bit(self) -> u8 {
        match self {
            BlockNumber::Zero => 0,
            BlockNumber::One => 1,
        }
    }

    /// Reads PCB bit b1, already masked by the caller.
    pub(super) fn from_pcb_bit(bit: u8) -> BlockNumber {
        if bit == 0 {
            BlockNumber::Zero
        } else {
            BlockNumber::One
        }
    }
}

impl TryFrom<u8> for BlockNumber {
    type Error = Error;

    /// Accepts 0 and 1 only.
    fn try_from(value: u8) -> Result<BlockNumber, Error> {
        match value {
            0 => Ok(BlockNumber::Zero),
            1 => Ok(BlockNumber::One),
            other => Err(Error::InvalidBlockNumber(other)),
        }
    }
}
