//! The journal's promises: kill -9 at random moments, Ctrl-C, bad data, other profiles'
//! journals, cut-off lines.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::{Dir, PROFILE, check_journal, read_lines};

/// A small xorshift generator: the tests' random delays, reproducible from the printed seed.
fn random_delays(count: usize, max_ms: u64) -> Vec<u64> {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    println!("seed {seed}");
    let mut x = seed;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % max_ms
        })
        .collect()
}

#[test]
fn kill_9_at_random_moments_never_reuses_a_row_or_issues_a_card_twice() {
    for (round, delays) in (0..3).map(|_| random_delays(5, 500)).enumerate() {
        let (dir, profile, data) = Dir::with_profile_and_data(40);
        let args = [
            "batch",
            "--sim",
            "iso7816",
            "--sim-readers",
            "2",
            "--data",
            &data,
            "--var",
            "spin=3000",
            &profile,
        ];
        for delay in delays {
            let mut child = dir.spawn(&args);
            std::thread::sleep(Duration::from_millis(delay));
            child.kill().unwrap();
            child.wait().unwrap();
            check_journal(&dir.journal());
        }
        let r = dir.run(&args);
        assert_eq!(r.code, 0, "round {round}: {}\n{}", r.stdout, r.stderr);
        let journal = check_journal(&dir.journal());
        assert_eq!(journal.ok_rows.len(), 40, "round {round}");
        assert_eq!(journal.open, 0, "round {round}");
        // The identity that got each row kept it across restarts.
        let mut identities: Vec<&String> = journal.ok_rows.values().collect();
        identities.sort();
        identities.dedup();
        assert_eq!(
            identities.len(),
            40,
            "round {round}: a card was issued twice"
        );
    }
}

/// MIFARE Classic 1K cards, told apart by UID: the row's serial into block 4.
const CLASSIC: &str = r#"name: c
card: classic-1k
vars: { spin: "0" }
steps:
  - apdu: FF 82 00 00 06 FF FF FF FF FF FF
  - apdu: FF 86 00 00 05 01 00 04 60 00
  - apdu: FF D6 00 04 10 ${serial} 00 00 00 00 00 00 00 00 00 00 00 00
  - apdu: FF B0 00 04 10
    response: ${serial} 00 00 00 00 00 00 00 00 00 00 00 00
  - script: |
      let n = parse_int(spin);
      let i = 0;
      while i < n { i += 1; }
"#;

#[test]
fn kill_9_on_cards_with_uids_resumes_them_by_uid() {
    let dir = Dir::new();
    let profile = dir.write("c.yaml", CLASSIC);
    let data = dir.data(30);
    let journal = dir.path("c.journal.jsonl");
    let args = [
        "batch",
        "--sim",
        "classic-1k",
        "--data",
        &data,
        "--var",
        "spin=3000",
        &profile,
    ];
    for delay in random_delays(5, 400) {
        let mut child = dir.spawn(&args);
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap();
        child.wait().unwrap();
        check_journal(&read_lines(&journal));
    }
    let r = dir.run(&args);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = read_lines(&journal);
    let result = check_journal(&lines);
    assert_eq!(result.ok_rows.len(), 30);
    // Identities are the cards' UIDs (4 bytes, uppercase hex), and `uid` says the same.
    for end in &result.ends {
        let uid = end["uid"].as_str().unwrap();
        assert_eq!(end["identity"].as_str(), Some(uid));
        assert!(uid.len() == 8 && uid == uid.to_uppercase(), "{uid}");
    }
}

#[test]
fn ctrl_c_records_the_card_and_exits_130_then_the_card_is_resumed() {
    let (dir, profile, data) = Dir::with_profile_and_data(3);
    let args = [
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &data,
        "--var",
        "spin=5000000",
        &profile,
    ];
    let child = dir.spawn(&args);
    // Wait for the first begin, then interrupt the card in its long script step.
    let started = Instant::now();
    while dir.journal().len() < 2 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    // A second batch on the same journal is refused while the first runs.
    let second = dir.run(&args);
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(
        second.stderr.contains("is in use by another batch"),
        "{}",
        second.stderr
    );
    child.signal("INT");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let journal = check_journal(&dir.journal());
    let last = journal.ends.last().unwrap();
    assert_eq!(last["verdict"], "interrupted", "{last}");
    assert_eq!(
        (&last["row"], &last["step"]),
        (&Value::from(1), &Value::from("spin"))
    );
    // The next run finishes the interrupted card with the same row.
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("ok          seq 1 row 1  10000000  Simulated reader (iso7816)  (resumed)"),
        "{}",
        r.stdout
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 3);
}

