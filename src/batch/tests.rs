//! The batch loop with fault injection: a card pulled out mid-run keeps its row and is
//! finished with it when presented again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::record::{Record, Verdict};
use super::{Config, DataSet, Opener, Stop, run};
use crate::reader::{Card, Error, Exchange, Reader};
use crate::sim::{Kind, SimReader};

const PROFILE: &str = "name: t
card: iso7816
steps:
  - apdu: 00 A4 00 0C 02 00 10
  - apdu: 00 20 00 01 04 31 32 33 34
  - apdu: 00 D6 00 00 04 ${serial}
";

/// A card that is pulled out of the reader before its `fail_at`-th command.
struct Pulled {
    inner: Box<dyn Card>,
    sent: usize,
    fail_at: usize,
}

impl Card for Pulled {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }
    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        self.sent += 1;
        if self.sent == self.fail_at {
            return Err(Error::CardRemoved {
                reader: "test".into(),
            });
        }
        self.inner.transmit(command)
    }
    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        self.inner.reset()
    }
}

/// A simulated stream whose first card is pulled out at its third command (GET DATA is the
/// first, the profile's SELECT the second).
struct Flaky {
    inner: SimReader,
    presented: Arc<AtomicUsize>,
}

impl Reader for Flaky {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn next_card(&mut self, timeout: Option<Duration>) -> Result<Option<Box<dyn Card>>, Error> {
        let card = self.inner.next_card(timeout)?;
        let n = self.presented.fetch_add(1, Ordering::Relaxed);
        Ok(card.map(|inner| -> Box<dyn Card> {
            let fail_at = if n == 0 { 3 } else { usize::MAX };
            Box::new(Pulled {
                inner,
                sent: 0,
                fail_at,
            })
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

#[test]
fn a_card_pulled_mid_run_keeps_its_row_and_is_finished_when_presented_again() {
    let dir = tempfile::tempdir().unwrap();
    let profile_path = dir.path().join("t.yaml");
    std::fs::write(&profile_path, PROFILE).unwrap();
    let data_path = dir.path().join("d.csv");
    std::fs::write(&data_path, "serial\n00000001\n00000002\n00000003\n").unwrap();
    let journal = dir.path().join("t.journal.jsonl");
    let batch = |flaky: bool| {
        let data = DataSet::load(&data_path).unwrap();
        let profile = crate::profile::load(&profile_path, &[], &data.columns).unwrap();
        let config = Config {
            profile: profile_path.clone(),
            vars: Vec::new(),
            data: Some(data),
            count: Some(3),
            journal: journal.clone(),
            report: None,
            trace_dir: None,
            max_failures: 3,
            armed: false,
            rules: Exchange::AUTO,
        };
        let presented = Arc::new(AtomicUsize::new(if flaky { 0 } else { 1 }));
        let opener: Opener = Box::new(move || {
            Ok(Box::new(Flaky {
                inner: SimReader::new(Kind::Iso7816, 0, 1, Some(3)),
                presented,
            }) as Box<dyn Reader>)
        });
        run(
            &config,
            &profile,
            vec![opener],
            Arc::new(AtomicBool::new(false)),
        )
        .unwrap()
    };
    // The pulled card ends the batch (exit 3 at the command line), journalled `interrupted`.
    let first = batch(true);
    assert_eq!((first.tally.ok, first.tally.interrupted), (0, 1));
    assert!(matches!(first.stop, Stop::CardLost(_)), "{:?}", first.stop);
    assert_eq!(first.finished, 0);
    let second = batch(false);
    // Card 1 is finished with its row, then cards 2 and 3; the journal holds 3 cards.
    assert_eq!((second.tally.ok, second.tally.skipped), (3, 0));
    assert_eq!(second.stop, Stop::Count);
    assert!(second.all_ok());

    let records: Vec<Record> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first_card: Vec<(&str, Option<u64>, Option<Verdict>)> = records
        .iter()
        .filter_map(|r| match r {
            Record::Begin(b) if b.identity == "SIM-000001" => Some(("begin", b.row, None)),
            Record::End(e) if e.identity == "SIM-000001" => Some(("end", e.row, Some(e.verdict))),
            _ => None,
        })
        .collect();
    assert_eq!(
        first_card,
        [
            ("begin", Some(1), None),
            ("end", Some(1), Some(Verdict::Interrupted)),
            ("begin", Some(1), None),
            ("end", Some(1), Some(Verdict::Ok)),
        ]
    );
}
