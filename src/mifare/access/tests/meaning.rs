//! Permission tables, the key-B rule, named configurations, classification and warnings.

use super::bits;
use crate::mifare::KeyType;
use crate::mifare::access::{
    AccessBits, Classification, DataPermissions, Known, Permission, TrailerPermissions, Triple,
    classify, data_permissions, explain, frozen_groups, is_irreversible, key_b_readable,
    trailer_permissions, warnings,
};

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
fn frozen_groups_need_locked_access_bits() {
    // Writable access bits (trailer 001, 011, 101): nothing is frozen, whatever the data.
    for trailer in ["001", "011", "101"] {
        let access = bits(&format!("010 101 111 {trailer}"));
        assert_eq!(frozen_groups(&access), Vec::<usize>::new(), "{access}");
    }
    // Locked (110): read-only 010 and 101, dead 111; 000 and the value blocks stay usable.
    assert_eq!(frozen_groups(&bits("010 101 111 110")), [0, 1, 2]);
    assert_eq!(frozen_groups(&bits("000 110 001 110")), Vec::<usize>::new());
    // Locked and key B readable (010): a key-B-only write (100) is lost, so the group is
    // read-only for ever; 011 (read and write with key B) becomes dead.
    assert_eq!(frozen_groups(&bits("100 011 000 010")), [0, 1]);
    // The named configurations.
    assert_eq!(frozen_groups(&bits("010 010 010 110")), [0, 1, 2]);
    assert_eq!(frozen_groups(&bits("111 111 111 111")), [0, 1, 2]);
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
