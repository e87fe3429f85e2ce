//! MIFARE Classic value blocks (protocols.md §5): a signed 32-bit value stored three times
//! (plain, inverted, plain) and a one-byte address stored four times (`A ~A A ~A`).
//!
//! Format and check only. Whether a block may be incremented or decremented is a matter of
//! its access conditions ([`crate::mifare::access`]).

use crate::mifare::hex;

/// Why 16 bytes are not a valid value block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Bytes 0–3 and 8–11 (the two plain copies of the value) differ.
    #[error("value block copies differ: bytes 0-3 are `{}`, bytes 8-11 are `{}`", hex(.first), hex(.second))]
    Copies {
        /// Bytes 0–3.
        first: [u8; 4],
        /// Bytes 8–11.
        second: [u8; 4],
    },
    /// Bytes 4–7 are not the bitwise inverse of bytes 0–3.
    #[error("value block bytes 4-7 `{}` are not the inverse of bytes 0-3 `{}`", hex(.inverted), hex(.value))]
    Inverted {
        /// Bytes 0–3.
        value: [u8; 4],
        /// Bytes 4–7.
        inverted: [u8; 4],
    },
    /// Bytes 12–15 are not `A ~A A ~A`.
    #[error("value block address bytes 12-15 `{}` are not `A ~A A ~A`", hex(.bytes))]
    Address {
        /// Bytes 12–15.
        bytes: [u8; 4],
    },
}

/// Formats a value block: value LSB first (two's complement), its inverse, the value again,
/// then `addr ~addr addr ~addr` (§5). 100 with address 5 is
/// `64 00 00 00 9B FF FF FF 64 00 00 00 05 FA 05 FA`.
pub fn value_block(value: i32, addr: u8) -> [u8; 16] {
    let v = value.to_le_bytes();
    let n = (!value).to_le_bytes();
    [
        v[0], v[1], v[2], v[3], n[0], n[1], n[2], n[3], v[0], v[1], v[2], v[3], addr, !addr, addr,
        !addr,
    ]
}

/// Reads a value block, checking every redundant copy (the MifareClassicTool and ChameleonMini
/// rule of §5): bytes 0–3 = 8–11, 4–7 = ¬0–3, 12 = 14, 13 = 15 = ¬12. Returns the value and
/// the address byte.
pub fn parse_value_block(block: &[u8; 16]) -> Result<(i32, u8), ValueError> {
    let quad = |at: usize| [block[at], block[at + 1], block[at + 2], block[at + 3]];
    let (value, inverted, second, address) = (quad(0), quad(4), quad(8), quad(12));
    if value != second {
        return Err(ValueError::Copies {
            first: value,
            second,
        });
    }
    if inverted != value.map(|b| !b) {
        return Err(ValueError::Inverted { value, inverted });
    }
    let [a, not_a, a2, not_a2] = address;
    if a2 != a || not_a != !a || not_a2 != !a {
        return Err(ValueError::Address { bytes: address });
    }
    Ok((i32::from_le_bytes(value), a))
}

/// Whether 16 bytes are a valid value block.
pub fn is_value_block(block: &[u8; 16]) -> bool {
    parse_value_block(block).is_ok()
}
