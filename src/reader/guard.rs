//! The irreversible-operation guard: one place that decides which commands can brick a card.
//!
//! [`classify`] looks at the raw bytes of a command, knowing the card family from the ATR,
//! and says whether it is harmless, irreversible (allowed only when the run is armed) or
//! malformed in a way no run may send (MIFARE Classic access bits whose inverted copies
//! disagree: the sector dies). [`Guarded`] is the [`Card`] decorator that enforces the
//! verdict below every script function, so a raw `send` is guarded like the helpers are.
//!
//! Rules (design.md "Safety"):
//! - MIFARE Classic: `FF D6` (short or extended, one block or several) to a sector trailer
//!   whose access bits are malformed (always refused) or can never be written again
//!   (protocols.md §4.3: trailer conditions 000, 010, 100, 110, 111). Such a write is the
//!   kind `classic-trailer-lock`, and also `classic-frozen` when it leaves data groups
//!   read-only or dead for ever (§4.5); frozen-looking data conditions under access bits that
//!   can still be rewritten are not irreversible, and are allowed.
//! - MIFARE Ultralight: lock bits (page 2 bytes 2-3) and OTP bits (page 3) set through
//!   `FF D6`, or through the Omnikey generic session's `A2`/`A0` frames (protocols.md §6.3).
//! - MIFARE Plus: CommitPerso `AA`, sent directly or as an I-block in the generic session;
//!   WritePerso of a sector trailer with malformed access bits (always refused, `perso.rs`).
//!
//! This module does not know about scripts; it refuses with [`Error::Refused`].

use super::{Card, Error, omnikey};
use crate::apdu::{Command, hex};
use crate::mifare::access;
use crate::mifare::classic::Layout;
use crate::mifare::plus::COMMIT_PERSO;
use crate::mifare::ultralight;

mod perso;

/// The card family, as far as the guard needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A MIFARE Classic (or MIFARE Plus in SL1) with this layout.
    Classic(Layout),
    /// A MIFARE Ultralight.
    Ultralight,
    /// Anything else: ISO 7816 cards, ISO 14443-4 cards (MIFARE Plus in SL0 among them).
    Other,
}

impl Family {
    /// Reads the family from a PC/SC Part 3 storage-card ATR (protocols.md §2.3).
    pub fn from_atr(atr: &[u8]) -> Family {
        use super::atr::{card_name, storage_card_name};
        match storage_card_name(atr) {
            Some(card_name::CLASSIC_1K) => Family::Classic(Layout::OneK),
            Some(card_name::CLASSIC_4K | card_name::PLUS_SL1_4K) => Family::Classic(Layout::FourK),
            Some(card_name::PLUS_SL1_2K) => Family::Classic(Layout::TwoK),
            Some(card_name::ULTRALIGHT) => Family::Ultralight,
            _ => Family::Other,
        }
    }
}

/// What the guard thinks of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Harmless, or at least reversible.
    Allow,
    /// Can never be undone: only when armed. The text says what and why.
    Irreversible(String),
    /// Must never be sent. The text says what is wrong.
    Forbidden(String),
}

/// Classifies a command for a card of `family`.
pub fn classify(family: Family, command: &[u8]) -> Verdict {
    if let Some(verdict) = commit_perso(command) {
        return verdict;
    }
    if let Some(verdict) = perso::write_perso_trailer(command) {
        return verdict;
    }
    match family {
        Family::Classic(layout) => classic_write(layout, command),
        Family::Ultralight => ultralight_write(command),
        Family::Other => Verdict::Allow,
    }
}

/// MIFARE Plus CommitPerso: the bare `AA`, or an I-block `02 AA` / `03 AA` wrapped in an
/// Omnikey transceive (protocols.md §3, §1.1).
fn commit_perso(command: &[u8]) -> Option<Verdict> {
    let frame = generic_session_frame(command);
    let is_commit = command == [COMMIT_PERSO]
        || matches!(
            frame,
            Some([0x02 | 0x03, COMMIT_PERSO]) | Some([COMMIT_PERSO])
        );
    is_commit.then(|| {
        Verdict::Irreversible(
            "MIFARE Plus CommitPerso (`AA`) ends security level 0 for good".to_string(),
        )
    })
}

/// The layer-3 frame inside an Omnikey generic-session transceive
/// `FF A0 00 05 Lc 01 00 F3 00 00 64 <frame> [Le]`.
fn generic_session_frame(command: &[u8]) -> Option<&[u8]> {
    omnikey::frame_of(command).map(|(_, frame)| frame)
}

/// The first block and the data of an UPDATE BINARY `FF D6`, short or extended, read as
/// the card would: a malformed APDU is still judged on the bytes after its Lc, since a
/// lenient reader might write them.
fn classic_update(command: &[u8]) -> Option<(u16, Vec<u8>)> {
    let [0xFF, 0xD6, msb, lsb, lc, rest @ ..] = command else {
        return None;
    };
    let start = u16::from_be_bytes([*msb, *lsb]);
    match Command::parse(command) {
        Ok(parsed) => Some((start, parsed.data)),
        Err(_) => Some((start, rest[..rest.len().min(usize::from(*lc))].to_vec())),
    }
}

