//! Profiles through the binary: located validation errors, `check`, `run` once, the
//! shipped profiles.

use std::path::Path;

use super::{Dir, PROFILE, check_journal, read_lines};

#[test]
fn bad_profiles_exit_2_with_their_position_and_touch_nothing() {
    let cases = [
        ("name: t\nstepz: []\n", "p.yaml:2:1: unknown field `stepz`"),
        (
            "name: t\nsteps:\n  - apdu: 00 A4 0G\n",
            "p.yaml:3:18: bad hex in `apdu`: `G` is not a hex digit",
        ),
        (
            "name: t\nsteps:\n  - apdu: 00 D6 00 00 01 ${nope}\n",
            "p.yaml:3:26: unknown variable `nope` in `${nope}`",
        ),
        (
            "name: t\ninclude: [missing.yaml]\n",
            "p.yaml:2:11: cannot read included profile",
        ),
        (
            "name: t\ninclude: [c.yaml]\n",
            "c.yaml:2:11: include cycle: `p.yaml` -> `c.yaml` -> `p.yaml`",
        ),
    ];
    for (text, expected) in cases {
        let dir = Dir::new();
        dir.write("c.yaml", "name: c\ninclude: [p.yaml]\n");
        let profile = dir.write("p.yaml", text);
        let data = dir.data(3);
        let trace = dir.path("trace.jsonl").to_str().unwrap().to_string();
        for args in [
            vec!["batch", "--sim", "iso7816", "--data", &data, &profile],
            vec!["run", "--sim", "iso7816", "--trace-file", &trace, &profile],
            vec!["check", &profile],
        ] {
            let r = dir.run(&args);
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            let message = r
                .stderr
                .replace(&format!("{}/", dir.dir.path().display()), "");
            assert!(
                message.starts_with(&format!("error: {expected}")),
                "{args:?}: {message}"
            );
            assert_eq!(r.stdout, "", "{args:?}");
        }
        assert!(
            !dir.path("p.journal.jsonl").exists(),
            "a journal was created"
        );
        let sent = std::fs::read_to_string(&trace).unwrap_or_default();
        assert_eq!(sent, "", "something was sent to the card");
    }
}

