//! Guard verdicts, table-driven, and the decorator's refusals.

use super::*;
use crate::test_support::Fixed;

const ATR_1K: &str = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A";
const ATR_4K: &str = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 02 00 00 00 00 69";
const ATR_UL: &str = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 03 00 00 00 00 68";

fn family(atr: &str) -> Family {
    Family::from_atr(&hex::parse(atr).unwrap())
}

#[track_caller]
fn verdict(family: Family, command: &str) -> Verdict {
    classify(family, &hex::parse(command).unwrap())
}

fn kind(v: &Verdict) -> &'static str {
    match v {
        Verdict::Allow => "allow",
        Verdict::Irreversible(_) => "irreversible",
        Verdict::Forbidden(_) => "forbidden",
    }
}

#[test]
fn families_come_from_the_atr() {
    assert_eq!(family(ATR_1K), Family::Classic(Layout::OneK));
    assert_eq!(family(ATR_4K), Family::Classic(Layout::FourK));
    assert_eq!(family(ATR_UL), Family::Ultralight);
    assert_eq!(
        family("3B 8A 81 31 FE 45 80 68 41 50 44 55 2D 52 55 4E 0D"),
        Family::Other
    );
    assert_eq!(family(""), Family::Other);
}

#[test]
fn classic_trailer_writes() {
    let c1k = family(ATR_1K);
    let keys =
        |access: &str| format!("FF D6 00 07 10 FF FF FF FF FF FF {access} FF FF FF FF FF FF");
    let table = [
        (keys("FF 07 80 69"), "allow"),        // transport
        (keys("08 77 8F 69"), "allow"),        // wallet: trailer 011, still writable with key B
        (keys("07 8F 0F 69"), "irreversible"), // read-only configuration
        (keys("00 F0 FF 69"), "irreversible"), // dead
        (keys("FF 07 81 69"), "forbidden"),    // inverted copy disagrees
        (keys("00 00 00 00"), "forbidden"),
        // Data block 4 is not a trailer: anything goes.
        (
            "FF D6 00 04 10 00 00 00 00 00 00 00 F0 FF 00 00 00 00 00 00 00".to_string(),
            "allow",
        ),
    ];
    for (command, expected) in table {
        assert_eq!(kind(&verdict(c1k, &command)), expected, "{command}");
    }
    let v = verdict(c1k, &keys("07 8F 0F 69"));
    let Verdict::Irreversible(text) = v else {
        panic!()
    };
    assert!(
        text.contains("sector 1 trailer (block 7)") && text.contains("07 8F 0F"),
        "{text}"
    );
    // 4K large sectors: block 255 is the trailer of sector 39, block 143 of sector 33.
    let c4k = family(ATR_4K);
    let big = "FF D6 00 FF 10 FF FF FF FF FF FF 00 F0 FF 69 FF FF FF FF FF FF";
    assert_eq!(kind(&verdict(c4k, big)), "irreversible");
    assert_eq!(
        kind(&verdict(c4k, &big.replace("00 FF 10", "00 8F 10"))),
        "irreversible"
    );
    assert_eq!(
        kind(&verdict(c4k, &big.replace("00 FF 10", "00 8E 10"))),
        "allow"
    );
    // Extended lengths and multi-block writes reach the trailer too.
    let trailer = "FF FF FF FF FF FF 07 8F 0F 69 FF FF FF FF FF FF";
    let extended = format!("FF D6 00 07 00 00 10 {trailer}");
    assert_eq!(kind(&verdict(c1k, &extended)), "irreversible");
    let two = format!("FF D6 00 06 20 {} {trailer}", ["00"; 16].join(" "));
    assert_eq!(kind(&verdict(c1k, &two)), "irreversible");
    let across = format!(
        "FF D6 00 07 20 {} {}",
        keys("FF 07 80 69").get(15..).unwrap(),
        ["00"; 16].join(" ")
    );
    assert_eq!(kind(&verdict(c1k, &across)), "allow");
    let bad = format!(
        "FF D6 00 07 20 {trailer} {}",
        keys("FF 07 81 69").get(15..).unwrap()
    );
    assert_eq!(kind(&verdict(c1k, &bad)), "irreversible", "block 8 is data");
    let bad = format!(
        "FF D6 00 0B 20 {} {trailer}",
        keys("FF 07 81 69").get(15..).unwrap()
    );
    assert_eq!(kind(&verdict(c1k, &bad)), "forbidden", "malformed wins");
    // A malformed APDU is judged on what follows its Lc.
    assert_eq!(
        kind(&verdict(c1k, &format!("{} 00 00", keys("00 F0 FF 69")))),
        "irreversible"
    );
    // The same bytes to a non-Classic card are not the guard's business.
    assert_eq!(kind(&verdict(Family::Other, &keys("00 F0 FF 69"))), "allow");
}

