//! The shipped ticket scripts, issue then gate, against the in-test reader.

use std::io::Write as _;

use super::{Chip, Run, UID, chip, run_on};
use crate::apdu::hex;
use crate::script::ErrorKind;
use crate::sim::ultralight::Ultralight;

pub(super) const ISSUE: &str = include_str!("../../../../scripts/ultralight_ticket.rhai");
pub(super) const GATE: &str = include_str!("../../../../scripts/ultralight_validate.rhai");
pub(super) const KEY: &str = "000102030405060708090A0B0C0D0E0F";

/// A key file for `--var key_source=file:…` (tests cannot set environment variables).
pub(super) fn key_file(key: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "{key}").unwrap();
    file
}

fn source(file: &tempfile::NamedTempFile) -> String {
    format!("file:{}", file.path().display())
}

/// Issues ticket 1001 (station 42, fare 250) with the given `today` and `valid_days`.
pub(super) fn issue(chip: &Chip, armed: bool, today: &str, valid_days: &str) -> Run {
    let key = key_file(KEY);
    let key_source = source(&key);
    let vars = [
        ("ticket", "1001"),
        ("station", "42"),
        ("fare", "250"),
        ("valid_days", valid_days),
        ("today", today),
        ("key_source", key_source.as_str()),
    ];
    run_on(chip, ISSUE, armed, &vars)
}

pub(super) fn gate_with_key(chip: &Chip, armed: bool, today: &str, key: &str) -> Run {
    let key = key_file(key);
    let key_source = source(&key);
    run_on(
        chip,
        GATE,
        armed,
        &[("today", today), ("key_source", key_source.as_str())],
    )
}

pub(super) fn gate(chip: &Chip, armed: bool, today: &str) -> Run {
    gate_with_key(chip, armed, today, KEY)
}

#[track_caller]
pub(super) fn fails(run: Run, kind: ErrorKind, message: &str) -> Run {
    let e = run.result.as_ref().unwrap_err();
    assert_eq!(e.kind, kind, "{e}");
    assert!(e.message.contains(message), "{e}");
    run
}

/// A tag whose pages are set by `edit` (starting from a blank tag).
fn card_from(edit: impl FnOnce(&mut [crate::sim::ultralight::Page; 16])) -> Chip {
    let mut pages = *Ultralight::new(UID).pages();
    edit(&mut pages);
    std::rc::Rc::new(std::cell::RefCell::new(Ultralight::from_pages(pages)))
}

fn wrote_nothing(run: &Run) -> bool {
    run.sent.iter().all(|c| !c.starts_with("FF D6"))
}

#[test]
fn a_ticket_is_issued_locked_and_ridden_once() {
    let chip = chip();
    let r = issue(&chip, true, "2026-03-14", "7");
    r.result.unwrap();
    let issued = "ticket 1001 issued: station 42, fare 250, valid 2026-03-14 to 2026-03-20; \
                  pages [4, 5, 6, 7, 8] locked";
    assert_eq!(r.printed.last().unwrap(), issued);
    // Layout: "TK" v1; 1001; station 42, fare 250; days 9569 and 9575 since 2000-01-01.
    let body = hex::parse("54 4B 01 00 00 00 03 E9 00 2A 00 FA 25 61 25 67").unwrap();
    let mac = crate::crypto::aes_cmac(&hex::parse(KEY).unwrap(), &[&UID[..], &body].concat());
    let pages = chip.borrow().pages()[4..9].concat();
    assert_eq!(pages, [body, mac.unwrap()[..4].to_vec()].concat());
    assert_eq!(chip.borrow().lock_bytes(), (0xF0, 0x01));

    let r = gate(&chip, true, "2026-03-15");
    r.result.unwrap();
    let ride =
        "ticket 1001: station 42, fare 250, valid until 2026-03-20; ride marked on 2026-03-15";
    assert_eq!(r.printed, [ride]);
    assert_eq!(chip.borrow().pages()[3], [0x01, 0, 0, 0]);
    let again = gate(&chip, true, "2026-03-15");
    let r = fails(
        again,
        ErrorKind::Failed,
        "ticket 1001 refused: already used",
    );
    assert!(wrote_nothing(&r));
}

