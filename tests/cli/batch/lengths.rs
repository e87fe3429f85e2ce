//! Value lengths that break their APDU are refused by `check`, `run` and `batch` before any
//! card, with the placeholder's position and the data row; no row is used up.

use super::{Dir, PROFILE};

#[test]
fn a_value_whose_length_breaks_its_apdu_is_refused_before_any_card() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    // Row 2's serial is 3 bytes for an APDU whose Lc says 4; row 3's would put its last
    // byte in Le.
    let short = dir.write("short.csv", "serial\n01020304\n010203\n0A0B0C0D\n");
    let long = dir.write("long.csv", "serial\n01020304\n0A0B0C0D\n0102030405\n");
    let trace = dir.path("trace.jsonl");
    let trace = trace.to_str().unwrap();
    let prefix = format!("{}/", dir.dir.path().display());
    for (data, expected) in [
        (
            &short,
            "error: t.yaml:11:26: data row 2: step 3: the APDU with its values is not a valid command: Lc says 4 data bytes but 3 follow the header (`${serial}` gives 3 byte(s))\n",
        ),
        (
            &long,
            "error: t.yaml:11:26: data row 3: step 3: Lc says 4 data bytes, but with its values the APDU carries 5 after Lc, so the last byte of `${serial}` would be sent as Le (`${serial}` gives 5 byte(s))\n",
        ),
    ] {
        for args in [
            vec!["check", "--data", data, &profile],
            vec!["batch", "--sim", "iso7816", "--data", data, &profile],
        ] {
            let r = dir.run(&args);
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            assert_eq!(r.stderr.replace(&prefix, ""), expected, "{args:?}");
            assert_eq!(r.stdout, "", "{args:?}");
        }
        assert!(
            !dir.path("t.journal.jsonl").exists(),
            "a journal was created"
        );
    }
    // A --var too long for its APDU: `check` and `run` refuse it before the card.
    for args in [
        vec!["check", "--var", "serial=0102030405", &profile],
        vec![
            "run",
            "--sim",
            "iso7816",
            "--trace-file",
            trace,
            "--var",
            "serial=0102030405",
            &profile,
        ],
    ] {
        let r = dir.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .replace(&prefix, "")
                .starts_with("error: t.yaml:11:26: step 3: Lc says 4 data bytes, but"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let sent = std::fs::read_to_string(trace).unwrap_or_default();
    assert_eq!(sent, "", "something was sent to the card");
}
