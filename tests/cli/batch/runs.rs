//! Whole simulated batches: every row once, restarts, wrong cards, failures, two readers.

use std::collections::HashSet;

use serde_json::Value;

use super::{Dir, PROFILE, check_journal, read_lines};

#[test]
fn a_200_card_simulated_batch_issues_every_row_once() {
    let (dir, profile, data) = Dir::with_profile_and_data(200);
    let report = dir.path("report.jsonl");
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &data,
        "--report",
        report.to_str().unwrap(),
        &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("batch ended: every data row is used"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("200 ok, 0 failed"), "{}", r.stdout);
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        200
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 200);
    assert_eq!((journal.open, journal.failed), (0, 0));
    let lines = read_lines(&report);
    assert_eq!(lines.len(), 200);
    let first = &lines[0];
    assert_eq!(
        (
            &first["verdict"],
            &first["row"],
            &first["seq"],
            &first["uid"]
        ),
        (
            &Value::from("ok"),
            &Value::from(1),
            &Value::from(1),
            &Value::Null
        )
    );
    // Told apart by the `identify:` bytes, the CPLC IC serial number; no UID.
    assert_eq!(first["identity"], "10000000");
    assert_eq!(first["reader"], "Simulated reader (iso7816)");
    assert_eq!(first["steps"].as_array().unwrap().len(), 5);
    assert_eq!(first["steps"][2]["sw"], "9000");
    assert!(first["steps"][2]["micros"].is_u64() && first["micros"].is_u64());

    // Run again: every card is presented again and skipped; one line says so for all.
    let r = dir.run(&[
        "batch", "--sim", "iso7816", "--count", "3", "--data", &data, &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("0 ok"), "{}", r.stdout);
    assert!(
        r.stdout.starts_with(
            "resuming: 200 cards already in the journal (200 ok, 0 failed); journal `"
        ),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
}

#[test]
fn a_restarted_batch_skips_done_cards_and_uses_the_rest_of_the_rows() {
    let (dir, profile, data) = Dir::with_profile_and_data(5);
    let r = dir.run(&[
        "batch", "--sim", "iso7816", "--count", "2", "--data", &data, &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("batch ended: the journal holds --count finished cards")
    );
    let r = dir.run(&[
        "batch", "--sim", "iso7816", "--count", "4", "--data", &data, &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The two cards done before are one line, not a line each; the report still has them.
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("resuming: 2 cards already in the journal (2 ok, 0 failed)"),
        "{}",
        r.stdout
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("skipped")),
        "{}",
        r.stdout
    );
    assert!(
        lines[1].starts_with("ok          seq 3 row 3  10000002  Simulated reader (iso7816)")
            && lines[2]
                .starts_with("ok          seq 4 row 4  10000003  Simulated reader (iso7816)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("2 ok, 0 failed, 0 interrupted, 2 skipped"),
        "{}",
        r.stdout
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 4);
}

#[test]
fn a_simulated_kind_that_cannot_be_the_profiles_card_is_refused_before_any_card() {
    let dir = Dir::new();
    let profile = dir.write(
        "t.yaml",
        "name: t\ncard: ultralight\nsteps:\n  - apdu: FF D6 00 04 04 00 00 00 01\n",
    );
    let r = dir.run(&["batch", "--sim", "iso7816", "--count", "2", &profile]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--sim iso7816: a simulated `iso7816` card can never be the `card: ultralight` card of `")
            && r.stderr.contains("use --sim ultralight"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(!dir.path("t.journal.jsonl").exists());
    // `run` refuses it the same way.
    let r = dir.run(&["run", "--sim", "classic-1k", &profile]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("`classic-1k` card can never be the `card: ultralight` card"),
        "{}",
        r.stderr
    );
}

#[test]
fn failures_use_up_rows_and_stop_after_max_failures() {
    let dir = Dir::new();
    // The PIN is wrong: every card fails at the VERIFY step (and counts a try down).
    let profile = dir.write("t.yaml", &PROFILE.replace("31 32 33 34", "39 39 39 39"));
    let data = dir.data(10);
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("3 cards failed in a row (--max-failures)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("step 2 `verify PIN`: expected 9000, card answered 63C2 (verification failed, 2 tries left (counter 2))"),
        "{}",
        r.stdout
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.failed, 3);
    let end = &journal.ends[0];
    assert_eq!(
        (&end["step"], &end["sw"]),
        (&Value::from("verify PIN"), &Value::from("63C2"))
    );
    // Run again without a failure limit: the failed cards are not tried again, and new
    // cards get the rows after theirs.
    let args = [
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &data,
        "--max-failures",
        "0",
        &profile,
    ];
    let r = dir.run(&args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("batch ended: every data row is used"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .starts_with("resuming: 3 cards already in the journal (0 ok, 3 failed)"),
        "{}",
        r.stdout
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.failed, 10);
    let rows: Vec<&Value> = journal.ends.iter().map(|e| &e["row"]).collect();
    assert_eq!(
        rows,
        (1..=10)
            .map(Value::from)
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>()
    );

    // `on-error: abort` stops at the first failure.
    let dir = Dir::new();
    let text = PROFILE
        .replace("31 32 33 34", "39 39 39 39")
        .replace("card: iso7816\n", "card: iso7816\non-error: abort\n");
    let profile = dir.write("t.yaml", &text);
    let data = dir.data(10);
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("a card failed and the profile says `on-error: abort`"),
        "{}",
        r.stdout
    );
    assert_eq!(check_journal(&dir.journal()).failed, 1);
}

#[test]
fn two_simulated_readers_share_100_rows_without_duplicates() {
    let (dir, profile, data) = Dir::with_profile_and_data(100);
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--sim-readers",
        "2",
        "--data",
        &data,
        &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 100);
    let rows: Vec<u64> = (1..=100).collect();
    let mut got: Vec<u64> = journal.ok_rows.keys().copied().collect();
    got.sort_unstable();
    assert_eq!(got, rows);
    let readers: HashSet<&str> = journal
        .ends
        .iter()
        .map(|e| e["reader"].as_str().unwrap())
        .collect();
    assert_eq!(readers.len(), 2, "{readers:?}");
    let r = dir.run(&[
        "batch", "--reader", "x", "--sim", "iso7816", "--count", "1", &profile,
    ]);
    assert_eq!(r.code, 2, "--reader and --sim conflict: {}", r.stderr);
}

#[test]
fn a_refused_irreversible_operation_stops_the_batch_and_the_card_keeps_its_row() {
    let dir = Dir::new();
    let text = format!("{PROFILE}  - script: require_armed(\"the test locks something\");\n");
    let profile = dir.write("t.yaml", &text);
    let data = dir.data(3);
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("an irreversible operation was refused"),
        "{}",
        r.stdout
    );
    let journal = check_journal(&dir.journal());
    assert_eq!((journal.open, journal.failed), (1, 0));
    assert_eq!(journal.ends[0]["verdict"], "interrupted");
    // Armed, the same card is finished with its row, then the rest.
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--arm-irreversible",
        "--data",
        &data,
        &profile,
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("seq 1 row 1  10000000"), "{}", r.stdout);
    assert!(r.stdout.contains("(resumed)"), "{}", r.stdout);
    assert_eq!(check_journal(&dir.journal()).ok_rows.len(), 3);
}

#[test]
fn an_armed_batch_still_refuses_kinds_the_profile_does_not_list() {
    let dir = Dir::new();
    // MIFARE Plus CommitPerso wrapped in the Omnikey generic session: irreversible on any
    // card, and this profile lists only `ul-lock`.
    let text = "name: t\nirreversible: [ul-lock]\nsteps:\n  - apdu: FF A0 00 05 08 01 00 F3 00 00 64 02 AA 00\n    expect: XXXX\n";
    let profile = dir.write("t.yaml", text);
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--count",
        "1",
        "--arm-irreversible",
        &profile,
    ]);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("the profile's `irreversible:` does not list `mfp-commit`"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_simulated_stream_without_count_has_one_card_per_row() {
    let dir = Dir::new();
    // No card can be identified (tag 9F7E is not on the card): each is a failure, no row
    // is used, and without a failure limit the stream still ends.
    let profile = dir.write(
        "t.yaml",
        &PROFILE.replace("80 CA 9F 7F 00", "80 CA 9F 7E 00"),
    );
    let data = dir.data(4);
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &data,
        "--max-failures",
        "0",
        &profile,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("0 ok, 4 failed, 0 interrupted, 0 skipped"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("every simulated card was presented"),
        "{}",
        r.stdout
    );
}

#[test]
fn cards_that_cannot_be_identified_fail_count_and_stop_the_batch() {
    let dir = Dir::new();
    let profile = dir.write(
        "t.yaml",
        &PROFILE.replace("80 CA 9F 7F 00", "80 CA 9F 7E 00"),
    );
    let data = dir.data(10);
    let report = dir.path("r.jsonl");
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &data,
        "--max-failures",
        "2",
        "--report",
        report.to_str().unwrap(),
        &profile,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let failed: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("failed"))
        .collect();
    assert_eq!(failed.len(), 2, "{}", r.stdout);
    assert!(
        failed[0]
            .contains("not identified: the `identify:` command `80 CA 9F 7E 00` answered 6A88")
            && failed[0].contains("nothing else is sent"),
        "{}",
        failed[0]
    );
    assert!(
        r.stdout
            .contains("batch ended: 2 cards failed in a row (--max-failures)"),
        "{}",
        r.stdout
    );
    // No row was used: the journal holds its header only, the report both cards.
    assert_eq!(dir.journal().len(), 1);
    let lines = read_lines(&report);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["verdict"], "failed");
    assert_eq!(lines[0]["row"], Value::Null);
}

#[test]
fn a_contact_profile_without_identify_is_refused_before_any_card() {
    let dir = Dir::new();
    let text = PROFILE.replace("identify: { apdu: 80 CA 9F 7F 00, bytes: 15-18 }\n", "");
    assert!(!text.contains("identify"));
    let profile = dir.write("t.yaml", &text);
    let data = dir.data(2);
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("t.yaml: `card: iso7816` cards have no UID")
            && r.stderr.contains("add `identify:`"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(!dir.path("t.journal.jsonl").exists());
}
