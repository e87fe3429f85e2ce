//! Compact in-memory indexes for the ledger, so that a journal of a million cards is
//! replayed in little memory: card identities in one text arena with a hash index,
//! number-to-card maps stored densely, timestamps as microseconds.
//!
//! Nothing here knows cards, rows or journals; `ledger.rs` gives the numbers their meaning.
//! Lookups are exact (identities are compared as text, never by hash alone).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// No card: the end of a chain, an unused slot.
const NONE: u32 = u32::MAX;

/// Every identity seen, numbered from 0 in the order first seen.
#[derive(Debug, Default)]
pub struct Identities {
    /// All identities, one after the other.
    arena: String,
    /// Where identity `i` starts in `arena` (it ends where `i + 1` starts).
    starts: Vec<usize>,
    /// Hash of an identity (32 bits: the text decides) → the last identity with it.
    heads: HashMap<u32, u32>,
    /// The identity before `i` with the same hash (collisions), or [`NONE`].
    next: Vec<u32>,
    hasher: RandomState,
}

impl Identities {
    /// How many identities there are.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The number of `identity`, if it was seen.
    pub fn find(&self, identity: &str) -> Option<u32> {
        let mut at = *self.heads.get(&self.hash(identity))?;
        while at != NONE {
            if self.text(at) == identity {
                return Some(at);
            }
            at = self.next[at as usize];
        }
        None
    }

    /// The number of `identity`, adding it when new; `None` when 2^32 - 1 identities are
    /// there already.
    pub fn insert(&mut self, identity: &str) -> Option<u32> {
        match self.find(identity) {
            Some(found) => Some(found),
            None => self.insert_new(identity),
        }
    }

    /// Adds `identity`, which [`Identities::find`] did not find; `None` when 2^32 - 1
    /// identities are there already.
    pub fn insert_new(&mut self, identity: &str) -> Option<u32> {
        let number = u32::try_from(self.starts.len())
            .ok()
            .filter(|&n| n != NONE)?;
        let head = self.heads.entry(self.hash(identity)).or_insert(NONE);
        self.next.push(*head);
        *head = number;
        self.starts.push(self.arena.len());
        self.arena.push_str(identity);
        Some(number)
    }

    fn hash(&self, identity: &str) -> u32 {
        self.hasher.hash_one(identity) as u32
    }

    /// The identity numbered `number`.
    pub fn text(&self, number: u32) -> &str {
        let i = number as usize;
        let start = self.starts.get(i).copied().unwrap_or(self.arena.len());
        let end = self.starts.get(i + 1).copied().unwrap_or(self.arena.len());
        self.arena.get(start..end).unwrap_or_default()
    }
}

/// A map from numbers (rows, sequence numbers: mostly 1, 2, 3, …) to card numbers, stored
/// as a vector where the numbers are dense and a hash map beyond.
#[derive(Debug, Default)]
pub struct Owners {
    dense: Vec<u32>,
    sparse: HashMap<u64, u32>,
}

/// How far past the dense part a number may be and still extend it.
const DENSE_SLACK: u64 = 1 << 16;

impl Owners {
    /// The card that has `key`.
    pub fn get(&self, key: u64) -> Option<u32> {
        match usize::try_from(key).ok().and_then(|i| self.dense.get(i)) {
            Some(&card) if card != NONE => Some(card),
            Some(_) => None,
            None => self.sparse.get(&key).copied(),
        }
    }

    /// Gives `key` to `card`.
    pub fn insert(&mut self, key: u64, card: u32) {
        let dense_len = self.dense.len() as u64;
        if key < dense_len {
            self.dense[key as usize] = card;
        } else if key <= dense_len + DENSE_SLACK {
            self.dense.resize(key as usize + 1, NONE);
            self.dense[key as usize] = card;
        } else {
            self.sparse.insert(key, card);
        }
    }
}

/// A timestamp as written in records: microseconds since 1970 when it is this program's
/// RFC 3339 form (`2026-11-22T06:20:01.123456Z`), else the text itself, kept aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Parsed.
    Micros(i64),
    /// Not in the usual form: its index in the ledger's list of other texts.
    Other(u32),
}

/// Parses `YYYY-MM-DDTHH:MM:SS.ffffffZ` into microseconds since 1970 (`None` for any
/// other text), such that [`super::time::rfc3339`] gives the text back.
pub fn parse_micros(text: &str) -> Option<i64> {
    // Exactly the layout `rfc3339` writes (every field fixed in width, `T`, six fraction
    // digits, `Z`); the parser checks each field's digits and range and that the date
    // exists, so what it accepts in this layout from 1970 on formats back to the same text
    // (the property test below holds it to that) — without formatting two million times
    // on a restart.
    let b = text.as_bytes();
    if b.len() != 27 || b[10] != b'T' || b[19] != b'.' || b[26] != b'Z' {
        return None;
    }
    super::time::parse_micros(text).filter(|&value| value >= 0)
}

/// Formats microseconds since 1970 as [`super::time::rfc3339`] does.
pub fn format_micros(micros: i64) -> String {
    let micros = u64::try_from(micros).unwrap_or(0);
    super::time::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn identities_are_found_exactly() {
        let mut ids = Identities::default();
        assert_eq!(ids.insert("A"), Some(0));
        assert_eq!(ids.insert("BB"), Some(1));
        assert_eq!(ids.insert("A"), Some(0));
        assert_eq!(ids.find("BB"), Some(1));
        assert_eq!(ids.find("B"), None);
        assert_eq!(ids.text(1), "BB");
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn owners_dense_and_sparse() {
        let mut o = Owners::default();
        o.insert(1, 7);
        o.insert(1 << 40, 8);
        assert_eq!(
            (o.get(1), o.get(1 << 40), o.get(2), o.get(0)),
            (Some(7), Some(8), None, None)
        );
    }

    #[test]
    fn timestamps_round_trip() {
        let text = "2026-11-22T06:20:01.123456Z";
        assert_eq!(format_micros(parse_micros(text).unwrap()), text);
        for other in [
            "t1",
            "2026-02-31T00:00:00.000000Z",
            "2026-11-22T06:20:01Z",
            "2026-11-22t06:20:01.123456Z",
            "2026-11-22T06:20:01.123456z",
            "2026-11-22T06:20:01.123456+00:00",
            "2026-11-22T06:20:60.123456Z",
            "1969-12-31T23:59:59.000000Z",
            "",
        ] {
            assert_eq!(parse_micros(other), None, "{other}");
        }
    }

    proptest! {
        #[test]
        fn every_text_taken_formats_back_to_itself(
            text in "[0-9]{4}-[01][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-6][0-9]:[0-6][0-9][.][0-9]{6}[Zz]"
        ) {
            if let Some(micros) = parse_micros(&text) {
                prop_assert_eq!(format_micros(micros), text);
            }
        }

        #[test]
        fn every_time_formats_back(micros in 0i64..8_000_000_000_000_000) {
            let text = format_micros(micros);
            prop_assert_eq!(parse_micros(&text), Some(micros));
        }

        #[test]
        fn any_text_parses_or_not_without_panic(text in ".{0,40}") {
            let _ = parse_micros(&text);
        }

        #[test]
        fn many_identities_each_found(names in proptest::collection::hash_set("[A-Z0-9]{1,6}", 1..200)) {
            let mut ids = Identities::default();
            let names: Vec<String> = names.into_iter().collect();
            for name in &names {
                ids.insert(name);
            }
            for (i, name) in names.iter().enumerate() {
                prop_assert_eq!(ids.find(name), Some(i as u32));
                prop_assert_eq!(ids.text(i as u32), name.as_str());
            }
        }
    }
}
