//! `batch --record DIR`: one masked apdu4j dump per card, named as its trace, that replays.

use super::Dir;

use super::audit::PROFILE;

fn ran(dir: &Dir, args: &[&str]) -> crate::Ran {
    super::audit::ran_with_pin(dir, args)
}

#[test]
fn every_card_has_its_masked_dump_and_it_replays() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(2);
    let r = ran(
        &dir,
        &[
            "batch", "--sim", "iso7816", "--data", &data, "--record", "dumps", &profile,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ends: Vec<_> = dir
        .journal()
        .into_iter()
        .filter(|l| l["event"] == "end")
        .collect();
    assert_eq!(ends.len(), 2);
    for end in &ends {
        let name = format!(
            "{:06}-{}.dump",
            end["seq"].as_u64().unwrap(),
            end["identity"].as_str().unwrap()
        );
        let path = dir.path("dumps").join(&name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\n# ATR: 3B8A8131FE458068415044552D52554E0D\n"),
            "{text}"
        );
        assert!(!text.contains("31323334"), "{text}");
        let commands: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .step_by(2)
            .collect();
        // Identification, then the three steps, the PIN as masked zeros.
        assert_eq!(commands.len(), 4, "{text}");
        assert!(
            text.contains("# Masked: 5..9\n002000010400000000\n"),
            "{text}"
        );
        // The dump plays back: the same commands (another PIN too) get the answers.
        let sends: String = commands
            .iter()
            .map(|c| {
                format!(
                    "send(\"{}\");\n",
                    c.replace("0020000104000000", "0020000104AABBCC")
                )
            })
            .collect();
        let script = dir.write("replay.rhai", &sends);
        let sim = format!("replay:{}", path.display());
        let r = crate::apdu_run(&["--sim", &sim, "--no-auto-response", &script]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert_eq!(std::fs::read_dir(dir.path("dumps")).unwrap().count(), 2);
}

#[test]
fn a_record_directory_that_cannot_be_written_is_refused_before_any_card() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(1);
    let file = dir.write("plain", "x");
    let r = ran(
        &dir,
        &[
            "batch", "--sim", "iso7816", "--data", &data, "--record", &file, &profile,
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--record"), "{}", r.stderr);
    assert!(!dir.path("t.journal.jsonl").exists());
}
