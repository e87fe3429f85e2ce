//! Every cell of the access tables of protocols.md §4.2 and §4.3, exercised on the chip.
//!
//! The expectations are copied from the document (one letter per key that may, `-` for
//! never), independently of `mifare::access`, so the chip and the tables are checked
//! against the text rather than against each other.

use super::{Reader, auth, card, key, personalise, read, send, trailer_bytes, value_op, write};
use crate::mifare::classic::{Layout, parse_value_block, value_block};

/// §4.2: C1C2C3, read, write, increment, decrement/transfer/restore.
const DATA: [(&str, &str, &str, &str, &str); 8] = [
    ("000", "AB", "AB", "AB", "AB"),
    ("010", "AB", "-", "-", "-"),
    ("100", "AB", "B", "-", "-"),
    ("110", "AB", "B", "B", "AB"),
    ("001", "AB", "-", "-", "AB"),
    ("011", "B", "B", "-", "-"),
    ("101", "B", "-", "-", "-"),
    ("111", "-", "-", "-", "-"),
];

/// §4.3: C1C2C3, key A write, access bits read, access bits write, key B read, key B write.
/// (Key A is never readable.)
const TRAILER: [(&str, &str, &str, &str, &str, &str); 8] = [
    ("000", "A", "A", "-", "A", "A"),
    ("010", "-", "A", "-", "A", "-"),
    ("100", "B", "AB", "-", "-", "B"),
    ("110", "-", "AB", "-", "-", "-"),
    ("001", "A", "A", "A", "A", "A"),
    ("011", "B", "AB", "B", "-", "B"),
    ("101", "-", "AB", "B", "-", "-"),
    ("111", "-", "AB", "-", "-", "-"),
];

/// Key B is readable, so it cannot authenticate, under these trailer conditions (§4.3).
const KEY_B_READABLE: [&str; 3] = ["000", "010", "001"];

fn sw(allowed: bool) -> u16 {
    if allowed { 0x9000 } else { 0x6982 }
}

/// A card whose sector 1 has data condition `data` in every group and trailer `trailer`,
/// authenticated with `which`; `None` when that key cannot authenticate.
fn sector_1(data: &str, trailer: &str, which: char) -> Option<Reader> {
    let mut fe = card(Layout::OneK);
    personalise(&mut fe, 7, 4, &format!("{data} {data} {data} {trailer}"));
    let status = auth(&mut fe, 4, which, key(which));
    let b_unusable = which == 'B' && KEY_B_READABLE.contains(&trailer);
    assert_eq!(status, if b_unusable { 0x6300 } else { 0x9000 });
    (!b_unusable).then_some(fe)
}

#[test]
fn every_data_block_permission() {
    // Trailer 011 leaves key B usable; 001 makes it readable, so only key A authenticates.
    for trailer in ["011", "001"] {
        for (data, r, w, inc, dec) in DATA {
            for which in ['A', 'B'] {
                let may = |cell: &str| cell.contains(which);
                let case = format!("data {data}, trailer {trailer}, key {which}");
                let Some(mut fe) = sector_1(data, trailer, which) else {
                    continue;
                };
                assert_eq!(read(&mut fe, 4).1, sw(may(r)), "read: {case}");
                assert_eq!(
                    write(&mut fe, 5, &value_block(7, 5)),
                    sw(may(w)),
                    "write: {case}"
                );
                assert_eq!(
                    value_op(&mut fe, 0xD4, 6, 1),
                    sw(may(inc)),
                    "increment: {case}"
                );
                assert_eq!(
                    value_op(&mut fe, 0xD8, 4, 1),
                    sw(may(dec)),
                    "decrement: {case}"
                );
                let picc = fe.picc();
                let value = |b| parse_value_block(&picc.block(b)).unwrap().0;
                assert_eq!(value(5), if may(w) { 7 } else { 100 }, "{case}");
                assert_eq!(value(6), if may(inc) { 101 } else { 100 }, "{case}");
                assert_eq!(value(4), if may(dec) { 99 } else { 100 }, "{case}");
            }
        }
    }
}

#[test]
fn every_trailer_permission() {
    let new_key_a = [0x1A; 6];
    let new_key_b = [0x1B; 6];
    for (t, key_a_w, ac_r, ac_w, key_b_r, key_b_w) in TRAILER {
        for which in ['A', 'B'] {
            let may = |cell: &str| cell.contains(which);
            let case = format!("trailer {t}, key {which}");
            let Some(mut fe) = sector_1("000", t, which) else {
                assert!(KEY_B_READABLE.contains(&t), "{case}");
                continue;
            };
            let before = fe.picc().block(7);

            // Read: key A always zeros; access bits with GPB and key B only when readable.
            let (data, status) = read(&mut fe, 7);
            assert_eq!(status, 0x9000, "{case}");
            let mut expected = [0u8; 16];
            if may(ac_r) {
                expected[6..10].copy_from_slice(&before[6..10]);
            }
            if may(key_b_r) {
                expected[10..].copy_from_slice(&before[10..]);
            }
            assert_eq!(data, crate::apdu::hex::format(&expected), "read: {case}");

            // Write: each part changes only if the key may write it.
            let new = trailer_bytes(new_key_a, &format!("100 100 100 {t}"), 0x42, new_key_b);
            let any = may(key_a_w) || may(ac_w) || may(key_b_w);
            assert_eq!(write(&mut fe, 7, &new), sw(any), "write: {case}");
            let after = fe.picc().block(7);
            let part = |allowed: bool, range: std::ops::Range<usize>| {
                let source = if allowed { &new } else { &before };
                assert_eq!(after[range.clone()], source[range], "{case}");
            };
            part(may(key_a_w), 0..6);
            part(may(ac_w), 6..10);
            part(may(key_b_w), 10..16);
        }
    }
}

#[test]
fn readable_key_b_is_data_and_not_a_key() {
    let mut fe = card(Layout::OneK);
    personalise(&mut fe, 7, 4, "000 000 000 000");
    assert_eq!(auth(&mut fe, 4, 'B', key('B')), 0x6300);
    assert_eq!(read(&mut fe, 4).1, 0x6982);
    assert_eq!(auth(&mut fe, 4, 'A', key('A')), 0x9000);
    let (data, _) = read(&mut fe, 7);
    assert_eq!(data, "00 00 00 00 00 00 FF 0F 00 69 B0 B1 B2 B3 B4 B5");
    // The transport trailer (001) also makes key B readable: FF FF FF FF FF FF is no key.
    let mut fe = card(Layout::OneK);
    assert_eq!(auth(&mut fe, 0, 'B', [0xFF; 6]), 0x6300);
    assert_eq!(auth(&mut fe, 0, 'A', [0xFF; 6]), 0x9000);
    assert_eq!(
        send(&mut fe, "FF B0 00 03 10").0,
        "00 00 00 00 00 00 FF 07 80 69 FF FF FF FF FF FF"
    );
}
