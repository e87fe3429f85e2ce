//! `run FILE.apdu`: the scriptor format, its echo and its `# expect` lines.

use super::{apdu_run, script};

#[test]
fn runs_a_scriptor_file_and_prints_its_lines() {
    let r = apdu_run(&["--sim", "iso7816", "scripts/iso7816_read.apdu"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "> 00 A4 04 0C 07 A0 00 00 02 47 10 01");
    assert_eq!(lines[1], "< 90 00 : OK");
    assert!(
        r.stdout.contains(
            "> 00 B0 81 00 10\n< 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F\n90 00 : OK\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("> 00 D6 00 00 04 CA FE BA BE\n< 69 82 : security status not satisfied\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("> RESET\n< OK: 3B 8A"), "{}", r.stdout);
}

#[test]
fn a_failed_expectation_exits_1_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        dir.path(),
        "t.apdu",
        "00 A4 00 0C 02 3F 00\n\n00 A4 00 0C 02 12 34\n# expect 9000\n00 A4 00 0C 02 3F 00\n",
    );
    let r = apdu_run(&["--sim", "iso7816", file.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!(
            "error: {}:3: `00 A4 00 0C 02 12 34`: card answered 6A82 (file or application not found), expected 9000\n",
            file.display()
        )
    );
    // The command after the failure was not sent.
    assert_eq!(r.stdout.matches("> ").count(), 2);
}

#[test]
fn bad_lines_exit_2_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "t.apdu", "00 A4 00 0C 02 3F 00\n00 A4 0G 00\n");
    let r = apdu_run(&["--sim", "iso7816", file.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        format!("error: {}:2:8: `G` is not a hex digit\n", file.display())
    );
    assert!(r.stdout.is_empty());
    let r = apdu_run(&["check", file.to_str().unwrap()]);
    assert_eq!(r.code, 2);
}

#[test]
fn pins_are_masked_in_the_echo() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        dir.path(),
        "t.apdu",
        "00 20 00 01 04 31 32 33 34\n# expect 9000\n",
    );
    let r = apdu_run(&["--sim", "iso7816", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("> 00 20 00 01 04 (secret)\n< 90 00 : OK"),
        "{}",
        r.stdout
    );
}

#[test]
fn apdu_files_send_exactly_their_lines_unless_auto_response() {
    let dir = tempfile::tempdir().unwrap();
    // On T=0 the SELECT with FCI answers 61xx; the file's own GET RESPONSE fetches it.
    let file = script(
        dir.path(),
        "t.apdu",
        "00 A4 00 00 02 3F 00\n# expect 61XX\n00 C0 00 00 10\n# expect 9000\n00 B0 00 00 20\n",
    );
    let r = apdu_run(&["--sim", "iso7816-t0", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let answers: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("< ")).collect();
    assert!(answers[0].starts_with("< 61 10"), "{}", r.stdout);
    assert!(answers[1].starts_with("< 62 0E 82 01 38"), "{}", r.stdout);
    // No EF is selected: READ BINARY is answered as it is, not resent.
    assert_eq!(r.stdout.matches("> ").count(), 3, "{}", r.stdout);
    // With --auto-response the runner follows 61xx itself, as before.
    let r = apdu_run(&[
        "--sim",
        "iso7816-t0",
        "--auto-response",
        file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("expected 61XX"), "{}", r.stderr);
}

#[test]
fn a_6cxx_is_not_resent_unless_auto_response() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        dir.path(),
        "t.apdu",
        "00 A4 00 0C 02 2F 00\n00 B0 00 00 20\n# expect 6C10\n",
    );
    let r = apdu_run(&["--sim", "iso7816-t0", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = apdu_run(&[
        "--sim",
        "iso7816-t0",
        "--auto-response",
        file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
}

#[test]
fn an_indented_continuation_is_refused_as_scriptor_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "t.apdu", "00 D6 00 00 04 \\\n   CA FE BA BE\n");
    let r = apdu_run(&["--sim", "iso7816", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(":2:1: a space where a byte should be"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}
