//! The decoder: each wrapping gives the native command, state carries between commands, and
//! no bytes make it panic.

use proptest::prelude::*;

use super::*;
use crate::apdu::hex;

fn feed(decoder: &mut Decoder, apdu: &str) -> Decoded {
    decoder.feed(&hex::parse(apdu).unwrap())
}

fn open(protocol: Protocol) -> Decoder {
    let mut decoder = Decoder::new(protocol);
    feed(&mut decoder, "FF A0 00 07 03 01 00 01");
    assert!(decoder.session_open());
    decoder
}

fn frame_of(decoded: Decoded) -> Frame {
    match decoded.outcome {
        Ok(Native::Frame(frame)) => frame,
        other => panic!("not a frame: {other:?}"),
    }
}

#[test]
fn any_timeout_bytes_reach_the_same_frame() {
    for timeout in ["00 64", "00 00", "FF FF", "12 34"] {
        let mut d = open(Protocol::Layer3);
        let frame = frame_of(feed(
            &mut d,
            &format!("FF A0 00 05 0C 01 00 F3 00 {timeout} A2 03 00 00 00 01 00"),
        ));
        assert_eq!(
            frame,
            Frame::Layer3(Layer3::Write {
                page: 3,
                data: [0, 0, 0, 1]
            })
        );
    }
}

#[test]
fn without_le_or_session_the_frame_is_held_back_but_reported() {
    let mut closed = Decoder::new(Protocol::Layer3);
    let d = feed(&mut closed, "FF A0 00 05 08 01 00 F3 00 00 64 A0 02 00");
    assert_eq!(d.outcome, Err(Reject::NoSession));
    assert!(matches!(
        d.doubt,
        Some(Doubt::Lenient {
            changes_state: true,
            ..
        })
    ));
    let mut d = open(Protocol::Layer3);
    let held = feed(&mut d, "FF A0 00 05 08 01 00 F3 00 00 64 A0 02");
    assert_eq!(held.outcome, Ok(Native::Reader(ReaderCommand::BareAnswer)));
    // Held back: the next frame is read as itself, not as the data of a write.
    let next = frame_of(feed(&mut d, "FF A0 00 05 08 01 00 F3 00 00 64 30 04 00"));
    assert_eq!(next, Frame::Layer3(Layer3::Read { page: 4 }));
}

#[test]
fn the_two_frame_compatibility_write_keeps_its_page() {
    let mut d = open(Protocol::Layer3);
    let first = frame_of(feed(&mut d, "FF A0 00 05 08 01 00 F3 00 00 64 A0 02 00"));
    assert_eq!(first, Frame::Layer3(Layer3::CompatStart { page: 2 }));
    // Anything in between that is not sent to the chip keeps the page.
    feed(&mut d, "FF CA 00 00 00");
    let data = "A2 02 00 00 FF FF 00 00 00 00 00 00 00 00 00 00";
    let second = frame_of(feed(
        &mut d,
        &format!("FF A0 00 05 16 01 00 F3 00 00 64 {data} 00"),
    ));
    assert_eq!(
        second,
        Frame::Layer3(Layer3::CompatWrite {
            page: 2,
            data: hex::parse(data).unwrap()
        })
    );
    // A storage command reaches the chip and ends it.
    feed(&mut d, "FF A0 00 05 08 01 00 F3 00 00 64 A0 02 00");
    feed(&mut d, "FF B0 00 04 04");
    let after = frame_of(feed(&mut d, "FF A0 00 05 08 01 00 F3 00 00 64 30 04 00"));
    assert_eq!(after, Frame::Layer3(Layer3::Read { page: 4 }));
}

