//! `--record FILE.dump`: the apdu4j dump of a run, masked like a trace, owner-only when
//! secrets are shown, refused where it cannot be written.

use crate::{apdu_run, script};

const PIN_SCRIPT: &str = r#"
iso::select("3F00/0010");
iso::verify(1, "1234");
send("00 B0 00 00 04");
"#;

fn record(extra: &[&str]) -> (crate::Ran, String, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "t.rhai", PIN_SCRIPT);
    let dump = dir.path().join("run.dump");
    let mut args = vec!["--sim", "iso7816", "--record", dump.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    let r = apdu_run(&args);
    let text = std::fs::read_to_string(&dump).unwrap_or_default();
    (r, text, dump, dir)
}

fn hex_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with('#')).collect()
}

#[test]
fn a_run_is_recorded_in_the_dump_format_with_the_pin_masked() {
    let (r, text, _, _dir) = record(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        text.contains("\n# ATR: 3B8A8131FE458068415044552D52554E0D\n"),
        "{text}"
    );
    assert!(text.contains("\n# PROTOCOL: T=1\n"), "{text}");
    let lines = hex_lines(&text);
    assert_eq!(lines.len() % 2, 0, "{text}");
    // The VERIFY's PIN (31 32 33 34) is zeros, with the comment saying which bytes.
    assert!(
        text.contains("# Masked: 5..9\n002000010400000000\n"),
        "{text}"
    );
    assert!(!text.contains("31323334"), "{text}");
}

