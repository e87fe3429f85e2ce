//! Journal files: creation, replay, repair of a cut-off line, refusals, the lock.

use super::*;
use crate::batch::record::{Begin, End, Verdict};

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
    })
}

#[test]
fn creates_replays_and_repairs_a_cut_off_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut opened = Journal::open(&path, &header("h")).unwrap();
    assert!(opened.created && opened.repaired.is_none());
    opened.journal.append(&begin("A", 1)).unwrap();
    opened.journal.append(&end("A", 1)).unwrap();
    opened.journal.append(&begin("B", 2)).unwrap();
    drop(opened);
    // A crash in the middle of B's end record.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(r#"{"event":"end","ti"#);
    std::fs::write(&path, &text).unwrap();
    let opened = Journal::open(&path, &header("h")).unwrap();
    assert_eq!(opened.repaired, Some(Repair { line: 5, bytes: 18 }));
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
    drop(Journal::open(&path, &header("aaaa")).unwrap());
    let err = Journal::open(&path, &header("bbbb"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("belongs to another profile") && err.contains("aaaa"),
        "{err}"
    );
    std::fs::write(&path, "{\"event\":\"begin\"}\n").unwrap();
    let err = Journal::open(&path, &header("aaaa"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 1: not a journal record"), "{err}");
    let mut with_data = header("aaaa");
    with_data.data = Some("d.csv".into());
    with_data.data_hash = Some("0123".into());
    drop(std::fs::remove_file(&path));
    drop(Journal::open(&path, &header("aaaa")).unwrap());
    let err = Journal::open(&path, &with_data).unwrap_err().to_string();
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
        let err = Journal::open(&path, &header("h")).unwrap_err().to_string();
        assert!(err.ends_with(expected), "{err}");
    }
}
