//! The generic-session wrapping against a scripted reader: the APDUs sent, the answers read,
//! and the diagnoses of protocols.md §1.1 and §3.6.

use super::*;
use crate::test_support::Scripted;

/// The SL0 MIFARE Plus ATR of §2.4.
const ISO4_ATR: &str = "3B 87 80 01 C1 05 2F 2F 01 BC D6 A9";
/// A MIFARE Classic 1K storage-card ATR (§2.3).
const STORAGE_1K: &str = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A";

#[test]
fn transceive_always_appends_le_and_strips_the_wrapping() {
    assert_eq!(
        hex::format(&transceive_command(&[0x30, 0x04]).unwrap()),
        "FF A0 00 05 08 01 00 F3 00 00 64 30 04 00"
    );
    let mut card = Scripted::with_atr(STORAGE_1K, &["00 00 0A 90 00"]);
    assert_eq!(
        transceive(&mut card, &[0xA2, 0x04, 1, 2, 3, 4]).unwrap(),
        [0x0A]
    );
    assert_eq!(
        card.sent,
        ["FF A0 00 05 0C 01 00 F3 00 00 64 A2 04 01 02 03 04 00"]
    );
    // §3.6 B: a framed I-block and its answer.
    let mut card = Scripted::with_atr(ISO4_ATR, &["00 00 03 90 90 00"]);
    assert_eq!(transceive(&mut card, &[0x03, 0xAA]).unwrap(), [0x03, 0x90]);
    assert_eq!(card.sent, ["FF A0 00 05 08 01 00 F3 00 00 64 03 AA 00"]);
}

#[test]
fn bad_frames_send_nothing() {
    let mut card = Scripted::with_atr(ISO4_ATR, &[]);
    let err = transceive(&mut card, &[]).unwrap_err();
    assert_eq!(err.to_string(), "the frame is empty: nothing to send");
    let err = transceive(&mut card, &[0; MAX_FRAME + 1]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the frame has 250 bytes, more than the 249 a transceive carries"
    );
    assert!(card.sent.is_empty());
    assert!(transceive_command(&[0; MAX_FRAME]).is_ok());
}

#[test]
fn no_answer_from_an_iso4_card_explains_the_forum_case() {
    let mut card = Scripted::with_atr(ISO4_ATR, &["64 00", "64 00", "64 00"]);
    let err = transceive(&mut card, &hex::parse("A8 00 90 11").unwrap()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "the card did not answer (reader status 64 00); the ATR shows an ISO 14443-4 card"
        ),
        "{text}"
    );
    assert!(
        text.contains("ignores unframed layer-3 frames: send its commands directly"),
        "{text}"
    );
    let text = transceive(&mut card, &[0xE0, 0x81])
        .unwrap_err()
        .to_string();
    assert!(text.contains("does not answer RATS again"), "{text}");
    let text = transceive(&mut card, &[0x02, 0xAA])
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("the frame is an I-block: its block number"),
        "{text}"
    );
    // A storage card that stays silent gets no ISO 14443-4 hint.
    let mut card = Scripted::with_atr(STORAGE_1K, &["64 00"]);
    let text = transceive(&mut card, &[0x30, 0x04])
        .unwrap_err()
        .to_string();
    assert_eq!(text, "the card did not answer (reader status 64 00)");
}

#[test]
fn a_bare_9000_is_never_success() {
    let response = Response::new(Vec::new(), StatusWord::OK);
    let err = card_bytes(&response, &[0xAA], &hex::parse(ISO4_ATR).unwrap()).unwrap_err();
    assert!(err.to_string().contains("nothing was exchanged"), "{err}");
    let odd = Response::new(vec![0x01, 0x02], StatusWord::OK);
    assert_eq!(
        card_bytes(&odd, &[0xAA], &[]).unwrap_err().to_string(),
        "unexpected answer `01 02`: the reader's answer starts with `00 00`"
    );
    let refused = Response::new(Vec::new(), StatusWord(0x6985));
    assert_eq!(
        card_bytes(&refused, &[0xAA], &[]).unwrap_err().to_string(),
        "the reader answered 6985 (conditions of use not satisfied: no generic session open) to the transceive: is a \
         generic session open? (`omnikey::open`, `omnikey::session`)"
    );
}

#[test]
fn session_closes_even_when_the_closure_fails() {
    let mut card = Scripted::with_atr(ISO4_ATR, &["90 00", "64 00", "90 00"]);
    let result: Result<Vec<u8>, Error> = session(&mut card, |card| transceive(card, &[0xAA]));
    assert!(matches!(result, Err(Error::NoAnswer { .. })));
    assert_eq!(
        card.sent,
        [
            "FF A0 00 07 03 01 00 01",
            "FF A0 00 05 07 01 00 F3 00 00 64 AA 00",
            "FF A0 00 07 03 01 00 02"
        ]
    );
    // The closure's value comes back; a failed close is reported when the closure worked.
    let mut card = Scripted::with_atr(STORAGE_1K, &["90 00", "00 00 0A 90 00", "6A 81"]);
    let result: Result<Vec<u8>, Error> = session(&mut card, |card| transceive(card, &[0xA2]));
    assert_eq!(
        result.unwrap_err().to_string(),
        "the reader answered 6A81 (function not supported) to close"
    );
    let mut card = Scripted::with_atr(STORAGE_1K, &["6A 81"]);
    let result: Result<(), Error> = session(&mut card, |_| Ok(()));
    assert!(result.is_err());
    assert_eq!(
        card.sent.len(),
        1,
        "nothing runs when the session does not open"
    );
}
