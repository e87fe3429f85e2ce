//! The simulated MIFARE Classic 1K and 4K chip (protocols.md §4, §5), to sit behind the
//! reader front-end ([`crate::sim::frontend`]).
//!
//! What the chip does, as the reader sees it through [`Picc`](super::frontend::Picc):
//! - authentication per sector with key A or B: a wrong key, a key B the trailer makes
//!   readable (§4.3) or a dead sector fails it, and a failed authentication or one to
//!   another sector ends the previous one;
//! - every permission of §4.2 and §4.3 enforced for the key that authenticated, with the
//!   key-B-readable rule; trailer reads return zeros for key A, and for key B unless it is
//!   readable; trailer writes store the parts the key may write;
//! - a sector whose trailer holds malformed access bits is dead: nothing authenticates there;
//! - value operations check the §5 format and transfer the result to the same block;
//! - block 0 (UID, BCC, SAK, ATQA) is read-only.
//!
//! Files: `card.rs` (the operations above), `image.rs` (fresh cards, UIDs, block 0 and card
//! images). Crypto1 is not simulated — at PC/SC level the reader runs it (§0) — so the chip
//! answers no raw frames in the generic session. Magic (block-0-writable) cards, RESTORE to
//! another block and HALT are not simulated either.

mod card;
mod image;

use crate::mifare::KeyType;
use crate::mifare::classic::Layout;

pub(crate) use image::{check_uid, position_bytes, uid_for_position};

/// Who authenticated, and for which sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Auth {
    sector: u8,
    key: KeyType,
}

/// A simulated MIFARE Classic card.
#[derive(Debug)]
pub(crate) struct Classic {
    layout: Layout,
    /// 4 or 7 bytes, as in block 0.
    uid: Vec<u8>,
    /// Every block of the card, block 0 first.
    blocks: Vec<[u8; 16]>,
    /// The current authentication; volatile.
    auth: Option<Auth>,
}

#[cfg(test)]
impl Classic {
    /// Block `n` as stored, keys included.
    pub(crate) fn block(&self, n: u8) -> [u8; 16] {
        self.blocks[usize::from(n)]
    }
}

#[cfg(test)]
mod tests;
