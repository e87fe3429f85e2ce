//! `omnikey::` and `iso14443::` against the simulated reader: the forum sequence and its
//! diagnoses (protocols.md §3.6), framed I-blocks (§3.6 B), sessions that close on error,
//! and errors that scripts catch and print.

use crate::script::ErrorKind;
use crate::script::mfp_api::tests::run_on;
use crate::sim::Kind;
use crate::test_support::Run;

fn ok(kind: Kind, source: &str) -> Run {
    let run = run_on(kind, source, false, false);
    assert!(run.result.is_ok(), "{:?}", run.result);
    run
}

#[test]
fn the_forum_sequence_is_diagnosed() {
    let source = r#"
        omnikey::open();
        let key = "00112233445566778899AABBCCDDEEFF";
        for apdu in [
            "FF A0 00 05 19 01 00 F3 00 00 64 A8 00 90 " + key + " 00",
            "FF A0 00 05 19 01 00 F3 00 00 64 A8 00 90 " + key,
            "FF A0 00 05 08 01 00 F3 00 00 64 E0 81 00",
        ] {
            let r = send(apdu);
            try { omnikey::answer(r); } catch (e) { print(`${r.sw.to_hex()} ${e.kind}: ${e}`); }
        }
        omnikey::close();
    "#;
    let run = ok(Kind::Plus2K, source);
    assert_eq!(run.printed.len(), 3);
    assert!(
        run.printed[0].starts_with(
            "6400 failed: omnikey::answer to `A8 00 90 (secret)`: the card did not answer \
             (reader status 64 00); the ATR shows an ISO 14443-4 card"
        ),
        "{}",
        run.printed[0]
    );
    assert!(run.printed[0].contains("ignores unframed layer-3 frames"));
    assert!(
        run.printed[1].starts_with("9000 failed: omnikey::answer to `A8 00 90 (secret)`: the reader answered a bare 90 00 with no card bytes: nothing was exchanged"),
        "{}",
        run.printed[1]
    );
    assert!(
        run.printed[2].contains("does not answer RATS again"),
        "{}",
        run.printed[2]
    );
}

#[test]
fn framed_i_blocks_reach_the_sl0_card() {
    let source = r#"
        let answer = omnikey::session(|| {
            omnikey::transceive(iso14443::i_block(0, "A8 00 90 000102030405060708090A0B0C0D0E0F"))
        });
        print(hex(answer));
    "#;
    let run = ok(Kind::Plus2K, source);
    assert_eq!(run.printed, ["0290"]);
    assert_eq!(
        run.sent,
        [
            "FF A0 00 07 03 01 00 01",
            "FF A0 00 05 1A 01 00 F3 00 00 64 02 A8 00 90 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 00",
            "FF A0 00 07 03 01 00 02",
        ]
    );
}

#[test]
fn sessions_close_when_the_closure_throws() {
    let source = r#"
        omnikey::session(|| {
            omnikey::transceive("A8 00 90 " + secret("env:APDU_RUN_NO_SUCH_VARIABLE"));
        });
    "#;
    let run = run_on(Kind::Plus2K, source, false, false);
    let err = run.result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Failed);
    assert!(
        err.to_string().contains("APDU_RUN_NO_SUCH_VARIABLE"),
        "{err}"
    );
    assert_eq!(
        run.sent,
        ["FF A0 00 07 03 01 00 01", "FF A0 00 07 03 01 00 02"]
    );
}

#[test]
fn bad_input_is_an_error_and_nothing_is_sent() {
    let run = run_on(Kind::Plus2K, "omnikey::transceive(\"\");", false, false);
    let err = run.result.unwrap_err().to_string();
    assert_eq!(
        err,
        "t.rhai:1:10: omnikey::transceive: the frame is empty: nothing to send"
    );
    assert!(run.sent.is_empty());
    let run = run_on(
        Kind::Plus2K,
        "omnikey::answer(send(\"FF CA 00 00 00\"));",
        false,
        false,
    );
    let err = run.result.unwrap_err().to_string();
    assert!(
        err.ends_with("omnikey::answer: `FF CA 00 00 00` is not a generic-session transceive"),
        "{err}"
    );
}

#[test]
fn reader_refusals_and_storage_cards_get_their_own_messages() {
    let run = run_on(
        Kind::Plus2K,
        "omnikey::transceive(\"30 04\");",
        false,
        false,
    );
    let err = run.result.unwrap_err().to_string();
    assert!(err.ends_with("omnikey::transceive `30 04`: the reader answered 6985 (conditions of use not satisfied: no generic session open) to the transceive: is a generic session open? (`omnikey::open`, `omnikey::session`)"), "{err}");
    // A MIFARE Classic never answers frames (the reader runs Crypto1): no ISO 14443-4 hint.
    let source = "omnikey::session(|| omnikey::transceive(\"30 04\"));";
    let err = run_on(Kind::Classic1K, source, false, false)
        .result
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("omnikey::transceive `30 04`: the card did not answer (reader status 64 00)"),
        "{err}"
    );
    // An Ultralight does: READ of page 4 returns 16 bytes.
    let run = ok(
        Kind::Ultralight,
        "print(omnikey::session(|| omnikey::transceive(\"30 04\")).len());",
    );
    assert_eq!(run.printed, ["16"]);
}

#[test]
fn iso14443_helpers_frame_and_checksum() {
    // Appendix A vectors; the full table is tested in `iso14443::crc`.
    let source = r#"
        print(iso14443::crc_a("E0 80").to_hex());
        print(hex(iso14443::append_crc_a("03 AA")));
        print(hex(iso14443::append_crc_a(iso14443::i_block(0, "AA"))));
        print(hex(iso14443::i_block(1, unhex("A80190"))));
        let framed = iso14443::i_block(0, "A8 00 90" + secret("file:scripts/keys/demo_plus_card_master_key.hex"));
        print(framed);
        print(iso14443::append_crc_a(framed));
    "#;
    let run = ok(Kind::Plus2K, source);
    assert_eq!(
        run.printed,
        [
            "7331", "03AA983E", "02AA4027", "03A80190", "(secret)", "(secret)"
        ]
    );
    for (call, message) in [
        (
            "iso14443::i_block(2, \"AA\")",
            "iso14443::i_block: block number must be 0 or 1, got 2",
        ),
        (
            "iso14443::i_block(0, \"A\")",
            "iso14443::i_block: payload: bad hex",
        ),
        (
            "iso14443::crc_a(secret(\"file:scripts/keys/demo_plus_card_master_key.hex\"))",
            "the bytes are a secret",
        ),
    ] {
        let err = run_on(Kind::Plus2K, call, false, false)
            .result
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{call}: {err}");
    }
}
