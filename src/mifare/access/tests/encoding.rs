//! Bytes 6–8 <-> conditions, text forms and block groups.

use proptest::prelude::*;

use super::{bits, t};
use crate::mifare::access::{
    AccessBits, DecodeError, Triple, decode, decode_slice, encode, group_of, is_irreversible,
};
use crate::mifare::classic::SectorSize;

/// The seed table: trailer bytes 6–8, conditions, irreversible.
const SEEDS: [([u8; 3], &str, bool); 4] = [
    ([0xFF, 0x07, 0x80], "000 000 000 001", false),
    ([0x08, 0x77, 0x8F], "110 110 110 011", false),
    ([0x07, 0x8F, 0x0F], "010 010 010 110", true),
    ([0x00, 0xF0, 0xFF], "111 111 111 111", true),
];

#[test]
fn seed_table_encodes_decodes_and_classifies() {
    for (bytes, text, irreversible) in SEEDS {
        let access = bits(text);
        assert_eq!(encode(&access), bytes, "{text}");
        assert_eq!(decode(bytes), Ok(access), "{text}");
        assert_eq!(access.to_string(), text);
        assert_eq!(is_irreversible(&access), irreversible, "{text}");
    }
}

#[test]
fn transport_with_gpb_decodes_from_four_bytes_or_a_trailer() {
    let decoded = decode_slice(&[0xFF, 0x07, 0x80, 0x69]).unwrap();
    assert_eq!(decoded.access, bits("000 000 000 001"));
    assert_eq!(decoded.gpb, Some(0x69));
    let mut trailer = [0xFFu8; 16];
    trailer[6..10].copy_from_slice(&[0x08, 0x77, 0x8F, 0x00]);
    let decoded = decode_slice(&trailer).unwrap();
    assert_eq!(decoded.access, bits("110 110 110 011"));
    assert_eq!(decoded.gpb, Some(0x00));
    assert_eq!(decode_slice(&[0xFF, 0x07, 0x80]).unwrap().gpb, None);
    assert_eq!(decode_slice(&[0xFF, 0x07]), Err(DecodeError::Length(2)));
}

#[test]
fn every_combination_round_trips() {
    let mut seen = std::collections::HashSet::new();
    for access in AccessBits::all() {
        let bytes = encode(&access);
        assert_eq!(decode(bytes), Ok(access), "{access}");
        assert_eq!(bits(&access.to_string()), access);
        seen.insert(bytes);
    }
    assert_eq!(seen.len(), 4096);
}

#[test]
fn every_three_bytes_decode_or_are_malformed() {
    let mut valid = 0;
    for n in 0u32..1 << 24 {
        let [_, b6, b7, b8] = n.to_be_bytes();
        match decode([b6, b7, b8]) {
            Ok(access) => {
                assert_eq!(encode(&access), [b6, b7, b8]);
                valid += 1;
            }
            Err(malformed) => assert_ne!(malformed.disagree, [0; 3]),
        }
    }
    assert_eq!(valid, 4096);
}

/// The (group, C bit) that each bit of bytes 6–8 stores, per the table in §4.1.
fn owner(byte: usize, bit: usize) -> (usize, u8) {
    let group = bit % 4;
    let c = match (byte, bit / 4) {
        (0, 0) | (1, 1) => 1,
        (0, 1) | (2, 0) => 2,
        _ => 3,
    };
    (group, c)
}

proptest! {
    #[test]
    fn one_flipped_bit_is_reported_where_it_is(index in 0u16..4096, byte in 0usize..3, bit in 0usize..8) {
        let access = AccessBits::all().nth(usize::from(index)).unwrap();
        let mut bytes = encode(&access);
        bytes[byte] ^= 1 << bit;
        let malformed = decode(bytes).unwrap_err();
        prop_assert_eq!(malformed.disagreements(), vec![owner(byte, bit)]);
        prop_assert!(malformed.to_string().starts_with("malformed access bits `"));
    }

    #[test]
    fn copies_agree_exactly_when_decode_succeeds(bytes in any::<[u8; 3]>()) {
        match decode(bytes) {
            Ok(access) => prop_assert_eq!(encode(&access), bytes),
            Err(m) => {
                prop_assert!(!m.disagreements().is_empty());
                prop_assert_ne!(m.plain(), m.inverted());
            }
        }
    }
}

#[test]
fn malformed_names_the_disagreeing_bits_in_words() {
    let m = decode([0xFF, 0x07, 0x81]).unwrap_err();
    assert_eq!(m.disagreements(), vec![(0, 2)]);
    assert_eq!(
        m.to_string(),
        "malformed access bits `FF 07 81`: inverted copy disagrees for C2 of data group 0"
    );
    let m = decode([0x00, 0x00, 0x00]).unwrap_err();
    assert_eq!(
        m.to_string(),
        "malformed access bits `00 00 00`: inverted copy disagrees for \
         C1 of data group 0, data group 1, data group 2 and the trailer; \
         C2 of data group 0, data group 1, data group 2 and the trailer; \
         C3 of data group 0, data group 1, data group 2 and the trailer"
    );
}

#[test]
fn triple_text_errors_name_the_problem() {
    assert_eq!(t("110"), Triple::new(true, true, false));
    assert_eq!(t("110").bits(), 0b110);
    assert_eq!(
        "11".parse::<Triple>().unwrap_err().to_string(),
        "access condition `11` has 2 characters, expected 3 like `110`"
    );
    assert_eq!(
        "1x0".parse::<Triple>().unwrap_err().to_string(),
        "access condition `1x0`: C2 is `x`, expected 0 or 1"
    );
    assert_eq!(
        "000 000 001".parse::<AccessBits>().unwrap_err().to_string(),
        "access conditions `000 000 001` have 3 groups, expected 4 like `000 000 000 001`"
    );
    assert_eq!(
        "000 000 000 0012"
            .parse::<AccessBits>()
            .unwrap_err()
            .to_string(),
        "group 3: access condition `0012` has 4 characters, expected 3 like `110`"
    );
    assert_eq!(Triple::from_bits(8), None);
    assert!(
        Triple::ALL
            .iter()
            .enumerate()
            .all(|(i, t)| usize::from(t.bits()) == i)
    );
}

#[test]
fn groups_cover_small_and_large_sectors() {
    let small: Vec<_> = (0..5).map(|b| group_of(SectorSize::Small, b)).collect();
    assert_eq!(small, [Some(0), Some(1), Some(2), Some(3), None]);
    let large: Vec<_> = (0..17).map(|b| group_of(SectorSize::Large, b)).collect();
    let mut expected = vec![Some(0); 5];
    expected.extend([Some(1); 5]);
    expected.extend([Some(2); 5]);
    expected.extend([Some(3), None]);
    assert_eq!(large, expected);
    let access = bits("001 010 100 011");
    assert_eq!(access.for_block(SectorSize::Large, 7), Some(t("010")));
    assert_eq!(access.for_block(SectorSize::Small, 3), Some(t("011")));
}
