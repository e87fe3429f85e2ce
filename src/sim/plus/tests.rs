//! The MIFARE Plus S behind the reader front-end, driven by the bytes a host sends: SL0
//! personalisation (protocols.md §3.2–§3.4), the forum's generic-session sequence (§3.6), the
//! switch to SL1 and the Classic behaviour there, and card images.

use super::image::SL0_ATR;
use super::sl0::ATS;
use super::*;
use crate::apdu::hex;
use crate::sim::frontend::Frontend;

type Reader = Frontend<Plus>;

fn card(layout: Layout) -> Reader {
    Frontend::new(Plus::new(layout, None))
}

/// Sends hex and returns the whole answer as hex.
#[track_caller]
fn send(fe: &mut Reader, command: &str) -> String {
    hex::format(&fe.transmit(&hex::parse(command).unwrap()))
}

/// `A8 <addr LE> <16 × byte>`.
fn write_perso(addr: u16, byte: u8) -> String {
    let [lo, hi] = addr.to_le_bytes();
    hex::format(&[&[0xA8, lo, hi][..], &[byte; 16]].concat())
}

/// Writes 9000, 9001 and 9003, the keys CommitPerso needs (§3.4).
fn write_commit_keys(fe: &mut Reader) {
    for addr in [0x9000, 0x9001, 0x9003] {
        assert_eq!(send(fe, &write_perso(addr, 0x11)), "90", "{addr:04X}");
    }
}

/// A sector trailer with Crypto1 keys `A0…A5` / `B0…B5` and the transport access bits.
const TRAILER: &str = "A0 A1 A2 A3 A4 A5 FF 07 80 69 B0 B1 B2 B3 B4 B5";

#[test]
fn sl0_atr_is_built_from_the_ats_as_section_2_4_says() {
    // T0 = 75: TA, TB, TC present; the historical bytes follow them.
    let historical = &ATS[5..];
    let mut atr = vec![0x3B, 0x80 | historical.len() as u8, 0x80, 0x01];
    atr.extend_from_slice(historical);
    let tck = atr[1..].iter().fold(0, |x, b| x ^ b);
    atr.push(tck);
    assert_eq!(atr, SL0_ATR);
    assert_eq!(hex::format(&SL0_ATR), "3B 87 80 01 C1 05 2F 2F 01 BC D6 A9");
    let mut fe = card(Layout::TwoK);
    assert_eq!(fe.atr(), SL0_ATR);
    assert_eq!(
        send(&mut fe, "FF CA 00 00 00"),
        "04 50 2B 53 9E 37 79 90 00"
    );
}

#[test]
fn write_perso_follows_the_address_map() {
    let mut fe = card(Layout::TwoK);
    let cases = [
        (0x9000, "90"),
        (0x4000, "90"),
        (0x403F, "90"),
        (0x0001, "90"),
        (0x007F, "90"),
        (0xB000, "90"),
        // Block 0, beyond 2K, not in the map (§3.3, §3.7).
        (0x0000, "09"),
        (0x0080, "09"),
        (0x4040, "09"),
        (0x9005, "09"),
        (0x9090, "09"),
    ];
    for (addr, status) in cases {
        assert_eq!(
            send(&mut fe, &write_perso(addr, 0x22)),
            status,
            "{addr:04X}"
        );
    }
    let mut four = card(Layout::FourK);
    for addr in [0x0080, 0x00FF, 0x4040, 0x404F] {
        assert_eq!(
            send(&mut four, &write_perso(addr, 0x22)),
            "90",
            "{addr:04X}"
        );
    }
    assert_eq!(send(&mut four, &write_perso(0x4050, 0x22)), "09");
    // S cards take exactly one block per WritePerso.
    assert_eq!(send(&mut fe, "A8 00 90"), "0C");
    assert_eq!(send(&mut fe, "A8 00"), "0C");
    let long = format!("{} 00", write_perso(0x9000, 0));
    assert_eq!(send(&mut fe, &long), "0C");
    // Other commands, and the EV1 CommitPerso form.
    assert_eq!(send(&mut fe, "00 A4 04 00 00"), "0B");
    assert_eq!(send(&mut fe, "AA 01"), "0C");
}

