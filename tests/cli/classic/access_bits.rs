//! `apdu-run access-bits decode|encode`: the seed vectors, the tables, exit codes.

use crate::apdu_run;

/// The seed vectors: bytes 6-9, conditions, irreversible, name.
const VECTORS: [(&str, [&str; 4], bool, Option<&str>); 4] = [
    (
        "FF078069",
        ["000", "000", "000", "001"],
        false,
        Some("transport"),
    ),
    (
        "08778F69",
        ["110", "110", "110", "011"],
        false,
        Some("wallet"),
    ),
    (
        "078F0F69",
        ["010", "010", "010", "110"],
        true,
        Some("read-only"),
    ),
    ("00F0FF69", ["111", "111", "111", "111"], true, Some("dead")),
];

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap()
}

#[test]
fn access_bits_decode_the_seed_vectors() {
    for (hex, blocks, irreversible, name) in VECTORS {
        let r = apdu_run(&["access-bits", "decode", hex, "--json"]);
        assert_eq!(r.code, 0, "{hex}: {}", r.stderr);
        assert_eq!(
            json(&r.stdout),
            serde_json::json!({
                "bytes": &hex[..6],
                "gpb": "69",
                "valid": true,
                "blocks": blocks,
                "irreversible": irreversible,
                "name": name,
                "warnings": json(&r.stdout)["warnings"].clone(),
            }),
            "{hex}"
        );
        assert_eq!(
            json(&r.stdout)["warnings"].as_array().unwrap().is_empty(),
            !irreversible,
            "{hex}"
        );
        // Encoding the conditions gives the bytes back, with the same report.
        let mut args = vec!["access-bits", "encode"];
        args.extend(blocks);
        let r = apdu_run(&args);
        assert_eq!(r.code, 0, "{hex}: {}", r.stderr);
        let spaced: Vec<String> = (0..4).map(|i| hex[2 * i..2 * i + 2].to_string()).collect();
        assert_eq!(r.stdout.lines().next(), Some(spaced.join(" ").as_str()));
    }
}

#[test]
fn access_bits_tables_say_who_may_do_what() {
    let r = apdu_run(&["access-bits", "decode", "08", "77", "8F", "69"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "bytes 6-9: 08 77 8F 69");
    assert!(
        lines[1].starts_with("conditions: 110 110 110 011 (wallet: "),
        "{}",
        lines[1]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    "0",
                    "110",
                    "key",
                    "A",
                    "or",
                    "B",
                    "key",
                    "B",
                    "key",
                    "B",
                    "key",
                    "A",
                    "or",
                    "B",
                    "value",
                    "block",
                    "(recharge",
                    "with",
                    "key",
                    "B)"
                ]),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("irreversible: no"), "{}", r.stdout);
    // Transport: key B is readable, so the tables show key A only, and say why.
    let r = apdu_run(&["access-bits", "decode", "FF0780"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with("bytes 6-8: FF 07 80\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("note: key B is readable (trailer 001), so it cannot authenticate"),
        "{}",
        r.stdout
    );
    let block0 = r.stdout.lines().find(|l| l.starts_with("0 ")).unwrap();
    assert_eq!(
        block0.split_whitespace().collect::<Vec<_>>(),
        [
            "0",
            "000",
            "key",
            "A",
            "key",
            "A",
            "key",
            "A",
            "key",
            "A",
            "transport"
        ]
    );
    // Irreversible conditions come with warnings.
    let r = apdu_run(&["access-bits", "encode", "010", "010", "010", "110"]);
    assert!(r.stdout.contains("irreversible: yes"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("warning: key A and key B can never be changed again"),
        "{}",
        r.stdout
    );
}

#[test]
fn access_bits_malformed_exit_1_and_bad_arguments_exit_2() {
    let r = apdu_run(&["access-bits", "decode", "FF078169"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains(
            "malformed access bits `FF 07 81`: inverted copy disagrees for C2 of data group 0"
        ),
        "{}",
        r.stdout
    );
    let r = apdu_run(&["access-bits", "decode", "--json", "000000"]);
    assert_eq!(r.code, 1);
    let v = json(&r.stdout);
    assert_eq!(v["valid"], false);
    assert_eq!(v["blocks"], serde_json::Value::Null);
    assert_eq!(v["gpb"], serde_json::Value::Null);
    assert!(v["warnings"][0].as_str().unwrap().starts_with("malformed"));

    for (args, message) in [
        (
            &["decode", "08778G"][..],
            "access bits `08778G`: column 6: `G` is not a hex digit",
        ),
        (
            &["decode", "0877"],
            "expected 3 bytes (trailer bytes 6-8) or 4",
        ),
        (&["decode", "08778F6900"], "got 5"),
        (
            &["encode", "110", "110", "11", "011"],
            "B2: access condition `11` has 2 characters",
        ),
        (
            &["encode", "110", "110", "110", "01x"],
            "T: access condition `01x`: C3 is `x`",
        ),
        (
            &["encode", "110", "110", "110", "011", "--gpb", "6900"],
            "--gpb `6900`: expected 1 byte",
        ),
    ] {
        let mut all = vec!["access-bits"];
        all.extend_from_slice(args);
        let r = apdu_run(&all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(apdu_run(&["access-bits", "encode", "110"]).code, 2);
}