#[test]
fn shown_secrets_are_recorded_in_an_owner_only_file() {
    let (r, text, dump, _dir) = record(&["--show-secrets"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(text.contains("\n002000010431323334\n"), "{text}");
    assert!(!text.contains("# Masked"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dump).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
}

#[test]
fn a_record_path_that_cannot_be_written_is_refused_before_the_card() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "t.rhai", PIN_SCRIPT);
    let r = apdu_run(&[
        "--sim",
        "iso7816",
        "--record",
        dir.path().to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--record"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn a_recorded_demo_replays_with_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("demo.dump");
    let demo = "scripts/iso7816_demo.rhai";
    let live = apdu_run(&["--sim", "iso7816", "--record", dump.to_str().unwrap(), demo]);
    assert_eq!(live.code, 0, "{}", live.stderr);
    for spec in ["replay:", "replay-skip:"] {
        let sim = format!("{spec}{}", dump.display());
        let replayed = apdu_run(&["--sim", &sim, demo]);
        assert_eq!(replayed.code, 0, "{}", replayed.stderr);
        assert_eq!(replayed.stdout, live.stdout);
    }
}

/// A dump as apdu4j writes one (readers-and-keys.md §8), by hand.
const PUBLISHED: &str = "# Generated on Thu Dec 03 07:00:00 UTC 2026 by apdu4j\n\
# Using APDUReplay terminal 0\n\
# ATR: 3BF81300008131FE15597562696B657934D4\n\
# PROTOCOL: T=1\n\
#\n\
# Sent\n\
00A4040000\n\
# Received in 12ms\n\
6F108408A000000151000000A5049F6501FF9000\n\
# Sent\n\
80CA9F7F00\n\
# Received in 3ms\n\
6A88\n";

#[test]
fn a_hand_written_dump_round_trips_through_replay_and_record() {
    let dir = tempfile::tempdir().unwrap();
    let given = dir.path().join("given.dump");
    std::fs::write(&given, PUBLISHED).unwrap();
    let again = dir.path().join("again.dump");
    let file = script(
        dir.path(),
        "t.rhai",
        "send(\"00 A4 04 00 00\");\nsend(\"80 CA 9F 7F 00\");\n",
    );
    let sim = format!("replay:{}", given.display());
    let r = apdu_run(&[
        "--sim",
        &sim,
        "--no-auto-response",
        "--record",
        again.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let again = std::fs::read_to_string(&again).unwrap();
    assert_eq!(hex_lines(&again), hex_lines(PUBLISHED), "{again}");
    assert!(again.contains("\n# ATR: 3BF81300008131FE15597562696B657934D4\n"));
    assert!(again.contains("\n# PROTOCOL: T=1\n"));
}

#[test]
fn a_command_off_the_record_names_both() {
    let dir = tempfile::tempdir().unwrap();
    let given = dir.path().join("given.dump");
    std::fs::write(&given, PUBLISHED).unwrap();
    let file = script(dir.path(), "t.rhai", "send(\"00 A4 04 00 02 3F 00\");\n");
    let sim = format!("replay:{}", given.display());
    let r = apdu_run(&["--sim", &sim, file.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("expected 00 A4 04 00 00 (dump line 7) but got 00 A4 04 00 02 3F 00"),
        "{}",
        r.stderr
    );
    // A dump that is not one is invalid input, named by line.
    std::fs::write(&given, PUBLISHED.replace("6A88\n", "")).unwrap();
    let r = apdu_run(&["--sim", &sim, file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("given.dump:11:1: command without a response"),
        "{}",
        r.stderr
    );
}

/// scriptor's output (pcsc-tools), as it prints a reset and two commands.
const SCRIPTOR_LOG: &str = "Using given card reader: Simulated reader (iso7816)\n\
Using T=1 protocol\n\
Reading commands from STDIN\n\
> RESET\n\
< OK: 3B 8A 81 31 FE 45 80 68 41 50 44 55 2D 52 55 4E 0D \n\
> 00 A4 04 00 00\n\
< 6F 02 84 00 90 00 : Normal processing.\n\
> 80 CA 9F 7F 00\n\
< 6A 88 : Wrong parameter(s) P1-P2. Referenced data not found.\n";

#[test]
fn an_imported_scriptor_log_replays() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("scriptor.log");
    std::fs::write(&log, SCRIPTOR_LOG).unwrap();
    let dump = dir.path().join("imported.dump");
    let r = apdu_run(&[
        "replay",
        "import",
        "--from",
        "scriptor",
        log.to_str().unwrap(),
        "-o",
        dump.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("2 exchanges"), "{}", r.stdout);
    let file = script(
        dir.path(),
        "t.rhai",
        "let r = send(\"00 A4 04 00 00\");\nprint(r.sw);\nsend(\"80 CA 9F 7F 00\");\n",
    );
    let sim = format!("replay:{}", dump.display());
    let r = apdu_run(&["--sim", &sim, "--no-auto-response", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // An unknown format, and a log without an ATR, are invalid input.
    let r = apdu_run(&[
        "replay",
        "import",
        "--from",
        "apdu4j",
        log.to_str().unwrap(),
        "-o",
        dump.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    std::fs::write(&log, "> 00 A4 04 00 00\n< 90 00\n").unwrap();
    let r = apdu_run(&[
        "replay",
        "import",
        "--from",
        "scriptor",
        log.to_str().unwrap(),
        "-o",
        dump.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--atr"), "{}", r.stderr);
}

#[test]
fn a_recorded_profile_run_replays_with_the_same_steps() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("perso.dump");
    let base = [
        "--data",
        "profiles/iso7816_perso.csv",
        "--row",
        "2",
        "profiles/iso7816_perso.yaml",
    ];
    let mut live_args = vec![
        "run",
        "--sim",
        "iso7816",
        "--record",
        dump.to_str().unwrap(),
    ];
    live_args.extend(base);
    let live = apdu_run(&live_args);
    assert_eq!(live.code, 0, "{}", live.stderr);
    let sim = format!("replay:{}", dump.display());
    let mut replay_args = vec!["run", "--sim", &sim];
    replay_args.extend(base);
    let replayed = apdu_run(&replay_args);
    assert_eq!(replayed.code, 0, "{}", replayed.stderr);
    // Step lines without their timings: the status words and names are the same.
    let steps = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| {
                l.split_whitespace()
                    .filter(|w| w.parse::<f64>().is_err() && *w != "ms")
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(steps(&replayed.stdout), steps(&live.stdout));
    assert!(!live.stdout.is_empty());
}
