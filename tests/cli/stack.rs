//! `apdu-run sim serve` through the real stack: the simulated card in pcscd's `Virtual PCD`
//! reader (vsmartcard vpcd), used by `apdu-run --reader` and by the PC/SC backend.
//!
//! These need pcscd with the vpcd driver and run only with `APDU_RUN_PCSC=1`, under
//! `tests/stack/with-pcscd.sh` (`make stack-test`); otherwise they print a note and pass.
//! The argument checks and the fake-vpcd test at the end run always.
//!
//! ```text
//! APDU_RUN_PCSC=1 tests/stack/with-pcscd.sh cargo test --test cli stack -- --test-threads=1
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use apdu_run::reader::pcsc::{CardState, PcscReader, Protocol, list_readers};
use apdu_run::reader::{Card, Reader};
use apdu_run::sim::{Kind, Options, Simulator};

use super::{Ran, apdu_run, bin, ran, script};

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

/// The state pcscd reports for `Virtual PCD 00 00`.
fn slot_state() -> CardState {
    list_readers().unwrap()[0].state
}

#[track_caller]
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < NOTICE, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// `apdu-run sim serve …` in the background, its stderr collected line by line.
struct Server {
    child: Child,
    stderr: Arc<Mutex<String>>,
    /// Whether it serves the real vpcd, so that dropping it waits for pcscd to see the card go.
    on_stack: bool,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        Server::spawn(args, true)
    }

    /// A server for a fake vpcd in the test, not pcscd's.
    fn off_stack(args: &[&str]) -> Server {
        Server::spawn(args, false)
    }

    fn spawn(args: &[&str], on_stack: bool) -> Server {
        let mut child = bin()
            .args(["sim", "serve"])
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        thread::spawn(move || {
            for line in pipe.lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Server {
            child,
            stderr,
            on_stack,
        }
    }

    /// Starts the server and waits until pcscd sees its card.
    fn present(args: &[&str]) -> Server {
        let server = Server::start(args);
        wait_until("the served card", || slot_state() == CardState::Present);
        server
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the server to exit by itself.
    fn exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < NOTICE,
                "server still running:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server as Ctrl-C does.
    fn interrupt(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        self.exit()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The next test starts from an empty slot, not one pcscd has yet to poll. pcscd may
        // report it empty before its polling thread has seen it so (after a failed reset of
        // a vanished card); a card inserted before that poll would go unnoticed.
        if self.on_stack && !thread::panicking() {
            wait_until("the slot to empty", || slot_state() == CardState::Empty);
            thread::sleep(Duration::from_millis(600));
        }
    }
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
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert_eq!(lines[0]["state"], "present");
    assert_eq!(lines[0]["atr"], spaced.concat());
    assert_eq!(lines[1]["state"], "empty");
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
    let run = bin()
        .args(["--reader", READER])
        .arg(&looping)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(500));
    let _ = server.child.kill();
    let r = ran(run.wait_with_output().unwrap());
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    // Pulled between two exchanges, the card is reported removed. Pulled during one, vpcd
    // sees the connection end while it waits for the answer and hands pcscd a successful
    // empty answer (its receive returns 0 bytes), which the PC/SC backend reports as a short
    // answer; mapping that to "card removed" belongs in `reader/pcsc.rs`.
    assert!(
        r.stderr
            .contains("card removed from reader `Virtual PCD 00 00`")
            || r.stderr.contains("card answered 0 byte(s)"),
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

// ---------------------------------------------------------------------------------------------
// Without pcscd.

#[test]
fn serve_refuses_bad_arguments_with_exit_2() {
    let cases: [(&[&str], &str); 6] = [
        (&["--card", "classic-9k"], "classic-9k"),
        (
            &["--card", "iso7816", "--count", "3", "--state", "x.json"],
            "--state keeps one card; it cannot be combined with --count 3",
        ),
        (
            &["--card", "iso7816", "--count", "2", "--sim-uid", "04112233"],
            "--sim-uid names one card's UID; with --count 2 each card gets its own",
        ),
        (
            &["--card", "iso7816", "--sim-uid", "04A"],
            "--sim-uid `04A`",
        ),
        (
            &["--card", "iso7816", "--vpcd", "35963"],
            "expected HOST:PORT",
        ),
        (&["--card", "iso7816", "--count", "0"], "--count"),
    ];
    for (args, message) in cases {
        let mut all = vec!["sim", "serve"];
        all.extend_from_slice(args);
        let r = apdu_run(&all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
}

/// An address nothing listens on.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

#[test]
fn serve_without_vpcd_exits_3_with_one_line() {
    let address = closed_port();
    let r = apdu_run(&["sim", "serve", "--card", "iso7816", "--vpcd", &address]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with(&format!("error: cannot reach vpcd at `{address}`: ")),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn serve_logs_a_malformed_frame_and_reconnects() {
    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = vpcd.local_addr().unwrap().to_string();
    let server = Server::off_stack(&["--card", "iso7816", "--vpcd", &address]);
    let (mut first, _) = vpcd.accept().unwrap();
    // A frame announcing 16 bytes, 3 of which arrive before the connection closes.
    first.write_all(&[0x00, 0x10, 0x00, 0xA4, 0x00]).unwrap();
    drop(first);
    let (mut second, _) = vpcd.accept().unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    second.write_all(&[0x00, 0x01, 0xAA]).unwrap();
    let mut reply = [0; 4];
    second.read_exact(&mut reply).unwrap();
    assert_eq!(reply[..2], [0x00, 0x02], "one-byte commands are answered");
    drop(second);
    drop(vpcd);
    wait_until("the log line", || {
        server.stderr().contains("malformed frame")
    });
    let stderr = server.stderr();
    assert!(
        stderr.contains(
            "card 1: malformed frame from vpcd (a frame announced 16 payload bytes, but the \
             connection closed after 5 bytes of it); reconnecting\n"
        ),
        "{stderr}"
    );
}
