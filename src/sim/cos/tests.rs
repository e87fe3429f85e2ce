use proptest::prelude::*;

use super::blank::INSTALL_KEY;
use super::*;
use crate::apdu::hex;
use crate::cos::{self as spec, Access, CreateFile, FileType, WriteMode};

const AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
const ISSUER: [u8; 16] = [0x11; 16];
const APP: [u8; 16] = [0x22; 16];

fn card(protocol: Protocol) -> CosCard {
    CosCard::blank(protocol, 0, 42)
}

/// Sends `apdu` (hex or bytes) and returns (data, SW).
fn send(card: &mut CosCard, apdu: &[u8]) -> (Vec<u8>, u16) {
    let mut out = card.transmit(apdu);
    let sw = out.split_off(out.len() - 2);
    (out, u16::from_be_bytes([sw[0], sw[1]]))
}

fn sw(card: &mut CosCard, apdu: &str) -> u16 {
    send(card, &hex::parse(apdu).unwrap()).1
}

fn apdu(cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![cla, ins, p1, p2, data.len() as u8];
    out.extend_from_slice(data);
    out
}

/// GET CHALLENGE then EXTERNAL AUTHENTICATE with `key` as key `n`; the SW.
fn external(card: &mut CosCard, n: u8, key: &[u8]) -> u16 {
    let (challenge, status) = send(card, &[0x00, 0x84, 0x00, 0x00, 0x04]);
    assert_eq!(status, 0x9000);
    let cryptogram = spec::cryptogram(key, &challenge).unwrap();
    send(card, &apdu(0x00, 0x82, 0x00, n, &cryptogram)).1
}

fn create(
    card: &mut CosCard,
    file_type: FileType,
    fid: u16,
    size: u16,
    access: Access,
    name: &[u8],
) -> u16 {
    let (p1, p2, data) = CreateFile {
        file_type,
        fid,
        size,
        access,
        name: name.to_vec(),
    }
    .encode();
    send(card, &apdu(0x80, 0xF2, p1, p2, &data)).1
}

fn access(read: Condition, write: Condition, create: Condition, delete: Condition) -> Access {
    Access {
        read,
        write,
        create,
        delete,
    }
}

/// The issuance of the README: application DF, its key file, issuer key 0 and application
/// key 1, PIN 1, a holder EF readable after the PIN and written after the issuer key.
fn issue(card: &mut CosCard) {
    use Condition::{Always, Key, Never, Pin};
    assert_eq!(external(card, 0, &INSTALL_KEY), 0x9000);
    assert_eq!(
        create(
            card,
            FileType::Df,
            0x5000,
            0,
            access(Always, Never, Key(0), Key(0)),
            &AID
        ),
        0x9000
    );
    assert_eq!(
        create(
            card,
            FileType::Keys,
            0x0000,
            0,
            access(Never, Key(0), Never, Never),
            &[]
        ),
        0x9000
    );
    // Key 0 of the application does not exist yet: the MF's install key protects it.
    let block = spec::key_block(&INSTALL_KEY, 3, &ISSUER).unwrap();
    assert_eq!(send(card, &apdu(0x80, 0x5C, 0x02, 0x00, &block)).1, 0x9000);
    // Now key 0 means the issuer key: not passed yet.
    let block = spec::key_block(&ISSUER, 3, &APP).unwrap();
    assert_eq!(send(card, &apdu(0x80, 0x5C, 0x02, 0x01, &block)).1, 0x6982);
    assert_eq!(external(card, 0, &ISSUER), 0x9000);
    assert_eq!(send(card, &apdu(0x80, 0x5C, 0x02, 0x01, &block)).1, 0x9000);
    let pin = spec::pin_block(&ISSUER, 3, b"4711").unwrap();
    assert_eq!(send(card, &apdu(0x80, 0x5E, 0x02, 0x01, &pin)).1, 0x9000);
    assert_eq!(
        create(
            card,
            FileType::Transparent(WriteMode::Replace),
            0x0101,
            32,
            access(Pin(1), Key(0), Never, Key(0)),
            &[]
        ),
        0x9000
    );
    assert_eq!(
        send(card, &apdu(0x00, 0xD6, 0x00, 0x00, b"HOLDER")).1,
        0x9000
    );
}

