//! Status words in context: the command that got a status word decides what it means — in
//! `apdu-run sw`, in traces, in errors and in `r.meaning`.

use super::{apdu_run, run_sim};

#[test]
fn sw_lists_every_context_that_reads_a_word_differently() {
    let r = apdu_run(&["sw", "6300", "9F10", "6708", "6F12"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "6300  warning, NV memory changed, no information\n      \
         PC/SC Part 3 reader command (CLA FF): operation failed (PC/SC Part 3: e.g. authentication failed, or the card did not answer)\n\
         9F10  proprietary status word\n      \
         GSM 11.11 (CLA A0): 16 bytes of response data available (GET RESPONSE `A0 C0 00 00 10`)\n\
         6708  checking error (unknown status word)\n      \
         GSM 11.11 (CLA A0): incorrect parameter P3: the correct length is 8 (`08`)\n\
         6F12  checking error (unknown status word)\n      \
         GSM 11.11 (CLA A0): technical problem with no diagnostic given\n"
    );
    let r = apdu_run(&["sw", "--context", "gsm", "9F10", "6708"]);
    assert_eq!(
        r.stdout,
        "9F10  16 bytes of response data available (GET RESPONSE `A0 C0 00 00 10`)\n\
         6708  incorrect parameter P3: the correct length is 8 (`08`)\n"
    );
    let r = apdu_run(&["sw", "--json", "--context", "pcsc", "6300"]);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let entry = &list[0];
    assert_eq!(entry["sw"], "6300");
    assert_eq!(entry["context"], "pcsc");
    assert!(
        entry["meaning"]
            .as_str()
            .unwrap()
            .contains("authentication failed")
    );
    assert_eq!(
        entry["contexts"]["iso7816"],
        "warning, NV memory changed, no information"
    );
    let r = apdu_run(&["sw", "--context", "nfc", "6300"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn traces_errors_and_meaning_follow_the_command() {
    // 63 00 after a PC/SC Part 3 authenticate with a wrong key: an operation that failed.
    let (r, trace) = run_sim(
        "classic-1k",
        "send(\"FF 82 00 00 06 00 00 00 00 00 00\");\n\
         let r = send(\"FF 86 00 00 05 01 00 04 60 00\");\nprint(r.meaning);\n\
         send(\"FF 86 00 00 05 01 00 04 60 00\", \"9000\");\n",
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let pcsc =
        "operation failed (PC/SC Part 3: e.g. authentication failed, or the card did not answer)";
    assert_eq!(r.stdout, format!("{pcsc}\n"));
    assert!(
        r.stderr
            .contains(&format!("card answered 6300 ({pcsc}), expected 9000")),
        "{}",
        r.stderr
    );
    let answer = &trace[3];
    assert_eq!(answer["sw"], "6300");
    assert_eq!(answer["context"], "pcsc");
    assert_eq!(answer["meaning"], pcsc);

    // The same class of words after ISO and GSM commands.
    let (r, trace) = run_sim(
        "iso7816",
        "print(send(\"A0 A4 00 00 02 3F 00\").meaning);\nprint(send(\"00 A4 00 0C 02 12 34\").meaning);\n",
        &["--trace"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "wrong instruction class\nfile or application not found\n"
    );
    assert!(
        r.stderr.contains("<< 6E 00") && r.stderr.contains("wrong instruction class"),
        "{}",
        r.stderr
    );
    assert_eq!(trace[1]["context"], "gsm");
    assert_eq!(trace[3]["context"], "iso7816");
    assert_eq!(trace[3]["meaning"], "file or application not found");
}
