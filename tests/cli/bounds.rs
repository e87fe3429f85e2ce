//! Bounded everything: script limits, the files the tool reads, the paths it writes,
//! `--sim-readers`, and outputs that cannot be written. Each run here has a deadline, so
//! a run that blocks (a FIFO) or spins fails the test instead of hanging it; the child is
//! killed when the deadline passes or the test fails.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Ran, bin, script};

/// Kills the child when dropped (a failed assertion, a passed deadline).
struct Reaper(Option<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `command` with piped output; fails the test if it is not done within `secs`.
fn run_within(mut command: Command, secs: u64) -> Ran {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    let mut reaper = Reaper(Some(child));
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let child = reaper.0.as_mut().unwrap();
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "apdu-run did not end within {secs} s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let child = reaper.0.take().unwrap();
    super::ran(child.wait_with_output().unwrap())
}

fn apdu_run_within(args: &[&str], secs: u64) -> Ran {
    let mut command = bin();
    command.args(args);
    run_within(command, secs)
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

fn one_line(r: &Ran) -> &str {
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r.stderr.trim_end()
}

const PROFILE: &str = "name: t\ncard: iso7816\nidentify: { apdu: 80 CA 9F 7F 00 }\nsteps:\n  - apdu: 00 A4 00 0C 02 2F 00\n";

// ---- script limits ----

#[test]
fn a_script_growing_a_value_without_end_fails_with_the_limit_it_reached() {
    let dir = tempfile::tempdir().unwrap();
    for (text, limit) in [
        ("let s = \"x\"; loop { s += s; }", "a string longer than"),
        ("let a = [1]; loop { a += a; }", "an array with more than"),
        ("let a = []; loop { a.push(1); }", "an array with more than"),
        (
            "let b = blob(1); loop { b += b; }",
            "an array or Blob with more than",
        ),
        ("let b = blob(1 << 40);", "an array or Blob with more than"),
        (
            "let m = #{}; let i = 0; loop { m[`k${i}`] = blob(1000, 0); i += 1; }",
            "the script limit",
        ),
        (
            "let a = []; loop { a = [a]; }",
            "nested more than 32 levels",
        ),
        (
            "fn f(n) { f(n + 1) } f(0);",
            "function calls nested deeper than 64",
        ),
    ] {
        let file = script(dir.path(), "grow.rhai", text);
        let r = apdu_run_within(&["--sim", "iso7816", file.to_str().unwrap()], 120);
        assert_eq!(r.code, 1, "{text}: {}", r.stderr);
        let line = one_line(&r);
        assert!(line.starts_with("error: "), "{line}");
        assert!(line.contains(limit), "{text}: {line}");
        assert!(line.contains("(the script limit"), "{line}");
    }
}

#[test]
fn deeply_nested_values_are_refused_before_printing_or_dropping_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        dir.path(),
        "nest.rhai",
        "let a = []; for i in 0..100000 { a = [a]; } print(a);",
    );
    let r = apdu_run_within(&["--sim", "iso7816", file.to_str().unwrap()], 60);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(one_line(&r).contains("nested more than 32 levels"));
    // What one expression can build without a variable in between (the deepest calls
    // times the deepest expression) is printed and dropped whole.
    let brackets = 16;
    let text = format!(
        "fn f(n) {{ if n == 0 {{ [] }} else {{ {}f(n - 1){} }} }}\nprint(f(62).to_string().len());",
        "[".repeat(brackets),
        "]".repeat(brackets)
    );
    let file = script(dir.path(), "deep.rhai", &text);
    let r = apdu_run_within(&["--sim", "iso7816", file.to_str().unwrap()], 60);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), ((brackets * 62 + 1) * 2).to_string());
}

#[test]
fn a_script_limit_mid_batch_fails_the_card_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let profile = script(
        dir.path(),
        "grow.yaml",
        &format!("{PROFILE}  - script: let s = \"x\"; loop {{ s += s; }}\n"),
    );
    let journal = dir.path().join("j.jsonl");
    let r = apdu_run_within(
        &[
            "batch",
            profile.to_str().unwrap(),
            "--sim",
            "iso7816",
            "--count",
            "2",
            "--max-failures",
            "0",
            "--journal",
            journal.to_str().unwrap(),
        ],
        120,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let ends: Vec<serde_json::Value> = fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["event"] == "end")
        .collect();
    assert_eq!(ends.len(), 2, "both cards finished: {ends:?}");
    for end in &ends {
        assert_eq!(end["verdict"], "failed");
        assert!(
            end["message"]
                .as_str()
                .unwrap()
                .contains("the script limit"),
            "{end}"
        );
    }
}

