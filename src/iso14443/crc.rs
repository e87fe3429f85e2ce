//! CRC_A, the 16-bit CRC that ends every ISO/IEC 14443-3 type A frame (protocols.md Appendix A).
//!
//! Pure arithmetic over byte slices. It does not decide which frames carry a CRC: readers add
//! and strip it themselves except in raw or transparent sessions, where the caller appends it.

/// Initial register value of CRC_A (protocols.md Appendix A).
const INITIAL: u16 = 0x6363;

/// Computes the CRC_A of `data`: initial value 6363, reflected polynomial 8408, no final XOR.
///
/// The result goes on the air least significant byte first, so `E0 80` (RATS) has CRC
/// `0x7331` and is sent as `E0 80 31 73`; see [`append_crc_a`].
pub fn crc_a(data: &[u8]) -> u16 {
    data.iter().fold(INITIAL, |crc, &byte| {
        // The byte-wise form from libnfc `iso14443a_crc`: equivalent to eight shifts of the
        // reflected polynomial, without a table.
        let mut b = byte ^ (crc & 0xFF) as u8;
        b ^= b << 4;
        let b = u16::from(b);
        (crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)
    })
}

/// Appends the CRC_A of `frame` to it, least significant byte first.
pub fn append_crc_a(frame: &mut Vec<u8>) {
    let crc = crc_a(frame);
    frame.extend_from_slice(&crc.to_le_bytes());
}

/// Whether the last two bytes of `frame_with_crc` are the CRC_A of the bytes before them.
///
/// A frame shorter than two bytes has no CRC and is never valid.
pub fn check_crc_a(frame_with_crc: &[u8]) -> bool {
    match frame_with_crc.len().checked_sub(2) {
        Some(split) => {
            let (data, crc) = frame_with_crc.split_at(split);
            crc_a(data).to_le_bytes() == crc
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{append_crc_a, check_crc_a, crc_a};
    use proptest::prelude::*;

    /// Every vector of protocols.md Appendix A: frame without CRC, CRC bytes as sent.
    const VECTORS: &[(&[u8], [u8; 2])] = &[
        (&[0xE0, 0x80], [0x31, 0x73]),
        (&[0x50, 0x00], [0x57, 0xCD]),
        (&[0x30, 0x00], [0x02, 0xA8]),
        (&[0x60, 0x00], [0xF5, 0x7B]),
        (&[0x03, 0xAA], [0x98, 0x3E]),
        (&[0x02, 0xAA], [0x40, 0x27]),
    ];

    #[test]
    fn appendix_a_vectors() {
        for &(data, crc) in VECTORS {
            assert_eq!(crc_a(data).to_le_bytes(), crc, "CRC_A of {data:02X?}");

            let mut frame = data.to_vec();
            append_crc_a(&mut frame);
            assert_eq!(frame[data.len()..], crc, "appended to {data:02X?}");
            assert!(check_crc_a(&frame), "check of {frame:02X?}");
        }
    }

    #[test]
    fn rats_crc_is_0x7331() {
        assert_eq!(crc_a(&[0xE0, 0x80]), 0x7331);
    }

    #[test]
    fn empty_data_has_the_initial_value() {
        assert_eq!(crc_a(&[]), 0x6363);
    }

    #[test]
    fn check_rejects_short_frames_and_wrong_crcs() {
        assert!(!check_crc_a(&[]));
        assert!(!check_crc_a(&[0x63]));
        assert!(check_crc_a(&[0x63, 0x63]));
        assert!(!check_crc_a(&[0xE0, 0x80, 0x73, 0x31]));
        assert!(!check_crc_a(&[0xE0, 0x81, 0x31, 0x73]));
    }

    proptest! {
        #[test]
        fn appended_crc_always_checks(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut frame = data;
            append_crc_a(&mut frame);
            prop_assert!(check_crc_a(&frame));
        }

        #[test]
        fn any_single_bit_flip_is_detected(
            data in proptest::collection::vec(any::<u8>(), 1..64),
            bit in any::<prop::sample::Index>(),
        ) {
            let mut frame = data;
            append_crc_a(&mut frame);
            let bit = bit.index(frame.len() * 8);
            frame[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!check_crc_a(&frame));
        }
    }
}
