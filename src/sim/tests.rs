//! Tests of the simulator front: kinds, card handles through the reader seam, images on disk.

use std::fs;
use std::path::Path;

use super::{Error, Kind, Options, Simulator};
use crate::apdu::{Command, StatusWord, parse_command};
use crate::reader::Card;

fn command(text: &str) -> Command {
    parse_command(text).unwrap()
}

/// Sends `text` through [`Card::exchange`] (61xx and 6Cxx followed) and returns data and SW.
fn exchange(card: &mut dyn Card, text: &str) -> (Vec<u8>, StatusWord) {
    let response = card.exchange(&command(text)).unwrap();
    (response.data, response.sw)
}

#[test]
fn kinds_parse_by_name_and_list_the_valid_ones_on_error() {
    for &kind in Kind::all() {
        assert_eq!(kind.name().parse::<Kind>().unwrap(), kind);
        assert_eq!(kind.to_string(), kind.name());
    }
    assert_eq!("iso7816-t0".parse::<Kind>().unwrap(), Kind::Iso7816T0);
    let err = "iso7817".parse::<Kind>().unwrap_err().to_string();
    assert!(
        err.starts_with("unknown simulated card `iso7817` (valid: iso7816, iso7816-t0, "),
        "{err}"
    );
    assert!(Kind::all().iter().all(|k| err.contains(k.name())), "{err}");
}

#[test]
fn card_handle_names_the_reader_and_reports_the_atr() {
    let sim = Simulator::new(Kind::Iso7816, &Options::default());
    let mut card = sim.card();
    assert_eq!(card.reader_name(), "Simulated reader (iso7816)");
    assert_eq!(card.atr()[..3], [0x3B, 0x8A, 0x81]);
    assert_eq!(card.reset().unwrap(), card.atr());
    assert_eq!(sim.kind(), Kind::Iso7816);
    let t0 = Simulator::new(Kind::Iso7816T0, &Options::default()).card();
    assert_eq!(t0.reader_name(), "Simulated reader (iso7816-t0)");
    assert_eq!(t0.atr()[..2], [0x3B, 0x0A]);
}

#[test]
fn exchange_gives_the_same_answers_over_t0_and_t1() {
    for kind in [Kind::Iso7816, Kind::Iso7816T0] {
        let mut card = Simulator::new(kind, &Options::default()).card();
        let (fcp, sw) = exchange(card.as_mut(), "00 A4 04 00 07 A0 00 00 02 47 10 01 00");
        assert!(sw.is_ok(), "{kind}");
        assert_eq!(fcp[..2], [0x62, 0x17], "{kind}");
        let (data, sw) = exchange(card.as_mut(), "00 B0 81 00 00");
        assert!(sw.is_ok(), "{kind}");
        assert_eq!(data.len(), 256, "{kind}");
        let (data, sw) = exchange(card.as_mut(), "00 B2 03 14 00");
        assert_eq!((data, sw), (vec![3; 16], StatusWord::OK), "{kind}");
    }
}

#[test]
fn handles_share_one_card_and_reset_keeps_persistent_state() {
    let sim = Simulator::new(Kind::Iso7816, &Options::default());
    let mut a = sim.card();
    let mut b = sim.card();
    a.transmit(&[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0x00])
        .unwrap();
    assert_eq!(exchange(a.as_mut(), "00 D6 00 00 01 AA").1, StatusWord::OK);
    // The current EF is card state, so the second handle sees it too.
    assert_eq!(exchange(b.as_mut(), "00 B0 00 00 01").0, [0xAA]);
    b.reset().unwrap();
    assert_eq!(exchange(a.as_mut(), "00 B0 00 00 01").1, StatusWord(0x6986));
    exchange(a.as_mut(), "00 A4 00 0C 02 2F 00");
    assert_eq!(exchange(a.as_mut(), "00 B0 00 00 01").0, [0xAA]);
}

#[test]
fn options_uid_is_ignored_by_the_file_card() {
    let options = Options {
        uid: Some(vec![1, 2, 3, 4]),
        ..Options::default()
    };
    let card = Simulator::new(Kind::Iso7816, &options).card();
    assert_eq!(
        card.atr(),
        Simulator::new(Kind::Iso7816, &Options::default())
            .card()
            .atr()
    );
}