#[test]
fn a_blank_card_holds_the_mf_and_refuses_creation_before_the_install_key() {
    let mut card = card(Protocol::T1);
    assert_eq!(card.atr(), ATR_T1);
    assert_eq!(ATR_T1[16], ATR_T1[1..16].iter().fold(0, |x, b| x ^ b));
    assert_eq!(sw(&mut card, "00 A4 00 00"), 0x9000);
    assert_eq!(
        create(
            &mut card,
            FileType::Df,
            0x5000,
            0,
            access(
                Condition::Always,
                Condition::Always,
                Condition::Always,
                Condition::Always
            ),
            &AID
        ),
        0x6982
    );
    // The CPLC for batches, in class 80.
    let (cplc, status) = send(&mut card, &[0x80, 0xCA, 0x9F, 0x7F, 0x00]);
    assert_eq!((cplc.len(), status), (45, 0x9000));
    // ISO's own instructions this COS does not have, and foreign classes.
    assert_eq!(sw(&mut card, "00 E0 00 00 02 62 00"), 0x6D00);
    assert_eq!(sw(&mut card, "A0 A4 00 00"), 0x6E00);
    assert_eq!(sw(&mut card, "00 84 00 00 05"), 0x6700);
}

#[test]
fn issuance_then_verification_by_internal_authenticate_and_pin() {
    let mut card = card(Protocol::T1);
    issue(&mut card);
    card.reset();
    assert_eq!(sw(&mut card, "00 A4 04 0C 07 A0 00 00 02 47 10 01"), 0x9000);
    let random = [1, 2, 3, 4];
    let (answer, status) = send(&mut card, &apdu(0x00, 0x88, 0x00, 0x01, &random));
    assert_eq!(status, 0x9000);
    assert_eq!(answer, spec::cryptogram(&APP, &random).unwrap());
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 01 01"), 0x9000);
    assert_eq!(sw(&mut card, "00 B0 00 00 06"), 0x6982);
    assert_eq!(sw(&mut card, "00 20 00 01 04 34 37 31 31"), 0x9000);
    assert_eq!(
        send(&mut card, &hex::parse("00 B0 00 00 06").unwrap()),
        (b"HOLDER".to_vec(), 0x9000)
    );
    // Reading by SFI (the identifier's low 5 bits), offset in P2.
    assert_eq!(
        send(&mut card, &hex::parse("00 B0 81 02 04").unwrap()),
        (b"LDER".to_vec(), 0x9000)
    );
    // Writing needs the issuer key, which this session has not passed.
    assert_eq!(sw(&mut card, "00 D6 00 00 01 00"), 0x6982);
}

#[test]
fn t0_delivers_the_internal_authenticate_answer_by_get_response() {
    let mut card = card(Protocol::T0);
    issue(&mut card);
    assert_eq!(sw(&mut card, "00 88 00 01 04 01 02 03 04"), 0x6108);
    let (answer, status) = send(&mut card, &[0x00, 0xC0, 0x00, 0x00, 0x08]);
    assert_eq!(status, 0x9000);
    assert_eq!(answer, spec::cryptogram(&APP, &[1, 2, 3, 4]).unwrap());
}

#[test]
fn wrong_cryptograms_count_down_then_block_and_the_issuer_unlocks() {
    let mut card = card(Protocol::T1);
    issue(&mut card);
    assert_eq!(sw(&mut card, "00 82 00 01"), 0x63C3);
    assert_eq!(external(&mut card, 1, &[0x33; 16]), 0x63C2);
    assert_eq!(external(&mut card, 1, &[0x33; 16]), 0x63C1);
    // Asking costs nothing and keeps a challenge.
    assert_eq!(sw(&mut card, "00 84 00 00 04"), 0x9000);
    assert_eq!(sw(&mut card, "00 82 00 01"), 0x63C1);
    assert_eq!(sw(&mut card, "00 82 00 01"), 0x63C1);
    assert_eq!(
        send(&mut card, &apdu(0x00, 0x82, 0x00, 0x01, &[0; 8])).1,
        0x63C0
    );
    assert_eq!(external(&mut card, 1, &APP), 0x6983);
    assert_eq!(sw(&mut card, "00 82 00 01"), 0x6983);
    assert_eq!(sw(&mut card, "00 88 00 01 04 01 02 03 04"), 0x6983);
    // Without a challenge there is nothing to check against.
    assert_eq!(
        send(&mut card, &apdu(0x00, 0x82, 0x00, 0x00, &[0; 8])).1,
        0x6984
    );
    // The issuer (key 0, passed in `issue`) unlocks key 1.
    assert_eq!(sw(&mut card, "80 5C 01 01"), 0x9000);
    assert_eq!(external(&mut card, 1, &APP), 0x9000);
    // Key 7 does not exist anywhere.
    assert_eq!(external(&mut card, 7, &APP), 0x6A88);
}

