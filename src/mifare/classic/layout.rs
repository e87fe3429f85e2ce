//! Block and sector numbering of MIFARE Classic 1K and 4K and of MIFARE Plus 2K in SL1
//! (protocols.md §4.4, §3.3).
//!
//! Sectors 0–31 have 4 blocks; sectors 32–39 (4K only) have 16. The last block of every sector
//! is its trailer. Numbers only: nothing here reads or writes a block.

use std::fmt;

/// Bytes in one MIFARE Classic block.
pub const BLOCK_SIZE: usize = 16;

/// How many blocks a sector has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectorSize {
    /// 4 blocks: sectors 0–31.
    Small,
    /// 16 blocks: sectors 32–39 of a 4K card.
    Large,
}

impl SectorSize {
    /// Number of blocks, trailer included.
    pub const fn blocks(self) -> u8 {
        match self {
            SectorSize::Small => 4,
            SectorSize::Large => 16,
        }
    }
}

/// A card's memory size, which fixes its sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// MIFARE Classic 1K: 16 sectors × 4 blocks.
    OneK,
    /// MIFARE Plus 2K in SL1: 32 sectors × 4 blocks (SL0 addresses `0000`–`007F`, §3.3).
    TwoK,
    /// MIFARE Classic 4K (or Plus 4K in SL1): 32 sectors × 4 blocks, then 8 sectors × 16 blocks.
    FourK,
}

/// First block of the 16-block sectors (sector 32) on a 4K card.
const LARGE_START: u8 = 128;
/// Number of 4-block sectors before the large ones.
const SMALL_SECTORS: u8 = 32;

impl Layout {
    /// Number of sectors: 16, 32 or 40.
    pub const fn sector_count(self) -> u8 {
        match self {
            Layout::OneK => 16,
            Layout::TwoK => 32,
            Layout::FourK => 40,
        }
    }

    /// Number of blocks: 64, 128 or 256.
    pub const fn block_count(self) -> u16 {
        match self {
            Layout::OneK => 64,
            Layout::TwoK => 128,
            Layout::FourK => 256,
        }
    }

    /// Whether the card has this block.
    pub fn has_block(self, block: u8) -> bool {
        u16::from(block) < self.block_count()
    }

    /// Whether the card has this sector.
    pub fn has_sector(self, sector: u8) -> bool {
        sector < self.sector_count()
    }

    /// The sector a block belongs to: `b / 4` below 128, else `32 + (b - 128) / 16` (§4.4).
    pub fn sector_of(self, block: u8) -> Option<u8> {
        if !self.has_block(block) {
            return None;
        }
        Some(if block < LARGE_START {
            block / 4
        } else {
            SMALL_SECTORS + (block - LARGE_START) / 16
        })
    }

    /// Size of a sector.
    pub fn sector_size(self, sector: u8) -> Option<SectorSize> {
        if !self.has_sector(sector) {
            None
        } else if sector < SMALL_SECTORS {
            Some(SectorSize::Small)
        } else {
            Some(SectorSize::Large)
        }
    }

    /// Number of blocks in a sector, trailer included: 4 or 16.
    pub fn blocks_in_sector(self, sector: u8) -> Option<u8> {
        self.sector_size(sector).map(SectorSize::blocks)
    }

    /// The first block of a sector.
    pub fn first_block(self, sector: u8) -> Option<u8> {
        self.sector_size(sector).map(|size| match size {
            SectorSize::Small => sector * 4,
            SectorSize::Large => LARGE_START + (sector - SMALL_SECTORS) * 16,
        })
    }

    /// The trailer of a sector, its last block.
    pub fn trailer_block(self, sector: u8) -> Option<u8> {
        let size = self.sector_size(sector)?;
        Some(self.first_block(sector)? + (size.blocks() - 1))
    }

    /// Whether a block is a sector trailer: `b | 3 == b` below 128, `b | 15 == b` above (§4.4).
    pub fn is_trailer(self, block: u8) -> bool {
        self.sector_of(block)
            .and_then(|sector| self.trailer_block(sector))
            == Some(block)
    }

    /// The position of a block within its sector (0 = first, 3 or 15 = trailer).
    pub fn block_in_sector(self, block: u8) -> Option<u8> {
        let sector = self.sector_of(block)?;
        Some(block - self.first_block(sector)?)
    }

    /// The access-bit group (0–2 data, 3 trailer) that governs a block (§4.4).
    pub fn access_group(self, block: u8) -> Option<usize> {
        let size = self.sector_size(self.sector_of(block)?)?;
        crate::mifare::access::group_of(size, self.block_in_sector(block)?)
    }

    /// The name printed on the card: `1K`, `2K`, `4K`.
    pub fn name(self) -> &'static str {
        match self {
            Layout::OneK => "1K",
            Layout::TwoK => "2K",
            Layout::FourK => "4K",
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