#[test]
fn a_second_run_sees_the_first_runs_writes_and_blocked_pin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    let first = Simulator::open(Kind::Iso7816T0, &Options::default(), Some(&path)).unwrap();
    let mut card = first.card();
    exchange(card.as_mut(), "00 A4 00 0C 02 2F 00");
    exchange(card.as_mut(), "00 D6 00 00 02 CA FE");
    for _ in 0..3 {
        exchange(card.as_mut(), "00 20 00 01 04 30 30 30 30");
    }
    first.save(&path).unwrap();
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );

    let second = Simulator::open(Kind::Iso7816T0, &Options::default(), Some(&path)).unwrap();
    let mut card = second.card();
    assert_eq!(
        exchange(card.as_mut(), "00 20 00 01 04 31 32 33 34").1,
        StatusWord(0x6983)
    );
    exchange(card.as_mut(), "00 A4 00 0C 02 2F 00");
    assert_eq!(
        exchange(card.as_mut(), "00 B0 00 00 03").0,
        [0xCA, 0xFE, 0x02]
    );
    // Saving again replaces the image in place.
    second.save(&path).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("{\n  \"format\": 1,\n  \"kind\": \"iso7816-t0\","),
        "{text}"
    );
}

#[test]
fn open_without_state_or_with_a_missing_file_starts_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.json");
    for state in [None, Some(missing.as_path())] {
        let sim = Simulator::open(Kind::Iso7816, &Options::default(), state).unwrap();
        let mut card = sim.card();
        assert_eq!(exchange(card.as_mut(), "00 20 00 01").1, StatusWord(0x63C3));
    }
    assert!(!missing.exists());
}

#[track_caller]
fn open_error(path: &Path, kind: Kind) -> String {
    match Simulator::open(kind, &Options::default(), Some(path)) {
        Ok(_) => panic!("opened {}", path.display()),
        Err(err) => err.to_string(),
    }
}

#[test]
fn opening_an_image_of_another_kind_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    Simulator::new(Kind::Iso7816, &Options::default())
        .save(&path)
        .unwrap();
    let message = open_error(&path, Kind::Iso7816T0);
    assert_eq!(
        message,
        format!(
            "card image `{}` holds a `iso7816` card, not `iso7816-t0`",
            path.display()
        )
    );
}

#[test]
fn broken_images_are_errors_that_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    let cases = [
        ("{", "EOF while parsing"),
        (
            "{\"format\": 2, \"kind\": \"iso7816\", \"card\": {}}",
            "format 2 is not supported",
        ),
        (
            "{\"format\": 1, \"kind\": \"iso7816\", \"card\": {}}",
            "missing field `files`",
        ),
        (
            "{\"format\": 1, \"kind\": \"iso7816\"}",
            "missing field `card`",
        ),
    ];
    for (text, expected) in cases {
        fs::write(&path, text).unwrap();
        let message = open_error(&path, Kind::Iso7816);
        let prefix = format!("card image `{}`: ", path.display());
        assert!(message.starts_with(&prefix), "{message}");
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }
    let message = open_error(dir.path(), Kind::Iso7816);
    assert!(matches!(
        Simulator::open(Kind::Iso7816, &Options::default(), Some(dir.path())),
        Err(Error::Io { .. })
    ));
    assert!(message.starts_with(&format!("card image `{}`: ", dir.path().display())));
}

#[test]
fn saving_into_a_missing_directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/card.json");
    let sim = Simulator::new(Kind::Iso7816, &Options::default());
    let err = sim.save(&path).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("card.json"), "{err}");
}

