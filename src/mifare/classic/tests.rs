//! Tests of the Classic layout, value blocks, trailers and block 0 (protocols.md §4.4, §4.5, §5).

use proptest::prelude::*;

use super::*;
use crate::mifare::access::{self, Known};

/// (layout, block, sector, block in sector, trailer?, access group)
const BLOCKS: &[(Layout, u8, u8, u8, bool, usize)] = &[
    (Layout::OneK, 0, 0, 0, false, 0),
    (Layout::OneK, 3, 0, 3, true, 3),
    (Layout::OneK, 6, 1, 2, false, 2),
    (Layout::OneK, 63, 15, 3, true, 3),
    (Layout::TwoK, 64, 16, 0, false, 0),
    (Layout::TwoK, 127, 31, 3, true, 3),
    (Layout::FourK, 127, 31, 3, true, 3),
    (Layout::FourK, 128, 32, 0, false, 0),
    (Layout::FourK, 132, 32, 4, false, 0),
    (Layout::FourK, 133, 32, 5, false, 1),
    (Layout::FourK, 142, 32, 14, false, 2),
    (Layout::FourK, 143, 32, 15, true, 3),
    (Layout::FourK, 144, 33, 0, false, 0),
    (Layout::FourK, 255, 39, 15, true, 3),
];

#[test]
fn blocks_map_to_sectors_and_groups() {
    for &(layout, block, sector, within, trailer, group) in BLOCKS {
        let what = format!("{layout} block {block}");
        assert_eq!(layout.sector_of(block), Some(sector), "{what}");
        assert_eq!(layout.block_in_sector(block), Some(within), "{what}");
        assert_eq!(layout.is_trailer(block), trailer, "{what}");
        assert_eq!(layout.access_group(block), Some(group), "{what}");
    }
}

#[test]
fn blocks_past_the_end_belong_nowhere() {
    for (layout, block) in [(Layout::OneK, 64), (Layout::TwoK, 128)] {
        assert_eq!(layout.sector_of(block), None);
        assert!(!layout.is_trailer(block));
        assert_eq!(layout.access_group(block), None);
    }
    assert_eq!(Layout::OneK.first_block(16), None);
    assert_eq!(Layout::FourK.trailer_block(40), None);
}

#[test]
fn sectors_have_their_first_and_trailer_blocks() {
    // (layout, sector, first, trailer, blocks)
    for (layout, sector, first, trailer, blocks) in [
        (Layout::OneK, 0, 0, 3, 4),
        (Layout::OneK, 15, 60, 63, 4),
        (Layout::TwoK, 31, 124, 127, 4),
        (Layout::FourK, 32, 128, 143, 16),
        (Layout::FourK, 33, 144, 159, 16),
        (Layout::FourK, 39, 240, 255, 16),
    ] {
        assert_eq!(layout.first_block(sector), Some(first));
        assert_eq!(layout.trailer_block(sector), Some(trailer));
        assert_eq!(layout.blocks_in_sector(sector), Some(blocks));
    }
}

#[test]
fn layouts_count_sectors_and_blocks() {
    for (layout, sectors, blocks) in [
        (Layout::OneK, 16, 64),
        (Layout::TwoK, 32, 128),
        (Layout::FourK, 40, 256),
    ] {
        assert_eq!(layout.sector_count(), sectors);
        assert_eq!(layout.block_count(), blocks);
        let counted: u16 = (0..sectors)
            .map(|s| u16::from(layout.blocks_in_sector(s).unwrap()))
            .sum();
        assert_eq!(counted, blocks);
        let trailers = (0..blocks)
            .filter(|&b| layout.is_trailer(u8::try_from(b).unwrap()))
            .count();
        assert_eq!(trailers, usize::from(sectors));
    }
}

#[test]
fn trailer_rule_matches_the_bit_trick() {
    // §4.4: trailer of block b is b | 3 below 128, b | 15 above.
    for block in 0..=255u8 {
        let sector = Layout::FourK.sector_of(block).unwrap();
        let expected = if block < 128 { block | 3 } else { block | 15 };
        assert_eq!(Layout::FourK.trailer_block(sector), Some(expected));
    }
}

