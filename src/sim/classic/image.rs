//! Fresh MIFARE Classic cards, their UIDs and block 0, and the card image (protocols.md §4.5,
//! §5).
//!
//! A fresh card has block 0 built from its UID (4-byte UIDs get their BCC), zeros in every
//! data block and the transport trailer `FF…FF FF 07 80 69 FF…FF` in every sector. An image
//! is `{"uid": "…", "blocks": ["…", …]}` with every block as hex, keys included; loading one
//! checks its shape and block 0, and accepts any trailer (a dead sector is a valid card).

use serde::{Deserialize, Serialize, Serializer};

use super::Classic;
use crate::mifare::access::Known;
use crate::mifare::classic::{Block0, Layout, TRANSPORT_GPB, trailer};
use crate::sim::serde_hex;

/// Bytes 8–15 of block 0 (7-byte UIDs: 10–15): the simulator's "manufacturer data".
const MANUFACTURER: [u8; 8] = *b"APDU-RUN";

/// The cascade tag, which no UID may start with (§4.5).
const CASCADE_TAG: u8 = 0x88;

/// SAK and ATQA (MSB first) of a card (§5: 1K `08`/`0004`, 4K `18`/`0002`; 7-byte UIDs set
/// bit 6 of the ATQA: `0044`, `0042`).
fn sak_atqa(layout: Layout, uid_len: usize) -> (u8, u16) {
    let (sak, atqa) = match layout {
        Layout::OneK | Layout::TwoK => (0x08, 0x0004),
        Layout::FourK => (0x18, 0x0002),
    };
    if uid_len == 7 {
        (sak, atqa | 0x0040)
    } else {
        (sak, atqa)
    }
}

/// Whether `uid` can be a MIFARE Classic UID: 4 or 7 bytes, not starting with `88`.
pub(crate) fn check_uid(uid: &[u8]) -> Result<(), String> {
    if uid.len() != 4 && uid.len() != 7 {
        return Err(format!(
            "a MIFARE Classic UID has 4 or 7 bytes, got {}",
            uid.len()
        ));
    }
    if uid[0] == CASCADE_TAG {
        return Err("a UID cannot start with 88, the cascade tag".into());
    }
    Ok(())
}

/// The 3 bytes that tell card number `n` of a stream apart: a bijection of `n` modulo 2^24,
/// so the first 16,777,216 cards all differ. MIFARE Classic and MIFARE Plus UIDs end with
/// them.
pub(crate) fn position_bytes(n: u32) -> [u8; 3] {
    // An odd multiplier is invertible modulo 2^24, so this permutes the 24-bit numbers.
    let x = n.wrapping_add(1).wrapping_mul(0x9E_3779) & 0xFF_FFFF;
    let [_, a, b, c] = x.to_be_bytes();
    [a, b, c]
}

/// The UID of card number `n` in a stream of fresh cards: `CF` then [`position_bytes`].
/// Card 0 is the default card. `CF` is a "non-unique ID" first byte (xF), and not the
/// cascade tag.
pub(crate) fn uid_for_position(n: u32) -> [u8; 4] {
    let [a, b, c] = position_bytes(n);
    [0xCF, a, b, c]
}

/// Block 0 for `uid`: `UID BCC SAK ATQA manufacturer` or, for 7 bytes, `UID SAK ATQA
/// manufacturer` (§4.5). The ATQA is stored LSB first.
fn block0(layout: Layout, uid: &[u8]) -> [u8; 16] {
    let (sak, atqa) = sak_atqa(layout, uid.len());
    if let Ok(uid) = <[u8; 4]>::try_from(uid) {
        return Block0 {
            uid,
            sak,
            atqa,
            manufacturer: MANUFACTURER,
        }
        .to_bytes();
    }
    let mut block = [0u8; 16];
    let n = uid.len().min(7);
    block[..n].copy_from_slice(&uid[..n]);
    block[7] = sak;
    block[8..10].copy_from_slice(&atqa.to_le_bytes());
    block[10..].copy_from_slice(&MANUFACTURER[..6]);
    block
}

