use super::{
    Block, BlockNumber, Error, RKind, SKind, append_crc_a, i_block, i_block_chaining,
    i_block_with_cid, parse_block, rats,
};
use proptest::prelude::*;

/// Parses `bytes` and compares with `expected`.
#[track_caller]
fn check(bytes: &[u8], expected: Result<Block, Error>) {
    assert_eq!(parse_block(bytes), expected, "parse_block({bytes:02X?})");
}

fn i(number: BlockNumber, chaining: bool, cid: Option<u8>, payload: &[u8]) -> Block {
    Block::I {
        number,
        chaining,
        cid,
        payload: payload.to_vec(),
    }
}

use BlockNumber::{One, Zero};

#[test]
fn appendix_b_pcbs_classify() {
    check(&[0x02, 0xAA], Ok(i(Zero, false, None, &[0xAA])));
    check(&[0x03], Ok(i(One, false, None, &[])));
    check(&[0x0A, 0x00, 0xAA], Ok(i(Zero, false, Some(0), &[0xAA])));
    check(&[0x0B, 0x05, 0x90], Ok(i(One, false, Some(5), &[0x90])));
    check(&[0x12, 0x01, 0x02], Ok(i(Zero, true, None, &[0x01, 0x02])));
    check(&[0x13, 0x01], Ok(i(One, true, None, &[0x01])));
    let r = |kind, number, cid| Ok(Block::R { kind, number, cid });
    check(&[0xA2], r(RKind::Ack, Zero, None));
    check(&[0xA3], r(RKind::Ack, One, None));
    check(&[0xB2], r(RKind::Nak, Zero, None));
    check(&[0xB3], r(RKind::Nak, One, None));
    check(&[0xAA, 0x01], r(RKind::Ack, Zero, Some(1)));
    let s = |kind, cid| Ok(Block::S { kind, cid });
    check(&[0xC2], s(SKind::Deselect, None));
    check(&[0xCA, 0x03], s(SKind::Deselect, Some(3)));
    check(&[0xF2, 0x01], s(SKind::Wtx { wtxm: 1 }, None));
    check(&[0xFA, 0x00, 0x3B], s(SKind::Wtx { wtxm: 59 }, Some(0)));
}

#[test]
fn power_level_bits_are_ignored() {
    check(&[0x0A, 0xC2, 0x90], Ok(i(Zero, false, Some(2), &[0x90])));
    check(
        &[0xF2, 0x81],
        Ok(Block::S {
            kind: SKind::Wtx { wtxm: 1 },
            cid: None,
        }),
    );
}

#[test]
fn invalid_blocks_are_errors() {
    check(&[], Err(Error::Empty));
    // A layer-3 MIFARE Plus WritePerso without a PCB (protocols.md §3.6): b2 is clear.
    check(&[0xA8, 0x00, 0x90], Err(Error::InvalidPcb(0xA8)));
    check(&[0x00], Err(Error::InvalidPcb(0x00)));
    check(&[0x22], Err(Error::InvalidPcb(0x22)));
    check(&[0xE2], Err(Error::InvalidPcb(0xE2)));
    check(&[0xD2], Err(Error::InvalidPcb(0xD2)));
    check(&[0xC3], Err(Error::InvalidPcb(0xC3)));
    check(&[0xA6], Err(Error::InvalidPcb(0xA6)));
    check(&[0x06, 0x00], Err(Error::NadNotSupported(0x06)));
    check(&[0x0A], Err(Error::MissingCid(0x0A)));
    check(&[0x0A, 0x0F], Err(Error::InvalidCidByte(0x0F)));
    check(&[0x0A, 0x10], Err(Error::InvalidCidByte(0x10)));
    check(&[0xF2], Err(Error::MissingWtxm));
    check(&[0xF2, 0x00], Err(Error::InvalidWtxm(0)));
    check(&[0xF2, 0x3C], Err(Error::InvalidWtxm(60)));
    let trailing = |pcb, extra| Err(Error::TrailingBytes { pcb, extra });
    check(&[0xA2, 0x00], trailing(0xA2, 1));
    check(&[0xC2, 0x00, 0x00], trailing(0xC2, 2));
    check(&[0xF2, 0x01, 0x02], trailing(0xF2, 1));
}

#[test]
fn builders_match_appendix_b() {
    assert_eq!(i_block(Zero, &[0xAA]), [0x02, 0xAA]);
    assert_eq!(i_block(One, &[]), [0x03]);
    assert_eq!(
        i_block_with_cid(Zero, 0, &[0xAA]),
        Ok(vec![0x0A, 0x00, 0xAA])
    );
    assert_eq!(i_block_with_cid(One, 14, &[]), Ok(vec![0x0B, 0x0E]));
    assert_eq!(i_block_with_cid(One, 15, &[]), Err(Error::InvalidCid(15)));
    assert_eq!(i_block_chaining(Zero, &[0x01]), [0x12, 0x01]);
    assert_eq!(i_block_chaining(One, &[0x01]), [0x13, 0x01]);
    let encode = |block: Block| block.encode();
    let r = |kind, number| Block::R {
        kind,
        number,
        cid: None,
    };
    assert_eq!(encode(r(RKind::Ack, One)), Ok(vec![0xA3]));
    assert_eq!(encode(r(RKind::Nak, Zero)), Ok(vec![0xB2]));
    let s = |kind| Block::S { kind, cid: None };
    assert_eq!(encode(s(SKind::Deselect)), Ok(vec![0xC2]));
    assert_eq!(encode(s(SKind::Wtx { wtxm: 10 })), Ok(vec![0xF2, 0x0A]));
    assert_eq!(
        encode(s(SKind::Wtx { wtxm: 0 })),
        Err(Error::InvalidWtxm(0))
    );
    assert_eq!(
        encode(i(One, true, Some(20), &[])),
        Err(Error::InvalidCid(20))
    );
}

