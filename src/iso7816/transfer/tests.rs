//! The transfer rules against the simulated T=0 and T=1 file cards, and against fakes for
//! what the simulator never answers.

use super::*;
use crate::apdu::hex;
use crate::reader::Card;
use crate::sim::{Kind, Options, Simulator};

/// A fresh demo card of `kind` with EF `path` selected, and a log of what was sent.
struct Rig {
    card: Box<dyn Card + std::marker::Send>,
    sent: Vec<String>,
}

impl Rig {
    fn new(kind: Kind, path: &str) -> Rig {
        let simulator = Simulator::new(kind, &Options::default());
        let mut rig = Rig {
            card: simulator.card(),
            sent: Vec::new(),
        };
        let select = Command::parse(&hex::parse(path).unwrap()).unwrap();
        assert!(rig.card.exchange(&select).unwrap().is_ok());
        rig
    }

    fn send(&mut self) -> impl FnMut(&Command) -> Result<Response, crate::reader::Error> + '_ {
        |command| {
            self.sent.push(hex::format_compact(&command.to_bytes()));
            self.card.exchange(command)
        }
    }
}

const EF_0101: &str = "00 A4 08 0C 04 50 00 01 01";
const EF_0102: &str = "00 A4 08 0C 04 50 00 01 02";
const SHORT: Transfer = Transfer {
    cla: 0x00,
    extended: false,
};

fn both() -> [Kind; 2] {
    [Kind::Iso7816, Kind::Iso7816T0]
}

#[test]
fn a_long_read_is_split_into_short_commands_on_both_protocols() {
    for kind in both() {
        let mut rig = Rig::new(kind, EF_0101);
        let outcome = SHORT.read_binary(&mut rig.send(), None, 0, 300).unwrap();
        let expected: Vec<u8> = (0..300).map(|i| (i % 256) as u8).collect();
        assert_eq!(
            outcome,
            Outcome {
                data: expected,
                sw: StatusWord::OK
            },
            "{kind}"
        );
        assert_eq!(rig.sent, ["00B0000000", "00B001002C"], "{kind}");
    }
}

#[test]
fn reading_past_the_end_gives_the_bytes_that_exist_and_6282_on_both_protocols() {
    for kind in both() {
        // Past the end inside one chunk: T=1 says 6282, T=0 6C2C and then 9000.
        let mut rig = Rig::new(kind, EF_0101);
        let outcome = SHORT
            .read_binary(&mut rig.send(), None, 0x100, 100)
            .unwrap();
        assert_eq!(outcome.data.len(), 44, "{kind}");
        assert_eq!(outcome.sw, END_OF_FILE, "{kind}");
        // Past the end over several chunks.
        let mut rig = Rig::new(kind, EF_0101);
        let outcome = SHORT.read_binary(&mut rig.send(), None, 0, 1000).unwrap();
        assert_eq!(
            (outcome.data.len(), outcome.sw),
            (300, END_OF_FILE),
            "{kind}"
        );
        // Starting beyond the end is an error on both.
        let mut rig = Rig::new(kind, EF_0101);
        let e = SHORT
            .read_binary(&mut rig.send(), None, 300, 1)
            .unwrap_err();
        assert!(
            matches!(
                e,
                Failure::Card {
                    sw: StatusWord(0x6B00),
                    ..
                }
            ),
            "{kind}: {e}"
        );
    }
}

#[test]
fn a_read_by_sfi_continues_by_offset() {
    for kind in both() {
        let mut rig = Rig::new(kind, "00 A4 08 0C 02 50 00");
        let outcome = SHORT.read_binary(&mut rig.send(), Some(1), 4, 260).unwrap();
        assert_eq!(outcome.data.len(), 260, "{kind}");
        assert_eq!(outcome.data[0], 4);
        assert_eq!(rig.sent, ["00B0810400", "00B0010404"], "{kind}");
    }
}

#[test]
fn a_long_write_is_split_into_short_commands() {
    for kind in both() {
        let mut rig = Rig::new(kind, EF_0101);
        let data: Vec<u8> = (0..300).map(|i| (i as u8) ^ 0x5A).collect();
        let outcome = SHORT.update_binary(&mut rig.send(), 0, &data).unwrap();
        assert_eq!(outcome.sw, StatusWord::OK);
        assert_eq!(rig.sent.len(), 2, "{kind}");
        assert!(rig.sent[0].starts_with("00D60000FF"), "{:?}", rig.sent);
        assert!(rig.sent[1].starts_with("00D600FF2D"), "{:?}", rig.sent);
        let back = SHORT.read_binary(&mut rig.send(), None, 0, 300).unwrap();
        assert_eq!(back.data, data, "{kind}");
    }
}

#[test]
fn extended_lengths_go_in_one_command_when_allowed() {
    let extended = Transfer {
        cla: 0x00,
        extended: true,
    };
    let mut rig = Rig::new(Kind::Iso7816, EF_0101);
    let outcome = extended.read_binary(&mut rig.send(), None, 0, 300).unwrap();
    assert_eq!(outcome.data.len(), 300);
    assert_eq!(rig.sent, ["00B0000000012C"]);
}

