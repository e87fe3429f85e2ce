//! `mfc::` against the simulated MIFARE Classic: the wallet flow, the data helpers, and bad
//! arguments that stop before anything is sent.

use crate::script::ErrorKind;
use crate::sim::{Kind, Options, Simulator};
use crate::test_support::{Recording, Run, run_script};

/// Runs `source` on a fresh simulated card of `kind`, unarmed and straight on the card (no
/// guard), recording every command.
fn run_on(kind: Kind, source: &str) -> Run {
    run_script(source, false, &[], |sent| {
        Box::new(Recording {
            inner: Simulator::new(kind, &Options::default()).card(),
            sent,
            acs: false,
        })
    })
}

fn run(source: &str) -> Run {
    run_on(Kind::Classic1K, source)
}

#[test]
fn access_bits_and_decode_access_follow_the_seed_table() {
    let r = run(r#"
        print(hex(mfc::access_bits("110", "110", "110", "011")));
        print(hex(mfc::access_bits("000", "000", "000", "001")));
        let d = mfc::decode_access("07 8F 0F 69");
        print(`${d.valid} ${d.blocks} ${d.irreversible} ${d.name} ${d.gpb}`);
        let d = mfc::decode_access(mfc::access_bits("110", "110", "110", "011"));
        print(`${d.valid} ${d.blocks} ${d.irreversible} ${d.name} ${d.gpb} ${d.warnings.len()}`);
        let d = mfc::decode_access("00F0FF");
        print(`${d.name} ${d.irreversible} ${d.warnings.len()}`);
        let d = mfc::decode_access("FF0781");
        print(`${d.valid} ${d.blocks} ${d.irreversible} ${d.name}`);
        print(d.warnings[0]);
        let d = mfc::decode_access("00000000000000000000000000000000");
        print(d.valid);
    "#);
    r.result.unwrap();
    assert_eq!(
        r.printed,
        [
            "08778F",
            "FF0780",
            "true [\"010\", \"010\", \"010\", \"110\"] true read-only 105",
            "true [\"110\", \"110\", \"110\", \"011\"] false wallet  0",
            "dead true 3",
            "false  true ",
            "malformed access bits `FF 07 81`: inverted copy disagrees for C2 of data group 0",
            "false",
        ]
    );
    assert!(r.sent.is_empty());
}

#[test]
fn trailers_keep_secrets_secret() {
    let r = run(r#"
        let t = mfc::trailer("A0A1A2A3A4A5", "08778F", "B0B1B2B3B4B5");
        print(hex(t));
        print(type_of(t));
        print(hex(mfc::trailer("A0A1A2A3A4A5", "08778F00", "B0B1B2B3B4B5")));
        print(hex(mfc::trailer("A0A1A2A3A4A5", "08778F", 0x42, "B0B1B2B3B4B5")));
        print(hex(mfc::trailer("A0A1A2A3A4A5", "08778F", "43", "B0B1B2B3B4B5")));
    "#);
    r.result.unwrap();
    let lines = &r.printed;
    assert_eq!(lines[0], "A0A1A2A3A4A508778F69B0B1B2B3B4B5");
    assert_eq!(lines[1], "blob");
    assert_eq!(lines[2], "A0A1A2A3A4A508778F00B0B1B2B3B4B5");
    assert_eq!(lines[3], "A0A1A2A3A4A508778F42B0B1B2B3B4B5");
    assert_eq!(lines[4], "A0A1A2A3A4A508778F43B0B1B2B3B4B5");

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.hex");
    std::fs::write(&key, "C0C1C2C3C4C5\n").unwrap();
    let r = run(&format!(
        r#"
        let t = mfc::trailer(secret("file:{}"), "08778F", "B0B1B2B3B4B5");
        print(type_of(t));
        print(t);
        print(t.len());
        "#,
        key.display()
    ));
    r.result.unwrap();
    assert_eq!(r.printed, ["Secret", "(secret)", "16"]);
}

#[test]
fn a_wallet_on_the_simulated_card() {
    let r = run(r#"
        mfc::auth(7, "A", "FFFFFFFFFFFF");
        let access = mfc::access_bits("110", "110", "110", "011");
        mfc::write(7, mfc::trailer("A0A1A2A3A4A5", access, "B0B1B2B3B4B5"));
        mfc::auth(4, "B", "B0B1B2B3B4B5");
        mfc::value_init(4, 100, 4);
        print(mfc::value(4));
        mfc::increment(4, 5);
        mfc::auth(5, "a", "A0A1A2A3A4A5");
        mfc::decrement(4, 30);
        print(mfc::value(4));
        print(hex(mfc::read(4)));
        print(hex(mfc::read(7)));
        mfc::increment(4, 1);
    "#);
    let e = r.result.unwrap_err();
    assert_eq!(
        r.printed,
        [
            "100",
            "75",
            "4B000000B4FFFFFF4B00000004FB04FB",
            "00000000000008778F69000000000000",
        ]
    );
    assert_eq!(e.kind, ErrorKind::Failed);
    assert_eq!(
        e.to_string(),
        "t.rhai:14:14: mfc::increment: block 4 (reader family: HID Omnikey generic session): card \
         answered 6982 (security status not satisfied) to `FF D4 00 04 04 01 00 00 00`"
    );
    assert!(
        r.sent.iter().any(|c| c.starts_with("FF 82 00 01 06")),
        "key B in slot 01"
    );
}

#[test]
fn failed_authentication_throws_without_showing_the_key() {
    let r = run(r#"mfc::auth(4, "A", "000000000000");"#);
    let e = r.result.unwrap_err();
    assert_eq!(
        e.message,
        "mfc::auth: block 4 with key A: card answered 6300 (operation failed (PC/SC Part 3: e.g. \
         authentication failed, or the card did not answer)) to `FF 86 00 00 05 01 00 04 60 00`"
    );
    let r = run(r#"mfc::auth(4, "B", "FFFFFFFFFFFF");"#);
    assert!(
        r.result
            .unwrap_err()
            .message
            .contains("with key B: card answered 6300")
    );
}

#[test]
fn bad_arguments_name_the_argument_and_send_nothing() {
    let cases = [
        (
            r#"mfc::auth(4, "A", "FFFFFFFFFF");"#,
            "mfc::auth: key: a MIFARE Classic key has 6 bytes, got 5",
        ),
        (
            r#"mfc::auth(4, "C", "FFFFFFFFFFFF");"#,
            "mfc::auth: key type must be \"A\" or \"B\", got \"C\"",
        ),
        (
            r#"mfc::auth(64, "A", "FFFFFFFFFFFF");"#,
            "mfc::auth: block 64 is out of range for a MIFARE Classic 1K (blocks 0 to 63)",
        ),
        ("mfc::read(-1);", "mfc::read: block -1 is out of range"),
        (
            "mfc::write(4, blob(15, 0));",
            "mfc::write: data must be 16 bytes (one block), got 15",
        ),
        (
            "mfc::write(4, 12);",
            "mfc::write: data: expected hex text, a Blob or a secret",
        ),
        (
            "mfc::value_init(4, 2147483648, 4);",
            "mfc::value_init: value 2147483648 does not fit: expected -2147483648 to 2147483647",
        ),
        (
            "mfc::value_init(4, 1, 256);",
            "mfc::value_init: addr 256 does not fit: expected 0 to 255",
        ),
        (
            "mfc::value_init(7, 1, 7);",
            "mfc::value_init: block 7 is a sector trailer, not a data block",
        ),
        (
            "mfc::increment(4, -1);",
            "mfc::increment: n -1 does not fit: expected 0 to 2147483647",
        ),
        (
            "mfc::decrement(4, 4294967296);",
            "mfc::decrement: n 4294967296 does not fit",
        ),
        (
            r#"mfc::access_bits("110", "11", "110", "011");"#,
            "mfc::access_bits: b1: access condition `11` has 2 characters, expected 3 like `110`",
        ),
        (
            r#"mfc::access_bits("110", "110", "110", "0x1");"#,
            "mfc::access_bits: trailer: access condition `0x1`: C2 is `x`",
        ),
        (
            r#"mfc::decode_access("0877");"#,
            "mfc::decode_access: access bits take 3 bytes",
        ),
        (
            r#"mfc::trailer("FFFFFFFFFFFF", "FF0781", "FFFFFFFFFFFF");"#,
            "mfc::trailer: access: malformed access bits `FF 07 81`",
        ),
        (
            r#"mfc::trailer("FFFFFFFFFF", "FF0780", "FFFFFFFFFFFF");"#,
            "mfc::trailer: key_a: a MIFARE Classic key has 6 bytes, got 5",
        ),
        (
            r#"mfc::trailer("FFFFFFFFFFFF", "FF0780", "FFFF");"#,
            "mfc::trailer: key_b: a MIFARE Classic key has 6 bytes, got 2",
        ),
        (
            r#"mfc::trailer("FFFFFFFFFFFF", "FF0780", 256, "FFFFFFFFFFFF");"#,
            "mfc::trailer: gpb: 256 is not a byte",
        ),
        (
            r#"mfc::trailer("FFFFFFFFFFFF", "FF078069", 0x69, "FFFFFFFFFFFF");"#,
            "mfc::trailer: access: expected 3 bytes",
        ),
    ];
    for (source, message) in cases {
        let r = run(source);
        let e = r.result.unwrap_err();
        assert!(e.message.starts_with(message), "{source}: {e}");
        assert!(r.sent.is_empty(), "{source}: sent {:?}", r.sent);
    }
    // A 4K card has 256 blocks; an ISO 7816 card is no MIFARE Classic.
    let r = run_on(
        Kind::Classic4K,
        r#"mfc::auth(255, "A", "FFFFFFFFFFFF"); print(hex(mfc::read(254)));"#,
    );
    r.result.unwrap();
    assert_eq!(r.printed, ["00000000000000000000000000000000"]);
    let r = run_on(Kind::Iso7816, "mfc::read(4);");
    assert_eq!(
        r.result.unwrap_err().message,
        "mfc::read: the card is not a MIFARE Classic (its ATR names no Classic card, protocols.md §2.3)"
    );
    assert!(r.sent.is_empty());
}

#[test]
fn value_of_a_block_that_is_not_a_value_block_throws() {
    let r = run(r#"mfc::auth(4, "A", "FFFFFFFFFFFF"); mfc::value(4);"#);
    let e = r.result.unwrap_err();
    assert_eq!(
        e.message,
        "mfc::value: block 4 is not a value block: value block bytes 4-7 `00 00 00 00` are not the \
         inverse of bytes 0-3 `00 00 00 00`"
    );
}

#[test]
fn decode_access_of_a_secret_tells_validity_only_and_a_trailer_keeps_its_key_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let access = dir.path().join("access.hex");
    std::fs::write(&access, "FF078069\n").unwrap();
    let key = dir.path().join("key.hex");
    std::fs::write(&key, "A0A1A2A3A4A5\n").unwrap();
    let r = run(&format!(
        r#"
        let d = mfc::decode_access(secret("file:{}"));
        print(`${{d.valid}} ${{d.irreversible}} ${{d.blocks}} ${{d.name}} ${{d.gpb}} ${{d.warnings}}`);
        let t = mfc::trailer(secret("file:{}"), "FF0780", "FFFFFFFFFFFF");
        print(hex(t));
        let d = mfc::decode_access(t);
        print(`${{d.valid}} ${{d.name}} ${{d.gpb}}`);
        "#,
        access.display(),
        key.display()
    ));
    r.result.unwrap();
    assert_eq!(
        r.printed,
        [
            "true false (secret) (secret) (secret) []",
            "(secret)FF078069FFFFFFFFFFFF",
            "true transport 105",
        ]
    );
}
