//! A stream of fresh simulated cards, so a whole batch runs without hardware.
//!
//! [`SimReader`] is a [`Reader`] that presents card after card: each is a fresh
//! [`Simulator`] whose UID is [`uid_for`] its position in the stream, so a restarted batch
//! sees the same cards again in the same order. Several readers share one stream by taking
//! every n-th position (reader `i` of `n` takes `i`, `i + n`, `i + 2n`, …), so parallel
//! simulated readers never present the same card.
//!
//! The UID rule lives in [`uid_for`] and nowhere else ([`double_size_uid`] and
//! [`single_size_uid`] are its two shapes). Kinds without a UID (the ISO 7816-4
//! file card is a contact card) are named `SIM-000001`, `SIM-000002`, … after their
//! 1-based position instead ([`Reader::card_identity`]). Nothing here keeps card state
//! between presentations: a card presented again is fresh, as a blank from the stack is.

use std::time::Duration;

use super::{Kind, Options, Simulator};
use crate::reader::{Card, Error, Reader};

/// The UID of the simulated card at `position` (0-based) of a stream, or `None` for kinds
/// that have no UID.
///
/// This is the one place the rule is decided: MIFARE Ultralight and Plus get
/// [`double_size_uid`] (7 bytes, `04 …`), MIFARE Classic [`single_size_uid`] (4 bytes,
/// `CF …`), contact cards (`iso7816`, `iso7816-t0`) none. Contactless kinds join the
/// match as they are added to [`Kind`].
pub fn uid_for(kind: Kind, position: u64) -> Option<Vec<u8>> {
    match (kind, position) {
        (Kind::Iso7816 | Kind::Iso7816T0, _) => None,
    }
}

/// NXP's manufacturer code, the first byte of every NXP double-size UID.
const NXP: u8 = 0x04;
/// ISO/IEC 14443-3 cascade tag: never `uid0` of a single-size UID nor `uid3` of a
/// double-size one.
const CASCADE_TAG: u8 = 0x88;
const MASK_40: u64 = (1 << 40) - 1;

/// A bijection on 40-bit values: each step is invertible modulo 2^40, so neighbouring
/// positions get unrelated-looking UIDs and no two positions share one.
fn mix40(x: u64) -> u64 {
    let mut x = x & MASK_40;
    x = x.wrapping_mul(0x9E37_79B9_7F4B) & MASK_40;
    x ^= x >> 20;
    x = (x
        .wrapping_mul(0xBF58_476D_1CE5)
        .wrapping_add(0x2545_F491_4F6D))
        & MASK_40;
    x ^ (x >> 17)
}

/// The 7-byte UID at `position`: `04`, then the 40-bit mix of the position spread over
/// `uid1 uid2 uid4 uid5 uid6`, and `uid3` from the bits above 40 (offset by the mix, never
/// the cascade tag). Distinct for every position below 255 × 2^40.
pub fn double_size_uid(position: u64) -> [u8; 7] {
    let [_, _, _, b1, b2, b3, b4, b5] = mix40(position).to_be_bytes();
    let high = ((position >> 40) % 255) as u8;
    // Adding the mixed low byte (mod 255) keeps uid3 varied and stays injective: given the
    // other bytes, `high` is recovered by subtracting it.
    let uid3 = ((u16::from(high) + u16::from(b5)) % 255) as u8;
    let uid3 = if uid3 >= CASCADE_TAG { uid3 + 1 } else { uid3 };
    [NXP, b1, b2, uid3, b3, b4, b5]
}

/// The 4-byte UID at `position`: `CF` (a "non-unique ID" first byte, never the cascade tag)
/// and a bijection of `position + 1` modulo 2^24 — distinct for the first 16,777,216 cards.
pub fn single_size_uid(position: u64) -> [u8; 4] {
    // An odd multiplier is invertible modulo 2^24, so this permutes the 24-bit numbers.
    let x = position.wrapping_add(1).wrapping_mul(0x9E_3779) & 0xFF_FFFF;
    let [_, _, _, _, _, a, b, c] = x.to_be_bytes();
    [0xCF, a, b, c]
}

/// The name of the UID-less card at `position` (0-based): `SIM-` and the 1-based position,
/// at least six digits.
pub fn synthetic_identity(position: u64) -> String {
    format!("SIM-{:06}", position + 1)
}

/// A reader presenting a deterministic stream of fresh simulated cards.
#[derive(Debug)]
pub struct SimReader {
    kind: Kind,
    name: String,
    next: u64,
    step: u64,
    end: Option<u64>,
    /// The card in the slot and its position, until [`Reader::wait_removed`].
    present: Option<(u64, Simulator)>,
    /// The position of the card last handed out.
    last: Option<u64>,
}

