//! UIDs for a stream of fresh cards: distinct, deterministic, derived from the card's position.
//!
//! A production line never sees two cards with one UID, so `sim serve --count N` must not
//! present them either; and a test that fails on card 7 must meet the same card 7 next time.
//! The rule, for card `position` (1, 2, 3 …) and a UID of `len` bytes:
//!
//! - 7 bytes or more (ISO 14443-3 double and triple size): `04` (NXP's manufacturer code),
//!   then `mix(position)` over the remaining bytes, big-endian, zero-padded beyond 8 bytes;
//! - fewer (single size, 4 bytes): `mix(position)` over all bytes, applied again while the
//!   first byte would be `88`, the cascade tag, which a single-size UID must not start with.
//!
//! `mix` is a bijection on `w`-bit numbers (xor-shifts and multiplications by odd constants),
//! so positions below `2^w` get distinct UIDs: every position of a 4-byte stream below 2^24
//! (re-applying `mix` keeps it injective there, since those positions start with `00`), and
//! every position below 2^48 for 7 bytes. This file does not know which kinds have a UID;
//! [`reported_uid`] asks a card the way a PC/SC application would.

use crate::reader::Card;

/// The UID of card `position` in a stream of fresh cards whose UIDs are `len` bytes long.
pub fn position_uid(position: u64, len: usize) -> Vec<u8> {
    if len >= 7 {
        let mut uid = vec![0x04];
        uid.extend(mixed_bytes(position, len - 1));
        return uid;
    }
    let mut value = position;
    loop {
        let uid = mixed_bytes(value, len);
        if uid.first() != Some(&CASCADE_TAG) {
            return uid;
        }
        value = mix(value, bits(len));
    }
}

/// The UID a reader reports for `card` (PC/SC Part 3 GET DATA, `FF CA 00 00 00`); `None` when
/// the card has none (the answer is not `90 00` with data) or does not answer.
pub fn reported_uid(card: &mut dyn Card) -> Option<Vec<u8>> {
    let mut answer = card.transmit(&[0xFF, 0xCA, 0x00, 0x00, 0x00]).ok()?;
    if answer.len() > 2 && answer.ends_with(&[0x90, 0x00]) {
        answer.truncate(answer.len() - 2);
        Some(answer)
    } else {
        None
    }
}

/// ISO 14443-3: `88` announces that the UID continues in the next cascade level.
const CASCADE_TAG: u8 = 0x88;

/// How many bits of `len` bytes `mix` fills (at most 64).
fn bits(len: usize) -> u32 {
    u32::try_from(len.min(8) * 8).unwrap_or(64)
}

/// `mix(value)` as `len` big-endian bytes, zero-padded in front beyond 8 bytes.
fn mixed_bytes(value: u64, len: usize) -> Vec<u8> {
    let w = bits(len);
    let mixed = mix(value, w).to_be_bytes();
    let mut out = vec![0; len.saturating_sub(8)];
    out.extend_from_slice(&mixed[8 - (w / 8) as usize..]);
    out
}

/// A bijection on `w`-bit numbers (`w` a multiple of 8, at most 64); bits above `w` are ignored.
fn mix(value: u64, w: u32) -> u64 {
    if w == 0 {
        return 0;
    }
    let mask = u64::MAX >> (64 - w);
    let shift = w / 2;
    // Each step is invertible modulo 2^w: x ^= x >> s undoes itself step by step, and an odd
    // multiplier has an inverse. The constants are SplitMix64's.
    let mut x = value & mask;
    x ^= x >> shift;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9) & mask;
    x ^= x >> shift;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB) & mask;
    x ^= x >> shift;
    x
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn seven_byte_uids_start_with_the_nxp_code_and_are_distinct() {
        let mut seen = HashSet::new();
        for position in 1..=100_000 {
            let uid = position_uid(position, 7);
            assert_eq!(uid.len(), 7);
            assert_eq!(uid[0], 0x04);
            assert!(seen.insert(uid), "position {position} repeats a UID");
        }
    }

    #[test]
    fn four_byte_uids_never_start_with_the_cascade_tag_and_are_distinct() {
        let mut seen = HashSet::new();
        for position in 1..=200_000 {
            let uid = position_uid(position, 4);
            assert_eq!(uid.len(), 4);
            assert_ne!(uid[0], CASCADE_TAG, "position {position}");
            assert!(seen.insert(uid), "position {position} repeats a UID");
        }
    }

    #[test]
    fn uids_are_pinned() {
        // Pinned so that changing the rule is a visible, deliberate change: card 7 of a
        // stream must be the same card 7 in every run.
        let four: Vec<Vec<u8>> = (1..=3).map(|p| position_uid(p, 4)).collect();
        assert_eq!(
            four,
            [
                [0x5C, 0x8D, 0x49, 0xD2],
                [0xCC, 0x4B, 0xF0, 0xE2],
                [0x5F, 0x63, 0x03, 0x74]
            ]
        );
        let seven: Vec<Vec<u8>> = (1..=3).map(|p| position_uid(p, 7)).collect();
        assert_eq!(
            seven,
            [
                [0x04, 0x4C, 0x08, 0x8C, 0x8A, 0x6C, 0xFB],
                [0x04, 0xE1, 0xCC, 0x2C, 0x5C, 0x16, 0xF5],
                [0x04, 0xA9, 0xFB, 0xDE, 0xFC, 0x6A, 0x61]
            ]
        );
    }

    #[test]
    fn other_lengths_fill_every_byte() {
        assert_eq!(position_uid(5, 0), Vec::<u8>::new());
        assert_eq!(position_uid(5, 10).len(), 10);
        assert_eq!(position_uid(5, 10)[..2], [0x04, 0x00]);
        assert_eq!(position_uid(5, 1).len(), 1);
    }

    #[test]
    fn mix_is_a_bijection_on_16_bits() {
        let images: HashSet<u64> = (0..1 << 16).map(|x| mix(x, 16)).collect();
        assert_eq!(images.len(), 1 << 16);
        assert!(images.iter().all(|&x| x < 1 << 16));
    }
}
