//! Production batches through the real stack: `apdu-run batch --reader "Virtual PCD 00 00"`
//! with cards put into pcscd's virtual reader by `apdu-run sim serve`, so every card is
//! noticed, inserted and removed by pcscd's own polling.
//!
//! Like the rest of `stack`, these run only with `APDU_RUN_PCSC=1` under
//! `tests/stack/with-pcscd.sh`; otherwise they print a note and pass.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use apdu_run::reader::pcsc::list_readers;

use super::server::{Server, wait_until};
use super::{READER, stack};
use crate::batch::{Dir, check_journal, read_lines};
use crate::child::{Running, alive, proc_stat, signal};
use crate::{Ran, ran};

/// The shipped Ultralight ticket profile.
const TICKET_PROFILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/profiles/ultralight_ticket.yaml"
);

/// Longest a whole batch may take before the test gives up on it (50 cards through pcscd
/// take about a second and a half each: insertion seen at the next 0.4 s poll, removal
/// once pcscd has powered the used card off).
const BATCH_LIMIT: Duration = Duration::from_secs(300);

/// A tickets CSV (`ticket,fare`) with `rows` rows: tickets 1001, 1002, ….
fn tickets(dir: &Dir, rows: usize) -> String {
    let mut text = String::from("ticket,fare\n");
    for i in 1..=rows {
        text.push_str(&format!("{},{}\n", 1000 + i, 150 + i));
    }
    dir.write("tickets.csv", &text)
}

