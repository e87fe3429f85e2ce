//! Flags that only mean something with a real reader: `run --wait`, `run --protocol`, and
//! `sim serve --timing` (the arrival times `benches/stack.sh` reads). The protocol check
//! needs no reader and runs always; the rest needs pcscd (see `stack.rs`).

use std::thread;
use std::time::Duration;

use apdu_run::reader::pcsc::CardState;

use super::server::{Server, slot_state, wait_until};
use super::{READER, stack, traced};
use crate::apdu_run;

#[test]
fn wait_gives_up_after_its_seconds_or_runs_the_card_inserted_meanwhile() {
    let Some(_stack) = stack() else { return };
    wait_until("the slot to empty", || slot_state() == CardState::Empty);
    let demo = "scripts/iso7816_demo.rhai";
    let r = apdu_run(&["--reader", READER, "--wait", "1", demo]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "error: no card inserted in reader `Virtual PCD 00 00` within 1s\n"
    );
    // The card arrives while the run waits for it.
    let late = thread::spawn(|| {
        thread::sleep(Duration::from_millis(500));
        Server::start(&["--card", "iso7816"])
    });
    let r = apdu_run(&["--reader", READER, "--wait", "30", demo]);
    let _server = late.join().unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("reads back CAFEBABE"), "{}", r.stdout);
}

#[test]
fn protocol_t0_talks_t0_and_t1_is_refused_by_a_t0_card() {
    let Some(_stack) = stack() else { return };
    let _server = Server::present(&["--card", "iso7816-t0"]);
    let demo = "scripts/iso7816_demo.rhai";
    let (t0, _) = traced(&["--reader", READER, "--protocol", "t0", demo]);
    let (simulated, _) = traced(&["--sim", "iso7816-t0", demo]);
    assert_eq!(t0.code, 0, "{}", t0.stderr);
    assert_eq!(t0.stdout, simulated.stdout);
    let t1 = apdu_run(&["--reader", READER, "--protocol", "t1", demo]);
    assert_eq!(t1.code, 3, "{}", t1.stderr);
    assert!(t1.stdout.is_empty(), "nothing ran: {}", t1.stdout);
}

#[test]
fn timing_records_every_command_the_card_received() {
    let Some(_stack) = stack() else { return };
    let dir = tempfile::tempdir().unwrap();
    let timing = dir.path().join("timing");
    let mut server = Server::start(&["--card", "iso7816", "--timing", timing.to_str().unwrap()]);
    wait_until("the served card", || slot_state() == CardState::Present);
    let (r, trace) = traced(&["--reader", READER, "scripts/iso7816_demo.rhai"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(server.interrupt().success(), "{}", server.stderr());
    let sent: Vec<String> = trace
        .iter()
        .filter(|(dir, _, _)| dir == ">>")
        .map(|(_, hex, _)| hex[..4].to_owned())
        .collect();
    let text = std::fs::read_to_string(&timing).unwrap();
    let received: Vec<String> = text
        .lines()
        .map(|line| line.split(' ').skip(1).collect::<String>())
        .collect();
    // First the UID query `sim serve` makes itself to name the inserted card, then the
    // run's commands, header by header, in order.
    assert_eq!(received[0], "FFCA");
    assert_eq!(received[1..], sent);
    let nanos: Vec<u64> = text
        .lines()
        .map(|line| line.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(nanos.windows(2).all(|w| w[0] <= w[1]), "{nanos:?}");
}

/// Checked before any reader is looked at: no pcscd needed.
#[test]
fn an_unknown_protocol_exits_2_for_run_and_batch() {
    let demo = "scripts/iso7816_demo.rhai";
    let profile = "profiles/iso7816_perso.yaml";
    for args in [
        vec!["--reader", READER, "--protocol", "t2", demo],
        vec![
            "batch",
            "--reader",
            READER,
            "--protocol",
            "t2",
            "--count",
            "1",
            profile,
        ],
    ] {
        let r = apdu_run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr,
            "error: unknown protocol `t2` (expected `any`, `t0` or `t1`)\n"
        );
    }
}