/// The sector trailers an `FF D6` writes, each with its access bytes 6–8: one block of 16
/// bytes, or several consecutive blocks on readers that take multiples of 16 (protocols.md
/// §2.1). [`classic_write`] and [`classic_operations`] both judge this list, so the verdict
/// and the kinds it is checked against come from the same trailers.
fn written_trailers(layout: Layout, command: &[u8]) -> Vec<(u8, [u8; 3])> {
    let Some((start, data)) = classic_update(command) else {
        return Vec::new();
    };
    data.chunks_exact(16)
        .enumerate()
        .filter_map(|(i, chunk)| {
            let block = u8::try_from(usize::from(start) + i).ok()?;
            layout
                .is_trailer(block)
                .then_some((block, [chunk[6], chunk[7], chunk[8]]))
        })
        .collect()
}

/// Judges every sector trailer an `FF D6` writes. A malformed trailer anywhere makes the
/// whole command forbidden.
fn classic_write(layout: Layout, command: &[u8]) -> Verdict {
    let mut verdict = Verdict::Allow;
    for (block, bytes) in written_trailers(layout, command) {
        match trailer_verdict(layout, block, bytes) {
            forbidden @ Verdict::Forbidden(_) => return forbidden,
            Verdict::Irreversible(why) if verdict == Verdict::Allow => {
                verdict = Verdict::Irreversible(why);
            }
            _ => {}
        }
    }
    verdict
}

fn trailer_verdict(layout: Layout, block: u8, bytes: [u8; 3]) -> Verdict {
    let sector = layout.sector_of(block).unwrap_or(0);
    match access::decode(bytes) {
        Err(malformed) => Verdict::Forbidden(format!(
            "write to sector {sector} trailer (block {block}) refused: {malformed}; the sector would be dead"
        )),
        Ok(bits) if access::is_irreversible(&bits) => {
            let frozen = match access::frozen_groups(&bits).as_slice() {
                [] => String::new(),
                [group] => format!(", and freezes data group {group} (read-only or dead)"),
                groups => format!(
                    ", and freezes data groups {} (read-only or dead)",
                    groups
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            Verdict::Irreversible(format!(
                "write to sector {sector} trailer (block {block}) sets access bits `{}` ({bits}): trailer condition {} \
                 makes the access bits read-only for ever{frozen}",
                hex::format(&bytes),
                bits.trailer()
            ))
        }
        Ok(_) => Verdict::Allow,
    }
}

/// Pages written by a command and their data: `FF D6 00 <page> 04|10`, or the generic
/// session's `A2 <page> <4>` / `A0 <page> <16>` (only the first 4 bytes are stored).
fn ultralight_pages(command: &[u8]) -> Vec<(u8, [u8; 4])> {
    let mut pages = Vec::new();
    let mut push = |first: u8, data: &[u8]| {
        for (i, chunk) in data.chunks_exact(4).enumerate() {
            let page = first.wrapping_add(i as u8);
            pages.push((page, [chunk[0], chunk[1], chunk[2], chunk[3]]));
        }
    };
    match command {
        [0xFF, 0xD6, 0x00, page, len @ (0x04 | 0x10), data @ ..] if data.len() == *len as usize => {
            push(*page, data)
        }
        _ => match generic_session_frame(command) {
            Some([0xA2, page, data @ ..]) if data.len() == 4 => push(*page, data),
            Some([0xA0, page, data @ ..]) if data.len() == 16 => push(*page, &data[..4]),
            _ => {}
        },
    }
    pages
}

/// The kind of a page write that can never be undone: lock bits set in page 2, or OTP bits
/// set in page 3; `None` for any other write. The one rule behind both [`ultralight_write`]
/// and [`operations`], so the verdict and its kind cannot disagree.
fn ultralight_kind(page: u8, data: [u8; 4]) -> Option<Operation> {
    if page == ultralight::LOCK_PAGE && (data[2] != 0 || data[3] != 0) {
        Some(Operation::UlLock)
    } else if page == ultralight::OTP_PAGE && data != [0; 4] {
        Some(Operation::UlOtp)
    } else {
        None
    }
}

fn ultralight_write(command: &[u8]) -> Verdict {
    for (page, data) in ultralight_pages(command) {
        match ultralight_kind(page, data) {
            Some(Operation::UlLock) => {
                let locked = ultralight::locked_pages(data[2], data[3]);
                return Verdict::Irreversible(format!(
                    "write of lock bytes `{:02X} {:02X}` to Ultralight page 2 makes pages {locked:?} read-only for ever",
                    data[2], data[3]
                ));
            }
            Some(Operation::UlOtp) => {
                return Verdict::Irreversible(format!(
                    "write of `{}` to the Ultralight OTP page 3 sets bits that can never be cleared",
                    hex::format(&data)
                ));
            }
            _ => {}
        }
    }
    Verdict::Allow
}

/// The kind of an irreversible command, for runs that allow some kinds and not others (a
/// profile's `irreversible:` list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// A MIFARE Classic trailer write that makes the access bits read-only for ever.
    ClassicTrailerLock,
    /// A MIFARE Classic trailer write that, locking the access bits, also leaves data blocks
    /// read-only or dead for ever (always comes with [`Operation::ClassicTrailerLock`]).
    ClassicFrozen,
    /// MIFARE Ultralight lock bits (page 2).
    UlLock,
    /// MIFARE Ultralight OTP bits (page 3).
    UlOtp,
    /// MIFARE Plus CommitPerso.
    MfpCommit,
}

impl Operation {
    /// The profile spelling (`irreversible:`).
    pub fn name(self) -> &'static str {
        match self {
            Operation::ClassicTrailerLock => "classic-trailer-lock",
            Operation::ClassicFrozen => "classic-frozen",
            Operation::UlLock => "ul-lock",
            Operation::UlOtp => "ul-otp",
            Operation::MfpCommit => "mfp-commit",
        }
    }
}