#[test]
fn ultralight_lock_and_otp_writes() {
    let ul = family(ATR_UL);
    let table = [
        ("FF D6 00 02 04 00 00 00 00", "allow"),
        ("FF D6 00 02 04 12 34 F0 00", "irreversible"),
        ("FF D6 00 03 04 00 00 00 01", "irreversible"),
        ("FF D6 00 03 04 00 00 00 00", "allow"),
        ("FF D6 00 04 04 DE AD BE EF", "allow"),
        // Generic session A2 (WRITE) and A0 (COMPATIBILITY WRITE, first 4 bytes kept).
        (
            "FF A0 00 05 0C 01 00 F3 00 00 64 A2 02 00 00 00 FF 00",
            "irreversible",
        ),
        (
            "FF A0 00 05 0C 01 00 F3 00 00 64 A2 05 00 00 00 FF 00",
            "allow",
        ),
        (
            "FF A0 00 05 18 01 00 F3 00 00 64 A0 03 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
            "irreversible",
        ),
    ];
    for (command, expected) in table {
        assert_eq!(kind(&verdict(ul, command)), expected, "{command}");
    }
}

#[test]
fn commit_perso_is_irreversible_however_it_is_sent() {
    assert_eq!(kind(&verdict(Family::Other, "AA")), "irreversible");
    assert_eq!(
        kind(&verdict(
            Family::Other,
            "FF A0 00 05 08 01 00 F3 00 00 64 02 AA 00"
        )),
        "irreversible"
    );
    assert_eq!(kind(&verdict(Family::Other, "A8 00 90 00")), "allow");
}

/// An Ultralight that accepts everything: what reaches it is what the guard let through.
fn echo() -> Box<Fixed> {
    Box::new(Fixed::with_atr(ATR_UL, Some(vec![0x90, 0x00])))
}

#[test]
fn the_decorator_refuses_unless_armed() {
    let otp = hex::parse("FF D6 00 03 04 00 00 00 01").unwrap();
    let mut card = Guarded::new(echo(), false);
    let err = card.transmit(&otp).unwrap_err();
    assert!(matches!(err, Error::Refused { .. }));
    assert!(err.to_string().contains("pass --arm-irreversible"), "{err}");
    let mut armed = Guarded::new(echo(), true);
    assert_eq!(armed.transmit(&otp).unwrap(), [0x90, 0x00]);
}

