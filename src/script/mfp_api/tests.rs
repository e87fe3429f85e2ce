//! `mfp::` against the simulated MIFARE Plus S: personalisation to SL1, bad arguments that
//! stop before anything is sent, the checks before CommitPerso, the level, and both answer
//! framings (Omnikey status byte, ACS status byte + `90 00`).

use crate::apdu::hex;
use crate::reader::guard::Guarded;
use crate::script::ErrorKind;
use crate::sim::{Kind, Options, Simulator};
use crate::test_support::{Recording, Run, run_script};

/// Runs `source` on a fresh simulated card of `kind`, behind the guard as the CLI runs it;
/// `acs` adds `90 00` to short answers as an ACS reader does (protocols.md §3.6 A).
pub(in crate::script) fn run_on(kind: Kind, source: &str, armed: bool, acs: bool) -> Run {
    run_script(source, armed, &[], |sent| {
        let card = Recording {
            inner: Simulator::new(kind, &Options::default()).card(),
            sent,
            acs,
        };
        Box::new(Guarded::new(Box::new(card), armed))
    })
}

#[track_caller]
fn fails(run: &Run, kind: ErrorKind, message: &str) {
    let err = run.result.as_ref().expect_err("the script fails");
    assert_eq!(err.kind, kind, "{err}");
    assert!(err.to_string().contains(message), "{err}");
}

const KEYS: &str = r#"
    let key = "000102030405060708090A0B0C0D0E0F";
    mfp::write_perso(0x9000, key);
    mfp::write_perso(0x9001, key);
    mfp::write_perso(0x9003, key);
"#;

#[test]
fn personalisation_to_sl1_with_either_answer_framing() {
    for acs in [false, true] {
        let source = format!(
            r#"
            print(mfp::level());
            {KEYS}
            mfp::write_perso(7, "A0A1A2A3A4A5 FF078069 B0B1B2B3B4B5");
            mfp::write_perso(4, "11111111111111111111111111111111");
            mfp::commit_perso();
            print(hex(reset()));
            print(mfp::level());
            mfc::auth(4, "A", "A0A1A2A3A4A5");
            print(hex(mfc::read(4)));
            "#
        );
        let run = run_on(Kind::Plus2K, &source, true, acs);
        assert!(run.result.is_ok(), "acs {acs}: {:?}", run.result);
        assert_eq!(
            run.printed,
            [
                "0",
                "3B8F8001804F0CA000000306030036000000005D",
                "1",
                "11111111111111111111111111111111"
            ],
            "acs {acs}"
        );
        assert_eq!(run.sent[0], format!("A8 90 90 {}", hex::format(&[0; 16])));
        assert_eq!(
            run.sent[1],
            "A8 00 90 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
        );
        assert_eq!(run.sent[6], "AA");
    }
}

#[test]
fn bad_arguments_send_nothing() {
    let cases = [
        (
            "mfp::write_perso(-1, \"00\")",
            "data must be 16 bytes per block (16 to 240), got 1",
        ),
        (
            "mfp::write_perso(0x10000, \"00000000000000000000000000000000\")",
            "mfp::write_perso: address 65536 is out of range 0x0000 to 0xFFFF",
        ),
        (
            "mfp::write_perso(0x9090, \"00000000000000000000000000000000\")",
            "address 9090 is not in the MIFARE Plus SL0 address map (protocols.md §3.3)",
        ),
        (
            "mfp::write_perso(0, \"00000000000000000000000000000000\")",
            "block 0 (UID and manufacturer data) cannot be written",
        ),
        (
            "mfp::write_perso(0x9000, \"000102030405060708090A0B0C0D0E\")",
            "data must be 16 bytes per block (16 to 240), got 15",
        ),
        ("mfp::write_perso(0x9000, \"\")", "got 0"),
        (
            "mfp::write_perso(0x9004, \"00000000000000000000000000000000 00000000000000000000000000000000\")",
            "address 9005 is not in the MIFARE Plus SL0 address map",
        ),
        (
            "mfp::write_perso(0x9000, 5)",
            "expected hex text, a Blob or a secret, got i64",
        ),
    ];
    for (call, message) in cases {
        let run = run_on(Kind::Plus2K, call, true, false);
        fails(&run, ErrorKind::Failed, message);
        assert!(run.sent.is_empty(), "{call}: {:?}", run.sent);
        assert!(run.result.unwrap_err().to_string().starts_with("t.rhai:1:"));
    }
    // B003 (field configuration) may brick a card: refused unless armed.
    let run = run_on(
        Kind::Plus2K,
        "mfp::write_perso(0xB003, \"00000000000000000000000000000000\")",
        false,
        false,
    );
    fails(
        &run,
        ErrorKind::Refused,
        "B003 field configuration: proxmark3 says never write it",
    );
    assert!(run.sent.is_empty());
}

