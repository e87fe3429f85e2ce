//! Response APDUs: data followed by the two status bytes.
//!
//! This module only splits and joins; what a status word means lives in [`super::status`].

use std::fmt;

use super::{StatusWord, hex};

/// A response APDU split into its data and status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data (may be empty).
    pub data: Vec<u8>,
    /// The trailing status word.
    pub sw: StatusWord,
}

impl Response {
    /// Builds a response from data and a status word.
    pub fn new(data: impl Into<Vec<u8>>, sw: StatusWord) -> Response {
        Response {
            data: data.into(),
            sw,
        }
    }

    /// Splits raw response bytes; `None` when fewer than two bytes arrived.
    pub fn from_bytes(mut bytes: Vec<u8>) -> Option<Response> {
        let len = bytes.len();
        if len < 2 {
            return None;
        }
        let sw = StatusWord::new(bytes[len - 2], bytes[len - 1]);
        bytes.truncate(len - 2);
        Some(Response { data: bytes, sw })
    }

    /// Data followed by SW1 SW2.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.0.to_be_bytes());
        out
    }

    /// Whether the status word is 90 00.
    pub fn is_ok(&self) -> bool {
        self.sw.is_ok()
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Response({} / {})", hex::format(&self.data), self.sw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_data_and_status() {
        let r = Response::from_bytes(vec![0x01, 0x02, 0x90, 0x00]).unwrap();
        assert_eq!(r.data, [1, 2]);
        assert!(r.is_ok());
        assert_eq!(r.to_bytes(), [1, 2, 0x90, 0]);
        let r = Response::from_bytes(vec![0x6A, 0x82]).unwrap();
        assert_eq!(r.sw, StatusWord(0x6A82));
        assert!(r.data.is_empty());
        assert_eq!(Response::from_bytes(vec![0x90]), None);
    }
}