#[test]
fn section_3_5_air_frames() {
    let with_crc = |mut frame: Vec<u8>| {
        append_crc_a(&mut frame);
        frame
    };
    assert_eq!(
        rats(8, 0).map(|r| with_crc(r.to_vec())),
        Ok(vec![0xE0, 0x80, 0x31, 0x73])
    );
    assert_eq!(with_crc(i_block(One, &[0xAA])), [0x03, 0xAA, 0x98, 0x3E]);
    assert_eq!(with_crc(i_block(Zero, &[0xAA])), [0x02, 0xAA, 0x40, 0x27]);
    assert_eq!(
        i_block_with_cid(Zero, 0, &[0xAA]).map(with_crc),
        Ok(vec![0x0A, 0x00, 0xAA, 0x3E, 0xDC])
    );
}

#[test]
fn rats_checks_its_arguments() {
    assert_eq!(rats(5, 3), Ok([0xE0, 0x53]));
    assert_eq!(rats(9, 0), Err(Error::InvalidFsdi(9)));
    assert_eq!(rats(8, 15), Err(Error::InvalidCid(15)));
}

#[test]
fn block_number_toggles() {
    let mut number = BlockNumber::default();
    assert_eq!(number, Zero);
    number.toggle();
    assert_eq!((number, number.bit()), (One, 1));
    assert_eq!(number.toggled(), Zero);
    assert_eq!(BlockNumber::try_from(1), Ok(One));
    assert_eq!(BlockNumber::try_from(2), Err(Error::InvalidBlockNumber(2)));
}

#[test]
fn error_messages_name_the_problem() {
    assert_eq!(
        Error::InvalidPcb(0xA8).to_string(),
        "PCB `A8` is not an I-, R- or S-block"
    );
    assert_eq!(
        Error::InvalidCid(15).to_string(),
        "CID must be 0 to 14, got 15"
    );
}

#[test]
fn every_other_error_message() {
    let table = [
        (Error::Empty, "empty block, expected at least a PCB"),
        (
            Error::NadNotSupported(0x06),
            "PCB `06` announces a NAD, which is not supported",
        ),
        (
            Error::MissingCid(0x0A),
            "block with PCB `0A` ends before its CID byte",
        ),
        (
            Error::InvalidCidByte(0x1F),
            "CID byte `1F` does not hold a CID from 0 to 14",
        ),
        (Error::MissingWtxm, "S(WTX) ends before its WTXM byte"),
        (Error::InvalidWtxm(60), "WTXM must be 1 to 59, got 60"),
        (
            Error::TrailingBytes {
                pcb: 0xA2,
                extra: 2,
            },
            "block with PCB `A2` has 2 unexpected trailing bytes",
        ),
        (Error::InvalidFsdi(9), "FSDI must be 0 to 8, got 9"),
        (
            Error::InvalidBlockNumber(2),
            "block number must be 0 or 1, got 2",
        ),
    ];
    for (error, message) in table {
        assert_eq!(error.to_string(), message, "{error:?}");
    }
}

fn block_number() -> impl Strategy<Value = BlockNumber> {
    prop_oneof![Just(Zero), Just(One)]
}

fn valid_block() -> impl Strategy<Value = Block> {
    let cid = proptest::option::of(0..=super::MAX_CID);
    prop_oneof![
        (
            block_number(),
            any::<bool>(),
            cid.clone(),
            proptest::collection::vec(any::<u8>(), 0..32),
        )
            .prop_map(|(number, chaining, cid, payload)| Block::I {
                number,
                chaining,
                cid,
                payload,
            }),
        (block_number(), any::<bool>(), cid.clone()).prop_map(|(number, nak, cid)| Block::R {
            kind: if nak { RKind::Nak } else { RKind::Ack },
            number,
            cid,
        }),
        (proptest::option::of(1..=super::MAX_WTXM), cid).prop_map(|(wtxm, cid)| Block::S {
            kind: wtxm.map_or(SKind::Deselect, |wtxm| SKind::Wtx { wtxm }),
            cid,
        }),
    ]
}

proptest! {
    #[test]
    fn parse_block_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
        let _ = parse_block(&bytes);
    }

    #[test]
    fn parsed_blocks_encode_to_what_parses_the_same(
        bytes in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        if let Ok(block) = parse_block(&bytes) {
            let encoded = block.encode();
            prop_assert_eq!(encoded.as_deref().map(parse_block), Ok(Ok(block)));
        }
    }

    #[test]
    fn i_block_round_trips(
        number in block_number(),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        prop_assert_eq!(parse_block(&i_block(number, &payload)), Ok(i(number, false, None, &payload)));
        prop_assert_eq!(
            parse_block(&i_block_chaining(number, &payload)),
            Ok(i(number, true, None, &payload))
        );
        for cid in 0..=super::MAX_CID {
            let bytes = i_block_with_cid(number, cid, &payload);
            prop_assert_eq!(
                bytes.as_deref().map(parse_block),
                Ok(Ok(i(number, false, Some(cid), &payload)))
            );
        }
    }

    #[test]
    fn valid_blocks_round_trip(block in valid_block()) {
        let encoded = block.encode();
        prop_assert_eq!(encoded.as_deref().map(parse_block), Ok(Ok(block)));
    }
}
