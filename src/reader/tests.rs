//! Tests of the transport rules in [`Card::exchange`] with scripted fake cards.

use super::*;
use crate::apdu::StatusWord;
use crate::test_support::Scripted;

fn command(text: &str) -> Command {
    crate::apdu::parse_command(text).unwrap()
}

#[test]
fn follows_61xx_with_get_response_using_the_command_cla() {
    let mut card = Scripted::new(&["61 04", "01 02 03 04 61 02", "05 06 90 00"]);
    let r = card.exchange(&command("80 CA 00 6E 00")).unwrap();
    assert_eq!(r.data, [1, 2, 3, 4, 5, 6]);
    assert!(r.is_ok());
    assert_eq!(
        card.sent,
        ["80 CA 00 6E 00", "80 C0 00 00 04", "80 C0 00 00 02"]
    );
}

#[test]
fn resends_with_exact_le_on_6cxx() {
    let mut card = Scripted::new(&[
        "6C 10",
        "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 90 00",
    ]);
    let r = card.exchange(&command("00 B0 00 00 20")).unwrap();
    assert_eq!(r.data.len(), 16);
    assert_eq!(card.sent, ["00 B0 00 00 20", "00 B0 00 00 10"]);
}

#[test]
fn resends_only_once() {
    let mut card = Scripted::new(&["6C 10", "6C 08"]);
    let r = card.exchange(&command("00 B0 00 00 20")).unwrap();
    assert_eq!(r.sw, StatusWord(0x6C08));
    assert_eq!(card.sent.len(), 2);
}

#[test]
fn raw_rules_return_the_first_answer() {
    let mut card = Scripted::new(&["61 04"]);
    let r = card
        .exchange_with(&command("00 A4 04 00 01 AA 00"), Exchange::RAW)
        .unwrap();
    assert_eq!(r.sw, StatusWord(0x6104));
    assert_eq!(card.sent.len(), 1);
}

#[test]
fn gives_up_on_a_card_that_loops() {
    let answers: Vec<&str> = std::iter::repeat_n("61 01", 300).collect();
    let mut card = Scripted::new(&answers);
    let err = card.exchange(&command("00 C0 00 00 01")).unwrap_err();
    assert!(
        matches!(err, Error::EndlessResponse { rounds: 257 }),
        "{err}"
    );
}

#[test]
fn short_answers_are_transport_errors() {
    let mut card = Scripted::new(&["90"]);
    assert!(matches!(
        card.exchange(&command("00 A4 00 00")),
        Err(Error::ShortResponse { len: 1 })
    ));
}

#[test]
fn a_failure_mid_get_response_is_reported() {
    let mut card = Scripted::new(&["61 04"]);
    assert!(matches!(
        card.exchange(&command("00 B0 00 00 04")),
        Err(Error::CardRemoved { .. })
    ));
}

#[test]
fn an_invalid_command_is_refused_before_anything_is_sent() {
    let mut card = Scripted::new(&["90 00"]);
    let err = card
        .exchange(&Command::new(0x00, 0xB0, 0x00, 0x00).with_le(0))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCommand(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid command: expected length 0 is out of range 1..=65536"
    );
    assert!(card.sent.is_empty());
}

#[test]
fn transport_rule_failures_say_what_the_card_did() {
    assert_eq!(
        Error::ShortResponse { len: 1 }.to_string(),
        "card answered 1 byte(s), fewer than the two status bytes"
    );
    assert_eq!(
        Error::EndlessResponse { rounds: 257 }.to_string(),
        "card kept answering 61xx: gave up after 257 GET RESPONSE commands"
    );
}