#[test]
fn the_level_probe_writes_nothing() {
    let mut fe = card(Layout::TwoK);
    let before = serde_json::to_value(&fe).unwrap();
    assert_eq!(send(&mut fe, &write_perso(0x9090, 0)), "09");
    assert_eq!(serde_json::to_value(&fe).unwrap(), before);
}

#[test]
fn commit_needs_the_three_keys_and_switches_at_the_next_activation() {
    let mut fe = card(Layout::TwoK);
    assert_eq!(send(&mut fe, "AA"), "0B");
    send(&mut fe, &write_perso(0x9000, 1));
    send(&mut fe, &write_perso(0x9003, 3));
    assert_eq!(send(&mut fe, "AA"), "0B", "9001 missing");
    send(&mut fe, &write_perso(0x9001, 2));
    assert_eq!(send(&mut fe, &format!("A8 07 00 {TRAILER}")), "90");
    assert_eq!(send(&mut fe, &write_perso(0x0004, 0x44)), "90");
    assert_eq!(send(&mut fe, "AA"), "90");
    // Still SL0 until re-activated; further writes and commits are refused.
    assert_eq!(fe.picc().security_level(), 0);
    assert_eq!(fe.atr(), SL0_ATR);
    assert_eq!(send(&mut fe, &write_perso(0x0005, 0x55)), "0B");
    assert_eq!(send(&mut fe, "AA"), "0B");

    fe.reset();
    assert_eq!(fe.picc().security_level(), 1);
    assert_eq!(
        hex::format(fe.atr()),
        "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 36 00 00 00 00 5D"
    );
    // SL1: a MIFARE Classic 2K with the image written in SL0.
    assert_eq!(send(&mut fe, "A8 00 90"), "6E 00");
    assert_eq!(send(&mut fe, "FF 82 00 00 06 A0 A1 A2 A3 A4 A5"), "90 00");
    assert_eq!(send(&mut fe, "FF 86 00 00 05 01 00 04 60 00"), "90 00");
    assert_eq!(
        send(&mut fe, "FF B0 00 04 10"),
        format!("{} 90 00", hex::format(&[0x44; 16]))
    );
    assert_eq!(
        send(&mut fe, "FF B0 00 05 10"),
        format!("{} 90 00", hex::format(&[0; 16]))
    );
    // Sector 2 was never written: transport configuration.
    assert_eq!(send(&mut fe, "FF 86 00 00 05 01 00 08 60 00"), "63 00");
    assert_eq!(send(&mut fe, "FF 82 00 01 06 FF FF FF FF FF FF"), "90 00");
    assert_eq!(send(&mut fe, "FF 86 00 00 05 01 00 08 60 01"), "90 00");
    // Block 127 exists on a 2K, block 128 does not.
    assert_eq!(send(&mut fe, "FF 86 00 00 05 01 00 7F 60 01"), "90 00");
    assert_eq!(send(&mut fe, "FF B0 00 80 10"), "65 81");
}

#[test]
fn sl1_block_0_holds_the_uid_sak_and_atqa() {
    let mut fe = card(Layout::FourK);
    write_commit_keys(&mut fe);
    send(&mut fe, "AA");
    fe.reset();
    assert_eq!(fe.atr()[13..15], [0x00, 0x37]);
    send(&mut fe, "FF 82 00 00 06 FF FF FF FF FF FF");
    assert_eq!(send(&mut fe, "FF 86 00 00 05 01 00 00 60 00"), "90 00");
    // 7-byte UID, SAK 18, ATQA 0042 LSB first.
    assert!(send(&mut fe, "FF B0 00 00 10").starts_with("04 50 2B 53 9E 37 79 18 42 00"));
}

