//! Each `ul::` function: the APDUs it sends, what it returns, how it fails.

use super::{Chip, UID, chip, run_on};
use crate::script::ErrorKind;

/// A tag whose pages 4–15 hold their own page number in every byte.
fn numbered() -> Chip {
    let chip = chip();
    for n in 4..16 {
        chip.borrow_mut().write_page(n, [n; 4]).unwrap();
    }
    chip
}

#[test]
fn read_sends_read_binary_of_four_pages() {
    let chip = numbered();
    let r = run_on(&chip, "print(hex(ul::read(14)));", false, &[]);
    r.result.unwrap();
    assert_eq!(r.sent, ["FF B0 00 0E 10"]);
    assert_eq!(r.printed, ["0E0E0E0E0F0F0F0F04E15C3132A63F80"]);
}

#[test]
fn write_sends_update_binary_of_one_page() {
    let chip = chip();
    let r = run_on(
        &chip,
        r#"ul::write(4, "DE AD BE EF"); ul::write(5, unhex("01020304"));"#,
        false,
        &[],
    );
    r.result.unwrap();
    assert_eq!(
        r.sent,
        ["FF D6 00 04 04 DE AD BE EF", "FF D6 00 05 04 01 02 03 04"]
    );
    assert_eq!(
        chip.borrow().pages()[4..6],
        [[0xDE, 0xAD, 0xBE, 0xEF], [1, 2, 3, 4]]
    );
}