#[test]
fn classic_cards_take_checked_and_numbered_uids_and_persist_in_images() {
    let uid = |sim: &Simulator| exchange(sim.card().as_mut(), "FF CA 00 00 00").0;
    let numbered = |n| Simulator::new(Kind::Classic1K, &Options::numbered(Kind::Classic1K, n));
    assert_eq!(
        uid(&numbered(0)),
        uid(&Simulator::new(Kind::Classic1K, &Options::default()))
    );
    assert_ne!(uid(&numbered(1)), uid(&numbered(2)));
    // A contact card has no UID; its place in the stream gives it its own IC serial number.
    assert_eq!(Options::numbered(Kind::Iso7816, 3).uid, None);
    assert_eq!(Options::numbered(Kind::Iso7816, 3).position, Some(3));

    let bad = Options {
        uid: Some(vec![1, 2, 3, 4, 5]),
        ..Options::default()
    };
    let err = Simulator::open(Kind::Classic4K, &bad, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "simulated `classic-4k` card: a MIFARE Classic UID has 4 or 7 bytes, got 5"
    );
    assert!(Simulator::check_options(Kind::Iso7816, &bad).is_ok());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("classic.json");
    let sim = Simulator::open(Kind::Classic4K, &Options::default(), Some(&path)).unwrap();
    let mut card = sim.card();
    assert_eq!(card.reader_name(), "Simulated reader (classic-4k)");
    assert_eq!(card.atr()[13..15], [0x00, 0x02]);
    exchange(card.as_mut(), "FF 82 00 00 06 FF FF FF FF FF FF");
    exchange(card.as_mut(), "FF 86 00 00 05 01 00 FF 60 00");
    let (_, sw) = exchange(
        card.as_mut(),
        "FF D6 00 FE 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
    );
    assert_eq!(sw, StatusWord::OK);
    sim.save(&path).unwrap();
    let again = Simulator::open(Kind::Classic4K, &Options::default(), Some(&path)).unwrap();
    let mut card = again.card();
    exchange(card.as_mut(), "FF 82 00 00 06 FF FF FF FF FF FF");
    exchange(card.as_mut(), "FF 86 00 00 05 01 00 FE 60 00");
    assert_eq!(
        exchange(card.as_mut(), "FF B0 00 FE 10").0,
        (0..16).collect::<Vec<u8>>()
    );
    assert!(matches!(
        Simulator::open(Kind::Classic1K, &Options::default(), Some(&path)),
        Err(Error::WrongKind { .. })
    ));
}