#[test]
fn write_perso_of_a_malformed_trailer_is_forbidden_in_every_form() {
    let iso4 = family("3B 87 80 01 C1 05 2F 2F 01 BC D6 A9");
    assert_eq!(iso4, Family::IsoDep);
    let keys = |bits: &str| format!("FF FF FF FF FF FF {bits} 69 FF FF FF FF FF FF");
    // Inverted copies that disagree (protocols.md §4.1): sector 1 would be dead in SL1.
    let bad = keys("FF 07 81");
    for command in [
        format!("A8 07 00 {bad}"),
        format!("FF A0 00 05 19 01 00 F3 00 00 64 A8 07 00 {bad} 00"),
        format!("FF A0 00 05 1A 01 00 F3 00 00 64 02 A8 07 00 {bad} 00"),
    ] {
        let v = verdict(iso4, &command);
        assert_eq!(kind(&v), "forbidden", "{command}");
        let Verdict::Forbidden(why) = v else { continue };
        assert!(
            why.starts_with("write to sector 1 trailer (block 7) refused"),
            "{why}"
        );
    }
    // 4K large sectors: block 143 is sector 32's trailer.
    assert_eq!(
        kind(&verdict(iso4, &format!("A8 8F 00 {bad}"))),
        "forbidden"
    );
    // Valid bits, even ones that freeze the trailer, are fine in SL0; data blocks and keys
    // are not trailers.
    for command in [
        format!("A8 07 00 {}", keys("FF 07 80")),
        format!("A8 07 00 {}", keys("07 8F 0F")),
        format!("A8 06 00 {bad}"),
        format!("A8 07 40 {bad}"),
        "A8 07 00 FF FF".to_string(),
    ] {
        assert_eq!(kind(&verdict(iso4, &command)), "allow", "{command}");
    }
}

#[test]
fn commit_perso_is_irreversible_on_any_card() {
    let iso4 = family("3B 87 80 01 C1 05 2F 2F 01 BC D6 A9");
    for command in ["AA", "FF A0 00 05 08 01 00 F3 00 00 64 03 AA 00"] {
        assert_eq!(kind(&verdict(iso4, command)), "irreversible", "{command}");
    }
}

#[test]
fn an_armed_run_can_be_limited_to_some_kinds() {
    let otp = hex::parse("FF D6 00 03 04 00 00 00 01").unwrap();
    let lock = hex::parse("FF D6 00 02 04 00 00 F0 00").unwrap();
    let ul = family(ATR_UL);
    assert_eq!(operations(ul, &otp), [Operation::UlOtp]);
    assert_eq!(operations(ul, &lock), [Operation::UlLock]);
    assert_eq!(operations(Family::Other, &[0xAA]), [Operation::MfpCommit]);
    assert_eq!(
        operations(ul, &hex::parse("FF D6 00 04 04 00 00 00 01").unwrap()),
        []
    );
    let mut card = Guarded::new(echo(), true).only(vec![Operation::UlOtp]);
    assert_eq!(card.transmit(&otp).unwrap(), [0x90, 0x00]);
    let err = card.transmit(&lock).unwrap_err().to_string();
    assert!(err.contains("does not list `ul-lock`"), "{err}");
    let mut unarmed = Guarded::new(echo(), false).only(vec![Operation::UlOtp]);
    assert!(unarmed.transmit(&otp).is_err());
}

#[test]
fn a_trailer_that_freezes_data_blocks_is_two_kinds() {
    let c1k = family(ATR_1K);
    let trailer = |access: &str| {
        hex::parse(&format!(
            "FF D6 00 07 10 FF FF FF FF FF FF {access} FF FF FF FF FF FF"
        ))
        .unwrap()
    };
    // Read-only configuration: data 010, trailer 110.
    let read_only = trailer("07 8F 0F 69");
    assert_eq!(
        operations(c1k, &read_only),
        [Operation::ClassicTrailerLock, Operation::ClassicFrozen]
    );
    let Verdict::Irreversible(why) = classify(c1k, &read_only) else {
        panic!("the read-only configuration is irreversible")
    };
    assert!(
        why.ends_with("freezes data groups 0, 1, 2 (read-only or dead)"),
        "{why}"
    );
    // Locked trailer (100) over transport data (000): the blocks stay writable.
    let bits =
        crate::mifare::access::AccessBits::uniform("000".parse().unwrap(), "100".parse().unwrap());
    let locked = trailer(&format!(
        "{} 69",
        hex::format(&crate::mifare::access::encode(&bits))
    ));
    assert_eq!(operations(c1k, &locked), [Operation::ClassicTrailerLock]);
    // Writable trailers are no kind at all.
    assert_eq!(operations(c1k, &trailer("08 77 8F 69")), []);

    let lock_only = || Guarded::new(echo(), true).only(vec![Operation::ClassicTrailerLock]);
    let mut card = lock_only();
    card.family = c1k;
    assert_eq!(card.transmit(&locked).unwrap(), [0x90, 0x00]);
    let err = card.transmit(&read_only).unwrap_err().to_string();
    assert!(err.contains("does not list `classic-frozen`"), "{err}");
    let mut card = Guarded::new(echo(), true).only(vec![
        Operation::ClassicFrozen,
        Operation::ClassicTrailerLock,
    ]);
    card.family = c1k;
    assert_eq!(card.transmit(&read_only).unwrap(), [0x90, 0x00]);
    let mut card = Guarded::new(echo(), true).only(vec![Operation::ClassicFrozen]);
    card.family = c1k;
    let err = card.transmit(&read_only).unwrap_err().to_string();
    assert!(
        err.contains("does not list `classic-trailer-lock`"),
        "{err}"
    );
}