/// Which kinds of irreversible operation a command performs, when [`classify`] says it is
/// irreversible; empty otherwise. One MIFARE Classic write can be two kinds: a trailer that
/// locks the access bits and, with them, freezes data blocks.
pub fn operations(family: Family, command: &[u8]) -> Vec<Operation> {
    if !matches!(classify(family, command), Verdict::Irreversible(_)) {
        return Vec::new();
    }
    if commit_perso(command).is_some() {
        return vec![Operation::MfpCommit];
    }
    match family {
        Family::Classic(layout) => classic_operations(layout, command),
        Family::Ultralight => ultralight_pages(command)
            .into_iter()
            .filter_map(|(page, data)| ultralight_kind(page, data))
            .fold(Vec::new(), with),
        Family::Other => Vec::new(),
    }
}

/// The kinds of every irreversible trailer an `FF D6` writes.
fn classic_operations(layout: Layout, command: &[u8]) -> Vec<Operation> {
    let mut kinds = Vec::new();
    for (_, bytes) in written_trailers(layout, command) {
        let Ok(bits) = access::decode(bytes) else {
            continue;
        };
        if access::is_irreversible(&bits) {
            kinds = with(kinds, Operation::ClassicTrailerLock);
            if !access::frozen_groups(&bits).is_empty() {
                kinds = with(kinds, Operation::ClassicFrozen);
            }
        }
    }
    kinds
}

/// `kinds` with `kind` added once.
fn with(mut kinds: Vec<Operation>, kind: Operation) -> Vec<Operation> {
    if !kinds.contains(&kind) {
        kinds.push(kind);
    }
    kinds
}

/// A card that refuses irreversible commands unless armed, and malformed ones always.
pub struct Guarded {
    inner: Box<dyn Card>,
    family: Family,
    armed: bool,
    /// When set, an armed run still refuses the irreversible kinds not listed.
    allowed: Option<Vec<Operation>>,
}

impl Guarded {
    /// Wraps `inner`; the family is read from its ATR now and after every reset.
    pub fn new(inner: Box<dyn Card>, armed: bool) -> Guarded {
        let family = Family::from_atr(inner.atr());
        Guarded {
            inner,
            family,
            armed,
            allowed: None,
        }
    }

    /// Allows only these kinds of irreversible operation, even when armed (a profile's
    /// `irreversible:` list). Without this call an armed run allows every kind.
    pub fn only(mut self, allowed: Vec<Operation>) -> Guarded {
        self.allowed = Some(allowed);
        self
    }
}

impl Card for Guarded {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }

    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        match classify(self.family, command) {
            Verdict::Allow => {}
            Verdict::Irreversible(why) if self.armed => {
                if let Some(allowed) = &self.allowed {
                    let missing: Vec<&str> = operations(self.family, command)
                        .into_iter()
                        .filter(|kind| !allowed.contains(kind))
                        .map(Operation::name)
                        .collect();
                    if !missing.is_empty() {
                        return Err(Error::Refused {
                            reason: format!(
                                "{why} (the run is armed, but the profile's `irreversible:` does not list `{}`)",
                                missing.join("`, `")
                            ),
                        });
                    }
                }
            }
            Verdict::Irreversible(why) => {
                return Err(Error::Refused {
                    reason: format!("{why} (pass --arm-irreversible to allow it)"),
                });
            }
            Verdict::Forbidden(why) => return Err(Error::Refused { reason: why }),
        }
        self.inner.transmit(command)
    }

    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        let atr = self.inner.reset()?;
        // A MIFARE Plus switched to SL1 comes back as a Classic: re-read the family.
        self.family = Family::from_atr(&atr);
        Ok(atr)
    }
}

#[cfg(test)]
mod tests;
