//! TLP224 framing (cos-and-serial.md §5.2, readers-and-keys.md §6): a binary message
//! `ACK LEN BODY… LRC`, where ACK is `60` (or `E0` for a NACK), LEN counts BODY (modulo 256: command or
//! status byte, then data) and LRC is the XOR of every byte before it, sent as two
//! upper-case ASCII hex characters per byte, then a raw `03`.
//!
//! Pure encoding and decoding; reading and writing the line, retries and what a status means
//! are the backend's (`tlp224.rs`) and the simulated reader's business.

use std::fmt;

/// First byte of a message that carries a command or a response.
pub const ACK: u8 = 0x60;
/// First byte of a message asking the other side to send its last message again.
pub const NACK: u8 = 0xE0;
/// The raw end-of-message byte.
pub const ETX: u8 = 0x03;
/// The longest body: a status byte, 256 bytes of data and SW1 SW2 (a 256-byte ISO OUTPUT).
pub const MAX_BODY: usize = 259;
/// The longest encoded message in bytes: (ACK, LEN, body, LRC) in hex, and ETX.
pub const MAX_ENCODED: usize = 2 * (MAX_BODY + 3) + 1;

/// A decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A command (host to reader) or a response (reader to host): the command or status
    /// byte, then its data.
    Ack(Vec<u8>),
    /// "Your last message did not arrive intact, send it again."
    Nack,
}

/// Why bytes are not a valid message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A character that is not a hex digit (at this index of the message).
    NotHex(usize),
    /// An odd number of hex characters.
    OddLength,
    /// Fewer than ACK, LEN and LRC.
    TooShort,
    /// The first byte is neither `60` nor `E0`.
    BadHeader(u8),
    /// LEN does not match the bytes that came.
    BadLength {
        /// What LEN said.
        said: usize,
        /// How many body bytes came.
        came: usize,
    },
    /// The XOR of the message is not 0.
    BadChecksum,
    /// More bytes than the longest message before the `03`.
    Overlong,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::NotHex(at) => write!(f, "character {at} is not a hex digit"),
            FrameError::OddLength => f.write_str("odd number of hex digits"),
            FrameError::TooShort => f.write_str("message shorter than its header and checksum"),
            FrameError::BadHeader(b) => {
                write!(f, "first byte {b:02X} is neither ACK 60 nor NACK E0")
            }
            FrameError::BadLength { said, came } => {
                write!(f, "length byte says {said} but {came} byte(s) came")
            }
            FrameError::BadChecksum => f.write_str("checksum mismatch"),
            FrameError::Overlong => {
                f.write_str("no end-of-message byte 03 within the longest message")
            }
        }
    }
}

fn lrc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

fn push_hex(out: &mut Vec<u8>, byte: u8) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.push(DIGITS[usize::from(byte >> 4)]);
    out.push(DIGITS[usize::from(byte & 0x0F)]);
}

/// Encodes `body` (at most [`MAX_BODY`] bytes, longer is cut) as an ACK message.
pub fn encode(body: &[u8]) -> Vec<u8> {
    let body = &body[..body.len().min(MAX_BODY)];
    // LEN is one byte: a body over 255 bytes (only a 256-byte ISO OUTPUT makes one) is sent
    // with its length modulo 256, the ETX and the checksum still delimiting and guarding it
    // (how a GCR400 frames those is UNCONFIRMED).
    let mut binary = Vec::with_capacity(body.len() + 3);
    binary.push(ACK);
    binary.push((body.len() % 256) as u8);
    binary.extend_from_slice(body);
    binary.push(lrc(&binary));
    encode_binary(&binary)
}

/// The NACK message: `E0 00 E0`.
pub fn encode_nack() -> Vec<u8> {
    encode_binary(&[NACK, 0x00, NACK])
}

