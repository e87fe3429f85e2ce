//! MIFARE Ultralight (MF0ICU1, 16 pages of 4 bytes) as data (protocols.md §6.1, §6.3): the page
//! map, the UID and its check bytes, lock bits and the OTP page.
//!
//! - this file: page map constants, [`PageKind`], BCC0/BCC1, pages 0–2 from a UID and back.
//! - `lock.rs`: lock-bit arithmetic, block-lock bits and OR-only writes to pages 2 and 3.
//!
//! EV1 and NTAG configuration pages and dynamic lock bytes (§6.3–§6.4) are not modelled here.

mod lock;

pub use lock::{
    LockError, apply_lock_page_write, apply_lock_write, apply_otp_write, block_lock_bytes_for,
    describe_lock, frozen_lock_bits, is_locked, lock_bytes_for, locked_pages,
};

/// Number of pages of an MF0ICU1.
pub const PAGE_COUNT: u8 = 16;
/// Bytes per page.
pub const PAGE_SIZE: usize = 4;
/// Page 2: `BCC1 INT LOCK0 LOCK1`.
pub const LOCK_PAGE: u8 = 2;
/// Page 3: the one-time-programmable page (NTAG: capability container).
pub const OTP_PAGE: u8 = 3;
/// First user data page.
pub const FIRST_USER_PAGE: u8 = 4;
/// Last user data page (48 bytes of user data in pages 4–15).
pub const LAST_USER_PAGE: u8 = 15;
/// The cascade tag folded into BCC0.
pub const CASCADE_TAG: u8 = 0x88;
/// The INT byte (page 2, byte 1) of NXP parts (SN0 = `04`).
pub const DEFAULT_INT: u8 = 0x48;

/// What a page holds and how a WRITE treats it (§6.1–§6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageKind {
    /// Pages 0–1: serial number and BCC0. Never writable.
    Serial,
    /// Page 2: BCC1, INT, LOCK0, LOCK1. A write only ORs into the lock bytes (see
    /// [`apply_lock_page_write`]).
    Lock,
    /// Page 3: OTP. A write ORs into the page (see [`apply_otp_write`]).
    Otp,
    /// Pages 4–15: user data, writable until locked.
    User,
}

/// The kind of a page, or `None` past page 15.
pub fn page_kind(page: u8) -> Option<PageKind> {
    match page {
        0 | 1 => Some(PageKind::Serial),
        LOCK_PAGE => Some(PageKind::Lock),
        OTP_PAGE => Some(PageKind::Otp),
        FIRST_USER_PAGE..=LAST_USER_PAGE => Some(PageKind::User),
        _ => None,
    }
}

/// BCC0 = `88 ⊕ SN0 ⊕ SN1 ⊕ SN2` (§6.1; 88 is the cascade tag).
pub fn bcc0(sn0: u8, sn1: u8, sn2: u8) -> u8 {
    CASCADE_TAG ^ sn0 ^ sn1 ^ sn2
}

/// BCC1 = `SN3 ⊕ SN4 ⊕ SN5 ⊕ SN6` (§6.1).
pub fn bcc1(sn3: u8, sn4: u8, sn5: u8, sn6: u8) -> u8 {
    sn3 ^ sn4 ^ sn5 ^ sn6
}

/// Pages 0–2 for a 7-byte UID: `SN0 SN1 SN2 BCC0`, `SN3 SN4 SN5 SN6`,
/// `BCC1 INT LOCK0 LOCK1` (§6.1).
pub fn uid_pages(uid: [u8; 7], int: u8, lock: (u8, u8)) -> [[u8; 4]; 3] {
    let [s0, s1, s2, s3, s4, s5, s6] = uid;
    [
        [s0, s1, s2, bcc0(s0, s1, s2)],
        [s3, s4, s5, s6],
        [bcc1(s3, s4, s5, s6), int, lock.0, lock.1],
    ]
}

/// Why the first pages of a tag do not hold a consistent UID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UidError {
    /// Fewer than the 9 bytes that reach BCC1.
    #[error("UID pages need at least 9 bytes (pages 0-2 up to BCC1), found {0}")]
    Short(usize),
    /// Page 0 byte 3 is not `88 ⊕ SN0 ⊕ SN1 ⊕ SN2`.
    #[error("BCC0 is {found:02X}, expected {expected:02X}")]
    Bcc0 {
        /// Byte 3 as found.
        found: u8,
        /// The value computed from SN0–SN2.
        expected: u8,
    },
    /// Page 2 byte 0 is not `SN3 ⊕ SN4 ⊕ SN5 ⊕ SN6`.
    #[error("BCC1 is {found:02X}, expected {expected:02X}")]
    Bcc1 {
        /// Byte 8 as found.
        found: u8,
        /// The value computed from SN3–SN6.
        expected: u8,
    },
}

/// Reads the 7-byte UID from the bytes of pages 0–2 (as a READ of page 0 returns them, at
/// least 9 bytes), checking BCC0 and BCC1.
pub fn uid_from_pages(bytes: &[u8]) -> Result<[u8; 7], UidError> {
    let &[s0, s1, s2, b0, s3, s4, s5, s6, b1, ..] = bytes else {
        return Err(UidError::Short(bytes.len()));
    };
    let expected = bcc0(s0, s1, s2);
    if b0 != expected {
        return Err(UidError::Bcc0 {
            found: b0,
            expected,
        });
    }
    let expected = bcc1(s3, s4, s5, s6);
    if b1 != expected {
        return Err(UidError::Bcc1 {
            found: b1,
            expected,
        });
    }
    Ok([s0, s1, s2, s3, s4, s5, s6])
}

#[cfg(test)]
mod tests;
