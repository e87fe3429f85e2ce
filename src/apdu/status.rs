//! Status words (SW1 SW2) and what they mean (ISO 7816-4, protocols.md §8.4).
//!
//! [`StatusWord`] is a `u16` with a lookup table; `61xx`, `6Cxx` and `63Cx` are read with
//! their numbers. A status word other than 9000 is data here, never an error: deciding that
//! an SW is a failure is the job of an expectation ([`super::expect`]). These are the ISO
//! 7816-4 meanings; what a word means after a reader, Omnikey or GSM command is
//! [`super::Context`]'s (`describe_in`, `describe_after`).

use std::borrow::Cow;
use std::fmt;

// SW2 of `61xx` and `6Cxx` is a short Le: the same `00` means 256.
use super::command::short_le;

/// A status word, SW1 in the high byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusWord(pub u16);

/// The fixed entries of the ISO 7816-4 table (protocols.md §8.4), sorted by value. `61xx`, `63Cx` and `6Cxx`
/// carry a number and are described in [`StatusWord::describe`].
const TABLE: &[(u16, &str)] = &[
    (0x6200, "warning, NV memory unchanged"),
    (0x6281, "part of returned data may be corrupted"),
    (0x6282, "end of file/record before Le bytes"),
    (0x6283, "selected file deactivated/invalidated"),
    (0x6284, "FCI not formatted per 7816-4"),
    (0x6285, "selected file in termination state"),
    (0x6286, "no input data from a sensor"),
    (0x6300, "warning, NV memory changed, no information"),
    (0x6381, "file filled up by last write"),
    (
        0x6400,
        "execution error, NV memory unchanged (Omnikey: card did not answer)",
    ),
    (0x6401, "immediate response required"),
    (0x6581, "memory failure"),
    (0x6700, "wrong length"),
    (0x6800, "functions in CLA not supported"),
    (0x6881, "logical channel not supported"),
    (0x6882, "secure messaging not supported"),
    (0x6883, "last command of the chain expected"),
    (0x6884, "command chaining not supported"),
    (0x6900, "command not allowed"),
    (0x6981, "command incompatible with file structure"),
    (0x6982, "security status not satisfied"),
    (0x6983, "authentication method blocked"),
    (0x6984, "referenced data not usable"),
    (0x6985, "conditions of use not satisfied"),
    (0x6986, "command not allowed (no current EF)"),
    (0x6987, "expected secure messaging data objects missing"),
    (0x6988, "secure messaging data objects incorrect"),
    (0x6A80, "incorrect data field"),
    (0x6A81, "function not supported"),
    (0x6A82, "file or application not found"),
    (0x6A83, "record not found"),
    (0x6A84, "not enough memory space in the file"),
    (0x6A85, "Lc inconsistent with TLV structure"),
    (0x6A86, "incorrect parameters P1-P2"),
    (0x6A87, "Lc inconsistent with P1-P2"),
    (0x6A88, "referenced data not found"),
    (0x6A89, "file already exists"),
    (0x6A8A, "DF name already exists"),
    (0x6B00, "wrong parameters P1-P2 (offset outside the EF)"),
    (0x6D00, "instruction code not supported"),
    (0x6E00, "class not supported"),
    (0x6F00, "no precise diagnosis"),
    (0x9000, "OK"),
];

impl StatusWord {
    /// 90 00.
    pub const OK: StatusWord = StatusWord(0x9000);

    /// Builds a status word from its two bytes.
    pub fn new(sw1: u8, sw2: u8) -> StatusWord {
        StatusWord(u16::from_be_bytes([sw1, sw2]))
    }

    /// SW1.
    pub fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// SW2.
    pub fn sw2(self) -> u8 {
        self.0 as u8
    }

    /// Whether this is 90 00.
    pub fn is_ok(self) -> bool {
        self.0 == 0x9000
    }

