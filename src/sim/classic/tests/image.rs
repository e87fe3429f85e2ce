//! Fresh cards, UIDs (default, numbered, 7 bytes) and card images.

use std::collections::HashSet;

use serde_json::json;

use super::super::{check_uid, uid_for_position};
use super::{Classic, FACTORY, auth, read, send, write};
use crate::mifare::classic::Layout;
use crate::sim::frontend::Frontend;

#[test]
fn the_default_uid_is_deterministic_and_numbered_uids_differ() {
    let a = Classic::new(Layout::OneK, None);
    let b = Classic::new(Layout::OneK, None);
    assert_eq!(a.uid, b.uid);
    assert_eq!(a.uid, uid_for_position(0));
    let uids: HashSet<[u8; 4]> = (0..100_000).map(uid_for_position).collect();
    assert_eq!(uids.len(), 100_000);
    assert!(uids.iter().all(|u| check_uid(u).is_ok()));
    assert_eq!(
        uid_for_position(1 << 24),
        uid_for_position(0),
        "period 2^24"
    );
}

#[test]
fn uids_have_4_or_7_bytes_and_never_start_with_the_cascade_tag() {
    assert!(check_uid(&[1, 2, 3, 4]).is_ok());
    assert!(check_uid(&[4, 1, 2, 3, 4, 5, 6]).is_ok());
    assert_eq!(
        check_uid(&[1, 2, 3]).unwrap_err(),
        "a MIFARE Classic UID has 4 or 7 bytes, got 3"
    );
    assert!(check_uid(&[0x88, 2, 3, 4]).is_err());
    assert!(check_uid(&[]).is_err());
    // An unusable UID falls back to the default one.
    assert_eq!(
        Classic::new(Layout::OneK, Some(&[1, 2, 3])).uid,
        uid_for_position(0)
    );
}

#[test]
fn a_seven_byte_uid_has_no_bcc_and_a_double_size_atqa() {
    let uid = [0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
    let mut fe = Frontend::new(Classic::new(Layout::FourK, Some(&uid)));
    assert_eq!(send(&mut fe, "FF CA 00 00 00").0, "04 11 22 33 44 55 66");
    assert_eq!(auth(&mut fe, 1, 'A', FACTORY), 0x9000);
    assert_eq!(
        read(&mut fe, 0).0,
        "04 11 22 33 44 55 66 18 42 00 41 50 44 55 2D 52"
    );
}

#[test]
fn images_round_trip_and_bad_ones_are_refused() {
    let mut fe = Frontend::new(Classic::new(Layout::OneK, Some(&[0x11, 0x22, 0x33, 0x44])));
    assert_eq!(auth(&mut fe, 4, 'A', FACTORY), 0x9000);
    assert_eq!(write(&mut fe, 5, &[0x5A; 16]), 0x9000);
    let image = serde_json::to_value(&fe).unwrap();
    assert_eq!(image["uid"], "11 22 33 44");
    assert_eq!(image["blocks"].as_array().unwrap().len(), 64);
    assert_eq!(
        image["blocks"][0],
        "11 22 33 44 44 08 04 00 41 50 44 55 2D 52 55 4E"
    );
    assert_eq!(
        image["blocks"][3],
        "FF FF FF FF FF FF FF 07 80 69 FF FF FF FF FF FF"
    );
    let loaded = Classic::from_image(Layout::OneK, image.clone()).unwrap();
    assert_eq!(loaded.block(5), [0x5A; 16]);
    assert_eq!(loaded.uid, [0x11, 0x22, 0x33, 0x44]);
    assert_eq!(
        Classic::from_image(Layout::FourK, image.clone()).unwrap_err(),
        "a MIFARE Classic 4K has 256 blocks, the image has 64"
    );

    let broken = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut bad = image.clone();
        edit(&mut bad);
        Classic::from_image(Layout::OneK, bad).unwrap_err()
    };
    assert_eq!(
        broken(&|v| v["blocks"][0] = json!("11 22 33 44 00 08 04 00 00 00 00 00 00 00 00 00")),
        "block 0 BCC is 00, expected 44 (XOR of the UID bytes)"
    );
    assert_eq!(
        broken(&|v| v["uid"] = json!("11 22 33 45")),
        "block 0 does not start with the UID"
    );
    assert_eq!(
        broken(&|v| v["uid"] = json!("11 22 33")),
        "uid: a MIFARE Classic UID has 4 or 7 bytes, got 3"
    );
    assert_eq!(
        broken(&|v| v["blocks"][9] = json!("00")),
        "block 9 has 1 bytes, expected 16"
    );
    assert!(broken(&|v| v["keys"] = json!([])).contains("unknown field `keys`"));
    // A dead sector is a valid card.
    let dead = broken_ok(&image, 7, "FF FF FF FF FF FF FF 07 81 69 FF FF FF FF FF FF");
    assert!(dead.is_ok());
}

fn broken_ok(image: &serde_json::Value, block: usize, hex: &str) -> Result<Classic, String> {
    let mut v = image.clone();
    v["blocks"][block] = json!(hex);
    Classic::from_image(Layout::OneK, v)
}
