//! The ledger's decisions: skip, resume, new rows, counts, contradictions.

use super::*;

fn begin(identity: &str, seq: u64, row: Option<u64>) -> Begin {
    Begin {
        time: "t0".into(),
        seq,
        row,
        uid: None,
        identity: identity.into(),
        reader: "r".into(),
        atr: String::new(),
    }
}

fn end(identity: &str, seq: u64, row: Option<u64>, verdict: Verdict) -> End {
    End {
        time: "t1".into(),
        seq,
        row,
        uid: None,
        identity: identity.into(),
        reader: "r".into(),
        verdict,
        step: (verdict != Verdict::Ok).then(|| "write".to_string()),
        sw: None,
        message: None,
        micros: 0,
    }
}

#[test]
fn done_cards_are_skipped_open_ones_resumed_rows_never_reused() {
    let mut l = Ledger::new();
    assert_eq!(l.allocate(Some(3), None), Ok((1, Some(1))));
    l.begin(&begin("A", 1, Some(1))).unwrap();
    l.end(&end("A", 1, Some(1), Verdict::Ok)).unwrap();
    l.begin(&begin("B", 2, Some(2))).unwrap();
    l.end(&end("B", 2, Some(2), Verdict::Failed)).unwrap();
    l.begin(&begin("C", 3, Some(3))).unwrap();
    l.end(&end("C", 3, Some(3), Verdict::Interrupted)).unwrap();
    assert_eq!(
        l.decide("A"),
        Decision::Issued("already issued ok at t1 with row 1 (seq 1)".into())
    );
    assert!(matches!(l.decide("B"), Decision::Skip(why) if why.contains("not tried again")));
    assert_eq!(
        l.decide("C"),
        Decision::Resume {
            seq: 3,
            row: Some(3)
        }
    );
    assert_eq!(l.decide("D"), Decision::New);
    assert_eq!(l.allocate(Some(3), None), Err(Full::Data));
    // C can still be finished, so the data is not exhausted yet.
    assert_eq!(l.exhausted(Some(3), None), None);
    assert_eq!(l.allocate(Some(4), None), Ok((4, Some(4))));
    l.begin(&begin("C", 3, Some(3))).unwrap();
    l.end(&end("C", 3, Some(3), Verdict::Ok)).unwrap();
    assert_eq!(l.exhausted(Some(3), None), Some(Full::Data));
    assert_eq!(l.finished(), 3);
    assert_eq!(l.exhausted(None, Some(3)), Some(Full::Count));
}

#[test]
fn count_includes_cards_in_flight() {
    let mut l = Ledger::new();
    l.begin(&begin("A", 1, None)).unwrap();
    l.set_in_flight("A", true);
    assert_eq!(l.allocate(None, Some(1)), Err(Full::Count));
    assert_eq!(l.exhausted(None, Some(1)), None);
    assert!(matches!(l.decide("A"), Decision::Skip(_)));
    l.set_in_flight("A", false);
    assert_eq!(l.allocate(None, Some(2)), Ok((2, None)));
}

#[test]
fn contradictions_are_errors() {
    let mut l = Ledger::new();
    l.begin(&begin("A", 1, Some(1))).unwrap();
    assert!(l.begin(&begin("B", 2, Some(1))).is_err());
    assert!(l.end(&end("Z", 9, None, Verdict::Ok)).is_err());
    l.end(&end("A", 1, Some(1), Verdict::Ok)).unwrap();
    assert!(l.begin(&begin("A", 1, Some(1))).is_err());
}

#[test]
fn contradictions_say_which_cards_and_rows() {
    let mut l = Ledger::new();
    l.begin(&begin("A", 1, Some(1))).unwrap();
    let err = l.begin(&begin("B", 2, Some(1))).unwrap_err();
    assert_eq!(err.0, "row 1 is used by card `B` and card `A`");
    l.end(&end("A", 1, Some(1), Verdict::Ok)).unwrap();
    let err = l.begin(&begin("A", 1, Some(1))).unwrap_err();
    assert_eq!(err.0, "card `A` begins again after it was finished");
}
