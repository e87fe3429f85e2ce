//! Authentication state, dead sectors, 4K large sectors, block 0, addresses and lengths.

use proptest::prelude::*;

use super::{
    FACTORY, KEY_A, auth, card, key, personalise, read, send, send_bytes, trailer_bytes, write,
};
use crate::mifare::classic::Layout;

#[test]
fn authentication_holds_for_one_sector_until_a_failure_or_another_sector() {
    let mut fe = card(Layout::OneK);
    assert_eq!(read(&mut fe, 4).1, 0x6982, "not authenticated yet");
    assert_eq!(auth(&mut fe, 4, 'A', FACTORY), 0x9000);
    assert_eq!(read(&mut fe, 5).1, 0x9000);
    assert_eq!(
        read(&mut fe, 8).1,
        0x6982,
        "sector 2 needs its own authentication"
    );
    // Authenticating elsewhere ends the first authentication.
    assert_eq!(auth(&mut fe, 9, 'A', FACTORY), 0x9000);
    assert_eq!(read(&mut fe, 8).1, 0x9000);
    assert_eq!(read(&mut fe, 4).1, 0x6982);
    // A failed authentication ends it too.
    assert_eq!(auth(&mut fe, 9, 'A', [0x00; 6]), 0x6300);
    assert_eq!(read(&mut fe, 8).1, 0x6982);
    // So does a reset of the field.
    assert_eq!(auth(&mut fe, 9, 'A', FACTORY), 0x9000);
    fe.reset();
    assert_eq!(read(&mut fe, 8).1, 0x6982);
    // The obsolete AUTHENTICATE works the same way.
    send(&mut fe, "FF 82 00 05 06 FF FF FF FF FF FF");
    assert_eq!(send(&mut fe, "FF 88 00 0A 60 05").1, 0x9000);
    assert_eq!(read(&mut fe, 10).1, 0x9000);
}

#[test]
fn a_sector_with_malformed_access_bits_is_dead() {
    let mut fe = card(Layout::OneK);
    assert_eq!(auth(&mut fe, 7, 'A', FACTORY), 0x9000);
    // The guard would refuse this write; the card itself takes it, as a real one does.
    let mut t = trailer_bytes(KEY_A, "000 000 000 001", 0x69, [0xFF; 6]);
    t[8] ^= 0x01;
    assert_eq!(write(&mut fe, 7, &t), 0x9000);
    // Still authenticated, but nothing is allowed any more.
    assert_eq!(read(&mut fe, 4).1, 0x6982);
    assert_eq!(write(&mut fe, 4, &[0; 16]), 0x6982);
    assert_eq!(read(&mut fe, 7).1, 0x6982);
    for which in ['A', 'B'] {
        assert_eq!(auth(&mut fe, 4, which, KEY_A), 0x6300, "key {which}");
        assert_eq!(auth(&mut fe, 4, which, FACTORY), 0x6300, "key {which}");
    }
    // Its neighbours are unaffected.
    assert_eq!(auth(&mut fe, 8, 'A', FACTORY), 0x9000);
    assert_eq!(read(&mut fe, 8).1, 0x9000);
}

#[test]
fn large_sectors_of_a_4k_card_use_groups_of_five_blocks() {
    let mut fe = card(Layout::FourK);
    assert_eq!(send(&mut fe, "FF CA 00 00 00").0.len(), 11, "4-byte UID");
    // Sector 32 is blocks 128-143; data groups 000 (128-132), 010 (133-137), 111 (138-142).
    personalise(&mut fe, 143, 128, "000 010 111 011");
    assert_eq!(auth(&mut fe, 130, 'B', key('B')), 0x9000);
    for (block, read_sw, write_sw) in [
        (128, 0x9000, 0x9000),
        (132, 0x9000, 0x9000),
        (133, 0x9000, 0x6982),
        (137, 0x9000, 0x6982),
        (138, 0x6982, 0x6982),
        (142, 0x6982, 0x6982),
    ] {
        assert_eq!(read(&mut fe, block).1, read_sw, "read {block}");
        assert_eq!(write(&mut fe, block, &[1; 16]), write_sw, "write {block}");
    }
    assert_eq!(read(&mut fe, 144).1, 0x6982, "block 144 is sector 33");
    // The last block of the card is a trailer, in the transport configuration.
    assert_eq!(auth(&mut fe, 255, 'A', FACTORY), 0x9000);
    assert_eq!(
        read(&mut fe, 255).0,
        "00 00 00 00 00 00 FF 07 80 69 FF FF FF FF FF FF"
    );
    assert_eq!(send(&mut fe, "FF B0 01 00 10").1, 0x6581);
}