#[test]
fn cos_lock_key_and_permanent_files_are_irreversible_in_every_wrapping() {
    let contact = family("3B 0A 80 68 41 50 44 55 2D 43 4F 53");
    assert_eq!(contact, Family::Other);
    let iso4 = family("3B 87 80 01 C1 05 2F 2F 01 BC D6 A9");
    for (command, expected) in [
        ("80 5C 03 00", Some(Operation::CosKeyLock)),
        ("00 5C 03 07", Some(Operation::CosKeyLock)),
        // Through the Omnikey generic session, in an I-block.
        (
            "FF A0 00 05 0B 01 00 F3 00 00 64 02 80 5C 03 00 00",
            Some(Operation::CosKeyLock),
        ),
        (
            "80 F2 01 FF 07 00 01 00 04 00 20 FF",
            Some(Operation::CosPermanentFile),
        ),
        (
            "80 F2 38 FF 0E 50 00 00 00 00 20 20 A0 00 00 02 47 10 01",
            Some(Operation::CosPermanentFile),
        ),
        // A key file goes only with its DF; other conditions and commands are reversible.
        ("80 F2 3F FF 07 00 00 00 00 FF 20 FF", None),
        ("80 F2 01 20 07 00 01 00 04 00 20 FF", None),
        ("80 5C 01 00", None),
        ("80 5C 02 01 08 00 11 22 33 44 55 66 77", None),
        ("80 5E 02 01 08 00 11 22 33 44 55 66 77", None),
        ("FF 5C 03 00", None),
    ] {
        for family in [contact, iso4] {
            let ops = operations(family, &hex::parse(command).unwrap());
            assert_eq!(ops, expected.into_iter().collect::<Vec<_>>(), "{command}");
        }
    }
    let why = verdict(contact, "80 5C 03 00");
    assert!(
        matches!(&why, Verdict::Irreversible(w) if w.contains("key 0 locks it for good")),
        "{why:?}"
    );
    let cos_card = || {
        Box::new(Fixed::with_atr(
            "3B 0A 80 68 41 50 44 55 2D 43 4F 53",
            Some(vec![0x90, 0x00]),
        ))
    };
    let lock = [0x80, 0x5C, 0x03, 0x00];
    let err = Guarded::new(cos_card(), false).transmit(&lock).unwrap_err();
    assert!(err.to_string().contains("pass --arm-irreversible"), "{err}");
    let mut armed = Guarded::new(cos_card(), true).only(vec![Operation::CosPermanentFile]);
    let err = armed.transmit(&lock).unwrap_err();
    assert!(
        err.to_string().contains("does not list `cos-key-lock`"),
        "{err}"
    );
    let mut armed = Guarded::new(cos_card(), true).only(vec![Operation::CosKeyLock]);
    assert_eq!(armed.transmit(&lock).unwrap(), [0x90, 0x00]);
}