// ---- files the tool reads ----

#[test]
fn devices_fifos_and_directories_are_refused_as_input_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = d.join("fifo");
    let have_fifo = mkfifo(&fifo);
    let link = |name: &str, target: &Path| {
        let path = d.join(name);
        std::os::unix::fs::symlink(target, &path).unwrap();
        path
    };
    let zero = Path::new("/dev/zero");
    let mut cases: Vec<(Vec<String>, String)> = Vec::new();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // A script, a scriptor file and a profile that are devices.
    cases.push((vec!["--sim".into(), "iso7816".into(), s(zero)], s(zero)));
    let apdu = link("zero.apdu", zero);
    cases.push((vec!["--sim".into(), "iso7816".into(), s(&apdu)], s(&apdu)));
    let yaml = link("zero.yaml", Path::new("/dev/urandom"));
    cases.push((vec!["check".into(), s(&yaml)], s(&yaml)));
    cases.push((vec!["--sim".into(), "iso7816".into(), s(d)], s(d)));
    // An include, a run: file, a secret and the data.
    let include = script(
        d,
        "inc.yaml",
        "name: t\ncard: iso7816\ninclude: [/dev/zero]\nsteps: []\n",
    );
    cases.push((vec!["check".into(), s(&include)], "/dev/zero".into()));
    let run = script(
        d,
        "run.yaml",
        "name: t\ncard: iso7816\nsteps:\n  - run: /dev/zero\n",
    );
    cases.push((vec!["check".into(), s(&run)], "/dev/zero".into()));
    let secret = script(
        d,
        "secret.yaml",
        "name: t\ncard: iso7816\nsecrets: { k: file:/dev/zero }\nsteps:\n  - apdu: 00 20 00 01 04 ${k}\n",
    );
    cases.push((
        vec!["--sim".into(), "iso7816".into(), s(&secret)],
        "/dev/zero".into(),
    ));
    let plain = script(d, "plain.yaml", PROFILE);
    cases.push((
        vec![
            "batch".into(),
            s(&plain),
            "--sim".into(),
            "iso7816".into(),
            "--data".into(),
            "/dev/zero".into(),
            "--journal".into(),
            s(&d.join("j.jsonl")),
        ],
        "/dev/zero".into(),
    ));
    let image = link("image.json", zero);
    let hello = script(d, "hello.rhai", "print(\"hi\");");
    cases.push((
        vec![
            "--sim".into(),
            "iso7816".into(),
            "--sim-state".into(),
            s(&image),
            s(&hello),
        ],
        s(&image),
    ));
    if have_fifo {
        let fifo_secret = script(
            d,
            "fifo_secret.yaml",
            &format!(
                "name: t\ncard: iso7816\nsecrets: {{ k: file:{} }}\nsteps:\n  - apdu: 00 20 00 01 04 ${{k}}\n",
                fifo.display()
            ),
        );
        cases.push((
            vec!["--sim".into(), "iso7816".into(), s(&fifo_secret)],
            s(&fifo),
        ));
        let fifo_yaml = d.join("fifo.yaml");
        assert!(mkfifo(&fifo_yaml));
        cases.push((vec!["check".into(), s(&fifo_yaml)], s(&fifo_yaml)));
    }
    for (args, named) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = apdu_run_within(&args, 30);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        let line = one_line(&r);
        assert!(line.contains(&named), "{args:?}: {line}");
        assert!(line.contains("not a regular file"), "{args:?}: {line}");
    }
    assert!(!d.join("j.jsonl").exists());
}

#[test]
fn files_over_their_size_cap_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("k.hex");
    fs::write(&big, "00".repeat(64 * 1024)).unwrap();
    let profile = script(
        dir.path(),
        "p.yaml",
        &format!(
            "name: t\ncard: iso7816\nsecrets: {{ k: file:{} }}\nsteps:\n  - apdu: 00 20 00 01 04 ${{k}}\n",
            big.display()
        ),
    );
    let r = apdu_run_within(&["--sim", "iso7816", profile.to_str().unwrap()], 30);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(one_line(&r).contains("larger than 64 KiB"), "{}", r.stderr);
}

