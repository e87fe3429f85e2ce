//! `batch`, `run PROFILE.yaml` and `check PROFILE.yaml`: profiles through the binary, whole
//! simulated batches, the journal's promises under kill -9 and Ctrl-C, bad data and journals.
//!
//! Each test works in its own temporary directory (the default journal lands in the working
//! directory). [`check_journal`] checks the journal's invariants after every run: no row
//! used by two cards, no card issued twice, no `end` without its `begin`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::{Ran, bin, ran};

/// A profile for the ISO 7816 demo card: writes the row's `serial` into EF 0010 and reads it
/// back; a script step spins `${spin}` times so that a card takes a while when wanted.
const PROFILE: &str = r#"name: t
card: iso7816
vars: { spin: "0" }
steps:
  - name: select EF 0010
    apdu: 00 A4 00 0C 02 00 10
  - name: verify PIN
    apdu: 00 20 00 01 04 31 32 33 34
  - name: write serial
    apdu: 00 D6 00 00 04 ${serial}
  - name: read back
    apdu: 00 B0 00 00 04
    response: XX XX XX XX
    capture: back
  - name: spin
    script: |
      let n = parse_int(spin);
      let i = 0;
      while i < n { i += 1; }
      if back != serial { throw `read back ${back}`; }
"#;

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// A data file with `rows` serials `00000001`, `00000002`, ….
    fn data(&self, rows: usize) -> String {
        let mut text = String::from("serial\n");
        for i in 1..=rows {
            text.push_str(&format!("{i:08X}\n"));
        }
        self.write("data.csv", &text)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = bin();
        command.current_dir(self.dir.path()).args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Ran {
        ran(self.command(args).output().unwrap())
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    fn journal(&self) -> Vec<Value> {
        read_lines(&self.path("t.journal.jsonl"))
    }
}

/// The complete JSON lines of a file (a cut-off last line is left out).
fn read_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What a journal says, after checking its invariants.
#[derive(Debug, Default)]
struct Journal {
    /// Identity of the card issued ok with each row.
    ok_rows: HashMap<u64, String>,
    failed: usize,
    /// Cards begun and not finished.
    open: usize,
    ends: Vec<Value>,
}

#[track_caller]
fn check_journal(lines: &[Value]) -> Journal {
    assert_eq!(lines[0]["event"], "header", "{:?}", lines[0]);
    let mut owner: HashMap<u64, String> = HashMap::new();
    let mut state: HashMap<String, &str> = HashMap::new();
    let mut journal = Journal::default();
    for line in &lines[1..] {
        let identity = line["identity"].as_str().unwrap().to_string();
        let row = line["row"].as_u64();
        match line["event"].as_str().unwrap() {
            "begin" => {
                if let Some(row) = row {
                    let first = owner.entry(row).or_insert_with(|| identity.clone());
                    assert_eq!(*first, identity, "row {row} used by two cards");
                }
                let before = state.insert(identity.clone(), "open");
                assert!(
                    matches!(before, None | Some("open")),
                    "{identity} begins after it was finished"
                );
            }
            "end" => {
                let verdict = line["verdict"].as_str().unwrap();
                assert_eq!(state.get(&identity), Some(&"open"), "end without begin");
                if verdict == "ok" {
                    journal.ok_rows.insert(row.unwrap_or(0), identity.clone());
                }
                journal.failed += usize::from(verdict == "failed");
                let after = if verdict == "interrupted" {
                    "open"
                } else {
                    "done"
                };
                state.insert(identity, after);
                journal.ends.push(line.clone());
            }
            other => panic!("unexpected event {other}"),
        }
    }
    journal.open = state.values().filter(|s| **s == "open").count();
    journal
}

#[test]
fn bad_profiles_exit_2_with_their_position_and_touch_nothing() {
    let cases = [
        ("name: t\nstepz: []\n", "p.yaml:2:1: unknown field `stepz`"),
        (
            "name: t\nsteps:\n  - apdu: 00 A4 0G\n",
            "p.yaml:3:18: bad hex in `apdu`: `G` is not a hex digit",
        ),
        (
            "name: t\nsteps:\n  - apdu: 00 D6 00 00 01 ${nope}\n",
            "p.yaml:3:26: unknown variable `nope` in `${nope}`",
        ),
        (
            "name: t\ninclude: [missing.yaml]\n",
            "p.yaml:2:11: cannot read included profile",
        ),
        (
            "name: t\ninclude: [c.yaml]\n",
            "c.yaml:2:11: include cycle: `p.yaml` -> `c.yaml` -> `p.yaml`",
        ),
    ];
    for (text, expected) in cases {
        let dir = Dir::new();
        dir.write("c.yaml", "name: c\ninclude: [p.yaml]\n");
        let profile = dir.write("p.yaml", text);
        let data = dir.data(3);
        for args in [
            vec!["batch", "--sim", "iso7816", "--data", &data, &profile],
            vec!["run", "--sim", "iso7816", &profile],
            vec!["check", &profile],
        ] {
            let r = dir.run(&args);
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            let message = r
                .stderr
                .replace(&format!("{}/", dir.dir.path().display()), "");
            assert!(
                message.starts_with(&format!("error: {expected}")),
                "{args:?}: {message}"
            );
            assert_eq!(r.stdout, "", "{args:?}");
        }
        assert!(
            !dir.path("p.journal.jsonl").exists(),
            "a journal was created"
        );
    }
}

#[test]
fn check_and_run_a_profile_once() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let r = dir.run(&["check", &profile]);
    assert_eq!(r.code, 2, "serial is only known with data: {}", r.stderr);
    let data = dir.data(2);
    let r = dir.run(&["check", "--data", &data, &profile]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(": ok (5 steps, hash "), "{}", r.stdout);
    let r = dir.run(&[
        "run",
        "--sim",
        "iso7816",
        "--var",
        "serial=CAFEBABE",
        &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("9000"), "{}", r.stdout);
    assert!(r.stdout.contains("ok: 5 steps in"), "{}", r.stdout);
    // The read-back check fails when the serial is not what the script expects.
    let r = dir.run(&[
        "run",
        "--sim",
        "iso7816",
        "--var",
        "serial=cafebabe",
        &profile,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let prefix = format!("{}/", dir.dir.path().display());
    assert_eq!(
        r.stderr.replace(&prefix, ""),
        "error: t.yaml:15: step 5 `spin`: script threw: read back CAFEBABE (t.yaml:20)\n"
    );
}

#[test]
fn a_200_card_simulated_batch_issues_every_row_once() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(200);
    let report = dir.path("report.jsonl");
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &data,
        "--report",
        report.to_str().unwrap(),
        &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("batch ended: every data row is used"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("200 ok, 0 failed"), "{}", r.stdout);
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        200
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 200);
    assert_eq!((journal.open, journal.failed), (0, 0));
    let lines = read_lines(&report);
    assert_eq!(lines.len(), 200);
    let first = &lines[0];
    assert_eq!(
        (
            &first["verdict"],
            &first["row"],
            &first["seq"],
            &first["uid"]
        ),
        (
            &Value::from("ok"),
            &Value::from(1),
            &Value::from(1),
            &Value::Null
        )
    );
    assert_eq!(first["identity"], "SIM-000001");
    assert_eq!(first["reader"], "Simulated reader (iso7816)");
    assert_eq!(first["steps"].as_array().unwrap().len(), 5);
    assert_eq!(first["steps"][2]["sw"], "9000");
    assert!(first["steps"][2]["micros"].is_u64() && first["micros"].is_u64());

    // Run again: every card is presented again and skipped, saying when and with which row.
    let r = dir.run(&[
        "batch", "--sim", "iso7816", "--count", "3", "--data", &data, &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("0 ok"), "{}", r.stdout);
    assert!(
        r.stderr.contains("resuming, 200 card(s) finished before"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_restarted_batch_skips_done_cards_and_uses_the_rest_of_the_rows() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(5);
    let r = dir.run(&[
        "batch", "--sim", "iso7816", "--count", "2", "--data", &data, &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("batch ended: the journal holds --count finished cards")
    );
    let r = dir.run(&[
        "batch", "--sim", "iso7816", "--count", "4", "--data", &data, &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let skipped: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("skipped"))
        .collect();
    assert_eq!(skipped.len(), 2, "{}", r.stdout);
    assert!(
        skipped[0].contains("SIM-000001")
            && skipped[0].contains("already issued ok at ")
            && skipped[0].contains("with row 1 (seq 1)"),
        "{}",
        skipped[0]
    );
    assert!(
        r.stdout.contains("ok          seq 4 row 4  SIM-000004"),
        "{}",
        r.stdout
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 4);
}

#[test]
fn a_card_of_the_wrong_kind_is_rejected_without_writing() {
    let dir = Dir::new();
    let profile = dir.write(
        "t.yaml",
        "name: t\ncard: ultralight\nsteps:\n  - apdu: FF D6 00 04 04 00 00 00 01\n",
    );
    let r = dir.run(&["batch", "--sim", "iso7816", "--count", "2", &profile]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("skipped      SIM-000001  Simulated reader (iso7816)  not a `ultralight` card: its ATR 3B8A8131FE458068415044552D52554E0D is an ISO 7816 card"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("0 ok, 0 failed, 0 interrupted, 2 skipped"),
        "{}",
        r.stdout
    );
    // Nothing was begun: the journal holds its header only.
    assert_eq!(dir.journal().len(), 1);
}

#[test]
fn failures_use_up_rows_and_stop_after_max_failures() {
    let dir = Dir::new();
    // The PIN is wrong: every card fails at the VERIFY step (and counts a try down).
    let profile = dir.write("t.yaml", &PROFILE.replace("31 32 33 34", "39 39 39 39"));
    let data = dir.data(10);
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("3 cards failed in a row (--max-failures)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("step 2 `verify PIN`: expected 9000, card answered 63C2 (verification failed, 2 tries left (counter 2))"),
        "{}",
        r.stdout
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.failed, 3);
    let end = &journal.ends[0];
    assert_eq!(
        (&end["step"], &end["sw"]),
        (&Value::from("verify PIN"), &Value::from("63C2"))
    );
    // A failed card is not tried again; new cards get new rows.
    let ok = dir.write("t.yaml", PROFILE);
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &ok]);
    assert_eq!(
        r.code, 2,
        "the profile changed, so the journal is refused: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("belongs to another profile"),
        "{}",
        r.stderr
    );
}

#[test]
fn two_simulated_readers_share_100_rows_without_duplicates() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(100);
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--sim-readers",
        "2",
        "--data",
        &data,
        &profile,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 100);
    let rows: Vec<u64> = (1..=100).collect();
    let mut got: Vec<u64> = journal.ok_rows.keys().copied().collect();
    got.sort_unstable();
    assert_eq!(got, rows);
    let readers: std::collections::HashSet<&str> = journal
        .ends
        .iter()
        .map(|e| e["reader"].as_str().unwrap())
        .collect();
    assert_eq!(readers.len(), 2, "{readers:?}");
    let r = dir.run(&[
        "batch", "--reader", "x", "--sim", "iso7816", "--count", "1", &profile,
    ]);
    assert_eq!(r.code, 2, "--reader and --sim conflict: {}", r.stderr);
}

/// A small xorshift generator: the tests' random delays, reproducible from the printed seed.
fn random_delays(count: usize, max_ms: u64) -> Vec<u64> {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    println!("seed {seed}");
    let mut x = seed;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % max_ms
        })
        .collect()
}

#[test]
fn kill_9_at_random_moments_never_reuses_a_row_or_issues_a_card_twice() {
    for (round, delays) in (0..3).map(|_| random_delays(5, 500)).enumerate() {
        let dir = Dir::new();
        let profile = dir.write("t.yaml", PROFILE);
        let data = dir.data(40);
        let args = [
            "batch",
            "--sim",
            "iso7816",
            "--sim-readers",
            "2",
            "--data",
            &data,
            "--var",
            "spin=3000",
            &profile,
        ];
        for delay in delays {
            let mut child = dir.spawn(&args);
            std::thread::sleep(Duration::from_millis(delay));
            child.kill().unwrap();
            child.wait().unwrap();
            check_journal(&dir.journal());
        }
        let r = dir.run(&args);
        assert_eq!(r.code, 0, "round {round}: {}\n{}", r.stdout, r.stderr);
        let journal = check_journal(&dir.journal());
        assert_eq!(journal.ok_rows.len(), 40, "round {round}");
        assert_eq!(journal.open, 0, "round {round}");
        // The identity that got each row kept it across restarts.
        let mut identities: Vec<&String> = journal.ok_rows.values().collect();
        identities.sort();
        identities.dedup();
        assert_eq!(
            identities.len(),
            40,
            "round {round}: a card was issued twice"
        );
    }
}

#[test]
fn ctrl_c_records_the_card_and_exits_130_then_the_card_is_resumed() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(3);
    let args = [
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &data,
        "--var",
        "spin=5000000",
        &profile,
    ];
    let child = dir.spawn(&args);
    // Wait for the first begin, then interrupt the card in its long script step.
    let started = Instant::now();
    while dir.journal().len() < 2 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    // A second batch on the same journal is refused while the first runs.
    let second = dir.run(&args);
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(
        second.stderr.contains("is in use by another batch"),
        "{}",
        second.stderr
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let journal = check_journal(&dir.journal());
    let last = journal.ends.last().unwrap();
    assert_eq!(last["verdict"], "interrupted", "{last}");
    assert_eq!(
        (&last["row"], &last["step"]),
        (&Value::from(1), &Value::from("spin"))
    );
    // The next run finishes the interrupted card with the same row.
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("ok          seq 1 row 1  SIM-000001  Simulated reader (iso7816)  (resumed)"),
        "{}",
        r.stdout
    );
    let journal = check_journal(&dir.journal());
    assert_eq!(journal.ok_rows.len(), 3);
}

