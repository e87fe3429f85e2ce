//! Detection from names and by probing, and each family's frames on its simulated reader.

use super::*;
use crate::sim::{Kind, Options, ReaderModel, Simulator};

fn card(kind: Kind, model: ReaderModel) -> Box<dyn Card + Send> {
    Simulator::new(
        kind,
        &Options {
            reader: model,
            ..Options::default()
        },
    )
    .card()
}

#[test]
fn ccid_names_pick_the_family() {
    for (name, kind) in [
        (
            "ACS ACR122U PICC Interface 00 00",
            Some(ReaderKind::AcsPn532),
        ),
        ("ACS ACR122U 00 00", Some(ReaderKind::AcsPn532)),
        (
            "ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00",
            Some(ReaderKind::PcscPart3),
        ),
        (
            "HID Global OMNIKEY 5421 Smartcard Reader 00 00",
            Some(ReaderKind::Omnikey),
        ),
        ("Virtual PCD 00 00", None),
    ] {
        assert_eq!(ReaderKind::from_name(name), kind, "{name}");
    }
}

#[test]
fn every_simulated_reader_is_detected_by_name_and_by_probing() {
    for (model, expected) in [
        (ReaderModel::Omnikey5421, ReaderKind::Omnikey),
        (ReaderModel::Acr122u, ReaderKind::AcsPn532),
        (ReaderModel::Acr1252u, ReaderKind::PcscPart3),
    ] {
        let mut c = card(Kind::Ultralight, model);
        assert_eq!(ReaderKind::detect(c.as_mut(), None).unwrap(), expected);
        assert_eq!(ReaderKind::probe(c.as_mut()).unwrap(), expected, "{model}");
        assert_eq!(
            ReaderKind::detect(c.as_mut(), Some(ReaderKind::Direct)).unwrap(),
            ReaderKind::Direct
        );
    }
}

#[test]
fn one_frame_reads_the_same_page_through_every_family() {
    let mut answers = Vec::new();
    for model in ReaderModel::all() {
        let mut c = card(Kind::Ultralight, *model);
        let kind = ReaderKind::detect(c.as_mut(), None).unwrap();
        let driver = kind.driver();
        driver.open(c.as_mut()).unwrap();
        answers.push(driver.transceive(c.as_mut(), &[0x30, 0x00]).unwrap());
        driver.close(c.as_mut()).unwrap();
    }
    assert_eq!(answers[0].len(), 16);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
}

#[test]
fn a_silent_card_is_an_error_naming_the_family_and_its_status() {
    let mut c = card(Kind::Ultralight, ReaderModel::Acr1252u);
    let driver = ReaderKind::PcscPart3.driver();
    let e = driver
        .transceive(c.as_mut(), &[0x30, 0x00])
        .unwrap_err()
        .to_string();
    assert!(e.contains("Part 3") && e.contains("6A81"), "{e}");
    driver.open(c.as_mut()).unwrap();
    let e = driver
        .transceive(c.as_mut(), &[0x77])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no response from the card"), "{e}");
    let mut c = card(Kind::Ultralight, ReaderModel::Acr122u);
    let e = ReaderKind::AcsPn532
        .driver()
        .transceive(c.as_mut(), &[0x77])
        .unwrap_err()
        .to_string();
    assert!(e.contains("PN532 status 01"), "{e}");
}

#[test]
fn value_commands_follow_the_family_byte_order() {
    let n = 0x0102_0304;
    let hid = ReaderKind::Omnikey
        .driver()
        .value_command(ValueOp::Decrement, 4, n)
        .unwrap();
    assert_eq!(
        hid.to_bytes(),
        [0xFF, 0xD8, 0x00, 0x04, 0x04, 0x04, 0x03, 0x02, 0x01]
    );
    let acs = ReaderKind::AcsPn532
        .driver()
        .value_command(ValueOp::Increment, 4, n)
        .unwrap();
    assert_eq!(
        acs.to_bytes(),
        [0xFF, 0xD7, 0x00, 0x04, 0x05, 0x01, 0x01, 0x02, 0x03, 0x04]
    );
    assert!(
        ReaderKind::Direct
            .driver()
            .value_command(ValueOp::Increment, 4, n)
            .is_err()
    );
}

#[test]
fn feedback_lights_the_acs_readers_only() {
    for (model, kind, shown) in [
        (ReaderModel::Omnikey5421, ReaderKind::Omnikey, false),
        (ReaderModel::Acr122u, ReaderKind::AcsPn532, true),
        (ReaderModel::Acr1252u, ReaderKind::PcscPart3, true),
    ] {
        let mut c = card(Kind::Classic1K, model);
        assert_eq!(kind.driver().feedback(c.as_mut(), true).unwrap(), shown);
        assert_eq!(kind.driver().feedback(c.as_mut(), false).unwrap(), shown);
    }
}