// ---- paths the tool writes ----

#[test]
fn unusable_output_paths_are_refused_before_the_first_card() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let profile = script(d, "p.yaml", PROFILE);
    let p = profile.to_str().unwrap();
    let fifo = d.join("fifo");
    let have_fifo = mkfifo(&fifo);
    let missing = d.join("missing/out");
    let mut bad: Vec<&Path> = vec![Path::new("/dev/null"), d, &missing];
    if have_fifo {
        bad.push(&fifo);
    }
    let trace = d.join("trace.jsonl");
    for path in bad {
        let path = path.to_str().unwrap();
        for (option, args) in [
            (
                "--journal",
                vec!["batch", p, "--sim", "iso7816", "--count", "1"],
            ),
            (
                "--report",
                vec!["batch", p, "--sim", "iso7816", "--count", "1", "--journal"],
            ),
            ("--sim-state", vec!["run", "--sim", "iso7816", p]),
            ("--trace-file", vec!["run", "--sim", "iso7816", p]),
        ] {
            let mut args = args.clone();
            let journal = d.join("j.jsonl");
            let journal = journal.to_str().unwrap();
            if option == "--report" {
                args.push(journal);
            }
            args.extend([option, path]);
            if option == "--sim-state" {
                args.extend(["--trace-file", trace.to_str().unwrap()]);
            }
            let r = apdu_run_within(&args, 30);
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            let line = one_line(&r);
            let named = if option == "--trace-file" {
                line.contains("cannot create") && line.contains("trace file")
            } else {
                line.contains(option) && line.contains(path)
            };
            assert!(named, "{line}");
            // Nothing was sent: no trace, no journal.
            assert!(!trace.exists(), "{args:?}");
            assert!(!Path::new(journal).exists(), "{args:?}");
        }
    }
}

#[test]
fn sim_readers_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let profile = script(dir.path(), "p.yaml", PROFILE);
    let journal = dir.path().join("j.jsonl");
    let r = apdu_run_within(
        &[
            "batch",
            profile.to_str().unwrap(),
            "--sim",
            "iso7816",
            "--count",
            "1",
            "--sim-readers",
            "1000",
            "--journal",
            journal.to_str().unwrap(),
        ],
        30,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(one_line(&r).contains("--sim-readers 1000: at most 64"));
    assert!(!journal.exists());
}

// ---- outputs that cannot be written ----

const TRACED: &str = "print(\"start\");\nfor i in 0..20 { send(\"00 A4 00 0C 02 2F 00\"); }\nsend(\"00 D6 00 00 02 AB CD\");\nprint(\"end\");\n";

#[test]
fn a_full_stderr_under_trace_stops_the_run_like_ctrl_c() {
    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full here");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "t.rhai", TRACED);
    let state = dir.path().join("card.json");
    let mut command = bin();
    command.args([
        "--sim",
        "iso7816",
        "--trace",
        "--sim-state",
        state.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    command.stdout(Stdio::piped()).stderr(Stdio::from(full));
    let child = command.spawn().unwrap();
    let mut reaper = Reaper(Some(child));
    let output = reaper.0.take().unwrap().wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "stopped as on Ctrl-C");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "start\n");
    assert!(state.exists(), "the simulated card was saved");
}

#[test]
fn a_stdout_closed_mid_batch_stops_it_with_the_journal_intact() {
    let dir = tempfile::tempdir().unwrap();
    let profile = script(dir.path(), "p.yaml", PROFILE);
    let journal = dir.path().join("j.jsonl");
    let mut command = bin();
    command.args([
        "batch",
        profile.to_str().unwrap(),
        "--sim",
        "iso7816",
        "--count",
        "100000",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut reaper = Reaper(Some(command.spawn().unwrap()));
    let child = reaper.0.as_mut().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("ok"), "{first}");
    drop(stdout);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = reaper.0.as_mut().unwrap().try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the batch went on");
        std::thread::sleep(Duration::from_millis(20));
    };
    reaper.0 = None;
    assert_eq!(status.code(), Some(130));
    let records: Vec<serde_json::Value> = fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = records.last().unwrap();
    assert_eq!(last["event"], "end", "the last card is finished: {last}");
    let done = records.iter().filter(|r| r["event"] == "end").count();
    assert!(done < 100_000, "stopped early");
}