#[test]
fn inspection_checks_the_ticket_and_never_marks_it() {
    let chip = chip();
    issue(&chip, true, "2026-03-14", "7").result.unwrap();
    let before = chip.borrow().clone();
    let key = key_file(KEY);
    let key_source = source(&key);
    let vars = |inspect| {
        [
            ("today", "2026-03-16"),
            ("key_source", key_source.as_str()),
            ("inspect", inspect),
        ]
    };
    let r = run_on(&chip, GATE, false, &vars("yes"));
    r.result.as_ref().unwrap();
    assert_eq!(
        r.printed,
        [
            "ticket 1001: station 42, fare 250, valid until 2026-03-20; valid on 2026-03-16, not marked (inspection)"
        ]
    );
    assert!(wrote_nothing(&r));
    let r = run_on(&chip, GATE, true, &vars("maybe"));
    let r = fails(
        r,
        ErrorKind::Failed,
        "--var inspect=maybe: expected yes or no",
    );
    assert!(r.sent.is_empty());
    assert_eq!(*chip.borrow(), before);
}

#[test]
fn an_unarmed_run_exits_refused_and_leaves_the_card_untouched() {
    let chip = chip();
    let r = fails(
        issue(&chip, false, "2026-03-14", "7"),
        ErrorKind::Refused,
        "not armed",
    );
    assert!(wrote_nothing(&r));
    assert_eq!(*chip.borrow(), Ultralight::new(UID));

    issue(&chip, true, "2026-03-14", "7").result.unwrap();
    let before = chip.borrow().clone();
    let r = fails(
        gate(&chip, false, "2026-03-14"),
        ErrorKind::Refused,
        "not armed",
    );
    assert!(wrote_nothing(&r));
    assert_eq!(*chip.borrow(), before);
}

#[test]
fn a_card_that_is_not_blank_is_refused_before_any_write() {
    for (page, data, message) in [
        (9, [0, 0, 0, 1], "card is not blank: page 9 holds 00000001"),
        (
            3,
            [0x80, 0, 0, 0],
            "card is not blank: OTP page 3 holds 80000000",
        ),
        (
            2,
            [0, 0, 0, 0x80],
            "card is not blank: lock bytes 0080, locked pages [15]",
        ),
        (
            2,
            [0, 0, 0x02, 0],
            "card is not blank: lock bytes 0200, locked pages []",
        ),
    ] {
        let chip = chip();
        chip.borrow_mut().write_page(page, data).unwrap();
        let r = fails(
            issue(&chip, true, "2026-03-14", "7"),
            ErrorKind::Failed,
            message,
        );
        assert!(wrote_nothing(&r));
    }
}

#[test]
fn the_gate_refuses_forged_copied_early_and_expired_tickets() {
    let issued = chip();
    issue(&issued, true, "2026-03-14", "7").result.unwrap();
    let copy = card_from(|pages| {
        *pages = *Ultralight::new(Ultralight::uid_for(1)).pages();
        pages[2][2..].copy_from_slice(&[0xF0, 0x01]);
        pages[4..9].copy_from_slice(&issued.borrow().pages()[4..9]);
    });
    let unlocked = card_from(|pages| {
        *pages = *issued.borrow().pages();
        pages[2][2..].copy_from_slice(&[0x00, 0x00]);
    });
    let (mac, forged) = ("the MAC does not match this card", "FF".repeat(16));
    let cases = [
        (
            &copy,
            "2026-03-15",
            KEY,
            "the MAC does not match this card (UID 04",
        ),
        (&issued, "2026-03-15", forged.as_str(), mac),
        (
            &issued,
            "2026-03-13",
            KEY,
            "refused: not valid before 2026-03-14",
        ),
        (&issued, "2026-03-21", KEY, "refused: expired on 2026-03-20"),
        (
            &chip(),
            "2026-03-15",
            KEY,
            "not a ticket: page 4 holds 00000000",
        ),
        (
            &unlocked,
            "2026-03-15",
            KEY,
            "page 4 is not locked, so issuing did not finish",
        ),
    ];
    for (card, today, key, message) in cases {
        let before = card.borrow().clone();
        let r = fails(
            gate_with_key(card, true, today, key),
            ErrorKind::Failed,
            message,
        );
        assert!(wrote_nothing(&r));
        assert_eq!(*card.borrow(), before);
    }
    // The last valid day is still good.
    gate(&issued, true, "2026-03-20").result.unwrap();
}
