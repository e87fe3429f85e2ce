//! Journal files: creation, replay, repair of a cut-off line, refusals, the lock.

use std::io::Write;

use super::*;
use crate::batch::record::{Begin, End, Verdict};

/// `Journal::open`, waiting out a lock that a process forked by another test thread may
/// briefly hold: between its fork and its exec the child shares this process's open files,
/// and with them the journal's advisory lock.
fn open(
    path: &std::path::Path,
    header: &Header,
    rows: Option<u64>,
) -> Result<Opened, JournalError> {
    for _ in 0..50 {
        match Journal::open(path, header, rows) {
            Err(JournalError::Busy { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other,
        }
    }
    Journal::open(path, header, rows)
}

fn header(hash: &str) -> Header {
    Header {
        version: 1,
        profile: "p".into(),
        file: "p.yaml".into(),
        hash: hash.into(),
        data: None,
        data_hash: None,
        time: "t".into(),
    }
}

fn begin(identity: &str, row: u64) -> Record {
    Record::Begin(Begin {
        time: "t".into(),
        seq: row,
        row: Some(row),
        uid: None,
        identity: identity.into(),
        reader: "r".into(),
        atr: String::new(),
    })
}

fn end(identity: &str, row: u64) -> Record {
    Record::End(End {
        time: "t".into(),
        seq: row,
        row: Some(row),
        uid: None,
        identity: identity.into(),
        reader: "r".into(),
        verdict: Verdict::Ok,
        step: None,
        sw: None,
        message: None,
        micros: 1,
        trace: None,
    })
}

#[test]
fn creates_replays_and_repairs_a_cut_off_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut opened = open(&path, &header("h"), Some(5)).unwrap();
    assert!(opened.created && opened.repaired.is_none());
    opened.journal.append(&begin("A", 1)).unwrap();
    opened.journal.append(&end("A", 1)).unwrap();
    opened.journal.append(&begin("B", 2)).unwrap();
    drop(opened);
    // A crash in the middle of B's end record.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(r#"{"event":"end","ti"#);
    std::fs::write(&path, &text).unwrap();
    let opened = open(&path, &header("h"), Some(5)).unwrap();
    assert_eq!(
        opened.repaired,
        Some(Repair {
            line: 5,
            bytes: 18,
            kept: false
        })
    );
    assert!(!opened.created);
    assert_eq!(opened.ledger.finished(), 1);
    assert_eq!(opened.ledger.open(), 1);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .ends_with("\"atr\":\"\"}\n")
    );
}

#[test]
fn refuses_another_profile_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    drop(open(&path, &header("aaaa"), None).unwrap());
    let err = open(&path, &header("bbbb"), None).unwrap_err().to_string();
    assert!(
        err.contains("belongs to another profile") && err.contains("aaaa"),
        "{err}"
    );
    std::fs::write(&path, "{\"event\":\"begin\"}\n").unwrap();
    let err = open(&path, &header("aaaa"), None).unwrap_err().to_string();
    assert!(err.contains("line 1: not a journal record"), "{err}");
    let mut with_data = header("aaaa");
    with_data.data = Some("d.csv".into());
    with_data.data_hash = Some("0123".into());
    drop(std::fs::remove_file(&path));
    drop(open(&path, &header("aaaa"), None).unwrap());
    let err = open(&path, &with_data, None).unwrap_err().to_string();
    assert!(
        err.contains("was written with other data (no data file)"),
        "{err}"
    );
}

#[test]
fn records_out_of_place_are_errors_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let line = |record: &Record| serde_json::to_string(record).unwrap() + "\n";
    let head = line(&Record::Header(header("h")));
    let cases = [
        (
            line(&begin("A", 1)),
            "line 1: the first line is not a journal header",
        ),
        (format!("{head}{head}"), "line 2: a second header"),
        (
            format!("{head}{}{}", line(&begin("A", 1)), line(&begin("B", 1))),
            "line 3: row 1 is used by card `B` and card `A`",
        ),
        (
            format!("{head}{}", line(&end("A", 1))),
            "line 2: card `A` ends without a begin",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&path, &text).unwrap();
        let err = open(&path, &header("h"), Some(5)).unwrap_err().to_string();
        assert!(err.ends_with(expected), "{err}");
    }
}

#[test]
fn a_complete_last_record_without_its_newline_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut opened = open(&path, &header("h"), Some(5)).unwrap();
    opened.journal.append(&begin("A", 1)).unwrap();
    opened.journal.append(&end("A", 1)).unwrap();
    drop(opened);
    // The process died after writing A's `end` but before its newline.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.trim_end_matches('\n')).unwrap();
    let mut opened = open(&path, &header("h"), Some(5)).unwrap();
    assert_eq!(
        opened.repaired,
        Some(Repair {
            line: 3,
            bytes: 0,
            kept: true
        })
    );
    // A is issued, not resumed: it would be personalised again.
    assert!(matches!(
        opened.ledger.decide("A"),
        crate::batch::ledger::Decision::Issued(_)
    ));
    assert_eq!(opened.ledger.finished(), 1);
    opened.journal.append(&begin("B", 2)).unwrap();
    drop(opened);
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 4);
    let opened = open(&path, &header("h"), Some(5)).unwrap();
    assert!(opened.repaired.is_none());
    assert_eq!(opened.ledger.open(), 1);
}

