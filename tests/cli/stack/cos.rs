//! The file-card COS through pcscd: a blank card served by `sim serve --card cos` is issued
//! by the shipped script over PC/SC, then accepted by the separate validation script; a
//! wrong PIN counts down through the stack as on the simulator; a batch of the shipped
//! profile issues served cards one after the other, told apart by their CPLC.

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

/// Two blank COS cards served one after the other: the shipped profile issues and validates
/// each through pcscd, telling them apart by their CPLC (`identify:`).
#[test]
fn a_batch_of_blank_cos_cards_through_pcscd_is_issued_and_validated() {
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::child::{Running, signal};

    let Some(_stack) = stack() else { return };
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("cos.journal.jsonl");
    let mut server = Server::start(&["--card", "cos", "--count", "2"]);
    let child = Running::spawn(
        crate::bin()
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .args([
                "batch",
                "--reader",
                READER,
                "--count",
                "2",
                "--arm-irreversible",
                "--data",
                "profiles/cos_issue.csv",
                "--journal",
                journal.to_str().unwrap(),
                "profiles/cos_issue.yaml",
            ]),
    );
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| {
            signal(pid, "KILL");
            panic!("the batch did not end within 120 s");
        });
    let r = crate::ran(output.unwrap());
    assert_eq!(r.code, 0, "{}\n{}\n{}", r.stdout, r.stderr, server.stderr());
    assert!(server.exit().success(), "{}", server.stderr());
    for holder in ["Ada Lovelace", "Alan Turing"] {
        assert!(
            r.stdout
                .contains(&format!("genuine, PIN right, holder {holder}")),
            "{}",
            r.stdout
        );
    }
    let ends: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["event"] == "end")
        .collect();
    assert_eq!(ends.len(), 2, "{ends:?}");
    assert!(ends.iter().all(|e| e["verdict"] == "ok"), "{ends:?}");
    assert_ne!(ends[0]["identity"], ends[1]["identity"]);
}
