//! Command APDUs: the four ISO 7816-4 cases, short and extended length (protocols.md §8.1).
//!
//! [`Command`] holds the header, the data and the expected length; [`Command::to_bytes`]
//! picks the short form when it fits and the extended form otherwise, and
//! [`Command::parse`] reads either back. This module does not send anything and does not
//! apply transport rules (T=0 TPDUs are the card's business).

use std::fmt;

use super::hex;

/// The largest command APDU: header, 3-byte Lc, 65,535 data bytes, 2-byte Le.
pub const MAX_COMMAND_LEN: usize = 4 + 3 + 65_535 + 2;

/// The largest expected length (Le): `00 00` in extended form means 65,536.
pub const MAX_LE: usize = 65_536;

/// The ISO 7816-4 command cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// No data, no response data expected.
    One,
    /// No data, response data expected (Le).
    Two,
    /// Data (Lc), no response data expected.
    Three,
    /// Data and Le.
    Four,
}

/// Why bytes are not a command APDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Fewer than the four header bytes.
    #[error("APDU too short: {len} bytes, a command has at least 4 (CLA INS P1 P2)")]
    TooShort {
        /// The length given.
        len: usize,
    },
    /// Longer than any APDU can be.
    #[error("APDU too long: {len} bytes, the limit is {MAX_COMMAND_LEN}")]
    TooLong {
        /// The length given.
        len: usize,
    },
    /// Lc announces a number of data bytes that is not there.
    #[error("Lc says {lc} data bytes but {actual} follow the header")]
    LcMismatch {
        /// The length Lc announces.
        lc: usize,
        /// What follows the Lc field (data, and Le if any).
        actual: usize,
    },
    /// Extended Lc of zero.
    #[error("extended Lc is 0000, which no case allows")]
    ZeroExtendedLc,
    /// More data than a command can carry.
    #[error("command data too long: {len} bytes, the limit is 65535")]
    DataTooLong {
        /// The data length.
        len: usize,
    },
    /// An Le of zero or over 65,536.
    #[error("expected length {le} is out of range 1..=65536")]
    LeOutOfRange {
        /// The requested Le.
        le: usize,
    },
}

/// A command APDU.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (empty for cases 1 and 2).
    pub data: Vec<u8>,
    /// Expected response length, 1..=65,536 (`None` for cases 1 and 3).
    pub le: Option<usize>,
    /// Encode in extended form even when short would fit.
    pub extended: bool,
}

