//! What the answer-to-reset says about the card's ISO 7816-4 abilities.
//!
//! The historical bytes (ISO/IEC 7816-3 §8.2.2: T0's low nibble counts them, after the
//! interface bytes) start with a category indicator. Categories `00` and `80` are followed by
//! COMPACT-TLV objects (ISO/IEC 7816-4 §8.1.1): a tag nibble and a length nibble. Tag `7` is
//! "card capabilities"; its third byte, when present, holds bit b7 (`40`) "extended Lc and Le
//! fields" (§8.1.1.2.7, table 87). Anything this file cannot read is "not announced": a card
//! is assumed to take short APDUs only. Pure functions; nothing is sent.

/// The historical bytes of `atr`, or `None` when the ATR is cut short or malformed.
pub fn historical_bytes(atr: &[u8]) -> Option<&[u8]> {
    let (&t0, rest) = atr.get(1..)?.split_first()?;
    let k = usize::from(t0 & 0x0F);
    let mut y = t0 >> 4;
    let mut at = 0usize;
    loop {
        // TAi, TBi, TCi, then TDi which carries the next indicator nibble.
        at += (y & 0x7).count_ones() as usize;
        if y & 0x8 == 0 {
            break;
        }
        let td = *rest.get(at)?;
        at += 1;
        y = td >> 4;
    }
    rest.get(at..at.checked_add(k)?)
}

/// Whether the ATR's card-capabilities object announces extended Lc and Le fields.
pub fn extended_length_announced(atr: &[u8]) -> bool {
    card_capabilities(atr)
        .and_then(|caps| caps.get(2).copied())
        .is_some_and(|third| third & 0x40 != 0)
}

/// The value of the card-capabilities COMPACT-TLV object (tag `7`), if the ATR has one.
pub fn card_capabilities(atr: &[u8]) -> Option<&[u8]> {
    let historical = historical_bytes(atr)?;
    let (&category, objects) = historical.split_first()?;
    let mut objects = match category {
        0x80 => objects,
        // Category 00: the last three bytes are a status indicator, not an object.
        0x00 => objects.get(..objects.len().checked_sub(3)?)?,
        _ => return None,
    };
    while let Some((&header, rest)) = objects.split_first() {
        let len = usize::from(header & 0x0F);
        let value = rest.get(..len)?;
        if header >> 4 == 0x7 {
            return Some(value);
        }
        objects = &rest[len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_historical_bytes_after_the_interface_bytes() {
        // The simulator's T=1 ATR: TD1, TD2, TA3, TB3, then ten historical bytes.
        let t1 = [
            0x3B, 0x8A, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x68, b'A', b'P', b'D', b'U', b'-', b'R',
            b'U', b'N', 0x0D,
        ];
        assert_eq!(historical_bytes(&t1).unwrap()[..2], [0x80, 0x68]);
        let t0 = [0x3B, 0x02, 0x80, 0x00];
        assert_eq!(historical_bytes(&t0), Some(&[0x80, 0x00][..]));
        assert_eq!(historical_bytes(&[0x3B, 0x05, 0x80]), None);
        assert_eq!(historical_bytes(&[0x3B]), None);
    }

    #[test]
    fn extended_length_comes_from_the_third_capabilities_byte() {
        // 80, then 73 (card capabilities, 3 bytes) with the third byte 0x40 set.
        let yes = [0x3B, 0x05, 0x80, 0x73, 0x00, 0x00, 0x40];
        assert!(extended_length_announced(&yes));
        let no = [0x3B, 0x05, 0x80, 0x73, 0x00, 0x00, 0x80];
        assert!(!extended_length_announced(&no));
        // Only two capability bytes: no third table, so nothing is announced.
        let short = [0x3B, 0x04, 0x80, 0x72, 0xFF, 0xFF];
        assert!(!extended_length_announced(&short));
        // Category 00: a status indicator (00 90 00) closes the historical bytes.
        let cat00 = [
            0x3B, 0x0A, 0x00, 0x31, 0xC0, 0x73, 0x00, 0x00, 0x40, 0x00, 0x90, 0x00,
        ];
        assert!(extended_length_announced(&cat00));
        // The status indicator is not read as objects: without the 73 object, nothing.
        let cat00_none = [0x3B, 0x06, 0x00, 0x31, 0xC0, 0x00, 0x90, 0x00];
        assert_eq!(card_capabilities(&cat00_none), None);
        // A JavaCard-like ATR: pre-issuing data first, then capabilities.
        let jc = [
            0x3B, 0x8A, 0x80, 0x01, 0x80, 0x31, 0xC0, 0x73, 0xC0, 0x01, 0x40, 0x00, 0x90, 0x00,
        ];
        assert!(extended_length_announced(&jc));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(atr in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let _ = extended_length_announced(&atr);
            let _ = historical_bytes(&atr);
        }
    }
}
