//! `iso::` on the simulated T=0 and T=1 cards: one result whatever the protocol.

use super::{run_sim, trace_hex};

const KINDS: [&str; 2] = ["iso7816", "iso7816-t0"];

#[test]
fn long_reads_and_writes_are_split_into_short_apdus() {
    let text = "iso::select(\"3F00/5000/0101\");\n\
                let d = iso::read_binary(0, 300); print(d.len()); print(iso::last_sw());\n\
                iso::update_binary(0, d.extract(0, 300));\n\
                print(iso::extended());";
    for kind in KINDS {
        let (r, trace) = run_sim(kind, text, &[]);
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
        assert_eq!(r.stdout, "300\n36864\nfalse\n", "{kind}");
        // No extended APDU went out: Lc/Le are one byte (after a 00 that is Le 256).
        let sent = trace_hex(&trace, ">>");
        assert!(sent.iter().any(|c| c == "00B0000000"), "{kind}: {sent:?}");
        assert!(
            sent.iter().any(|c| c.starts_with("00D60000FF")),
            "{kind}: {sent:?}"
        );
        assert!(
            !sent.iter().any(|c| c.len() > 2 * (5 + 255)),
            "{kind}: {sent:?}"
        );
    }
}

#[test]
fn reading_past_the_end_returns_what_exists_with_6282_on_t0_and_t1() {
    let text = "iso::select(\"3F00/2F00\");\n\
                let d = iso::read_binary(8, 32); print(hex(d)); print(iso::last_sw());\n\
                iso::select(\"3F00/5000/0102\");\n\
                let r = iso::read_record(1, 20); print(r.len()); print(iso::last_sw());\n\
                let r = iso::read_record(2); print(r.len()); print(iso::last_sw());";
    let mut outputs = Vec::new();
    for kind in KINDS {
        let (r, _) = run_sim(kind, text, &[]);
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
        outputs.push(r.stdout);
    }
    assert_eq!(
        outputs[0],
        "08090A0B0C0D0E0F\n25218\n16\n25218\n16\n36864\n"
    );
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn get_challenge_returns_exactly_the_bytes_asked_for() {
    for kind in KINDS {
        let (r, _) = run_sim(
            kind,
            "print(iso::get_challenge(4).len()); print(iso::get_challenge(8).len());",
            &[],
        );
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
        assert_eq!(r.stdout, "4\n8\n", "{kind}");
    }
}

#[test]
fn the_class_byte_is_the_scripts_choice() {
    // The simulated card knows only class 00: A0 gets 6E00, and the error says so.
    for kind in KINDS {
        let (r, trace) = run_sim(
            kind,
            "iso::cla(0xA0); print(iso::cla()); iso::select(\"3F00\");",
            &[],
        );
        assert_eq!(r.code, 1, "{kind}");
        assert_eq!(r.stdout, "160\n");
        assert!(r.stderr.contains("card answered 6E00"), "{}", r.stderr);
        assert_eq!(trace_hex(&trace, ">>"), ["A0A40000023F00"], "{kind}");
    }
    let (r, _) = run_sim("iso7816", "iso::cla(0xFF);", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("iso::cla: class byte FF"), "{}", r.stderr);
}

#[test]
fn record_modes_walk_the_records() {
    let text = "iso::select(\"3F00/5000/0102\");\n\
                print(iso::read_record(\"first\")[0]); print(iso::read_record(\"next\")[0]);\n\
                print(iso::read_record(\"last\")[0]); print(iso::read_record(\"previous\")[0]);";
    for kind in KINDS {
        let (r, _) = run_sim(kind, text, &[]);
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
        assert_eq!(r.stdout, "1\n2\n3\n2\n", "{kind}");
    }
}

#[test]
fn sim_seed_makes_challenges_repeat_and_without_it_they_differ() {
    let text = "print(hex(iso::get_challenge(8)));";
    let challenge = |extra: &[&str]| {
        let (r, _) = run_sim("iso7816", text, extra);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    assert_eq!(
        challenge(&["--sim-seed", "7"]),
        challenge(&["--sim-seed", "7"])
    );
    assert_ne!(
        challenge(&["--sim-seed", "7"]),
        challenge(&["--sim-seed", "8"])
    );
    assert_ne!(challenge(&[]), challenge(&[]));
}

#[test]
fn the_cplc_names_each_card_of_a_simulated_stream() {
    let (r, _) = run_sim(
        "iso7816-t0",
        "let r = send(\"80 CA 9F 7F 00\", \"9000\"); print(r.data.len()); print(hex(r.data.extract(0, 3)));",
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "45\n9F7F2A\n");
}
