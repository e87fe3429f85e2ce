//! The irreversible-operation guard: one place that decides which commands can brick a card.
//!
//! The guard does not read byte shapes itself: every command goes through the one decoder of
//! reader framings ([`super::framing`]), the same one the simulated reader acts on, and the
//! guard judges the native command the chip receives — and, where a real reader might be
//! more lenient than the simulated one, what it would deliver. [`Guarded`] keeps a decoder per
//! card (generic session open or not, a COMPATIBILITY WRITE announced, a chain in progress),
//! advances it only for commands it lets through, and starts afresh on reset. When the
//! reader's answer does not show that it carried a command which changes how later frames
//! are read (a reader of another family refuses `FF A0`, `FF C2` or `FF 00` commands), the
//! guard follows both states and judges every command in each.
//!
//! Rules (design.md "Safety", README "What the guard decodes"):
//! - MIFARE Classic: a write to a sector trailer whose access bits are malformed (always
//!   refused) or can never be written again (protocols.md §4.3: trailer conditions 000, 010,
//!   100, 110, 111) — `classic-trailer-lock`, and also `classic-frozen` when it leaves data
//!   groups read-only or dead for ever (§4.5) — by `FF D6` or a COMPATIBILITY WRITE frame.
//! - MIFARE Ultralight: lock bits (page 2 bytes 2-3) and OTP bits (page 3) set by `FF D6`,
//!   WRITE `A2` or COMPATIBILITY WRITE `A0` (one frame or two).
//! - ISO 14443-4 commands (passed through, or in I-blocks with any CID/NAD, chained or not):
//!   CommitPerso `AA` (any length) is `mfp-commit`; WritePerso (one block or EV1 multi-block)
//!   of a sector trailer with malformed access bits is always refused (`perso.rs`).
//! - The file-card COS (`cos.rs`, any wrapping): LOCK KEY `5C 03` is `cos-key-lock`, CREATE
//!   FILE `F2` of a file that can never be deleted `cos-permanent-file`.
//! - Fail closed: on a card whose kind has irreversible commands (Classic, Ultralight, an
//!   ISO 14443-4 card such as a MIFARE Plus in SL0), a raw frame the guard cannot classify
//!   with certainty — an unknown layer-3 frame, any frame to a Classic but READ/HALT/RATS, an
//!   S(DESELECT), a raw channel the decoder does not decode, a frame whose delivery would
//!   change what later frames mean on a lenient reader — counts as every irreversible kind of
//!   that card: refused unless armed.
//! - After the RF field was switched off and on, or the chip activated afresh by a reader
//!   command (PC/SC Part 3 `83`/`84`, PN532 InListPassiveTarget…), the chip may be another
//!   one (a MIFARE Plus comes back in its new level) while the ATR the guard read is the
//!   old one: until a reset, every write or frame counts as every irreversible kind.
//!
//! Refusal texts name the kind, the block or page and what the write would do, never the data
//! bytes (they may be keys); a trailer's access bits are shown, its keys never.
//!
//! This module does not know about scripts; it refuses with [`Error::Refused`].

use super::framing::{Decoded, Decoder, Doubt, Frame, Layer3, Native, Protocol};
use super::{Card, Error};
use crate::apdu::hex;
use crate::mifare::access;
use crate::mifare::classic::Layout;
use crate::mifare::plus::COMMIT_PERSO;
use crate::mifare::ultralight;

mod cos;
mod perso;

/// The card family, as far as the guard needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A MIFARE Classic (or MIFARE Plus in SL1) with this layout.
    Classic(Layout),
    /// A MIFARE Ultralight.
    Ultralight,
    /// A contactless ISO 14443-4 card (MIFARE Plus in SL0 or SL3, DESFire…).
    IsoDep,
    /// Anything else: contact ISO 7816 cards, storage cards this project does not know.
    Other,
}

