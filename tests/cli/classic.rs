//! MIFARE Classic: the simulated 1K/4K card, the `mfc::` API, the wallet script and the
//! guard that refuses trailers which would brick a sector; `access-bits` in `access_bits.rs`.

mod access_bits;

use super::{apdu_run, run_sim, script, trace_hex};

#[test]
fn the_simulated_classic_card_answers_pc_sc_storage_commands() {
    let text = r#"
        print(hex(uid()));
        print(hex(atr()));
        send("FF 82 00 00 06 FF FF FF FF FF FF", "9000");
        send("FF 86 00 00 05 01 00 04 60 00", "9000");
        print(send("FF B0 00 07 10").hex);
        print(send("FF B0 00 08 10").sw);
    "#;
    let (r, trace) = run_sim("classic-1k", text, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "CF9E3779\n3B8F8001804F0CA000000306030001000000006A\n\
         000000000000FF078069FFFFFFFFFFFF\n27010\n"
    );
    // LOAD KEYS data is masked in traces.
    assert_eq!(trace[2]["hex"], "FF82000006(secret)");
    let (r, _) = run_sim(
        "classic-4k",
        "print(hex(atr())); print(hex(uid()));",
        &["--sim-uid", "04112233445566"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "3B8F8001804F0CA0000003060300020000000069\n04112233445566\n"
    );
    let (r, trace) = run_sim("classic-1k", "print(1);", &["--sim-uid", "0102030405"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--sim-uid `0102030405`: simulated `classic-1k` card: a MIFARE Classic UID has 4 or 7 bytes, got 5"),
        "{}",
        r.stderr
    );
    assert!(trace.is_empty());
}

const AUTH_TRAILER_1: &str = "mfc::auth(7, \"A\", \"FFFFFFFFFFFF\");\n";

#[test]
fn irreversible_trailers_exit_4_and_nothing_is_sent_unless_armed() {
    let frozen = "FF D6 00 07 10 FF FF FF FF FF FF 07 8F 0F 69 FF FF FF FF FF FF";
    for (write, at) in [
        (format!("send(\"{frozen}\");"), "t.rhai:2:1"),
        (
            "mfc::write(7, mfc::trailer(\"FFFFFFFFFFFF\", \"078F0F\", \"FFFFFFFFFFFF\"));"
                .to_string(),
            "t.rhai:2:6",
        ),
    ] {
        let (r, trace) = run_sim("classic-1k", &format!("{AUTH_TRAILER_1}{write}"), &[]);
        assert_eq!(r.code, 4, "{write}: {}", r.stderr);
        let expected = format!(
            "{at}: refused: write to sector 1 trailer (block 7) sets access bits `07 8F 0F` \
             (010 010 010 110): trailer condition 110 makes the access bits read-only for ever, \
             and freezes data groups 0, 1, 2 (read-only or dead) (pass --arm-irreversible to allow it)"
        );
        assert!(r.stderr.contains(&expected), "{write}: {}", r.stderr);
        let sent = trace_hex(&trace, ">>");
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert!(sent.iter().all(|c| !c.starts_with("FFD6")), "{sent:?}");
    }
    // Armed, the write goes through and the sector is read-only for ever.
    let text = format!(
        "{AUTH_TRAILER_1}send(\"{frozen}\", \"9000\");\nmfc::auth(4, \"A\", \"FFFFFFFFFFFF\");\n\
         print(hex(mfc::read(4)));\nprint(send(\"FF D6 00 04 10 {}\").sw);\n\
         print(send(\"FF D6 00 07 10 {}\").sw);",
        ["01"; 16].join(" "),
        "FF FF FF FF FF FF FF 07 80 69 FF FF FF FF FF FF"
    );
    let (r, _) = run_sim("classic-1k", &text, &["--arm-irreversible"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "00000000000000000000000000000000\n27010\n27010\n");
}

#[test]
fn an_armed_profile_must_list_classic_frozen_to_freeze_data_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let profile = |name: &str, kinds: &str| {
        script(
            dir.path(),
            name,
            &format!(
                "name: t\ncard: classic-1k\nirreversible: [{kinds}]\nsteps:\n\
                 \x20 - apdu: FF 82 00 00 06 FF FF FF FF FF FF\n\
                 \x20 - apdu: FF 86 00 00 05 01 00 07 60 00\n\
                 \x20 - apdu: FF D6 00 07 10 FF FF FF FF FF FF 07 8F 0F 69 FF FF FF FF FF FF\n"
            ),
        )
    };
    let run = |path: &std::path::Path| {
        apdu_run(&[
            "run",
            "--sim",
            "classic-1k",
            "--arm-irreversible",
            path.to_str().unwrap(),
        ])
    };
    // The read-only configuration locks the trailer and freezes every data block.
    let r = run(&profile("lock.yaml", "classic-trailer-lock"));
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("the profile's `irreversible:` does not list `classic-frozen`"),
        "{}",
        r.stderr
    );
    let r = run(&profile("frozen.yaml", "classic-frozen"));
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("does not list `classic-trailer-lock`"),
        "{}",
        r.stderr
    );
    let r = run(&profile(
        "both.yaml",
        "classic-trailer-lock, classic-frozen",
    ));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn malformed_trailers_are_refused_even_when_armed() {
    let bad = "FF D6 00 07 10 FF FF FF FF FF FF FF 07 81 69 FF FF FF FF FF FF";
    let (r, trace) = run_sim(
        "classic-1k",
        &format!("{AUTH_TRAILER_1}send(\"{bad}\");"),
        &["--arm-irreversible"],
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "refused: write to sector 1 trailer (block 7) refused: malformed access bits \
             `FF 07 81`: inverted copy disagrees for C2 of data group 0; the sector would be dead"
        ),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("--arm-irreversible"), "{}", r.stderr);
    let sent = trace_hex(&trace, ">>");
    assert!(sent.iter().all(|c| !c.starts_with("FFD6")));
    // 4K: the trailer of a large sector is its 16th block.
    let (r, trace) = run_sim(
        "classic-4k",
        "mfc::auth(255, \"A\", \"FFFFFFFFFFFF\");\n\
         send(\"FF D6 00 FF 10 FF FF FF FF FF FF 00 F0 FF 69 FF FF FF FF FF FF\");",
        &[],
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("sector 39 trailer (block 255)"),
        "{}",
        r.stderr
    );
    let sent = trace_hex(&trace, ">>");
    assert!(sent.iter().all(|c| !c.starts_with("FFD6")));
}

