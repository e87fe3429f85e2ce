//! MIFARE Plus: the simulated SL0 card, the forum's generic-session sequence (protocols.md
//! §3.6), `perso_sl1.rhai` to SL1 across runs, the checks before CommitPerso, the guard, and
//! key masking in traces. CRC_A vectors (Appendix A) and I-block framing are unit-tested in
//! `src/iso14443/` and, through scripts, in `src/script/omnikey_api/tests.rs`.

use super::{Ran, apdu_run, run_sim, script, trace_hex};

const KEY: &str = "00112233445566778899AABBCCDDEEFF";

/// Runs `apdu-run --sim plus-2k --sim-state STATE ARGS…`: one insertion of the card whose
/// state the file `state` keeps from run to run.
fn on_kept_card(state: &str, args: &[&str]) -> Ran {
    let mut all = vec!["--sim", "plus-2k", "--sim-state", state];
    all.extend_from_slice(args);
    apdu_run(&all)
}

#[test]
fn the_forum_sequence_gets_the_forum_status_words() {
    let text = format!(
        r#"
        for apdu in [
            "FF A0 00 07 03 01 00 01",
            "FF A0 00 05 19 01 00 F3 00 00 64 A8 00 90 {KEY} 00",
            "FF A0 00 05 19 01 00 F3 00 00 64 A8 00 90 {KEY}",
            "FF A0 00 05 07 01 00 F3 00 00 64 AA 00",
            "FF A0 00 05 07 01 00 F3 00 00 64 AA",
            "FF A0 00 05 08 01 00 F3 00 00 64 E0 81 00",
            "FF A0 00 07 03 01 00 02",
        ] {{
            let r = send(apdu);
            print(`${{hex(r.data)}}/${{r.sw.to_hex()}}`);
        }}
        print(mfp::level());
        "#
    );
    // Armed, so that even the wrapped CommitPerso goes out, as it did on the forum.
    let (r, trace) = run_sim("plus-2k", &text, &["--arm-irreversible"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "/9000\n/6400\n/9000\n/6400\n/9000\n/6400\n/9000\n0\n"
    );
    // The key inside the wrapped WritePerso never shows in the trace.
    let sent = trace_hex(&trace, ">>");
    assert_eq!(sent[1], "FFA00005190100F3000064A80090(secret)00");
    assert!(sent.iter().all(|c| !c.contains(KEY)), "{sent:?}");
}

#[test]
fn the_forum_script_prints_the_diagnosis_and_exits_0() {
    let r = apdu_run(&[
        "--sim",
        "plus-2k",
        "scripts/omnikey_generic_session_sl0.rhai",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for expected in [
        "WritePerso 9000, with Le: 6400",
        "which ignores unframed layer-3 frames: send its commands directly",
        "WritePerso 9000, without Le: 9000",
        "nothing was exchanged",
        "does not answer RATS again",
        "refused: MIFARE Plus CommitPerso (`AA`) ends security level 0 for good",
        "mfp::level() = 0",
        "-> 0209",
    ] {
        assert!(r.stdout.contains(expected), "{expected}: {}", r.stdout);
    }
}

#[test]
fn perso_switches_to_sl1_and_a_later_run_sees_sl1() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("plus.json");
    let state = state.to_str().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let r = on_kept_card(
        state,
        &[
            "--arm-irreversible",
            "--trace-file",
            trace.to_str().unwrap(),
            "scripts/perso_sl1.rhai",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("SL1: block 4 read with the new key A: \"APDU-RUN DEMO\"")
    );

    // No key of the run shows in the trace: AES keys by WritePerso address, Crypto1 keys and
    // trailers as loaded secrets.
    let trace = std::fs::read_to_string(&trace).unwrap();
    for file in std::fs::read_dir("scripts/keys").unwrap() {
        let path = file.unwrap().path();
        if path.to_str().unwrap().contains("demo_plus_") {
            let key = std::fs::read_to_string(&path).unwrap();
            assert!(!trace.contains(key.trim()), "{} leaked", path.display());
        }
    }
    assert!(
        trace.contains("\"A80090(secret)\""),
        "card master key masked"
    );
    assert!(
        trace.contains("\"A8040041504455"),
        "block 4 is data, not masked"
    );

    // The next run is a new insertion: the card is a MIFARE Classic 2K with the new keys.
    let check = script(
        dir.path(),
        "check.rhai",
        r#"
        print(mfp::level());
        print(hex(atr()));
        mfc::auth(4, "A", secret("file:scripts/keys/demo_plus_classic_key_a.hex"));
        print(hex(mfc::read(4)));
        "#,
    );
    let r = on_kept_card(state, &[check.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "1\n3B8F8001804F0CA000000306030036000000005D\n\
         415044552D52554E2044454D4F000000\n"
    );
    let r = on_kept_card(state, &["--arm-irreversible", "scripts/perso_sl1.rhai"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("the card is in security level 1, not 0"),
        "{}",
        r.stderr
    );
}

#[test]
fn unarmed_perso_stops_before_writing_and_the_card_stays_in_sl0() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("plus.json");
    let state = state.to_str().unwrap();
    let r = on_kept_card(state, &["scripts/perso_sl1.rhai"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "refused: CommitPerso switches the card to SL1 for good: this run is not armed \
             (pass --arm-irreversible)"
        ),
        "{}",
        r.stderr
    );
    let image: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    assert_eq!(image["card"]["level"], 0);
    assert_eq!(image["card"]["perso"], serde_json::json!({}));
    // Still usable: the armed run personalises the same card.
    let r = on_kept_card(state, &["--arm-irreversible", "scripts/perso_sl1.rhai"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn commit_without_the_mandatory_keys_sends_nothing() {
    let text = format!("mfp::write_perso(0x9000, \"{KEY}\");\nmfp::commit_perso();");
    let (r, trace) = run_sim("plus-2k", &text, &["--arm-irreversible"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "t.rhai:2:6: mfp::commit_perso: 9001 Card Configuration Key and 9003 Level 3 Switch \
             Key were not written in this run"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(trace_hex(&trace, ">>"), ["A80090(secret)"]);
    assert_eq!(trace_hex(&trace, "<<"), ["90"]);
}

#[test]
fn the_guard_refuses_commit_and_malformed_trailers() {
    let keys = format!("for a in [0x9000, 0x9001, 0x9003] {{ mfp::write_perso(a, \"{KEY}\"); }}\n");
    // CommitPerso framed by hand in the generic session: exit 4, never on the wire.
    let text = format!("{keys}omnikey::session(|| omnikey::transceive(\"03 AA\"));");
    let (r, trace) = run_sim("plus-2k", &text, &[]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("refused: MIFARE Plus CommitPerso (`AA`) ends security level 0 for good"),
        "{}",
        r.stderr
    );
    assert!(trace_hex(&trace, ">>").iter().all(|c| !c.contains("03AA")));
    // A trailer with malformed access bits: refused even when armed.
    let text = "mfp::write_perso(7, \"FFFFFFFFFFFF FF0781 69 FFFFFFFFFFFF\");";
    let (r, trace) = run_sim("plus-2k", text, &["--arm-irreversible"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "refused: write to sector 1 trailer (block 7) refused: malformed access bits"
        ),
        "{}",
        r.stderr
    );
    assert!(trace_hex(&trace, ">>").is_empty());
}

#[test]
fn bad_input_is_a_clear_error_and_nothing_is_sent() {
    for (text, message) in [
        (
            "mfp::write_perso(0x1FFFF, \"00000000000000000000000000000000\");",
            "address 131071 is out of range 0x0000 to 0xFFFF",
        ),
        (
            "mfp::write_perso(0x9000, \"0011\");",
            "data must be 16 bytes per block (16 to 240), got 2",
        ),
        (
            "omnikey::session(|| omnikey::transceive(\"\"));",
            "omnikey::transceive: the frame is empty: nothing to send",
        ),
    ] {
        let (r, trace) = run_sim("plus-2k", text, &[]);
        assert_eq!(r.code, 1, "{text}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{text}: {}", r.stderr);
        let sent = trace_hex(&trace, ">>");
        assert!(
            sent.iter().all(|c| c.starts_with("FFA000070301")),
            "{text}: {sent:?}"
        );
    }
}

#[test]
fn show_secrets_unmasks_write_perso_keys_for_the_bench() {
    let text = format!("mfp::write_perso(0x9000, \"{KEY}\");");
    let (r, trace) = run_sim("plus-4k", &text, &["--show-secrets"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(trace_hex(&trace, ">>"), [format!("A80090{KEY}")]);
}
