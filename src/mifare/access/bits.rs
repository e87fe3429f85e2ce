//! Bytes 6–8 of a sector trailer <-> [`AccessBits`] (protocols.md §4.1).
//!
//! Every C bit is stored twice, once plain and once inverted. [`decode`] accepts the bytes only
//! if both copies agree and otherwise says, in [`Malformed`], which bits of which groups
//! disagree. This file does not judge what the conditions allow; see `explain.rs`.

use crate::mifare::{hex, join_words};

use super::triple::{AccessBits, Triple};

/// The three C bits of all four groups as nibbles: `[c1, c2, c3]`, bit *i* = group *i*.
type Nibbles = [u8; 3];

fn nibbles(access: &AccessBits) -> Nibbles {
    let mut out = [0u8; 3];
    for (i, t) in access.blocks.iter().enumerate() {
        out[0] |= u8::from(t.c1) << i;
        out[1] |= u8::from(t.c2) << i;
        out[2] |= u8::from(t.c3) << i;
    }
    out
}

fn from_nibbles([c1, c2, c3]: Nibbles) -> AccessBits {
    let group = |i: usize| Triple::new((c1 >> i) & 1 == 1, (c2 >> i) & 1 == 1, (c3 >> i) & 1 == 1);
    AccessBits {
        blocks: [group(0), group(1), group(2), group(3)],
    }
}

/// The plain copies: C1 in byte 7 high, C2 in byte 8 low, C3 in byte 8 high (§4.1 table).
fn plain_nibbles([_, b7, b8]: [u8; 3]) -> Nibbles {
    [b7 >> 4, b8 & 0x0F, b8 >> 4]
}

/// The inverted copies, inverted back: ¬C1 in byte 6 low, ¬C2 in byte 6 high, ¬C3 in byte 7 low.
fn inverted_nibbles([b6, b7, _]: [u8; 3]) -> Nibbles {
    [!b6 & 0x0F, !b6 >> 4, !b7 & 0x0F]
}

/// Encodes a sector's conditions as trailer bytes 6, 7, 8 (protocols.md §4.1):
/// `b6 = ¬C2 ¬C1`, `b7 = C1 ¬C3`, `b8 = C3 C2` (high nibble first).
///
/// The transport configuration (data groups `000`, trailer `001`) encodes as `FF 07 80`.
pub fn encode(access: &AccessBits) -> [u8; 3] {
    let [c1, c2, c3] = nibbles(access);
    [
        ((!c2 & 0x0F) << 4) | (!c1 & 0x0F),
        (c1 << 4) | (!c3 & 0x0F),
        (c3 << 4) | c2,
    ]
}

/// Decodes trailer bytes 6, 7, 8, refusing them if any inverted copy disagrees with its plain
/// copy (such a sector is unusable, protocols.md §4.5).
pub fn decode(bytes: [u8; 3]) -> Result<AccessBits, Malformed> {
    let plain = plain_nibbles(bytes);
    let inverted = inverted_nibbles(bytes);
    let disagree = [
        plain[0] ^ inverted[0],
        plain[1] ^ inverted[1],
        plain[2] ^ inverted[2],
    ];
    if disagree == [0; 3] {
        Ok(from_nibbles(plain))
    } else {
        Err(Malformed { bytes, disagree })
    }
}

/// Access bytes whose inverted copies disagree with the plain ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed access bits `{}`: inverted copy disagrees for {}", hex(.bytes), describe(.disagree))]
pub struct Malformed {
    /// The three bytes as found (trailer bytes 6, 7, 8).
    pub bytes: [u8; 3],
    /// Which copies disagree, per C bit (`[C1, C2, C3]`): bit *i* set = group *i* (3 = trailer).
    pub disagree: [u8; 3],
}

impl Malformed {
    /// Every disagreement as `(group, bit)`: group 0–2 data or 3 trailer, bit 1–3 for C1–C3.
    pub fn disagreements(&self) -> Vec<(usize, u8)> {
        let mut out = Vec::new();
        for group in 0..4 {
            for (bit, mask) in (1u8..).zip(self.disagree) {
                if (mask >> group) & 1 == 1 {
                    out.push((group, bit));
                }
            }
        }
        out
    }

    /// What the plain (non-inverted) copies say, as libfreefare reads them; for display only.
    pub fn plain(&self) -> AccessBits {
        from_nibbles(plain_nibbles(self.bytes))
    }

    /// What the inverted copies say once inverted back; for display only.
    pub fn inverted(&self) -> AccessBits {
        from_nibbles(inverted_nibbles(self.bytes))
    }
}

fn group_name(group: usize) -> String {
    if group == AccessBits::TRAILER {
        "the trailer".to_owned()
    } else {
        format!("data group {group}")
    }
}

/// Words for a disagreement mask: `C1 of data group 0 and the trailer; C3 of data group 2`.
fn describe(disagree: &[u8; 3]) -> String {
    let mut parts = Vec::new();
    for (bit, &mask) in (1..).zip(disagree) {
        let groups: Vec<String> = (0..4)
            .filter(|g| (mask >> g) & 1 == 1)
            .map(group_name)
            .collect();
        if !groups.is_empty() {
            parts.push(format!("C{bit} of {}", join_words(&groups)));
        }
    }
    parts.join("; ")
}

/// Access conditions read from a longer piece of a trailer, with the general purpose byte
/// (trailer byte 9) when it was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// The conditions.
    pub access: AccessBits,
    /// Trailer byte 9, the general purpose byte (`69` in the transport configuration), if given.
    pub gpb: Option<u8>,
}

/// Why bytes could not be read as access conditions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not 3, 4 or 16 bytes.
    #[error(
        "access bits take 3 bytes, 4 with the general purpose byte or 16 as a trailer, found {0}"
    )]
    Length(usize),
    /// The inverted copies disagree.
    #[error(transparent)]
    Malformed(#[from] Malformed),
}

/// Decodes access conditions from 3 bytes (bytes 6–8), 4 bytes (bytes 6–9, with the general
/// purpose byte) or a whole 16-byte sector trailer.
pub fn decode_slice(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let (access, gpb) = match *bytes {
        [b6, b7, b8] => ([b6, b7, b8], None),
        [b6, b7, b8, gpb] => ([b6, b7, b8], Some(gpb)),
        [_, _, _, _, _, _, b6, b7, b8, gpb, _, _, _, _, _, _] => ([b6, b7, b8], Some(gpb)),
        _ => return Err(DecodeError::Length(bytes.len())),
    };
    Ok(Decoded {
        access: decode(access)?,
        gpb,
    })
}