#[test]
fn the_forum_sequence_gets_the_forum_answers() {
    let mut fe = card(Layout::TwoK);
    let key = hex::format(&[0x11; 16]);
    assert_eq!(send(&mut fe, "FF A0 00 07 03 01 00 01"), "90 00");
    // WritePerso 9000 unframed, with Le: the card stays silent.
    let frame = format!("A8 00 90 {key}");
    let with_le = format!("FF A0 00 05 19 01 00 F3 00 00 64 {frame} 00");
    assert_eq!(send(&mut fe, &with_le), "64 00");
    // Without Le: a bare 90 00, and nothing reached the card.
    let without_le = format!("FF A0 00 05 19 01 00 F3 00 00 64 {frame}");
    assert_eq!(send(&mut fe, &without_le), "90 00");
    assert_eq!(
        send(&mut fe, "FF A0 00 05 07 01 00 F3 00 00 64 AA 00"),
        "64 00"
    );
    assert_eq!(
        send(&mut fe, "FF A0 00 05 07 01 00 F3 00 00 64 AA"),
        "90 00"
    );
    // RATS to a card already in layer 4.
    assert_eq!(
        send(&mut fe, "FF A0 00 05 08 01 00 F3 00 00 64 E0 81 00"),
        "64 00"
    );
    assert_eq!(send(&mut fe, "FF A0 00 07 03 01 00 02"), "90 00");
    assert_eq!(
        serde_json::to_value(&fe).unwrap()["perso"],
        serde_json::json!({})
    );
}

#[test]
fn framed_i_blocks_in_the_generic_session_are_answered() {
    let mut fe = card(Layout::TwoK);
    let key = hex::format(&[0x11; 16]);
    send(&mut fe, "FF A0 00 07 03 01 00 01");
    for (i, addr) in ["00 90", "01 90", "03 90"].iter().enumerate() {
        let pcb = 0x02 | (i as u8 & 1);
        let command = format!("FF A0 00 05 1A 01 00 F3 00 00 64 {pcb:02X} A8 {addr} {key} 00");
        assert_eq!(send(&mut fe, &command), format!("00 00 {pcb:02X} 90 90 00"));
    }
    // With a CID byte, and an invalid address.
    let command = format!("FF A0 00 05 1B 01 00 F3 00 00 64 0A 00 A8 90 90 {key} 00");
    assert_eq!(send(&mut fe, &command), "00 00 0A 00 09 90 00");
    // A chaining I-block is acknowledged (R(ACK), same block number); S(DESELECT) drops the
    // chain. R- and S-blocks are not answered.
    assert_eq!(
        send(&mut fe, "FF A0 00 05 08 01 00 F3 00 00 64 12 AA 00"),
        "00 00 A2 90 00"
    );
    for frame in ["B2", "C2"] {
        let len = 6 + hex::parse(frame).unwrap().len();
        let command = format!("FF A0 00 05 {len:02X} 01 00 F3 00 00 64 {frame} 00");
        assert_eq!(send(&mut fe, &command), "64 00", "{frame}");
    }
    // With a CID and a NAD, echoed in the answer.
    assert_eq!(
        send(&mut fe, "FF A0 00 05 0A 01 00 F3 00 00 64 0F 01 12 AA 00"),
        "00 00 0F 01 12 90 90 00"
    );
    fe.reset();
    assert_eq!(fe.picc().security_level(), 1);
}

#[test]
fn an_sl1_card_answers_rats_in_the_generic_session() {
    let mut fe = card(Layout::TwoK);
    write_commit_keys(&mut fe);
    send(&mut fe, "AA");
    fe.reset();
    send(&mut fe, "FF A0 00 07 03 01 00 01");
    let ats = hex::format(&ATS);
    assert_eq!(
        send(&mut fe, "FF A0 00 05 08 01 00 F3 00 00 64 E0 81 00"),
        format!("00 00 {ats} 90 00")
    );
    assert_eq!(
        send(&mut fe, "FF A0 00 05 08 01 00 F3 00 00 64 02 AA 00"),
        "64 00"
    );
}

