//! Which card the simulator plays: the `--sim KIND` names.
//!
//! Adding a kind means a variant here, its name in [`Kind::name`] and [`Kind::all`], and an
//! arm in `chip.rs`. This file knows nothing about how a kind behaves.

use std::fmt;
use std::str::FromStr;

use super::Error;

/// A kind of simulated card, as chosen with `--sim KIND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// ISO 7816-4 file card over T=1: answers with data directly.
    Iso7816,
    /// The same file card over T=0: `61xx` for case-4 commands, `6Cxx` for a wrong Le.
    Iso7816T0,
    /// MIFARE Classic 1K behind an Omnikey-like PC/SC reader.
    Classic1K,
    /// MIFARE Classic 4K behind an Omnikey-like PC/SC reader.
    Classic4K,
    /// MIFARE Ultralight (MF0ICU1) behind an Omnikey-like PC/SC reader.
    Ultralight,
    /// MIFARE Plus S 2K, fresh in security level 0, behind an Omnikey-like PC/SC reader.
    Plus2K,
    /// MIFARE Plus S 4K, fresh in security level 0, behind an Omnikey-like PC/SC reader.
    Plus4K,
    /// The file card of the source documents' COS (keys, PINs, CREATE FILE `F2`) over T=0.
    Cos,
    /// The same COS card over T=1.
    CosT1,
}

impl Kind {
    /// The name used on the command line and in card images.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Iso7816 => "iso7816",
            Kind::Iso7816T0 => "iso7816-t0",
            Kind::Classic1K => "classic-1k",
            Kind::Classic4K => "classic-4k",
            Kind::Ultralight => "ultralight",
            Kind::Plus2K => "plus-2k",
            Kind::Plus4K => "plus-4k",
            Kind::Cos => "cos",
            Kind::CosT1 => "cos-t1",
        }
    }

    /// Every kind, in the order they are listed to users.
    pub fn all() -> &'static [Kind] {
        &[
            Kind::Iso7816,
            Kind::Iso7816T0,
            Kind::Classic1K,
            Kind::Classic4K,
            Kind::Ultralight,
            Kind::Plus2K,
            Kind::Plus4K,
            Kind::Cos,
            Kind::CosT1,
        ]
    }

    /// The name of the simulated reader the card sits in.
    pub fn reader_name(self) -> String {
        format!("Simulated reader ({})", self.name())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = Error;

    /// Parses a kind name; the error lists the valid names.
    fn from_str(s: &str) -> Result<Kind, Error> {
        Kind::all()
            .iter()
            .copied()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| Error::UnknownKind {
                name: s.to_owned(),
                valid: Kind::all()
                    .iter()
                    .map(|kind| kind.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}
