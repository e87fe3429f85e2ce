//! The core runner: `run`, `check`, `sw`, `readers`, traces, exit codes, shipped scripts.

use std::path::Path;

use super::{
    apdu_run, bin, documented_command, ran, run_sim, script, shipped_scripts, trace_hex,
    with_copied_state,
};

#[test]
fn sw_explains_status_words() {
    let r = apdu_run(&["sw", "6A82"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            0,
            "6A82  file or application not found\n      \
             PC/SC Part 3 reader command (CLA FF): illegal block number (file not found)\n"
        )
    );
    let r = apdu_run(&["sw", "63", "C2"]);
    assert_eq!(
        r.stdout,
        "63C2  verification failed, 2 tries left (counter 2)\n"
    );
    let r = apdu_run(&["sw", "6A8"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: status word `6A8`: column 3: odd number of hex digits (3)\n"
    );
    let r = apdu_run(&["sw", "6Z82"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "error: status word `6Z82`: column 2: `Z` is not a hex digit\n"
        )
    );
    assert_eq!(apdu_run(&["sw", "900000"]).code, 2);
}

#[test]
fn check_compiles_without_a_card() {
    let dir = tempfile::tempdir().unwrap();
    let good = script(dir.path(), "good.rhai", "send(\"00 A4 00 00\");\n");
    let r = apdu_run(&["check", good.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bad = script(dir.path(), "bad.rhai", "let a = 1;\nlet = send(\"00\");\n");
    let r = apdu_run(&["check", bad.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with(&format!("error: {}:2:5: ", bad.display())),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let r = apdu_run(&["check", "no/such/file.rhai"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no/such/file.rhai: cannot read script"),
        "{}",
        r.stderr
    );
}

#[test]
fn syntax_errors_exit_2_before_any_apdu() {
    let (r, trace) = run_sim("iso7816", "send(\"00 A4 00 00\");\nlet x = ;\n", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("t.rhai:2:9:"), "{}", r.stderr);
    assert!(trace.is_empty());
}

#[test]
fn demo_runs_on_both_transports_and_the_shorthand() {
    for kind in ["iso7816", "iso7816-t0"] {
        let r = apdu_run(&["run", "--sim", kind, "scripts/iso7816_demo.rhai"]);
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
        assert!(
            r.stdout
                .contains("EF 0010: updated after the PIN, reads back CAFEBABE"),
            "{}",
            r.stdout
        );
        let r = apdu_run(&["--sim", kind, "scripts/iso7816_demo.rhai"]);
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
    }
}

#[test]
fn malformed_apdus_fail_with_position_and_send_nothing() {
    let cases = [
        (
            "send(\"00 A4 0G 00\");",
            "t.rhai:1:1: send: bad hex `00 A4 0G 00`: column 8: `G` is not a hex digit",
        ),
        (
            "send(\"00 A4 00 0\");",
            "column 10: odd number of hex digits (7)",
        ),
        (
            "send(\"00 A4 00 0C 03 3F 00\");",
            "Lc says 3 data bytes but 2 follow the header",
        ),
        ("send(\"00 A4\");", "APDU too short: 2 bytes"),
        (
            "send(blob(65545, 0));",
            "APDU too long: 65545 bytes, the limit is 65544",
        ),
    ];
    for (text, message) in cases {
        let (r, trace) = run_sim("iso7816", text, &[]);
        assert_eq!(r.code, 1, "{text}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{text}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(trace.is_empty(), "{text}: something was sent");
    }
}

#[test]
fn bad_arguments_exit_2() {
    let r = apdu_run(&["--sim", "classic-9k", "scripts/iso7816_demo.rhai"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("classic-9k"), "{}", r.stderr);
    let r = apdu_run(&[
        "--sim",
        "iso7816",
        "--var",
        "9x=1",
        "scripts/iso7816_demo.rhai",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("`9x` is not a valid variable name"),
        "{}",
        r.stderr
    );
    let r = apdu_run(&[
        "--sim",
        "iso7816",
        "--var",
        "novalue",
        "scripts/iso7816_demo.rhai",
    ]);
    assert_eq!(r.code, 2);
    let r = apdu_run(&[
        "--sim",
        "iso7816",
        "--sim-uid",
        "04A",
        "scripts/iso7816_demo.rhai",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--sim-uid `04A`"), "{}", r.stderr);
    let r = apdu_run(&["--sim", "iso7816", "missing.rhai"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.rhai"), "{}", r.stderr);
    let r = apdu_run(&["run", "--frobnicate", "x.rhai"]);
    assert_eq!(r.code, 2);
}

#[test]
fn more_bad_input_exits_2_saying_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let missing = at("no/such/dir/trace.jsonl");
    let profile = script(
        dir.path(),
        "p.yaml",
        "name: p\nsteps:\n  - apdu: 00 A4 00 0C 02 3F 00\n",
    );
    let profile = profile.to_str().unwrap();
    let unreadable = at("d.apdu");
    std::fs::create_dir(&unreadable).unwrap();
    let cases: [(Vec<&str>, String); 5] = [
        (
            vec!["check", "--data", "d.csv", "scripts/iso7816_demo.rhai"],
            "error: --data applies to YAML profiles only".into(),
        ),
        (
            vec!["sw", "90", "00", "00"],
            "error: status word `00`: one byte, and no second byte after it; a status word is \
             2 bytes (4 hex digits)"
                .into(),
        ),
        (
            vec![
                "--sim",
                "iso7816",
                "--trace-file",
                &missing,
                "scripts/iso7816_demo.rhai",
            ],
            format!("error: cannot create trace file `{missing}`: "),
        ),
        (
            vec!["run", "--sim", "iso7816", "--trace-file", &missing, profile],
            "error: cannot create the trace file: ".into(),
        ),
        (
            vec!["check", &unreadable],
            format!("error: {unreadable}: cannot read scriptor file: "),
        ),
    ];
    for (args, message) in &cases {
        let r = apdu_run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with(message.as_str()),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
}

#[test]
fn a_var_without_a_value_is_refused_by_every_subcommand_that_takes_vars() {
    let profile = "profiles/iso7816_perso.yaml";
    for args in [
        vec!["--sim", "iso7816", "scripts/iso7816_demo.rhai"],
        vec!["run", "--sim", "iso7816", profile],
        vec!["check", profile],
        vec!["batch", "--sim", "iso7816", "--count", "1", profile],
    ] {
        let r = apdu_run(&[&args[..], &["--var", "novalue"]].concat());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr, "error: --var `novalue`: expected NAME=VALUE\n",
            "{args:?}"
        );
    }
}

#[test]
fn an_unknown_reader_is_a_transport_error() {
    let r = apdu_run(&["--reader", "No Such Reader 42", "scripts/iso7816_demo.rhai"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("no reader matches `No Such Reader 42`")
            || r.stderr.contains("PC/SC service is not running")
            || r.stderr.contains("no smart-card reader is attached"),
        "{}",
        r.stderr
    );
}

#[test]
fn wrong_pin_twice_then_blocked_persists_in_the_card_image() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    let state = state.to_str().unwrap();
    let wrong = script(dir.path(), "wrong.rhai", "iso::verify(1, \"0000\");\n");
    let right = script(dir.path(), "right.rhai", "iso::verify(1, \"1234\");\n");
    let run = |file: &Path| {
        apdu_run(&[
            "--sim",
            "iso7816",
            "--sim-state",
            state,
            file.to_str().unwrap(),
        ])
    };
    let r = run(&wrong);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("63C2 (verification failed, 2 tries left"),
        "{}",
        r.stderr
    );
    // Module functions fail at their call: `iso::verify` is at line 1, column 6.
    let located = format!("error: {}:1:6: iso::verify: ", wrong.display());
    assert!(r.stderr.starts_with(&located), "{}", r.stderr);
    let r = run(&wrong);
    assert!(r.stderr.contains("63C1"), "{}", r.stderr);
    // The right PIN still works with one try left, and restores the counter.
    assert_eq!(run(&right).code, 0);
    for expected in ["63C2", "63C1", "63C0"] {
        let r = run(&wrong);
        assert!(r.stderr.contains(expected), "{expected}: {}", r.stderr);
    }
    let r = run(&right);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("6983 (authentication method blocked)"),
        "{}",
        r.stderr
    );
    // The PUK unblocks it.
    let unblock = script(
        dir.path(),
        "unblock.rhai",
        "send(\"00 2C 00 01 0C\" + hex(\"12345678\".to_blob()) + hex(\"4321\".to_blob()), \"9000\");\niso::verify(1, \"4321\");\n",
    );
    let r = run(&unblock);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn require_armed_exits_4_before_anything_is_sent() {
    let (r, trace) = run_sim(
        "iso7816",
        "require_armed(\"test\");\nsend(\"00 A4 00 0C 02 3F 00\");",
        &[],
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("t.rhai:1:1: refused: test: this run is not armed"),
        "{}",
        r.stderr
    );
    assert!(trace.is_empty());
    let (r, trace) = run_sim(
        "iso7816",
        "require_armed(\"test\");\nsend(\"00 A4 00 0C 02 3F 00\");",
        &["--arm-irreversible"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(trace.len(), 2);
}

#[test]
fn trace_prints_exchanges_with_meaning_and_masks_pins() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        dir.path(),
        "t.rhai",
        "send(\"00 A4 00 0C 02 3F 00\");\nsend(\"00 A4 00 0C 02 12 34\");\niso::verify(1, \"1234\");\n",
    );
    let r = apdu_run(&["--sim", "iso7816", "--trace", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines[0], ">> 00 A4 00 0C 02 3F 00");
    assert!(
        lines[1].starts_with("<< 90 00  ") && lines[1].ends_with(" ms"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], ">> 00 A4 00 0C 02 12 34");
    assert!(
        lines[3].starts_with("<< 6A 82  ")
            && lines[3].ends_with("ms  file or application not found"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], ">> 00 20 00 01 04 (secret)");
    assert!(!r.stderr.contains("31 32 33 34"));
    let r = apdu_run(&[
        "--sim",
        "iso7816",
        "--trace",
        "--show-secrets",
        file.to_str().unwrap(),
    ]);
    assert!(
        r.stderr.contains(">> 00 20 00 01 04 31 32 33 34"),
        "{}",
        r.stderr
    );
}

#[test]
fn trace_file_is_json_lines() {
    let (r, trace) = run_sim("iso7816", "send(\"00 A4 00 0C 02 12 34\");", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(trace.len(), 2);
    assert_eq!(trace[0]["dir"], ">>");
    assert_eq!(trace[0]["hex"], "00A4000C021234");
    assert!(trace[0]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(trace[1]["dir"], "<<");
    assert_eq!(trace[1]["hex"], "6A82");
    assert_eq!(trace[1]["sw"], "6A82");
    assert_eq!(trace[1]["meaning"], "file or application not found");
    assert!(trace[1]["micros"].is_u64());
}

#[test]
fn t0_card_answers_61xx_and_6cxx_and_the_runner_follows_unless_told_not_to() {
    let text = "let r = send(\"00 A4 04 00 07 A0 00 00 02 47 10 01 00\"); print(r.sw); print(r.data.len() > 0);\nsend(\"00 A4 08 0C 02 2F 00\", \"9000\");\nlet r = send(\"00 B0 00 00 20\"); print(r.sw); print(r.data.len());";
    let (r, trace) = run_sim("iso7816-t0", text, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "36864\ntrue\n36864\n16\n");
    let sent = trace_hex(&trace, ">>");
    assert!(sent[1].starts_with("00C00000"), "{sent:?}");
    assert_eq!(
        &sent[2..],
        ["00A4080C022F00", "00B0000020", "00B0000010"],
        "{sent:?}"
    );
    let (r, _) = run_sim("iso7816-t0", text, &["--no-auto-response"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sws: Vec<u16> = r
        .stdout
        .lines()
        .step_by(2)
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(sws[0] >> 8, 0x61);
    assert_eq!(sws[1], 0x6C10);
}

#[test]
fn every_shipped_script_runs_on_the_simulator_it_names() {
    let mut count = 0;
    for path in shipped_scripts() {
        let dir = tempfile::tempdir().unwrap();
        // A card image the command names is copied, so the shipped one is never rewritten.
        let args = with_copied_state(documented_command(&path), dir.path());
        assert!(
            args.contains(&"--sim".to_string()),
            "{}: the first command must use --sim",
            path.display()
        );
        let r = ran(bin().args(&args).output().unwrap());
        assert_eq!(r.code, 0, "{}: {}", path.display(), r.stderr);
        count += 1;
    }
    assert!(count >= 2);
}
