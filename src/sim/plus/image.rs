//! Fresh MIFARE Plus cards, their UIDs and SL0 ATR, and the card image (protocols.md §2.4,
//! §3.1, §3.3).
//!
//! A fresh card is in SL0 with nothing written. Its image keeps what `--sim-state` needs to
//! carry a personalisation across runs:
//!
//! ```json
//! {"uid": "04 50 2B 53 …", "level": 0, "committed": false,
//!  "perso": {"9000": "…", "0007": "…"}, "classic": null}
//! ```
//!
//! `perso` is every address WritePerso stored (keys included: an image is the card, secrets
//! and all, like the Classic image). In SL1 `classic` is the MIFARE Classic image the card
//! behaves as, and `perso` keeps the addresses outside it (AES keys, configuration). An image saved after CommitPerso but before a reset has `level` 0 and
//! `committed` true; loading it is a new insertion, so the card comes up in SL1.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use super::{Level, Plus, Sl0};
use crate::apdu::hex;
use crate::mifare::classic::{BLOCK_SIZE, Layout};
use crate::mifare::plus::Address;
use crate::sim::classic::{Classic, check_uid, position_bytes};
use crate::sim::serde_hex;

/// The ATR the reader builds for the SL0 card from the historical bytes of its ATS (§2.4):
/// `3B 87 80 01 C1 05 2F 2F 01 BC D6` and TCK `A9`.
pub(super) const SL0_ATR: [u8; 12] = [
    0x3B, 0x87, 0x80, 0x01, 0xC1, 0x05, 0x2F, 0x2F, 0x01, 0xBC, 0xD6, 0xA9,
];

/// The UID of card number `n` in a stream of fresh cards: `04` (NXP) `50 2B 53` ("P+S") then
/// the 3 bytes of [`position_bytes`], the same as a MIFARE Classic's, so the first 16,777,216
/// cards differ. Card 0 is the default card.
pub(crate) fn uid_for_position(n: u32) -> [u8; 7] {
    let [a, b, c] = position_bytes(n);
    [0x04, 0x50, 0x2B, 0x53, a, b, c]
}

impl Plus {
    /// A fresh card in SL0: `uid` (4 or 7 bytes) or, when it is `None` or not a valid UID,
    /// the default UID of card 0.
    pub(crate) fn new(layout: Layout, uid: Option<&[u8]>) -> Plus {
        let uid = match uid {
            Some(uid) if check_uid(uid).is_ok() => uid.to_vec(),
            _ => uid_for_position(0).to_vec(),
        };
        Plus {
            layout,
            uid,
            level: Level::Sl0(Sl0::default()),
        }
    }

    /// Rebuilds a card from the `card` part of an image. Loading is an activation: a card
    /// committed in SL0 comes up in SL1.
    pub(crate) fn from_image(layout: Layout, card: serde_json::Value) -> Result<Plus, String> {
        let image: ImageIn = serde_json::from_value(card).map_err(|e| e.to_string())?;
        check_uid(&image.uid).map_err(|e| format!("uid: {e}"))?;
        let mut written = BTreeMap::new();
        for (addr, data) in &image.perso {
            let (addr, data) = perso_entry(layout, addr, data)?;
            written.insert(addr, data);
        }
        let level = match (image.level, image.classic) {
            (0, None) => Level::Sl0(Sl0 {
                written,
                committed: image.committed,
            }),
            (1, Some(classic)) => Level::Sl1 {
                classic: Classic::from_image(layout, classic)
                    .map_err(|e| format!("classic: {e}"))?,
                written,
            },
            (0 | 1, _) => {
                return Err("`classic` is required at level 1 and must be null at level 0".into());
            }
            (other, _) => {
                return Err(format!("level {other} is not simulated (only 0 and 1 are)"));
            }
        };
        let mut plus = Plus {
            layout,
            uid: image.uid,
            level,
        };
        plus.activate();
        Ok(plus)
    }
}

/// One `perso` entry: an address of the map this card has, other than block 0, and 16 bytes.
fn perso_entry(layout: Layout, addr: &str, data: &str) -> Result<(u16, [u8; 16]), String> {
    let at = || format!("perso `{addr}`");
    let number = u16::from_str_radix(addr, 16)
        .map_err(|_| format!("{}: not a 4-digit hex address", at()))?;
    match Address::from_u16(number) {
        Some(address) if address.is_perso_writable(layout) => {}
        _ => {
            return Err(format!(
                "{}: not an address WritePerso can write on a MIFARE Plus {layout} (§3.3)",
                at()
            ));
        }
    }
    let bytes = hex::parse(data).map_err(|e| format!("{}: {e}", at()))?;
    let bytes = <[u8; BLOCK_SIZE]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{}: {} bytes, expected 16", at(), bytes.len()))?;
    Ok((number, bytes))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageIn {
    #[serde(with = "serde_hex::bytes")]
    uid: Vec<u8>,
    level: u8,
    #[serde(default)]
    committed: bool,
    #[serde(default)]
    perso: BTreeMap<String, String>,
    #[serde(default)]
    classic: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct ImageOut<'a> {
    #[serde(with = "serde_hex::bytes")]
    uid: &'a [u8],
    level: u8,
    committed: bool,
    perso: BTreeMap<String, String>,
    classic: Option<&'a Classic>,
}

/// A MIFARE Plus serializes as its image: UID, level, what SL0 stored and, in SL1, the
/// Classic image.
impl Serialize for Plus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (written, committed, classic) = match &self.level {
            Level::Sl0(sl0) => (&sl0.written, sl0.committed, None),
            Level::Sl1 { classic, written } => (written, true, Some(classic)),
        };
        let perso = written
            .iter()
            .map(|(addr, data)| (format!("{addr:04X}"), hex::format(data)))
            .collect();
        ImageOut {
            uid: &self.uid,
            level: self.security_level(),
            committed,
            perso,
            classic,
        }
        .serialize(serializer)
    }
}