#[test]
fn records_that_contradict_the_data_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let line = |record: &Record| serde_json::to_string(record).unwrap() + "\n";
    let head = line(&Record::Header(header("h")));
    let cases = [
        (
            format!("{head}{}", line(&begin("A", 0))),
            "line 2: card `A` has row 0, outside the data's rows 1..=3",
        ),
        (
            format!("{head}{}{}", line(&begin("A", 1)), line(&begin("B", 4))),
            "line 3: card `B` has row 4, outside the data's rows 1..=3",
        ),
        (
            format!("{head}{}{}", line(&begin("A", 1)), line(&end("A", 2))),
            "line 3: card `A` ends with seq 2 and row 2, but it began with seq 1 and row 1",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&path, &text).unwrap();
        let err = open(&path, &header("h"), Some(3)).unwrap_err().to_string();
        assert!(err.ends_with(expected), "{err}");
    }
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped; `None` where
/// this machine does not let the tests mount (not root, no CAP_SYS_ADMIN).
pub(crate) struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    pub(crate) fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status();
        match status {
            Ok(status) if status.success() => Some(SmallDisk { dir }),
            _ => {
                println!(
                    "skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN), so no full disk to test on"
                );
                None
            }
        }
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes a filler file until the disk is full.
    pub(crate) fn fill(&self) {
        let mut filler = std::fs::File::create(self.path().join("filler")).unwrap();
        let block = [0u8; 512];
        while filler.write(&block).is_ok_and(|n| n > 0) {}
    }

    pub(crate) fn unfill(&self) {
        std::fs::remove_file(self.path().join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_failed_append_cuts_the_journal_back_to_its_last_complete_record() {
    let Some(disk) = SmallDisk::mount("64k") else {
        return;
    };
    let path = disk.path().join("j.jsonl");
    let mut opened = open(&path, &header("h"), Some(500)).unwrap();
    opened.journal.append(&begin("A", 1)).unwrap();
    let before = std::fs::read(&path).unwrap();
    disk.fill();
    // Appends until one fails: the page the journal had may still take a few records.
    let mut failed = None;
    for row in 2..500 {
        let size = std::fs::metadata(&path).unwrap().len();
        if let Err(e) = opened.journal.append(&begin(&format!("C{row}"), row)) {
            assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
            failed = Some((e, row));
            break;
        }
    }
    let (err, row) = failed.expect("the full disk refused no record");
    let text = err.to_string();
    assert!(
        text.contains(&format!("cannot write the `begin` record of card `C{row}`"))
            && text.contains("cut back to its last complete record and is intact"),
        "{text}"
    );
    assert!(matches!(err, JournalError::Append { restored: true, .. }));
    let after = std::fs::read(&path).unwrap();
    assert!(after.starts_with(&before) && after.ends_with(b"\n"));
    // With space again, the journal goes on from its last complete record.
    disk.unfill();
    opened.journal.append(&begin("D", row)).unwrap();
    drop(opened);
    let opened = open(&path, &header("h"), Some(500)).unwrap();
    assert!(opened.repaired.is_none());
    assert_eq!(opened.ledger.open() as u64, row);
}

/// A journal of `cards` finished cards, as bytes.
fn journal_text(cards: u64) -> Vec<u8> {
    let mut text = serde_json::to_vec(&Record::Header(header("h"))).unwrap();
    text.push(b'\n');
    for row in 1..=cards {
        for record in [begin(&format!("C{row}"), row), end(&format!("C{row}"), row)] {
            text.extend(serde_json::to_vec(&record).unwrap());
            text.push(b'\n');
        }
    }
    text
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// A journal cut anywhere (a crash mid-write) opens: a whole last record is kept, a cut
    /// one removed, and no card the cut journal finished is lost.
    #[test]
    fn a_journal_cut_anywhere_opens_and_keeps_every_whole_record(cut in 0usize..2000) {
        let full = journal_text(4);
        let cut = cut.min(full.len());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        std::fs::write(&path, &full[..cut]).unwrap();
        let opened = open(&path, &header("h"), Some(4)).unwrap();
        let text = std::fs::read(&path).unwrap();
        // Whole records survive: the kept text is a prefix of the full journal, ending
        // with a newline, holding every record whose closing brace was written.
        proptest::prop_assert!(full.starts_with(&text));
        proptest::prop_assert!(text.is_empty() || text.ends_with(b"\n"));
        let whole = full[..cut].iter().filter(|&&b| b == b'}').count();
        let kept = text.iter().filter(|&&b| b == b'\n').count();
        proptest::prop_assert_eq!(kept, whole.max(usize::from(opened.created)));
        let ends = whole.saturating_sub(1) / 2;
        proptest::prop_assert_eq!(opened.ledger.finished() as usize, ends);
    }

    /// Whatever the bytes, opening a journal returns, never panics.
    #[test]
    fn any_bytes_open_or_are_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut text = journal_text(1);
        text.extend(&bytes);
        std::fs::write(&path, &text).unwrap();
        let _ = open(&path, &header("h"), Some(2));
    }
}

/// The outcome of applying one line to a ledger by way of a whole [`Record`].
fn by_record(text: &[u8], ledger: &mut Ledger) -> Option<Result<(), Inconsistent>> {
    match serde_json::from_slice::<Record>(text).ok()? {
        Record::Begin(b) => Some(ledger.begin(&b)),
        Record::End(e) => Some(ledger.end(&e)),
        _ => None,
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Reading `begin`/`end` lines without copies decides exactly as reading them whole:
    /// same acceptance, same refusal, same state after (any identity, escapes included).
    #[test]
    fn begin_and_end_lines_read_fast_or_whole_agree(
        cards in proptest::collection::vec(
            ("[A-Z0-9\"\\\\é]{1,6}", 1u64..5, proptest::option::of(1u64..4), 0u8..4, proptest::bool::ANY),
            1..12,
        ),
    ) {
        let mut fast_ledger = Ledger::new(Some(3));
        let mut whole = Ledger::new(Some(3));
        for (identity, seq, row, verdict, is_end) in cards {
            let record = if is_end {
                Record::End(End {
                    time: "2026-12-03T06:20:01.123456Z".into(),
                    seq,
                    row,
                    uid: None,
                    identity: identity.clone(),
                    reader: "r\"1".into(),
                    verdict: [Verdict::Ok, Verdict::Failed, Verdict::Interrupted, Verdict::Skipped][verdict as usize],
                    step: Some("write".into()),
                    sw: None,
                    message: None,
                    micros: 1,
                    trace: (seq % 2 == 0).then(|| format!("{seq:06}-x.jsonl")),
                })
            } else {
                Record::Begin(Begin {
                    time: "t".into(),
                    seq,
                    row,
                    uid: None,
                    identity: identity.clone(),
                    reader: "r".into(),
                    atr: "3B".into(),
                })
            };
            let text = serde_json::to_vec(&record).unwrap();
            let expected = by_record(&text, &mut whole);
            let got = fast(&text, &mut fast_ledger).or_else(|| by_record(&text, &mut fast_ledger));
            proptest::prop_assert_eq!(got, expected);
            proptest::prop_assert_eq!(fast_ledger.decide(&identity), whole.decide(&identity));
        }
        proptest::prop_assert_eq!(fast_ledger.finished(), whole.finished());
        proptest::prop_assert_eq!(fast_ledger.open(), whole.open());
    }
}

#[test]
fn a_failed_sync_loses_every_record_since_the_last_durable_one_and_says_which() {
    use super::group::testing::Faulty;
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut opened = open(&path, &header("h"), Some(10)).unwrap();
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    let disk = Faulty::new(file);
    disk.fail_sync.store(2, Ordering::SeqCst);
    opened.journal.set_disk(Box::new(disk.clone()));
    opened.journal.append(&begin("A", 1)).unwrap();
    let durable = std::fs::read(&path).unwrap();
    // Two records written (two readers), the sync that would cover them fails.
    let b = opened.journal.write(&begin("B", 2)).unwrap();
    let a = opened.journal.write(&end("A", 1)).unwrap();
    let lost_b = b.wait().unwrap_err();
    let lost_a = a.wait().unwrap_err();
    assert!(matches!(
        lost_b,
        JournalError::Sync {
            lost: 2,
            restored: true,
            ..
        }
    ));
    let (b, a) = (lost_b.to_string(), lost_a.to_string());
    assert!(
        b.contains("the `begin` record of card `B` could not be made durable")
            && b.contains("injected: the disk reported an I/O error")
            && b.contains("2 record(s) written since the last durable one are lost")
            && b.contains("cut back to its last durable record")
            && b.contains("nothing was sent to the card"),
        "{b}"
    );
    assert!(
        a.contains("the `end` record (verdict `ok`) of card `A` could not be made durable")
            && a.contains("keeps its row"),
        "{a}"
    );
    // Nothing is written after the loss, and no sync is tried again.
    let refused = opened.journal.append(&begin("C", 3)).unwrap_err();
    assert!(matches!(refused, JournalError::Broken { .. }), "{refused}");
    assert_eq!(disk.syncs.load(Ordering::SeqCst), 2);
    assert_eq!(std::fs::read(&path).unwrap(), durable);
    drop(opened);
    // The restarted batch sees card A open (to finish with its row) and card B not at all.
    let opened = open(&path, &header("h"), Some(10)).unwrap();
    assert!(opened.repaired.is_none());
    assert_eq!(opened.ledger.open(), 1);
    assert_eq!(
        opened.ledger.decide("A"),
        crate::batch::ledger::Decision::Resume {
            seq: 1,
            row: Some(1)
        }
    );
    assert_eq!(
        opened.ledger.decide("B"),
        crate::batch::ledger::Decision::New
    );
}
