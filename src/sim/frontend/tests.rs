//! The reader front-end with toy chips: the common pseudo-APDUs, the generic session, the
//! status-word table, and that no input makes it panic.

use proptest::prelude::*;

use super::*;
use crate::apdu::hex;
use crate::reader::framing::Layer3;

/// A chip that records what the reader passes on, echoes reads and answers `30 xx` frames.
#[derive(Default)]
struct Toy {
    calls: Vec<String>,
}

impl Picc for Toy {
    fn uid(&self) -> &[u8] {
        &[0x01, 0x02, 0x03, 0x04]
    }
    fn card_name(&self) -> u16 {
        0x0003
    }
    fn authenticate(&mut self, address: u16, key: KeyType, bytes: &[u8]) -> Result<(), Refusal> {
        self.calls
            .push(format!("auth {address} {key} {}", hex::format(bytes)));
        Ok(())
    }
    fn read(&mut self, address: u16, le: usize) -> Result<Vec<u8>, Refusal> {
        self.calls.push(format!("read {address} {le}"));
        Ok(vec![0xAB; le.min(16)])
    }
    fn update(&mut self, address: u16, data: &[u8]) -> Result<(), Refusal> {
        self.calls
            .push(format!("update {address} {}", hex::format(data)));
        Err(Refusal::NotPermitted)
    }
    fn value(&mut self, address: u16, op: ValueOp, operand: u32) -> Result<(), Refusal> {
        self.calls.push(format!("value {address} {op:?} {operand}"));
        Ok(())
    }
    fn frame(&mut self, frame: &Frame) -> Option<Vec<u8>> {
        self.calls.push(format!("frame {frame:?}"));
        match frame {
            Frame::Layer3(Layer3::Read { page }) => Some(vec![*page; 16]),
            _ => None,
        }
    }
    fn reset(&mut self) {
        self.calls.push("reset".into());
    }
}

/// A chip with only the required operations.
struct Bare;

impl Picc for Bare {
    fn uid(&self) -> &[u8] {
        &[0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66]
    }
    fn card_name(&self) -> u16 {
        0x0001
    }
    fn read(&mut self, _: u16, _: usize) -> Result<Vec<u8>, Refusal> {
        Err(Refusal::OutOfRange)
    }
    fn update(&mut self, _: u16, _: &[u8]) -> Result<(), Refusal> {
        Err(Refusal::WrongLength)
    }
    fn reset(&mut self) {}
}

#[track_caller]
fn check<P: Picc>(fe: &mut Frontend<P>, command: &str, expected: &str) {
    let answer = fe.transmit(&hex::parse(command).unwrap());
    assert_eq!(hex::format(&answer), expected, "{command}");
}

#[test]
fn atr_comes_from_the_card_name() {
    let fe = Frontend::new(Bare);
    assert_eq!(fe.atr(), storage_atr(CLASSIC_1K));
    assert_eq!(Frontend::new(Toy::default()).atr()[13..15], [0x00, 0x03]);
}

#[test]
fn get_data_returns_the_uid_with_le_rules() {
    let mut fe = Frontend::new(Toy::default());
    check(&mut fe, "FF CA 00 00 00", "01 02 03 04 90 00");
    check(&mut fe, "FF CA 00 00 04", "01 02 03 04 90 00");
    check(&mut fe, "FF CA 00 00 02", "6C 04");
    check(&mut fe, "FF CA 00 00 08", "01 02 03 04 62 82");
    check(&mut fe, "FF CA 01 00 00", "6A 81");
    check(&mut fe, "FF CA 02 00 00", "6B 00");
    check(&mut fe, "FF CA 00 00", "67 00");
    let mut bare = Frontend::new(Bare);
    check(&mut bare, "FF CA 00 00 00", "04 11 22 33 44 55 66 90 00");
}

