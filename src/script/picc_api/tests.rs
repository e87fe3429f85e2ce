//! `picc::` and the reader-dependent `mfc::` values on every simulated reader model: one
//! script, the same results, the family's own bytes on the wire.

use crate::reader::guard::Guarded;
use crate::sim::{Kind, Options, ReaderModel, Simulator};
use crate::test_support::{Recording, Run, run_script};

fn run_in(model: ReaderModel, kind: Kind, source: &str) -> Run {
    run_script(source, false, &[], |sent| {
        let options = Options {
            reader: model,
            ..Options::default()
        };
        let card = Recording {
            inner: Simulator::new(kind, &options).card(),
            sent,
            acs: false,
        };
        Box::new(Guarded::new(Box::new(card), false))
    })
}

#[test]
fn one_script_reads_a_page_on_every_reader() {
    let source = r#"
        print(picc::kind());
        print(hex(picc::session(|| picc::transceive("30 00"))));
    "#;
    let mut pages = Vec::new();
    for (model, kind) in [
        (ReaderModel::Omnikey5421, "omnikey"),
        (ReaderModel::Acr122u, "acs-pn532"),
        (ReaderModel::Acr1252u, "pcsc-part3"),
    ] {
        let run = run_in(model, Kind::Ultralight, source);
        assert!(run.result.is_ok(), "{model}: {:?}", run.result);
        assert_eq!(run.printed[0], kind);
        pages.push(run.printed[1].clone());
    }
    assert_eq!(pages[0].len(), 32);
    assert!(pages.iter().all(|p| *p == pages[0]), "{pages:?}");
}

#[test]
fn values_use_each_family_command_and_byte_order() {
    let source = r#"
        mfc::auth(4, "A", "FFFFFFFFFFFF");
        mfc::value_init(4, 100, 4);
        mfc::increment(4, 5);
        mfc::decrement(4, 30);
        print(mfc::value(4));
    "#;
    for (model, wire) in [
        (ReaderModel::Omnikey5421, "FF D8 00 04 04 1E 00 00 00"),
        (ReaderModel::Acr122u, "FF D7 00 04 05 02 00 00 00 1E"),
        (ReaderModel::Acr1252u, "FF D7 00 04 05 02 00 00 00 1E"),
    ] {
        let run = run_in(model, Kind::Classic1K, source);
        assert!(run.result.is_ok(), "{model}: {:?}", run.result);
        assert_eq!(run.printed, ["75"], "{model}");
        assert!(
            run.sent.iter().any(|s| s == wire),
            "{model}: {:?}",
            run.sent
        );
    }
}

#[test]
fn errors_name_the_family_and_its_status() {
    // A Classic answers no plain READ frame (the simulated reader runs no Crypto1).
    let source = r#"picc::session(|| picc::transceive("30 04"));"#;
    for (model, text) in [
        (ReaderModel::Omnikey5421, "64 00"),
        (ReaderModel::Acr122u, "PN532 status 01: timeout"),
        (ReaderModel::Acr1252u, "inside C0"),
    ] {
        let run = run_in(model, Kind::Classic1K, source);
        let err = run.result.expect_err("a silent card fails");
        assert!(err.to_string().contains(text), "{model}: {err}");
    }
    let run = run_in(
        ReaderModel::Omnikey5421,
        Kind::Ultralight,
        "picc::rf_off();",
    );
    let err = run.result.expect_err("no RF control");
    assert!(err.to_string().contains("Omnikey"), "{err}");
}

#[test]
fn after_a_field_cycle_writes_need_arming_until_reset() {
    let source = r#"
        picc::rf_off();
        picc::rf_on();
        try { picc::session(|| picc::transceive("A2 04 01 02 03 04")); } catch (e) { print(e.kind); }
        reset();
        picc::session(|| picc::transceive("A2 04 01 02 03 04"));
    "#;
    for model in [ReaderModel::Acr122u, ReaderModel::Acr1252u] {
        let run = run_in(model, Kind::Ultralight, source);
        assert!(run.result.is_ok(), "{model}: {:?}", run.result);
        assert_eq!(run.printed, ["refused"], "{model}");
    }
}

#[test]
fn protocol_switches_are_a_part3_command() {
    // To the layer the card is already read in: accepted; to another: the guard cannot vouch
    // for how later frames are read, so it needs arming (the simulated reader would refuse
    // it inside C0).
    let source = r#"
        picc::session(|| {
            picc::switch_protocol(0, 3);
            try { picc::switch_protocol(0, 4); } catch (e) { print(e); }
        });
    "#;
    let run = run_in(ReaderModel::Acr1252u, Kind::Ultralight, source);
    assert!(run.result.is_ok(), "{:?}", run.result);
    assert!(
        run.printed[0].starts_with("refused: a reader instruction that carries raw frames"),
        "{:?}",
        run.printed
    );
    let run = run_in(
        ReaderModel::Acr122u,
        Kind::Ultralight,
        "picc::switch_protocol(0, 3);",
    );
    let err = run.result.expect_err("no such command on an ACR122U");
    assert!(
        err.to_string().contains("PC/SC Part 3 readers only"),
        "{err}"
    );
}