#[test]
fn bad_data_files_are_refused_before_any_card() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let cases = [
        ("", "the data file is empty"),
        ("serial\n", ":1: the data file has a header but no rows"),
        (
            "serial,serial\n01,02\n",
            ":1:2: duplicate column `serial` (also column 1)",
        ),
        (
            "serial,name\n01,a\n02\n",
            ":3: this row has 1 field(s), the header has 2",
        ),
        (
            "serial\n0G\n",
            ":2:1: column `serial` is sent in an APDU, but `0G` is not hex",
        ),
    ];
    for (text, expected) in cases {
        let data = dir.write("bad.csv", text);
        let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
        assert_eq!(r.code, 2, "{text:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with(&format!("error: {data}")) && r.stderr.contains(expected),
            "{text:?}: {}",
            r.stderr
        );
        assert!(!dir.path("t.journal.jsonl").exists());
    }
    let r = dir.run(&["batch", "--sim", "iso7816", &profile]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--sim needs --count or --data"),
        "{}",
        r.stderr
    );
}

#[test]
fn journals_of_other_profiles_are_refused_and_cut_off_lines_repaired() {
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(4);
    let journal = dir.path("j.jsonl");
    let journal = journal.to_str().unwrap();
    let base = [
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &data,
        "--journal",
        journal,
    ];
    let r = dir.run(&[&base[..], &["--count", "2", &profile]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Another profile (same text but one more step) is refused with exit 2.
    let other = dir.write(
        "other.yaml",
        &format!("{PROFILE}  - apdu: 00 A4 00 0C 02 3F 00\n"),
    );
    let r = dir.run(&[&base[..], &[&other[..]]].concat());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("belongs to another profile: it was written for `")
            && r.stderr.contains("t.yaml` with hash"),
        "{}",
        r.stderr
    );
    // Other data is refused too.
    let other_data = dir.write("other.csv", "serial\n000000AA\n");
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816",
        "--data",
        &other_data,
        "--journal",
        journal,
        &profile,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("was written with other data"),
        "{}",
        r.stderr
    );
    // A cut-off last line is removed, said so, and the batch goes on.
    let mut text = std::fs::read_to_string(journal).unwrap();
    text.push_str(r#"{"event":"begin","time":"2026-"#);
    std::fs::write(journal, &text).unwrap();
    let r = dir.run(&[&base[..], &[&profile[..]]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 6 was cut off (30 bytes, the last run stopped while writing it); removed it and went on"),
        "{}",
        r.stderr
    );
    let journal = check_journal(&read_lines(Path::new(journal)));
    assert_eq!(journal.ok_rows.len(), 4);
    // A line that is not a record in the middle is an error, not a guess.
    let dir = Dir::new();
    let profile = dir.write("t.yaml", PROFILE);
    let data = dir.data(1);
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = dir.path("t.journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "\"event\":\"begin\"",
        "\"event\":\"bgin\"",
        1,
    );
    std::fs::write(&path, text).unwrap();
    let r = dir.run(&["batch", "--sim", "iso7816", "--data", &data, &profile]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 2: not a journal record"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_shipped_profile_runs_against_the_simulator() {
    let dir = Dir::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let profile = root.join("profiles/iso7816_perso.yaml");
    let data = root.join("profiles/iso7816_perso.csv");
    let r = dir.run(&[
        "batch",
        "--sim",
        "iso7816-t0",
        "--data",
        data.to_str().unwrap(),
        profile.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("5 ok, 0 failed"), "{}", r.stdout);
    let journal = read_lines(&dir.path("iso7816_perso.journal.jsonl"));
    assert_eq!(check_journal(&journal).ok_rows.len(), 5);
    // Secrets never reach the journal: the PIN `1234` is 31323334.
    let text = std::fs::read_to_string(dir.path("iso7816_perso.journal.jsonl")).unwrap();
    assert!(!text.contains("31323334"));
}
