//! MIFARE Classic memory as data (protocols.md §4.4, §4.5, §5): which block belongs to which
//! sector, value blocks, sector trailers and the manufacturer block 0.
//!
//! - `layout.rs`: [`Layout`] (1K, 2K, 4K) and [`SectorSize`]: sector of a block, first and
//!   trailer block of a sector, block counts.
//! - `value.rs`: the 16-byte value block format with its redundant copies.
//! - `blocks.rs`: building and splitting sector trailers, and block 0 with its BCC.
//!
//! What the access bits inside a trailer mean is [`crate::mifare::access`]'s business; this
//! module only places the three bytes.

mod blocks;
mod layout;
mod value;

pub use blocks::{Block0, Block0Error, TRANSPORT_GPB, Trailer, bcc, trailer};
pub use layout::{BLOCK_SIZE, Layout, SectorSize};
pub use value::{ValueError, is_value_block, parse_value_block, value_block};

#[cfg(test)]
mod tests;
