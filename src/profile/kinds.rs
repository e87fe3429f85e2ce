//! The closed vocabularies of a profile: card kinds, irreversible operation kinds and the
//! error policy, each with the exact spelling a profile uses.
//!
//! Parsing is by exact name; the caller turns a miss into a located error that lists
//! [`Vocabulary::names`]. This file does not decide what an irreversible operation is on the
//! wire (that is the reader's guard); it only names the kinds a profile may allow.

use std::fmt;

use crate::reader::guard::Operation;

/// A closed set of names, spelled as in profiles.
pub trait Vocabulary: Sized + Copy + 'static {
    /// What the set is called in messages (`card kind`).
    const WHAT: &'static str;
    /// Every member with its profile spelling, in documentation order.
    const ALL: &'static [(&'static str, Self)];

    /// The member spelled `name`, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }

    /// The profile spelling of this member.
    fn name(self) -> &'static str;

    /// All spellings, backticked and comma-separated, for messages.
    fn names() -> String {
        let names: Vec<String> = Self::ALL.iter().map(|(n, _)| format!("`{n}`")).collect();
        names.join(", ")
    }
}

macro_rules! vocabulary {
    ($ty:ident, $what:literal, $($name:literal => $variant:ident),+ $(,)?) => {
        impl Vocabulary for $ty {
            const WHAT: &'static str = $what;
            const ALL: &'static [(&'static str, Self)] = &[$(($name, $ty::$variant)),+];
            fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// The card a profile is written for (`card:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardKind {
    /// An ISO 7816-4 file card (contact).
    Iso7816,
    /// MIFARE Classic 1K.
    Classic1k,
    /// MIFARE Classic 4K.
    Classic4k,
    /// MIFARE Ultralight.
    Ultralight,
    /// MIFARE Plus 2K.
    Plus2k,
    /// MIFARE Plus 4K.
    Plus4k,
    /// Any card: the profile does not depend on the kind (the default).
    Any,
}

vocabulary!(CardKind, "card kind",
    "iso7816" => Iso7816,
    "classic-1k" => Classic1k,
    "classic-4k" => Classic4k,
    "ultralight" => Ultralight,
    "plus-2k" => Plus2k,
    "plus-4k" => Plus4k,
    "any" => Any,
);

impl CardKind {
    /// Whether a profile for `self` can include steps written for `other`.
    pub fn accepts(self, other: CardKind) -> bool {
        self == other || self == CardKind::Any || other == CardKind::Any
    }

    /// Whether cards of this kind are contact cards, which have no UID (a batch needs the
    /// profile's `identify:` to tell them apart).
    pub fn is_contact(self) -> bool {
        self == CardKind::Iso7816
    }
}

/// A kind of irreversible operation a profile may perform when the run is armed
/// (`irreversible:`). Anything not listed stays refused even in an armed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Irreversible {
    /// Writing a MIFARE Classic sector trailer whose access bits can never change again.
    ClassicTrailerLock,
    /// Writing access bits that freeze data blocks (read-only or dead for good). Such a write
    /// also locks the trailer, so it needs `classic-trailer-lock` listed too.
    ClassicFrozen,
    /// Setting MIFARE Ultralight lock bits.
    UlLock,
    /// Writing the MIFARE Ultralight OTP page (bits can only be set).
    UlOtp,
    /// MIFARE Plus CommitPerso (leaves security level 0 for good).
    MfpCommit,
    /// COS LOCK KEY: a key locked for good (the install key: the structure is final).
    CosKeyLock,
    /// COS CREATE FILE of a file whose delete condition is never.
    CosPermanentFile,
}

impl Irreversible {
    /// The guard's name for this kind.
    pub fn operation(self) -> Operation {
        match self {
            Irreversible::ClassicTrailerLock => Operation::ClassicTrailerLock,
            Irreversible::ClassicFrozen => Operation::ClassicFrozen,
            Irreversible::UlLock => Operation::UlLock,
            Irreversible::UlOtp => Operation::UlOtp,
            Irreversible::MfpCommit => Operation::MfpCommit,
            Irreversible::CosKeyLock => Operation::CosKeyLock,
            Irreversible::CosPermanentFile => Operation::CosPermanentFile,
        }
    }
}

vocabulary!(Irreversible, "irreversible operation kind",
    "classic-trailer-lock" => ClassicTrailerLock,
    "classic-frozen" => ClassicFrozen,
    "ul-lock" => UlLock,
    "ul-otp" => UlOtp,
    "mfp-commit" => MfpCommit,
    "cos-key-lock" => CosKeyLock,
    "cos-permanent-file" => CosPermanentFile,
);

/// What a batch does when a step fails on a card (`on-error:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnError {
    /// Record the card as rejected and go on with the next card (the default).
    #[default]
    Reject,
    /// Stop the batch.
    Abort,
}

vocabulary!(OnError, "error policy",
    "reject" => Reject,
    "abort" => Abort,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &(name, kind) in CardKind::ALL {
            assert_eq!(CardKind::from_name(name), Some(kind));
            assert_eq!(kind.to_string(), name);
        }
        for &(name, kind) in Irreversible::ALL {
            assert_eq!(Irreversible::from_name(name), Some(kind));
        }
        assert_eq!(OnError::from_name("abort"), Some(OnError::Abort));
        assert_eq!(CardKind::from_name("Ultralight"), None);
        assert_eq!(OnError::names(), "`reject`, `abort`");
    }

    #[test]
    fn any_card_accepts_every_kind() {
        assert!(CardKind::Any.accepts(CardKind::Plus2k));
        assert!(CardKind::Ultralight.accepts(CardKind::Any));
        assert!(!CardKind::Ultralight.accepts(CardKind::Classic1k));
    }
}
