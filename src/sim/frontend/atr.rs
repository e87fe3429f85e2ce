//! The ATR a PC/SC reader builds for a contactless storage card (protocols.md §2.3), and the
//! PC/SC Part 3 card names that go into it.
//!
//! Only the storage-card form `3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN NN 00 00 00 00 TCK`.
//! ISO 14443-4 cards get an ATR made from their ATS (§2.4); a chip that is one builds it
//! itself (see [`super::Picc::atr`]).

// The other chips define their names beside them (Ultralight `0003` in `ultralight/picc.rs`,
// MIFARE Plus SL1 `0036`/`0037` in `plus/mod.rs`). `reader::atr::card_name` holds the same
// numbers for reading ATRs, which `sim` may not use (it depends on `reader` for the traits
// only); `sim/tests.rs` checks that every kind's ATR reads back as that kind there.

/// PC/SC Part 3 card name `0001`: MIFARE Classic 1K (§2.3).
pub(crate) const CLASSIC_1K: u16 = 0x0001;
/// PC/SC Part 3 card name `0002`: MIFARE Classic 4K.
pub(crate) const CLASSIC_4K: u16 = 0x0002;

/// Standard byte SS `03`: ISO 14443-A part 3, as readers report every type A storage card.
const ISO14443A_3: u8 = 0x03;

/// The storage-card ATR for a type A card with PC/SC card name `name`.
///
/// `3B` direct convention; `8F` TD1 follows, 15 historical bytes; `80` TD2 follows, T=0;
/// `01` T=1; historical bytes `80` (COMPACT-TLV) `4F 0C` (application identifier, 12 bytes)
/// `A0 00 00 03 06` (PC/SC workgroup RID) `03` (ISO 14443-A part 3) `NN NN` (card name)
/// `00 00 00 00` (RFU); TCK = XOR of bytes 1 to 18.
pub(crate) const fn storage_atr(name: u16) -> [u8; 20] {
    let [hi, lo] = name.to_be_bytes();
    let mut atr = [
        0x3B,
        0x8F,
        0x80,
        0x01,
        0x80,
        0x4F,
        0x0C,
        0xA0,
        0x00,
        0x00,
        0x03,
        0x06,
        ISO14443A_3,
        hi,
        lo,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
    ];
    let mut tck = 0;
    let mut i = 1;
    while i < 19 {
        tck ^= atr[i];
        i += 1;
    }
    atr[19] = tck;
    atr
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::hex;

    #[test]
    fn atrs_match_the_ready_made_ones_of_protocols_2_3() {
        let table = [
            (
                CLASSIC_1K,
                "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A",
            ),
            (
                CLASSIC_4K,
                "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 02 00 00 00 00 69",
            ),
            (
                0x0003,
                "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 03 00 00 00 00 68",
            ),
            (
                0x0036,
                "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 36 00 00 00 00 5D",
            ),
            (
                0x0037,
                "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 37 00 00 00 00 5C",
            ),
        ];
        for (name, atr) in table {
            assert_eq!(hex::format(&storage_atr(name)), atr, "{name:04X}");
        }
    }
}
