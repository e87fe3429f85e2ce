//! What every command shares: class and length checks, unknown instructions, the ATRs, and
//! the promise that no input makes the card panic.

use proptest::prelude::*;

use super::{run, t0, t1};
use crate::sim::iso7816::{ATR_T0, ATR_T1, FileCard, Protocol};

#[test]
fn unsupported_classes_get_their_own_status_words() {
    run(
        &mut t1(),
        &[
            ("80 A4 00 0C 02 3F 00", "6E 00"),
            ("FF CA 00 00 00", "6E 00"),
            ("40 A4 00 0C 02 3F 00", "6E 00"),
            ("10 A4 00 0C 02 3F 00", "68 84"),
            ("0C A4 00 0C 02 3F 00", "68 82"),
            ("04 A4 00 0C 02 3F 00", "68 82"),
            ("01 A4 00 0C 02 3F 00", "68 81"),
            ("03 A4 00 0C 02 3F 00", "68 81"),
            ("00 A4 00 0C 02 3F 00", "90 00"),
        ],
    );
}

#[test]
fn malformed_apdus_answer_6700() {
    let mut card = t1();
    for bytes in [&[][..], &[0x00], &[0x00, 0xA4, 0x00]] {
        assert_eq!(card.transmit(bytes), [0x67, 0x00], "{bytes:02X?}");
    }
    run(
        &mut card,
        &[
            ("00 A4 00 0C 05 3F 00", "67 00"),
            ("00 A4 00 0C 00 3F", "67 00"),
            ("00 D6 00 00 00 00 00 AA", "67 00"),
        ],
    );
}

#[test]
fn unknown_instructions_answer_6d00() {
    run(
        &mut t1(),
        &[
            ("00 B1 00 00 00", "6D 00"),
            ("00 0C 00 00", "6D 00"),
            ("00 E6 00 00", "6D 00"),
        ],
    );
}

/// Reads an ATR per ISO/IEC 7816-3: (offered protocols, historical bytes, has TCK).
fn parse_atr(atr: &[u8]) -> (Vec<u8>, Vec<u8>, bool) {
    assert_eq!(atr[0], 0x3B, "direct convention");
    let k = (atr[1] & 0x0F) as usize;
    let mut y = atr[1] >> 4;
    let mut i = 2;
    let mut protocols = Vec::new();
    loop {
        // TA, TB, TC for this round, then TD if announced.
        i += (y & 0x07).count_ones() as usize;
        if y & 0x08 == 0 {
            break;
        }
        protocols.push(atr[i] & 0x0F);
        y = atr[i] >> 4;
        i += 1;
    }
    let historical = atr[i..i + k].to_vec();
    let has_tck = protocols.iter().any(|&t| t != 0);
    assert_eq!(atr.len(), i + k + usize::from(has_tck), "ATR length");
    (protocols, historical, has_tck)
}

#[test]
fn t1_atr_offers_t1_and_its_tck_is_right() {
    let (protocols, historical, has_tck) = parse_atr(&ATR_T1);
    assert_eq!(protocols, [1, 1]);
    assert!(has_tck);
    assert_eq!(historical, b"\x80\x68APDU-RUN");
    // TCK makes the XOR of every byte from T0 to TCK zero (ISO/IEC 7816-3).
    assert_eq!(ATR_T1[1..].iter().fold(0, |x, b| x ^ b), 0);
}

#[test]
fn t0_atr_offers_only_t0_and_has_no_tck() {
    let (protocols, historical, has_tck) = parse_atr(&ATR_T0);
    assert!(protocols.is_empty());
    assert!(!has_tck);
    assert_eq!(historical, b"\x80\x68APDU-RUN");
    assert_eq!(t0().atr(), ATR_T0);
    assert_eq!(t1().atr(), ATR_T1);
}

/// Instructions the card knows, plus a few it does not, to steer random APDUs inward.
const INS: &[u8] = &[
    0xA4, 0xB0, 0xD6, 0xD0, 0x0E, 0xB2, 0xDC, 0xE2, 0x20, 0x24, 0x2C, 0x84, 0xC0, 0xE0, 0xCA, 0x00,
];

/// P1 values that mean something to some command.
const P1: &[u8] = &[0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x09, 0x81, 0x82, 0xFF];
/// P2 values that mean something to some command.
const P2: &[u8] = &[0x00, 0x01, 0x04, 0x0C, 0x10, 0x14];

fn apdu() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(0x00u8), any::<u8>()],
        proptest::sample::select(INS),
        prop_oneof![proptest::sample::select(P1), any::<u8>()],
        prop_oneof![proptest::sample::select(P2), any::<u8>()],
        proptest::collection::vec(any::<u8>(), 0..24),
    )
        .prop_map(|(cla, ins, p1, p2, body)| {
            let mut bytes = vec![cla, ins, p1, p2];
            bytes.extend(body);
            bytes
        })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        t0 in any::<bool>(),
    ) {
        let mut card = FileCard::demo(if t0 { Protocol::T0 } else { Protocol::T1 }, 0, crate::sim::iso7816::challenge::SEED);
        prop_assert!(card.transmit(&bytes).len() >= 2);
    }

    #[test]
    fn random_command_sequences_never_panic(
        commands in proptest::collection::vec(apdu(), 1..40),
        t0 in any::<bool>(),
    ) {
        let mut card = FileCard::demo(if t0 { Protocol::T0 } else { Protocol::T1 }, 0, crate::sim::iso7816::challenge::SEED);
        for command in &commands {
            prop_assert!(card.transmit(command).len() >= 2);
        }
        // Whatever happened, the card still works.
        let select_mf = [0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00];
        prop_assert_eq!(card.transmit(&select_mf), [0x90, 0x00]);
    }
}
