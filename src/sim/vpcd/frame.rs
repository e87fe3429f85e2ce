//! The vpcd wire format (protocols.md §7.2): 2-byte big-endian length, then the payload.
//!
//! [`Framer`] cuts frames out of whatever the socket delivers, keeps a partial frame across
//! read timeouts, and tells a frame cut short apart from a connection closed between frames.
//! [`classify`] reads a payload as a control code or a command; [`encode`] frames a reply.
//! This file does not decide what to answer, nor when to read.

use std::fmt;
use std::io::{self, Read};

/// The largest payload a 2-byte length can announce.
pub(crate) const MAX_PAYLOAD: usize = 0xFFFF;

/// What one frame from vpcd asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message<'a> {
    /// `00`: power the card off (no reply).
    PowerOff,
    /// `01`: power the card on (no reply; GET ATR follows).
    PowerOn,
    /// `02`: warm reset (no reply; GET ATR follows).
    Reset,
    /// `04`: answer with the ATR.
    GetAtr,
    /// Anything else, one byte long included: a command APDU to answer.
    Command(&'a [u8]),
}

/// Reads a payload. One-byte payloads other than the four control codes are commands: native
/// one-byte commands (MIFARE Plus `AA`, DESFire `60`) arrive that way and must be answered,
/// or pcscd waits for ever (protocols.md §7.2).
pub(crate) fn classify(payload: &[u8]) -> Message<'_> {
    match payload {
        [0x00] => Message::PowerOff,
        [0x01] => Message::PowerOn,
        [0x02] => Message::Reset,
        [0x04] => Message::GetAtr,
        command => Message::Command(command),
    }
}

/// Frames `payload` into `out` (cleared first); `None` when it is too long for a frame.
pub(crate) fn encode(payload: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let len = u16::try_from(payload.len()).ok()?;
    out.clear();
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Some(())
}

/// Why the bytes from vpcd are not a well-formed stream of frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The connection closed in the middle of a frame.
    Truncated {
        /// The payload length the frame announced.
        announced: usize,
        /// How many of the frame's bytes (length prefix included) arrived.
        received: usize,
    },
    /// A frame announced an empty payload, which vpcd never sends.
    Empty,
    /// Part of a frame arrived and the rest did not come in time.
    Stalled {
        /// The payload length the frame announced (0 if not even the length arrived).
        announced: usize,
        /// How many of the frame's bytes (length prefix included) arrived.
        received: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Truncated {
                announced,
                received,
            } => write!(
                f,
                "a frame announced {announced} payload bytes, but the connection closed after \
                 {received} bytes of it"
            ),
            FrameError::Empty => f.write_str("a frame announced an empty payload"),
            FrameError::Stalled {
                announced,
                received,
            } => write!(
                f,
                "a frame announced {announced} payload bytes, but only {received} bytes of it \
                 arrived before the connection went quiet"
            ),
        }
    }
}

/// What [`Framer::read`] got.
#[derive(Debug)]
pub(crate) enum Received {
    /// A complete frame's payload.
    Frame(Vec<u8>),
    /// No complete frame yet (the read timed out or brought part of one); the part is kept.
    Pending,
    /// The peer closed the connection between two frames.
    Closed,
}

/// Cuts frames out of a byte stream.
#[derive(Debug)]
pub(crate) struct Framer {
    /// Bytes received and not yet returned as a frame.
    buffer: Vec<u8>,
    /// Where `read` puts bytes; a whole maximal frame fits, so one read usually brings one.
    scratch: Box<[u8]>,
}

impl Default for Framer {
    fn default() -> Framer {
        Framer {
            buffer: Vec::new(),
            scratch: vec![0; MAX_PAYLOAD + 2].into_boxed_slice(),
        }
    }
}