#[test]
fn bad_arguments_name_the_function_and_argument_and_send_nothing() {
    for (source, message) in [
        ("ul::read(16)", "ul::read: page 16 is out of range 0..=15"),
        ("ul::read(-1)", "ul::read: page -1 is out of range 0..=15"),
        (
            r#"ul::write(16, "01020304")"#,
            "ul::write: page 16 is out of range",
        ),
        (
            r#"ul::write(4, "010203")"#,
            "ul::write: data has 3 bytes, expected 4",
        ),
        (
            "ul::write(4, 7)",
            "ul::write: data: expected hex text, a Blob or a secret",
        ),
        (
            r#"ul::write_compat(4, "0102")"#,
            "ul::write_compat: data has 2 bytes, expected 16",
        ),
        (
            r#"ul::write_compat(99, "0102")"#,
            "ul::write_compat: page 99 is out of range",
        ),
        (r#"ul::otp("01")"#, "ul::otp: data has 1 byte, expected 4"),
        ("ul::lock([])", "ul::lock: pages is empty"),
        (
            "ul::lock([4, 2])",
            "ul::lock: page 2 has no lock bit (only pages 3-15 can be locked)",
        ),
        ("ul::lock([16])", "ul::lock: page 16 is out of range 0..=15"),
        (
            r#"ul::lock(["4"])"#,
            "ul::lock: pages must be integers, got string",
        ),
    ] {
        for armed in [false, true] {
            let r = run_on(&chip(), source, armed, &[]);
            let e = r.result.unwrap_err();
            assert_eq!(e.kind, ErrorKind::Failed, "{source}");
            assert!(e.message.starts_with(message), "{source}: {e}");
            assert!(r.sent.is_empty(), "{source}: sent {:?}", r.sent);
        }
    }
}

#[test]
fn card_refusals_name_the_command() {
    let r = run_on(&chip(), r#"ul::write(0, "01020304")"#, false, &[]);
    let e = r.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Failed);
    assert!(
        e.message.starts_with("ul::write: card answered 6300 (")
            && e.message.ends_with("to `FF D6 00 00 04 01 02 03 04`"),
        "{e}"
    );
}

#[test]
fn write_compat_wraps_one_frame_in_a_generic_session_and_keeps_four_bytes() {
    let chip = chip();
    let data = "11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00";
    let r = run_on(
        &chip,
        &format!(r#"ul::write_compat(5, "{data}");"#),
        false,
        &[],
    );
    r.result.unwrap();
    assert_eq!(
        r.sent,
        [
            "FF A0 00 07 03 01 00 01".to_string(),
            format!("FF A0 00 05 18 01 00 F3 00 00 64 A0 05 {data} 00"),
            "FF A0 00 07 03 01 00 02".to_string(),
        ]
    );
    assert_eq!(
        chip.borrow().pages()[5..7],
        [[0x11, 0x22, 0x33, 0x44], [0; 4]]
    );
}

#[test]
fn write_compat_reports_a_nak_and_still_closes_the_session() {
    let chip = chip();
    chip.borrow_mut().write_page(2, [0, 0, 0x20, 0]).unwrap();
    let r = run_on(&chip, r#"ul::write_compat(5, blob(16, 0xAB));"#, false, &[]);
    let e = r.result.unwrap_err();
    assert_eq!(
        e.message,
        "ul::write_compat: card answered NAK 0 (invalid argument: page out of range, read-only or locked)"
    );
    assert_eq!(r.sent.len(), 3);
    assert_eq!(r.sent[2], "FF A0 00 07 03 01 00 02");
    assert_eq!(chip.borrow().pages()[5], [0; 4]);
}

#[test]
fn irreversible_writes_are_refused_unless_armed_before_anything_is_sent() {
    for source in [
        "ul::lock([4])",
        r#"ul::otp("01 00 00 00")"#,
        r#"ul::write(2, "00 00 10 00")"#,
        r#"ul::write(3, "00 00 00 01")"#,
        r#"ul::write_compat(3, "01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")"#,
    ] {
        let chip = chip();
        let r = run_on(&chip, source, false, &[]);
        let e = r.result.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Refused, "{source}: {e}");
        assert!(e.message.starts_with("refused: ul::"), "{e}");
        assert!(e.message.ends_with("(pass --arm-irreversible)"), "{e}");
        assert!(r.sent.is_empty(), "{source}: sent {:?}", r.sent);
        assert_eq!(*chip.borrow(), crate::sim::ultralight::Ultralight::new(UID));
        run_on(&chip, source, true, &[]).result.unwrap();
        assert_ne!(*chip.borrow(), crate::sim::ultralight::Ultralight::new(UID));
    }
    // Writing zeros to pages 2-3 sets nothing, so it is not irreversible.
    run_on(&chip(), r#"ul::write(3, "00000000")"#, false, &[])
        .result
        .unwrap();
}

#[test]
fn lock_sets_lock_bits_and_checks_they_took() {
    let chip = chip();
    let r = run_on(
        &chip,
        "ul::lock([4, 5, 6, 7, 8]); print(ul::locked_pages());",
        true,
        &[],
    );
    r.result.unwrap();
    assert_eq!(
        r.sent,
        [
            "FF D6 00 02 04 00 00 F0 01",
            "FF B0 00 02 10",
            "FF B0 00 02 10"
        ]
    );
    assert_eq!(r.printed, ["[4, 5, 6, 7, 8]"]);
    let e = run_on(&chip, r#"ul::write(4, "01020304")"#, true, &[])
        .result
        .unwrap_err();
    assert!(
        e.message.starts_with("ul::write: card answered 6300"),
        "{e}"
    );

    // A block-lock bit (BL 9-4) freezes the lock bit of page 4: the write is acknowledged
    // but the bit does not take.
    let chip = super::chip();
    chip.borrow_mut().write_page(2, [0, 0, 0x02, 0]).unwrap();
    let e = run_on(&chip, "ul::lock([4, 12])", true, &[])
        .result
        .unwrap_err();
    assert_eq!(
        e.message,
        "ul::lock: pages [4] did not lock: page 2 reads back `2B 48 02 10` (their lock bits are frozen by a block-lock bit)"
    );
}

#[test]
fn otp_ors_bits_into_page_3() {
    let chip = chip();
    let r = run_on(
        &chip,
        r#"ul::otp("01 00 00 00"); ul::otp(unhex("00000080")); print(hex(ul::read(3)));"#,
        true,
        &[],
    );
    r.result.unwrap();
    assert_eq!(r.printed[0][..8], *"01000080");
    assert_eq!(r.sent[0], "FF D6 00 03 04 01 00 00 00");
    // Once L-OTP is set, the card refuses.
    chip.borrow_mut().write_page(2, [0, 0, 0x08, 0]).unwrap();
    let e = run_on(&chip, r#"ul::otp("02 00 00 00")"#, true, &[])
        .result
        .unwrap_err();
    assert!(e.message.starts_with("ul::otp: card answered 6300"), "{e}");
}

#[test]
fn uid_checks_the_bcc_bytes_against_the_reported_uid() {
    let r = run_on(&chip(), "print(hex(ul::uid()));", false, &[]);
    r.result.unwrap();
    assert_eq!(r.printed, ["04E15C32A63F80"]);
    assert_eq!(r.sent, ["FF CA 00 00 00", "FF B0 00 00 10"]);

    for (slot, byte, message) in [
        (
            (0, 3),
            0x00,
            "ul::uid: BCC0 is 00, expected 31 in pages 0-2 `04 E1 5C 00 32 A6 3F 80 2B 48 00 00` (UID `04 E1 5C 32 A6 3F 80`)",
        ),
        (
            (2, 0),
            0x2A,
            "ul::uid: BCC1 is 2A, expected 2B in pages 0-2 `04 E1 5C 31 32 A6 3F 80 2A 48 00 00` (UID `04 E1 5C 32 A6 3F 80`)",
        ),
    ] {
        let mut pages = *chip().borrow().pages();
        pages[slot.0][slot.1] = byte;
        let bad = std::rc::Rc::new(std::cell::RefCell::new(
            crate::sim::ultralight::Ultralight::from_pages(pages),
        ));
        let e = run_on(&bad, "ul::uid()", false, &[]).result.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Failed);
        assert_eq!(e.message, message);
    }
}

#[test]
fn generic_session_answers_are_checked() {
    use crate::apdu::{Response, StatusWord};
    use crate::script::ul_api::generic::check_ack;
    let answer = |data: &[u8], sw: u16| Response {
        data: data.to_vec(),
        sw: StatusWord(sw),
    };
    let message = |r: &Response| {
        check_ack("w", r)
            .map_err(|e| crate::script::error::from_eval("t", &e).message)
            .err()
    };
    assert_eq!(message(&answer(&[0, 0, 0x0A], 0x9000)), None);
    for (r, expected) in [
        (
            answer(&[], 0x6400),
            "w: the card did not answer (reader status 6400)",
        ),
        (
            answer(&[0, 0, 0x05], 0x9000),
            "w: card answered NAK 5 (EEPROM write error)",
        ),
        (
            answer(&[0x0A], 0x9000),
            "w: unexpected answer `0A` (expected `00 00 0A`)",
        ),
        (
            answer(&[0, 0, 0x0A, 0x00], 0x9000),
            "w: unexpected answer `00 00 0A 00` (expected `00 00 0A`)",
        ),
    ] {
        assert_eq!(message(&r).as_deref(), Some(expected));
    }
    let other = message(&answer(&[], 0x6A81)).unwrap();
    assert!(other.starts_with("w: reader answered 6A81 ("), "{other}");
}
