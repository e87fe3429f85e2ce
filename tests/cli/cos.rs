//! The file-card COS end to end: batches of blank simulated cards issued by the shipped
//! profile and validated by the separate script, the secrets masked, wrong keys and PINs
//! blocking as README documents, and the irreversible lock refused unless armed.

use super::{apdu_run, run_sim, trace_hex};

const INSTALL: &str = "415044552D52554E20494E5354414C4C";
const ISSUER: &str = "00112233445566778899AABBCCDDEEFF";
const APP: &str = "0F1E2D3C4B5A69788796A5B4C3D2E1F0";

fn ends(journal: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["event"] == "end")
        .collect()
}

#[test]
fn a_batch_issues_blank_cards_that_the_validation_script_accepts() {
    for kind in ["cos", "cos-t1"] {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let r = apdu_run(&[
            "batch",
            "--sim",
            kind,
            "--count",
            "3",
            "--arm-irreversible",
            "--data",
            "profiles/cos_issue.csv",
            "--journal",
            journal.to_str().unwrap(),
            "profiles/cos_issue.yaml",
        ]);
        assert_eq!(r.code, 0, "{kind}: {}{}", r.stdout, r.stderr);
        let ends = ends(&journal);
        assert_eq!(ends.len(), 3, "{kind}");
        assert!(ends.iter().all(|e| e["verdict"] == "ok"), "{ends:?}");
        // Each card validated with its own serial and its row's holder.
        for (serial, holder) in [
            ("10000000", "Ada Lovelace"),
            ("10000001", "Alan Turing"),
            ("10000002", "Grace Hopper"),
        ] {
            let line = format!("card {serial}: genuine, PIN right, holder {holder}");
            assert!(r.stdout.contains(&line), "{kind}: {}", r.stdout);
        }
        for key in [INSTALL, ISSUER, APP] {
            assert!(!r.stdout.contains(key) && !r.stderr.contains(key));
        }
    }
    // Unarmed, the batch refuses before the first card.
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let r = apdu_run(&[
        "batch",
        "--sim",
        "cos",
        "--data",
        "profiles/cos_issue.csv",
        "--journal",
        journal.to_str().unwrap(),
        "profiles/cos_issue.yaml",
    ]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("cos-key-lock"), "{}", r.stderr);
}

