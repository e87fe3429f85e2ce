//! The simulated chips behind one enum, so the simulator can hold any kind in one place.
//!
//! Each arm forwards to the chip's own module; this file only chooses and forwards. It does
//! not parse APDUs or know any command.

use serde::{Serialize, Serializer};

use super::classic::{self, Classic};
use super::cos::CosCard;
use super::frontend::{Frontend, ReaderModel};
use super::iso7816::{FileCard, Protocol, challenge};
use super::plus::{self, Plus};
use super::ultralight::{self, Tag, Ultralight};
use super::{Kind, Options};
use crate::mifare::classic::Layout;

/// The state of one simulated card, whatever its kind.
#[derive(Debug)]
pub(crate) enum Chip {
    /// The ISO 7816-4 file card (both transport variants).
    File(FileCard),
    /// The file card of the COS (both transport variants).
    Cos(CosCard),
    /// MIFARE Classic 1K or 4K behind the simulated reader.
    Classic(Frontend<Classic>),
    /// MIFARE Ultralight behind the simulated reader.
    Ultralight(Frontend<Tag>),
    /// MIFARE Plus S 2K or 4K behind the simulated reader.
    Plus(Frontend<Plus>),
}

impl Chip {
    /// A fresh card of `kind` with its default contents.
    pub(crate) fn new(kind: Kind, options: &Options) -> Chip {
        // The file card is a contact card: it has no UID, so `options.uid` is ignored.
        match kind {
            Kind::Iso7816 => Chip::File(file_card(Protocol::T1, options)),
            Kind::Iso7816T0 => Chip::File(file_card(Protocol::T0, options)),
            Kind::Classic1K => classic_chip(Classic::new(Layout::OneK, options.uid.as_deref())),
            Kind::Classic4K => classic_chip(Classic::new(Layout::FourK, options.uid.as_deref())),
            Kind::Ultralight => {
                // Card 0 of a stream by default, so the shipped demo images match a fresh card.
                let uid = options
                    .uid
                    .as_deref()
                    .and_then(|u| <[u8; 7]>::try_from(u).ok());
                ultralight_chip(Ultralight::new(
                    uid.unwrap_or_else(|| Ultralight::uid_for(0)),
                ))
            }
            Kind::Plus2K => plus_chip(Plus::new(Layout::TwoK, options.uid.as_deref())),
            Kind::Plus4K => plus_chip(Plus::new(Layout::FourK, options.uid.as_deref())),
            Kind::Cos => Chip::Cos(cos_card(Protocol::T0, options)),
            Kind::CosT1 => Chip::Cos(cos_card(Protocol::T1, options)),
        }
    }

    /// Whether `options` suit a card of `kind` (a UID the chip can have).
    pub(crate) fn check_options(kind: Kind, options: &Options) -> Result<(), String> {
        match (kind, &options.uid) {
            (Kind::Classic1K | Kind::Classic4K | Kind::Plus2K | Kind::Plus4K, Some(uid)) => {
                classic::check_uid(uid)
            }
            (Kind::Ultralight, Some(uid)) => ultralight::check_uid(uid),
            _ => Ok(()),
        }
    }

    /// The UID of card number `n` in a stream of fresh cards, for kinds that have one.
    pub(crate) fn numbered_uid(kind: Kind, n: u32) -> Option<Vec<u8>> {
        match kind {
            Kind::Classic1K | Kind::Classic4K => Some(classic::uid_for_position(n).to_vec()),
            Kind::Ultralight => Some(Ultralight::uid_for(u64::from(n)).to_vec()),
            Kind::Plus2K | Kind::Plus4K => Some(plus::uid_for_position(n).to_vec()),
            _ => None,
        }
    }

