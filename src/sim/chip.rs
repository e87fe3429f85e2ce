//! The simulated chips behind one enum, so the simulator can hold any kind in one place.
//!
//! Each arm forwards to the chip's own module; this file only chooses and forwards. It does
//! not parse APDUs or know any command.

use serde::{Serialize, Serializer};

use super::iso7816::{FileCard, Protocol};
use super::{Kind, Options};

/// The state of one simulated card, whatever its kind.
#[derive(Debug)]
pub(crate) enum Chip {
    /// The ISO 7816-4 file card (both transport variants).
    File(FileCard),
}

impl Chip {
    /// A fresh card of `kind` with its default contents.
    pub(crate) fn new(kind: Kind, _options: &Options) -> Chip {
        // The file card is a contact card: it has no UID, so `options.uid` is ignored.
        match kind {
            Kind::Iso7816 => Chip::File(FileCard::demo(Protocol::T1)),
            Kind::Iso7816T0 => Chip::File(FileCard::demo(Protocol::T0)),
        }
    }

    /// Rebuilds a card of `kind` from the `card` part of an image.
    pub(crate) fn from_image(kind: Kind, card: serde_json::Value) -> Result<Chip, String> {
        match kind {
            Kind::Iso7816 => FileCard::from_image(Protocol::T1, card).map(Chip::File),
            Kind::Iso7816T0 => FileCard::from_image(Protocol::T0, card).map(Chip::File),
        }
    }

    /// The answer-to-reset.
    pub(crate) fn atr(&self) -> &'static [u8] {
        match self {
            Chip::File(card) => card.atr(),
        }
    }

    /// Answers one command APDU; never panics, whatever the bytes.
    pub(crate) fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        match self {
            Chip::File(card) => card.transmit(command),
        }
    }

    /// Warm reset: forgets volatile state, keeps persistent state.
    pub(crate) fn reset(&mut self) {
        match self {
            Chip::File(card) => card.reset(),
        }
    }
}

/// A chip serializes as the `card` part of its image: its persistent state only.
impl Serialize for Chip {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Chip::File(card) => card.serialize(serializer),
        }
    }
}