#[test]
fn images_keep_the_level_and_what_sl0_wrote() {
    let mut fe = card(Layout::TwoK);
    write_commit_keys(&mut fe);
    send(&mut fe, &format!("A8 07 00 {TRAILER}"));
    let sl0 = serde_json::to_value(&fe).unwrap();
    assert_eq!(sl0["level"], 0);
    assert_eq!(sl0["committed"], false);
    assert_eq!(sl0["perso"]["0007"], TRAILER);
    assert_eq!(sl0["classic"], serde_json::Value::Null);
    let again = Plus::from_image(Layout::TwoK, sl0.clone()).unwrap();
    assert_eq!(serde_json::to_value(Frontend::new(again)).unwrap(), sl0);

    // Committed but not re-activated: loading the image is a new insertion, so SL1.
    send(&mut fe, "AA");
    let committed = serde_json::to_value(&fe).unwrap();
    assert_eq!(
        (committed["level"].clone(), committed["committed"].clone()),
        (0.into(), true.into())
    );
    let loaded = Plus::from_image(Layout::TwoK, committed).unwrap();
    assert_eq!(loaded.security_level(), 1);
    let sl1 = serde_json::to_value(&loaded).unwrap();
    assert_eq!(sl1["level"], 1);
    assert_eq!(sl1["perso"]["9000"], hex::format(&[0x11; 16]));
    assert_eq!(sl1["classic"]["blocks"][7], TRAILER);
    let reloaded = Plus::from_image(Layout::TwoK, sl1.clone()).unwrap();
    assert_eq!(serde_json::to_value(&reloaded).unwrap(), sl1);
}

#[test]
fn bad_images_are_refused_with_a_reason() {
    let uid = "04 50 2B 53 9E 37 79";
    let cases = [
        (
            serde_json::json!({"uid": uid, "level": 3}),
            "level 3 is not simulated",
        ),
        (
            serde_json::json!({"uid": "88 01 02 03", "level": 0}),
            "uid: a UID cannot start with 88",
        ),
        (
            serde_json::json!({"uid": uid, "level": 1}),
            "`classic` is required at level 1",
        ),
        (
            serde_json::json!({"uid": uid, "level": 0, "perso": {"0080": "00"}}),
            "perso `0080`: not an address WritePerso can write on a MIFARE Plus 2K",
        ),
        (
            serde_json::json!({"uid": uid, "level": 0, "perso": {"9000": "00 01"}}),
            "perso `9000`: 2 bytes, expected 16",
        ),
        (
            serde_json::json!({"uid": uid, "level": 0, "perso": {"x": "00"}}),
            "not a 4-digit hex",
        ),
        (
            serde_json::json!({"uid": uid, "level": 0, "keys": {}}),
            "unknown field `keys`",
        ),
    ];
    for (image, expected) in cases {
        let err = Plus::from_image(Layout::TwoK, image.clone()).unwrap_err();
        assert!(err.contains(expected), "{image}: {err}");
    }
}

#[test]
fn no_bytes_make_the_card_panic() {
    use proptest::prelude::*;
    proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..40))| {
        let mut fe = card(Layout::TwoK);
        fe.transmit(&bytes);
        let mut wrapped = vec![0xFF, 0xA0, 0x00, 0x05, (6 + bytes.len()) as u8, 1, 0, 0xF3, 0, 0, 0x64];
        wrapped.extend_from_slice(&bytes);
        wrapped.push(0);
        fe.transmit(&[0xFF, 0xA0, 0x00, 0x07, 0x03, 0x01, 0x00, 0x01]);
        fe.transmit(&wrapped);
        fe.reset();
        fe.transmit(&bytes);
    });
}

#[test]
fn ff_ca_01_gives_the_ats_historical_bytes_in_sl0_only() {
    use crate::reader::Card;
    let simulator = crate::sim::Simulator::new(crate::sim::Kind::Plus2K, &Default::default());
    let mut card = simulator.card();
    let answer = card.transmit(&[0xFF, 0xCA, 0x01, 0x00, 0x00]).unwrap();
    assert_eq!(
        answer,
        [0xC1, 0x05, 0x2F, 0x2F, 0x01, 0xBC, 0xD6, 0x90, 0x00]
    );
    let classic = crate::sim::Simulator::new(crate::sim::Kind::Classic1K, &Default::default());
    let answer = classic
        .card()
        .transmit(&[0xFF, 0xCA, 0x01, 0x00, 0x00])
        .unwrap();
    assert_eq!(answer, [0x6A, 0x81]);
}