#[test]
fn a_record_shorter_than_asked_comes_back_with_6282_on_both_protocols() {
    for kind in both() {
        let mut rig = Rig::new(kind, EF_0102);
        let outcome = SHORT
            .read_record(&mut rig.send(), None, RecordMode::Number(2), Some(20))
            .unwrap();
        assert_eq!(
            outcome,
            Outcome {
                data: vec![2; 16],
                sw: END_OF_FILE
            },
            "{kind}"
        );
        let whole = SHORT
            .read_record(&mut rig.send(), None, RecordMode::Number(3), None)
            .unwrap();
        assert_eq!(
            whole,
            Outcome {
                data: vec![3; 16],
                sw: StatusWord::OK
            },
            "{kind}"
        );
    }
}

#[test]
fn record_modes_encode_p1_and_p2() {
    let mut sent = Vec::new();
    let mut send = |c: &Command| -> Result<Response, String> {
        sent.push(hex::format_compact(&c.to_bytes()));
        Ok(Response::new(vec![1], StatusWord::OK))
    };
    for mode in [
        RecordMode::First,
        RecordMode::Last,
        RecordMode::Next,
        RecordMode::Previous,
    ] {
        SHORT.read_record(&mut send, Some(2), mode, None).unwrap();
    }
    assert_eq!(
        sent,
        ["00B2001000", "00B2001100", "00B2001200", "00B2001300"]
    );
    assert_eq!(RecordMode::parse("NEXT"), Some(RecordMode::Next));
    assert_eq!(RecordMode::parse("second"), None);
}

#[test]
fn a_challenge_is_exactly_as_long_as_asked_or_fails() {
    for kind in both() {
        let mut rig = Rig::new(kind, "00 A4 00 0C 02 3F 00");
        let outcome = SHORT.get_challenge(&mut rig.send(), 4).unwrap();
        assert_eq!(outcome.data.len(), 4, "{kind}");
    }
    // A card that only gives 8-byte challenges (6C08, then 8 bytes).
    let mut eight =
        |_: &Command| -> Result<Response, String> { Ok(Response::new(vec![7; 8], StatusWord::OK)) };
    let e = SHORT.get_challenge(&mut eight, 4).unwrap_err();
    assert_eq!(
        e.to_string(),
        "card returned 8 byte(s) to `00 84 00 00 04`, which asks for 4"
    );
}

#[test]
fn warnings_keep_their_data_and_errors_fail() {
    let mut warn = |_: &Command| -> Result<Response, String> {
        Ok(Response::new(vec![1, 2], StatusWord(0x6281)))
    };
    let outcome = SHORT.read_binary(&mut warn, None, 0, 2).unwrap();
    assert_eq!(
        outcome,
        Outcome {
            data: vec![1, 2],
            sw: StatusWord(0x6281)
        }
    );
    let mut refuse =
        |_: &Command| -> Result<Response, String> { Ok(Response::new(vec![], StatusWord(0x6982))) };
    let e = SHORT.read_binary(&mut refuse, None, 0, 2).unwrap_err();
    assert!(matches!(
        e,
        Failure::Card {
            sw: StatusWord(0x6982),
            ..
        }
    ));
}

#[test]
fn the_class_byte_is_used_by_every_command() {
    let gsm = Transfer {
        cla: 0xA0,
        extended: false,
    };
    let mut sent = Vec::new();
    let mut send = |c: &Command| -> Result<Response, String> {
        sent.push(c.cla);
        Ok(Response::new(vec![0; c.le.unwrap_or(0)], StatusWord::OK))
    };
    gsm.read_binary(&mut send, None, 0, 2).unwrap();
    gsm.update_binary(&mut send, 0, &[1]).unwrap();
    gsm.read_record(&mut send, None, RecordMode::Number(1), Some(3))
        .unwrap();
    gsm.get_challenge(&mut send, 8).unwrap();
    assert_eq!(sent, [0xA0; 4]);
}

#[test]
fn arguments_are_checked_before_anything_is_sent() {
    let mut send = |_: &Command| -> Result<Response, String> { panic!("nothing may be sent") };
    assert!(SHORT.read_binary(&mut send, None, 0x8000, 1).is_err());
    assert!(SHORT.read_binary(&mut send, Some(1), 256, 1).is_err());
    assert!(SHORT.read_binary(&mut send, None, 0, 0).is_err());
    assert!(SHORT.update_binary(&mut send, 0x7F00, &[0; 600]).is_err());
    assert!(SHORT.update_binary(&mut send, 0, &[]).is_err());
    assert!(
        SHORT
            .read_record(&mut send, None, RecordMode::Number(0), None)
            .is_err()
    );
    assert!(
        SHORT
            .read_record(&mut send, None, RecordMode::Number(1), Some(257))
            .is_err()
    );
    assert!(SHORT.get_challenge(&mut send, 257).is_err());
    assert!(SHORT.get_challenge(&mut send, 0).is_err());
}

proptest::proptest! {
    /// Whatever the card answers, a read never panics and never returns more than asked.
    #[test]
    fn reads_never_return_more_than_asked(
        offset in 0usize..0x9000,
        len in 0usize..2000,
        answer in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        sw in proptest::num::u16::ANY,
    ) {
        let mut send = |_: &Command| -> Result<Response, String> {
            Ok(Response::new(answer.clone(), StatusWord(sw)))
        };
        if let Ok(outcome) = SHORT.read_binary(&mut send, None, offset, len) {
            proptest::prop_assert!(outcome.data.len() <= len);
        }
    }
}
