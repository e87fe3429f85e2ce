//! Expectations a user writes about a response: status-word patterns and data masks.
//!
//! * A status-word pattern is four hex digits where any digit may be a wildcard (`X`, `x`
//!   or `?`): `9000`, `61XX`, `63CX`, `6A8?`. Alternatives are joined with `|`:
//!   `9000|6282`.
//! * A data mask is hex where `XX` (or `??`, or one wildcard nibble) matches anything:
//!   `XX XX 90 XX`. The response must have exactly the mask's length.
//!
//! Parse errors carry the 1-based column of the offending character. This module decides
//! whether a response matches; turning a mismatch into a failure is the caller's job.

use std::fmt;

use super::StatusWord;

/// Why an expectation text does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct PatternError {
    /// 1-based column of the problem.
    pub column: usize,
    /// What is wrong there.
    pub message: String,
}

fn is_wild(c: char) -> bool {
    matches!(c, 'X' | 'x' | '?')
}

/// One status-word pattern with nibble wildcards.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SwPattern {
    value: u16,
    /// Bits that must match; a wildcard nibble is 0 here.
    care: u16,
}

impl SwPattern {
    /// A pattern that matches exactly one status word.
    pub fn exact(sw: StatusWord) -> SwPattern {
        SwPattern {
            value: sw.0,
            care: 0xFFFF,
        }
    }

    /// Whether `sw` matches.
    pub fn matches(self, sw: StatusWord) -> bool {
        sw.0 & self.care == self.value
    }

    /// Parses four digits or wildcards, spaces allowed; `offset` is added to columns.
    fn parse_at(text: &str, offset: usize) -> Result<SwPattern, PatternError> {
        let mut value = 0u16;
        let mut care = 0u16;
        let mut nibbles = 0;
        let mut last_column = offset;
        for (i, c) in text.chars().enumerate() {
            let column = offset + i + 1;
            if c == ' ' {
                continue;
            }
            last_column = column;
            if nibbles == 4 {
                return Err(PatternError {
                    column,
                    message: format!(
                        "status word pattern `{}` has more than 4 digits",
                        text.trim()
                    ),
                });
            }
            value <<= 4;
            care <<= 4;
            if let Some(d) = c.to_digit(16) {
                value |= d as u16;
                care |= 0xF;
            } else if !is_wild(c) {
                return Err(PatternError {
                    column,
                    message: format!("`{c}` is not a hex digit or wildcard (X, ?)"),
                });
            }
            nibbles += 1;
        }
        if nibbles != 4 {
            return Err(PatternError {
                column: last_column.max(offset + 1),
                message: format!(
                    "status word pattern `{}` needs 4 digits, found {nibbles}",
                    text.trim()
                ),
            });
        }
        Ok(SwPattern { value, care })
    }
}

impl fmt::Display for SwPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for shift in [12, 8, 4, 0] {
            if (self.care >> shift) & 0xF == 0 {
                f.write_str("X")?;
            } else {
                write!(f, "{:X}", (self.value >> shift) & 0xF)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for SwPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SwPattern({self})")
    }
}

/// A set of alternative status-word patterns; matches when any alternative does.
#[derive(Clone, PartialEq, Eq)]
pub struct SwExpectation {
    alternatives: Vec<SwPattern>,
}

impl SwExpectation {
    /// Expects exactly 90 00.
    pub fn ok() -> SwExpectation {
        SwExpectation {
            alternatives: vec![SwPattern::exact(StatusWord::OK)],
        }
    }

    /// Builds an expectation from patterns; an empty list matches nothing.
    pub fn any_of(alternatives: Vec<SwPattern>) -> SwExpectation {
        SwExpectation { alternatives }
    }

    /// Parses `9000`, `61XX`, `9000|6282` (spaces around `|` allowed).
    pub fn parse(text: &str) -> Result<SwExpectation, PatternError> {
        let mut alternatives = Vec::new();
        let mut offset = 0;
        for part in text.split('|') {
            alternatives.push(SwPattern::parse_at(part, offset)?);
            offset += part.chars().count() + 1;
        }
        Ok(SwExpectation { alternatives })
    }

    /// Parses several texts (an array in a script or profile), each of which may hold `|`.
    pub fn parse_all<'a>(
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<SwExpectation, PatternError> {
        let mut alternatives = Vec::new();
        for text in texts {
            alternatives.extend(SwExpectation::parse(text)?.alternatives);
        }
        Ok(SwExpectation { alternatives })
    }

    /// Whether `sw` matches one of the alternatives.
    pub fn matches(&self, sw: StatusWord) -> bool {
        self.alternatives.iter().any(|p| p.matches(sw))
    }
}

impl fmt::Display for SwExpectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SwExpectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SwExpectation({self})")
    }
}

/// A mask over response data: per byte a value and which bits must match.
#[derive(Clone, PartialEq, Eq)]
pub struct DataMask {
    bytes: Vec<(u8, u8)>,
}