#[test]
fn i_blocks_with_cid_nad_and_chaining_give_the_whole_command() {
    let mut d = open(Protocol::IsoDep);
    let header = |number, cid, nad| Header { number, cid, nad };
    for (frame, h) in [
        ("02 AA", header(0, None, None)),
        ("0B 05 AA", header(1, Some(5), None)),
        ("06 12 AA", header(0, None, Some(0x12))),
        ("0F 01 12 AA", header(1, Some(1), Some(0x12))),
    ] {
        let bytes = hex::parse(frame).unwrap();
        let apdu = [
            vec![0xFF, 0xA0, 0x00, 0x05, 6 + bytes.len() as u8],
            vec![0x01, 0x00, 0xF3, 0x00, 0x00, 0x64],
            bytes,
            vec![0x00],
        ]
        .concat();
        assert_eq!(
            frame_of(d.feed(&apdu)),
            Frame::Command {
                header: h,
                command: vec![0xAA]
            },
            "{frame}"
        );
    }
    // Chained, the middle part with a CID: A8 07 00 + 15 bytes in three parts.
    let part1 = frame_of(feed(
        &mut d,
        "FF A0 00 05 0B 01 00 F3 00 00 64 12 A8 07 00 00 00",
    ));
    assert!(matches!(part1, Frame::Part { .. }));
    let part2 = frame_of(feed(
        &mut d,
        "FF A0 00 05 10 01 00 F3 00 00 64 1B 00 11 22 33 44 55 66 77 88 00",
    ));
    assert!(matches!(part2, Frame::Part { .. }));
    let last = frame_of(feed(
        &mut d,
        "FF A0 00 05 0D 01 00 F3 00 00 64 02 99 AA BB CC DD EE 00",
    ));
    let Frame::Command { command, .. } = last else {
        panic!("{last:?}")
    };
    assert_eq!(
        command,
        hex::parse("A8 07 00 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE").unwrap()
    );
    // Not a block: reported as it is; S(DESELECT) drops a chain.
    assert_eq!(
        frame_of(feed(&mut d, "FF A0 00 05 07 01 00 F3 00 00 64 AA 00")),
        Frame::Control {
            deselect: false,
            bytes: vec![0xAA]
        }
    );
    assert_eq!(
        frame_of(feed(&mut d, "FF A0 00 05 08 01 00 F3 00 00 64 A8 00 00")),
        Frame::Unframed(vec![0xA8, 0x00])
    );
    feed(&mut d, "FF A0 00 05 08 01 00 F3 00 00 64 12 A8 00");
    assert_eq!(
        frame_of(feed(&mut d, "FF A0 00 05 07 01 00 F3 00 00 64 C2 00")),
        Frame::Control {
            deselect: true,
            bytes: vec![0xC2]
        }
    );
    let fresh = frame_of(feed(&mut d, "FF A0 00 05 08 01 00 F3 00 00 64 02 AA 00"));
    assert!(matches!(fresh, Frame::Command { command, .. } if command == [0xAA]));
}

#[test]
fn storage_commands_and_pass_through() {
    let mut d = Decoder::new(Protocol::Layer3);
    assert_eq!(
        feed(&mut d, "FF D6 00 07 04 01 02 03 04").outcome,
        Ok(Native::Update {
            address: 7,
            data: vec![1, 2, 3, 4]
        })
    );
    // Extended: refused here, reported as what a lenient reader would write.
    let extended = feed(&mut d, "FF D6 00 07 00 00 04 01 02 03 04");
    assert_eq!(extended.outcome, Err(Reject::WrongLength));
    assert!(matches!(extended.doubt, Some(Doubt::Lenient { .. })));
    assert_eq!(
        feed(&mut d, "00 A4 04 00").outcome,
        Err(Reject::ClaNotSupported)
    );
    let mut iso = Decoder::new(Protocol::IsoDep);
    assert_eq!(feed(&mut iso, "AA").outcome, Ok(Native::Apdu(vec![0xAA])));
    // Raw channels the decoder does not decode.
    for apdu in [
        "FF A0 00 05 08 02 00 F3 00 00 64 AA 00",
        "FF C2 00 01 04 5F 46 04 00",
        "FF 00 00 00 04 D4 08 00 00",
    ] {
        assert_eq!(feed(&mut d, apdu).doubt, Some(Doubt::RawChannel), "{apdu}");
    }
}

