//! Running profiles against the simulated ISO 7816 card: values, checks, captures, scripts.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::load_in;
use crate::apdu::StatusWord;
use crate::profile::{Environment, FailureKind, Inputs, Outcome, run};
use crate::reader::trace::Redactor;
use crate::script::Settings;
use crate::secret::Secret;
use crate::sim::{Kind, Options, Simulator};

/// Runs `text` (loaded with `--var cli_var=01` and data column `col`) on a fresh card.
fn run_profile(text: &str, inputs: &Inputs<'_>, interrupted: bool) -> (Outcome, Vec<String>) {
    let profile = load_in(&[], text).unwrap();
    let printed = Rc::new(RefCell::new(Vec::new()));
    let sink = printed.clone();
    let redactor = Redactor::default();
    for (_, secret) in inputs.secrets {
        redactor.add(secret.expose());
    }
    let env = Environment {
        settings: Settings::default(),
        redactor,
        output: Rc::new(move |line: &str| sink.borrow_mut().push(line.to_string())),
        interrupt: Arc::new(AtomicBool::new(interrupted)),
        derivations: Default::default(),
    };
    let card = Simulator::new(Kind::Iso7816, &Options::default()).card();
    let (_card, outcome) = run(&profile, card, inputs, &env);
    let printed = printed.borrow().clone();
    (outcome, printed)
}

const WRITE_AND_READ: &str = "name: x
vars: { tag: \"A5\" }
steps:
  - apdu: 00 A4 00 0C 02 00 10
  - apdu: 00 20 00 01 04 ${pin}
  - name: write
    apdu: 00 D6 00 00 09 ${col} ${row} ${tag}
  - name: read
    apdu: 00 B0 00 00 09
    response: ${col} XX XX XX ${row_low} ${tag}
    capture: back
";

#[test]
fn apdu_steps_render_values_check_responses_and_capture() {
    let text = WRITE_AND_READ.replace("${row_low}", "07");
    let data = [("col".to_string(), "CAFE BABE".to_string())];
    let secrets = [("pin".to_string(), Secret::new(b"1234".to_vec()))];
    let text = text.replace(
        "vars: { tag: \"A5\" }",
        "vars: { tag: \"A5\" }\nsecrets: { pin: env:UNUSED }",
    );
    let inputs = Inputs {
        data: &data,
        secrets: &secrets,
        row: Some(7),
        seq: 3,
        ..Inputs::default()
    };
    let (outcome, _) = run_profile(&text, &inputs, false);
    assert!(outcome.is_ok(), "{:?}", outcome.failure);
    let sws: Vec<Option<StatusWord>> = outcome.steps.iter().map(|s| s.sw).collect();
    assert_eq!(sws, [Some(StatusWord::OK); 4]);
    assert_eq!(outcome.steps[3].name, "read");

    // The same row read back against another row's mask fails, naming the step.
    let text = WRITE_AND_READ
        .replace("${row_low}", "08")
        .replace("${pin}", "31 32 33 34");
    let (outcome, _) = run_profile(&text, &inputs, false);
    let failure = outcome.failure.unwrap();
    assert_eq!((failure.index, failure.kind), (3, FailureKind::Failed));
    assert_eq!(
        failure.to_string(),
        "step 4 `read`: response data (9 bytes) does not match `${col} XX XX XX 08 ${tag}` (first difference at byte 8)"
    );
}

#[test]
fn an_unexpected_status_word_fails_with_its_meaning() {
    let text = "name: x\nsteps:\n  - name: select\n    apdu: 00 A4 00 0C 02 12 34\n  - apdu: 00 A4 00 0C 02 3F 00\n";
    let (outcome, _) = run_profile(text, &Inputs::default(), false);
    let failure = outcome.failure.unwrap();
    assert_eq!(failure.sw, Some(StatusWord(0x6A82)));
    assert_eq!(
        failure.to_string(),
        "step 1 `select`: expected 9000, card answered 6A82 (file or application not found)"
    );
    assert_eq!(outcome.steps.len(), 1);
    // Without data, `${row}` has no value: the step fails before anything is sent.
    let text = "name: x\nsteps:\n  - apdu: 00 D6 00 00 04 ${row}\n";
    let (outcome, _) = run_profile(text, &Inputs::default(), false);
    assert_eq!(
        outcome.failure.unwrap().message,
        "`${row}` has no value: the batch has no data file"
    );
}

#[test]
fn scripts_see_every_name_and_secrets_stay_masked() {
    let text = "name: x
secrets: { key: env:UNUSED }
steps:
  - apdu: 00 B0 00 00 02
    capture: c
  - script: |
      print(`${cli_var} ${col} ${c} ${key} ${uid} ${seq} ${row} ${type_of(row)}`);
      send(key + \"\", \"9000|6X00|6D00\");
";
    let data = [("col".to_string(), "text ok".to_string())];
    let secrets = [("key".to_string(), Secret::new(vec![0x00, 0xA4, 0x00, 0x0C]))];
    let inputs = Inputs {
        data: &data,
        secrets: &secrets,
        seq: 9,
        ..Inputs::default()
    };
    // READ BINARY with no EF selected answers 6986: the capture step fails first.
    let (outcome, _) = run_profile(text, &inputs, false);
    assert_eq!(outcome.failure.unwrap().sw, Some(StatusWord(0x6986)));
    let text = text.replace("00 B0 00 00 02", "00 A4 00 0C 02 2F 00");
    let (outcome, printed) = run_profile(&text, &inputs, false);
    assert!(outcome.is_ok(), "{:?}", outcome.failure);
    assert_eq!(printed, ["01 text ok  (secret)  9  ()"]);
}

#[test]
fn an_interrupted_run_stops_before_the_next_step() {
    let text = WRITE_AND_READ
        .replace("${pin}", "31 32 33 34")
        .replace("${row_low}", "07");
    let (outcome, _) = run_profile(&text, &Inputs::default(), true);
    let failure = outcome.failure.unwrap();
    assert_eq!((failure.index, failure.kind), (0, FailureKind::Interrupted));
    assert!(outcome.steps.is_empty());
}

#[test]
fn stops_name_why_when_no_card_answer_is_involved() {
    // Ctrl-C before the first step.
    let text = "name: x\nsteps:\n  - apdu: 00 A4 00 0C 02 3F 00\n";
    let (outcome, _) = run_profile(text, &Inputs::default(), true);
    assert_eq!(
        outcome.failure.unwrap().to_string(),
        "step 1 `00 A4 00 0C 02 3F 00`: interrupted before this step"
    );
    // A data value that breaks the APDU's length: found before anything is sent.
    let text = "name: x\nsteps:\n  - name: write\n    apdu: 00 D6 00 00 02 ${col}\n";
    let data = [("col".to_string(), "CAFE BABE".to_string())];
    let inputs = Inputs {
        data: &data,
        ..Inputs::default()
    };
    let (outcome, _) = run_profile(text, &inputs, false);
    let failure = outcome.failure.unwrap();
    assert_eq!((failure.sw, failure.kind), (None, FailureKind::Failed));
    assert!(
        failure
            .message
            .starts_with("the APDU with its values is not a valid command: "),
        "{failure}"
    );
}