    /// For `61xx`: how many bytes GET RESPONSE can fetch (`00` means 256).
    pub fn bytes_available(self) -> Option<usize> {
        (self.sw1() == 0x61).then(|| short_le(self.sw2()))
    }

    /// For `6Cxx`: the exact Le the card wants (`00` means 256).
    pub fn exact_length(self) -> Option<usize> {
        (self.sw1() == 0x6C).then(|| short_le(self.sw2()))
    }

    /// For `63Cx`: the counter value x (remaining tries, usually).
    pub fn counter(self) -> Option<u8> {
        (self.0 & 0xFFF0 == 0x63C0).then_some(self.sw2() & 0x0F)
    }

    /// What the status word means, or `None` when the table has no entry for it.
    pub fn meaning(self) -> Option<Cow<'static, str>> {
        if let Some(n) = self.bytes_available() {
            return Some(Cow::Owned(format!(
                "{n} more bytes available (GET RESPONSE)"
            )));
        }
        if let Some(n) = self.exact_length() {
            return Some(Cow::Owned(format!("wrong Le, exact length is {n}")));
        }
        if let Some(x) = self.counter() {
            let tries = if x == 1 { "try" } else { "tries" };
            return Some(Cow::Owned(format!(
                "verification failed, {x} {tries} left (counter {x})"
            )));
        }
        TABLE
            .binary_search_by_key(&self.0, |&(sw, _)| sw)
            .ok()
            .map(|i| Cow::Borrowed(TABLE[i].1))
    }

    /// What the status word means, or a fallback naming its class when the table has no entry.
    pub fn describe(self) -> Cow<'static, str> {
        if let Some(meaning) = self.meaning() {
            return meaning;
        }
        Cow::Borrowed(match self.sw1() {
            0x62 | 0x63 => "warning (unknown status word)",
            0x64..=0x66 => "execution error (unknown status word)",
            0x67..=0x6F => "checking error (unknown status word)",
            0x90..=0x9F => "proprietary status word",
            _ => "unknown status word",
        })
    }

    /// Every fixed entry of the table, for listings and tests.
    pub fn table() -> impl Iterator<Item = (StatusWord, &'static str)> {
        TABLE.iter().map(|&(sw, text)| (StatusWord(sw), text))
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({:04X})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(sw: u16, expected: &str) {
        assert_eq!(StatusWord(sw).describe(), expected, "{sw:04X}");
    }

    #[test]
    fn describes_fixed_entries() {
        check(0x9000, "OK");
        check(0x6A82, "file or application not found");
        check(0x6983, "authentication method blocked");
        check(
            0x6400,
            "execution error, NV memory unchanged (Omnikey: card did not answer)",
        );
        check(0x6F00, "no precise diagnosis");
    }

    #[test]
    fn reads_numbers_out_of_61xx_6cxx_63cx() {
        check(0x6110, "16 more bytes available (GET RESPONSE)");
        check(0x6100, "256 more bytes available (GET RESPONSE)");
        check(0x6C2C, "wrong Le, exact length is 44");
        check(0x63C2, "verification failed, 2 tries left (counter 2)");
        check(0x63C1, "verification failed, 1 try left (counter 1)");
        check(0x63C0, "verification failed, 0 tries left (counter 0)");
        assert_eq!(StatusWord(0x63C3).counter(), Some(3));
        assert_eq!(StatusWord(0x6300).counter(), None);
    }

    #[test]
    fn table_is_sorted_and_complete() {
        let sws: Vec<u16> = TABLE.iter().map(|&(sw, _)| sw).collect();
        let mut sorted = sws.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sws, sorted,
            "the table must be sorted for the binary search"
        );
        assert_eq!(StatusWord::table().count(), 43);
    }

    #[test]
    fn falls_back_to_the_class() {
        check(0x6A99, "checking error (unknown status word)");
        check(0x9100, "proprietary status word");
        check(0x1234, "unknown status word");
    }
}
