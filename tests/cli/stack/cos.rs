//! The file-card COS through pcscd: a blank card served by `sim serve --card cos` is issued
//! by the shipped script over PC/SC, then accepted by the separate validation script; a
//! wrong PIN counts down through the stack as on the simulator.

use super::server::Server;
use super::{READER, stack};
use crate::apdu_run;

const KEYS: [&str; 6] = [
    "--var",
    "install_source=file:scripts/cos_demo_install.key",
    "--var",
    "issuer_source=file:scripts/cos_demo_issuer.key",
    "--var",
    "app_source=file:scripts/cos_demo_app.key",
];

#[test]
fn a_blank_cos_card_is_issued_and_validated_through_pcscd() {
    let Some(_stack) = stack() else { return };
    let _server = Server::present(&["--card", "cos"]);
    let mut issue = vec!["--reader", READER, "--arm-irreversible"];
    issue.extend(KEYS);
    issue.extend([
        "--var",
        "holder=Ada Lovelace",
        "--var",
        "pin=4711",
        "scripts/cos_issue.rhai",
    ]);
    let r = apdu_run(&issue);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("issued, install key locked"),
        "{}",
        r.stdout
    );
    let verify = |pin: &str| {
        // The validation needs the application key only.
        let mut args = vec!["--reader", READER];
        args.extend(&KEYS[4..]);
        let pin = format!("pin={pin}");
        args.extend(["--var", "holder=Ada Lovelace", "--var", &pin]);
        args.push("scripts/cos_verify.rhai");
        apdu_run(&args)
    };
    let r = verify("4711");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("genuine, PIN right, holder Ada Lovelace"),
        "{}",
        r.stdout
    );
    let r = verify("0000");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("card answered 63C2"), "{}", r.stderr);
}