    /// Rebuilds a card of `kind` from the `card` part of an image.
    pub(crate) fn from_image(kind: Kind, card: serde_json::Value) -> Result<Chip, String> {
        match kind {
            Kind::Iso7816 => FileCard::from_image(Protocol::T1, card).map(Chip::File),
            Kind::Iso7816T0 => FileCard::from_image(Protocol::T0, card).map(Chip::File),
            Kind::Classic1K => Classic::from_image(Layout::OneK, card).map(classic_chip),
            Kind::Classic4K => Classic::from_image(Layout::FourK, card).map(classic_chip),
            Kind::Ultralight => Ultralight::from_image(card).map(ultralight_chip),
            Kind::Plus2K => Plus::from_image(Layout::TwoK, card).map(plus_chip),
            Kind::Plus4K => Plus::from_image(Layout::FourK, card).map(plus_chip),
            Kind::Cos => CosCard::from_image(Protocol::T0, card).map(Chip::Cos),
            Kind::CosT1 => CosCard::from_image(Protocol::T1, card).map(Chip::Cos),
        }
    }

    /// The same card in a reader of `model` (contact cards have no contactless reader: the
    /// model is ignored).
    pub(crate) fn with_model(self, model: ReaderModel) -> Chip {
        match self {
            Chip::File(card) => Chip::File(card),
            Chip::Cos(card) => Chip::Cos(card),
            Chip::Classic(reader) => Chip::Classic(reader.with_model(model)),
            Chip::Ultralight(reader) => Chip::Ultralight(reader.with_model(model)),
            Chip::Plus(reader) => Chip::Plus(reader.with_model(model)),
        }
    }

    /// Whether the card sits behind a contactless reader (a [`ReaderModel`] applies).
    pub(crate) fn is_contactless(&self) -> bool {
        !matches!(self, Chip::File(_) | Chip::Cos(_))
    }

    /// The answer-to-reset.
    pub(crate) fn atr(&self) -> &[u8] {
        match self {
            Chip::File(card) => card.atr(),
            Chip::Cos(card) => card.atr(),
            Chip::Classic(reader) => reader.atr(),
            Chip::Ultralight(reader) => reader.atr(),
            Chip::Plus(reader) => reader.atr(),
        }
    }

    /// Answers one command APDU; never panics, whatever the bytes.
    pub(crate) fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        match self {
            Chip::File(card) => card.transmit(command),
            Chip::Cos(card) => card.transmit(command),
            Chip::Classic(reader) => reader.transmit(command),
            Chip::Ultralight(reader) => reader.transmit(command),
            Chip::Plus(reader) => reader.transmit(command),
        }
    }

    /// Warm reset: forgets volatile state, keeps persistent state.
    pub(crate) fn reset(&mut self) {
        match self {
            Chip::File(card) => card.reset(),
            Chip::Cos(card) => card.reset(),
            Chip::Classic(reader) => reader.reset(),
            Chip::Ultralight(reader) => reader.reset(),
            Chip::Plus(reader) => reader.reset(),
        }
    }
}

/// A chip serializes as the `card` part of its image: its persistent state only.
impl Serialize for Chip {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Chip::File(card) => card.serialize(serializer),
            Chip::Cos(card) => card.serialize(serializer),
            Chip::Classic(reader) => reader.serialize(serializer),
            Chip::Ultralight(reader) => reader.serialize(serializer),
            Chip::Plus(reader) => reader.serialize(serializer),
        }
    }
}

/// A fresh file card: its serial from its position, its challenges from the seed (or the OS).
fn file_card(protocol: Protocol, options: &Options) -> FileCard {
    let position = options.position.unwrap_or(0);
    let rng = challenge::fresh_state(options.seed, position);
    FileCard::demo(protocol, position, rng)
}

/// A blank COS card: its serial from its position, its challenges from the seed (or the OS).
fn cos_card(protocol: Protocol, options: &Options) -> CosCard {
    let position = options.position.unwrap_or(0);
    CosCard::blank(
        protocol,
        position,
        challenge::fresh_state(options.seed, position),
    )
}

fn classic_chip(card: Classic) -> Chip {
    Chip::Classic(Frontend::new(card))
}

fn ultralight_chip(chip: Ultralight) -> Chip {
    Chip::Ultralight(Frontend::new(Tag::new(chip)))
}

fn plus_chip(card: Plus) -> Chip {
    Chip::Plus(Frontend::new(card))
}
