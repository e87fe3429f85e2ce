//! Production batches through the real stack: `apdu-run batch --reader "Virtual PCD 00 00"`
//! with cards put into pcscd's virtual reader by `apdu-run sim serve`, so every card is
//! noticed, inserted and removed by pcscd's own polling.
//!
//! Like the rest of `stack`, these run only with `APDU_RUN_PCSC=1` under
//! `tests/stack/with-pcscd.sh`; otherwise they print a note and pass.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::server::Server;
use super::{READER, stack};
use crate::batch::{Dir, check_journal, read_lines};
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
fn spawn_batch(dir: &Dir, args: &[&str]) -> Child {
    dir.command(&["batch"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a batch to end; kills it (and fails) if it runs longer than `limit`.
#[track_caller]
fn finish(child: Child, limit: Duration) -> Ran {
    let pid = child.id().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => ran(output.unwrap()),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status();
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
