//! The clock: `today()` and `now()` in scripts, `${today}` in profiles, UTC, and the
//! `--var today=YYYY-MM-DD` override. Expectations read the system clock themselves (a test
//! that straddles midnight accepts either date), or fix the date.

use apdu_run::clock;

use super::{apdu_run, run_sim, script, trace_hex};

/// The UTC dates before and after `f` runs, and what it returned.
fn around<T>(f: impl FnOnce() -> T) -> ([String; 2], T) {
    let before = clock::today().to_string();
    let out = f();
    let after = clock::today().to_string();
    ([before, after], out)
}

#[test]
fn scripts_read_the_utc_date_and_time_unless_the_date_is_fixed() {
    let source = "print(today()); print(now());";
    let (dates, (r, _)) = around(|| run_sim("iso7816", source, &[]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(dates.contains(&lines[0].to_string()), "{lines:?} {dates:?}");
    let now = lines[1];
    assert_eq!(now.len(), 20, "{now}");
    assert!(now.ends_with('Z') && &now[10..11] == "T", "{now}");
    assert!(dates.iter().any(|d| now.starts_with(d.as_str())), "{now}");

    let (r, _) = run_sim("iso7816", source, &["--var", "today=2026-03-14"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("2026-03-14\n"), "{}", r.stdout);
}

#[test]
fn a_malformed_or_impossible_date_override_exits_2_before_any_card() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        dir.path(),
        "t.rhai",
        "send(\"00 A4 00 0C 02 3F 00\"); print(today());",
    );
    let file = file.to_str().unwrap();
    for (value, why) in [
        ("2026-3-14", "expected YYYY-MM-DD"),
        ("14.03.2026", "expected YYYY-MM-DD"),
        ("2026-02-29", "no such day"),
    ] {
        let var = format!("today={value}");
        for args in [
            vec!["--sim", "iso7816", "--var", &var, file],
            vec!["check", "--var", &var, file],
            vec![
                "batch",
                "--sim",
                "ultralight",
                "--arm-irreversible",
                "--data",
                "profiles/tickets.csv",
                "--var",
                &var,
                "profiles/ultralight_ticket.yaml",
            ],
        ] {
            let r = apdu_run(&args);
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            assert_eq!(
                r.stderr,
                format!("error: --var `{var}`: `{value}` is not a date: {why}\n"),
                "{args:?}"
            );
        }
    }
}

#[test]
fn profiles_send_today_as_bcd_and_scripts_see_it_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let profile = script(
        dir.path(),
        "p.yaml",
        "name: t\ncard: iso7816\nsteps:\n  - apdu: 00 A4 00 0C 02 00 10\n  - apdu: 00 20 00 01 04 31 32 33 34\n  - apdu: 00 D6 00 00 04 ${today}\n  - apdu: 00 B0 00 00 04\n    response: ${today}\n  - script: print(today);\n",
    );
    let profile = profile.to_str().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let trace_path = trace.to_str().unwrap();
    let run = |extra: &[&str]| {
        let _ = std::fs::remove_file(&trace);
        let args = [
            &["run", "--sim", "iso7816", "--trace-file", trace_path][..],
            extra,
            &[profile],
        ]
        .concat();
        let r = apdu_run(&args);
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&trace)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (r, trace_hex(&lines, ">>"))
    };
    let (r, sent) = run(&["--var", "today=2026-03-14"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sent[3], "00D600000420260314", "{sent:?}");
    assert!(r.stdout.starts_with("2026-03-14\n"), "{}", r.stdout);

    let (dates, (r, sent)) = around(|| run(&[]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bcd: Vec<String> = dates
        .iter()
        .map(|d| format!("00D6000004{}", d.replace('-', "")))
        .collect();
    assert!(bcd.contains(&sent[3]), "{sent:?} {dates:?}");
    let printed = r.stdout.lines().next().unwrap_or_default().to_string();
    assert!(dates.contains(&printed), "{}", r.stdout);
}

#[test]
fn the_ticket_profile_issues_tickets_dated_today() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("t.journal.jsonl");
    let (dates, r) = around(|| {
        apdu_run(&[
            "batch",
            "--sim",
            "ultralight",
            "--count",
            "1",
            "--arm-irreversible",
            "--journal",
            journal.to_str().unwrap(),
            "--data",
            "profiles/tickets.csv",
            "profiles/ultralight_ticket.yaml",
        ])
    });
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        dates
            .iter()
            .any(|d| r.stdout.contains(&format!("valid {d} to "))),
        "{dates:?}: {}",
        r.stdout
    );
    let _ = std::fs::remove_file(&journal);
    let r = apdu_run(&[
        "batch",
        "--sim",
        "ultralight",
        "--count",
        "1",
        "--arm-irreversible",
        "--journal",
        journal.to_str().unwrap(),
        "--data",
        "profiles/tickets.csv",
        "--var",
        "today=2026-03-14",
        "profiles/ultralight_ticket.yaml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("valid 2026-03-14 to 2026-03-20"),
        "{}",
        r.stdout
    );
}

#[test]
fn today_has_four_bytes_before_any_card_and_is_no_profile_variable() {
    let dir = tempfile::tempdir().unwrap();
    let short = script(
        dir.path(),
        "len.yaml",
        "name: t\nsteps:\n  - apdu: 00 D6 00 00 03 ${today}\n",
    );
    let r = apdu_run(&["check", short.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("len.yaml:3:26: step 1: Lc says 3 data bytes")
            && r.stderr.contains("(`${today}` gives 4 byte(s))"),
        "{}",
        r.stderr
    );
    let clash = script(
        dir.path(),
        "var.yaml",
        "name: t\nvars: { today: \"2026-03-14\" }\nsteps:\n  - apdu: 00 D6 00 00 04 ${today}\n",
    );
    let r = apdu_run(&["check", clash.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .ends_with("var.yaml:2:9: variable `today` clashes with the built-in `today`\n"),
        "{}",
        r.stderr
    );
}
