//! What a contactless reader's ATR says about the card in its field (protocols.md §2.3, §2.4).
//!
//! A PC/SC reader builds the ATR of a contactless card itself: storage cards (MIFARE
//! Classic, Ultralight, Plus in SL1/SL2) get `3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN NN
//! 00 00 00 00 TCK` with the PC/SC Part 3 card name `NN NN`; ISO 14443-4 cards (MIFARE Plus
//! in SL0/SL3, DESFire) get `3B 8n 80 01 <historical bytes> TCK`. This file reads those two
//! shapes, in one place for the guard, the batch's identification and the scripts; it does
//! not build ATRs (the simulator's front-end does).

/// The storage-card ATR up to the standard byte: TS, T0, TD1, TD2, category, AID tag and
/// length, the PC/SC workgroup RID.
pub const STORAGE_PREFIX: [u8; 12] = [
    0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06,
];

/// PC/SC Part 3 card names (§2.3) of the cards this project knows.
pub mod card_name {
    /// MIFARE Classic 1K.
    pub const CLASSIC_1K: u16 = 0x0001;
    /// MIFARE Classic 4K.
    pub const CLASSIC_4K: u16 = 0x0002;
    /// MIFARE Ultralight.
    pub const ULTRALIGHT: u16 = 0x0003;
    /// MIFARE Plus 2K in security level 1.
    pub const PLUS_SL1_2K: u16 = 0x0036;
    /// MIFARE Plus 4K in security level 1.
    pub const PLUS_SL1_4K: u16 = 0x0037;
    /// MIFARE Plus 2K in security level 2.
    pub const PLUS_SL2_2K: u16 = 0x0038;
    /// MIFARE Plus 4K in security level 2.
    pub const PLUS_SL2_4K: u16 = 0x0039;
}

/// The PC/SC Part 3 card name of a storage-card ATR, or `None` for any other ATR.
pub fn storage_card_name(atr: &[u8]) -> Option<u16> {
    (atr.len() >= 15 && atr[..12] == STORAGE_PREFIX).then(|| u16::from_be_bytes([atr[13], atr[14]]))
}

/// Whether `atr` is the ATR a PC/SC reader builds for an ISO 14443-4 type A card
/// (`3B 8x 80 01 …`, §2.4) rather than the storage-card ATR, which starts the same way.
pub fn is_iso14443_4(atr: &[u8]) -> bool {
    matches!(atr, [0x3B, t0, 0x80, 0x01, ..] if t0 & 0xF0 == 0x80)
        && !atr.starts_with(&STORAGE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::hex;

    #[test]
    fn reads_both_shapes() {
        let classic =
            hex::parse("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A").unwrap();
        assert_eq!(storage_card_name(&classic), Some(card_name::CLASSIC_1K));
        assert!(!is_iso14443_4(&classic));
        let plus_sl0 = hex::parse("3B 87 80 01 C1 05 2F 2F 01 BC D6 A9").unwrap();
        assert_eq!(storage_card_name(&plus_sl0), None);
        assert!(is_iso14443_4(&plus_sl0));
        let contact = hex::parse("3B 8A 81 31 FE 45 80 68 41 50 44 55 2D 52 55 4E 0D").unwrap();
        assert_eq!(storage_card_name(&contact), None);
        assert!(!is_iso14443_4(&contact));
        assert_eq!(storage_card_name(&[]), None);
        assert!(!is_iso14443_4(&[0x3B]));
    }

    #[test]
    fn iso4_atrs_are_told_from_storage_card_atrs() {
        let atr = |text: &str| hex::parse(text).unwrap();
        assert!(is_iso14443_4(&atr("3B 87 80 01 C1 05 2F 2F 01 BC D6 A9")));
        assert!(is_iso14443_4(&atr("3B 81 80 01 80 80")));
        assert!(!is_iso14443_4(&atr(
            "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
        )));
        assert!(!is_iso14443_4(&atr("3B 8A 81 31 FE 45 80 68 41 50 44")));
        assert!(!is_iso14443_4(&[]));
    }
}
