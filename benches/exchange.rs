//! Throughput of the runner on the simulated ISO 7816-4 card.
//!
//! After selecting EF 2F00 (16 bytes): (a) `Card::exchange` of READ BINARY in plain Rust; (b) the same APDU from a Rhai loop of
//! `send("00 B0 00 00 10", "9000")`. Run with `cargo bench --bench exchange`; each figure is
//! the best of five runs of N APDUs, printed as APDUs per second and nanoseconds per APDU.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use apdu_run::apdu::parse_command;
use apdu_run::reader::Card;
use apdu_run::reader::trace::Redactor;
use apdu_run::script::{RunOptions, Script, Settings};
use apdu_run::sim::{Kind, Options, Simulator};

const N: usize = 1_000_000;
const RUNS: usize = 5;

fn best_of(mut f: impl FnMut() -> Duration) -> Duration {
    (0..RUNS).map(|_| f()).min().unwrap_or_default()
}

fn report(name: &str, elapsed: Duration) -> f64 {
    let per_sec = N as f64 / elapsed.as_secs_f64();
    let ns = elapsed.as_nanos() as f64 / N as f64;
    println!("{name:<40} {per_sec:>12.0} APDU/s  {ns:>8.1} ns/APDU");
    per_sec
}

fn main() {
    let select = parse_command("00 A4 00 0C 02 2F 00").expect("valid APDU");
    let command = parse_command("00 B0 00 00 10").expect("valid APDU");
    let plain = best_of(|| {
        let mut card = Simulator::new(Kind::Iso7816, &Options::default()).card();
        assert!(card.exchange(&select).expect("select").is_ok());
        let started = Instant::now();
        for _ in 0..N {
            let response = card.exchange(&command).expect("exchange");
            assert!(response.is_ok());
        }
        started.elapsed()
    });
    let source = format!(
        "send(\"00 A4 00 0C 02 2F 00\", \"9000\");\nfor i in 0..{N} {{ send(\"00 B0 00 00 10\", \"9000\"); }}"
    );
    let script = Script::compile_source("bench.rhai", &source).expect("compiles");
    let rhai = best_of(|| {
        let card = Simulator::new(Kind::Iso7816, &Options::default()).card();
        let options = RunOptions {
            settings: Settings::default(),
            vars: Vec::new(),
            redactor: Redactor::default(),
            output: Rc::new(|_: &str| {}),
            interrupt: Arc::new(AtomicBool::new(false)),
        };
        let started = Instant::now();
        let (_, result) = script.run(card, options);
        result.expect("script runs");
        started.elapsed()
    });
    let a = report("(a) Card::exchange, plain Rust", plain);
    let b = report("(b) Rhai loop of send(apdu, \"9000\")", rhai);
    println!("ratio (a)/(b): {:.2}x", a / b);
}
