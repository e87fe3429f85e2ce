//! Value operations: the §5 format, the Omnikey and PC/SC command forms, blocks they do not
//! apply to, and 32-bit wrap-around.

use super::{FACTORY, auth, card, send, value_op, write};
use crate::mifare::classic::{Layout, parse_value_block, value_block};

fn value_of(fe: &super::Reader, block: u8) -> Result<(i32, u8), String> {
    parse_value_block(&fe.picc().block(block)).map_err(|e| e.to_string())
}

#[test]
fn increment_and_decrement_transfer_to_the_same_block() {
    let mut fe = card(Layout::OneK);
    assert_eq!(auth(&mut fe, 4, 'A', FACTORY), 0x9000);
    assert_eq!(write(&mut fe, 5, &value_block(100, 5)), 0x9000);
    assert_eq!(
        send(&mut fe, "FF B0 00 05 10").0,
        "64 00 00 00 9B FF FF FF 64 00 00 00 05 FA 05 FA"
    );
    assert_eq!(value_op(&mut fe, 0xD4, 5, 5), 0x9000);
    assert_eq!(value_of(&fe, 5), Ok((105, 5)));
    assert_eq!(value_op(&mut fe, 0xD8, 5, 200), 0x9000);
    assert_eq!(value_of(&fe, 5), Ok((-95, 5)), "values are signed");
    // The PC/SC FF C2 form: A0 increment, A1 decrement.
    let inc = "FF C2 00 03 0B A0 09 80 01 05 81 04 0A 00 00 00";
    assert_eq!(send(&mut fe, inc).1, 0x9000);
    assert_eq!(value_of(&fe, 5), Ok((-85, 5)));
    let dec = "FF C2 00 03 0B A1 09 80 01 05 81 04 01 01 00 00";
    assert_eq!(send(&mut fe, dec).1, 0x9000);
    assert_eq!(value_of(&fe, 5), Ok((-342, 5)));
}

#[test]
fn value_operations_need_a_value_block() {
    let mut fe = card(Layout::OneK);
    assert_eq!(auth(&mut fe, 4, 'A', FACTORY), 0x9000);
    // A fresh data block (all zeros) is not in value format: the inverted copy is wrong.
    assert_eq!(value_op(&mut fe, 0xD4, 4, 1), 0x6981);
    let mut broken = value_block(100, 6);
    broken[13] = 0x00;
    assert_eq!(write(&mut fe, 6, &broken), 0x9000);
    assert_eq!(value_op(&mut fe, 0xD8, 6, 1), 0x6981);
    assert_eq!(fe.picc().block(6), broken, "nothing transferred");
    assert_eq!(value_op(&mut fe, 0xD4, 7, 1), 0x6981, "a trailer");
    assert_eq!(auth(&mut fe, 0, 'A', FACTORY), 0x9000);
    assert_eq!(
        value_op(&mut fe, 0xD4, 0, 1),
        0x6982,
        "block 0 is read-only"
    );
    assert_eq!(value_op(&mut fe, 0xD4, 64, 1), 0x6581);
    assert_eq!(
        value_op(&mut fe, 0xD4, 8, 1),
        0x6982,
        "sector 2 not authenticated"
    );
}

#[test]
fn arithmetic_wraps_at_32_bits() {
    let mut fe = card(Layout::OneK);
    assert_eq!(auth(&mut fe, 4, 'A', FACTORY), 0x9000);
    assert_eq!(write(&mut fe, 4, &value_block(i32::MAX, 0x42)), 0x9000);
    assert_eq!(value_op(&mut fe, 0xD4, 4, 1), 0x9000);
    assert_eq!(value_of(&fe, 4), Ok((i32::MIN, 0x42)));
}
