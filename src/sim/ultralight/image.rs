//! The Ultralight's part of a card image: its 16 pages as hex text, one string per page.
//!
//! ```json
//! { "pages": ["04 E1 5C 31", "32 A6 3F 80", "2B 48 00 00", "00 00 00 00", ...] }
//! ```
//!
//! Loading checks the shape (exactly 16 pages of exactly 4 bytes, no unknown fields) and
//! nothing else: BCC bytes that do not match the UID, or any lock and OTP bits, are loaded as
//! they are, so an image can describe a damaged or cloned tag to test scripts against. The
//! volatile state (a compatibility write in progress) is not stored. The file I/O and the
//! image envelope are `sim/image.rs`'s business.

use serde::{Deserialize, Serialize, Serializer};

use super::{Page, Ultralight};
use crate::mifare::ultralight::{PAGE_COUNT, PAGE_SIZE};
use crate::sim::serde_hex::byte_list;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Image {
    #[serde(with = "byte_list")]
    pages: Vec<Vec<u8>>,
}

impl Ultralight {
    /// Rebuilds a tag from the `card` part of an image; the error says what is wrong with it.
    pub fn from_image(card: serde_json::Value) -> Result<Ultralight, String> {
        let image: Image = serde_json::from_value(card).map_err(|e| e.to_string())?;
        if image.pages.len() != usize::from(PAGE_COUNT) {
            return Err(format!(
                "an Ultralight image has {PAGE_COUNT} pages, found {}",
                image.pages.len()
            ));
        }
        let mut pages = [[0; PAGE_SIZE]; PAGE_COUNT as usize];
        for (n, (slot, bytes)) in pages.iter_mut().zip(&image.pages).enumerate() {
            *slot = Page::try_from(bytes.as_slice())
                .map_err(|_| format!("page {n} has {} bytes, expected {PAGE_SIZE}", bytes.len()))?;
        }
        Ok(Ultralight::from_pages(pages))
    }
}

/// A tag serializes as the `card` part of its image: the pages only.
impl Serialize for Ultralight {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Image {
            pages: self.pages().iter().map(|page| page.to_vec()).collect(),
        }
        .serialize(serializer)
    }
}
