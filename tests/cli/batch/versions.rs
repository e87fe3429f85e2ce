//! One journal across profile versions and data lots: a changed profile goes on only with
//! `--profile-changed`, other data only with `--new-lot`, and no card issued under an
//! earlier version or lot is ever issued again — also when batches are killed at random
//! moments between the changes.

use std::time::{Duration, SystemTime};

use super::{Dir, PROFILE, check_journal};

fn base<'a>(data: &'a str, count: &'a str, profile: &'a str) -> Vec<&'a str> {
    vec![
        "batch", "--sim", "iso7816", "--data", data, "--count", count, profile,
    ]
}

#[test]
fn comments_and_layout_are_the_same_profile_and_a_changed_one_needs_the_flag() {
    let (dir, profile, data) = Dir::with_profile_and_data(6);
    let r = dir.run(&base(&data, "2", &profile));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A comment and a description: the same version, the journal goes on.
    dir.write(
        "t.yaml",
        &format!("# station 2\ndescription: the demo line\n{PROFILE}"),
    );
    let r = dir.run(&base(&data, "3", &profile));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("resuming: 2 cards already in the journal (2 ok, 0 failed)"),
        "{}",
        r.stdout
    );
    // A changed step is another version: refused, then continued with the flag.
    dir.write("t.yaml", &PROFILE.replace("verify PIN", "check PIN"));
    let r = dir.run(&base(&data, "4", &profile));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--profile-changed"), "{}", r.stderr);
    let mut args = base(&data, "4", &profile);
    args.insert(1, "--profile-changed");
    let r = dir.run(&args);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("goes on with profile hash"),
        "{}",
        r.stderr
    );
    // The cards of the first version were skipped, not issued again.
    assert!(r.stdout.contains(", 3 skipped in"), "{}", r.stdout);
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 4);
    // The version is recorded once: a rerun needs no flag.
    let r = dir.run(&base(&data, "4", &profile));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn an_edited_module_is_a_changed_profile() {
    // The module an inline script imports (relative to the profile's directory) is part
    // of the version: editing it needs --profile-changed, like editing the step.
    let (dir, _, data) = Dir::with_profile_and_data(6);
    std::fs::create_dir(dir.path("lib")).unwrap();
    dir.write("lib/check.rhai", "fn same(a, b) { a == b }\n");
    let profile = dir.write(
        "t.yaml",
        &PROFILE.replace(
            "if back != serial",
            "import \"lib/check\" as check;\n      if !check::same(back, serial)",
        ),
    );
    let r = dir.run(&base(&data, "2", &profile));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    dir.write("lib/check.rhai", "// station 2\nfn same(a, b) { a == b }\n");
    let r = dir.run(&base(&data, "3", &profile));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--profile-changed"), "{}", r.stderr);
    let mut args = base(&data, "3", &profile);
    args.insert(1, "--profile-changed");
    let r = dir.run(&args);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(", 2 skipped in"), "{}", r.stdout);
    assert_eq!(check_journal(&dir.journal()).ok_rows.len(), 3);
    // A module that does not compile stops the batch before its first card.
    dir.write("lib/check.rhai", "fn same(a, b) { a == \n");
    let r = dir.run(&base(&data, "4", &profile));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("lib/check.rhai:"), "{}", r.stderr);
    assert_eq!(check_journal(&dir.journal()).ok_rows.len(), 3);
}

#[test]
fn a_second_lot_goes_on_in_the_same_journal_and_issues_no_card_again() {
    let (dir, profile, data) = Dir::with_profile_and_data(3);
    let r = dir.run(&base(&data, "3", &profile));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let second = dir.write("lot2.csv", "serial\n000000A1\n000000A2\n000000A3\n");
    // Other data is refused without the flag.
    let r = dir.run(&base(&second, "6", &profile));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--new-lot"), "{}", r.stderr);
    let mut args = base(&second, "6", &profile);
    args.insert(1, "--new-lot");
    let r = dir.run(&args);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // Cards 1-3 of the stream were issued from lot 1: skipped; 4-6 get lot 2's rows 1-3.
    assert!(r.stdout.contains(", 3 skipped in"), "{}", r.stdout);
    let lines = dir.journal();
    let lot = lines.iter().position(|l| l["event"] == "lot").unwrap();
    let rows: Vec<(String, u64)> = lines[lot..]
        .iter()
        .filter(|l| l["event"] == "end" && l["verdict"] == "ok")
        .map(|l| {
            (
                l["identity"].as_str().unwrap().to_string(),
                l["row"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            // Identified by the simulated CPLC's IC serial (`identify:`), position 3-5.
            ("10000003".to_string(), 1),
            ("10000004".to_string(), 2),
            ("10000005".to_string(), 3)
        ]
    );
    // Going back to the first data is its own lot again: nothing left to issue.
    let mut args = base(&data, "6", &profile);
    args.insert(1, "--new-lot");
    let r = dir.run(&args);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("\nok "), "{}", r.stdout);
}

fn random_delays(count: usize, max_ms: u64) -> Vec<u64> {
    let mut x = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    println!("seed {x}");
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
fn kill_9_across_profile_edits_and_a_second_lot_never_issues_a_card_twice() {
    let (dir, profile, data) = Dir::with_profile_and_data(20);
    let second = {
        let mut text = String::from("serial\n");
        for i in 1..=20 {
            text.push_str(&format!("{:08X}\n", 0xA00 + i));
        }
        dir.write("lot2.csv", &text)
    };
    let delays = random_delays(6, 400);
    for (i, delay) in delays.into_iter().enumerate() {
        // Phases: lot 1 with the profile, then an edited profile, then lot 2.
        let edited = i >= 2;
        if edited {
            dir.write("t.yaml", &PROFILE.replace("verify PIN", "check PIN"));
        }
        let lot = if i >= 4 { &second } else { &data };
        let args = [
            "batch",
            "--sim",
            "iso7816",
            "--sim-readers",
            "2",
            "--profile-changed",
            "--new-lot",
            "--data",
            lot,
            "--count",
            "40",
            "--var",
            "spin=3000",
            &profile,
        ];
        let mut child = dir.spawn(&args);
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap();
        child.wait().unwrap();
        check_journal(&dir.journal());
    }
    for lot in [&data, &second] {
        let r = dir.run(&[
            "batch",
            "--sim",
            "iso7816",
            "--profile-changed",
            "--new-lot",
            "--data",
            lot,
            "--count",
            "40",
            &profile,
        ]);
        assert!(matches!(r.code, 0 | 1), "{}\n{}", r.stdout, r.stderr);
    }
    let lines = dir.journal();
    check_journal(&lines);
    // No identity issued ok twice, across versions and lots.
    let mut ok: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "end" && l["verdict"] == "ok")
        .map(|l| l["identity"].as_str().unwrap())
        .collect();
    let issued = ok.len();
    ok.sort_unstable();
    ok.dedup();
    assert_eq!(ok.len(), issued, "a card was issued twice");
    // Both lots' rows were used, 40 cards in all.
    assert_eq!(issued, 40);
}
