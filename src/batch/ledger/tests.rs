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
        trace: None,
    }
}

#[test]
fn done_cards_are_skipped_open_ones_resumed_rows_never_reused() {
    let mut l = Ledger::new(Some(100));
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
    assert!(
        matches!(l.decide("B"), Decision::FailedBefore(why) if why.contains("not tried again"))
    );
    assert_eq!(l.done(), (1, 1));
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
    assert_eq!(l.done(), (2, 1));
    assert_eq!(l.exhausted(None, Some(3)), Some(Full::Count));
}

#[test]
fn count_includes_cards_in_flight() {
    let mut l = Ledger::new(None);
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
    let mut l = Ledger::new(Some(100));
    l.begin(&begin("A", 1, Some(1))).unwrap();
    assert!(l.begin(&begin("B", 2, Some(1))).is_err());
    assert!(l.end(&end("Z", 9, None, Verdict::Ok)).is_err());
    l.end(&end("A", 1, Some(1), Verdict::Ok)).unwrap();
    assert!(l.begin(&begin("A", 1, Some(1))).is_err());
}

#[test]
fn contradictions_say_which_cards_and_rows() {
    let mut l = Ledger::new(Some(100));
    l.begin(&begin("A", 1, Some(1))).unwrap();
    let err = l.begin(&begin("B", 2, Some(1))).unwrap_err();
    assert_eq!(err.0, "row 1 is used by card `B` and card `A`");
    l.end(&end("A", 1, Some(1), Verdict::Ok)).unwrap();
    let err = l.begin(&begin("A", 1, Some(1))).unwrap_err();
    assert_eq!(err.0, "card `A` begins again after it was finished");
}

#[test]
fn records_that_contradict_the_data_or_their_begin_are_refused() {
    let refused = |l: &Ledger, b: &Begin| l.check_begin(b).unwrap_err().0;
    let l = Ledger::new(Some(3));
    assert_eq!(
        refused(&l, &begin("A", 1, Some(0))),
        "card `A` has row 0, outside the data's rows 1..=3"
    );
    assert_eq!(
        refused(&l, &begin("A", 1, Some(4))),
        "card `A` has row 4, outside the data's rows 1..=3"
    );
    assert_eq!(
        refused(&l, &begin("A", 1, None)),
        "card `A` has no row, but the batch has data (rows 1..=3)"
    );
    assert_eq!(
        refused(&l, &begin("A", 0, Some(1))),
        "card `A` has seq 0 (sequence numbers start at 1)"
    );
    let mut with_uid = begin("A", 1, Some(1));
    with_uid.uid = Some("B".into());
    assert_eq!(
        refused(&l, &with_uid),
        "card `A` has UID `B`, but a card with a UID is told apart by it"
    );
    assert_eq!(
        refused(&Ledger::new(None), &begin("A", 1, Some(1))),
        "card `A` has row 1, but the batch has no data file"
    );
    let mut l = Ledger::new(Some(3));
    l.begin(&begin("A", 1, Some(1))).unwrap();
    assert_eq!(
        refused(&l, &begin("B", 1, Some(2))),
        "seq 1 is used by card `B` and card `A`"
    );
    assert_eq!(
        refused(&l, &begin("A", 1, Some(2))),
        "card `A` begins again with seq 1 and row 2, but it began with seq 1 and row 1"
    );
    let err = l.end(&end("A", 1, Some(2), Verdict::Ok)).unwrap_err().0;
    assert_eq!(
        err,
        "card `A` ends with seq 1 and row 2, but it began with seq 1 and row 1"
    );
    let err = l
        .end(&end("A", 1, Some(1), Verdict::Skipped))
        .unwrap_err()
        .0;
    assert_eq!(err, "card `A` ends `skipped`, which no journal record says");
    // A refused record changes nothing: the card is still open with its row.
    assert_eq!(
        l.decide("A"),
        Decision::Resume {
            seq: 1,
            row: Some(1)
        }
    );
    assert_eq!(l.allocate(Some(3), None), Ok((2, Some(2))));
}