#[test]
fn the_wallet_script_personalises_sector_1() {
    let r = apdu_run(&["--sim", "classic-1k", "scripts/classic_wallet.rhai"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.lines().skip(1).collect::<Vec<_>>(),
        [
            "sector 1: new keys, access bits 08778F69 (wallet)",
            "block 4: value 100 written with key B",
            "block 4: value 70 after a decrement of 30 with key A",
            "key A cannot write block 4 (security status not satisfied) nor increment it",
            "trailer as key A reads it: 00000000000008778F69000000000000",
        ]
    );
    // Keys from the environment, and the card kept in an image: a second run finds the
    // transport key gone.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    let trace = dir.path().join("trace.jsonl");
    let run = || {
        super::ran(
            super::bin()
                .args([
                    "--sim",
                    "classic-1k",
                    "--sim-state",
                    state.to_str().unwrap(),
                ])
                .args(["--trace-file", trace.to_str().unwrap()])
                .args([
                    "--var",
                    "key_a=env:WALLET_KEY_A",
                    "--var",
                    "key_b=env:WALLET_KEY_B",
                ])
                .arg("scripts/classic_wallet.rhai")
                .env("WALLET_KEY_A", "112233445566")
                .env("WALLET_KEY_B", "778899AABBCC")
                .output()
                .unwrap(),
        )
    };
    let r = run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let traced = std::fs::read_to_string(&trace).unwrap();
    assert!(!traced.contains("112233445566") && !traced.contains("778899AABBCC"));
    let image = std::fs::read_to_string(&state).unwrap();
    assert!(
        image.contains("\"11 22 33 44 55 66 08 77 8F 69 77 88 99 AA BB CC\""),
        "{image}"
    );
    let r = run();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("mfc::auth: block 7 with key A: card answered 6300"),
        "{}",
        r.stderr
    );
}

#[test]
fn mfc_arguments_are_checked_before_anything_is_sent() {
    for (text, message) in [
        (
            "mfc::auth(4, \"A\", \"FFFF\");",
            "t.rhai:1:6: mfc::auth: key: a MIFARE Classic key has 6 bytes, got 2",
        ),
        (
            "mfc::read(64);",
            "mfc::read: block 64 is out of range for a MIFARE Classic 1K (blocks 0 to 63)",
        ),
        (
            "mfc::write(4, \"00\");",
            "mfc::write: data must be 16 bytes (one block), got 1",
        ),
        (
            "mfc::value_init(4, -2147483649, 4);",
            "mfc::value_init: value -2147483649 does not fit",
        ),
        (
            "mfc::access_bits(\"110\", \"110\", \"2\", \"011\");",
            "mfc::access_bits: b2: access condition `2` has 1 characters",
        ),
    ] {
        let (r, trace) = run_sim("classic-1k", text, &[]);
        assert_eq!(r.code, 1, "{text}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{text}: {}", r.stderr);
        assert!(trace.is_empty(), "{text}");
    }
    let (r, _) = run_sim(
        "classic-4k",
        "mfc::auth(255, \"B\", \"FFFFFFFFFFFF\");",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("with key B: card answered 6300"),
        "key B is readable in the transport configuration: {}",
        r.stderr
    );
}
