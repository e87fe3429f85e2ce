//! `batch --trace-file DIR`: one masked trace per card, named by the journal and the report.

use super::{Dir, read_lines};

/// A contact-card profile whose VERIFY sends a secret PIN (also used by `record.rs`).
pub(crate) const PROFILE: &str = r#"name: t
card: iso7816
identify: { apdu: 80 CA 9F 7F 00, bytes: 15-18 }
secrets: { pin: env:APDU_RUN_AUDIT_PIN }
steps:
  - name: select EF 0010
    apdu: 00 A4 00 0C 02 00 10
  - name: verify PIN
    apdu: 00 20 00 01 04 ${pin}
  - name: write serial
    apdu: 00 D6 00 00 04 ${serial}
"#;

#[test]
fn every_card_has_its_masked_trace_named_in_journal_and_report() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(3);
    let r = ran_with_pin(
        &dir,
        &[
            "batch",
            "--sim",
            "iso7816",
            "--sim-readers",
            "2",
            "--data",
            &data,
            "--report",
            "r.jsonl",
            "--trace-file",
            "traces",
            &profile,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ends: Vec<_> = dir
        .journal()
        .into_iter()
        .filter(|l| l["event"] == "end")
        .collect();
    assert_eq!(ends.len(), 3);
    let report = read_lines(&dir.path("r.jsonl"));
    for end in &ends {
        let name = end["trace"].as_str().expect("the end names its trace");
        assert_eq!(
            name,
            format!(
                "{:06}-{}.jsonl",
                end["seq"].as_u64().unwrap(),
                end["identity"].as_str().unwrap()
            )
        );
        assert!(
            report
                .iter()
                .any(|c| c["trace"] == name && c["seq"] == end["seq"])
        );
        let text = std::fs::read_to_string(dir.path("traces").join(name)).unwrap();
        // The PIN (a secret) never shows, whole or in part; the serial (a data value of
        // this card) is what was sent, so it does.
        assert!(
            !text.contains("31323334") && !text.contains("3132"),
            "{text}"
        );
        let lines = read_lines(&dir.path("traces").join(name));
        assert_eq!(lines[0]["dir"], "card");
        assert_eq!(lines[0]["seq"], end["seq"]);
        assert_eq!(lines[0]["reader"], end["reader"]);
        let sent: Vec<&str> = lines
            .iter()
            .filter(|l| l["dir"] == ">>")
            .map(|l| l["hex"].as_str().unwrap())
            .collect();
        // Identification, then the three steps; the VERIFY data masked.
        assert_eq!(sent.len(), 4, "{sent:?}");
        assert_eq!(sent[1], "00A4000C020010");
        assert!(
            sent[2].starts_with("0020000104") && sent[2].len() > 10 && !sent[2].contains("3132")
        );
        let row = end["row"].as_u64().unwrap();
        assert_eq!(sent[3], format!("00D6000004{row:08X}"));
    }
    let files = std::fs::read_dir(dir.path("traces")).unwrap().count();
    assert_eq!(files, 3);
}

#[test]
fn a_trace_directory_that_cannot_be_written_is_refused_before_any_card() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(1);
    let file = dir.write("plain", "x");
    for bad in [file.as_str(), "missing/traces"] {
        let r = ran_with_pin(
            &dir,
            &[
                "batch",
                "--sim",
                "iso7816",
                "--data",
                &data,
                "--trace-file",
                bad,
                &profile,
            ],
        );
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(r.stderr.contains("--trace-file"), "{}", r.stderr);
        assert!(!dir.path("t.journal.jsonl").exists());
    }
}

/// Runs `args` in `dir` with the profile's PIN secret in the environment.
pub(crate) fn ran_with_pin(dir: &Dir, args: &[&str]) -> crate::Ran {
    crate::ran(
        dir.command(args)
            .env("APDU_RUN_AUDIT_PIN", "31323334")
            .output()
            .unwrap(),
    )
}