impl Command {
    /// A case-1 command (header only).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Command {
        Command {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
            extended: false,
        }
    }

    /// Sets the command data.
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Command {
        self.data = data.into();
        self
    }

    /// Sets the expected length (1..=65,536; 256 is `00` in short form).
    pub fn with_le(mut self, le: usize) -> Command {
        self.le = Some(le);
        self
    }

    /// The four header bytes.
    pub fn header(&self) -> [u8; 4] {
        [self.cla, self.ins, self.p1, self.p2]
    }

    /// Which ISO 7816-4 case this command is.
    pub fn case(&self) -> Case {
        match (self.data.is_empty(), self.le.is_some()) {
            (true, false) => Case::One,
            (true, true) => Case::Two,
            (false, false) => Case::Three,
            (false, true) => Case::Four,
        }
    }

    /// Whether the encoding needs (or was asked for) the extended form.
    pub fn is_extended(&self) -> bool {
        self.extended || self.data.len() > 255 || self.le.is_some_and(|le| le > 256)
    }

    /// Checks the lengths; [`Command::to_bytes`] assumes they are valid.
    pub fn validate(&self) -> Result<(), CommandError> {
        if self.data.len() > 65_535 {
            return Err(CommandError::DataTooLong {
                len: self.data.len(),
            });
        }
        if let Some(le) = self.le {
            if le == 0 || le > MAX_LE {
                return Err(CommandError::LeOutOfRange { le });
            }
        }
        Ok(())
    }

    /// Encodes the command, short form when it fits, extended otherwise.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 3 + self.data.len() + 3);
        out.extend_from_slice(&self.header());
        let extended = self.is_extended();
        let lc = self.data.len();
        if lc > 0 {
            if extended {
                out.push(0);
                out.extend_from_slice(&(lc as u16).to_be_bytes());
            } else {
                out.push(lc as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            // 256 is 00 in short form and 65,536 is 00 00 in extended form; the
            // truncating casts produce exactly those encodings.
            if extended {
                if lc == 0 {
                    out.push(0);
                }
                out.extend_from_slice(&((le % MAX_LE) as u16).to_be_bytes());
            } else {
                out.push((le % 256) as u8);
            }
        }
        out
    }

    /// Parses an encoded command APDU (short or extended), checking Lc against the data.
    pub fn parse(bytes: &[u8]) -> Result<Command, CommandError> {
        let len = bytes.len();
        if len < 4 {
            return Err(CommandError::TooShort { len });
        }
        if len > MAX_COMMAND_LEN {
            return Err(CommandError::TooLong { len });
        }
        let mut command = Command::new(bytes[0], bytes[1], bytes[2], bytes[3]);
        let body = &bytes[4..];
        match body {
            [] => {}
            [le] => command.le = Some(short_le(*le)),
            [0, rest @ ..] if rest.len() >= 2 => {
                command.extended = true;
                let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
                let after = &rest[2..];
                if after.is_empty() {
                    command.le = Some(extended_le(n));
                } else if n == 0 {
                    return Err(CommandError::ZeroExtendedLc);
                } else if after.len() == n {
                    command.data = after.to_vec();
                } else if after.len() == n + 2 {
                    command.data = after[..n].to_vec();
                    command.le = Some(extended_le(
                        u16::from_be_bytes([after[n], after[n + 1]]) as usize
                    ));
                } else {
                    return Err(CommandError::LcMismatch {
                        lc: n,
                        actual: after.len(),
                    });
                }
            }
            [lc, rest @ ..] => {
                let n = *lc as usize;
                if n == 0 {
                    // A short Lc of 00 is not an encoding of anything; `00` followed by one
                    // byte is neither case 2 nor an extended header.
                    return Err(CommandError::LcMismatch {
                        lc: 0,
                        actual: rest.len(),
                    });
                }
                if rest.len() == n {
                    command.data = rest.to_vec();
                } else if rest.len() == n + 1 {
                    command.data = rest[..n].to_vec();
                    command.le = Some(short_le(rest[n]));
                } else {
                    return Err(CommandError::LcMismatch {
                        lc: n,
                        actual: rest.len(),
                    });
                }
            }
        }
        Ok(command)
    }
}

/// A short Le byte as a length: `00` means 256.
pub(super) fn short_le(byte: u8) -> usize {
    if byte == 0 { 256 } else { byte as usize }
}

