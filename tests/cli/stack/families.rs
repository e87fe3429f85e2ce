//! Reader families through pcscd (issue 14): `sim serve --sim-reader MODEL`. pcscd names
//! every model `Virtual PCD 00 00`, so the family is found by probing the reader (the ACS
//! firmware command, then the PC/SC Part 3 version object); the wallet script then passes
//! on each, with the family's own value commands on the wire.

use apdu_run::reader::pcsc::CardState;

use super::server::{Server, slot_state, wait_until};
use super::{READER, stack};
use crate::{bin, ran, script};

#[test]
fn each_simulated_reader_is_probed_and_runs_the_wallet_through_pcscd() {
    let Some(_stack) = stack() else { return };
    let dir = tempfile::tempdir().unwrap();
    let kind = script(dir.path(), "kind.rhai", "print(picc::kind());");
    for (model, expected, value_command) in [
        ("omnikey-5421", "omnikey", "FFD80004041E000000"),
        ("acr122u", "acs-pn532", "FFD700040502"),
        ("acr1252u", "pcsc-part3", "FFD700040502"),
    ] {
        let server = Server::present(&["--card", "classic-1k", "--sim-reader", model]);
        let r = ran(bin()
            .args(["--reader", READER])
            .arg(&kind)
            .output()
            .unwrap());
        assert_eq!(r.code, 0, "{model}: {}", r.stderr);
        assert_eq!(r.stdout.trim(), expected, "{model}");
        let trace = dir.path().join(format!("{model}.jsonl"));
        let r = ran(bin()
            .args(["--reader", READER, "--trace-file", trace.to_str().unwrap()])
            .arg("scripts/classic_wallet.rhai")
            .output()
            .unwrap());
        assert_eq!(r.code, 0, "{model}: {}", r.stderr);
        let traced = std::fs::read_to_string(&trace).unwrap();
        assert!(traced.contains(value_command), "{model}: {traced}");
        drop(server);
        wait_until("the slot to empty", || slot_state() == CardState::Empty);
    }
}
