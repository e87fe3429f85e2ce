//! The floor for any PC/SC application: a bare loop of `pcsc::Card::transmit`.
//!
//! Connects to `Virtual PCD 00 00` (or the reader named by `APDU_RUN_BENCH_READER`), selects
//! EF 2F00 of the demo card, then times RUNS loops of N READ BINARY commands and prints the
//! best and the median rate in APDUs per second.
//! It talks to the `pcsc` crate directly, on purpose: it measures pcscd + vpcd + the served
//! card without any of apdu-run's layers. Run by `benches/stack.sh` with a served card:
//!
//! ```text
//! cargo bench --bench pcsc_loop -- 2000 5      # N, RUNS
//! ```
//!
//! Without pcscd or without a card it prints why and exits 0, so `cargo bench` still runs.

use std::ffi::CString;
use std::time::Instant;

use pcsc::{Context, Protocols, Scope, ShareMode};

const SELECT_EF_2F00: &[u8] = &[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0x00];
const READ_BINARY_16: &[u8] = &[0x00, 0xB0, 0x00, 0x00, 0x10];

fn main() {
    // `cargo bench` passes `--bench`; the numbers are N and the number of runs.
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let n = numbers.first().copied().unwrap_or(2000);
    let runs = numbers.get(1).copied().unwrap_or(5).max(1);
    let reader =
        std::env::var("APDU_RUN_BENCH_READER").unwrap_or_else(|_| "Virtual PCD 00 00".to_owned());
    let card = Context::establish(Scope::User).and_then(|context| {
        let name = CString::new(reader.clone()).expect("reader name without NUL");
        context.connect(&name, ShareMode::Exclusive, Protocols::ANY)
    });
    let card = match card {
        Ok(card) => card,
        Err(err) => {
            println!("skipped: no card in `{reader}` ({err}); serve one with `apdu-run sim serve`");
            return;
        }
    };
    let mut buffer = [0; pcsc::MAX_BUFFER_SIZE];
    let answer = card
        .transmit(SELECT_EF_2F00, &mut buffer)
        .expect("SELECT EF 2F00");
    assert_eq!(answer, [0x90, 0x00], "SELECT EF 2F00");
    let mut seconds: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..n {
                let answer = card
                    .transmit(READ_BINARY_16, &mut buffer)
                    .expect("READ BINARY");
                assert!(
                    answer.ends_with(&[0x90, 0x00]),
                    "READ BINARY: {answer:02X?}"
                );
            }
            started.elapsed().as_secs_f64()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    let (best, median) = (seconds[0], seconds[runs / 2]);
    println!(
        "{:<32} best {:>6.0} APDU/s ({:.1} us/APDU), median {:>6.0} APDU/s ({runs} runs of {n})",
        "pcsc::Card::transmit loop",
        n as f64 / best,
        best * 1e6 / n as f64,
        n as f64 / median,
    );
}