#[test]
fn the_card_status_is_explained() {
    let run = run_on(
        Kind::Plus2K,
        "mfp::write_perso(0x0080, \"00000000000000000000000000000000\")",
        false,
        false,
    );
    fails(
        &run,
        ErrorKind::Failed,
        "t.rhai:1:6: mfp::write_perso 0080 block 128: card answered status 09 (block number not valid (also block 0, or beyond 2K on a 2K card))",
    );
    assert_eq!(run.sent.len(), 1);
    // The same with the ACS framing.
    let run = run_on(
        Kind::Plus2K,
        "mfp::write_perso(0x4040, \"00000000000000000000000000000000\")",
        false,
        true,
    );
    fails(
        &run,
        ErrorKind::Failed,
        "4040 AES sector 32 key A: card answered status 09",
    );
}

#[test]
fn commit_checks_the_keys_then_the_arming_before_sending() {
    let run = run_on(Kind::Plus2K, "mfp::commit_perso();", true, false);
    fails(
        &run,
        ErrorKind::Failed,
        "9000 Card Master Key, 9001 Card Configuration Key and 9003 Level 3 Switch Key were not written in this run",
    );
    assert!(run.sent.is_empty());
    let source = "let k = \"000102030405060708090A0B0C0D0E0F\"; mfp::write_perso(0x9000, k); mfp::write_perso(0x9003, k); mfp::commit_perso();";
    let run = run_on(Kind::Plus2K, source, true, false);
    fails(
        &run,
        ErrorKind::Failed,
        "9001 Card Configuration Key was not written in this run",
    );
    assert_eq!(run.sent.len(), 2);
    // All keys, not armed: refused (exit 4), `AA` never sent, the card still in SL0.
    let run = run_on(
        Kind::Plus2K,
        &format!("{KEYS} mfp::commit_perso();"),
        false,
        false,
    );
    fails(
        &run,
        ErrorKind::Refused,
        "refused: mfp::commit_perso: CommitPerso (`AA`) ends security level 0 for good",
    );
    assert!(!run.sent.contains(&"AA".to_string()));
    // CommitPerso framed by hand in the generic session is refused by the guard at the wire.
    let run = run_on(
        Kind::Plus2K,
        &format!("{KEYS} omnikey::session(|| omnikey::transceive(\"03 AA\"));"),
        false,
        false,
    );
    fails(
        &run,
        ErrorKind::Refused,
        "refused: MIFARE Plus CommitPerso (`AA`) ends security level 0 for good (pass --arm-irreversible to allow it)",
    );
    assert_eq!(
        run.sent.last().map(String::as_str),
        Some("FF A0 00 07 03 01 00 02")
    );
    assert!(
        !run.sent.iter().any(|c| c.ends_with("03 AA 00")),
        "{:?}",
        run.sent
    );
}

#[test]
fn level_reads_the_atr_or_probes_without_writing() {
    let run = run_on(Kind::Classic1K, "print(mfp::level());", false, false);
    assert_eq!(
        (run.printed.as_slice(), run.sent.len()),
        (&["1".to_string()][..], 0)
    );
    for kind in [Kind::Ultralight, Kind::Iso7816] {
        let run = run_on(kind, "mfp::level();", false, false);
        fails(
            &run,
            ErrorKind::Failed,
            "is neither an ISO 14443-4 card nor a MIFARE Plus in SL1",
        );
        assert!(run.sent.is_empty());
    }
    // After a probe the card is as fresh as before: commit still needs every key.
    let run = run_on(
        Kind::Plus2K,
        "mfp::level(); mfp::level(); send_raw(\"FF CA 00 00 00\");",
        false,
        false,
    );
    assert!(run.result.is_ok(), "{:?}", run.result);
}

#[test]
fn write_perso_on_an_sl1_card_says_why() {
    let source = format!(
        "{KEYS} mfp::commit_perso(); reset(); mfp::write_perso(0x9000, \"000102030405060708090A0B0C0D0E0F\");"
    );
    let run = run_on(Kind::Plus2K, &source, true, false);
    fails(
        &run,
        ErrorKind::Failed,
        "the reader answered 6E00 (class not supported); the ATR names a MIFARE Classic or a MIFARE Plus in SL1",
    );
}
