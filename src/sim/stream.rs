//! A stream of fresh simulated cards, so a whole batch runs without hardware.
//!
//! [`SimReader`] is a [`Reader`] that presents card after card: each is a fresh
//! [`Simulator`] whose UID is [`uid_for`] its position in the stream, so a restarted batch
//! sees the same cards again in the same order. Several readers share one stream by taking
//! every n-th position (reader `i` of `n` takes `i`, `i + n`, `i + 2n`, …), so parallel
//! simulated readers never present the same card.
//!
//! UIDs come from [`uid_for`], which asks the chip's own rule. Kinds without a UID (the ISO 7816-4
//! file card is a contact card) are named `SIM-000001`, `SIM-000002`, … after their
//! 1-based position instead ([`Reader::card_identity`]). Nothing here keeps card state
//! between presentations: a card presented again is fresh, as a blank from the stack is.

use std::time::Duration;

use super::chip::Chip;
use super::{Kind, Options, ReaderModel, Simulator};
use crate::reader::{Card, Error, Reader};

/// The UID of the simulated card at `position` (0-based) of a stream, or `None` for kinds
/// that have no UID.
///
/// Each chip owns its rule (`Chip::numbered_uid`: 4-byte `CF …` for MIFARE Classic, 7-byte
/// `04 …` for Ultralight and Plus); position 0 is the kind's default card, the one
/// `--sim KIND` gives. `sim serve --count` and simulated batches both take their UIDs from
/// here, so card n is the same card on the simulator and through pcscd.
pub fn uid_for(kind: Kind, position: u64) -> Option<Vec<u8>> {
    Chip::numbered_uid(kind, u32::try_from(position).unwrap_or(u32::MAX))
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
    /// `--sim-seed`: the cards' random numbers are reproducible.
    seed: Option<u64>,
    /// `--sim-reader`: the reader model the contactless cards sit in.
    model: ReaderModel,
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
            seed: None,
            model: ReaderModel::default(),
        }
    }

    /// The same reader, its contactless cards in a reader of `model`.
    pub fn with_model(mut self, model: ReaderModel) -> SimReader {
        self.model = model;
        self
    }

    /// The same reader, its cards' random numbers (GET CHALLENGE) derived from `seed` and
    /// their position instead of the operating system's generator.
    pub fn with_seed(mut self, seed: Option<u64>) -> SimReader {
        self.seed = seed;
        self
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
            reader: self.model,
            ..Options::in_stream(self.kind, position, self.seed)
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
    fn uids_are_distinct_and_card_0_is_the_default_card() {
        for kind in [Kind::Classic1K, Kind::Ultralight, Kind::Plus2K] {
            let mut seen = std::collections::HashSet::new();
            for position in 0..20_000u64 {
                let uid = uid_for(kind, position).unwrap();
                assert_ne!(uid[0], 0x88, "{kind} {position}");
                assert!(seen.insert(uid), "{kind} {position}");
            }
            let default = Simulator::new(kind, &Options::default())
                .card()
                .transmit(&[0xFF, 0xCA, 0, 0, 0])
                .unwrap();
            assert_eq!(
                default[..default.len() - 2],
                uid_for(kind, 0).unwrap()[..],
                "{kind}"
            );
        }
    }

    #[test]
    fn contact_cards_have_no_uid() {
        for kind in [Kind::Iso7816, Kind::Iso7816T0] {
            assert_eq!(uid_for(kind, 7), None, "{kind}");
        }
    }
}
