//! Simulated hardware: a card (and the reader it sits in) that lives in this process.
//!
//! A [`Simulator`] owns the state of one card of a [`Kind`]; [`Simulator::card`] hands out
//! [`reader::Card`] handles that share it, so scripts and profiles run unchanged against a
//! simulated card. [`Simulator::open`] and [`Simulator::save`] move the persistent state to
//! and from a JSON card image (`--sim-state`), so several runs can act on the same card.
//!
//! [`SimReader`] presents a stream of fresh cards with deterministic UIDs ([`uid_for`]),
//! so batches run without hardware.
//!
//! The chips live in submodules (`iso7816` is the ISO 7816-4 file card, `classic` MIFARE
//! Classic 1K/4K, `ultralight` MIFARE Ultralight, `plus` MIFARE Plus S 2K/4K from SL0 to
//! SL1); contactless chips sit behind `frontend`, the simulated PC/SC reader (Omnikey
//! 5421-like) that answers the pseudo-APDUs and passes ISO 14443-4 commands through.
//! Nothing here prints or uses OS randomness, and only `vpcd` (the bridge to pcscd, which
//! talks TCP) reads a clock: a simulated card is a deterministic function of its image and
//! the APDUs it receives. Card answers are status words, never `Err`.

mod card;
mod chip;
mod classic;
mod cos;
#[cfg(test)]
mod differential;
mod error;
mod frontend;
mod image;
mod iso7816;
mod kind;
mod plus;
pub mod replay;
mod serde_hex;
pub mod serial;
mod stream;
mod tree;
pub mod ultralight;
pub mod vpcd;

use std::path::Path;
use std::sync::{Arc, Mutex};

pub use error::Error;
pub use frontend::ReaderModel;
pub use kind::Kind;
pub use stream::{SimReader, synthetic_identity, uid_for};

use crate::reader;
use card::{SimCard, lock};
use chip::Chip;

/// Options for a fresh simulated card.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The card's UID; ignored by kinds that have none (the ISO 7816-4 file card has none).
    pub uid: Option<Vec<u8>>,
    /// The card's place (0-based) in a stream of fresh cards; `None` is the default card,
    /// position 0. Contact cards take their IC serial number (CPLC) from it.
    pub position: Option<u64>,
    /// The seed of the card's random numbers (GET CHALLENGE), `--sim-seed`; `None` draws
    /// them from the operating system, so no two fresh cards answer alike.
    pub seed: Option<u64>,
    /// The simulated reader a contactless card sits in (`--sim-reader`); contact cards
    /// ignore it.
    pub reader: ReaderModel,
}

impl Options {
    /// Options for card number `n` of a stream of fresh cards (batch runs): kinds with a UID
    /// get a distinct, deterministic one per position (MIFARE Classic: `CF` + 3 bytes, the
    /// first 2^24 positions all distinct; position 0 is the default card).
    pub fn numbered(kind: Kind, n: u32) -> Options {
        Options {
            uid: Chip::numbered_uid(kind, n),
            position: Some(u64::from(n)),
            seed: None,
            reader: ReaderModel::default(),
        }
    }

    /// Options for the card at `position` (0-based) of a stream, with the stream's `seed`:
    /// the UID of [`uid_for`] and the position for cards without a UID.
    pub fn in_stream(kind: Kind, position: u64, seed: Option<u64>) -> Options {
        Options {
            uid: uid_for(kind, position),
            position: Some(position),
            seed,
            reader: ReaderModel::default(),
        }
    }
}

/// One simulated card: its kind and its state, shared by every handle from [`Simulator::card`].
///
/// Cloning a simulator does not copy the card: the clone is another way to the same one.
#[derive(Debug, Clone)]
pub struct Simulator {
    kind: Kind,
    chip: Arc<Mutex<Chip>>,
    reader: ReaderModel,
}

impl Simulator {
    /// A fresh card of `kind` with its default contents.
    pub fn new(kind: Kind, options: &Options) -> Simulator {
        Simulator::from_chip(kind, Chip::new(kind, options), options.reader)
    }

    /// Loads the card image at `state` if that file exists, else starts a fresh card.
    ///
    /// An image of another kind, or one that is not a valid image, is an error; a missing
    /// file is not (the first run of a `--sim-state` series creates it on save).
    pub fn open(kind: Kind, options: &Options, state: Option<&Path>) -> Result<Simulator, Error> {
        Simulator::check_options(kind, options)?;
        let loaded = match state {
            Some(path) => image::load(kind, path)?,
            None => None,
        };
        Ok(match loaded {
            Some(chip) => Simulator::from_chip(kind, chip, options.reader),
            None => Simulator::new(kind, options),
        })
    }

    /// Checks that `options` suit `kind` (a MIFARE Classic UID has 4 or 7 bytes, …).
    /// [`Simulator::new`] replaces an unsuitable UID with the default one instead.
    pub fn check_options(kind: Kind, options: &Options) -> Result<(), Error> {
        Chip::check_options(kind, options).map_err(|message| Error::Options { kind, message })
    }

    fn from_chip(kind: Kind, chip: Chip, reader: ReaderModel) -> Simulator {
        Simulator {
            kind,
            chip: Arc::new(Mutex::new(chip.with_model(reader))),
            reader,
        }
    }

    /// A connected handle to the card, sharing its state with every other handle.
    ///
    /// The reader is named after the kind, e.g. `Simulated reader (iso7816)`; a contactless
    /// card in another reader model than the default gets that reader's name as the CCID
    /// driver reports it, e.g. `ACS ACR122U PICC Interface (simulated classic-1k)`.
    pub fn card(&self) -> Box<dyn reader::Card + Send> {
        let chip = lock(&self.chip);
        let atr = chip.atr().to_vec();
        let reader = match self.reader.ccid_name() {
            Some(name) if chip.is_contactless() => format!("{name} (simulated {})", self.kind),
            _ => self.kind.reader_name(),
        };
        drop(chip);
        Box::new(SimCard {
            chip: Arc::clone(&self.chip),
            atr,
            reader,
        })
    }

    /// The simulated reader model the card sits in.
    pub fn reader_model(&self) -> ReaderModel {
        self.reader
    }

    /// Writes the card's persistent state as a JSON image (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        image::save(self.kind, &self.chip, path)
    }

    /// The kind of card simulated.
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

#[cfg(test)]
mod tests;
