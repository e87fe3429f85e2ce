//! What the ticket scripts take from outside: dates, `--var` values, the key, and the demo
//! files their header commands use.

use super::tickets::{GATE, ISSUE, KEY, fails, gate, issue};
use super::{chip, run_on};
use crate::script::ErrorKind;
use crate::sim::ultralight::Ultralight;

#[test]
fn dates_are_days_since_2000_and_checked() {
    let card = chip();
    issue(&card, true, "8825", "2").result.unwrap();
    let r = gate(&card, true, "2024-03-01");
    let ride = "valid until 2024-03-01; ride marked on 2024-03-01";
    assert!(r.printed[0].ends_with(ride), "{:?}", r.printed);

    let card = chip();
    issue(&card, true, "2179-06-06", "1").result.unwrap();
    assert_eq!(card.borrow().pages()[7], [0xFF, 0xFF, 0xFF, 0xFF]);

    for (today, valid_days, message) in [
        ("2026-02-29", "7", "--var today=2026-02-29: no such date"),
        ("2026-13-01", "7", "--var today=2026-13-01: no such date"),
        (
            "2026-3-x",
            "7",
            "--var today=2026-3-x: expected YYYY-MM-DD or a day number",
        ),
        ("2179-06-07", "1", "outside 2000-01-01..2179-06-06"),
        ("1999-12-31", "1", "outside 2000-01-01..2179-06-06"),
        (
            "14.03.2026",
            "7",
            "--var today=14.03.2026: expected a number",
        ),
        (
            "2179-06-06",
            "2",
            "--var valid_days=2: must be at least 1 and end by 2179-06-06",
        ),
        ("2026-03-14", "0", "--var valid_days=0: must be at least 1"),
        (
            "2026-03-14",
            "-1",
            "--var valid_days=-1: expected a number 0..=65535",
        ),
    ] {
        let card = chip();
        let r = fails(
            issue(&card, true, today, valid_days),
            ErrorKind::Failed,
            message,
        );
        assert!(r.sent.is_empty(), "{today}: {:?}", r.sent);
    }
}

#[test]
fn missing_variables_and_keys_are_named_before_the_card_is_touched() {
    let r = run_on(&chip(), ISSUE, true, &[("ticket", "1"), ("station", "1")]);
    let r = fails(r, ErrorKind::Failed, "missing --var fare=...");
    assert!(r.sent.is_empty());
    // Without --var today the gate takes today's date from the clock: the key is what it
    // misses then.
    let r = run_on(
        &chip(),
        GATE,
        true,
        &[("key_source", "env:APDU_RUN_TEST_SURELY_UNSET")],
    );
    let r = fails(r, ErrorKind::Failed, "not set");
    assert!(r.sent.is_empty());
    let vars = [
        ("ticket", "1"),
        ("station", "1"),
        ("fare", "1"),
        ("valid_days", "1"),
        ("today", "1"),
        ("key_source", "env:APDU_RUN_TEST_SURELY_UNSET"),
    ];
    let r = fails(
        run_on(&chip(), ISSUE, true, &vars),
        ErrorKind::Failed,
        "not set",
    );
    assert!(r.sent.is_empty());
}

/// The demo files the scripts' header commands use: the key is [`KEY`], and the card image is
/// ticket 1001 issued with it (as the simulator saves images, so a run that only reads it
/// leaves the file as it is).
#[test]
fn the_demo_files_hold_the_demo_key_and_a_ticket_issued_with_it() {
    let key = std::fs::read_to_string("scripts/ultralight_demo.key").unwrap();
    assert_eq!(key.trim_end(), KEY);

    #[derive(serde::Serialize)]
    struct Image<'a> {
        format: u32,
        kind: &'a str,
        card: &'a Ultralight,
    }
    let tag = std::rc::Rc::new(std::cell::RefCell::new(Ultralight::new(
        Ultralight::uid_for(0),
    )));
    issue(&tag, true, "2026-03-14", "7").result.unwrap();
    let card = tag.borrow();
    let image = Image {
        format: 1,
        kind: "ultralight",
        card: &card,
    };
    let expected = serde_json::to_string_pretty(&image).unwrap() + "\n";
    let path = "scripts/ultralight_demo_ticket.json";
    let found = std::fs::read_to_string(path).unwrap_or_default();
    assert!(found == expected, "{path} should be:\n{expected}");
}
