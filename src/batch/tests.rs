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
identify: { apdu: 80 CA 9F 7F 00, bytes: 15-18 }
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

/// A simulated stream whose first card is pulled out at its third command (GET DATA CPLC,
/// `identify:`, is the first, the profile's SELECT the second).
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

    // The first card of a stream: its CPLC IC serial number.
    const FIRST: &str = "10000000";
    let records: Vec<Record> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first_card: Vec<(&str, Option<u64>, Option<Verdict>)> = records
        .iter()
        .filter_map(|r| match r {
            Record::Begin(b) if b.identity == FIRST => Some(("begin", b.row, None)),
            Record::End(e) if e.identity == FIRST => Some(("end", e.row, Some(e.verdict))),
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

/// A batch of `kind` cards on `profile` (text), `cards` in the stream, with `max_failures`.
fn sim_batch(
    profile: &str,
    kind: Kind,
    cards: u64,
    max_failures: u32,
) -> (Result<super::Summary, super::Error>, String) {
    let dir = tempfile::tempdir().unwrap();
    let profile_path = dir.path().join("t.yaml");
    std::fs::write(&profile_path, profile).unwrap();
    let journal = dir.path().join("t.journal.jsonl");
    let profile = crate::profile::load(&profile_path, &[], &[]).unwrap();
    let config = Config {
        profile: profile_path.clone(),
        vars: Vec::new(),
        data: None,
        count: Some(cards),
        journal: journal.clone(),
        allow: Default::default(),
        report: None,
        max_failures,
        armed: false,
        rules: Exchange::AUTO,
        trace_dir: None,
        record_dir: None,
        feedback: false,
        reader_kind: None,
    };
    let opener: Opener =
        Box::new(move || Ok(Box::new(SimReader::new(kind, 0, 1, Some(cards))) as Box<dyn Reader>));
    let summary = run(
        &config,
        &profile,
        vec![opener],
        Arc::new(AtomicBool::new(false)),
    );
    (
        summary,
        std::fs::read_to_string(&journal).unwrap_or_default(),
    )
}

#[test]
fn cards_that_cannot_be_identified_fail_and_count_for_max_failures() {
    // Tag 9F7E is not on the card: every card answers 6A88 to the `identify:` command.
    let profile = "name: t
card: iso7816
identify: { apdu: 80 CA 9F 7E 00 }
steps:
  - apdu: 00 A4 00 0C 02 3F 00
";
    let (summary, journal) = sim_batch(profile, Kind::Iso7816, 5, 2);
    let summary = summary.unwrap();
    assert_eq!(summary.stop, Stop::MaxFailures(2));
    assert_eq!((summary.tally.failed, summary.tally.ok), (2, 0));
    assert!(!summary.all_ok());
    assert!(!journal.contains("\"begin\""), "{journal}");
}

#[test]
fn a_card_without_uid_or_identify_is_a_failure_not_a_skip() {
    // `card: any` is not refused up front; a Classic card that gives no UID cannot occur on
    // the simulator, so the case is a contact card without `identify:` seen by a PC/SC-like
    // reader (no simulated names).
    struct Nameless(SimReader);
    impl Reader for Nameless {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn next_card(&mut self, timeout: Option<Duration>) -> Result<Option<Box<dyn Card>>, Error> {
            self.0.next_card(timeout)
        }
        fn wait_removed(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
            self.0.wait_removed(timeout)
        }
        fn is_finite(&self) -> bool {
            self.0.is_finite()
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let profile_path = dir.path().join("t.yaml");
    std::fs::write(
        &profile_path,
        "name: t\nsteps:\n  - apdu: 00 A4 00 0C 02 3F 00\n",
    )
    .unwrap();
    let profile = crate::profile::load(&profile_path, &[], &[]).unwrap();
    let config = Config {
        profile: profile_path.clone(),
        vars: Vec::new(),
        data: None,
        count: Some(4),
        journal: dir.path().join("j.jsonl"),
        allow: Default::default(),
        report: None,
        max_failures: 3,
        armed: false,
        rules: Exchange::AUTO,
        trace_dir: None,
        record_dir: None,
        feedback: false,
        reader_kind: None,
    };
    let opener: Opener = Box::new(|| {
        Ok(Box::new(Nameless(SimReader::new(Kind::Iso7816, 0, 1, Some(4)))) as Box<dyn Reader>)
    });
    let summary = run(
        &config,
        &profile,
        vec![opener],
        Arc::new(AtomicBool::new(false)),
    )
    .unwrap();
    assert_eq!(summary.stop, Stop::MaxFailures(3));
    assert_eq!((summary.tally.failed, summary.tally.skipped), (3, 0));
}

#[test]
fn a_contact_profile_without_identify_is_refused_before_any_card() {
    let profile = "name: t
card: iso7816
steps:
  - apdu: 00 A4 00 0C 02 3F 00
";
    let (summary, journal) = sim_batch(profile, Kind::Iso7816, 1, 3);
    let err = summary.unwrap_err().to_string();
    assert!(err.contains("add `identify:`"), "{err}");
    assert!(journal.is_empty(), "{journal}");
}

#[test]
fn identified_cards_are_journalled_by_their_cplc_bytes() {
    let profile = "name: t
card: iso7816
identify: { apdu: 80 CA 9F 7F 00, bytes: 3-20 }
steps:
  - apdu: 00 A4 00 0C 02 3F 00
";
    let (summary, journal) = sim_batch(profile, Kind::Iso7816T0, 3, 3);
    let summary = summary.unwrap();
    assert_eq!(summary.tally.ok, 3);
    let identities: Vec<String> = journal
        .lines()
        .filter_map(|l| match serde_json::from_str(l).unwrap() {
            Record::Begin(b) => Some(b.identity),
            _ => None,
        })
        .collect();
    assert_eq!(identities.len(), 3);
    for (n, identity) in identities.iter().enumerate() {
        // CPLC bytes 0-17: fabricator 4790 … serial 1000000n … batch 0001.
        assert_eq!(identity.len(), 36, "{identity}");
        assert!(identity.starts_with("4790"), "{identity}");
        assert!(identity.ends_with(&format!("1000000{n}0001")), "{identity}");
    }
}

#[test]
fn identify_may_select_before_the_command_that_gives_the_identity() {
    let profile = "name: t
card: iso7816
identify:
  apdu: [00 A4 00 0C 02 3F 00, 80 CA 9F 7F 00]
  bytes: 15-18
steps:
  - apdu: 00 A4 00 0C 02 3F 00
";
    let (summary, journal) = sim_batch(profile, Kind::Iso7816, 2, 3);
    assert_eq!(summary.unwrap().tally.ok, 2);
    assert!(journal.contains("\"identity\":\"10000001\""), "{journal}");
    // A SELECT the card refuses leaves the card unidentified: a failure, nothing begun.
    let refused = profile.replace("02 3F 00, 80", "02 2F 99, 80");
    let (summary, journal) = sim_batch(&refused, Kind::Iso7816, 2, 3);
    let summary = summary.unwrap();
    assert_eq!((summary.tally.failed, summary.tally.ok), (2, 0));
    assert!(!journal.contains("\"begin\""), "{journal}");
}

/// What one presented card was sent: how many commands, and what it answered the first
/// (the `identify:` command, whose answer holds the identity the journal names it by).
#[derive(Debug, Default, Clone)]
struct Seen {
    first_answer: String,
    sent: usize,
}

/// A card that tells [`Seen`] what it is sent.
struct Watched {
    inner: Box<dyn Card>,
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
    index: usize,
}

impl Card for Watched {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }
    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        let response = self.inner.transmit(command)?;
        let mut seen = self.seen.lock().unwrap();
        let card = &mut seen[self.index];
        if card.sent == 0 {
            card.first_answer = crate::apdu::hex::format_compact(&response);
        }
        card.sent += 1;
        Ok(response)
    }
    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        self.inner.reset()
    }
}

/// A simulated reader whose cards are [`Watched`].
struct Watching {
    inner: SimReader,
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
}

impl Reader for Watching {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn next_card(&mut self, timeout: Option<Duration>) -> Result<Option<Box<dyn Card>>, Error> {
        let card = self.inner.next_card(timeout)?;
        Ok(card.map(|inner| -> Box<dyn Card> {
            let mut seen = self.seen.lock().unwrap();
            seen.push(Seen::default());
            Box::new(Watched {
                inner,
                seen: self.seen.clone(),
                index: seen.len() - 1,
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

/// What a batch on a journal with faults left behind.
struct Faulted {
    summary: super::Summary,
    /// The journal's records, after the batch.
    records: Vec<Record>,
    /// The identities of the cards reported `ok`.
    reported_ok: Vec<String>,
    /// What each presented card was sent.
    seen: Vec<Seen>,
    disk: Arc<super::journal::group::testing::Faulty>,
    /// Whether the journal opens again (a restarted batch takes it).
    reopens: bool,
}

/// `cards` simulated cards on `readers` readers, one data row each, with a journal whose
/// `fail_at`-th sync fails (0: none).
fn faulted_batch(readers: usize, cards: u64, fail_at: u64) -> Faulted {
    use super::file_store::FileStore;
    use super::journal::Journal;
    use super::journal::group::testing::Faulty;

    let dir = tempfile::tempdir().unwrap();
    let profile_path = dir.path().join("t.yaml");
    std::fs::write(&profile_path, PROFILE).unwrap();
    let data_path = dir.path().join("d.csv");
    let rows: String = (1..=cards).map(|i| format!("{i:08X}\n")).collect();
    std::fs::write(&data_path, format!("serial\n{rows}")).unwrap();
    let data = DataSet::load(&data_path).unwrap();
    let profile = crate::profile::load(&profile_path, &[], &data.columns).unwrap();
    let journal = dir.path().join("t.journal.jsonl");
    let report = dir.path().join("report.jsonl");
    let config = Config {
        profile: profile_path.clone(),
        vars: Vec::new(),
        data: Some(data),
        count: Some(cards),
        journal: journal.clone(),
        allow: Default::default(),
        report: Some(report.clone()),
        trace_dir: None,
        record_dir: None,
        max_failures: 3,
        armed: false,
        rules: Exchange::AUTO,
        feedback: false,
        reader_kind: None,
    };
    let header = super::header(&config, &profile);
    let mut store = FileStore::open(&journal, &header, config.data.as_ref(), config.allow).unwrap();
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    let disk = Faulty::new(file);
    disk.fail_sync.store(fail_at, Ordering::SeqCst);
    store.journal_mut().set_disk(Box::new(disk.clone()));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let openers: Vec<Opener> = (0..readers)
        .map(|i| -> Opener {
            let seen = seen.clone();
            Box::new(move || {
                Ok(Box::new(Watching {
                    inner: SimReader::new(Kind::Iso7816, i, readers, Some(cards)),
                    seen,
                }) as Box<dyn Reader>)
            })
        })
        .collect();
    let summary = super::run_with(
        &config,
        &profile,
        Box::new(store),
        openers,
        Arc::new(AtomicBool::new(false)),
    )
    .unwrap();
    let records = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reported_ok = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|card| card["verdict"] == "ok")
        .map(|card| card["identity"].as_str().unwrap().to_string())
        .collect();
    let reopens = Journal::open(&journal, &header, Some(cards)).is_ok();
    let seen = seen.lock().unwrap().clone();
    Faulted {
        summary,
        records,
        reported_ok,
        seen,
        disk,
        reopens,
    }
}

impl Faulted {
    fn begun(&self) -> Vec<(&str, Option<u64>)> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::Begin(b) => Some((b.identity.as_str(), b.row)),
                _ => None,
            })
            .collect()
    }

    fn ended_ok(&self) -> Vec<&str> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::End(e) if e.verdict == Verdict::Ok => Some(e.identity.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Every card reported ok has its `ok` end in the journal and every `ok` end was
    /// reported; every card sent anything beyond its identification has its `begin`.
    fn check(&self, context: &str) {
        let (begun, ended_ok) = (self.begun(), self.ended_ok());
        for identity in &self.reported_ok {
            assert!(
                ended_ok.contains(&identity.as_str()),
                "{context}: {identity} reported ok without its end in the journal"
            );
        }
        assert_eq!(self.reported_ok.len(), ended_ok.len(), "{context}");
        assert_eq!(self.summary.tally.ok as usize, ended_ok.len(), "{context}");
        for card in self.seen.iter().filter(|c| c.sent > 1) {
            assert!(
                begun.iter().any(|(b, _)| card.first_answer.contains(b)),
                "{context}: a card answering {} ran without a durable begin",
                card.first_answer
            );
        }
        assert!(self.reopens, "{context}: the journal does not open again");
    }
}

#[test]
fn eight_readers_sharing_syncs_begin_each_card_once_and_end_every_card_they_report() {
    let cards = 200;
    let run = faulted_batch(8, cards, 0);
    run.check("8 readers");
    assert_eq!(run.summary.stop, Stop::Count);
    assert_eq!(run.summary.tally.ok, cards);
    let begun = run.begun();
    let identities: std::collections::HashSet<_> = begun.iter().map(|(i, _)| *i).collect();
    let rows: std::collections::HashSet<_> = begun.iter().map(|(_, r)| *r).collect();
    assert_eq!((begun.len(), identities.len(), rows.len()), (200, 200, 200));
    assert_eq!(run.ended_ok().len(), 200);
    // Every sync makes at least one waiting record durable: never more syncs than
    // records (one reader has exactly one per record; eight share).
    let syncs = run.disk.syncs.load(Ordering::SeqCst);
    assert!(
        syncs <= 2 * cards,
        "{syncs} syncs for {} records",
        2 * cards
    );
}

#[test]
fn a_failed_journal_sync_with_several_readers_loses_no_card_that_ran_or_was_reported() {
    use super::journal::JournalError;
    // The first card's sync, and later ones, with several readers' records behind them.
    for fail_at in [1, 2, 7, 15] {
        let run = faulted_batch(4, 40, fail_at);
        let context = format!("sync {fail_at}");
        run.check(&context);
        assert_eq!(run.summary.stop, Stop::Fatal, "{context}");
        assert!(
            matches!(
                run.summary.fatal,
                Some(super::Error::Journal(
                    JournalError::Sync { .. } | JournalError::Broken { .. }
                ))
            ),
            "{context}: {:?}",
            run.summary.fatal
        );
        // The failed sync was the last one: it is not retried.
        assert_eq!(run.disk.syncs.load(Ordering::SeqCst), fail_at, "{context}");
        // Nothing is durable when the first sync fails; after 14 syncs (each making at
        // least one waiter's record durable), some reader has finished a card.
        if fail_at == 1 {
            assert_eq!((run.records.len(), run.summary.tally.ok), (1, 0));
        }
        if fail_at >= 15 {
            assert!(!run.ended_ok().is_empty(), "{context}");
        }
    }
}
