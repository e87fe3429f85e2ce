//! Tests of access-bit encoding, the permission tables and the classification, against the
//! seed table of protocols.md §4 and the libfreefare bitmaps quoted in §4.3.

use proptest::prelude::*;

use super::*;
use crate::mifare::KeyType;
use crate::mifare::classic::SectorSize;

fn bits(text: &str) -> AccessBits {
    text.parse().unwrap()
}

fn t(text: &str) -> Triple {
    text.parse().unwrap()
}

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

/// libfreefare's data bitmap (index C3C2C1): bits 7..4 key A r w d i, bits 3..0 key B.
const FREEFARE_DATA: [u8; 8] = [0xFF, 0x8C, 0x88, 0xAF, 0xAA, 0x08, 0x0C, 0x00];
/// libfreefare's trailer bitmap (index C3C2C1): pairs (A, B) for read A, write A, read AC,
/// write AC, read B, write B, from the top.
const FREEFARE_TRAILER: [u16; 8] = [0x28A, 0x1C1, 0x088, 0x0C0, 0x2AA, 0x0D0, 0x1D1, 0x0C0];

fn freefare_index(t: Triple) -> usize {
    usize::from(t.c1) | usize::from(t.c2) << 1 | usize::from(t.c3) << 2
}

fn from_pair(key_a: bool, key_b: bool) -> Permission {
    match (key_a, key_b) {
        (false, false) => Permission::Never,
        (true, false) => Permission::KeyA,
        (false, true) => Permission::KeyB,
        (true, true) => Permission::KeyAOrB,
    }
}

#[test]
fn data_table_matches_libfreefare() {
    for t in Triple::ALL {
        let map = FREEFARE_DATA[freefare_index(t)];
        let p = |shift: u8| from_pair(map >> (4 + shift) & 1 == 1, map >> shift & 1 == 1);
        let expected = DataPermissions {
            read: p(3),
            write: p(2),
            decrement: p(1),
            increment: p(0),
        };
        assert_eq!(data_permissions(t), expected, "{t}");
    }
}

#[test]
fn trailer_table_matches_libfreefare() {
    for t in Triple::ALL {
        let map = FREEFARE_TRAILER[freefare_index(t)];
        let p = |pair: u16| {
            let shift = 2 * (5 - pair);
            from_pair(map >> (shift + 1) & 1 == 1, map >> shift & 1 == 1)
        };
        let expected = TrailerPermissions {
            read_key_a: p(0),
            write_key_a: p(1),
            read_access_bits: p(2),
            write_access_bits: p(3),
            read_key_b: p(4),
            write_key_b: p(5),
        };
        assert_eq!(trailer_permissions(t), expected, "{t}");
    }
}

#[test]
fn key_b_is_readable_for_000_010_001_only() {
    let readable: Vec<String> = Triple::ALL
        .into_iter()
        .filter(|&t| key_b_readable(t))
        .map(|t| t.to_string())
        .collect();
    assert_eq!(readable, ["000", "001", "010"]);
}

#[test]
fn irreversible_trailers_are_000_010_100_110_111() {
    let irreversible: Vec<String> = Triple::ALL
        .into_iter()
        .filter(|&t| is_irreversible(&AccessBits::uniform(t, t)))
        .map(|t| t.to_string())
        .collect();
    assert_eq!(irreversible, ["000", "010", "100", "110", "111"]);
}

#[test]
fn readable_key_b_narrows_every_permission() {
    // Transport: the table says "key A or B" everywhere, but key B is readable.
    let e = explain(&bits("000 000 000 001"));
    assert!(e.key_b_readable);
    assert!(
        e.data
            .iter()
            .flat_map(|d| d.operations())
            .all(|(_, p)| p == Permission::KeyA)
    );
    // A key-B-only write under a key-B-readable trailer is never possible.
    let e = explain(&bits("100 011 101 000"));
    assert_eq!(e.data[0].write, Permission::Never);
    assert_eq!(e.data[0].read, Permission::KeyA);
    assert!(e.data[1].is_dead());
    assert!(e.data[2].is_dead());
    // No trailer row that makes key B readable mentions key B, so the trailer is unchanged.
    for t in Triple::ALL.into_iter().filter(|&t| key_b_readable(t)) {
        assert_eq!(
            trailer_permissions(t).without_key_b(),
            trailer_permissions(t)
        );
    }
}