impl Family {
    /// Reads the family from the ATR: a PC/SC Part 3 storage-card ATR (protocols.md §2.3) or
    /// the ATR of an ISO 14443-4 card (§2.4).
    pub fn from_atr(atr: &[u8]) -> Family {
        use super::atr::{card_name, is_iso14443_4, storage_card_name};
        match storage_card_name(atr) {
            Some(card_name::CLASSIC_1K) => Family::Classic(Layout::OneK),
            Some(card_name::CLASSIC_4K | card_name::PLUS_SL1_4K) => Family::Classic(Layout::FourK),
            Some(card_name::PLUS_SL1_2K) => Family::Classic(Layout::TwoK),
            Some(card_name::ULTRALIGHT) => Family::Ultralight,
            None if is_iso14443_4(atr) => Family::IsoDep,
            _ => Family::Other,
        }
    }

    /// The irreversible kinds a card of this family has; empty when it has none the guard
    /// knows, and then frames the guard cannot classify pass.
    pub fn irreversible_kinds(self) -> &'static [Operation] {
        match self {
            Family::Classic(_) => &[Operation::ClassicTrailerLock, Operation::ClassicFrozen],
            Family::Ultralight => &[Operation::UlLock, Operation::UlOtp],
            Family::IsoDep => &[Operation::MfpCommit],
            Family::Other => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::Classic(_) => "a MIFARE Classic",
            Family::Ultralight => "a MIFARE Ultralight",
            Family::IsoDep => "an ISO 14443-4 card (a MIFARE Plus in SL0?)",
            Family::Other => "this card",
        }
    }

    /// The protocol frames are read in when only the family is known.
    fn protocol(self) -> Protocol {
        match self {
            Family::Classic(_) | Family::Ultralight => Protocol::Layer3,
            Family::IsoDep | Family::Other => Protocol::IsoDep,
        }
    }
}

/// What the guard thinks of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Harmless, or at least reversible.
    Allow,
    /// Can never be undone, or cannot be classified with certainty: only when armed. The
    /// text says what and why.
    Irreversible(String),
    /// Must never be sent. The text says what is wrong.
    Forbidden(String),
}

/// A verdict and the irreversible kinds behind it, decided together so they cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Judgement {
    verdict: Verdict,
    kinds: Vec<Operation>,
}

impl Judgement {
    const ALLOW: Judgement = Judgement {
        verdict: Verdict::Allow,
        kinds: Vec::new(),
    };

    fn irreversible(why: String, kinds: &[Operation]) -> Judgement {
        Judgement {
            verdict: Verdict::Irreversible(why),
            kinds: kinds.to_vec(),
        }
    }

    fn forbidden(why: String) -> Judgement {
        Judgement {
            verdict: Verdict::Forbidden(why),
            kinds: Vec::new(),
        }
    }