const ISSUE: &str = r#"
    let install = secret("env:COS_TEST_INSTALL");
    let issuer = secret("env:COS_TEST_ISSUER");
    let app = secret("env:COS_TEST_APP");
    cos::external_auth(0, install);
    cos::create_file(#{ type: "df", fid: "5000", name: "A0 00 00 02 47 10 01", create: "key 0", delete: "key 0" });
    cos::create_file(#{ type: "keys", fid: "0000", write: "key 0" });
    cos::install_key(0, issuer, install);
    cos::external_auth(0, issuer);
    cos::install_key(1, app, issuer);
    cos::install_pin(1, secret_text("env:COS_TEST_PIN"), issuer);
    cos::change_pin(1, secret_text("env:COS_TEST_PIN"), "2468");
    cos::internal_auth(1, app);
"#;

#[test]
fn keys_and_pins_never_reach_the_trace_or_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let script = super::script(dir.path(), "issue.rhai", ISSUE);
    let r = super::ran(
        super::bin()
            .env("COS_TEST_INSTALL", INSTALL)
            .env("COS_TEST_ISSUER", ISSUER)
            .env("COS_TEST_APP", APP)
            .env("COS_TEST_PIN", "4711")
            .args(["--sim", "cos-t1", "--trace", "--trace-file"])
            .arg(&trace)
            .arg(&script)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&trace).unwrap();
    for key in [INSTALL, ISSUER, APP, "34373131", "32343638"] {
        let spaced: Vec<String> = key
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        for shown in [key.to_string(), spaced.join(" ")] {
            assert!(!text.contains(&shown), "{shown} in the trace");
            assert!(!r.stderr.contains(&shown) && !r.stdout.contains(&shown));
        }
    }
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sent = trace_hex(&lines, ">>");
    // The cryptograms, the enciphered blocks and CHANGE PIN's data are masked whole.
    for prefix in ["0082000008", "805C0200", "805C0201", "805E0201", "005E0001"] {
        let line = sent
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: {sent:?}"));
        assert!(line.contains("(secret)"), "{line}");
    }
}

/// Runs `script` on a copy of the shipped issued card, `times` times; the stderr of each.
fn on_issued_card(script: &str, times: usize, armed: bool) -> Vec<(i32, String)> {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    std::fs::copy("scripts/cos_demo_issued.json", &state).unwrap();
    let file = super::script(dir.path(), "t.rhai", script);
    (0..times)
        .map(|_| {
            let mut args = vec!["--sim", "cos", "--sim-state", state.to_str().unwrap()];
            if armed {
                args.push("--arm-irreversible");
            }
            args.push(file.to_str().unwrap());
            let r = apdu_run(&args);
            (r.code, format!("{}{}", r.stdout, r.stderr))
        })
        .collect()
}

#[test]
fn wrong_pins_and_keys_block_as_documented() {
    let verify = |pin: &str| {
        format!(
            r#"iso::select_aid("A0 00 00 02 47 10 01"); iso::select("0101"); iso::verify(1, "{pin}");"#
        )
    };
    // Three wrong PINs (63C2, 63C1, 63C0), then even the right one is blocked.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    std::fs::copy("scripts/cos_demo_issued.json", &state).unwrap();
    let run = |script: &str| {
        let file = super::script(dir.path(), "t.rhai", script);
        let r = apdu_run(&[
            "--sim",
            "cos",
            "--sim-state",
            state.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
        (r.code, r.stderr)
    };
    for sw in ["63C2", "63C1", "63C0"] {
        let (code, stderr) = run(&verify("0000"));
        assert_eq!(code, 1);
        assert!(stderr.contains(&format!("card answered {sw}")), "{stderr}");
    }
    let (code, stderr) = run(&verify("4711"));
    assert_eq!(code, 1);
    assert!(stderr.contains("card answered 6983"), "{stderr}");
    // The issuer unlocks the PIN; then it verifies again.
    let unlock = format!(
        r#"iso::select_aid("A0 00 00 02 47 10 01"); cos::external_auth(0, "{ISSUER}"); cos::unlock_pin(1);"#
    );
    assert_eq!(run(&unlock), (0, String::new()));
    assert_eq!(run(&verify("4711")).0, 0);

    // A wrong issuer key: 63C2, 63C1; the last try is refused unless armed (exit 4, nothing
    // sent but the counter query); armed, 63C0, and then 6983 even for the right key.
    let wrong = r#"iso::select_aid("A0 00 00 02 47 10 01"); cos::external_auth(0, "33333333333333333333333333333333");"#;
    let runs = on_issued_card(wrong, 4, false);
    let codes: Vec<i32> = runs.iter().map(|(code, _)| *code).collect();
    assert_eq!(codes, [1, 1, 4, 4], "{runs:?}");
    assert!(runs[0].1.contains("card answered 63C2"), "{runs:?}");
    assert!(runs[1].1.contains("card answered 63C1"), "{runs:?}");
    assert!(runs[2].1.contains("key 0 has one try left"), "{runs:?}");
    let sequence = format!(
        r#"
        iso::select_aid("A0 00 00 02 47 10 01");
        print(cos::key_tries(0));
        for i in 0..3 {{
            try {{ cos::external_auth(0, "33333333333333333333333333333333"); }} catch (e) {{ print(e); }}
        }}
        print(cos::key_tries(0));
        cos::external_auth(0, "{ISSUER}");
        "#
    );
    let (code, output) = on_issued_card(&sequence, 1, true).remove(0);
    assert_eq!(code, 1);
    assert!(output.starts_with("3\n"), "{output}");
    for sw in ["63C2", "63C1", "63C0", "6983"] {
        assert!(output.contains(&format!("card answered {sw}")), "{output}");
    }
    assert!(output.contains("\n0\n"), "{output}");
    // The install key is locked for good: no counter, always 6983.
    let install = format!(r#"cos::external_auth(0, "{INSTALL}");"#);
    let (code, output) = on_issued_card(&install, 1, false).remove(0);
    assert_eq!(code, 1);
    assert!(
        output.contains("card answered 6983 (key or PIN blocked (or locked for good))"),
        "{output}"
    );
    // A wrong application key: the card's cryptogram is not the expected one (nothing counts).
    let (code, output) = on_issued_card(
        r#"iso::select_aid("A0 00 00 02 47 10 01"); cos::internal_auth(1, "33333333333333333333333333333333");"#,
        1,
        false,
    )
    .remove(0);
    assert_eq!(code, 1);
    assert!(
        output.contains("the card does not hold that key"),
        "{output}"
    );
}

#[test]
fn the_lock_is_refused_unarmed_in_the_api_and_at_the_wire() {
    // The issuance script refuses before its first command.
    let (r, trace) = run_sim(
        "cos",
        &std::fs::read_to_string("scripts/cos_issue.rhai").unwrap(),
        &[
            "--var",
            "holder=Ada",
            "--var",
            "pin=4711",
            "--var",
            "install_source=file:scripts/cos_demo_install.key",
            "--var",
            "issuer_source=file:scripts/cos_demo_issuer.key",
            "--var",
            "app_source=file:scripts/cos_demo_app.key",
        ],
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(trace.is_empty(), "{trace:?}");
    // A raw LOCK KEY, however wrapped, is refused by the guard and never sent.
    for apdu in ["80 5C 03 00", "00 5C 03 01"] {
        let (r, trace) = run_sim("cos", &format!(r#"send("{apdu}");"#), &[]);
        assert_eq!(r.code, 4, "{}", r.stderr);
        assert!(r.stderr.contains("locks it for good"), "{}", r.stderr);
        assert!(r.stderr.contains("pass --arm-irreversible"), "{}", r.stderr);
        assert!(trace_hex(&trace, ">>").is_empty());
    }
    let (r, _) = run_sim(
        "cos",
        r#"send("80 F2 01 FF 07 00 01 00 04 00 20 00");"#,
        &[],
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("nothing can remove"), "{}", r.stderr);
}