#[test]
fn bad_data_files_are_refused_before_any_card() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let cases = [
        ("", "the data file is empty"),
        ("serial\n", ":1: the data file has a header but no rows"),
        (
            "serial,serial\n01,02\n",
            ":1:2: duplicate column `serial` (also column 1)",
        ),
        (
            "serial,name\n01,a\n02\n",
            ":3: this row has 1 field(s), the header has 2",
        ),
        (
            "serial\n0G\n",
            ":2:1: column `serial` is sent in an APDU, but `0G` is not hex",
        ),
    ];
    for (text, expected) in cases {
        let data = dir.write("bad.csv", text);
        let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
        assert_eq!(r.code, 2, "{text:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with(&format!("error: {data}")) && r.stderr.contains(expected),
            "{text:?}: {}",
            r.stderr
        );
        assert!(!dir.path("t.journal.jsonl").exists());
    }
    let r = dir.run(&["batch", "--sim", "iso7816", &profile]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--sim needs --count or --data"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_batch_arguments_are_refused_before_any_card() {
    let (dir, profile, data) = Dir::with_profile_and_data(2);
    let secret = dir.write(
        "s.yaml",
        "name: s\nsecrets:\n  serial: env:APDU_RUN_TEST_UNSET\nsteps:\n  - apdu: 00 A4 00 0C 02 3F 00\n",
    );
    let cases: [(&[&str], String); 3] = [
        (
            &["--reader", "a", "--reader", "b", "--reader", "a", &profile],
            "error: --reader `a` is given twice (option 3): one worker per reader\n".into(),
        ),
        (
            &[
                "--sim",
                "iso7816",
                "--sim-readers",
                "0",
                "--data",
                &data,
                &profile,
            ],
            "error: --sim-readers must be at least 1\n".into(),
        ),
        (
            &["--sim", "iso7816", "--data", &data, &secret],
            format!("error: {data}: column `serial` has the name of a secret of the profile\n"),
        ),
    ];
    for (args, message) in &cases {
        let r = dir.run(&[&["batch"][..], args].concat());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(&r.stderr, message, "{args:?}");
    }
    assert!(!dir.path("t.journal.jsonl").exists() && !dir.path("s.journal.jsonl").exists());
}

#[test]
fn journals_of_other_profiles_are_refused_and_cut_off_lines_repaired() {
    let (dir, profile, data) = Dir::with_profile_and_data(4);
    let journal = dir.path("j.jsonl");
    let journal = journal.to_str().unwrap();
    let base = [
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &data,
        "--journal",
        journal,
    ];
    let r = dir.run(&[&base[..], &["--count", "2", &profile]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Another profile (same text but one more step) is refused with exit 2.
    let other = dir.write(
        "other.yaml",
        &format!("{PROFILE}  - apdu: 00 A4 00 0C 02 3F 00\n"),
    );
    let r = dir.run(&[&base[..], &[&other[..]]].concat());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("belongs to another profile: it was written for `")
            && r.stderr.contains("t.yaml` with hash"),
        "{}",
        r.stderr
    );
    // Other data is refused too.
    let other_data = dir.write("other.csv", "serial\n000000AA\n");
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &other_data,
        "--journal",
        journal,
        &profile,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("was written with other data"),
        "{}",
        r.stderr
    );
    // A cut-off last line is removed, said so, and the batch goes on.
    let mut text = std::fs::read_to_string(journal).unwrap();
    text.push_str(r#"{"event":"begin","time":"2026-"#);
    std::fs::write(journal, &text).unwrap();
    let r = dir.run(&[&base[..], &[&profile[..]]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 6 was cut off (30 bytes, the last run stopped while writing it); removed it and went on"),
        "{}",
        r.stderr
    );
    let journal = check_journal(&read_lines(Path::new(journal)));
    assert_eq!(journal.ok_rows.len(), 4);
    // A line that is not a record in the middle is an error, not a guess.
    let (dir, profile, data) = Dir::with_profile_and_data(1);
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = dir.path("t.journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "\"event\":\"begin\"",
        "\"event\":\"bgin\"",
        1,
    );
    std::fs::write(&path, text).unwrap();
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 2: not a journal record"),
        "{}",
        r.stderr
    );
}