#[test]
fn load_keys_fills_volatile_slots_and_authenticate_uses_them() {
    let mut fe = Frontend::new(Toy::default());
    check(&mut fe, "FF 82 00 00 06 A0 A1 A2 A3 A4 A5", "90 00");
    check(
        &mut fe,
        "FF 82 00 1F 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
        "90 00",
    );
    check(&mut fe, "FF 82 20 00 06 A0 A1 A2 A3 A4 A5", "69 84");
    check(&mut fe, "FF 82 00 20 06 A0 A1 A2 A3 A4 A5", "69 88");
    check(&mut fe, "FF 82 00 00 05 A0 A1 A2 A3 A4", "69 89");
    check(&mut fe, "FF 82 00 00", "67 00");
    check(&mut fe, "FF 86 00 00 05 01 00 07 61 00", "90 00");
    check(&mut fe, "FF 88 00 09 60 00", "90 00");
    check(&mut fe, "FF 86 00 00 05 01 01 00 60 1F", "90 00");
    assert_eq!(
        fe.picc().calls,
        [
            "auth 7 key B A0 A1 A2 A3 A4 A5",
            "auth 9 key A A0 A1 A2 A3 A4 A5",
            "auth 256 key A 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
        ]
    );
    check(&mut fe, "FF 86 00 00 05 01 00 07 60 01", "69 88");
    check(&mut fe, "FF 86 00 00 05 01 00 07 60 20", "69 88");
    check(&mut fe, "FF 86 00 00 05 01 00 07 62 00", "69 86");
    check(&mut fe, "FF 86 00 00 05 02 00 07 60 00", "6A 81");
    check(&mut fe, "FF 86 00 00 04 01 00 07 60", "67 00");
    check(&mut fe, "FF 86 00 01 05 01 00 07 60 00", "6B 00");
    check(&mut fe, "FF 88 00 09 60", "67 00");
    check(&mut fe, "FF 88 00 09 63 00", "69 86");
    // The key slots are reader memory: a card reset keeps them.
    fe.reset();
    check(&mut fe, "FF 88 00 09 60 00", "90 00");
}

#[test]
fn storage_commands_reach_the_chip_with_their_lengths_checked() {
    let mut fe = Frontend::new(Toy::default());
    check(
        &mut fe,
        "FF B0 00 04 10",
        &format!("{} 90 00", ["AB"; 16].join(" ")),
    );
    check(&mut fe, "FF B0 00 04 04", "AB AB AB AB 90 00");
    check(&mut fe, "FF B0 00 04", "67 00");
    check(&mut fe, "FF B0 00 04 01 00 10", "67 00");
    check(&mut fe, "FF D6 00 05 04 01 02 03 04", "69 82");
    check(&mut fe, "FF D6 00 05 04 01 02 03 04 00", "67 00");
    check(&mut fe, "FF D6 00 05", "67 00");
    check(&mut fe, "FF D4 00 05 04 01 00 00 00", "90 00");
    check(&mut fe, "FF D8 00 06 04 FF FF FF FF", "90 00");
    check(&mut fe, "FF D4 01 05 04 01 00 00 00", "6B 00");
    check(&mut fe, "FF D4 00 05 03 01 00 00", "67 00");
    check(
        &mut fe,
        "FF C2 00 03 0B A0 09 80 01 07 81 04 02 00 00 00",
        "90 00",
    );
    check(
        &mut fe,
        "FF C2 00 03 0B A1 09 80 01 08 81 04 00 01 00 00",
        "90 00",
    );
    check(
        &mut fe,
        "FF C2 00 03 0B A2 09 80 01 08 81 04 00 01 00 00",
        "6A 81",
    );
    check(
        &mut fe,
        "FF C2 00 03 0A A0 09 80 01 08 81 04 00 01 00",
        "67 00",
    );
    check(&mut fe, "FF C2 00 00 02 81 00 00", "6A 81");
    assert_eq!(
        fe.picc().calls,
        [
            "read 4 16",
            "read 4 4",
            "update 5 01 02 03 04",
            "value 5 Increment 1",
            "value 6 Decrement 4294967295",
            "value 7 Increment 2",
            "value 8 Decrement 256",
        ]
    );
}

