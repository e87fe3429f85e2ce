//! Tests of the Ultralight chip (protocols.md §6), one file per area: `writes` (page rules),
//! `frames` (layer-3 frames, compatibility write, random frames), `identity` (UIDs, images).

mod frames;
mod identity;
mod writes;

use super::{Nak, Page, Ultralight};
use crate::apdu::hex;
use crate::mifare::ultralight::uid_from_pages;

const UID: [u8; 7] = [0x04, 0xE1, 0x5C, 0x32, 0xA6, 0x3F, 0x80];

fn tag() -> Ultralight {
    Ultralight::new(UID)
}

fn page(text: &str) -> Page {
    Page::try_from(hex::parse(text).unwrap().as_slice()).unwrap()
}

/// A tag whose pages 4–15 hold their own page number in every byte.
fn numbered() -> Ultralight {
    let mut tag = tag();
    for n in 4..16 {
        tag.write_page(n, [n; 4]).unwrap();
    }
    tag
}

/// Sends each frame and checks the answer; `"-"` stands for no answer.
#[track_caller]
fn frames(tag: &mut Ultralight, steps: &[(&str, &str)]) {
    for (i, (frame, expected)) in steps.iter().enumerate() {
        let answer = tag.frame(&hex::parse(frame).unwrap());
        let shown = answer.map_or("-".to_string(), |a| hex::format(&a));
        assert_eq!(&shown, expected, "step {i}: {frame}");
    }
}

#[test]
fn a_new_tag_has_uid_check_bytes_int_and_blank_pages() {
    let tag = tag();
    let pages: Vec<String> = tag.pages().iter().map(|p| hex::format(p)).collect();
    assert_eq!(
        pages[..4],
        ["04 E1 5C 31", "32 A6 3F 80", "2B 48 00 00", "00 00 00 00"]
    );
    assert!(pages[4..].iter().all(|p| p == "00 00 00 00"));
    assert_eq!(tag.uid(), UID);
    assert_eq!(tag.lock_bytes(), (0, 0));
    assert_eq!(uid_from_pages(&tag.pages().concat()), Ok(UID));
}

#[test]
fn read_returns_four_pages_and_wraps_after_page_15() {
    let mut tag = numbered();
    frames(
        &mut tag,
        &[
            ("30 04", "04 04 04 04 05 05 05 05 06 06 06 06 07 07 07 07"),
            ("30 0E", "0E 0E 0E 0E 0F 0F 0F 0F 04 E1 5C 31 32 A6 3F 80"),
            ("30 0F", "0F 0F 0F 0F 04 E1 5C 31 32 A6 3F 80 2B 48 00 00"),
            ("30 10", "00"),
            ("30 FF", "00"),
        ],
    );
    assert_eq!(tag.read1(15), Ok([15; 4]));
    assert_eq!(tag.read1(16), Err(Nak::InvalidArgument));
    assert_eq!(tag.read4(0).unwrap()[..9], tag.pages().concat()[..9]);
}
