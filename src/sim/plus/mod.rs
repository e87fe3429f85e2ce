//! The simulated MIFARE Plus S 2K/4K (protocols.md §3), to sit behind the reader front-end
//! ([`crate::sim::frontend`]).
//!
//! A fresh card is in security level 0: SAK `20`, so the reader has already done RATS and
//! presents an ISO 14443-4 ATR (§2.4, §3.1). In SL0 it takes, through ISO 14443-4
//! pass-through ([`Picc::apdu`]):
//! - WritePerso `A8 <addr LE> <16 bytes>` per the address map of §3.3 (`sl0.rs`);
//! - CommitPerso `AA`, which needs 9000, 9001 and 9003 written (§3.4) and switches the card
//!   to SL1 at its next activation: a reset, or a new insertion (loading its image).
//!
//! In SL1 it is a MIFARE Classic 2K/4K (the `classic` chip) holding the blocks and Crypto1
//! keys written in SL0, behind the same PC/SC Part 3 front-end as `classic-1k`, with the
//! storage-card ATR naming `0036`/`0037` (§2.3).
//!
//! Through the Omnikey generic session (§1.1, §3.6) an SL0 card is already in the ISO 14443-4
//! protocol state: it ignores unframed layer-3 frames and a second RATS (the reader answers
//! `64 00`), and answers correctly framed I-blocks (workaround B), with any CID and NAD, and
//! chained ones (R(ACK) to each part, the answer to the last). The blocks are read by the one
//! framing decoder (`reader/framing`), the same the guard judges with. That reproduces the
//! forum case of §3.6.
//!
//! Files: this one (the level switch, and each reader operation sent to the level's
//! behaviour), `sl0.rs` (WritePerso, CommitPerso, generic-session frames, the ATS),
//! `image.rs` (fresh cards, UIDs, the SL0 ATR, card images). Not simulated: SL2/SL3, AES authentication
//! (including SL1 AES authentication with 9004), EV1 commands, the `FF CA 01` ATS query,
//! R- and S-blocks from the host (the card stays silent), timing.

mod image;
mod sl0;

use std::collections::BTreeMap;

use super::classic::Classic;
use super::frontend::{Picc, Refusal, ValueOp, storage_atr};
use crate::mifare::KeyType;
use crate::mifare::classic::Layout;
use crate::reader::framing::Frame;

pub(crate) use image::uid_for_position;

/// PC/SC Part 3 card name `0036`: MIFARE Plus SL1 2K (§2.3).
pub(crate) const PLUS_SL1_2K: u16 = 0x0036;
/// PC/SC Part 3 card name `0037`: MIFARE Plus SL1 4K (§2.3).
pub(crate) const PLUS_SL1_4K: u16 = 0x0037;

/// The card in security level 0: what WritePerso stored, and whether CommitPerso ran.
#[derive(Debug, Clone, Default)]
struct Sl0 {
    /// Every address written, with its 16 bytes (blocks, keys, configuration).
    written: BTreeMap<u16, [u8; 16]>,
    /// CommitPerso succeeded: the card is in SL1 from its next activation.
    committed: bool,
}

/// The card's security level and the state that goes with it.
#[derive(Debug)]
enum Level {
    /// Personalisation.
    Sl0(Sl0),
    /// MIFARE Classic behaviour; `written` keeps what SL0 stored outside the Classic image
    /// (the AES keys and configuration, which SL1 keeps for a later switch to SL3).
    Sl1 {
        classic: Classic,
        written: BTreeMap<u16, [u8; 16]>,
    },
}

/// A simulated MIFARE Plus S.
#[derive(Debug)]
pub(crate) struct Plus {
    layout: Layout,
    /// 4 or 7 bytes (default 7, §3.1).
    uid: Vec<u8>,
    level: Level,
}

impl Plus {
    /// The security level: 0 or 1.
    pub(crate) fn security_level(&self) -> u8 {
        match self.level {
            Level::Sl0(_) => 0,
            Level::Sl1 { .. } => 1,
        }
    }

    /// A new activation (field reset, new insertion): a committed SL0 card comes back in SL1
    /// as a MIFARE Classic with the blocks written in SL0 (§3.4).
    fn activate(&mut self) {
        match &mut self.level {
            Level::Sl0(sl0) if sl0.committed => {
                let (blocks, written): (BTreeMap<u16, _>, _) = std::mem::take(&mut sl0.written)
                    .into_iter()
                    .partition(|(addr, _)| *addr < 0x100);
                let blocks = blocks
                    .into_iter()
                    .filter_map(|(addr, data)| Some((u8::try_from(addr).ok()?, data)));
                let classic = Classic::with_blocks(self.layout, &self.uid, blocks);
                self.level = Level::Sl1 { classic, written };
            }
            Level::Sl0(_) => {}
            Level::Sl1 { classic, .. } => classic.reset(),
        }
    }
}

impl Picc for Plus {
    fn uid(&self) -> &[u8] {
        &self.uid
    }

    fn card_name(&self) -> u16 {
        match self.layout {
            Layout::FourK => PLUS_SL1_4K,
            Layout::OneK | Layout::TwoK => PLUS_SL1_2K,
        }
    }

    fn atr(&self) -> Vec<u8> {
        match self.level {
            Level::Sl0(_) => image::SL0_ATR.to_vec(),
            Level::Sl1 { .. } => storage_atr(self.card_name()).to_vec(),
        }
    }

    fn authenticate(&mut self, address: u16, key: KeyType, bytes: &[u8]) -> Result<(), Refusal> {
        match &mut self.level {
            Level::Sl1 { classic, .. } => classic.authenticate(address, key, bytes),
            // An ISO 14443-4 card takes no Crypto1 authentication.
            Level::Sl0(_) => Err(Refusal::Unsupported),
        }
    }

    fn read(&mut self, address: u16, le: usize) -> Result<Vec<u8>, Refusal> {
        match &mut self.level {
            Level::Sl1 { classic, .. } => classic.read(address, le),
            Level::Sl0(_) => Err(Refusal::Unsupported),
        }
    }

    fn update(&mut self, address: u16, data: &[u8]) -> Result<(), Refusal> {
        match &mut self.level {
            Level::Sl1 { classic, .. } => classic.update(address, data),
            Level::Sl0(_) => Err(Refusal::Unsupported),
        }
    }

    fn value(&mut self, address: u16, op: ValueOp, operand: u32) -> Result<(), Refusal> {
        match &mut self.level {
            Level::Sl1 { classic, .. } => classic.value(address, op, operand),
            Level::Sl0(_) => Err(Refusal::Unsupported),
        }
    }

    fn frame(&mut self, frame: &Frame) -> Option<Vec<u8>> {
        match &mut self.level {
            Level::Sl0(sl0) => sl0.frame(self.layout, frame),
            Level::Sl1 { .. } => sl0::sl1_frame(frame),
        }
    }

    fn apdu(&mut self, command: &[u8]) -> Option<Vec<u8>> {
        match &mut self.level {
            Level::Sl0(sl0) => sl0.command(self.layout, command).map(|status| vec![status]),
            // The reader handles an SL1 card as a MIFARE Classic: no ISO 14443-4 pass-through.
            Level::Sl1 { .. } => None,
        }
    }

    fn reset(&mut self) {
        self.activate();
    }
}

#[cfg(test)]
mod tests;