#[test]
fn wrong_pins_block_and_unlock_and_change_pin_works() {
    let mut card = card(Protocol::T1);
    issue(&mut card);
    assert_eq!(sw(&mut card, "00 20 00 01 04 30 30 30 30"), 0x63C2);
    assert_eq!(sw(&mut card, "00 20 00 01 04 30 30 30 30"), 0x63C1);
    assert_eq!(sw(&mut card, "00 20 00 01 04 30 30 30 30"), 0x63C0);
    assert_eq!(sw(&mut card, "00 20 00 01 04 34 37 31 31"), 0x6983);
    assert_eq!(
        sw(&mut card, "00 5E 00 01 09 34 37 31 31 FF 31 32 33 34"),
        0x6983
    );
    assert_eq!(sw(&mut card, "80 5E 01 01"), 0x9000);
    assert_eq!(
        sw(&mut card, "00 5E 00 01 09 34 37 31 31 FF 31 32 33 34"),
        0x9000
    );
    assert_eq!(sw(&mut card, "00 20 00 01 04 34 37 31 31"), 0x63C2);
    assert_eq!(sw(&mut card, "00 20 00 01 04 31 32 33 34"), 0x9000);
    // Unlocking needs the key file's write condition.
    card.reset();
    assert_eq!(sw(&mut card, "00 A4 04 0C 07 A0 00 00 02 47 10 01"), 0x9000);
    assert_eq!(sw(&mut card, "80 5E 01 01"), 0x6982);
    assert_eq!(sw(&mut card, "00 20 00 05 04 31 32 33 34"), 0x6A88);
}

#[test]
fn a_locked_install_key_freezes_the_structure_for_good() {
    let mut card = card(Protocol::T1);
    issue(&mut card);
    assert_eq!(sw(&mut card, "00 A4 00 00"), 0x9000);
    assert_eq!(sw(&mut card, "80 5C 03 00"), 0x9000);
    assert_eq!(external(&mut card, 0, &INSTALL_KEY), 0x6983);
    assert_eq!(sw(&mut card, "80 5C 01 00"), 0x6982);
    let block = spec::key_block(&INSTALL_KEY, 3, &INSTALL_KEY).unwrap();
    assert_eq!(
        send(&mut card, &apdu(0x80, 0x5C, 0x02, 0x00, &block)).1,
        0x6982
    );
    let any = access(
        Condition::Always,
        Condition::Always,
        Condition::Always,
        Condition::Always,
    );
    assert_eq!(
        create(
            &mut card,
            FileType::Transparent(WriteMode::Replace),
            0x0001,
            4,
            any,
            &[]
        ),
        0x6982
    );
    // The application keeps its own keys.
    assert_eq!(sw(&mut card, "00 A4 04 0C 07 A0 00 00 02 47 10 01"), 0x9000);
    assert_eq!(external(&mut card, 0, &ISSUER), 0x9000);
}

#[test]
fn write_binary_follows_the_write_mode_and_erase_prepares_an_and_file() {
    let mut card = card(Protocol::T1);
    let any = access(
        Condition::Always,
        Condition::Always,
        Condition::Always,
        Condition::Always,
    );
    assert_eq!(external(&mut card, 0, &INSTALL_KEY), 0x9000);
    assert_eq!(
        create(
            &mut card,
            FileType::Transparent(WriteMode::And),
            0x0001,
            4,
            any,
            &[]
        ),
        0x9000
    );
    // A new write-AND file is erased (all ones): the first write stores its bytes.
    assert_eq!(sw(&mut card, "00 D0 00 00 02 F0 3C"), 0x9000);
    assert_eq!(sw(&mut card, "00 D0 00 00 02 3C 3C"), 0x9000);
    assert_eq!(
        send(&mut card, &hex::parse("00 B0 00 00 02").unwrap()),
        (vec![0x30, 0x3C], 0x9000)
    );
    assert_eq!(sw(&mut card, "00 0E 00 00"), 0x9000);
    assert_eq!(sw(&mut card, "00 D0 00 00 02 5A A5"), 0x9000);
    assert_eq!(
        send(&mut card, &hex::parse("00 B0 00 00 04").unwrap()),
        (vec![0x5A, 0xA5, 0xFF, 0xFF], 0x9000)
    );
    // UPDATE replaces whatever the mode; ERASE up to an end offset.
    assert_eq!(sw(&mut card, "00 D6 00 00 01 00"), 0x9000);
    assert_eq!(sw(&mut card, "00 0E 00 01 02 00 02"), 0x9000);
    assert_eq!(
        send(&mut card, &hex::parse("00 B0 00 00 04").unwrap()),
        (vec![0x00, 0xFF, 0xFF, 0xFF], 0x9000)
    );
    assert_eq!(sw(&mut card, "00 0E 00 02 02 00 01"), 0x6A80);
    assert_eq!(
        create(
            &mut card,
            FileType::Transparent(WriteMode::Or),
            0x0002,
            2,
            any,
            &[]
        ),
        0x9000
    );
    assert_eq!(sw(&mut card, "00 D0 00 00 02 F0 01"), 0x9000);
    assert_eq!(sw(&mut card, "00 D0 00 00 02 0F 02"), 0x9000);
    assert_eq!(
        send(&mut card, &hex::parse("00 B0 00 00 02").unwrap()),
        (vec![0xFF, 0x03], 0x9000)
    );
}

