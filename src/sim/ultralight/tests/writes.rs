//! The page rules of WRITE (protocols.md §6.2–§6.3), through the page-level method.

use super::{page, tag};
use crate::apdu::hex;
use crate::sim::ultralight::Nak;

/// One rule: `setup` is earlier writes (`"2=00 00 10 00, 3=01 00 00 00"`), then `data` is
/// written to `target`; `outcome` is `ACK` or `NAK`, `after` the target page afterwards
/// (empty for a page that does not exist).
struct Case {
    setup: &'static str,
    target: u8,
    data: &'static str,
    outcome: &'static str,
    after: &'static str,
}

const fn case(
    setup: &'static str,
    target: u8,
    data: &'static str,
    outcome: &'static str,
    after: &'static str,
) -> Case {
    Case {
        setup,
        target,
        data,
        outcome,
        after,
    }
}

const CASES: &[Case] = &[
    // Pages 0-1 hold the serial number; there is no page 16.
    case("", 0, "00 00 00 00", "NAK", "04 E1 5C 31"),
    case("", 1, "FF FF FF FF", "NAK", "32 A6 3F 80"),
    case("", 16, "01 02 03 04", "NAK", ""),
    case("", 255, "01 02 03 04", "NAK", ""),
    // User pages take the data as it is, until their lock bit is set.
    case("", 4, "DE AD BE EF", "ACK", "DE AD BE EF"),
    case("4=01 01 01 01", 4, "00 00 00 00", "ACK", "00 00 00 00"),
    case("2=00 00 10 00", 4, "DE AD BE EF", "NAK", "00 00 00 00"),
    case("2=00 00 00 80", 15, "DE AD BE EF", "NAK", "00 00 00 00"),
    case("2=00 00 00 80", 14, "DE AD BE EF", "ACK", "DE AD BE EF"),
    // Page 2: bytes 0-1 never change, lock bits are only ever ORed in.
    case("", 2, "FF FF 00 00", "ACK", "2B 48 00 00"),
    case("", 2, "00 00 F0 01", "ACK", "2B 48 F0 01"),
    case("2=00 00 F0 00", 2, "00 00 00 0F", "ACK", "2B 48 F0 0F"),
    case("2=00 00 F0 00", 2, "00 00 00 00", "ACK", "2B 48 F0 00"),
    // Block-lock bits freeze lock bits; the write is still acknowledged. BL 9-4:
    case("2=00 00 02 00", 2, "00 00 F0 FF", "ACK", "2B 48 02 FC"),
    // BL 15-10:
    case("2=00 00 04 00", 2, "00 00 F8 FF", "ACK", "2B 48 FC 03"),
    // BL-OTP:
    case("2=00 00 01 00", 2, "00 00 08 00", "ACK", "2B 48 01 00"),
    // Page 3 (OTP): a bitwise OR, refused once L-OTP (lock bit 3) is set.
    case("3=01 00 00 80", 3, "02 00 00 00", "ACK", "03 00 00 80"),
    case("3=01 00 00 80", 3, "00 00 00 00", "ACK", "01 00 00 80"),
    case(
        "3=01 00 00 00, 2=00 00 08 00",
        3,
        "FF FF FF FF",
        "NAK",
        "01 00 00 00",
    ),
];

#[test]
fn writes_follow_the_page_rules() {
    for (i, c) in CASES.iter().enumerate() {
        let mut tag = tag();
        for step in c.setup.split(", ").filter(|s| !s.is_empty()) {
            let (n, bytes) = step.split_once('=').unwrap();
            tag.write_page(n.parse().unwrap(), page(bytes)).unwrap();
        }
        let result = tag.write_page(c.target, page(c.data));
        let expected = match c.outcome {
            "ACK" => Ok(()),
            _ => Err(Nak::InvalidArgument),
        };
        assert_eq!(result, expected, "case {i}: page {}", c.target);
        let after = tag.pages().get(usize::from(c.target));
        assert_eq!(
            after.map_or(String::new(), |p| hex::format(p)),
            c.after,
            "case {i}: page {}",
            c.target
        );
    }
}