#[test]
fn native_span_finds_the_command_in_every_wrapping() {
    let span = |apdu: &str| native_span(&hex::parse(apdu).unwrap());
    assert_eq!(span("A8 00 90 01 02"), Some(0..5));
    assert_eq!(
        span("FF A0 00 05 09 01 00 F3 00 12 34 A8 00 90 00"),
        Some(11..14)
    );
    assert_eq!(
        span("FF A0 00 05 0B 01 00 F3 00 00 64 0E 01 02 A8 00"),
        Some(14..16)
    );
    assert_eq!(span("FF D6 00 04 04 00 00 00 00"), None);
}

proptest! {
    #[test]
    fn any_bytes_decode_without_panic(
        commands in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..12),
        iso in any::<bool>(),
    ) {
        let mut d = Decoder::new(if iso { Protocol::IsoDep } else { Protocol::Layer3 });
        for command in &commands {
            let _ = d.feed(command);
            let _ = native_span(command);
        }
    }

    #[test]
    fn frames_in_a_session_reach_the_chip_whatever_the_timeout(
        frame in proptest::collection::vec(any::<u8>(), 1..40),
        timeout in any::<[u8; 2]>(),
    ) {
        let apdu = [
            vec![0xFF, 0xA0, 0x00, 0x05, 6 + frame.len() as u8, 0x01, 0x00, 0xF3, 0x00],
            timeout.to_vec(),
            frame.clone(),
            vec![0x00],
        ]
        .concat();
        let mut with_timeout = open(Protocol::Layer3);
        let mut direct = Decoder::new(Protocol::Layer3);
        prop_assert_eq!(
            with_timeout.feed(&apdu).outcome,
            Ok(Native::Frame(direct.deliver(&frame)))
        );
    }
}

#[test]
fn part3_sessions_deliver_frames_and_fail_closed_elsewhere() {
    let mut d = Decoder::new(Protocol::Layer3);
    let held = feed(&mut d, "FF C2 00 01 04 95 02 A2 03");
    assert_eq!(held.outcome, Err(Reject::NoSession));
    assert!(matches!(held.doubt, Some(Doubt::Lenient { .. })));
    let start = feed(&mut d, "FF C2 00 00 02 81 00");
    assert_eq!(
        start.outcome,
        Ok(Native::Reader(ReaderCommand::Manage(vec![ManageOp::Start])))
    );
    assert!(d.session_open());
    let frame = frame_of(feed(
        &mut d,
        "FF C2 00 01 0F 90 02 00 00 5F 46 04 50 C3 00 00 95 02 30 04 00",
    ));
    assert_eq!(frame, Frame::Layer3(Layer3::Read { page: 4 }));
    // Non-default flags, two frames, unknown DOs, IFD parameters set: a raw channel.
    for apdu in [
        "FF C2 00 01 06 90 02 00 01 95 00",
        "FF C2 00 01 08 95 02 30 04 95 02 30 05",
        "FF C2 00 01 02 94 00",
        "FF C2 00 00 05 FF 6E 02 08 01",
        "FF C2 00 02 04 8F 02 00 04",
        "FF C2 00 07 00",
    ] {
        let decoded = feed(&mut d, apdu);
        assert!(decoded.outcome.is_err(), "{apdu}");
        assert_eq!(decoded.doubt, Some(Doubt::RawChannel), "{apdu}");
    }
    // The layer frames are read in already: certain.
    assert!(feed(&mut d, "FF C2 00 02 04 8F 02 00 03").outcome.is_ok());
    let cycle = feed(&mut d, "FF C2 00 00 04 83 00 84 00");
    assert!(matches!(cycle.outcome, Ok(Native::Reader(ref c)) if c.cycles_field()));
}

