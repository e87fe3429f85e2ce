//! Secrets stay masked wherever their bytes go, without `--show-secrets`: in commands
//! (exactly the bytes a secret filled, whatever its length), in responses (a whole secret,
//! or a piece of 4 or more bytes read back at an offset or in halves), in step names,
//! journal and report, and in error messages (one line, no Rust type paths).

use crate::batch::Dir;
use crate::{apdu_run, run_sim, script, trace_hex};

const KEY: &str = "A1B2C3D4E5F60718";
const SHORT: &str = "5A6B";

/// Writes a key and a 2-byte secret into EF 0010 and reads them back in pieces.
const READ_BACK: &str = r#"
let key = secret("env:APDU_RUN_TEST_KEY");
let short = secret("env:APDU_RUN_TEST_SHORT");
iso::select("3F00/0010");
iso::verify(1, "1234");
iso::update_binary(0, key);
iso::read_binary(2, 6);
iso::read_binary(0, 4);
iso::read_binary(4, 4);
iso::update_binary(16, short);
iso::read_binary(16, 2);
send("00 D6 00 14 02" + short);
"#;

fn with_secrets(args: &[&str], script_text: &str) -> (crate::Ran, Vec<serde_json::Value>) {
    // SAFETY of the test: the variables are read by the child only.
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "t.rhai", script_text);
    let trace = dir.path().join("trace.jsonl");
    let mut command = crate::bin();
    command
        .env("APDU_RUN_TEST_KEY", KEY)
        .env("APDU_RUN_TEST_SHORT", SHORT)
        .args(["--sim", "iso7816", "--trace", "--trace-file"])
        .arg(&trace)
        .args(args)
        .arg(&file);
    let r = crate::ran(command.output().unwrap());
    let lines = std::fs::read_to_string(&trace)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (r, lines)
}