fn encode_binary(binary: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(binary.len() * 2 + 1);
    for &b in binary {
        push_hex(&mut out, b);
    }
    out.push(ETX);
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decodes the characters of one message, without its `03`.
pub fn decode(text: &[u8]) -> Result<Message, FrameError> {
    if text.len() % 2 != 0 {
        if let Some(at) = text.iter().position(|&c| hex_value(c).is_none()) {
            return Err(FrameError::NotHex(at));
        }
        return Err(FrameError::OddLength);
    }
    let mut binary = Vec::with_capacity(text.len() / 2);
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let hi = hex_value(pair[0]).ok_or(FrameError::NotHex(2 * i))?;
        let lo = hex_value(pair[1]).ok_or(FrameError::NotHex(2 * i + 1))?;
        binary.push(hi << 4 | lo);
    }
    if binary.len() < 3 {
        return Err(FrameError::TooShort);
    }
    let said = usize::from(binary[1]);
    let came = binary.len() - 3;
    if binary[0] != ACK && binary[0] != NACK {
        return Err(FrameError::BadHeader(binary[0]));
    }
    if said != came % 256 {
        return Err(FrameError::BadLength { said, came });
    }
    if lrc(&binary) != 0 {
        return Err(FrameError::BadChecksum);
    }
    if binary[0] == NACK {
        return Ok(Message::Nack);
    }
    Ok(Message::Ack(binary[2..binary.len() - 1].to_vec()))
}

/// Collects the characters of one message as they arrive.
#[derive(Debug, Default)]
pub struct Collector {
    text: Vec<u8>,
}

impl Collector {
    /// Adds one byte: `Some` with the decoded message (or why it is invalid) at the `03`.
    pub fn push(&mut self, byte: u8) -> Option<Result<Message, FrameError>> {
        if byte == ETX {
            let result = decode(&self.text);
            self.text.clear();
            return Some(result);
        }
        if self.text.len() >= MAX_ENCODED {
            self.text.clear();
            return Some(Err(FrameError::Overlong));
        }
        self.text.push(byte);
        None
    }

    /// Whether part of a message has arrived.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn power_up_example() {
        // readers-and-keys.md §6: POWER UP without data is `60 01 6E 0F`.
        assert_eq!(encode(&[0x6E]), b"60016E0F\x03");
        assert_eq!(decode(b"60016E0F"), Ok(Message::Ack(vec![0x6E])));
        assert_eq!(decode(b"60016e0f"), Ok(Message::Ack(vec![0x6E])));
        assert_eq!(encode_nack(), b"E000E0\x03");
        assert_eq!(decode(b"E000E0"), Ok(Message::Nack));
    }

    #[test]
    fn corruption_is_reported() {
        assert_eq!(decode(b"60016E0E"), Err(FrameError::BadChecksum));
        assert_eq!(
            decode(b"60026E0F"),
            Err(FrameError::BadLength { said: 2, came: 1 })
        );
        assert_eq!(decode(b"61016E0E"), Err(FrameError::BadHeader(0x61)));
        assert_eq!(decode(b"60016G0F"), Err(FrameError::NotHex(5)));
        assert_eq!(decode(b"60016E0"), Err(FrameError::OddLength));
        assert_eq!(decode(b"6001"), Err(FrameError::TooShort));
    }

    proptest! {
        #[test]
        fn round_trip(body in proptest::collection::vec(any::<u8>(), 0..=MAX_BODY)) {
            let encoded = encode(&body);
            prop_assert!(encoded.len() <= MAX_ENCODED);
            let mut collector = Collector::default();
            let mut out = None;
            for &b in &encoded {
                if let Some(m) = collector.push(b) {
                    out = Some(m);
                }
            }
            prop_assert_eq!(out, Some(Ok(Message::Ack(body))));
        }

        #[test]
        fn any_single_corruption_is_caught(
            body in proptest::collection::vec(any::<u8>(), 0..40),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let encoded = encode(&body);
            let mut text = encoded[..encoded.len() - 1].to_vec();
            let i = at.index(text.len());
            text[i] ^= flip;
            // Upper and lower case spell the same digit.
            prop_assume!(!text[i].eq_ignore_ascii_case(&encoded[i]));
            // Changing one character changes one nibble (or makes it invalid): never the
            // same message silently.
            prop_assert_ne!(decode(&text), Ok(Message::Ack(body)));
        }

        #[test]
        fn decode_never_panics(text in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = decode(&text);
            let mut c = Collector::default();
            for b in text { let _ = c.push(b); }
        }
    }
}