#[test]
fn acr122u_direct_transmit_reaches_the_chip_as_its_protocol_takes_it() {
    let mut iso = Decoder::new(Protocol::IsoDep);
    assert_eq!(
        feed(&mut iso, "FF 00 00 00 04 D4 40 01 AA").outcome,
        Ok(Native::Apdu(vec![0xAA]))
    );
    let mut l3 = Decoder::new(Protocol::Layer3);
    assert_eq!(
        frame_of(feed(&mut l3, "FF 00 00 00 08 D4 42 A2 02 00 00 FF FF")),
        Frame::Layer3(Layer3::Write {
            page: 2,
            data: [0, 0, 0xFF, 0xFF]
        })
    );
    assert_eq!(
        frame_of(feed(&mut l3, "FF 00 00 00 05 D4 40 01 30 04")),
        Frame::Layer3(Layer3::Read { page: 4 })
    );
    assert!(matches!(
        feed(&mut l3, "FF 00 00 00 04 D4 4A 01 00").outcome,
        Ok(Native::Reader(ReaderCommand::Pn532 { field: true, .. }))
    ));
    assert_eq!(
        feed(&mut l3, "FF 00 48 00 00").outcome,
        Ok(Native::Reader(ReaderCommand::Firmware))
    );
    // Wrong Lc (the nfc-pcsc pitfall), another target: refused, raw channel.
    for apdu in [
        "FF 00 00 00 16 D4 42 1A 00",
        "FF 00 00 00 05 D4 40 02 30 04",
    ] {
        let decoded = feed(&mut l3, apdu);
        assert!(decoded.outcome.is_err(), "{apdu}");
        assert_eq!(decoded.doubt, Some(Doubt::RawChannel), "{apdu}");
    }
}

#[test]
fn acs_value_commands_read_their_operand_msb_first() {
    let mut d = Decoder::new(Protocol::Layer3);
    assert_eq!(
        feed(&mut d, "FF D7 00 05 05 02 00 00 00 1E").outcome,
        Ok(Native::Value {
            address: 5,
            op: ValueOp::Decrement,
            operand: 30
        })
    );
    assert_eq!(
        feed(&mut d, "FF D7 00 05 05 00 00 00 00 64").outcome,
        Ok(Native::Update {
            address: 5,
            data: crate::mifare::classic::value_block(100, 5).to_vec()
        })
    );
    assert_eq!(
        feed(&mut d, "FF D7 00 05 02 03 06").doubt,
        Some(Doubt::RawChannel)
    );
}

#[test]
fn native_span_finds_the_command_in_the_acs_and_part3_wrappings() {
    let span = |apdu: &str| native_span(&hex::parse(apdu).unwrap());
    assert_eq!(span("FF 00 00 00 05 D4 40 01 A8 00"), Some(8..10));
    assert_eq!(span("FF 00 00 00 05 D4 42 02 A8 00"), Some(8..10));
    assert_eq!(span("FF C2 00 01 05 95 03 02 A8 00 00"), Some(8..10));
}

proptest! {
    #[test]
    fn the_new_wrappings_never_panic(
        prefix in prop_oneof![
            Just(vec![0xFF, 0xC2, 0x00, 0x00]),
            Just(vec![0xFF, 0xC2, 0x00, 0x01]),
            Just(vec![0xFF, 0xC2, 0x00, 0x02]),
            Just(vec![0xFF, 0x00, 0x00, 0x00]),
            Just(vec![0xFF, 0xD7, 0x00, 0x04]),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..40),
        iso in any::<bool>(),
    ) {
        let mut apdu = prefix;
        apdu.extend(tail);
        let mut d = Decoder::new(if iso { Protocol::IsoDep } else { Protocol::Layer3 });
        let _ = d.feed(&apdu);
        let _ = native_span(&apdu);
        let _ = channel(&apdu);
    }
}