#[test]
fn partial_read_backs_and_short_secrets_are_masked_in_both_traces() {
    let (r, trace) = with_secrets(&[], READ_BACK);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sent = trace_hex(&trace, ">>");
    let answers = trace_hex(&trace, "<<");
    // Commands: exactly the bytes the secrets filled, the 2-byte one too.
    assert!(sent.contains(&"00D6000008(secret)".to_string()), "{sent:?}");
    assert!(sent.contains(&"00D6001002(secret)".to_string()), "{sent:?}");
    assert!(sent.contains(&"00D6001402(secret)".to_string()), "{sent:?}");
    // Responses: a piece at an offset, two halves, the whole short secret.
    assert_eq!(
        &answers[answers.len() - 6..answers.len() - 2],
        ["(secret)9000", "(secret)9000", "(secret)9000", "9000"],
        "{answers:?}"
    );
    assert_eq!(answers[answers.len() - 2], "(secret)9000", "{answers:?}");
    for piece in ["B2C3D4E5", "A1B2C3D4", "E5F60718", "C3D4E5F6", SHORT] {
        let text = trace.iter().map(|l| l.to_string()).collect::<String>();
        assert!(!text.contains(piece), "{piece} in {text}");
    }
    for piece in ["B2 C3 D4 E5", "A1 B2 C3 D4", "E5 F6 07 18", "5A 6B"] {
        assert!(!r.stderr.contains(piece), "{piece} in {}", r.stderr);
    }
    // --show-secrets shows them all, as before.
    let (r, _) = with_secrets(&["--show-secrets"], READ_BACK);
    assert!(r.stderr.contains(">> 00 D6 00 10 02 5A 6B"), "{}", r.stderr);
    assert!(
        r.stderr.contains("<< C3 D4 E5 F6 07 18 90 00"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_secret_as_data_to_crypto_and_decoded_access_bits_stay_secret() {
    let text = r#"
let k = secret("env:APDU_RUN_TEST_KEY");
let mac = crypto::aes_cmac("00112233445566778899AABBCCDDEEFF", k + k);
print(mac);
print(hex(mac));
print(type_of(mac));
let access = secret("env:APDU_RUN_TEST_ACCESS");
let d = mfc::decode_access(access);
print(d);
print(d.valid);
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "t.rhai", text);
    let r = crate::ran(
        crate::bin()
            .env("APDU_RUN_TEST_KEY", KEY)
            .env("APDU_RUN_TEST_ACCESS", "FF078069")
            .args(["--sim", "iso7816"])
            .arg(&file)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[..3],
        ["(secret)", "(secret)", "Secret"],
        "{}",
        r.stdout
    );
    assert!(
        !lines[3].contains("000") && !lines[3].contains("001"),
        "{}",
        lines[3]
    );
    assert!(
        !lines[3].contains("105") && !lines[3].contains("transport"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "true");
}

const VERIFY_PROFILE: &str = "name: leaky
card: iso7816
identify: { apdu: 80 CA 9F 7F 00 }
secrets: { pin: env:APDU_RUN_TEST_PIN }
steps:
  - apdu: 00 A4 00 0C 02 00 10
  - apdu: 00 20 00 01 04 39 38 37 36
  - apdu: 00 20 00 01 04 ${pin}
";

#[test]
fn an_unnamed_verify_is_named_by_its_masked_command_everywhere() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", VERIFY_PROFILE);
    let report = dir.path("report.jsonl");
    let r = crate::ran(
        dir.command(&["batch", "--sim", "iso7816", "--count", "1", "--report"])
            .arg(&report)
            .arg(&profile)
            .env("APDU_RUN_TEST_PIN", "31323334")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let journal = std::fs::read_to_string(dir.path("t.journal.jsonl")).unwrap();
    let report = std::fs::read_to_string(&report).unwrap();
    for (what, text) in [
        ("stdout", &r.stdout),
        ("stderr", &r.stderr),
        ("journal", &journal),
        ("report", &report),
    ] {
        assert!(
            !text.contains("39 38 37 36") && !text.contains("39383736"),
            "{what}: {text}"
        );
    }
    assert!(
        journal.contains("\"step\":\"00 20 00 01 04 (secret)\""),
        "{journal}"
    );
    assert!(report.contains("00 20 00 01 04 (secret)"), "{report}");
    // Check names it the same way and shows no PIN either.
    let r = dir.run(&["check", &profile]);
    assert!(!r.stdout.contains("39 38"), "{}", r.stdout);
}

#[test]
fn a_failed_response_check_writes_no_response_bytes_to_journal_or_report() {
    let dir = Dir::new();
    let profile = dir.write(
        "t.yaml",
        "name: mismatch
card: iso7816
identify: { apdu: 80 CA 9F 7F 00 }
steps:
  - apdu: 00 A4 00 0C 02 2F 00
  - name: read
    apdu: 00 B0 00 00 10
    response: 00 01 02 03 FF XX XX XX XX XX XX XX XX XX XX XX
",
    );
    let report = dir.path("report.jsonl");
    let r = crate::ran(
        dir.command(&["batch", "--sim", "iso7816", "--count", "1", "--report"])
            .arg(&report)
            .arg(&profile)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let journal = std::fs::read_to_string(dir.path("t.journal.jsonl")).unwrap();
    let report = std::fs::read_to_string(&report).unwrap();
    for text in [&journal, &report, &r.stdout] {
        assert!(
            text.contains("response data (16 bytes) does not match"),
            "{text}"
        );
        assert!(
            !text.contains("04 05 06") && !text.contains("040506"),
            "{text}"
        );
    }
}

#[test]
fn a_failed_script_step_writes_no_row_values_to_journal_or_report() {
    let dir = Dir::new();
    let profile = dir.write(
        "t.yaml",
        "name: script fails with row data
card: iso7816
identify: { apdu: 80 CA 9F 7F 00 }
steps:
  - name: write holder
    script: |
      let r = send(\"00 D6 00 00 04 \" + holder);
      throw \"holder \" + holder + \" refused\";
",
    );
    dir.write("t.csv", "holder\nC0FFEE42\n");
    let report = dir.path("report.jsonl");
    let r = crate::ran(
        dir.command(&[
            "batch", "--sim", "iso7816", "--count", "1", "--data", "t.csv", "--report",
        ])
        .arg(&report)
        .arg(&profile)
        .output()
        .unwrap(),
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let journal = std::fs::read_to_string(dir.path("t.journal.jsonl")).unwrap();
    let report = std::fs::read_to_string(&report).unwrap();
    for (what, text) in [("journal", &journal), ("report", &report)] {
        assert!(
            !text.contains("C0FFEE42") && !text.contains("C0 FF"),
            "{what}: {text}"
        );
        assert!(text.contains("the script failed at"), "{what}: {text}");
    }
}

#[test]
fn errors_are_one_line_without_rust_type_paths() {
    let (r, _) = run_sim(
        "iso7816",
        "let r = send(\"00 A4 00 0C 02 3F 00\");\nthrow \"bad\\nline\\x1b[31m\";\n",
        &[],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("bad\\nline\\u{1b}[31m"), "{}", r.stderr);
    for thrown in [
        "send(\"00 A4 00 0C 02 3F 00\")",
        "#{ k: secret(\"env:APDU_RUN_TEST_KEY\") }",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = script(dir.path(), "t.rhai", &format!("throw {thrown};\n"));
        let r = crate::ran(
            crate::bin()
                .env("APDU_RUN_TEST_KEY", KEY)
                .args(["--sim", "iso7816"])
                .arg(&file)
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 1);
        assert!(!r.stderr.contains("apdu_run::"), "{}", r.stderr);
        assert!(!r.stderr.contains("A1B2"), "{}", r.stderr);
    }
    let r = apdu_run(&["run", "--sim", "iso7816", "no\nsuch\u{1b}.rhai"]);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}
