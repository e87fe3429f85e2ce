//! The persistent state as an image: round trip, and refusal of inconsistent images.

use serde_json::{Value, json};

use super::{SELECT_APP, VERIFY_WRONG, run, t1};
use crate::sim::iso7816::{FileCard, Protocol};

/// The demo card's image with `edit` applied, loaded back.
fn load_edited(edit: impl FnOnce(&mut Value)) -> Result<FileCard, String> {
    let mut image = serde_json::to_value(t1()).unwrap();
    edit(&mut image);
    FileCard::from_image(Protocol::T1, image)
}

#[test]
fn image_round_trip_keeps_files_records_and_counters() {
    let mut card = t1();
    run(
        &mut card,
        &[
            (SELECT_APP, "90 00"),
            ("00 D6 81 00 02 AA BB", "90 00"),
            (
                "00 DC 01 14 10 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11",
                "90 00",
            ),
            ("00 E0 00 00 09 62 07 82 01 38 83 02 60 00", "90 00"),
            (VERIFY_WRONG, "63 C2"),
            ("00 84 00 00 08", "XX XX XX XX XX XX XX XX 90 00"),
        ],
    );
    let image = serde_json::to_value(&card).unwrap();
    let mut copy = FileCard::from_image(Protocol::T1, image.clone()).unwrap();
    assert_eq!(copy.state, card.state);
    assert_eq!(serde_json::to_value(&copy).unwrap(), image);
    let challenge = [0x00, 0x84, 0x00, 0x00, 0x08];
    assert_eq!(copy.transmit(&challenge), card.transmit(&challenge));
    run(
        &mut copy,
        &[
            ("00 20 00 01", "63 C2"),
            (SELECT_APP, "90 00"),
            ("00 B0 81 00 03", "AA BB 02 90 00"),
            ("00 B2 01 14 02", "11 11 90 00"),
            ("00 A4 01 0C 02 60 00", "90 00"),
        ],
    );
}

#[test]
fn image_is_readable_json_with_hex_strings() {
    let image = serde_json::to_value(t1()).unwrap();
    assert_eq!(
        image["pin"],
        json!({"value": "31 32 33 34", "max-tries": 3, "tries-left": 3})
    );
    assert_eq!(
        image["files"][0],
        json!({"fid": "3F00", "read": "always", "update": "always", "body": {"type": "df"}})
    );
    assert_eq!(image["files"][2]["update"], json!({"pin": 1}));
    assert_eq!(image["files"][3]["name"], "A0 00 00 02 47 10 01");
    let records = &image["files"][5]["body"];
    assert_eq!(records["type"], "linear-fixed");
    assert_eq!(
        records["records"][2],
        "03 03 03 03 03 03 03 03 03 03 03 03 03 03 03 03"
    );
}

#[track_caller]
fn rejected(edit: impl FnOnce(&mut Value), expected: &str) {
    match load_edited(edit) {
        Ok(_) => panic!("image accepted, expected: {expected}"),
        Err(message) => assert!(message.contains(expected), "{message:?} lacks {expected:?}"),
    }
}

#[test]
fn inconsistent_images_are_refused() {
    rejected(|i| i["files"] = json!([]), "empty");
    rejected(|i| i["files"][0]["fid"] = json!("3F01"), "must be the MF");
    rejected(
        |i| i["files"][1]["parent"] = json!(7),
        "parent must be a DF",
    );
    rejected(
        |i| i["files"][4]["parent"] = json!(1),
        "parent must be a DF",
    );
    rejected(
        |i| i["files"][2]["fid"] = json!("2F00"),
        "same DF has this identifier",
    );
    rejected(|i| i["files"][1]["fid"] = json!("3FFF"), "reserved");
    rejected(
        |i| i["files"][1]["name"] = json!("A0 00"),
        "only a DF has a name",
    );
    rejected(|i| i["files"][3]["sfi"] = json!(3), "only an EF has an SFI");
    rejected(|i| i["files"][5]["sfi"] = json!(1), "has SFI 1");
    rejected(
        |i| i["files"][5]["body"]["records"][0] = json!("01"),
        "every record must be 16 bytes",
    );
    rejected(
        |i| i["files"][5]["body"]["max-records"] = json!(2),
        "more records",
    );
    rejected(|i| i["files"][1]["read"] = json!({"pin": 3}), "names PIN 3");
    rejected(
        |i| i["files"][1]["body"]["data"] = json!("0G"),
        "not a hex digit",
    );
    rejected(|i| i["files"][1]["fid"] = json!("2F"), "expected 2");
    rejected(|i| i["puk"]["tries-left"] = json!(11), "PUK: tries");
    rejected(|i| i["pin"]["value"] = json!(""), "PIN: the value");
    rejected(
        |i| i["pin"]["colour"] = json!("red"),
        "unknown field `colour`",
    );
    rejected(|i| i["rng"] = json!("x"), "invalid type");
}

#[test]
fn images_beyond_the_cards_limits_are_refused() {
    let ef = |fid: u16, size: usize| {
        json!({
            "fid": format!("{fid:04X}"), "parent": 0, "read": "always", "update": "always",
            "body": {"type": "transparent", "data": "00".repeat(size)},
        })
    };
    rejected(
        |i| i["files"][1] = ef(0x2F00, 0x8000),
        "a transparent EF holds at most 32767 bytes",
    );
    rejected(
        |i| {
            let files = i["files"].as_array_mut().unwrap();
            files.extend((0..3).map(|n| ef(0x7000 + n, 0x7FFF)));
        },
        "files take 98697 bytes, the card holds 65536",
    );
    rejected(
        |i| {
            let files = i["files"].as_array_mut().unwrap();
            files.extend((0..251).map(|n| ef(0x7000 + n, 1)));
        },
        "257 files, the card holds 256",
    );
    rejected(
        |i| i["files"][5]["body"]["max-records"] = json!(0),
        "records must be 1..=255 bytes, 1..=254 of them",
    );
    rejected(
        |i| {
            i["files"][1] = json!({"fid": "5001", "parent": 0, "name": "A0 00 00 02 47 10 01",
            "read": "always", "update": "always", "body": {"type": "df"}})
        },
        "another DF has this name",
    );
}