impl DataMask {
    /// Parses hex where `XX`, `??` or a single wildcard nibble match anything.
    pub fn parse(text: &str) -> Result<DataMask, PatternError> {
        let mut bytes = Vec::new();
        let mut pending: Option<(u8, u8, usize)> = None;
        for (i, c) in text.chars().enumerate() {
            let column = i + 1;
            if matches!(c, ' ' | ':' | '\t') {
                if let Some((_, _, col)) = pending {
                    return Err(PatternError {
                        column: col,
                        message: "odd number of hex digits".into(),
                    });
                }
                continue;
            }
            let (value, care) = if let Some(d) = c.to_digit(16) {
                (d as u8, 0xF)
            } else if is_wild(c) {
                (0, 0)
            } else {
                return Err(PatternError {
                    column,
                    message: format!("`{c}` is not a hex digit or wildcard (XX)"),
                });
            };
            match pending.take() {
                None => pending = Some((value, care, column)),
                Some((hv, hc, _)) => bytes.push((hv << 4 | value, hc << 4 | care)),
            }
        }
        if let Some((_, _, column)) = pending {
            return Err(PatternError {
                column,
                message: "odd number of hex digits".into(),
            });
        }
        Ok(DataMask { bytes })
    }

    /// A mask that matches exactly `bytes`.
    pub fn exact(bytes: &[u8]) -> DataMask {
        DataMask {
            bytes: bytes.iter().map(|&b| (b, 0xFF)).collect(),
        }
    }

    /// Appends `other`: the result matches this mask's data followed by `other`'s.
    pub fn extend(&mut self, other: &DataMask) {
        self.bytes.extend_from_slice(&other.bytes);
    }

    /// Number of bytes the mask covers.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the mask covers no bytes (it then matches only empty data).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether `data` has the mask's length and matches every cared-for bit.
    pub fn matches(&self, data: &[u8]) -> bool {
        data.len() == self.bytes.len()
            && self.bytes.iter().zip(data).all(|(&(v, c), &d)| d & c == v)
    }

    /// Index of the first byte that does not match, or the shorter length on a length mismatch.
    pub fn first_mismatch(&self, data: &[u8]) -> Option<usize> {
        let diff = self
            .bytes
            .iter()
            .zip(data)
            .position(|(&(v, c), &d)| d & c != v);
        diff.or_else(|| (data.len() != self.bytes.len()).then(|| data.len().min(self.bytes.len())))
    }
}

impl fmt::Display for DataMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(value, care)) in self.bytes.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            for shift in [4, 0] {
                if (care >> shift) & 0xF == 0 {
                    f.write_str("X")?;
                } else {
                    write!(f, "{:X}", (value >> shift) & 0xF)?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for DataMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataMask({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn sw_matches(pattern: &str, sw: u16, expected: bool) {
        let e = SwExpectation::parse(pattern).unwrap();
        assert_eq!(e.matches(StatusWord(sw)), expected, "{pattern} vs {sw:04X}");
    }

    #[test]
    fn status_word_patterns() {
        let table = [
            ("9000", 0x9000, true),
            ("9000", 0x9001, false),
            ("61XX", 0x6110, true),
            ("61XX", 0x6210, false),
            ("63CX", 0x63C2, true),
            ("63cx", 0x63D2, false),
            ("6A8?", 0x6A82, true),
            ("6A8?", 0x6A90, false),
            ("9000|6282", 0x6282, true),
            ("9000 | 6282", 0x6283, false),
            ("90 00", 0x9000, true),
            ("XXXX", 0x1234, true),
        ];
        for (pattern, sw, expected) in table {
            sw_matches(pattern, sw, expected);
        }
    }

    #[test]
    fn status_word_pattern_errors_have_columns() {
        let e = SwExpectation::parse("9000|62G2").unwrap_err();
        assert_eq!(e.column, 8);
        let e = SwExpectation::parse("900").unwrap_err();
        assert_eq!(e.column, 3);
        let e = SwExpectation::parse("900000").unwrap_err();
        assert_eq!(e.column, 5);
        assert!(SwExpectation::parse("").is_err());
        assert!(SwExpectation::parse("9000|").is_err());
    }

    #[test]
    fn expectation_round_trips_through_display() {
        let e = SwExpectation::parse_all(["9000|61xx", "6A8?"]).unwrap();
        assert_eq!(e.to_string(), "9000|61XX|6A8X");
    }

    #[test]
    fn data_masks() {
        let m = DataMask::parse("XX XX 90 0?").unwrap();
        assert!(m.matches(&[1, 2, 0x90, 0x05]));
        assert!(!m.matches(&[1, 2, 0x91, 0x05]));
        assert!(!m.matches(&[1, 2, 0x90]));
        assert_eq!(m.first_mismatch(&[1, 2, 0x91, 0]), Some(2));
        assert_eq!(m.first_mismatch(&[1, 2, 0x90]), Some(3));
        assert_eq!(m.to_string(), "XX XX 90 0X");
        assert_eq!(DataMask::parse("XX X").unwrap_err().column, 4);
        assert_eq!(DataMask::parse("XX ZZ").unwrap_err().column, 4);
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = SwExpectation::parse(&s);
            let _ = DataMask::parse(&s);
        }
    }
}