#[test]
fn records_and_delete_follow_their_conditions() {
    use Condition::{Always, Key, Never};
    let mut card = card(Protocol::T1);
    assert_eq!(external(&mut card, 0, &INSTALL_KEY), 0x9000);
    assert_eq!(
        create(
            &mut card,
            FileType::Records,
            0x0003,
            0x0402,
            access(Always, Key(0), Never, Key(0)),
            &[]
        ),
        0x9000
    );
    assert_eq!(sw(&mut card, "00 DC 02 04 04 01 02 03 04"), 0x9000);
    assert_eq!(
        send(&mut card, &hex::parse("00 B2 02 1C 04").unwrap()),
        (vec![1, 2, 3, 4], 0x9000)
    );
    assert_eq!(sw(&mut card, "00 B2 03 04 04"), 0x6A83);
    assert_eq!(sw(&mut card, "00 DC 01 04 03 01 02 03"), 0x6700);
    // The key file goes only with its DF; the MF cannot go; the record EF can.
    assert_eq!(sw(&mut card, "00 E4 00 00 02 00 00"), 0x6985);
    assert_eq!(sw(&mut card, "00 E4 00 00 02 00 03"), 0x9000);
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 03"), 0x6A82);
    // The security state went with the delete.
    assert_eq!(
        create(
            &mut card,
            FileType::Records,
            0x0003,
            0x0402,
            access(Always, Key(0), Never, Key(0)),
            &[]
        ),
        0x6982
    );
    // A second key file, or a key file whose keys no key protects, is refused.
    assert_eq!(external(&mut card, 0, &INSTALL_KEY), 0x9000);
    assert_eq!(
        create(
            &mut card,
            FileType::Keys,
            0x0010,
            0,
            access(Never, Key(0), Never, Never),
            &[]
        ),
        0x6A89
    );
    assert_eq!(
        create(
            &mut card,
            FileType::Df,
            0x5000,
            0,
            access(Always, Always, Always, Always),
            &AID
        ),
        0x9000
    );
    assert_eq!(
        create(
            &mut card,
            FileType::Keys,
            0x0000,
            0,
            access(Never, Always, Never, Never),
            &[]
        ),
        0x6A80
    );
}

#[test]
fn the_card_image_round_trips_and_bad_images_are_refused() {
    let mut card = card(Protocol::T1);
    issue(&mut card);
    let image = serde_json::to_value(&card).unwrap();
    let mut again = CosCard::from_image(Protocol::T1, image.clone()).unwrap();
    assert_eq!(again.state, card.state);
    assert_eq!(external(&mut again, 0, &INSTALL_KEY), 0x9000);
    let mut bad = image.clone();
    bad["files"][1]["body"]["keys"]["0"]["value"] = serde_json::json!("0011");
    assert!(
        CosCard::from_image(Protocol::T1, bad)
            .unwrap_err()
            .contains("key 0")
    );
    let mut bad = image;
    bad["files"][1]["access"]["write"] = serde_json::json!("00");
    assert!(
        CosCard::from_image(Protocol::T1, bad)
            .unwrap_err()
            .contains("must name a key")
    );
}

proptest! {
    #[test]
    fn no_command_panics_on_a_blank_or_issued_card(apdus in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..40), 1..20), issued: bool) {
        let mut card = card(Protocol::T0);
        if issued {
            issue(&mut card);
        }
        for mut apdu in apdus {
            // Mostly this COS's class and instructions.
            if apdu.len() > 1 {
                apdu[0] &= 0x80;
                apdu[1] = [0x5C, 0x5E, 0xF2, 0x82, 0x88, 0x84, 0x20, 0xB0, 0xD0, 0x0E, 0xD6, 0xB2, 0xDC, 0xE4, 0xA4, 0xC0][usize::from(apdu[1] & 0x0F)];
            }
            let out = card.transmit(&apdu);
            prop_assert!(out.len() >= 2);
        }
        let image = serde_json::to_value(&card).unwrap();
        prop_assert!(CosCard::from_image(Protocol::T0, image).is_ok());
    }
}
