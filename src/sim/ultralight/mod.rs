//! The MIFARE Ultralight chip (MF0ICU1: 16 pages of 4 bytes, protocols.md §6.1–§6.3) as the
//! reader firmware sees it over RF.
//!
//! [`Ultralight`] holds the 16 pages and enforces the chip's rules: pages 0–1 are read-only,
//! a write to page 2 only ORs lock bits in (honouring the block-lock bits), a write to page 3
//! ORs into the OTP bits, locked pages refuse writes, READ wraps around after page 15. Two
//! ways in, both pure and total (they never panic, whatever the bytes):
//!
//! - page level ([`Ultralight::read4`], [`Ultralight::read1`], [`Ultralight::write_page`]),
//!   for a front-end that answers PC/SC Part 3 `FF B0`/`FF D6` (§2.1, §6.6);
//! - layer-3 frames without CRC ([`Ultralight::frame`], in `frame.rs`), for the Omnikey
//!   generic session (§1.1), which appends and checks CRC_A itself.
//!
//! Files: `frame.rs` (READ, WRITE, COMPATIBILITY WRITE frames, ACK/NAK), `picc.rs` (the
//! chip behind the simulated reader's front-end), `uid.rs`
//! (deterministic UIDs for batches of simulated cards), `image.rs` (card images).
//!
//! Not modelled: ISO 14443-3 anticollision and HALT/idle states (the front-end presents an
//! already selected card), EV1/NTAG commands and configuration pages (§6.4), Ultralight C
//! authentication, tearing and EEPROM timing. This module knows no APDUs and no status words.

mod frame;
mod image;
mod picc;
mod uid;

use crate::mifare::ultralight::{
    self as rules, LOCK_PAGE, PAGE_COUNT, PAGE_SIZE, PageKind, page_kind,
};
use crate::reader::framing::{Decoder, Protocol};

pub use frame::{ACK, Nak};
pub(crate) use picc::{Tag, check_uid};

/// One page: 4 bytes.
pub type Page = [u8; PAGE_SIZE];

/// A simulated MF0ICU1: its 16 pages, plus the decoder of frames sent to it directly
/// ([`Ultralight::frame`]), which holds the page of a compatibility write in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ultralight {
    pages: [Page; PAGE_COUNT as usize],
    /// Reads frames given to [`Ultralight::frame`]. Volatile: a reset forgets it. Behind the
    /// simulated reader the reader's decoder reads them instead, and the chip gets
    /// [`Ultralight::layer3`] calls.
    frames: Decoder,
}

impl Ultralight {
    /// A blank tag with this UID: pages 0–2 from the UID with correct BCC0/BCC1, INT `48`,
    /// lock bytes `00 00`; OTP page 3 and user pages 4–15 all zero (protocols.md §6.1).
    pub fn new(uid: [u8; 7]) -> Ultralight {
        let mut pages = [[0; PAGE_SIZE]; PAGE_COUNT as usize];
        let head = rules::uid_pages(uid, rules::DEFAULT_INT, (0x00, 0x00));
        pages[..head.len()].copy_from_slice(&head);
        Ultralight::from_pages(pages)
    }

    /// A tag holding exactly these pages, checked for nothing: BCC bytes that do not match
    /// the UID are kept (a corrupted or cloned tag), which is how tests exercise BCC checks.
    pub fn from_pages(pages: [Page; PAGE_COUNT as usize]) -> Ultralight {
        Ultralight {
            pages,
            frames: Decoder::new(Protocol::Layer3),
        }
    }

    /// All 16 pages, as a READ of every page would show them.
    pub fn pages(&self) -> &[Page; PAGE_COUNT as usize] {
        &self.pages
    }

    /// The 7-byte UID: `SN0 SN1 SN2` from page 0 and `SN3..SN6` from page 1, whatever the
    /// BCC bytes say (a reader reports the UID it selected; the BCCs are checked by whoever
    /// reads pages 0–2).
    pub fn uid(&self) -> [u8; 7] {
        let [p0, p1, ..] = self.pages;
        [p0[0], p0[1], p0[2], p1[0], p1[1], p1[2], p1[3]]
    }

    /// The lock bytes `(LOCK0, LOCK1)` of page 2 (protocols.md §6.3).
    pub fn lock_bytes(&self) -> (u8, u8) {
        let page = self.pages[LOCK_PAGE as usize];
        (page[2], page[3])
    }

    /// READ from `page`: 16 bytes, pages `page..page+4`, wrapping from page 15 to page 0
    /// (protocols.md §6.2: a READ of page 0E returns pages 0E 0F 00 01). A start page past
    /// 15 is NAK 0.
    pub fn read4(&mut self, page: u8) -> Result<[u8; 16], Nak> {
        if page >= PAGE_COUNT {
            return Err(Nak::InvalidArgument);
        }
        let mut out = [0; 16];
        for (i, chunk) in out.chunks_exact_mut(PAGE_SIZE).enumerate() {
            let at = (usize::from(page) + i) % usize::from(PAGE_COUNT);
            chunk.copy_from_slice(&self.pages[at]);
        }
        Ok(out)
    }

    /// One page, as readers that answer `FF B0 00 <page> 04` give it (protocols.md §6.6):
    /// the first 4 bytes of a READ. A page past 15 is NAK 0.
    pub fn read1(&mut self, page: u8) -> Result<Page, Nak> {
        let [a, b, c, d, ..] = self.read4(page)?;
        Ok([a, b, c, d])
    }

    /// WRITE of one page (protocols.md §6.2–§6.3):
    ///
    /// - pages 0–1 (serial number) and pages past 15: NAK 0;
    /// - page 2: bytes 0–1 unchanged, lock bits ORed in except those frozen by a block-lock
    ///   bit (dropped silently; the write is still acknowledged);
    /// - page 3: ORed into the OTP bits, or NAK 0 when L-OTP (lock bit 3) is set;
    /// - pages 4–15: stored, or NAK 0 when the page's lock bit is set.
    pub fn write_page(&mut self, page: u8, data: Page) -> Result<(), Nak> {
        let (lock0, lock1) = self.lock_bytes();
        let slot = usize::from(page);
        match page_kind(page) {
            None | Some(PageKind::Serial) => Err(Nak::InvalidArgument),
            Some(_) if rules::is_locked(lock0, lock1, page) => Err(Nak::InvalidArgument),
            Some(PageKind::Lock) => {
                self.pages[slot] = rules::apply_lock_page_write(self.pages[slot], data);
                Ok(())
            }
            Some(PageKind::Otp) => {
                self.pages[slot] = rules::apply_otp_write(self.pages[slot], data);
                Ok(())
            }
            Some(PageKind::User) => {
                self.pages[slot] = data;
                Ok(())
            }
        }
    }

    /// What the tag forgets when the field drops or the reader re-selects it: a
    /// compatibility write waiting for its data. The pages are kept.
    pub fn reset(&mut self) {
        self.frames = Decoder::new(Protocol::Layer3);
    }
}

#[cfg(test)]
mod tests;
