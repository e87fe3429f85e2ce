//! `apdu-run sim serve` through the real stack: the simulated card in pcscd's `Virtual PCD`
//! reader (vsmartcard vpcd), used by `apdu-run --reader` and by the PC/SC backend.
//!
//! These need pcscd with the vpcd driver and run only with `APDU_RUN_PCSC=1`, under
//! `tests/stack/with-pcscd.sh` (`make stack-test`); otherwise they print a note and pass.
//! The argument checks and the fake-vpcd test (`stack/offline.rs`) run always.
//!
//! ```text
//! APDU_RUN_PCSC=1 tests/stack/with-pcscd.sh cargo test --test cli stack -- --test-threads=1
//! ```

mod batch;
mod cos;
mod families;
mod flags;
mod iso;
mod offline;
mod server;
mod with_pcscd;

use std::process::Stdio;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use apdu_run::reader::pcsc::{CardState, PcscReader, Protocol};
use apdu_run::reader::{Card, Reader};
use apdu_run::sim::{Kind, Options, Simulator};

use super::child::Running;
use super::{
    Ran, apdu_run, bin, documented_command, ran, script, shipped_scripts, with_copied_state,
};
use server::{Server, slot_state, wait_until};

const READER: &str = "Virtual PCD 00 00";
/// Time enough for pcscd (polling vpcd every 0.4 s) to notice a card come, go or power down.
const NOTICE: Duration = Duration::from_secs(10);
/// VERIFY PIN 01 with a wrong value: `63 C2` on a fresh demo card.
const WRONG_PIN: [u8; 9] = [0x00, 0x20, 0x00, 0x01, 0x04, 0x39, 0x39, 0x39, 0x39];

/// Serialises the tests that share the virtual readers.
static STACK: Mutex<()> = Mutex::new(());

fn stack() -> Option<MutexGuard<'static, ()>> {
    if std::env::var("APDU_RUN_PCSC").as_deref() != Ok("1") {
        eprintln!("skipped: needs pcscd with vpcd; run `make stack-test`");
        return None;
    }
    Some(STACK.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Runs `args` plus a trace file; returns the run and the (dir, hex, sw) of each exchange.
fn traced(args: &[&str]) -> (Ran, Vec<(String, String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let r = ran(bin()
        .arg("--trace-file")
        .arg(&trace)
        .args(args)
        .output()
        .unwrap());
    let lines = std::fs::read_to_string(&trace).unwrap_or_default();
    let exchanges = lines
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = |key: &str| v[key].as_str().unwrap_or("").to_owned();
            (text("dir"), text("hex"), text("sw"))
        })
        .collect();
    (r, exchanges)
}

fn demo_through_pcscd_is_the_demo_on_the_simulator(kind: &str) {
    let Some(_stack) = stack() else { return };
    let _server = Server::present(&["--card", kind]);
    let demo = "scripts/iso7816_demo.rhai";
    let (served, served_trace) = traced(&["--reader", READER, demo]);
    let (simulated, simulated_trace) = traced(&["--sim", kind, demo]);
    assert_eq!(served.code, 0, "{}", served.stderr);
    assert_eq!(simulated.code, 0, "{}", simulated.stderr);
    assert_eq!(served.stdout, simulated.stdout);
    assert_eq!(served_trace, simulated_trace);
    assert!(served_trace.len() > 10, "{served_trace:?}");
    if kind == "iso7816-t0" {
        // pcscd connected with T=0 (the ATR offers nothing else), so 61xx reached apdu-run.
        assert!(served_trace.iter().any(|(_, _, sw)| sw.starts_with("61")));
    }
}

#[test]
fn a_recorded_session_served_through_pcscd_replays_as_the_card() {
    let Some(_stack) = stack() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("demo.dump");
    let demo = "scripts/iso7816_demo.rhai";
    let recorded = ran(bin()
        .args(["--sim", "iso7816", "--record"])
        .arg(&dump)
        .arg(demo)
        .output()
        .unwrap());
    assert_eq!(recorded.code, 0, "{}", recorded.stderr);
    let spec = format!("replay:{}", dump.display());
    let server = Server::present(&["--card", &spec]);
    let (served, _) = traced(&["--reader", READER, demo]);
    assert_eq!(served.code, 0, "{}\n{}", served.stderr, server.stderr());
    assert_eq!(served.stdout, recorded.stdout);
    // The server asked the card nothing of its own: the session replayed whole, in order.
    let (again, _) = traced(&["--reader", READER, demo]);
    assert_ne!(again.code, 0, "a dump is one session: {}", again.stdout);
}