#[test]
fn generic_session_wraps_frames_and_reports_silence() {
    let mut fe = Frontend::new(Toy::default());
    let read = "FF A0 00 05 08 01 00 F3 00 00 64 30 04 00";
    check(&mut fe, read, "69 85");
    check(&mut fe, "FF A0 00 07 03 01 00 01", "90 00");
    check(
        &mut fe,
        read,
        &format!("00 00 {} 90 00", ["04"; 16].join(" ")),
    );
    check(
        &mut fe,
        "FF A0 00 05 08 01 00 F3 00 00 64 50 00 00",
        "64 00",
    );
    // Without Le: a bare 90 00, and the frame never reaches the chip.
    check(&mut fe, "FF A0 00 05 08 01 00 F3 00 00 64 A2 05", "90 00");
    check(&mut fe, "FF A0 00 05 06 01 00 F3 00 00 64 00", "67 00");
    check(
        &mut fe,
        "FF A0 00 05 08 01 00 F4 00 00 64 30 04 00",
        "6A 81",
    );
    check(&mut fe, "FF A0 00 07 03 01 00 03", "6A 81");
    check(&mut fe, "FF A0 01 00 00", "6B 00");
    check(&mut fe, "FF A0 00 07 03 01 00 02", "90 00");
    check(&mut fe, read, "69 85");
    check(&mut fe, "FF A0 00 07 03 01 00 01", "90 00");
    fe.reset();
    check(&mut fe, read, "69 85");
    assert_eq!(
        fe.picc().calls,
        [
            "frame Layer3(Read { page: 4 })",
            "frame Layer3(Halt)",
            "reset"
        ]
    );
}

#[test]
fn chips_without_an_operation_get_the_table_answer() {
    let mut fe = Frontend::new(Bare);
    check(&mut fe, "FF 82 00 00 06 FF FF FF FF FF FF", "90 00");
    check(&mut fe, "FF 86 00 00 05 01 00 04 60 00", "6A 81");
    check(&mut fe, "FF D4 00 04 04 01 00 00 00", "6A 81");
    check(&mut fe, "FF B0 00 40 10", "65 81");
    check(&mut fe, "FF D6 00 04 01 00", "67 00");
    check(&mut fe, "FF A0 00 07 03 01 00 01", "90 00");
    check(
        &mut fe,
        "FF A0 00 05 08 01 00 F3 00 00 64 30 00 00",
        "64 00",
    );
    check(&mut fe, "00 A4 04 00 02 3F 00", "6E 00");
    check(&mut fe, "AA", "6E 00");
    check(&mut fe, "", "67 00");
    check(&mut fe, "FF", "67 00");
    check(&mut fe, "FF 00 00 00", "6A 81");
    check(&mut fe, "FF B0 00 04 00 00 10", "67 00");
}

proptest! {
    #[test]
    fn any_bytes_get_a_status_word(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        for fe_bytes in [bytes.clone(), [&[0xFF][..], &bytes].concat()] {
            let answer = Frontend::new(Toy::default()).transmit(&fe_bytes);
            prop_assert!(answer.len() >= 2);
        }
    }

    #[test]
    fn any_pseudo_apdu_body_gets_a_status_word(
        ins in prop::sample::select(vec![0xCA, 0x82, 0x86, 0x88, 0xB0, 0xD6, 0xD4, 0xD8, 0xC2, 0xA0]),
        body in proptest::collection::vec(any::<u8>(), 0..30),
    ) {
        let mut fe = Frontend::new(Toy::default());
        fe.transmit(&hex::parse("FF A0 00 07 03 01 00 01").unwrap());
        let command = [&[0xFF, ins][..], &body].concat();
        prop_assert!(fe.transmit(&command).len() >= 2);
    }
}

fn model(model: ReaderModel) -> Frontend<Toy> {
    Frontend::new(Toy::default()).with_model(model)
}