#[test]
fn uids_are_checked_per_kind_and_a_chosen_ultralight_uid_is_reported() {
    let refused = |kind, uid: &[u8]| {
        let options = Options {
            uid: Some(uid.to_vec()),
            ..Options::default()
        };
        Simulator::check_options(kind, &options)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        refused(Kind::Ultralight, &[0x04, 1, 2, 3]),
        "simulated `ultralight` card: a MIFARE Ultralight UID has 7 bytes, got 4"
    );
    assert_eq!(
        refused(Kind::Ultralight, &[0x88, 1, 2, 3, 4, 5, 6]),
        "simulated `ultralight` card: a UID cannot start with 88, the cascade tag"
    );
    assert_eq!(
        refused(Kind::Classic1K, &[0x88, 1, 2, 3]),
        "simulated `classic-1k` card: a UID cannot start with 88, the cascade tag"
    );
    assert!(refused(Kind::Plus4K, &[1, 2, 3]).starts_with("simulated `plus-4k` card: "));

    let uid = vec![0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
    let options = Options {
        uid: Some(uid.clone()),
        ..Options::default()
    };
    let sim = Simulator::open(Kind::Ultralight, &options, None).unwrap();
    assert_eq!(
        exchange(sim.card().as_mut(), "FF CA 00 00 00"),
        (uid, StatusWord::OK)
    );
}

#[test]
fn saving_to_a_path_that_names_no_file_is_an_image_error() {
    let sim = Simulator::new(Kind::Iso7816, &Options::default());
    let err = sim.save(Path::new("/")).unwrap_err();
    assert!(matches!(err, Error::Image { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "card image `/`: the path does not name a file"
    );
}

/// The simulator builds ATRs (`frontend/atr.rs`, the chips' card names) and `reader::atr`
/// reads them for the guard, batches and scripts; the two must agree on every kind.
#[test]
fn every_kind_s_atr_reads_back_as_that_kind_in_reader_atr() {
    use crate::reader::atr::{card_name, is_iso14443_4, storage_card_name};
    let expected = [
        (Kind::Iso7816, None, false),
        (Kind::Iso7816T0, None, false),
        (Kind::Classic1K, Some(card_name::CLASSIC_1K), false),
        (Kind::Classic4K, Some(card_name::CLASSIC_4K), false),
        (Kind::Ultralight, Some(card_name::ULTRALIGHT), false),
        // A fresh MIFARE Plus is in SL0: an ISO 14443-4 card, no storage-card name.
        (Kind::Plus2K, None, true),
        (Kind::Plus4K, None, true),
        (Kind::Cos, None, false),
        (Kind::CosT1, None, false),
    ];
    assert_eq!(expected.len(), Kind::all().len());
    for (kind, name, iso14443_4) in expected {
        let card = Simulator::new(kind, &Options::default()).card();
        assert_eq!(storage_card_name(card.atr()), name, "{kind}");
        assert_eq!(is_iso14443_4(card.atr()), iso14443_4, "{kind}");
    }
    // After CommitPerso and a reset, a MIFARE Plus is a storage card in SL1.
    for (kind, name) in [
        (Kind::Plus2K, card_name::PLUS_SL1_2K),
        (Kind::Plus4K, card_name::PLUS_SL1_4K),
    ] {
        let mut card = Simulator::new(kind, &Options::default()).card();
        for [lo, hi] in [0x9000u16, 0x9001, 0x9003].map(u16::to_le_bytes) {
            let write_perso = [&[0xA8, lo, hi][..], &[0x11; 16]].concat();
            assert_eq!(card.transmit(&write_perso).unwrap(), [0x90], "{kind}");
        }
        assert_eq!(card.transmit(&[0xAA]).unwrap(), [0x90], "{kind}");
        card.reset().unwrap();
        assert_eq!(storage_card_name(card.atr()), Some(name), "{kind}");
    }
}

/// The CPLC of a card: `80 CA 9F 7F 00`, followed as `Card::exchange` does.
fn cplc(simulator: &Simulator) -> Vec<u8> {
    let command = crate::apdu::Command::new(0x80, 0xCA, 0x9F, 0x7F).with_le(256);
    let response = simulator.card().exchange(&command).unwrap();
    assert!(response.is_ok(), "{:?}", response);
    response.data
}

#[test]
fn contact_cards_answer_the_cplc_with_a_serial_per_position() {
    for kind in [Kind::Iso7816, Kind::Iso7816T0, Kind::Cos, Kind::CosT1] {
        let first = cplc(&Simulator::new(kind, &Options::in_stream(kind, 0, None)));
        assert_eq!(first.len(), 45, "{kind}");
        assert_eq!(first[..3], [0x9F, 0x7F, 0x2A]);
        assert_eq!(first, cplc(&Simulator::new(kind, &Options::default())));
        let serials: std::collections::HashSet<Vec<u8>> = (0..50)
            .map(|n| {
                cplc(&Simulator::new(kind, &Options::in_stream(kind, n, None)))[15..19].to_vec()
            })
            .collect();
        assert_eq!(serials.len(), 50, "{kind}");
        // On T=1 the whole answer arrives with Le 00; T=0 says 6C2D first.
        let raw = Simulator::new(kind, &Options::default())
            .card()
            .transmit(&[0x80, 0xCA, 0x9F, 0x7F, 0x00])
            .unwrap();
        match kind {
            Kind::Iso7816 | Kind::CosT1 => assert_eq!(raw.len(), 47),
            _ => assert_eq!(raw, [0x6C, 0x2D]),
        }
    }
}

#[test]
fn get_challenge_differs_per_fresh_card_unless_seeded() {
    let challenge = |options: &Options| {
        let command = crate::apdu::Command::new(0x00, 0x84, 0x00, 0x00).with_le(8);
        let card = Simulator::new(Kind::Iso7816, options);
        card.card().exchange(&command).unwrap().data
    };
    assert_ne!(
        challenge(&Options::default()),
        challenge(&Options::default())
    );
    let seeded = |position| Options::in_stream(Kind::Iso7816, position, Some(42));
    assert_eq!(challenge(&seeded(0)), challenge(&seeded(0)));
    assert_ne!(challenge(&seeded(0)), challenge(&seeded(1)));
    let other = Options::in_stream(Kind::Iso7816, 0, Some(43));
    assert_ne!(challenge(&seeded(0)), challenge(&other));
}
