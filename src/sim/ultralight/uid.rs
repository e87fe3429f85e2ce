//! Deterministic UIDs for a stream of simulated Ultralight tags (a batch presents card after
//! card, each with its own UID; design.md "The simulator").
//!
//! [`Ultralight::uid_for`] maps a position in the stream to a 7-byte UID:
//!
//! - `SN0` is `04`, the NXP manufacturer code (protocols.md §6.1);
//! - the low 40 bits of the position go through a bijective mix (multiply by an odd
//!   constant, xor-shift, multiply, add, xor-shift, all modulo 2^40), which gives `SN1 SN2
//!   SN4 SN5 SN6`, so neighbouring positions get unrelated-looking UIDs;
//! - `SN3` carries the next bits (position / 2^40, modulo 255) offset by the mix's low byte,
//!   skipping `88`: ISO/IEC 14443-3 reserves the cascade tag `88` and does not allow it as
//!   `uid3` of a double-size UID.
//!
//! So UIDs are distinct for every position below 255 × 2^40 (about 2.8 × 10^14) and repeat
//! after that. Nothing here is random: the same position always gives the same UID.

use super::Ultralight;
use crate::mifare::ultralight::CASCADE_TAG;

/// NXP's manufacturer code, `SN0` of every NXP UID.
const NXP: u8 = 0x04;
const MASK_40: u64 = (1 << 40) - 1;

/// A bijection on 40-bit values: each step is invertible modulo 2^40.
fn mix40(x: u64) -> u64 {
    let mut x = x & MASK_40;
    x = x.wrapping_mul(0x9E37_79B9_7F4B) & MASK_40;
    x ^= x >> 20;
    x = (x
        .wrapping_mul(0xBF58_476D_1CE5)
        .wrapping_add(0x2545_F491_4F6D))
        & MASK_40;
    x ^ (x >> 17)
}

/// Maps 0..=254 onto the 255 byte values other than the cascade tag `88`.
fn skip_cascade_tag(v: u8) -> u8 {
    if v >= CASCADE_TAG { v + 1 } else { v }
}

impl Ultralight {
    /// The UID of the tag at `position` in a stream of simulated tags: `04` first, distinct
    /// for every position below 255 × 2^40, never `88` as `SN3` (see the module docs).
    pub fn uid_for(position: u64) -> [u8; 7] {
        let mixed = mix40(position);
        let high = ((position >> 40) % 255) as u8;
        let [_, _, _, b1, b2, b3, b4, b5] = mixed.to_be_bytes();
        // Adding the mixed low byte (mod 255) keeps SN3 varied while the position is small,
        // and stays injective: given the other bytes, `high` is recovered by subtracting it.
        let sn3 = ((u16::from(high) + u16::from(b5)) % 255) as u8;
        [NXP, b1, b2, skip_cascade_tag(sn3), b3, b4, b5]
    }
}
