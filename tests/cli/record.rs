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
