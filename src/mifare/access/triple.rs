//! The access condition of one block group ([`Triple`]) and of a whole sector ([`AccessBits`]),
//! their text forms, and which group governs which block (protocols.md §4.1, §4.4).
//!
//! Values and text only. The byte encoding is in `bits.rs`, the meaning in `explain.rs`.

use std::fmt;
use std::str::FromStr;

use crate::mifare::classic::SectorSize;

/// The access bits C1 C2 C3 of one block group (protocols.md §4.1).
///
/// Written `C1C2C3` as in the tables of §4.2 and §4.3: `"110"` is C1 = 1, C2 = 1, C3 = 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Triple {
    /// Access bit C1.
    pub c1: bool,
    /// Access bit C2.
    pub c2: bool,
    /// Access bit C3.
    pub c3: bool,
}

impl Triple {
    /// All eight conditions, `000` to `111` in numeric order.
    pub const ALL: [Triple; 8] = {
        let mut all = [Triple::new(false, false, false); 8];
        let mut i = 0;
        while i < 8 {
            all[i] = Triple::from_index(i as u8);
            i += 1;
        }
        all
    };

    /// Builds a condition from its three bits.
    pub const fn new(c1: bool, c2: bool, c3: bool) -> Triple {
        Triple { c1, c2, c3 }
    }

    /// Builds a condition from `C1C2C3` read as a binary number (C1 most significant), so
    /// `0b110` is `"110"`. Returns `None` above 7.
    pub const fn from_bits(bits: u8) -> Option<Triple> {
        if bits > 7 {
            None
        } else {
            Some(Triple::from_index(bits))
        }
    }

    const fn from_index(bits: u8) -> Triple {
        Triple::new(bits & 0b100 != 0, bits & 0b010 != 0, bits & 0b001 != 0)
    }

    /// The condition as a binary number, C1 most significant: `"110"` is 6.
    pub const fn bits(self) -> u8 {
        ((self.c1 as u8) << 2) | ((self.c2 as u8) << 1) | self.c3 as u8
    }
}

impl fmt::Display for Triple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.c1 as u8, self.c2 as u8, self.c3 as u8)
    }
}

/// Why a text is not an access condition like `110`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TripleError {
    /// The text is not exactly three characters long.
    #[error("access condition `{text}` has {len} characters, expected 3 like `110`")]
    Length {
        /// The text as given.
        text: String,
        /// Its length in characters.
        len: usize,
    },
    /// One of the characters is not `0` or `1`.
    #[error("access condition `{text}`: C{bit} is `{found}`, expected 0 or 1")]
    BadChar {
        /// The text as given.
        text: String,
        /// Which bit (1 for C1, 2 for C2, 3 for C3) the character stands for.
        bit: u8,
        /// The character found there.
        found: char,
    },
}

impl FromStr for Triple {
    type Err = TripleError;

    fn from_str(text: &str) -> Result<Triple, TripleError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() != 3 {
            return Err(TripleError::Length {
                text: text.to_owned(),
                len: chars.len(),
            });
        }
        let mut bits = [false; 3];
        for (i, (&c, bit)) in chars.iter().zip(bits.iter_mut()).enumerate() {
            *bit = match c {
                '0' => false,
                '1' => true,
                found => {
                    return Err(TripleError::BadChar {
                        text: text.to_owned(),
                        bit: i as u8 + 1,
                        found,
                    });
                }
            };
        }
        Ok(Triple::new(bits[0], bits[1], bits[2]))
    }
}

/// The access conditions of one sector: data groups 0, 1, 2 and the trailer (protocols.md §4.1).
///
/// In a 4-block sector group *i* is block *i*; in a 16-block sector of a 4K card the data
/// groups cover blocks 0–4, 5–9 and 10–14 (§4.4, see [`group_of`]). Text form:
/// `"000 000 000 001"`, groups in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AccessBits {
    /// Conditions of data groups 0, 1, 2, then of the trailer (index [`AccessBits::TRAILER`]).
    pub blocks: [Triple; 4],
}

impl AccessBits {
    /// Index of the trailer's condition in [`AccessBits::blocks`].
    pub const TRAILER: usize = 3;

    /// Builds the conditions of a sector from its three data groups and its trailer.
    pub const fn new(data: [Triple; 3], trailer: Triple) -> AccessBits {
        AccessBits {
            blocks: [data[0], data[1], data[2], trailer],
        }
    }

    /// The same condition for every data group, and one for the trailer.
    pub const fn uniform(data: Triple, trailer: Triple) -> AccessBits {
        AccessBits::new([data, data, data], trailer)
    }

    /// The trailer's condition.
    pub const fn trailer(&self) -> Triple {
        self.blocks[Self::TRAILER]
    }

    /// The conditions of data groups 0, 1 and 2.
    pub const fn data(&self) -> [Triple; 3] {
        [self.blocks[0], self.blocks[1], self.blocks[2]]
    }

    /// The condition that governs block `block_in_sector` of a sector of the given size, or
    /// `None` if the sector has no such block.
    pub fn for_block(&self, size: SectorSize, block_in_sector: u8) -> Option<Triple> {
        group_of(size, block_in_sector).map(|group| self.blocks[group])
    }

    /// All 4,096 combinations, each exactly once.
    pub fn all() -> impl Iterator<Item = AccessBits> {
        (0u16..4096).map(|n| {
            let group = |i: u16| Triple::from_index(((n >> (3 * i)) & 7) as u8);
            AccessBits {
                blocks: [group(0), group(1), group(2), group(3)],
            }
        })
    }
}

impl fmt::Display for AccessBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [g0, g1, g2, t] = self.blocks;
        write!(f, "{g0} {g1} {g2} {t}")
    }
}

/// Why a text is not a sector's access conditions like `000 000 000 001`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessTextError {
    /// The text does not have four space-separated groups.
    #[error("access conditions `{text}` have {found} groups, expected 4 like `000 000 000 001`")]
    Groups {
        /// The text as given.
        text: String,
        /// How many groups it has.
        found: usize,
    },
    /// One group is not a valid condition.
    #[error("group {group}: {source}")]
    Triple {
        /// Which group (0–2 data, 3 trailer).
        group: usize,
        /// What is wrong with it.
        source: TripleError,
    },
}

impl FromStr for AccessBits {
    type Err = AccessTextError;

    fn from_str(text: &str) -> Result<AccessBits, AccessTextError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.len() != 4 {
            return Err(AccessTextError::Groups {
                text: text.to_owned(),
                found: words.len(),
            });
        }
        let mut blocks = [Triple::default(); 4];
        for (group, (word, slot)) in words.iter().zip(blocks.iter_mut()).enumerate() {
            *slot = word
                .parse()
                .map_err(|source| AccessTextError::Triple { group, source })?;
        }
        Ok(AccessBits { blocks })
    }
}

/// The group (0–2 data, 3 trailer) whose condition governs block `block_in_sector` of a sector
/// of the given size, or `None` past the end of the sector.
///
/// Small sectors: group = block. Large sectors (4K sectors 32–39): blocks 0–4, 5–9, 10–14 are
/// groups 0, 1, 2 and block 15 is the trailer (protocols.md §4.4, libfreefare `% 16 / 5`).
pub fn group_of(size: SectorSize, block_in_sector: u8) -> Option<usize> {
    if block_in_sector >= size.blocks() {
        return None;
    }
    Some(match size {
        SectorSize::Small => usize::from(block_in_sector),
        SectorSize::Large => usize::from(block_in_sector / 5),
    })
}
