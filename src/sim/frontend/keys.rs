//! The reader's volatile key slots and LOAD KEYS `FF 82` (PC/SC Part 3, protocols.md §2.1).
//!
//! Keys live in the reader, not the card: a card reset keeps them, and they are never part
//! of a card image. Only volatile card keys (key structure `00`) in slots `00`–`1F` are
//! simulated; non-volatile and reader keys for secured transmission are refused. This file
//! stores bytes; which length a chip needs is the chip's business.

use std::fmt;

use super::sw;
use crate::apdu::StatusWord;

/// Number of volatile key slots, `00` to `1F`.
pub(crate) const SLOTS: usize = 0x20;

/// Key lengths LOAD KEYS accepts: 6 (MIFARE Classic Crypto1), 8 (half an Ultralight C key,
/// as Omnikey xx22 readers load it, §1.2) and 16 (a whole AES or 3DES key).
const LENGTHS: [usize; 3] = [6, 8, 16];

/// The reader's key slots.
pub(crate) struct KeySlots {
    /// [`SLOTS`] entries, on the heap so that a chip enum holding a reader stays small.
    slots: Vec<Option<Vec<u8>>>,
}

impl Default for KeySlots {
    fn default() -> KeySlots {
        KeySlots {
            slots: vec![None; SLOTS],
        }
    }
}

impl fmt::Debug for KeySlots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loaded: Vec<usize> = (0..SLOTS).filter(|&i| self.slots[i].is_some()).collect();
        f.debug_struct("KeySlots").field("loaded", &loaded).finish()
    }
}

impl KeySlots {
    /// LOAD KEYS `FF 82 <structure> <slot> <Lc> <key>`: stores the key, or says why not.
    pub(crate) fn load(&mut self, structure: u8, slot: u8, key: &[u8]) -> StatusWord {
        if key.is_empty() {
            return sw::WRONG_LENGTH;
        }
        if structure != 0x00 {
            return sw::KEY_STRUCTURE;
        }
        let slot = usize::from(slot);
        if slot >= SLOTS {
            return sw::KEY_NUMBER;
        }
        if !LENGTHS.contains(&key.len()) {
            return sw::KEY_LENGTH;
        }
        self.slots[slot] = Some(key.to_vec());
        sw::OK
    }

    /// The key in `slot`, or `69 88` when the number is not valid or the slot is empty.
    pub(crate) fn get(&self, slot: u8) -> Result<&[u8], StatusWord> {
        self.slots
            .get(usize::from(slot))
            .and_then(Option::as_deref)
            .ok_or(sw::KEY_NUMBER)
    }
}