fn extended_le(value: usize) -> usize {
    if value == 0 { MAX_LE } else { value }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({})", hex::format(&self.to_bytes()))
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::format(&self.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn round_trip(text: &str, case: Case, data_len: usize, le: Option<usize>) {
        let bytes = hex::parse(text).unwrap();
        let command = Command::parse(&bytes).unwrap();
        assert_eq!(command.case(), case, "{text}");
        assert_eq!(command.data.len(), data_len, "{text}");
        assert_eq!(command.le, le, "{text}");
        assert_eq!(command.to_bytes(), bytes, "{text}");
    }

    #[test]
    fn parses_every_case_short_and_extended() {
        round_trip("00 A4 00 00", Case::One, 0, None);
        round_trip("00 B0 00 00 10", Case::Two, 0, Some(16));
        round_trip("00 B0 00 00 00", Case::Two, 0, Some(256));
        round_trip("00 A4 00 0C 02 3F 00", Case::Three, 2, None);
        round_trip("00 A4 04 00 02 3F 00 00", Case::Four, 2, Some(256));
        round_trip("00 B0 00 00 00 01 2C", Case::Two, 0, Some(300));
        round_trip("00 B0 00 00 00 00 00", Case::Two, 0, Some(65_536));
        round_trip("00 D6 00 00 00 00 02 AA BB", Case::Three, 2, None);
        round_trip("00 2A 80 86 00 00 02 AA BB 01 00", Case::Four, 2, Some(256));
    }

    #[test]
    fn rejects_inconsistent_lengths() {
        let check = |text: &str, expected: CommandError| {
            assert_eq!(
                Command::parse(&hex::parse(text).unwrap()),
                Err(expected),
                "{text}"
            );
        };
        check("00 A4", CommandError::TooShort { len: 2 });
        check(
            "00 A4 00 0C 03 3F 00",
            CommandError::LcMismatch { lc: 3, actual: 2 },
        );
        check(
            "00 A4 00 0C 01 3F 00 00 00",
            CommandError::LcMismatch { lc: 1, actual: 4 },
        );
        check("00 D6 00 00 00 00 00 AA", CommandError::ZeroExtendedLc);
        check(
            "00 D6 00 00 00 00 05 AA",
            CommandError::LcMismatch { lc: 5, actual: 1 },
        );
        let long = vec![0u8; MAX_COMMAND_LEN + 1];
        assert_eq!(
            Command::parse(&long),
            Err(CommandError::TooLong {
                len: MAX_COMMAND_LEN + 1
            })
        );
    }

    #[test]
    fn builds_short_or_extended_as_needed() {
        let cmd = Command::new(0x00, 0xB0, 0, 0).with_le(256);
        assert_eq!(cmd.to_bytes(), [0, 0xB0, 0, 0, 0]);
        let cmd = Command::new(0x00, 0xD6, 0, 0).with_data(vec![0xAB; 300]);
        assert_eq!(&cmd.to_bytes()[..7], &[0, 0xD6, 0, 0, 0, 0x01, 0x2C]);
        assert_eq!(cmd.validate(), Ok(()));
        assert_eq!(
            Command::new(0, 0, 0, 0).with_le(0).validate(),
            Err(CommandError::LeOutOfRange { le: 0 })
        );
    }

    #[test]
    fn validate_refuses_data_and_le_no_apdu_carries() {
        let data = vec![0; 65_536];
        assert_eq!(
            Command::new(0, 0xD6, 0, 0).with_data(data).validate(),
            Err(CommandError::DataTooLong { len: 65_536 })
        );
        assert_eq!(
            Command::new(0, 0xB0, 0, 0).with_le(MAX_LE + 1).validate(),
            Err(CommandError::LeOutOfRange { le: MAX_LE + 1 })
        );
        assert_eq!(
            Command::new(0, 0xB0, 0, 0).with_le(MAX_LE).validate(),
            Ok(())
        );
    }

    #[test]
    fn error_messages() {
        let table = [
            (
                CommandError::TooShort { len: 2 },
                "APDU too short: 2 bytes, a command has at least 4 (CLA INS P1 P2)",
            ),
            (
                CommandError::TooLong { len: 65_545 },
                "APDU too long: 65545 bytes, the limit is 65544",
            ),
            (
                CommandError::LcMismatch { lc: 3, actual: 2 },
                "Lc says 3 data bytes but 2 follow the header",
            ),
            (
                CommandError::ZeroExtendedLc,
                "extended Lc is 0000, which no case allows",
            ),
            (
                CommandError::DataTooLong { len: 65_536 },
                "command data too long: 65536 bytes, the limit is 65535",
            ),
            (
                CommandError::LeOutOfRange { le: 0 },
                "expected length 0 is out of range 1..=65536",
            ),
        ];
        for (error, message) in table {
            assert_eq!(error.to_string(), message, "{error:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = Command::parse(&bytes);
        }

        #[test]
        fn encode_then_parse_is_identity(
            header in proptest::array::uniform4(proptest::num::u8::ANY),
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
            le in proptest::option::of(1usize..=65_536),
        ) {
            let mut command = Command::new(header[0], header[1], header[2], header[3]).with_data(data);
            command.le = le;
            let parsed = Command::parse(&command.to_bytes()).unwrap();
            proptest::prop_assert_eq!(&parsed.data, &command.data);
            proptest::prop_assert_eq!(parsed.le, command.le);
            proptest::prop_assert_eq!(parsed.to_bytes(), command.to_bytes());
        }
    }
}