#[test]
fn check_and_run_a_profile_once() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let r = dir.run(&["check", &profile]);
    assert_eq!(r.code, 2, "serial is only known with data: {}", r.stderr);
    let data = dir.data(2);
    let r = dir.run(&["check", "--data", &data, &profile]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(": ok (5 steps, hash "), "{}", r.stdout);
    let r = dir.run(&[
        "run",
        "--sim",
        "iso7816",
        "--var",
        "serial=CAFEBABE",
        &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("9000"), "{}", r.stdout);
    assert!(r.stdout.contains("ok: 5 steps in"), "{}", r.stdout);
    // The read-back check fails when the serial is not what the script expects.
    let r = dir.run(&[
        "run",
        "--sim",
        "iso7816",
        "--var",
        "serial=cafebabe",
        &profile,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let prefix = format!("{}/", dir.dir.path().display());
    assert_eq!(
        r.stderr.replace(&prefix, ""),
        "error: t.yaml:16: step 5 `spin`: script threw: read back CAFEBABE (t.yaml:21)\n"
    );
}

#[test]
fn run_with_data_and_row_runs_that_row_on_one_card() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.write("d.csv", "serial\n00000001\nCAFEBABE\n00000003\n");
    let state = dir.path("card.json");
    let state = state.to_str().unwrap();
    let r = dir.run(&[
        "run",
        "--sim",
        "iso7816",
        "--sim-state",
        state,
        "--data",
        &data,
        "--row",
        "2",
        &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("ok: 5 steps in"), "{}", r.stdout);
    assert!(r.stdout.contains(", data row 2"), "{}", r.stdout);
    // The card holds row 2's serial.
    let script = dir.write(
        "read.rhai",
        "iso::select(\"3F00/0010\"); print(hex(iso::read_binary(0, 4)));",
    );
    let r = dir.run(&["run", "--sim", "iso7816", "--sim-state", state, &script]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "CAFEBABE\n");
    // `${row}` is the row's number, as in a batch.
    let rows = dir.write(
        "rows.yaml",
        "name: rows\nsteps:\n  - script: if row != 3 { throw `row ${row}`; }\n",
    );
    let r = dir.run(&[
        "run", "--sim", "iso7816", "--data", &data, "--row", "3", &rows,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // No journal is written: this is not a batch.
    assert!(!dir.path("t.journal.jsonl").exists());
}

#[test]
fn run_with_data_refuses_a_missing_or_absent_row() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.write("d.csv", "serial\n00000001\n00000002\n");
    for row in ["0", "3", "99"] {
        let r = dir.run(&[
            "run", "--sim", "iso7816", "--data", &data, "--row", row, &profile,
        ]);
        assert_eq!(r.code, 2, "row {row}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("--row {row}: `"))
                && r.stderr.contains("d.csv` has 2 data rows"),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
    let r = dir.run(&["run", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("d.csv` needs --row N: `run` personalises one card with one row (1..=2)")
            && r.stderr.contains("apdu-run batch --data"),
        "{}",
        r.stderr
    );
    let r = dir.run(&["run", "--sim", "iso7816", "--row", "1", &profile]);
    assert_eq!(r.code, 2, "--row without --data: {}", r.stderr);
    let script = dir.write("s.rhai", "print(1);");
    let r = dir.run(&[
        "run", "--sim", "iso7816", "--data", &data, "--row", "1", &script,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("apply to YAML profiles only"),
        "{}",
        r.stderr
    );
    // A bad value in the row is refused before the card, as a batch refuses it.
    let bad = dir.write("bad.csv", "serial\n0000000G\n");
    let r = dir.run(&[
        "run", "--sim", "iso7816", "--data", &bad, "--row", "1", &profile,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// The `apdu-run batch …` command in a profile's header comment, as words, with paths under
/// `profiles/` made absolute (the test runs in a scratch directory that holds the journal).
fn documented_batch(text: &str, root: &Path) -> Vec<String> {
    let line = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| {
            l.trim_start_matches('#')
                .trim()
                .strip_prefix("apdu-run batch ")
        })
        .expect("shipped profiles document their batch command");
    std::iter::once("batch".to_string())
        .chain(
            line.split_whitespace()
                .map(|word| match word.strip_prefix("profiles/") {
                    Some(rest) => root.join(rest).to_string_lossy().into_owned(),
                    None => word.to_string(),
                }),
        )
        .collect()
}

#[test]
fn every_shipped_profile_runs_against_the_simulator_with_its_data() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut ran = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let profile = entry.unwrap().path();
        if profile.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&profile).unwrap();
        // Profiles whose keys live in a PKCS#11 token run in `keys.rs`, with a token.
        if text.contains("pkcs11:") {
            continue;
        }
        let args = documented_batch(&text, &root);
        assert!(
            args.iter().any(|a| a == "--sim"),
            "{}: the batch command must use --sim",
            profile.display()
        );
        let value = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .map(|i| args[i + 1].clone())
        };
        let data = value("--data").expect("shipped profiles come with data");
        let rows = std::fs::read_to_string(&data).unwrap().lines().count() - 1;
        let cards = value("--count").map_or(rows, |n| n.parse::<usize>().unwrap().min(rows));
        let dir = Dir::new();
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = dir.run(&words);
        let name = profile.display();
        assert_eq!(r.code, 0, "{name}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(&format!("{cards} ok, 0 failed")),
            "{name}: {}",
            r.stdout
        );
        let stem = profile.file_stem().unwrap().to_str().unwrap();
        let journal = dir.path(&format!("{stem}.journal.jsonl"));
        assert_eq!(check_journal(&read_lines(&journal)).ok_rows.len(), cards);
        ran += 1;
    }
    assert!(
        ran >= 3,
        "iso7816_perso, ultralight_ticket and classic_wallet are shipped"
    );
}

#[test]
fn an_unarmed_batch_of_an_irreversible_profile_refuses_before_the_first_card() {
    let dir = Dir::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let profile = root.join("profiles/ultralight_ticket.yaml");
    let data = root.join("profiles/tickets.csv");
    let r = dir.run(&[
        "batch",
        "--sim",
        "ultralight",
        "--count",
        "2",
        "--data",
        data.to_str().unwrap(),
        profile.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("only with --arm-irreversible"),
        "{}",
        r.stderr
    );
    assert!(
        !dir.path("ultralight_ticket.journal.jsonl").exists(),
        "no card was touched, no row used"
    );
}

#[test]
fn the_iso7816_profile_runs_over_t0_and_keeps_its_pin_out_of_the_journal() {
    let dir = Dir::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let profile = root.join("profiles/iso7816_perso.yaml");
    let data = root.join("profiles/iso7816_perso.csv");
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816-t0",
        "--data",
        data.to_str().unwrap(),
        profile.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("5 ok, 0 failed"), "{}", r.stdout);
    // Secrets never reach the journal: the PIN `1234` is 31323334.
    let text = std::fs::read_to_string(dir.path("iso7816_perso.journal.jsonl")).unwrap();
    assert!(!text.contains("31323334"));
}

#[test]
fn no_auto_response_reaches_profile_runs_and_batches() {
    // On the T=0 card, reading 0x20 bytes of the 16-byte EF 2F00 is answered `6C10`; the
    // runner resends with Le 10 unless told not to.
    let dir = Dir::new();
    let profile = dir.write(
        "t0.yaml",
        "name: t0\nsteps:\n  - apdu: 00 A4 08 0C 02 2F 00\n  - apdu: 00 B0 00 00 20\n    expect: \"6C10\"\n",
    );
    for args in [
        vec!["run", "--sim", "iso7816-t0"],
        vec!["batch", "--sim", "iso7816-t0", "--count", "1"],
    ] {
        let r = dir.run(&[&args[..], &[&profile[..]]].concat());
        assert_eq!(r.code, 1, "{args:?}: {}\n{}", r.stdout, r.stderr);
        let said = format!("{}{}", r.stdout, r.stderr);
        assert!(said.contains("expected 6C10, card answered 9000"), "{said}");
        std::fs::remove_file(dir.path("t0.journal.jsonl")).ok();
        let r = dir.run(&[&args[..], &["--no-auto-response", &profile[..]]].concat());
        assert_eq!(r.code, 0, "{args:?}: {}\n{}", r.stdout, r.stderr);
    }
}