#[test]
fn each_model_refuses_the_other_dialects_in_its_own_words() {
    let mut omnikey = model(ReaderModel::Omnikey5421);
    check(&mut omnikey, "FF C2 00 00 02 81 00", "6A 81");
    check(&mut omnikey, "FF 00 00 00 04 D4 42 30 04", "6A 81");
    check(&mut omnikey, "FF D7 00 04 05 01 00 00 00 01", "6A 81");
    let mut acr122u = model(ReaderModel::Acr122u);
    check(&mut acr122u, "FF A0 00 07 03 01 00 01", "63 00");
    check(&mut acr122u, "FF C2 00 00 02 81 00", "63 00");
    check(&mut acr122u, "FF D4 00 04 04 01 00 00 00", "63 00");
    // Its one error word for the common commands too.
    check(&mut acr122u, "FF D6 00 04 04 01 02 03 04", "63 00");
    let mut acr1252u = model(ReaderModel::Acr1252u);
    check(&mut acr1252u, "FF A0 00 07 03 01 00 01", "6A 81");
    check(&mut acr1252u, "FF 00 00 00 04 D4 42 30 04", "6A 81");
    check(&mut acr1252u, "FF 00 48 00 00", "6A 81");
}

#[test]
fn the_acr122u_answers_in_pn532_frames_with_its_status_inside() {
    let mut fe = model(ReaderModel::Acr122u);
    check(
        &mut fe,
        "FF 00 00 00 04 D4 42 30 05",
        &format!("D5 43 00 {} 90 00", ["05"; 16].join(" ")),
    );
    // A silent chip: PN532 timeout inside, 90 00 outside.
    check(&mut fe, "FF 00 00 00 03 D4 42 50", "D5 43 01 90 00");
    check(&mut fe, "FF 00 48 00 00", &hex::format(b"ACR122U207"));
    check(&mut fe, "FF 00 40 0E 04 00 00 00 00", "90 02");
    check(
        &mut fe,
        "FF 00 00 00 04 D4 4A 01 00",
        "D5 4B 01 01 00 44 00 04 01 02 03 04 90 00",
    );
}

#[test]
fn the_acr1252u_says_90_00_outside_whatever_c0_says_inside() {
    let mut fe = model(ReaderModel::Acr1252u);
    // No session: refused inside C0 only.
    check(
        &mut fe,
        "FF C2 00 01 04 95 02 30 05",
        "C0 03 00 6A 81 90 00",
    );
    check(&mut fe, "FF C2 00 00 02 81 00", "C0 03 00 90 00 90 00");
    check(
        &mut fe,
        "FF C2 00 01 04 95 02 30 05 00",
        &format!(
            "C0 03 00 90 00 92 01 00 96 02 00 00 97 10 {} 90 00",
            ["05"; 16].join(" ")
        ),
    );
    check(&mut fe, "FF C2 00 01 03 95 01 50", "C0 03 01 64 01 90 00");
    check(
        &mut fe,
        "FF C2 00 00 04 83 00 84 00",
        "C0 03 00 90 00 90 00",
    );
    assert!(fe.picc().calls.contains(&"reset".to_string()));
    check(
        &mut fe,
        "FF C2 00 00 02 80 00",
        "C0 03 00 90 00 80 03 02 02 00 90 00",
    );
}

proptest! {
    #[test]
    fn any_bytes_get_an_answer_from_every_model(
        prefix in prop::sample::select(vec![vec![], vec![0xFF], vec![0xFF, 0xC2, 0x00], vec![0xFF, 0x00, 0x00, 0x00], vec![0xFF, 0xD7, 0x00]]),
        bytes in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        for &m in ReaderModel::all() {
            let mut fe = model(m);
            fe.transmit(&hex::parse("FF C2 00 00 02 81 00").unwrap());
            let answer = fe.transmit(&[&prefix[..], &bytes].concat());
            prop_assert!(answer.len() >= 2);
        }
    }
}
