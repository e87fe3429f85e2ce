//! Which bytes of a MIFARE Plus WritePerso are secret: the data sent to a key address
//! (`4000`–`4FFF`, `9000`–`9FFF`, `A000`–`AFFF`, `C000`–`CFFF`, protocols.md §3.3), whether the
//! command goes to the card directly (`A8 <addr LE> <data>`, §3.6 A) or inside an Omnikey
//! transceive with any timeout bytes, unframed or as an I-block with or without CID and NAD
//! (§1.1, §3.6 B): where the command sits is the framing decoder's answer
//! ([`crate::reader::framing::native_span`]), the same decoder the guard and the simulator use.
//!
//! Only the byte range is decided here; masking it is the trace's job. Block data (the
//! MIFARE Classic image, trailers included) is not masked by kind: Crypto1 keys in a trailer
//! are masked when the script loaded them as secrets, like any other secret bytes.

use std::ops::Range;

use crate::mifare::plus::{is_key_address, write_perso_address};
use crate::reader::framing::native_span;

/// The range of `apdu` that holds WritePerso key data, if any.
pub(super) fn write_perso_key_data(apdu: &[u8]) -> Option<Range<usize>> {
    // The command ends where Lc says: a trailing Le is not data.
    let span = native_span(apdu)?;
    key_data(apdu, span.start, span.end)
}

/// The data of a WritePerso starting at `start` and ending at `end`, when it goes to a key
/// address and is not empty.
fn key_data(apdu: &[u8], start: usize, end: usize) -> Option<Range<usize>> {
    let addr = write_perso_address(apdu.get(start..end)?)?;
    let data = start + 3..end;
    (is_key_address(addr) && !data.is_empty()).then_some(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::hex;

    const KEY: &str = "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F";

    #[track_caller]
    fn masked(apdu: &str) -> Option<String> {
        let bytes = hex::parse(apdu).unwrap();
        write_perso_key_data(&bytes).map(|r| hex::format(&bytes[r]))
    }

    /// Every wrapping the decoder reads, the key data found exactly (issue 11: a NAD byte and
    /// other timeout bytes hid it).
    #[test]
    fn key_data_is_found_in_every_wrapping() {
        for apdu in [
            format!("A8 00 90 {KEY}"),
            format!("FF A0 00 05 19 01 00 F3 00 12 34 A8 00 90 {KEY} 00"),
            format!("FF A0 00 05 19 01 00 F3 00 00 64 A8 00 90 {KEY}"),
            format!("FF A0 00 05 1A 01 00 F3 00 FF FF 03 A8 00 90 {KEY} 00"),
            format!("FF A0 00 05 1B 01 00 F3 00 00 64 06 12 A8 00 90 {KEY} 00"),
            format!("FF A0 00 05 1C 01 00 F3 00 00 00 0E 01 12 A8 00 90 {KEY} 00"),
            // A chain's first part: the key bytes it carries.
            format!("FF A0 00 05 1A 01 00 F3 00 00 64 12 A8 00 90 {KEY} 00"),
        ] {
            assert_eq!(masked(&apdu).as_deref(), Some(KEY), "{apdu}");
        }
        // EV1 multi-block to keys: all of its data.
        let two = format!("{KEY} {KEY}");
        assert_eq!(masked(&format!("A8 00 40 {two}")), Some(two));
        // Block data is not key data.
        assert_eq!(masked(&format!("A8 04 00 {KEY}")), None);
    }
}