#[test]
fn value_block_matches_the_documented_example() {
    let block = value_block(100, 5);
    assert_eq!(
        block,
        [
            0x64, 0x00, 0x00, 0x00, 0x9B, 0xFF, 0xFF, 0xFF, 0x64, 0x00, 0x00, 0x00, 0x05, 0xFA,
            0x05, 0xFA
        ]
    );
    assert_eq!(parse_value_block(&block), Ok((100, 5)));
    assert_eq!(parse_value_block(&value_block(-1, 0)), Ok((-1, 0)));
    assert_eq!(
        parse_value_block(&value_block(i32::MIN, 255)),
        Ok((i32::MIN, 255))
    );
}

#[track_caller]
fn broken(at: usize, xor: u8, expected: &str) {
    let mut block = value_block(100, 5);
    block[at] ^= xor;
    let err = parse_value_block(&block).unwrap_err();
    assert_eq!(err.to_string(), expected);
    assert!(!is_value_block(&block));
}

#[test]
fn value_block_errors_name_the_broken_copy() {
    broken(
        8,
        0x01,
        "value block copies differ: bytes 0-3 are `64 00 00 00`, bytes 8-11 are `65 00 00 00`",
    );
    broken(
        5,
        0x01,
        "value block bytes 4-7 `9B FE FF FF` are not the inverse of bytes 0-3 `64 00 00 00`",
    );
    broken(
        14,
        0x01,
        "value block address bytes 12-15 `05 FA 04 FA` are not `A ~A A ~A`",
    );
    broken(
        15,
        0x10,
        "value block address bytes 12-15 `05 FA 05 EA` are not `A ~A A ~A`",
    );
}

proptest! {
    #[test]
    fn value_blocks_round_trip(value in any::<i32>(), addr in any::<u8>()) {
        prop_assert_eq!(parse_value_block(&value_block(value, addr)), Ok((value, addr)));
    }

    #[test]
    fn flipping_any_bit_breaks_a_value_block(value in any::<i32>(), addr in any::<u8>(), bit in 0usize..128) {
        let mut block = value_block(value, addr);
        block[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(!is_value_block(&block));
    }
}

#[test]
fn trailer_places_keys_access_bits_and_gpb() {
    let key_a = [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5];
    let key_b = [0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5];
    let bytes = trailer(key_a, Known::Transport.bytes(), TRANSPORT_GPB, key_b);
    assert_eq!(
        bytes,
        [
            0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xFF, 0x07, 0x80, 0x69, 0xB0, 0xB1, 0xB2, 0xB3,
            0xB4, 0xB5
        ]
    );
    let split = Trailer::from_bytes(&bytes);
    assert_eq!(split.to_bytes(), bytes);
    assert_eq!(split.access_bits(), Ok(Known::Transport.access()));
    assert_eq!(access::decode_slice(&bytes).unwrap().gpb, Some(0x69));
}

#[test]
fn trailer_debug_hides_the_keys() {
    let t = Trailer::from_bytes(&trailer([0x11; 6], [0xFF, 0x07, 0x80], 0x69, [0x22; 6]));
    let shown = format!("{t:?}");
    assert_eq!(
        shown,
        r#"Trailer { key_a: "(redacted)", access: "FF 07 80", gpb: 69, key_b: "(redacted)" }"#
    );
}

#[test]
fn block0_carries_the_bcc_and_refuses_bad_ones() {
    let b0 = Block0 {
        uid: [0xDE, 0xAD, 0xBE, 0xEF],
        sak: 0x08,
        atqa: 0x0004,
        manufacturer: [0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69],
    };
    let bytes = b0.to_bytes();
    // DE ^ AD ^ BE ^ EF = 22.
    assert_eq!(
        bytes,
        [
            0xDE, 0xAD, 0xBE, 0xEF, 0x22, 0x08, 0x04, 0x00, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
            0x68, 0x69
        ]
    );
    assert_eq!(bcc([0xDE, 0xAD, 0xBE, 0xEF]), 0x22);
    assert_eq!(Block0::parse(&bytes), Ok(b0));

    let mut wrong = bytes;
    wrong[4] = 0x23;
    assert_eq!(
        Block0::parse(&wrong).unwrap_err().to_string(),
        "block 0 BCC is 23, expected 22 (XOR of the UID bytes)"
    );
    let cascade = Block0 {
        uid: [0x88, 0x01, 0x02, 0x03],
        ..b0
    };
    assert_eq!(
        Block0::parse(&cascade.to_bytes()),
        Err(Block0Error::CascadeTag)
    );
}