impl Framer {
    /// The next frame: from the buffer if one is complete there, else after one `read` from
    /// `source`.
    ///
    /// `before_read` runs right before the `read` (the TCP_QUICKACK re-arm). A read that times
    /// out, or brings only part of a frame, returns [`Received::Pending`]; the part is kept.
    pub(crate) fn read(
        &mut self,
        source: &mut impl Read,
        before_read: impl FnOnce(),
    ) -> io::Result<Result<Received, FrameError>> {
        if let Some(frame) = self.take() {
            return Ok(frame.map(Received::Frame));
        }
        before_read();
        let got = match source.read(&mut self.scratch) {
            Ok(got) => got,
            Err(err) => {
                return match err.kind() {
                    io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::Interrupted => Ok(Ok(Received::Pending)),
                    _ => Err(err),
                };
            }
        };
        if got == 0 {
            return Ok(match self.partial() {
                None => Ok(Received::Closed),
                Some((announced, received)) => Err(FrameError::Truncated {
                    announced,
                    received,
                }),
            });
        }
        self.buffer.extend_from_slice(&self.scratch[..got]);
        Ok(self
            .take()
            .map_or(Ok(Received::Pending), |frame| frame.map(Received::Frame)))
    }

    /// The announced payload length and the bytes received of a frame still incomplete.
    pub(crate) fn partial(&self) -> Option<(usize, usize)> {
        (!self.buffer.is_empty()).then(|| (self.announced().unwrap_or(0), self.buffer.len()))
    }

    /// The payload length the buffered frame announces, once its 2 length bytes are in.
    fn announced(&self) -> Option<usize> {
        match self.buffer[..] {
            [high, low, ..] => Some(usize::from(u16::from_be_bytes([high, low]))),
            _ => None,
        }
    }

    /// Removes and returns the first complete frame in the buffer.
    fn take(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        let len = self.announced()?;
        if len == 0 {
            self.buffer.clear();
            return Some(Err(FrameError::Empty));
        }
        if self.buffer.len() < 2 + len {
            return None;
        }
        let payload = self.buffer[2..2 + len].to_vec();
        self.buffer.drain(..2 + len);
        Some(Ok(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_reads_the_four_control_codes_and_everything_else_as_commands() {
        assert_eq!(classify(&[0x00]), Message::PowerOff);
        assert_eq!(classify(&[0x01]), Message::PowerOn);
        assert_eq!(classify(&[0x02]), Message::Reset);
        assert_eq!(classify(&[0x04]), Message::GetAtr);
        for one in [0x03, 0x60, 0xAA, 0xFF] {
            assert_eq!(classify(&[one]), Message::Command(&[one]));
        }
        assert_eq!(classify(&[0x00, 0x01]), Message::Command(&[0x00, 0x01]));
    }

    /// A source that hands out its bytes a few at a time.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn framer_joins_pieces_and_splits_runs_of_frames() {
        let stream = [
            0x00, 0x01, 0x01, 0x00, 0x01, 0x04, 0x00, 0x03, 0xAA, 0xBB, 0xCC,
        ];
        for step in [1, 2, 3, stream.len()] {
            let mut source = Trickle(&stream, step);
            let mut framer = Framer::default();
            let mut frames = Vec::new();
            loop {
                match framer.read(&mut source, || {}).unwrap().unwrap() {
                    Received::Frame(payload) => frames.push(payload),
                    Received::Pending => {}
                    Received::Closed => break,
                }
            }
            assert_eq!(frames, [vec![0x01], vec![0x04], vec![0xAA, 0xBB, 0xCC]]);
        }
    }

    #[test]
    fn encode_refuses_what_a_length_prefix_cannot_hold() {
        let mut out = vec![0xEE];
        assert_eq!(encode(&[0x90, 0x00], &mut out), Some(()));
        assert_eq!(out, [0x00, 0x02, 0x90, 0x00]);
        assert!(encode(&vec![0; 0xFFFF], &mut out).is_some());
        assert_eq!(out[..2], [0xFF, 0xFF]);
        assert!(encode(&vec![0; 0x1_0000], &mut out).is_none());
    }
}