impl Classic {
    /// A fresh card: `uid` (4 or 7 bytes) or, when it is `None` or not a valid UID, the
    /// default UID of card 0; zeros in the data blocks; every sector in the transport
    /// configuration.
    pub(crate) fn new(layout: Layout, uid: Option<&[u8]>) -> Classic {
        let uid = match uid {
            Some(uid) if check_uid(uid).is_ok() => uid.to_vec(),
            _ => uid_for_position(0).to_vec(),
        };
        let transport = trailer(
            [0xFF; 6],
            Known::Transport.bytes(),
            TRANSPORT_GPB,
            [0xFF; 6],
        );
        let blocks = (0..layout.block_count())
            .map(|n| match u8::try_from(n) {
                Ok(0) => block0(layout, &uid),
                Ok(b) if layout.is_trailer(b) => transport,
                _ => [0; 16],
            })
            .collect();
        Classic {
            layout,
            uid,
            blocks,
            auth: None,
        }
    }

    /// A fresh card whose blocks in `written` replace the defaults, as a MIFARE Plus in SL1
    /// holds the image written in SL0 (protocols.md §3.4). Block 0 stays the one built from
    /// the UID; blocks the layout does not have are ignored. That blocks SL0 never wrote
    /// keep the fresh-card contents (transport trailers, zeros) is UNCONFIRMED.
    pub(crate) fn with_blocks(
        layout: Layout,
        uid: &[u8],
        written: impl IntoIterator<Item = (u8, [u8; 16])>,
    ) -> Classic {
        let mut card = Classic::new(layout, Some(uid));
        for (block, data) in written {
            if block != 0 && layout.has_block(block) {
                card.blocks[usize::from(block)] = data;
            }
        }
        card
    }

    /// Rebuilds a card from the `card` part of an image, checking its shape and block 0.
    pub(crate) fn from_image(layout: Layout, card: serde_json::Value) -> Result<Classic, String> {
        let image: ImageIn = serde_json::from_value(card).map_err(|e| e.to_string())?;
        check_uid(&image.uid).map_err(|e| format!("uid: {e}"))?;
        let expected = usize::from(layout.block_count());
        if image.blocks.len() != expected {
            return Err(format!(
                "a MIFARE Classic {layout} has {expected} blocks, the image has {}",
                image.blocks.len()
            ));
        }
        let mut blocks = Vec::with_capacity(expected);
        for (n, block) in image.blocks.iter().enumerate() {
            let block = <[u8; 16]>::try_from(block.as_slice())
                .map_err(|_| format!("block {n} has {} bytes, expected 16", block.len()))?;
            blocks.push(block);
        }
        let uid = image.uid;
        if blocks[0][..uid.len()] != uid[..] {
            return Err("block 0 does not start with the UID".into());
        }
        // A 4-byte UID's block 0 carries its BCC; `check_uid` has already refused the cascade
        // tag, so the BCC is all `Block0::parse` can still find wrong.
        if uid.len() == 4 {
            Block0::parse(&blocks[0]).map_err(|e| e.to_string())?;
        }
        Ok(Classic {
            layout,
            uid,
            blocks,
            auth: None,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageIn {
    #[serde(with = "serde_hex::bytes")]
    uid: Vec<u8>,
    #[serde(with = "serde_hex::byte_list")]
    blocks: Vec<Vec<u8>>,
}

#[derive(Serialize)]
struct ImageOut<'a> {
    #[serde(with = "serde_hex::bytes")]
    uid: &'a [u8],
    #[serde(with = "serde_hex::byte_list")]
    blocks: Vec<Vec<u8>>,
}

/// A Classic card serializes as its image: the UID and every block.
impl Serialize for Classic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ImageOut {
            uid: &self.uid,
            blocks: self.blocks.iter().map(|b| b.to_vec()).collect(),
        }
        .serialize(serializer)
    }
}