impl SimReader {
    /// Reader `index` (0-based) of `readers` sharing a stream of `count` cards (`None`:
    /// endless). With one reader the name is the kind's reader name; with several, it ends
    /// with the 1-based reader number.
    pub fn new(kind: Kind, index: usize, readers: usize, count: Option<u64>) -> SimReader {
        let readers = readers.max(1);
        let name = if readers == 1 {
            kind.reader_name()
        } else {
            format!("{} {}", kind.reader_name(), index + 1)
        };
        SimReader {
            kind,
            name,
            next: index as u64,
            step: readers as u64,
            end: count,
            present: None,
            last: None,
        }
    }
}

impl Reader for SimReader {
    fn name(&self) -> &str {
        &self.name
    }

    /// The card still in the slot, or the next one of the stream; `None` once the stream
    /// has presented its `count` cards. Never waits.
    fn next_card(&mut self, _timeout: Option<Duration>) -> Result<Option<Box<dyn Card>>, Error> {
        if let Some((position, simulator)) = &self.present {
            self.last = Some(*position);
            return Ok(Some(simulator.card()));
        }
        if self.end.is_some_and(|end| self.next >= end) {
            return Ok(None);
        }
        let position = self.next;
        self.next += self.step;
        let options = Options {
            uid: uid_for(self.kind, position),
        };
        let simulator = Simulator::new(self.kind, &options);
        let card = simulator.card();
        self.present = Some((position, simulator));
        self.last = Some(position);
        Ok(Some(card))
    }

    /// Takes the card out of the slot at once.
    fn wait_removed(&mut self, _timeout: Option<Duration>) -> Result<(), Error> {
        self.present = None;
        Ok(())
    }

    fn card_identity(&self) -> Option<String> {
        let position = self.last?;
        uid_for(self.kind, position)
            .is_none()
            .then(|| synthetic_identity(position))
    }

    fn is_finite(&self) -> bool {
        self.end.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identities(reader: &mut SimReader) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(_card) = reader.next_card(None).unwrap() {
            out.push(reader.card_identity().unwrap());
            reader.wait_removed(None).unwrap();
        }
        out
    }

    #[test]
    fn a_stream_presents_count_cards_then_ends() {
        let mut reader = SimReader::new(Kind::Iso7816, 0, 1, Some(3));
        assert_eq!(reader.name(), "Simulated reader (iso7816)");
        assert!(reader.is_finite());
        assert_eq!(
            identities(&mut reader),
            ["SIM-000001", "SIM-000002", "SIM-000003"]
        );
        assert!(reader.next_card(None).unwrap().is_none());
    }

    #[test]
    fn a_card_not_removed_is_presented_again() {
        let mut reader = SimReader::new(Kind::Iso7816T0, 0, 1, None);
        reader.next_card(None).unwrap().unwrap();
        reader.next_card(None).unwrap().unwrap();
        assert_eq!(reader.card_identity().as_deref(), Some("SIM-000001"));
        reader.wait_removed(None).unwrap();
        reader.next_card(None).unwrap().unwrap();
        assert_eq!(reader.card_identity().as_deref(), Some("SIM-000002"));
        assert!(!reader.is_finite());
    }

    #[test]
    fn parallel_readers_split_one_stream() {
        let mut a = SimReader::new(Kind::Iso7816, 0, 2, Some(5));
        let mut b = SimReader::new(Kind::Iso7816, 1, 2, Some(5));
        assert_eq!(b.name(), "Simulated reader (iso7816) 2");
        assert_eq!(
            identities(&mut a),
            ["SIM-000001", "SIM-000003", "SIM-000005"]
        );
        assert_eq!(identities(&mut b), ["SIM-000002", "SIM-000004"]);
    }

    #[test]
    fn uids_are_distinct_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for position in 0..50_000u64 {
            let uid = double_size_uid(position);
            assert_eq!(uid[0], 0x04);
            assert_ne!(uid[3], 0x88, "{position}");
            assert!(seen.insert(uid.to_vec()), "{position}");
            let uid = single_size_uid(position);
            assert_eq!(uid[0], 0xCF);
            assert!(seen.insert(uid.to_vec()), "{position}");
        }
        assert_eq!(double_size_uid(7), double_size_uid(7));
        assert_ne!(double_size_uid(1 << 40), double_size_uid(0));
    }

    #[test]
    fn contact_cards_have_no_uid() {
        for &kind in Kind::all() {
            assert_eq!(uid_for(kind, 7), None, "{kind}");
        }
    }
}
