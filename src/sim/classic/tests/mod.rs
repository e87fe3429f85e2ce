//! The MIFARE Classic chip behind the reader front-end, driven by APDUs as a script would:
//! `permissions.rs` walks every cell of the §4.2 and §4.3 tables, `session.rs` the
//! authentication state, dead sectors, 4K large sectors and block 0, `values.rs` the value
//! operations, `image.rs` fresh cards, UIDs and card images.

mod image;
mod permissions;
mod session;
mod values;

use super::Classic;
use crate::apdu::hex;
use crate::mifare::classic::{Layout, value_block};
use crate::sim::frontend::Frontend;

/// Key A and key B the tests personalise sectors with.
const KEY_A: [u8; 6] = [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5];
const KEY_B: [u8; 6] = [0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5];
/// The transport keys.
const FACTORY: [u8; 6] = [0xFF; 6];

type Reader = Frontend<Classic>;

fn card(layout: Layout) -> Reader {
    Frontend::new(Classic::new(layout, None))
}

/// Sends hex, returns the response data as hex and the status word.
#[track_caller]
fn send(fe: &mut Reader, command: &str) -> (String, u16) {
    send_bytes(fe, &hex::parse(command).unwrap())
}

fn send_bytes(fe: &mut Reader, command: &[u8]) -> (String, u16) {
    let mut answer = fe.transmit(command);
    assert!(
        answer.len() >= 2,
        "short answer to {}",
        hex::format(command)
    );
    let sw = answer.split_off(answer.len() - 2);
    (hex::format(&answer), u16::from_be_bytes([sw[0], sw[1]]))
}

/// Loads `key` into slot 0 and authenticates for `block` with key `which` ('A' or 'B').
fn auth(fe: &mut Reader, block: u8, which: char, key: [u8; 6]) -> u16 {
    let load = [&[0xFF, 0x82, 0x00, 0x00, 0x06][..], &key].concat();
    assert_eq!(send_bytes(fe, &load).1, 0x9000);
    let key_type = if which == 'A' { 0x60 } else { 0x61 };
    send_bytes(
        fe,
        &[
            0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, block, key_type, 0x00,
        ],
    )
    .1
}

fn write(fe: &mut Reader, block: u8, data: &[u8; 16]) -> u16 {
    send_bytes(fe, &[&[0xFF, 0xD6, 0x00, block, 0x10][..], data].concat()).1
}

fn read(fe: &mut Reader, block: u8) -> (String, u16) {
    send_bytes(fe, &[0xFF, 0xB0, 0x00, block, 0x10])
}

fn value_op(fe: &mut Reader, ins: u8, block: u8, operand: i32) -> u16 {
    let command = [&[0xFF, ins, 0x00, block, 0x04][..], &operand.to_le_bytes()].concat();
    send_bytes(fe, &command).1
}

fn trailer_bytes(key_a: [u8; 6], access: &str, gpb: u8, key_b: [u8; 6]) -> [u8; 16] {
    let access = crate::mifare::access::encode(&access.parse().unwrap());
    crate::mifare::classic::trailer(key_a, access, gpb, key_b)
}

/// From the transport configuration, gives `sector`'s trailer (block `trailer`) keys
/// [`KEY_A`]/[`KEY_B`] and `access`, after putting value 100 in every data block.
fn personalise(fe: &mut Reader, trailer: u8, first: u8, access: &str) {
    assert_eq!(auth(fe, trailer, 'A', FACTORY), 0x9000);
    for block in first..trailer {
        assert_eq!(write(fe, block, &value_block(100, block)), 0x9000);
    }
    let t = trailer_bytes(KEY_A, access, 0x69, KEY_B);
    assert_eq!(write(fe, trailer, &t), 0x9000, "{access}");
    fe.reset();
}

fn key(which: char) -> [u8; 6] {
    if which == 'A' { KEY_A } else { KEY_B }
}
