//! A 1,000-card simulated batch of `profiles/iso7816_perso.yaml`, fsync'd journal included,
//! and the runner's own cost per card: the time from one card's presentation to the next
//! in the same reader minus the time spent inside the simulated card (`Card::transmit`).
//! Also: validating a 500-step profile.
//!
//! Run with `cargo bench --bench batch > /dev/null` (the batch prints one line per card on
//! stdout; the figures go to stderr). The journal is written in a temporary directory, so
//! the fsync cost is that of the file system holding it. `BATCH_BENCH_READERS=N` (by
//! default 1) shares the cards among N simulated readers, one worker thread each, as
//! `--sim-readers N` does; the journal's syncs are counted from outside, with
//! `strace -f -c -e trace=fdatasync,fsync` on the bench binary (BENCHMARKS.md).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apdu_run::batch::{self, Config, DataSet, Opener};
use apdu_run::profile;
use apdu_run::reader::{Card, Error, Exchange, Reader};
use apdu_run::sim::{Kind, SimReader};

const CARDS: u64 = 1_000;

/// Simulated readers sharing the cards (`BATCH_BENCH_READERS`, default 1).
fn readers() -> usize {
    match std::env::var("BATCH_BENCH_READERS") {
        Ok(text) => text
            .parse()
            .ok()
            .filter(|&n| (1..=64).contains(&n))
            .expect("BATCH_BENCH_READERS is a number of readers, 1 to 64"),
        Err(_) => 1,
    }
}

/// Time spent inside the card, per card, and when each card was presented.
#[derive(Default)]
struct Clock {
    in_card: AtomicU64,
    cards: Mutex<Vec<(Instant, u64)>>,
}

struct TimedCard {
    inner: Box<dyn Card>,
    clock: Arc<Clock>,
}

impl Card for TimedCard {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }
    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        let started = Instant::now();
        let response = self.inner.transmit(command);
        let nanos = started.elapsed().as_nanos() as u64;
        self.clock.in_card.fetch_add(nanos, Ordering::Relaxed);
        response
    }
    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        self.inner.reset()
    }
}

struct TimedReader {
    inner: SimReader,
    clock: Arc<Clock>,
}

impl Reader for TimedReader {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn next_card(&mut self, timeout: Option<Duration>) -> Result<Option<Box<dyn Card>>, Error> {
        let card = self.inner.next_card(timeout)?;
        let in_card = self.clock.in_card.swap(0, Ordering::Relaxed);
        if let Ok(mut cards) = self.clock.cards.lock() {
            cards.push((Instant::now(), in_card));
        }
        Ok(card.map(|inner| {
            Box::new(TimedCard {
                inner,
                clock: self.clock.clone(),
            }) as Box<dyn Card>
        }))
    }
    fn wait_removed(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.inner.wait_removed(timeout)
    }
    fn card_identity(&self) -> Option<String> {
        self.inner.card_identity()
    }
    fn is_finite(&self) -> bool {
        self.inner.is_finite()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_path = dir.path().join("data.csv");
    let mut csv = String::from("serial,holder\n");
    for i in 1..=CARDS {
        csv.push_str(&format!("{i:08X},holder {i}\n"));
    }
    std::fs::write(&data_path, csv).expect("data written");
    let data = DataSet::load(&data_path).expect("data loads");
    let profile_path = root.join("profiles/iso7816_perso.yaml");
    let profile = profile::load(&profile_path, &[], &data.columns).expect("profile loads");
    let config = Config {
        profile: profile_path,
        vars: Vec::new(),
        data: Some(data),
        count: Some(CARDS),
        journal: dir.path().join("bench.journal.jsonl"),
        allow: Default::default(),
        report: None,
        trace_dir: None,
        record_dir: None,
        max_failures: 3,
        armed: false,
        rules: Exchange::AUTO,
        feedback: false,
        reader_kind: None,
    };
    let readers = readers();
    // One clock per reader: a reader's cards follow one another, other readers' do not.
    let clocks: Vec<Arc<Clock>> = (0..readers).map(|_| Arc::default()).collect();
    let openers: Vec<Opener> = clocks
        .iter()
        .enumerate()
        .map(|(i, clock)| -> Opener {
            let clock = clock.clone();
            Box::new(move || {
                Ok(Box::new(TimedReader {
                    inner: SimReader::new(Kind::Iso7816, i, readers, Some(CARDS)),
                    clock,
                }) as Box<dyn Reader>)
            })
        })
        .collect();
    let started = Instant::now();
    let summary = batch::run(&config, &profile, openers, Arc::new(AtomicBool::new(false)))
        .expect("batch runs");
    let elapsed = started.elapsed();
    assert_eq!(summary.tally.ok, CARDS, "every card issued: {summary:?}");

    // The last presentation call of each reader returns no card; it closes the reader's
    // last card's cycle.
    let mut own = Vec::new();
    let mut in_card = Vec::new();
    for clock in &clocks {
        let cards = clock.cards.lock().map(|c| c.clone()).unwrap_or_default();
        own.extend(
            cards
                .windows(2)
                .map(|w| (w[1].0 - w[0].0).as_secs_f64() * 1e3 - w[1].1 as f64 / 1e6),
        );
        in_card.extend(cards.iter().skip(1).map(|c| c.1 as f64 / 1e6));
    }
    own.sort_by(f64::total_cmp);
    in_card.sort_by(f64::total_cmp);
    let records = std::fs::read(&config.journal)
        .map(|text| text.iter().filter(|&&b| b == b'\n').count())
        .unwrap_or(0);
    eprintln!(
        "{CARDS}-card batch (fsync'd journal), {readers} reader(s): {:.2} s, {:.0} cards/min, {:.0} cards/s; {records} journal records",
        elapsed.as_secs_f64(),
        CARDS as f64 / elapsed.as_secs_f64() * 60.0,
        CARDS as f64 / elapsed.as_secs_f64()
    );
    eprintln!(
        "runner's own cost per card: median {:.3} ms, p90 {:.3} ms, max {:.3} ms",
        percentile(&own, 0.5),
        percentile(&own, 0.9),
        percentile(&own, 1.0)
    );
    eprintln!(
        "simulated card's work per card: median {:.3} ms",
        percentile(&in_card, 0.5)
    );

    let mut text = String::from("name: big\nsteps:\n");
    for i in 0..500 {
        text.push_str(&format!(
            "  - name: step {i}\n    apdu: 00 D6 00 00 02 ${{a}} {:02X}\n    expect: [9000, 63CX]\n",
            i % 256
        ));
    }
    let vars = [("a".to_string(), "01".to_string())];
    let fastest = (0..5)
        .map(|_| {
            let started = Instant::now();
            let loaded = profile::load_str("big.yaml", &text, dir.path(), &vars, &[]);
            assert_eq!(loaded.expect("valid").steps.len(), 500);
            started.elapsed()
        })
        .min()
        .unwrap_or_default();
    eprintln!(
        "validating a 500-step profile: {:.2} ms (fastest of 5)",
        fastest.as_secs_f64() * 1e3
    );
}