#[test]
fn wallet_tops_up_with_key_b_and_spends_with_either() {
    let e = explain(&Known::Wallet.access());
    assert!(!e.key_b_readable);
    let d = e.data[0];
    assert_eq!(
        (d.read, d.write, d.increment, d.decrement),
        (
            Permission::KeyAOrB,
            Permission::KeyB,
            Permission::KeyB,
            Permission::KeyAOrB
        )
    );
    assert!(d.decrement.allows(KeyType::A) && !d.increment.allows(KeyType::A));
    assert_eq!(e.trailer.write_access_bits, Permission::KeyB);
    assert_eq!(
        e.lines()[0],
        "data group 0 (110, value block (recharge with key B)): read key A or B, write key B, \
         increment key B, decrement/transfer/restore key A or B"
    );
}

#[test]
fn known_configurations_have_the_seed_bytes() {
    let named: Vec<([u8; 3], &str)> = Known::ALL.iter().map(|k| (k.bytes(), k.name())).collect();
    assert_eq!(
        named,
        [
            ([0xFF, 0x07, 0x80], "transport"),
            ([0x08, 0x77, 0x8F], "wallet"),
            ([0x07, 0x8F, 0x0F], "read-only"),
            ([0x00, 0xF0, 0xFF], "dead"),
        ]
    );
    for k in Known::ALL {
        assert_eq!(Known::from_name(k.name()), Some(k));
        assert_eq!(Known::identify(&k.access()), Some(k));
    }
    assert_eq!(Known::identify(&bits("000 000 000 011")), None);
}

#[test]
fn classify_separates_malformed_irreversible_and_known() {
    assert!(classify([0xFF, 0x07, 0x81]).is_malformed());
    assert_eq!(
        classify([0x07, 0x8F, 0x0F]),
        Classification::WellFormed {
            access: bits("010 010 010 110"),
            irreversible: true,
            known: Some(Known::ReadOnly),
        }
    );
    let transport = classify([0xFF, 0x07, 0x80]);
    assert!(!transport.is_irreversible() && !transport.is_malformed());
}

#[track_caller]
fn check_warnings(text: &str, expected: &[&str]) {
    assert_eq!(warnings(&bits(text)), expected, "{text}");
}

#[test]
fn warnings_say_what_is_lost() {
    check_warnings("000 000 000 001", &[]);
    check_warnings("110 110 110 011", &[]);
    check_warnings(
        "010 010 010 110",
        &[
            "irreversible: trailer condition 110 never allows writing the access bits again",
            "key A and key B can never be changed again",
            "data groups 0, 1 and 2 (010) are read-only for ever",
        ],
    );
    check_warnings(
        "111 111 111 111",
        &[
            "irreversible: trailer condition 111 never allows writing the access bits again",
            "key A and key B can never be changed again",
            "data groups 0, 1 and 2 (111) are dead for ever: no key can read or write",
        ],
    );
    check_warnings(
        "100 000 110 000",
        &[
            "irreversible: trailer condition 000 never allows writing the access bits again",
            "key B is readable (trailer 000), so it cannot authenticate and \
             data group 0 (100) loses its key-B-only write",
            "key B is readable (trailer 000), so it cannot authenticate and \
             data group 2 (110) loses its key-B-only write and increment",
            "data group 0 (100) is read-only for ever",
        ],
    );
    check_warnings(
        "101 000 000 011",
        &["data group 0 (101) is read-only until the access bits are rewritten"],
    );
}
