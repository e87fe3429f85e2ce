//! Restarting a batch on a journal of a million finished cards: the wall time and the peak
//! memory (VmHWM) of `apdu-run batch` opening the journal, replaying it and ending at once
//! (`--count` is reached), with its million-row data file.
//!
//! Run with `cargo bench --bench ledger` (or `make bench-ledger`); `LEDGER_BENCH_CARDS`
//! changes the number of cards (default 1,000,000). The journal is made by one real batch
//! of one card (its header and first card), then lengthened with records of the same form.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROFILE: &str = "name: bench
card: iso7816
identify: { apdu: 80 CA 9F 7F 00, bytes: 15-18 }
steps:
  - name: select EF 0010
    apdu: 00 A4 00 0C 02 00 10
  - name: verify PIN
    apdu: 00 20 00 01 04 31 32 33 34
  - name: write serial
    apdu: 00 D6 00 00 04 ${serial}
";

fn main() {
    let cards: u64 = std::env::var("LEDGER_BENCH_CARDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let profile = dir.path().join("bench.yaml");
    std::fs::write(&profile, PROFILE).expect("profile written");
    let data = dir.path().join("data.csv");
    let mut csv = String::with_capacity(cards as usize * 9 + 8);
    csv.push_str("serial\n");
    for i in 1..=cards {
        let _ = writeln!(csv, "{i:08X}");
    }
    std::fs::write(&data, csv).expect("data written");
    std::fs::File::open(&data)
        .and_then(|f| f.sync_all())
        .expect("data synced");
    let journal = dir.path().join("bench.journal.jsonl");
    let args = |count: u64| {
        vec![
            "batch".to_string(),
            "--sim".to_string(),
            "iso7816".to_string(),
            "--data".to_string(),
            data.display().to_string(),
            "--journal".to_string(),
            journal.display().to_string(),
            "--count".to_string(),
            count.to_string(),
            profile.display().to_string(),
        ]
    };
    let first = run(&args(1));
    assert!(first.0, "the first card is issued");
    lengthen(&journal, cards);
    let size = std::fs::metadata(&journal).map(|m| m.len()).unwrap_or(0);
    let mut times = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let (ok, peak) = run(&args(cards));
        times.push(started.elapsed());
        peaks.push(peak);
        assert!(ok, "the restarted batch ends at --count");
    }
    times.sort();
    peaks.sort();
    eprintln!(
        "restart on a journal of {cards} cards ({:.0} MB): {:.2} s (median of 3, min {:.2} s), peak memory {} MB (VmHWM, median)",
        size as f64 / 1e6,
        times[1].as_secs_f64(),
        times[0].as_secs_f64(),
        peaks[1] / 1024
    );
}

/// Runs the binary; whether it exited 0, and its peak resident memory in KiB (VmHWM,
/// sampled until it exits).
fn run(args: &[String]) -> (bool, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apdu-run"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("apdu-run starts");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return (status.success(), peak);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Appends `begin`/`end` records of cards 2..=cards in the form a batch writes them.
fn lengthen(journal: &Path, cards: u64) {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(journal)
        .expect("journal opens");
    let mut out = BufWriter::new(file);
    for n in 2..=cards {
        // The simulated card's CPLC IC serial, as `identify:` reads it: 10000000 + position.
        let identity = format!("{:08X}", 0x1000_0000 + n - 1);
        writeln!(
            out,
            r#"{{"event":"begin","time":"2026-12-03T06:20:01.123456Z","seq":{n},"row":{n},"uid":null,"identity":"{identity}","reader":"Simulated reader (iso7816)","atr":"3B8880010000000000718100F9"}}"#
        )
        .expect("written");
        writeln!(
            out,
            r#"{{"event":"end","time":"2026-12-03T06:20:01.124456Z","seq":{n},"row":{n},"uid":null,"identity":"{identity}","reader":"Simulated reader (iso7816)","verdict":"ok","step":null,"sw":null,"message":null,"micros":1000}}"#
        )
        .expect("written");
    }
    out.flush().expect("written");
    // On disk before the timed runs, so that its write-back does not run beside them.
    out.get_ref().sync_all().expect("synced");
}