#[test]
fn block_0_is_read_only_and_carries_uid_bcc_sak_atqa() {
    let mut fe = card(Layout::OneK);
    assert_eq!(auth(&mut fe, 0, 'A', FACTORY), 0x9000);
    let (block0, status) = read(&mut fe, 0);
    assert_eq!(status, 0x9000);
    let uid = send(&mut fe, "FF CA 00 00 00").0;
    assert!(block0.starts_with(&uid), "{block0} / {uid}");
    let bytes = crate::apdu::hex::parse(&block0).unwrap();
    assert_eq!(bytes[4], bytes[..4].iter().fold(0, |a, b| a ^ b), "BCC");
    assert_eq!(bytes[5..8], [0x08, 0x04, 0x00], "SAK, ATQA LSB first");
    assert_eq!(write(&mut fe, 0, &[0; 16]), 0x6982);
    assert_eq!(write(&mut fe, 1, &[0; 16]), 0x9000);
}

#[test]
fn addresses_and_lengths_are_checked() {
    let mut fe = card(Layout::OneK);
    assert_eq!(auth(&mut fe, 64, 'A', FACTORY), 0x6581);
    assert_eq!(auth(&mut fe, 63, 'A', FACTORY), 0x9000);
    assert_eq!(read(&mut fe, 64).1, 0x6581);
    assert_eq!(
        send(&mut fe, "FF B0 00 3E 00").1,
        0x9000,
        "Le 00 reads the block"
    );
    assert_eq!(send(&mut fe, "FF B0 00 3E 08").1, 0x6700);
    assert_eq!(send(&mut fe, "FF B0 00 3E 20").1, 0x6700);
    assert_eq!(send(&mut fe, "FF D6 00 3E 04 01 02 03 04").1, 0x6700);
    assert_eq!(send(&mut fe, "FF D6 00 40 04 01 02 03 04").1, 0x6581);
    send(
        &mut fe,
        "FF 82 00 01 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
    );
    assert_eq!(send(&mut fe, "FF 86 00 00 05 01 00 04 60 01").1, 0x6989);
    // The chip answers no raw frames: Crypto1 is the reader's business.
    send(&mut fe, "FF A0 00 07 03 01 00 01");
    assert_eq!(
        send(&mut fe, "FF A0 00 05 08 01 00 F3 00 00 64 30 04 00").1,
        0x6400
    );
    assert_eq!(send(&mut fe, "00 A4 04 00 00").1, 0x6E00);
}

proptest! {
    #[test]
    fn any_apdu_gets_a_status_word(
        ins in prop::sample::select(vec![0x82, 0x86, 0x88, 0xB0, 0xD6, 0xD4, 0xD8, 0xC2, 0xA0, 0xCA]),
        body in proptest::collection::vec(any::<u8>(), 0..24),
        four_k in any::<bool>(),
        authenticated in any::<bool>(),
    ) {
        let mut fe = card(if four_k { Layout::FourK } else { Layout::OneK });
        if authenticated {
            let block = body.get(1).copied().unwrap_or(0);
            let _ = auth(&mut fe, if four_k { block } else { block % 64 }, 'A', FACTORY);
        }
        let command = [&[0xFF, ins][..], &body].concat();
        send_bytes(&mut fe, &command);
    }
}

/// One step of a random session: a command the chip takes, with random fields.
fn step() -> impl Strategy<Value = Vec<u8>> {
    let block = any::<u8>();
    prop_oneof![
        (0u8..4, prop_oneof![Just([0xFF; 6]), any::<[u8; 6]>()]).prop_map(|(slot, key)| [
            &[0xFF, 0x82, 0x00, slot, 0x06][..],
            &key
        ]
        .concat()),
        (block, 0x60u8..0x62, 0u8..4)
            .prop_map(|(b, t, slot)| vec![0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, b, t, slot]),
        block.prop_map(|b| vec![0xFF, 0xB0, 0x00, b, 0x10]),
        (block, any::<[u8; 16]>())
            .prop_map(|(b, data)| [&[0xFF, 0xD6, 0x00, b, 0x10][..], &data].concat()),
        (block, 0u8..2, any::<[u8; 4]>()).prop_map(|(b, op, v)| {
            let ins = if op == 0 { 0xD4 } else { 0xD8 };
            [&[0xFF, ins, 0x00, b, 0x04][..], &v].concat()
        }),
    ]
}

proptest! {
    #[test]
    fn random_sessions_never_panic_nor_touch_block_0(
        steps in proptest::collection::vec(step(), 1..40),
        four_k in any::<bool>(),
    ) {
        let mut fe = card(if four_k { Layout::FourK } else { Layout::OneK });
        let block0 = fe.picc().block(0);
        for command in steps {
            send_bytes(&mut fe, &command);
            prop_assert_eq!(fe.picc().block(0), block0);
        }
    }
}
