//! Ultralight lock bits and OTP (protocols.md §6.3): which pages the lock bytes make
//! read-only, which lock bits to set for given pages, and how OR-only writes to pages 2 and 3
//! change the tag.
//!
//! The lock bytes are read as one 16-bit word L = LOCK0 | LOCK1 << 8:
//!
//! | bit | meaning |
//! |---|---|
//! | 0 | BL-OTP: freezes bit 3 |
//! | 1 | BL 9-4: freezes bits 4–9 |
//! | 2 | BL 15-10: freezes bits 10–15 |
//! | 3 | L-OTP: page 3 read-only |
//! | 4–15 | page *n* read-only for bit *n* |
//!
//! So for pages 3–15, bit *n* locks page *n*. Every bit only ever goes from 0 to 1. Nothing here
//! decides whether a write is allowed; that is the simulator's and the guard's job.

use super::{FIRST_USER_PAGE, LAST_USER_PAGE, OTP_PAGE};

/// Bit 0, BL-OTP: freezes the L-OTP bit.
const BL_OTP: u16 = 1 << 0;
/// Bit 1, BL 9-4: freezes the lock bits of pages 4–9.
const BL_9_4: u16 = 1 << 1;
/// Bit 2, BL 15-10: freezes the lock bits of pages 10–15.
const BL_15_10: u16 = 1 << 2;
/// The lock bits frozen by each block-lock bit.
const FREEZES: [(u16, u16); 3] = [(BL_OTP, 1 << 3), (BL_9_4, 0x03F0), (BL_15_10, 0xFC00)];

/// Why pages cannot be locked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// Pages 0–2 have no lock bit (0–1 are read-only from the factory, 2 holds the lock bytes).
    #[error("page {page} has no lock bit (only pages 3-15 can be locked)")]
    NotLockable {
        /// The page asked for.
        page: u8,
    },
    /// The tag has no such page.
    #[error("page {page} does not exist (an MF0ICU1 has pages 0-15)")]
    NoSuchPage {
        /// The page asked for.
        page: u8,
    },
}

fn word(lock0: u8, lock1: u8) -> u16 {
    u16::from_le_bytes([lock0, lock1])
}

fn bytes(word: u16) -> (u8, u8) {
    let [lock0, lock1] = word.to_le_bytes();
    (lock0, lock1)
}

/// Whether the lock bytes make a page read-only. Only pages 3–15 have lock bits; for other
/// pages this is `false` (pages 0–1 are read-only regardless, see [`super::PageKind`]).
pub fn is_locked(lock0: u8, lock1: u8, page: u8) -> bool {
    (OTP_PAGE..=LAST_USER_PAGE).contains(&page) && (word(lock0, lock1) >> page) & 1 == 1
}

/// The pages (among 3–15) that the lock bytes make read-only, in ascending order.
pub fn locked_pages(lock0: u8, lock1: u8) -> Vec<u8> {
    (OTP_PAGE..=LAST_USER_PAGE)
        .filter(|&page| is_locked(lock0, lock1, page))
        .collect()
}

fn check_lockable(page: u8) -> Result<(), LockError> {
    match page {
        0..OTP_PAGE => Err(LockError::NotLockable { page }),
        OTP_PAGE..=LAST_USER_PAGE => Ok(()),
        _ => Err(LockError::NoSuchPage { page }),
    }
}

/// The lock bytes `(LOCK0, LOCK1)` that make the given pages read-only: bit *n* for page *n*
/// (page 3 is L-OTP). Pages 0–2 cannot be locked.
pub fn lock_bytes_for(pages: &[u8]) -> Result<(u8, u8), LockError> {
    let mut w = 0u16;
    for &page in pages {
        check_lockable(page)?;
        w |= 1 << page;
    }
    Ok(bytes(w))
}

/// The block-lock bits that freeze the lock bits of the given pages: BL-OTP for page 3,
/// BL 9-4 for pages 4–9, BL 15-10 for pages 10–15. A block-lock bit freezes the lock bits of
/// its whole range, not just the pages asked for.
pub fn block_lock_bytes_for(pages: &[u8]) -> Result<(u8, u8), LockError> {
    let mut w = 0u16;
    for &page in pages {
        check_lockable(page)?;
        w |= match page {
            OTP_PAGE => BL_OTP,
            FIRST_USER_PAGE..=9 => BL_9_4,
            _ => BL_15_10,
        };
    }
    Ok(bytes(w))
}

/// The lock bits (as a 16-bit word, LOCK0 in the low byte) that can no longer be set because
/// their block-lock bit is set.
pub fn frozen_lock_bits(lock0: u8, lock1: u8) -> u16 {
    let w = word(lock0, lock1);
    FREEZES
        .iter()
        .filter(|(block_lock, _)| w & block_lock != 0)
        .fold(0, |frozen, (_, bits)| frozen | bits)
}

/// The lock bytes after writing `new` over `current`: new bits are ORed in, bits are never
/// cleared, and bits frozen by a block-lock bit that is already set are dropped (§6.3).
pub fn apply_lock_write(current: (u8, u8), new: (u8, u8)) -> (u8, u8) {
    let cur = word(current.0, current.1);
    let frozen = frozen_lock_bits(current.0, current.1);
    bytes(cur | (word(new.0, new.1) & !frozen))
}

/// Page 2 after a WRITE of `new`: bytes 0–1 (BCC1, INT) unchanged, bytes 2–3 as
/// [`apply_lock_write`] (§6.3).
pub fn apply_lock_page_write(current: [u8; 4], new: [u8; 4]) -> [u8; 4] {
    let (lock0, lock1) = apply_lock_write((current[2], current[3]), (new[2], new[3]));
    [current[0], current[1], lock0, lock1]
}

/// The OTP page after a WRITE of `new`: a bitwise OR, so bits can be set and never cleared
/// (§6.3). Whether the page is locked (L-OTP) is checked separately with [`is_locked`].
pub fn apply_otp_write(current: [u8; 4], new: [u8; 4]) -> [u8; 4] {
    [
        current[0] | new[0],
        current[1] | new[1],
        current[2] | new[2],
        current[3] | new[3],
    ]
}

/// Pages as compact text: `3, 4-7, 12`.
fn ranges(pages: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < pages.len() {
        let start = pages[i];
        let mut end = start;
        while i + 1 < pages.len() && pages[i + 1] == end + 1 {
            i += 1;
            end = pages[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

/// What the lock bytes mean, one sentence each: read-only pages, then frozen lock bits.
/// Empty for `00 00`.
pub fn describe_lock(lock0: u8, lock1: u8) -> Vec<String> {
    let mut out = Vec::new();
    let pages = locked_pages(lock0, lock1);
    match pages.as_slice() {
        [] => {}
        [page] => out.push(format!("page {page} is read-only")),
        _ => out.push(format!("pages {} are read-only", ranges(&pages))),
    }
    let w = word(lock0, lock1);
    for (block_lock, what) in [
        (BL_OTP, "the lock bit of page 3 (OTP) is frozen"),
        (BL_9_4, "the lock bits of pages 4-9 are frozen"),
        (BL_15_10, "the lock bits of pages 10-15 are frozen"),
    ] {
        if w & block_lock != 0 {
            out.push(what.to_owned());
        }
    }
    out
}
