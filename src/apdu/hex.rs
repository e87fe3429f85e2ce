//! Hex text <-> bytes, the way people type APDUs.
//!
//! Accepts `00 A4 04 00`, `00A40400` and `00:a4:04:00` (any case, spaces, tabs or colons
//! between digits). Errors carry the 1-based column of the offending character so the caller
//! can point at it. Formatting is the one user-facing form: uppercase, space-separated.
//! This module does not know what the bytes mean.

/// What is wrong with a hex string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// A character that is neither a hex digit nor a separator.
    #[error("column {column}: `{found}` is not a hex digit")]
    BadChar {
        /// 1-based column (in characters) of the bad character.
        column: usize,
        /// The character found there.
        found: char,
    },
    /// A separator splits a byte, or the digits do not pair up.
    #[error("column {column}: odd number of hex digits ({digits})")]
    OddDigits {
        /// 1-based column of the digit left without a partner.
        column: usize,
        /// How many digits the text has.
        digits: usize,
    },
}

impl HexError {
    /// The message without its `column N: ` prefix, for callers that place the column in a
    /// position of their own (`file:line:column`).
    pub fn reason(&self) -> String {
        match self {
            HexError::BadChar { found, .. } => format!("`{found}` is not a hex digit"),
            HexError::OddDigits { digits, .. } => format!("odd number of hex digits ({digits})"),
        }
    }

    /// The 1-based column the error points at.
    pub fn column(&self) -> usize {
        match self {
            HexError::BadChar { column, .. } | HexError::OddDigits { column, .. } => *column,
        }
    }
}

fn is_separator(c: char) -> bool {
    c == ' ' || c == '\t' || c == ':' || c == '\n' || c == '\r'
}

fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parses hex text into bytes.
///
/// Separators (space, tab, colon, newline) may stand between bytes but not inside one:
/// `0 0A4` is an odd-digit error at the `0` left alone.
pub fn parse(text: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    // The first digit of a byte that waits for its partner, with its column.
    let mut high: Option<(u8, usize)> = None;
    let mut digits = 0usize;
    for (index, c) in text.chars().enumerate() {
        let column = index + 1;
        if is_separator(c) {
            if let Some((_, col)) = high {
                return Err(HexError::OddDigits {
                    column: col,
                    digits: count_digits(text),
                });
            }
            continue;
        }
        let value = u8::try_from(c)
            .ok()
            .and_then(digit)
            .ok_or(HexError::BadChar { column, found: c })?;
        digits += 1;
        match high.take() {
            None => high = Some((value, column)),
            Some((h, _)) => out.push(h << 4 | value),
        }
    }
    if let Some((_, column)) = high {
        return Err(HexError::OddDigits { column, digits });
    }
    Ok(out)
}

fn count_digits(text: &str) -> usize {
    text.chars().filter(|c| c.is_ascii_hexdigit()).count()
}

/// Formats bytes as uppercase hex pairs separated by single spaces: `00 A4 04 00`.
pub fn format(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, &b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        push_pair(&mut s, b);
    }
    s
}

/// Appends one byte as two uppercase hex digits. Printing a scriptor file formats every
/// byte sent and received; going through `format!` for each cost more than the rest of the
/// run's own work per APDU.
pub fn push_pair(out: &mut String, byte: u8) {
    let [high, low] = digits(byte);
    out.push(high);
    out.push(low);
}

/// The two uppercase hex digits of a byte.
pub fn digits(byte: u8) -> [char; 2] {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    [
        char::from(DIGITS[usize::from(byte >> 4)]),
        char::from(DIGITS[usize::from(byte & 0x0F)]),
    ]
}

/// Formats bytes as uppercase hex with no separators: `00A40400`.
pub fn format_compact(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn ok(text: &str, expected: &[u8]) {
        assert_eq!(parse(text).as_deref(), Ok(expected), "input {text:?}");
    }

    #[track_caller]
    fn err(text: &str, expected: HexError) {
        assert_eq!(parse(text), Err(expected), "input {text:?}");
    }

    #[test]
    fn accepts_the_three_spellings() {
        ok("00 A4 04 00", &[0x00, 0xA4, 0x04, 0x00]);
        ok("00A40400", &[0x00, 0xA4, 0x04, 0x00]);
        ok("00:a4:04:00", &[0x00, 0xA4, 0x04, 0x00]);
        ok("  ff\tca 00  00 00 ", &[0xFF, 0xCA, 0, 0, 0]);
        ok("", &[]);
    }

    #[test]
    fn reports_the_column_of_a_bad_character() {
        err(
            "00 A4 0G 00",
            HexError::BadChar {
                column: 8,
                found: 'G',
            },
        );
        err(
            "00A4é0",
            HexError::BadChar {
                column: 5,
                found: 'é',
            },
        );
        err(
            "0x00",
            HexError::BadChar {
                column: 2,
                found: 'x',
            },
        );
    }

    #[test]
    fn reports_odd_digit_counts() {
        err(
            "00 A4 0",
            HexError::OddDigits {
                column: 7,
                digits: 5,
            },
        );
        err(
            "0 0A4",
            HexError::OddDigits {
                column: 1,
                digits: 4,
            },
        );
        err(
            "A",
            HexError::OddDigits {
                column: 1,
                digits: 1,
            },
        );
    }

    #[test]
    fn formats_uppercase_spaced() {
        assert_eq!(format(&[0x00, 0xa4, 0x0c]), "00 A4 0C");
        assert_eq!(format(&[]), "");
        assert_eq!(format_compact(&[0xde, 0xad]), "DEAD");
        for byte in 0..=u8::MAX {
            assert_eq!(format(&[byte]), std::format!("{byte:02X}"));
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse(&s);
        }
        #[test]
        fn the_reason_is_the_message_after_its_column(s in "[0-9a-fA-F :g]{0,12}") {
            if let Err(e) = parse(&s) {
                proptest::prop_assert_eq!(
                    std::format!("column {}: {}", e.column(), e.reason()),
                    e.to_string()
                );
            }
        }

        #[test]
        fn format_then_parse_is_identity(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            proptest::prop_assert_eq!(parse(&format(&bytes)).unwrap(), bytes.clone());
            proptest::prop_assert_eq!(parse(&format_compact(&bytes)).unwrap(), bytes);
        }
    }
}
