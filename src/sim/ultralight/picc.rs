//! The Ultralight chip behind the simulated reader: PC/SC Part 3 `FF B0`/`FF D6` mapped to
//! pages (protocols.md §2.1, §6.6) and generic-session frames passed through (§1.1).
//!
//! `FF B0 00 <page> 10` reads 4 pages (with the chip's wrap-around), `FF B0 00 <page> 04` one
//! page; `FF D6 00 <page> 04 <4 bytes>` writes one page, any other length is refused as a
//! wrong length (`67 00`), so the 16-byte quirk stays explicit: it exists only as the
//! COMPATIBILITY WRITE frame of the generic session. This file maps; the rules are the chip's.

use serde::{Serialize, Serializer};

use super::{Nak, Page, Ultralight};
use crate::mifare::ultralight::PAGE_COUNT;
use crate::reader::framing::Frame;
use crate::sim::frontend::{Picc, Refusal};

/// PC/SC Part 3 card name of a MIFARE Ultralight (§2.3).
pub(crate) const CARD_NAME: u16 = 0x0003;

/// An Ultralight as the reader's front-end holds it: the chip and its UID.
#[derive(Debug)]
pub(crate) struct Tag {
    chip: Ultralight,
    uid: [u8; 7],
}

impl Tag {
    /// Wraps a chip; its UID never changes (pages 0–1 are read-only).
    pub(crate) fn new(chip: Ultralight) -> Tag {
        let uid = chip.uid();
        Tag { chip, uid }
    }
}

fn page_of(address: u16) -> Result<u8, Refusal> {
    u8::try_from(address)
        .ok()
        .filter(|&p| p < PAGE_COUNT)
        .ok_or(Refusal::OutOfRange)
}

/// Page range is checked before the chip is asked, so a NAK here means the chip's rules
/// (read-only page, locked page) said no.
fn refusal(_: Nak) -> Refusal {
    Refusal::NotPermitted
}

impl Picc for Tag {
    fn uid(&self) -> &[u8] {
        &self.uid
    }

    fn card_name(&self) -> u16 {
        CARD_NAME
    }

    fn read(&mut self, address: u16, le: usize) -> Result<Vec<u8>, Refusal> {
        let page = page_of(address)?;
        match le {
            16 | 256 => self.chip.read4(page).map(|d| d.to_vec()).map_err(refusal),
            4 => self.chip.read1(page).map(|d| d.to_vec()).map_err(refusal),
            _ => Err(Refusal::WrongLength),
        }
    }

    fn update(&mut self, address: u16, data: &[u8]) -> Result<(), Refusal> {
        let page = page_of(address)?;
        let data: Page = data.try_into().map_err(|_| Refusal::WrongLength)?;
        self.chip.write_page(page, data).map_err(refusal)
    }

    fn frame(&mut self, frame: &Frame) -> Option<Vec<u8>> {
        match frame {
            Frame::Layer3(command) => self.chip.layer3(command),
            _ => None,
        }
    }

    fn reset(&mut self) {
        self.chip.reset();
    }
}

/// The image of the tag is the chip's pages.
impl Serialize for Tag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.chip.serialize(serializer)
    }
}

/// Checks a `--sim-uid` for an Ultralight: 7 bytes, not starting with the cascade tag.
pub(crate) fn check_uid(uid: &[u8]) -> Result<(), String> {
    if uid.len() != 7 {
        return Err(format!(
            "a MIFARE Ultralight UID has 7 bytes, got {}",
            uid.len()
        ));
    }
    if uid[0] == crate::mifare::ultralight::CASCADE_TAG {
        return Err("a UID cannot start with 88, the cascade tag".into());
    }
    Ok(())
}
