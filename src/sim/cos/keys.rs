//! A DF's key file: numbered keys (`00`–`07`, two-key 3DES) and numbered PINs, each with a
//! retry counter, and keys that may be locked for good.
//!
//! A wrong value costs a try and answers `63Cx` (x tries left: the try that blocks answers
//! `63C0`); a blocked or locked entry answers `69 83`; a right one refills the counter.
//! This file holds and checks values; who may change them, and the security state they
//! open, are the command handlers' business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::apdu::StatusWord;
use crate::cos::{self, KEY_LEN, MAX_REFERENCE};
use crate::sim::iso7816::sw;
use crate::sim::serde_hex;

/// Bytes a key file takes per entry (value, counters, attributes), for the card's capacity.
const ENTRY_SIZE: usize = 24;

/// A key or a PIN: its value and retry counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Secret {
    /// The value: 16 bytes for a key, 2 to 16 for a PIN.
    #[serde(with = "serde_hex::bytes")]
    pub value: Vec<u8>,
    /// Tries after a success.
    pub max_tries: u8,
    /// Tries left; 0 means blocked.
    pub tries_left: u8,
    /// Locked for good (keys only): never usable, replaceable or unlockable again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub locked: bool,
}

impl Secret {
    /// A value with a full counter.
    pub(super) fn new(value: &[u8], tries: u8) -> Secret {
        Secret {
            value: value.to_vec(),
            max_tries: tries,
            tries_left: tries,
            locked: false,
        }
    }

    /// `69 83` when blocked or locked.
    pub(super) fn usable(&self) -> Result<(), StatusWord> {
        if self.locked || self.tries_left == 0 {
            Err(sw::BLOCKED)
        } else {
            Ok(())
        }
    }

    /// Compares `candidate` with the value (a PIN): a match refills the counter, a mismatch
    /// costs a try.
    pub(super) fn check(&mut self, candidate: &[u8]) -> Result<(), StatusWord> {
        let value = self.value.clone();
        self.check_with(candidate, &value)
    }

    /// Compares `candidate` with `expected` (what the value makes of a challenge: a
    /// cryptogram), counting as [`Secret::check`] does.
    pub(super) fn check_with(
        &mut self,
        candidate: &[u8],
        expected: &[u8],
    ) -> Result<(), StatusWord> {
        self.usable()?;
        if candidate == expected {
            self.tries_left = self.max_tries;
            Ok(())
        } else {
            self.tries_left -= 1;
            Err(sw::tries_left(self.tries_left))
        }
    }

    fn validate(&self, is_key: bool) -> Result<(), String> {
        let length_ok = if is_key {
            self.value.len() == KEY_LEN
        } else {
            cos::check_pin(&self.value).is_ok()
        };
        if !length_ok {
            return Err("a key is 16 bytes, a PIN 2..=16 without `FF`".into());
        }
        if !(1..=15).contains(&self.max_tries) || self.tries_left > self.max_tries {
            return Err("tries must be 1..=15, and no more left than the maximum".into());
        }
        if self.locked && !is_key {
            return Err("only a key can be locked".into());
        }
        Ok(())
    }
}

/// The keys and PINs of one DF.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeyFile {
    /// Keys by number.
    #[serde(default, with = "numbered")]
    pub keys: BTreeMap<u8, Secret>,
    /// PINs by number.
    #[serde(default, with = "numbered")]
    pub pins: BTreeMap<u8, Secret>,
}

impl KeyFile {
    /// Bytes of card memory the entries take.
    pub(super) fn allocated(&self) -> usize {
        (self.keys.len() + self.pins.len()) * ENTRY_SIZE
    }

    /// Checks entries read from an image.
    pub(super) fn validate(&self) -> Result<(), String> {
        for (kind, map, is_key) in [("key", &self.keys, true), ("PIN", &self.pins, false)] {
            for (n, secret) in map {
                if *n > MAX_REFERENCE {
                    return Err(format!("{kind} {n}: numbers are 0..={MAX_REFERENCE}"));
                }
                secret
                    .validate(is_key)
                    .map_err(|e| format!("{kind} {n}: {e}"))?;
            }
        }
        Ok(())
    }
}

/// Entries by number in an image: a JSON object whose keys are the numbers `"0"`–`"7"`.
mod numbered {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Secret;

    pub(super) fn serialize<S: Serializer>(
        map: &BTreeMap<u8, Secret>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        map.iter()
            .map(|(n, secret)| (n.to_string(), secret))
            .collect::<BTreeMap<String, &Secret>>()
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<u8, Secret>, D::Error> {
        BTreeMap::<String, Secret>::deserialize(d)?
            .into_iter()
            .map(|(n, secret)| {
                n.parse::<u8>()
                    .map(|n| (n, secret))
                    .map_err(|_| serde::de::Error::custom(format!("`{n}` is no key or PIN number")))
            })
            .collect()
    }
}
