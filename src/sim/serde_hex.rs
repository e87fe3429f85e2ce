//! Serde helpers that store bytes in card images as hex text (`"00 01 02"`, `"3F00"`).
//!
//! Card images are meant to be read and edited by people, so byte strings are written the
//! way the rest of the tool prints them ([`crate::apdu::hex::format`]) and read back with the
//! same lenient parser. These helpers do not validate what the bytes mean.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

use crate::apdu::hex;

/// `Vec<u8>` as spaced hex text.
pub(crate) mod bytes {
    use super::*;

    /// Writes the bytes as `"00 01 02"`.
    pub(crate) fn serialize<S: Serializer>(value: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::format(value))
    }

    /// Reads hex text in any form [`hex::parse`] accepts.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::parse(&text).map_err(D::Error::custom)
    }
}

/// `Option<Vec<u8>>` as spaced hex text or `null`.
pub(crate) mod opt_bytes {
    use super::*;

    /// Writes the bytes as `"A0 00 01"`, or `null`.
    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => s.serialize_str(&hex::format(bytes)),
            None => s.serialize_none(),
        }
    }

    /// Reads hex text or `null`.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => hex::parse(&text).map(Some).map_err(D::Error::custom),
            None => Ok(None),
        }
    }
}

/// A two-byte file identifier as four hex digits (`"3F00"`).
pub(crate) mod fid {
    use super::*;

    /// Writes the identifier as `"3F00"`.
    pub(crate) fn serialize<S: Serializer>(value: &u16, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{value:04X}"))
    }

    /// Reads exactly two bytes of hex text.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        let text = String::deserialize(d)?;
        match hex::parse(&text).map_err(D::Error::custom)?.as_slice() {
            [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
            other => Err(D::Error::custom(format!(
                "file identifier `{text}` has {} bytes, expected 2",
                other.len()
            ))),
        }
    }
}

/// `Vec<Vec<u8>>` (records) as a list of spaced hex strings.
pub(crate) mod byte_list {
    use super::*;
    use serde::ser::SerializeSeq as _;

    /// Writes `["01 01", "02 02"]`.
    pub(crate) fn serialize<S: Serializer>(value: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(value.len()))?;
        for item in value {
            seq.serialize_element(&hex::format(item))?;
        }
        seq.end()
    }

    /// Reads a list of hex strings.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|text| hex::parse(text).map_err(D::Error::custom))
            .collect()
    }
}
