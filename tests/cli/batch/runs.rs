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
    assert_eq!(first["identity"], "SIM-000001");
    assert_eq!(first["reader"], "Simulated reader (iso7816)");
    assert_eq!(first["steps"].as_array().unwrap().len(), 5);
    assert_eq!(first["steps"][2]["sw"], "9000");
    assert!(first["steps"][2]["micros"].is_u64() && first["micros"].is_u64());

    // Run again: every card is presented again and skipped, saying when and with which row.
    let r = dir.run(&[
        "batch", "--sim", "iso7816", "--count", "3", "--data", &data, &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("0 ok"), "{}", r.stdout);
    assert!(
        r.stderr.contains("resuming, 200 card(s) finished before"),
        "{}",
        r.stderr
    );
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
    let skipped: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("skipped"))
        .collect();
    assert_eq!(skipped.len(), 2, "{}", r.stdout);
    assert!(
        skipped[0].contains("SIM-000001")
            && skipped[0].contains("already issued ok at ")
            && skipped[0].contains("with row 1 (seq 1)"),
        "{}",
        skipped[0]
    );
    assert!(
        r.stdout.contains("ok          seq 4 row 4  SIM-000004"),
        "{}",
        r.stdout
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 4);
}

#[test]
fn a_card_of_the_wrong_kind_is_rejected_without_writing() {
    let dir = Dir::new();
    let profile = dir.write(
        "t.yaml",
        "name: t\ncard: ultralight\nsteps:\n  - apdu: FF D6 00 04 04 00 00 00 01\n",
    );
    let r = dir.run(&["batch", "--sim", "iso7816", "--count", "2", &profile]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("skipped      SIM-000001  Simulated reader (iso7816)  not a `ultralight` card: its ATR 3B8A8131FE458068415044552D52554E0D is an ISO 7816 card"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("0 ok, 0 failed, 0 interrupted, 2 skipped"),
        "{}",
        r.stdout
    );
    // Nothing was begun: the journal holds its header only.
    assert_eq!(dir.journal().len(), 1);
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
        r.stdout.contains("a failed card is not tried again"),
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
    assert!(r.stdout.contains("seq 1 row 1  SIM-000001"), "{}", r.stdout);
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
    let profile = dir.write(
        "t.yaml",
        "name: t\ncard: ultralight\nsteps:\n  - apdu: FF B0 00 04 04 ${serial}\n",
    );
    let data = dir.data(4);
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("0 ok, 0 failed, 0 interrupted, 4 skipped"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("every simulated card was presented"),
        "{}",
        r.stdout
    );
}
