//! The UID (from pages, and for positions in a stream of tags) and card images.

use std::collections::HashSet;

use super::{UID, numbered, page, tag};
use crate::mifare::ultralight::uid_from_pages;
use crate::sim::ultralight::Ultralight;

#[test]
fn uid_is_read_from_the_serial_pages_even_with_a_bad_check_byte() {
    let mut pages = *tag().pages();
    pages[0][3] ^= 0xFF;
    let bad = Ultralight::from_pages(pages);
    assert_eq!(bad.uid(), UID);
    assert!(uid_from_pages(&bad.pages().concat()).is_err());
}

#[test]
fn uids_for_positions_are_nxp_distinct_and_never_use_the_cascade_tag_as_sn3() {
    let mut seen = HashSet::new();
    for position in (0..100_000).chain([1 << 40, (1 << 40) + 1, 254 << 40, u64::MAX]) {
        let uid = Ultralight::uid_for(position);
        assert_eq!(uid[0], 0x04, "{position}");
        assert_ne!(uid[3], 0x88, "{position}");
        assert!(seen.insert(uid), "{position} repeats a UID");
        let tag = Ultralight::new(uid);
        assert_eq!(uid_from_pages(&tag.pages().concat()), Ok(uid));
    }
    assert_eq!(Ultralight::uid_for(7), Ultralight::uid_for(7));
    // 255 × 2^40 positions, then the stream repeats.
    assert_eq!(Ultralight::uid_for(0), Ultralight::uid_for(255 << 40));
}

#[test]
fn images_store_pages_as_hex_and_round_trip() {
    let mut tag = numbered();
    tag.write_page(2, page("00 00 30 00")).unwrap();
    let value = serde_json::to_value(&tag).unwrap();
    assert_eq!(value["pages"][0], "04 E1 5C 31");
    assert_eq!(value["pages"][2], "2B 48 30 00");
    assert_eq!(value["pages"].as_array().unwrap().len(), 16);
    assert_eq!(Ultralight::from_image(value).unwrap(), tag);
}

#[test]
fn images_of_the_wrong_shape_are_refused_with_a_reason() {
    let good = serde_json::to_value(tag()).unwrap();
    let with_pages = |pages: serde_json::Value| serde_json::json!({ "pages": pages });
    let mut fifteen = good["pages"].as_array().unwrap().clone();
    fifteen.pop();
    let mut short_page = good["pages"].as_array().unwrap().clone();
    short_page[9] = "00 00 00".into();
    let mut bad_hex = good["pages"].as_array().unwrap().clone();
    bad_hex[4] = "00 0G 00 00".into();
    let mut unknown = good.clone();
    unknown["uid"] = "04".into();
    for (image, expected) in [
        (
            with_pages(fifteen.into()),
            "an Ultralight image has 16 pages, found 15",
        ),
        (
            with_pages(short_page.into()),
            "page 9 has 3 bytes, expected 4",
        ),
        (with_pages(bad_hex.into()), "column"),
        (unknown, "unknown field `uid`"),
        (serde_json::json!([1, 2]), "invalid type"),
        (serde_json::json!({}), "missing field `pages`"),
    ] {
        let err = Ultralight::from_image(image).unwrap_err();
        assert!(err.contains(expected), "{err}");
    }
    // A check byte that does not match is a state a tag can be in, so it loads.
    let mut bad_bcc = good.clone();
    bad_bcc["pages"][0] = "04 E1 5C 00".into();
    assert_eq!(Ultralight::from_image(bad_bcc).unwrap().pages()[0][3], 0x00);
}
