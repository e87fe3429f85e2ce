//! The serial backends end to end: `sim serve --serial tlp224|phoenix` on a
//! pseudo-terminal, the binary opening the device it prints with `--reader tlp224:PATH` or
//! `phoenix:PATH`. The output must be what `--sim` gives.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use super::{apdu_run, bin};

/// A `sim serve --serial …` child, killed when dropped.
struct Served {
    child: Child,
    path: String,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = bin()
            .args(["sim", "serve"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let path = line.trim().to_string();
        assert!(path.starts_with("/dev/"), "sim serve printed {line:?}");
        Served { child, path }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const DEMO: &str = "scripts/iso7816_demo.rhai";

#[test]
fn the_demo_through_both_serial_readers_prints_what_the_simulator_prints() {
    for card in ["iso7816", "iso7816-t0"] {
        let direct = apdu_run(&["--sim", card, DEMO]);
        assert_eq!(direct.code, 0, "{}", direct.stderr);
        for (serve, prefix) in [
            (vec!["--serial", "tlp224"], "tlp224"),
            (vec!["--serial", "phoenix"], "phoenix"),
            (vec!["--serial", "phoenix", "--echo"], "phoenix"),
        ] {
            let mut args = vec!["--card", card];
            args.extend(&serve);
            let served = Served::start(&args);
            let reader = format!("{prefix}:{}", served.path);
            let r = apdu_run(&["--reader", &reader, DEMO]);
            assert_eq!(r.code, 0, "{card} {serve:?}: {}", r.stderr);
            assert_eq!(r.stdout, direct.stdout, "{card} {serve:?}");
            // A second run on the same device: the first released it.
            let again = apdu_run(&["--reader", &reader, "--serial", "9600,8E2", DEMO]);
            assert_eq!(again.code, 0, "{card} {serve:?}: {}", again.stderr);
        }
    }
}

#[test]
fn an_inverse_convention_card_runs_through_the_raw_reader() {
    let served = Served::start(&[
        "--card",
        "iso7816-t0",
        "--serial",
        "phoenix",
        "--inverse",
        "--echo",
    ]);
    let reader = format!("phoenix:{},echo=on", served.path);
    let r = apdu_run(&["--reader", &reader, DEMO]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("ATR 3F0A"), "{}", r.stdout);
    assert!(r.stdout.contains("reads back CAFEBABE"), "{}", r.stdout);
}

#[test]
fn serial_arguments_are_checked_before_any_device_is_opened() {
    for (args, message) in [
        (
            vec!["--reader", "tlp224:", DEMO],
            "no device after `tlp224:`",
        ),
        (
            vec!["--reader", "phoenix:/dev/null,speed=9", DEMO],
            "unknown option `speed=9`",
        ),
        (
            vec!["--reader", "tlp224:/dev/null", "--serial", "9600,8X1", DEMO],
            "parity must be N, E or O",
        ),
        (
            vec!["--reader", "Virtual", "--serial", "9600,8E2", DEMO],
            "needs a serial reader",
        ),
    ] {
        let r = apdu_run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn a_device_that_is_not_there_is_a_transport_error() {
    let r = apdu_run(&["--reader", "tlp224:/dev/does-not-exist", DEMO]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot open /dev/does-not-exist"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_batch_through_a_serial_reader_issues_a_contact_card_by_its_identify_bytes() {
    // Contact cards have no UID; the profile's `identify:` (GET DATA CPLC) tells them apart,
    // on a serial reader as on any other: the batch path is the same, on both backends.
    for backend in ["tlp224", "phoenix"] {
        let served = Served::start(&["--card", "iso7816-t0", "--serial", backend]);
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let output = bin()
            .args(["batch", "--reader"])
            .arg(format!("{backend}:{}", served.path))
            .args([
                "--count",
                "1",
                "--data",
                "profiles/iso7816_perso.csv",
                "--journal",
            ])
            .arg(&journal)
            .arg("profiles/iso7816_perso.yaml")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{backend}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // CPLC bytes 0-17 of the served card: fabricator 4790 … IC serial 10000000, batch 0001.
        let identity = "479050404152600101006002100000000001";
        assert!(
            stdout.starts_with(&format!("ok          seq 1 row 1  {identity}  ")),
            "{backend}: {stdout}"
        );
        let journal = std::fs::read_to_string(&journal).unwrap();
        assert!(
            journal.contains(&format!("\"uid\":null,\"identity\":\"{identity}\"")),
            "{journal}"
        );
    }
}

#[test]
fn the_cos_card_is_issued_and_verified_through_both_serial_readers() {
    for backend in ["tlp224", "phoenix"] {
        let served = Served::start(&["--card", "cos", "--serial", backend]);
        let reader = format!("{backend}:{}", served.path);
        // The served card keeps its state between the two runs: issue, then verify it.
        let keys = [
            "--var",
            "install_source=file:scripts/cos_demo_install.key",
            "--var",
            "issuer_source=file:scripts/cos_demo_issuer.key",
        ];
        let common = [
            "--var",
            "app_source=file:scripts/cos_demo_app.key",
            "--var",
            "holder=Ada",
            "--var",
            "pin=4711",
        ];
        for (script, extra) in [
            ("scripts/cos_issue.rhai", &keys[..]),
            (
                "scripts/cos_verify.rhai",
                &["--var", "terminal_random=A5A5A5A5"][..],
            ),
        ] {
            let output = bin()
                .args(["--reader", &reader, "--arm-irreversible"])
                .args(extra)
                .args(common)
                .arg(script)
                .output()
                .unwrap();
            assert_eq!(
                output.status.code(),
                Some(0),
                "{backend} {script}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}