    /// The worse of two: forbidden over irreversible over allowed; kinds add up.
    fn worst(self, other: Judgement) -> Judgement {
        let rank = |v: &Verdict| match v {
            Verdict::Allow => 0,
            Verdict::Irreversible(_) => 1,
            Verdict::Forbidden(_) => 2,
        };
        let mut kinds = self.kinds;
        for kind in other.kinds {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        let verdict = if rank(&other.verdict) > rank(&self.verdict) {
            other.verdict
        } else {
            self.verdict
        };
        Judgement { verdict, kinds }
    }
}

/// Whether a command (delivered, or delivered by a lenient reader) writes or sends a frame
/// to the chip.
fn reaches_chip(decoded: &Decoded) -> bool {
    let writes = |native: &Native| {
        matches!(
            native,
            Native::Update { .. } | Native::Apdu(_) | Native::Frame(_)
        )
    };
    let lenient = match &decoded.doubt {
        Some(Doubt::Lenient { native, .. }) => writes(native),
        Some(Doubt::RawChannel) => true,
        None => false,
    };
    lenient || decoded.outcome.as_ref().is_ok_and(writes)
}

const FIELD_CYCLED: &str = "the RF field was switched off and on (or the card activated \
     afresh) by a reader command, so the card may now be in another state than its ATR says; \
     call `reset()` to read it again";
const TOO_MANY_STATES: &str = "readers' answers left too many framing states possible (commands \
     of other reader families refused or not); call `reset()` to start afresh";

/// When the guard is unsure of the card's state: every irreversible kind.
fn unsure(why: &str) -> Judgement {
    Judgement::irreversible(
        format!("a write or frame after {why}"),
        &[
            Operation::ClassicTrailerLock,
            Operation::ClassicFrozen,
            Operation::UlLock,
            Operation::UlOtp,
            Operation::MfpCommit,
        ],
    )
}

/// Classifies one command for a card of `family`, as the first command to a fresh card: a
/// transceive is judged as if a session were open.
pub fn classify(family: Family, command: &[u8]) -> Verdict {
    judge_command(family, &Decoder::new(family.protocol()), command).verdict
}

/// Which kinds of irreversible operation a command performs (or may perform, when the
/// guard cannot classify it), when [`classify`] says it is irreversible; empty otherwise.
pub fn operations(family: Family, command: &[u8]) -> Vec<Operation> {
    let judgement = judge_command(family, &Decoder::new(family.protocol()), command);
    match judgement.verdict {
        Verdict::Irreversible(_) => judgement.kinds,
        _ => Vec::new(),
    }
}

/// Judges `command` sent to a card whose decoder is in `decoder`'s state.
fn judge_command(family: Family, decoder: &Decoder, command: &[u8]) -> Judgement {
    let mut next = decoder.clone();
    judge(family, &next.feed(command))
}

/// Judges a decoded command: what the simulated reader delivers, and what a lenient reader
/// might deliver instead.
fn judge(family: Family, decoded: &Decoded) -> Judgement {
    let mut judgement = match &decoded.outcome {
        Ok(native) => judge_native(family, native),
        Err(_) => Judgement::ALLOW,
    };
    match &decoded.doubt {
        None => {}
        Some(Doubt::Lenient {
            native,
            changes_state,
        }) => {
            judgement = judgement.worst(judge_native(family, native));
            if *changes_state {
                judgement = judgement.worst(uncertain(
                    family,
                    "a transceive the simulated reader holds back (no session open, or no Le) \
                     that would change how later frames are read if a reader delivered it",
                ));
            }
        }
        Some(Doubt::RawChannel) => {
            judgement = judgement.worst(uncertain(
                family,
                "a reader instruction that carries raw frames in a form the guard does not decode",
            ));
        }
    }
    judgement
}

/// A command the guard cannot classify with certainty: every irreversible kind of the card
/// (nothing on a card without any).
fn uncertain(family: Family, what: &str) -> Judgement {
    let kinds = family.irreversible_kinds();
    if kinds.is_empty() {
        return Judgement::ALLOW;
    }
    Judgement::irreversible(
        format!(
            "{what}, sent to {}, cannot be classified with certainty and could do something \
             irreversible ({}; a profile must list them all in `irreversible:`)",
            family.name(),
            kinds
                .iter()
                .map(|k| format!("`{}`", k.name()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        kinds,
    )
}

fn judge_native(family: Family, native: &Native) -> Judgement {
    match native {
        Native::Update { address, data } => match family {
            Family::Classic(layout) => classic_blocks(layout, *address, data),
            Family::Ultralight => ultralight_pages(*address, data),
            Family::IsoDep | Family::Other => Judgement::ALLOW,
        },
        Native::Apdu(command) => iso_command(command),
        Native::Frame(frame) => judge_frame(family, frame),
        Native::Reader(_)
        | Native::Authenticate { .. }
        | Native::Read { .. }
        | Native::Value { .. } => Judgement::ALLOW,
    }
}

fn judge_frame(family: Family, frame: &Frame) -> Judgement {
    match frame {
        Frame::Command { command, .. } => iso_command(command),
        Frame::Part { .. } => Judgement::ALLOW,
        // R- and S-blocks carry no command, and a card in ISO 14443-4 ignores a frame that is
        // no block; each is judged also as the command it would be to a card that is not in
        // the protocol (`AA 00` is an R(ACK) with a CID, and CommitPerso unframed).
        Frame::Control {
            deselect: false,
            bytes,
        } => iso_command(bytes),
        Frame::Control {
            deselect: true,
            bytes,
        } => iso_command(bytes).worst(uncertain(
            family,
            "an S(DESELECT) frame, after which the card's protocol state is unknown",
        )),
        Frame::Unframed(bytes) => iso_command(bytes),
        Frame::Layer3(command) => match family {
            Family::Ultralight => ultralight_frame(family, command),
            Family::Classic(layout) => classic_frame(family, layout, command),
            Family::IsoDep | Family::Other => Judgement::ALLOW,
        },
    }
}

fn ultralight_frame(family: Family, command: &Layer3) -> Judgement {
    match command {
        Layer3::Write { page, data } => ultralight_pages(u16::from(*page), data),
        Layer3::CompatWrite { page, data } if data.len() == 16 => {
            ultralight_pages(u16::from(*page), &data[..4])
        }
        // A data frame of the wrong length is NAKed by the tag.
        Layer3::CompatWrite { .. }
        | Layer3::CompatStart { .. }
        | Layer3::Read { .. }
        | Layer3::Halt
        | Layer3::Rats { .. } => Judgement::ALLOW,
        Layer3::Other(bytes) => uncertain(family, &raw_frame(bytes)),
    }
}

fn classic_frame(family: Family, layout: Layout, command: &Layer3) -> Judgement {
    match command {
        Layer3::Read { .. } | Layer3::Halt | Layer3::Rats { .. } => Judgement::ALLOW,
        // The write frame of a Classic: judged as a block write, and never certain (after
        // an authentication the card expects it enciphered).
        Layer3::CompatWrite { page, data } if data.len() == 16 => {
            classic_blocks(layout, u16::from(*page), data).worst(uncertain(
                family,
                &format!("a raw WRITE frame to block {page}"),
            ))
        }
        Layer3::CompatStart { page } => uncertain(
            family,
            &format!("a raw WRITE frame announcing block {page}"),
        ),
        Layer3::CompatWrite { .. } | Layer3::Write { .. } | Layer3::Other(_) => {
            uncertain(family, "a raw frame")
        }
    }
}

fn raw_frame(bytes: &[u8]) -> String {
    match bytes.first() {
        Some(first) => format!(
            "a raw frame of {} bytes starting `{first:02X}` in the generic session",
            bytes.len()
        ),
        None => "an empty raw frame".to_string(),
    }
}

/// A command for an ISO 14443-4 chip or a contact card: CommitPerso (any length: the EV1
/// form carries a parameter), WritePerso of a trailer (`perso.rs`), and the irreversible
/// commands of the file-card COS (`cos.rs`).
fn iso_command(command: &[u8]) -> Judgement {
    if let Some((why, operation)) = cos::judge(command) {
        return Judgement::irreversible(why, &[operation]);
    }
    if command.first() == Some(&COMMIT_PERSO) {
        return Judgement::irreversible(
            "MIFARE Plus CommitPerso (`AA`) ends security level 0 for good".to_string(),
            &[Operation::MfpCommit],
        );
    }
    match perso::write_perso_trailers(command) {
        Some(why) => Judgement::forbidden(why),
        None => Judgement::ALLOW,
    }
}

/// Judges every sector trailer among the 16-byte blocks written from `start`. A malformed
/// trailer anywhere makes the whole command forbidden.
fn classic_blocks(layout: Layout, start: u16, data: &[u8]) -> Judgement {
    let mut judgement = Judgement::ALLOW;
    for (i, chunk) in data.chunks_exact(16).enumerate() {
        let Some(block) = u8::try_from(usize::from(start) + i).ok() else {
            break;
        };
        if layout.is_trailer(block) {
            judgement = judgement.worst(trailer(layout, block, [chunk[6], chunk[7], chunk[8]]));
        }
    }
    judgement
}

/// The judgement on access bytes 6–8 written to trailer `block`. Keys are never named.
fn trailer(layout: Layout, block: u8, bytes: [u8; 3]) -> Judgement {
    let sector = layout.sector_of(block).unwrap_or(0);
    match access::decode(bytes) {
        Err(malformed) => Judgement::forbidden(format!(
            "write to sector {sector} trailer (block {block}) refused: {malformed}; the sector would be dead"
        )),
        Ok(bits) if access::is_irreversible(&bits) => {
            let groups = access::frozen_groups(&bits);
            let frozen = match groups.as_slice() {
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
            let kinds: &[Operation] = if groups.is_empty() {
                &[Operation::ClassicTrailerLock]
            } else {
                &[Operation::ClassicTrailerLock, Operation::ClassicFrozen]
            };
            Judgement::irreversible(
                format!(
                    "write to sector {sector} trailer (block {block}) sets access bits `{}` ({bits}): trailer condition {} \
                     makes the access bits read-only for ever{frozen}",
                    hex::format(&bytes),
                    bits.trailer()
                ),
                kinds,
            )
        }
        Ok(_) => Judgement::ALLOW,
    }
}

/// Pages written from `start`, 4 bytes each (a write of several pages is judged page by
/// page): lock bits set in page 2, or OTP bits set in page 3. The data is never named.
fn ultralight_pages(start: u16, data: &[u8]) -> Judgement {
    let mut judgement = Judgement::ALLOW;
    let Ok(first) = u8::try_from(start) else {
        return judgement;
    };
    for (i, chunk) in data.chunks_exact(4).enumerate() {
        let page = first.wrapping_add(i as u8);
        let page_judgement = if page == ultralight::LOCK_PAGE && (chunk[2] != 0 || chunk[3] != 0) {
            let locked = ultralight::locked_pages(chunk[2], chunk[3]);
            let what = if locked.is_empty() {
                "freezes lock bits for ever".to_string()
            } else {
                format!("makes pages {locked:?} read-only for ever")
            };
            Judgement::irreversible(
                format!("write of lock bits to Ultralight page 2 {what}"),
                &[Operation::UlLock],
            )
        } else if page == ultralight::OTP_PAGE && chunk != [0; 4] {
            Judgement::irreversible(
                "write to the Ultralight OTP page 3 sets bits that can never be cleared"
                    .to_string(),
                &[Operation::UlOtp],
            )
        } else {
            Judgement::ALLOW
        };
        judgement = judgement.worst(page_judgement);
    }
    judgement
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
    /// COS LOCK KEY (`5C 03`).
    CosKeyLock,
    /// COS CREATE FILE of a file that can never be deleted.
    CosPermanentFile,
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
            Operation::CosKeyLock => "cos-key-lock",
            Operation::CosPermanentFile => "cos-permanent-file",
        }
    }
}

/// A card that refuses irreversible commands unless armed, and malformed ones always.
pub struct Guarded {
    inner: Box<dyn Card>,
    family: Family,
    armed: bool,
    /// When set, an armed run still refuses the irreversible kinds not listed.
    allowed: Option<Vec<Operation>>,
    /// The framing states the card may be in, as far as commands let through took it: more
    /// than one when a reader's answer did not show whether it carried a command that
    /// changes how later frames are read (a reader of another family refuses it).
    decoders: Vec<Decoder>,
    /// Why every later write or frame counts as irreversible until a reset: the field was
    /// cycled by a reader command, or too many framing states are possible.
    unsure: Option<&'static str>,
}

/// The most framing states the guard follows at once; beyond, it is unsure.
const MAX_STATES: usize = 8;

/// Whether the answer shows the reader carried the command out: `90 00` at the end, no
/// error inside a PC/SC Part 3 `C0` object or a PN532 status byte. Anything else may be a
/// reader that refused a command of another family's dialect.
fn carried(answer: &[u8]) -> bool {
    match answer {
        [0xC0, 0x03, _, sw1, sw2, ..] => [*sw1, *sw2] == [0x90, 0x00],
        [0xD5, _, status, .., 0x90, 0x00] => status & 0x3F == 0,
        [.., 0x90, 0x00] => true,
        _ => false,
    }
}

impl Guarded {
    /// Wraps `inner`; the family is read from its ATR now and after every reset.
    pub fn new(inner: Box<dyn Card>, armed: bool) -> Guarded {
        let family = Family::from_atr(inner.atr());
        let decoder = Decoder::for_atr(inner.atr());
        Guarded {
            inner,
            family,
            armed,
            allowed: None,
            decoders: vec![decoder],
            unsure: None,
        }
    }

    /// Allows only these kinds of irreversible operation, even when armed (a profile's
    /// `irreversible:` list). Without this call an armed run allows every kind.
    pub fn only(mut self, allowed: Vec<Operation>) -> Guarded {
        self.allowed = Some(allowed);
        self
    }

    fn check(&self, judgement: Judgement) -> Result<(), Error> {
        match judgement.verdict {
            Verdict::Allow => Ok(()),
            Verdict::Irreversible(why) if self.armed => {
                let Some(allowed) = &self.allowed else {
                    return Ok(());
                };
                let missing: Vec<&str> = judgement
                    .kinds
                    .into_iter()
                    .filter(|kind| !allowed.contains(kind))
                    .map(Operation::name)
                    .collect();
                if missing.is_empty() {
                    return Ok(());
                }
                Err(Error::Refused {
                    reason: format!(
                        "{why} (the run is armed, but the profile's `irreversible:` does not list `{}`)",
                        missing.join("`, `")
                    ),
                })
            }
            Verdict::Irreversible(why) => Err(Error::Refused {
                reason: format!("{why} (pass --arm-irreversible to allow it)"),
            }),
            Verdict::Forbidden(why) => Err(Error::Refused { reason: why }),
        }
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
        // Decode on a copy: a refused command never reaches the card, so it must not move
        // the state either.
        // Decode on copies: a refused command never reaches the card, so it must not move
        // the state either. Every state the card may be in is judged.
        let mut judgement = Judgement::ALLOW;
        let mut nexts = Vec::with_capacity(self.decoders.len());
        let mut cycles = false;
        for decoder in &self.decoders {
            let mut next = decoder.clone();
            let decoded = next.feed(command);
            judgement = judgement.worst(judge(self.family, &decoded));
            if let Some(why) = self.unsure {
                if reaches_chip(&decoded) {
                    judgement = judgement.worst(unsure(why));
                }
            }
            if let Ok(Native::Reader(reader)) = &decoded.outcome {
                cycles |= reader.cycles_field();
            }
            nexts.push(next);
        }
        self.check(judgement)?;
        let answer = self.inner.transmit(command);
        let sure = matches!(&answer, Ok(bytes) if carried(bytes));
        let mut states: Vec<Decoder> = Vec::with_capacity(nexts.len() * 2);
        for (old, next) in self.decoders.drain(..).zip(nexts) {
            if !sure && old != next && !states.contains(&old) {
                states.push(old);
            }
            if !states.contains(&next) {
                states.push(next);
            }
        }
        if states.len() > MAX_STATES {
            states.truncate(MAX_STATES);
            self.unsure.get_or_insert(TOO_MANY_STATES);
        }
        self.decoders = states;
        if cycles {
            self.unsure = Some(FIELD_CYCLED);
        }
        answer
    }

    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        // Whatever happens, the old framing state is gone with the field.
        self.decoders = vec![Decoder::for_atr(self.inner.atr())];
        self.unsure = None;
        let atr = self.inner.reset()?;
        // A MIFARE Plus switched to SL1 comes back as a Classic: re-read the family.
        self.family = Family::from_atr(&atr);
        self.decoders = vec![Decoder::for_atr(&atr)];
        Ok(atr)
    }
}

#[cfg(test)]
mod tests;
