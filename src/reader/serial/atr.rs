//! The structure of an answer-to-reset as far as a serial backend needs it: where it ends
//! (so a raw reader knows when it has read all of it, and the bytes a GCR400 inserts can be
//! found), the extra guard time TC1 asks for, and whether T=0 is offered.
//!
//! Bytes are in direct convention here (a raw backend decodes inverse ones first). Nothing
//! is printed or sent.

/// How many bytes the ATR that starts `atr` has, counted from its interface bytes and the
/// number of historical bytes; `None` while `atr` is too short to tell (fewer than 2 bytes,
/// or the interface bytes run past its end). TCK is counted when a protocol other than T=0
/// is offered (ISO 7816-3 §8.2.5).
pub fn structural_len(atr: &[u8]) -> Option<usize> {
    layout(atr).map(|(len, _)| len)
}

/// Whether the ATR ends with TCK (a TDi names a protocol other than T=0).
pub fn has_tck(atr: &[u8]) -> bool {
    layout(atr).is_some_and(|(_, tck)| tck)
}

fn layout(atr: &[u8]) -> Option<(usize, bool)> {
    let t0 = *atr.get(1)?;
    let historical = usize::from(t0 & 0x0F);
    let mut y = t0 >> 4;
    let mut at = 2;
    let mut needs_tck = false;
    loop {
        let count = y.count_ones() as usize;
        if y & 0x8 == 0 {
            at += count;
            break;
        }
        // TDi is the last of this group's interface bytes.
        at += count;
        let td = *atr.get(at - 1)?;
        if td & 0x0F != 0 {
            needs_tck = true;
        }
        y = td >> 4;
    }
    Some((at + historical + usize::from(needs_tck), needs_tck))
}

/// The ATR without what a GCR400 inserts: the source saw `11 00` or `11` "inserted at the
/// second byte for unknown reasons" (cos-and-serial.md §5.2). `raw` is taken as it is when
/// its structure accounts for exactly its length; otherwise without `11 00`, then without
/// `11`, at index 1, whichever accounts for its length first. `None` when none does: the
/// ATR is corrupt and must not be used.
pub fn strip_inserted(raw: &[u8]) -> Option<Vec<u8>> {
    if structural_len(raw) == Some(raw.len()) {
        return Some(raw.to_vec());
    }
    for inserted in [&[0x11, 0x00][..], &[0x11][..]] {
        if raw.len() > inserted.len() + 1 && raw[1..].starts_with(inserted) {
            let mut atr = vec![raw[0]];
            atr.extend_from_slice(&raw[1 + inserted.len()..]);
            if structural_len(&atr) == Some(atr.len()) {
                return Some(atr);
            }
        }
    }
    None
}

/// The interface bytes of the first group: (TA1, TB1, TC1, TD1) when present.
fn first_group(atr: &[u8]) -> [Option<u8>; 4] {
    let mut out = [None; 4];
    let Some(&t0) = atr.get(1) else {
        return out;
    };
    let mut at = 2;
    for (i, slot) in out.iter_mut().enumerate() {
        if t0 & (0x10 << i) != 0 {
            *slot = atr.get(at).copied();
            at += 1;
        }
    }
    out
}

/// The extra guard time N from TC1 in etu (0 when absent; `FF` means the minimum, also 0).
pub fn extra_guard_etu(atr: &[u8]) -> u32 {
    match first_group(atr)[2] {
        Some(0xFF) | None => 0,
        Some(n) => u32::from(n),
    }
}

/// Whether the ATR offers T=0: no TD1 (T=0 implied) or a TDi naming T=0.
pub fn offers_t0(atr: &[u8]) -> bool {
    let Some(td1) = first_group(atr)[3] else {
        return true;
    };
    if td1 & 0x0F == 0 {
        return true;
    }
    // Later groups may still offer T=0 (rare): walk the TDi chain.
    let mut y = td1 >> 4;
    let mut at = 2 + (atr[1] >> 4).count_ones() as usize;
    while y & 0x8 != 0 {
        at += y.count_ones() as usize;
        let Some(&td) = atr.get(at - 1) else {
            return false;
        };
        if td & 0x0F == 0 {
            return true;
        }
        y = td >> 4;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T1: [u8; 17] = [
        0x3B, 0x8A, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x68, b'A', b'P', b'D', b'U', b'-', b'R', b'U',
        b'N', 0x0D,
    ];
    const T0: [u8; 12] = [
        0x3B, 0x0A, 0x80, 0x68, b'A', b'P', b'D', b'U', b'-', b'R', b'U', b'N',
    ];

    #[test]
    fn lengths_of_known_atrs() {
        assert_eq!(structural_len(&T1), Some(17));
        assert_eq!(structural_len(&T0), Some(12));
        assert_eq!(structural_len(&[0x3B]), None);
        // TA1 TB1 TC1, 2 historical bytes.
        assert_eq!(
            structural_len(&[0x3B, 0x72, 0x13, 0x00, 0x05, 1, 2]),
            Some(7)
        );
    }

    #[test]
    fn inserted_bytes_are_removed() {
        for inserted in [&[0x11, 0x00][..], &[0x11][..], &[][..]] {
            for atr in [&T0[..], &T1[..]] {
                let mut raw = vec![atr[0]];
                raw.extend_from_slice(inserted);
                raw.extend_from_slice(&atr[1..]);
                assert_eq!(strip_inserted(&raw).as_deref(), Some(atr), "{raw:02X?}");
            }
        }
        assert_eq!(strip_inserted(&T0[..11]), None);
        assert_eq!(strip_inserted(&[0x3B, 0x22, 0x00]), None);
    }

    #[test]
    fn guard_time_and_protocols() {
        assert_eq!(extra_guard_etu(&[0x3B, 0x40, 0x05]), 5);
        assert_eq!(extra_guard_etu(&[0x3B, 0x40, 0xFF]), 0);
        assert_eq!(extra_guard_etu(&T0), 0);
        assert!(offers_t0(&T0));
        assert!(!offers_t0(&T1));
        assert!(offers_t0(&[0x3B, 0x80, 0x80, 0x01, 0x00]));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = structural_len(&bytes);
            let _ = strip_inserted(&bytes);
            let _ = extra_guard_etu(&bytes);
            let _ = offers_t0(&bytes);
        }

        #[test]
        fn a_stripped_atr_accounts_for_its_length(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Some(atr) = strip_inserted(&bytes) {
                prop_assert_eq!(structural_len(&atr), Some(atr.len()));
            }
        }
    }
}