#[test]
fn demo_through_pcscd_matches_the_simulator_t1() {
    demo_through_pcscd_is_the_demo_on_the_simulator("iso7816");
}

#[test]
fn demo_through_pcscd_matches_the_simulator_t0() {
    demo_through_pcscd_is_the_demo_on_the_simulator("iso7816-t0");
}

#[test]
fn readers_lists_both_virtual_readers_with_the_card_state() {
    let Some(_stack) = stack() else { return };
    let _server = Server::present(&["--card", "iso7816-t0"]);
    let atr = Simulator::new(Kind::Iso7816T0, &Options::default())
        .card()
        .atr()
        .to_vec();
    let spaced: Vec<String> = atr.iter().map(|b| format!("{b:02X}")).collect();
    let r = apdu_run(&["readers"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        format!(
            "0  Virtual PCD 00 00  present  ATR {}\n1  Virtual PCD 00 01  empty\n",
            spaced.join(" ")
        )
    );
    let r = apdu_run(&["readers", "--json"]);
    // One document: an array of the readers.
    let document: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let lines = document.as_array().unwrap();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert_eq!(lines[0]["index"], 0);
    assert_eq!(lines[0]["name"], READER);
    assert_eq!(lines[0]["state"], "present");
    assert_eq!(lines[0]["atr"], spaced.concat());
    assert_eq!(lines[1]["state"], "empty");
    // `Virtual PCD` names no reader family: probed when a script needs it.
    assert_eq!(lines[0]["kind"], serde_json::Value::Null);
}

#[test]
fn a_card_pulled_mid_script_exits_3() {
    let Some(_stack) = stack() else { return };
    let mut server = Server::present(&["--card", "iso7816"]);
    let dir = tempfile::tempdir().unwrap();
    let looping = script(
        dir.path(),
        "loop.rhai",
        "send(\"00 A4 00 0C 02 2F 00\", \"9000\");\n\
         for i in 0..10000000 { send(\"00 B0 00 00 10\", \"9000\"); }\n",
    );
    let run = Running::spawn(
        bin()
            .args(["--reader", READER])
            .arg(&looping)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    thread::sleep(Duration::from_millis(500));
    let _ = server.child.kill();
    let r = ran(run.wait_with_output().unwrap());
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    // Pulled between two exchanges or during one (vpcd then hands pcscd an empty
    // "successful" answer, which the PC/SC backend checks against the slot state), the card
    // is reported removed.
    assert!(
        r.stderr
            .contains("card removed from reader `Virtual PCD 00 00`"),
        "{}",
        r.stderr
    );
}

#[test]
fn count_presents_fresh_cards_one_after_another() {
    let Some(_stack) = stack() else { return };
    let mut server = Server::start(&["--card", "iso7816", "--count", "3", "--dwell-ms", "5000"]);
    let mut reader = PcscReader::open(READER, Protocol::Any).unwrap();
    for _ in 1..=3 {
        let mut card = reader.next_card(Some(NOTICE)).unwrap().expect("a card");
        // 63C2: a fresh card each time, not the same one with a try less.
        assert_eq!(card.transmit(&WRONG_PIN).unwrap(), [0x63, 0xC2]);
        drop(card);
        reader.wait_removed(Some(NOTICE)).unwrap();
    }
    let status = server.exit();
    assert!(status.success(), "{status}\n{}", server.stderr());
    let lines: Vec<String> = server.stderr().lines().map(str::to_owned).collect();
    let atr = "3B 8A 81 31 FE 45 80 68 41 50 44 55 2D 52 55 4E 0D";
    let expected: Vec<String> = (1..=3)
        .flat_map(|n| {
            [
                format!("card {n}: inserted (ATR {atr})"),
                format!("card {n}: removed after 1 command"),
            ]
        })
        .collect();
    assert_eq!(lines, expected);
}

#[test]
fn state_is_saved_when_pcscd_powers_the_card_off_and_reloaded() {
    let Some(_stack) = stack() else { return };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    let state_arg = state.to_str().unwrap();
    let write = script(
        dir.path(),
        "write.rhai",
        "iso::select(\"3F00/0010\"); iso::verify(1, \"1234\");\n\
         iso::update_binary(0, \"CA FE BA BE\");\n",
    );
    let read = script(
        dir.path(),
        "read.rhai",
        "iso::select(\"3F00/0010\"); print(hex(iso::read_binary(0, 4)));\n",
    );
    let mut server = Server::present(&["--card", "iso7816", "--state", state_arg]);
    let r = apdu_run(&["--reader", READER, write.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    wait_until("the image", || state.exists());
    assert!(server.interrupt().success(), "{}", server.stderr());
    drop(server);
    let _server = Server::present(&["--card", "iso7816", "--state", state_arg]);
    let r = apdu_run(&["--reader", READER, read.to_str().unwrap()]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "CAFEBABE\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_command_too_long_for_vpcd_fails_cleanly_and_the_card_stays() {
    let Some(_stack) = stack() else { return };
    let server = Server::present(&["--card", "iso7816"]);
    let dir = tempfile::tempdir().unwrap();
    // 7 + 65,535 bytes: a valid extended APDU, longer than a vpcd frame can carry.
    let big = script(
        dir.path(),
        "big.rhai",
        "let c = unhex(\"00D6000000FFFF\"); c += blob(65535, 0x41); send(c);\n",
    );
    let r = apdu_run(&["--reader", READER, big.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    // vpcd refused it and dropped the connection; the server put the card back.
    wait_until("the card back", || slot_state() == CardState::Present);
    let r = apdu_run(&["--reader", READER, "scripts/iso7816_demo.rhai"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        server
            .stderr()
            .contains("card 1: vpcd closed the connection")
    );
}

/// Every shipped script, run as its header documents on `--sim KIND`, and again with the
/// same card served into pcscd: the same exit code, output and exchanges, for every kind.
#[test]
fn every_shipped_script_through_pcscd_matches_the_simulator() {
    let Some(_stack) = stack() else { return };
    for path in shipped_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let sim_args = with_copied_state(documented_command(&path), dir.path());
        let at = |flag: &str| sim_args.iter().position(|a| a == flag);
        let kind = sim_args[at("--sim").unwrap() + 1].clone();
        // The served card starts from the same image; the client names the reader instead.
        let mut server_args = vec!["--card".to_string(), kind.clone()];
        let mut reader_args = Vec::new();
        let mut skip = 0;
        for (i, arg) in sim_args.iter().enumerate() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            match arg.as_str() {
                "--sim" => {
                    reader_args.extend(["--reader".to_string(), READER.to_string()]);
                    skip = 1;
                }
                "--sim-seed" => {
                    server_args.extend(["--sim-seed".to_string(), sim_args[i + 1].clone()]);
                    skip = 1;
                }
                "--sim-state" => {
                    let copy = dir.path().join("served.json");
                    std::fs::copy(&sim_args[i + 1], &copy).unwrap();
                    server_args
                        .extend(["--state".to_string(), copy.to_string_lossy().into_owned()]);
                    skip = 1;
                }
                _ => reader_args.push(arg.clone()),
            }
        }
        let server_args: Vec<&str> = server_args.iter().map(String::as_str).collect();
        let server = Server::present(&server_args);
        let reader_args: Vec<&str> = reader_args.iter().map(String::as_str).collect();
        let (served, served_trace) = traced(&reader_args);
        drop(server);
        let sim_args: Vec<&str> = sim_args.iter().map(String::as_str).collect();
        let (simulated, simulated_trace) = traced(&sim_args);
        let name = path.display();
        assert_eq!(simulated.code, 0, "{name}: {}", simulated.stderr);
        assert_eq!(served.code, 0, "{name} through pcscd: {}", served.stderr);
        assert_eq!(served.stdout, simulated.stdout, "{name}");
        assert_eq!(served_trace, simulated_trace, "{name}");
        // Let pcscd see the slot empty before the next card is served.
        wait_until("the slot to empty", || slot_state() == CardState::Empty);
    }
}

/// Without `--reader`, a run takes the first reader that holds a card; with none holding
/// one, it names the readers it looked at and exits 3.
#[test]
fn without_reader_the_first_reader_with_a_card_is_used() {
    let Some(_stack) = stack() else { return };
    // A card served by an earlier test may still show until pcscd's next poll.
    wait_until("the slot to empty", || slot_state() == CardState::Empty);
    let r = apdu_run(&["scripts/iso7816_demo.rhai"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "error: no card in reader `Virtual PCD 00 00`, `Virtual PCD 00 01`\n"
    );
    let _server = Server::present(&["--card", "iso7816"]);
    let r = apdu_run(&["scripts/iso7816_demo.rhai"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("reads back CAFEBABE"), "{}", r.stdout);
}