/// Starts `apdu-run batch ARGS` in `dir`, its output collected.
fn spawn_batch(dir: &Dir, args: &[&str]) -> Running {
    Running::spawn(
        dir.command(&["batch"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
}

/// Waits for a batch to end; kills it (and fails) if it runs longer than `limit`.
#[track_caller]
fn finish(child: Running, limit: Duration) -> Ran {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => ran(output.unwrap()),
        Err(_) => {
            signal(pid, "KILL");
            let output = rx.recv().unwrap().unwrap();
            let r = ran(output);
            panic!(
                "batch still running after {limit:?}\nstdout:\n{}\nstderr:\n{}",
                r.stdout, r.stderr
            );
        }
    }
}

/// The UID each `ok` end gives, by the card's `seq`.
fn ok_uids(lines: &[Value]) -> BTreeMap<u64, String> {
    lines
        .iter()
        .filter(|l| l["event"] == "end" && l["verdict"] == "ok")
        .map(|l| {
            (
                l["seq"].as_u64().unwrap(),
                l["uid"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The records of `path` that are `event` with `verdict` (any verdict when `None`).
fn records<'a>(lines: &'a [Value], event: &str, verdict: Option<&str>) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["event"] == event && verdict.is_none_or(|v| l["verdict"] == v))
        .collect()
}

fn journal(path: &Path) -> Vec<Value> {
    read_lines(path)
}

#[test]
fn a_50_card_ticket_batch_through_pcscd_issues_the_cards_the_simulator_would() {
    let Some(_stack) = stack() else { return };
    let dir = Dir::new();
    let data = tickets(&dir, 50);
    let served_journal = dir.path("served.journal.jsonl");
    let simulated_journal = dir.path("simulated.journal.jsonl");

    let mut server = Server::start(&["--card", "ultralight", "--count", "50"]);
    let served = spawn_batch(
        &dir,
        &[
            "--reader",
            READER,
            "--arm-irreversible",
            "--count",
            "50",
            "--data",
            &data,
            "--journal",
            served_journal.to_str().unwrap(),
            TICKET_PROFILE,
        ],
    );
    let r = finish(served, BATCH_LIMIT);
    assert_eq!(r.code, 0, "{}\n{}\n{}", r.stdout, r.stderr, server.stderr());
    // The server presented its 50th card and, once it was removed, ended by itself.
    let status = server.exit();
    assert!(status.success(), "{status}\n{}", server.stderr());

    let simulated = dir.run(&[
        "batch",
        "--sim",
        "ultralight",
        "--arm-irreversible",
        "--count",
        "50",
        "--data",
        &data,
        "--journal",
        simulated_journal.to_str().unwrap(),
        TICKET_PROFILE,
    ]);
    assert_eq!(simulated.code, 0, "{}", simulated.stderr);

    let lines = journal(&served_journal);
    let checked = check_journal(&lines);
    assert_eq!(checked.ok_rows.len(), 50, "{lines:?}");
    assert_eq!((checked.failed, checked.open), (0, 0));
    assert_eq!(
        records(&lines, "begin", None).len(),
        50,
        "no card begun twice"
    );
    assert!(
        lines[1..].iter().all(|l| l["reader"] == READER),
        "{lines:?}"
    );
    let served_uids = ok_uids(&lines);
    let distinct: std::collections::BTreeSet<&String> = served_uids.values().collect();
    assert_eq!(distinct.len(), 50, "{served_uids:?}");
    // The same stream rule on both sides: card n has the same UID, and got row n.
    assert_eq!(served_uids, ok_uids(&journal(&simulated_journal)));
    for end in records(&lines, "end", Some("ok")) {
        assert_eq!(end["row"], end["seq"], "{end}");
    }
}

/// An Ultralight profile that writes the row's `serial` into page 4, then reads the page
/// `${rounds}` times (some seconds through pcscd: time to pull the card), then checks it.
const SLOW_PROFILE: &str = r#"name: slow
card: ultralight
vars: { rounds: "30000" }
steps:
  - name: read uid
    apdu: FF CA 00 00 00
  - name: write serial
    apdu: FF D6 00 04 04 ${serial}
  - name: read many times
    script: |
      let n = parse_int(rounds);
      for i in 0..n { send("FF B0 00 04 04", "9000"); }
  - name: read back
    apdu: FF B0 00 04 04
    response: ${serial}
"#;

#[test]
fn a_card_pulled_mid_batch_is_interrupted_and_resumed_with_its_row() {
    let Some(_stack) = stack() else { return };
    let dir = Dir::new();
    let profile = dir.write("slow.yaml", SLOW_PROFILE);
    let data = dir.data(3);
    let journal_path = dir.path("slow.journal.jsonl");
    let args = [
        "--reader",
        READER,
        "--count",
        "1",
        "--data",
        &data,
        "--journal",
        journal_path.to_str().unwrap(),
        &profile,
    ];
    let begun = || !records(&journal(&journal_path), "begin", None).is_empty();
    let interrupted = || !records(&journal(&journal_path), "end", Some("interrupted")).is_empty();

    // The one card (sim serve's default Ultralight) is pulled while the profile runs.
    let mut server = Server::present(&["--card", "ultralight"]);
    let run = spawn_batch(&dir, &args);
    wait_until("the card's begin", begun);
    let _ = server.child.kill();
    wait_until("the card's interrupted end", interrupted);
    drop(server);
    // The pulled card ends the batch with exit 3; it is journalled `interrupted`.
    let r = finish(run, BATCH_LIMIT);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.starts_with("error: a card was lost mid-run ("),
        "{}",
        r.stderr
    );

    let lines = journal(&journal_path);
    let checked = check_journal(&lines);
    assert_eq!((checked.ok_rows.len(), checked.open), (0, 1), "{lines:?}");
    let end = records(&lines, "end", Some("interrupted"))[0].clone();
    assert_eq!(end["row"], 1, "{end}");
    assert_eq!(end["reader"], READER, "{end}");
    let uid = end["uid"].as_str().unwrap().to_string();

    // The same card again, and the batch restarted: the card is finished with its row.
    // (`--count 1`: the same default card, taken out once used, so the batch sees it go.)
    let mut server = Server::present(&["--card", "ultralight", "--count", "1"]);
    let r = finish(spawn_batch(&dir, &args), BATCH_LIMIT);
    assert_eq!(r.code, 0, "{}\n{}\n{}", r.stdout, r.stderr, server.stderr());
    assert!(server.exit().success(), "{}", server.stderr());
    drop(server);
    let lines = journal(&journal_path);
    let checked = check_journal(&lines);
    assert_eq!(checked.open, 0, "{lines:?}");
    assert_eq!(checked.ok_rows.get(&1), Some(&uid), "{lines:?}");
    assert_eq!(checked.ok_rows.len(), 1, "{lines:?}");
    let begins = records(&lines, "begin", None);
    assert_eq!(begins.len(), 2, "{lines:?}");
    assert!(
        begins
            .iter()
            .all(|b| b["uid"] == uid.as_str() && b["row"] == 1 && b["seq"] == 1),
        "{lines:?}"
    );
}

/// A process's parent pid, from `/proc/PID/stat`.
fn parent(pid: u32) -> Option<u32> {
    proc_stat(pid)?.get(1)?.parse().ok()
}

/// The pcscd that `with-pcscd.sh` started for this run: its pid file names it and its
/// parent is one of this process's ancestors. `None` for a pcscd started otherwise (by
/// hand, by systemd), which this test must not stop.
fn our_pcscd() -> Option<u32> {
    let text = std::fs::read_to_string("/run/pcscd/pcscd.pid").ok()?;
    let pid: u32 = text
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    let its_parent = parent(pid)?;
    let mut ancestor = std::process::id();
    while ancestor > 1 {
        if ancestor == its_parent {
            return Some(pid);
        }
        ancestor = parent(ancestor)?;
    }
    None
}

fn vpcd_listed() -> bool {
    list_readers().is_ok_and(|readers| readers.iter().any(|r| r.name == READER))
}

/// Starts a new pcscd for the rest of this test process. It is started with a parent-death
/// signal from a thread that lives as long as the process (waiting on it), so it stops
/// when this test binary exits and `with-pcscd.sh`, whose own pcscd this test stopped,
/// leaves nothing running.
fn restart_pcscd() {
    std::thread::spawn(|| {
        let child = std::process::Command::new("setpriv")
            .args(["--pdeathsig", "TERM", "pcscd", "-f"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(mut child) = child {
            let _ = child.wait();
        }
    });
    wait_until("the new pcscd to list the Virtual PCD", vpcd_listed);
}

/// Stopping pcscd under a running batch ends it with exit 3 and a one-line message, and
/// loses nothing: the journal has an `end` for every `begin` but the card in progress,
/// which a restarted batch (with pcscd back) resumes with its row.
///
/// This stops the pcscd `with-pcscd.sh` started (there is one pcscd socket and one pair of
/// vpcd ports, so a private one is not possible) and starts a new one that lives until this
/// test binary exits (see [`restart_pcscd`]); the tests after this one use it. Under a
/// pcscd that `with-pcscd.sh` did not start, the test prints a note and passes.
#[test]
fn pcscd_stopped_mid_batch_exits_3_and_loses_nothing() {
    let Some(_stack) = stack() else { return };
    let Some(pcscd) = our_pcscd() else {
        eprintln!("skipped: pcscd was not started by tests/stack/with-pcscd.sh for this run");
        return;
    };
    let dir = Dir::new();
    let profile = dir.write("slow.yaml", SLOW_PROFILE);
    let data = dir.data(5);
    let journal_path = dir.path("slow.journal.jsonl");
    let args = [
        "--reader",
        READER,
        "--count",
        "5",
        "--var",
        "rounds=5000",
        "--data",
        &data,
        "--journal",
        journal_path.to_str().unwrap(),
        &profile,
    ];

    let mut server = Server::start(&["--card", "ultralight", "--count", "5"]);
    let run = spawn_batch(&dir, &args);
    // One card issued and the next begun: pcscd goes away mid-batch, likely mid-card.
    wait_until("a second card's begin", || {
        records(&journal(&journal_path), "begin", None).len() >= 2
    });
    assert!(signal(pcscd, "TERM"), "could not stop pcscd {pcscd}");
    wait_until("pcscd to stop", || !alive(pcscd));
    let r = finish(run, BATCH_LIMIT);
    let _ = server.child.kill();
    let _ = server.child.wait();
    restart_pcscd();
    drop(server);

    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    eprintln!("the batch said: {}", r.stderr.trim_end());
    let lines = journal(&journal_path);
    let checked = check_journal(&lines);
    assert!(checked.open <= 1, "{lines:?}");
    assert!(!checked.ok_rows.is_empty(), "{lines:?}");
    let unfinished: Vec<u64> = records(&lines, "begin", None)
        .iter()
        .filter(|b| {
            !records(&lines, "end", None)
                .iter()
                .any(|e| e["seq"] == b["seq"] && e["verdict"] != "interrupted")
        })
        .map(|b| b["row"].as_u64().unwrap())
        .collect();
    assert!(unfinished.len() <= 1, "{lines:?}");

    // pcscd back, the same five cards again, the batch restarted: the card in progress is
    // resumed with its row, the others are issued, nothing twice.
    let mut server = Server::start(&["--card", "ultralight", "--count", "5"]);
    let r = finish(spawn_batch(&dir, &args), BATCH_LIMIT);
    assert_eq!(r.code, 0, "{}\n{}\n{}", r.stdout, r.stderr, server.stderr());
    let _ = server.child.kill();
    drop(server);
    let lines = journal(&journal_path);
    let checked = check_journal(&lines);
    assert_eq!((checked.ok_rows.len(), checked.open), (5, 0), "{lines:?}");
    for row in unfinished {
        let begins: Vec<&Value> = records(&lines, "begin", None)
            .into_iter()
            .filter(|b| b["row"] == row)
            .collect();
        assert!(begins.len() >= 2, "row {row} was resumed: {lines:?}");
        assert!(
            begins.iter().all(|b| b["uid"] == begins[0]["uid"]),
            "{lines:?}"
        );
    }
}

/// The shipped ISO 7816 profile, which tells its contact cards apart by GET DATA CPLC.
const ISO_PROFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/iso7816_perso.yaml");
const ISO_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/iso7816_perso.csv");

/// The identity card n of a served stream has under `ISO_PROFILE`'s `identify:` (CPLC bytes
/// 0-17, the IC serial number `10000000` + n - 1 in the middle).
fn cplc_identity(n: u32) -> String {
    format!("4790504041526001010060021{:07X}0001", n - 1)
}

/// The identities of the journal's `ok` ends, by `seq`.
fn ok_identities(lines: &[Value]) -> BTreeMap<u64, String> {
    records(lines, "end", Some("ok"))
        .into_iter()
        .map(|l| {
            (
                l["seq"].as_u64().unwrap(),
                l["identity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn contact_cards_without_uid_batch_through_pcscd_by_identify_and_resume_by_it() {
    let Some(_stack) = stack() else { return };
    let dir = Dir::new();
    let journal_path = dir.path("iso.journal.jsonl");
    let journal_arg = journal_path.to_str().unwrap();
    let batch = |count: &str| {
        spawn_batch(
            &dir,
            &[
                "--reader",
                READER,
                "--count",
                count,
                "--data",
                ISO_DATA,
                "--journal",
                journal_arg,
                ISO_PROFILE,
            ],
        )
    };

    // Three fresh contact cards: no UID, each told apart by its CPLC.
    let mut server = Server::start(&["--card", "iso7816", "--count", "3"]);
    let r = finish(batch("3"), BATCH_LIMIT);
    assert_eq!(r.code, 0, "{}\n{}\n{}", r.stdout, r.stderr, server.stderr());
    assert!(server.exit().success(), "{}", server.stderr());
    let lines = journal(&journal_path);
    let checked = check_journal(&lines);
    assert_eq!((checked.ok_rows.len(), checked.failed), (3, 0), "{lines:?}");
    let expected: BTreeMap<u64, String> = (1..=3).map(|n| (n, cplc_identity(n as u32))).collect();
    assert_eq!(ok_identities(&lines), expected);
    assert!(
        records(&lines, "begin", None)
            .iter()
            .all(|b| b["uid"].is_null()),
        "{lines:?}"
    );

    // The same three cards again and a fourth: the three are known by their CPLC and
    // skipped (one line for all of them), the fourth gets row 4.
    let mut server = Server::start(&["--card", "iso7816", "--count", "4"]);
    let r = finish(batch("4"), BATCH_LIMIT);
    assert_eq!(r.code, 0, "{}\n{}\n{}", r.stdout, r.stderr, server.stderr());
    assert!(server.exit().success(), "{}", server.stderr());
    assert!(
        r.stdout
            .starts_with("resuming: 3 cards already in the journal (3 ok, 0 failed)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "ok          seq 4 row 4  {}  {READER}",
            cplc_identity(4)
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("1 ok, 0 failed, 0 interrupted, 3 skipped"),
        "{}",
        r.stdout
    );
    let lines = journal(&journal_path);
    assert_eq!(
        records(&lines, "begin", None).len(),
        4,
        "no card begun twice"
    );
    assert_eq!(ok_identities(&lines).len(), 4);
}

#[test]
fn contact_cards_that_cannot_be_identified_fail_and_stop_the_batch_through_pcscd() {
    let Some(_stack) = stack() else { return };
    let dir = Dir::new();
    // Tag 9F7E is not on the card: it answers 6A88, the card has no identity.
    let text = std::fs::read_to_string(ISO_PROFILE)
        .unwrap()
        .replace("80 CA 9F 7F 00", "80 CA 9F 7E 00")
        .replace(
            "file:iso7816_perso.pin",
            &format!(
                "file:{}",
                concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/iso7816_perso.pin")
            ),
        );
    let profile = dir.write("unknown.yaml", &text);
    let mut server = Server::start(&["--card", "iso7816", "--count", "5"]);
    let r = finish(
        spawn_batch(
            &dir,
            &[
                "--reader",
                READER,
                "--max-failures",
                "2",
                "--data",
                ISO_DATA,
                &profile,
            ],
        ),
        BATCH_LIMIT,
    );
    let _ = server.interrupt();
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("batch ended: 2 cards failed in a row (--max-failures)"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("failed") && l.contains("answered 6A88"))
            .count(),
        2,
        "{}",
        r.stdout
    );
    // No row was taken.
    assert!(records(&journal(&dir.path("unknown.journal.jsonl")), "begin", None).is_empty());
}
