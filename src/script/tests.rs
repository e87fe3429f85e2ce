//! Script API tests against a small in-test card that answers a few commands.

use std::cell::RefCell;
use std::rc::Rc;

use super::*;
use crate::apdu::hex;
use crate::test_support::{Run, SentLog, run_compiled, run_script};

/// Answers SELECT 3F00, READ BINARY, VERIFY (PIN `1234`) and refuses the rest; records
/// every command it is sent.
struct Toy {
    sent: SentLog,
}

impl Card for Toy {
    fn atr(&self) -> &[u8] {
        &[0x3B, 0x80, 0x80, 0x01, 0x01]
    }
    fn reader_name(&self) -> &str {
        "toy"
    }
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, crate::reader::Error> {
        self.sent.borrow_mut().push(hex::format(command));
        let answer = match command {
            [0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00] => vec![0x90, 0x00],
            [0x00, 0xB0, _, _, le] => {
                let mut data: Vec<u8> = (0..*le).collect();
                data.extend([0x90, 0x00]);
                data
            }
            [0x00, 0x20, 0x00, 0x01, 0x04, b'1', b'2', b'3', b'4'] => vec![0x90, 0x00],
            [0x00, 0x20, 0x00, 0x01, ..] => vec![0x63, 0xC2],
            [0xFF, ..] => vec![0x6E, 0x00],
            _ => vec![0x6D, 0x00],
        };
        Ok(answer)
    }
    fn reset(&mut self) -> Result<Vec<u8>, crate::reader::Error> {
        Ok(self.atr().to_vec())
    }
}

/// Runs `source` on a fresh [`Toy`], straight on the card (no guard).
fn run_with(source: &str, armed: bool, vars: &[(&str, &str)]) -> Run {
    run_script(source, armed, vars, |sent| Box::new(Toy { sent }))
}

fn run(source: &str) -> Run {
    run_with(source, false, &[])
}

#[test]
fn send_returns_a_response_with_its_fields() {
    let r = run(
        r#"let r = send("00 B0 00 00 04"); print(r.hex); print(r.sw); print(r.ok); print(r.data.len()); print(r.sw1); print(r.sw2);"#,
    );
    r.result.unwrap();
    assert_eq!(r.printed, ["00010203", "36864", "true", "4", "144", "0"]);
}

#[test]
fn send_with_an_expectation_names_command_sw_and_meaning() {
    let r = run("let x = 1;\nsend(\"00 A4 00 0C 02 50 00\", \"9000|61XX\");");
    let e = r.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Failed);
    assert_eq!(
        e.to_string(),
        "t.rhai:2:1: `00 A4 00 0C 02 50 00`: card answered 6D00 (instruction code not supported), expected 9000|61XX"
    );
}

#[test]
fn expectations_accept_arrays_integers_and_methods() {
    run(r#"send("00 20 00 01", ["9000", "63CX"]); send("00 B0 00 00 01", 0x9000); send("00 A4 00 0C 02 3F 00").expect("9000");"#)
        .result
        .unwrap();
    let e = run(r#"send("00 20 00 01").expect("9000");"#)
        .result
        .unwrap_err();
    assert!(
        e.message
            .contains("63C2 (verification failed, 2 tries left"),
        "{e}"
    );
}

#[test]
fn bad_hex_fails_with_its_column_and_sends_nothing() {
    let r = run(r#"send("00 A4 0G 00");"#);
    let e = r.result.unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.rhai:1:1: send: bad hex `00 A4 0G 00`: column 8: `G` is not a hex digit"
    );
    assert!(r.sent.is_empty());
    let r = run(r#"send("00 A4 00 0C 03 3F 00");"#);
    assert!(
        r.result
            .unwrap_err()
            .message
            .contains("Lc says 3 data bytes but 2 follow")
    );
    assert!(r.sent.is_empty());
}

#[test]
fn syntax_errors_are_located_and_invalid() {
    let r = run("let a = 1;\nlet = 2;");
    let e = r.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(e.position.map(|p| p.0), Some(2));
    assert!(r.sent.is_empty());
}

#[test]
fn require_armed_refuses_unless_armed() {
    let source = "require_armed(\"lock the ticket\");\nsend(\"00 A4 00 0C 02 3F 00\");";
    let r = run(source);
    let e = r.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Refused);
    assert_eq!(
        e.message,
        "refused: lock the ticket: this run is not armed (pass --arm-irreversible)"
    );
    assert!(r.sent.is_empty());
    let r = run_with(source, true, &[]);
    r.result.unwrap();
    assert_eq!(r.sent.len(), 1);
    assert_eq!(run_with("print(armed());", true, &[]).printed, ["true"]);
}

#[test]
fn vars_are_string_constants() {
    let r = run_with(
        "print(station + \"/\" + ticket);",
        false,
        &[("station", "0042"), ("ticket", "7")],
    );
    r.result.unwrap();
    assert_eq!(r.printed, ["0042/7"]);
    let r = run_with("station = \"1\";", false, &[("station", "0042")]);
    assert!(r.result.is_err());
    let r = run_with("1;", false, &[("9x", "1")]);
    assert_eq!(r.result.unwrap_err().kind, ErrorKind::Invalid);
}

#[test]
fn secrets_print_masked_and_stay_secret_when_joined() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pin");
    std::fs::write(&path, "1234\n").unwrap();
    let source = format!(
        r#"let pin = secret_text("file:{}");
           print(pin); print(`${{pin}}`);
           let cmd = "00 20 00 01 04" + pin; print(cmd);
           send(cmd, "9000");
           iso::verify(1, pin);"#,
        path.display()
    );
    let r = run(&source);
    r.result.unwrap();
    assert_eq!(r.printed, ["(secret)", "(secret)", "(secret)"]);
    assert_eq!(
        r.sent,
        ["00 20 00 01 04 31 32 33 34", "00 20 00 01 04 31 32 33 34"]
    );
    let r = run(r#"let k = secret("env:APDU_RUN_SCRIPT_TEST_SURELY_UNSET");"#);
    assert!(
        r.result
            .unwrap_err()
            .message
            .contains("environment variable is not set")
    );
}

#[test]
fn iso_helpers_build_the_right_commands_and_throw_with_meaning() {
    let r = run(
        r#"iso::select("3F00"); let d = iso::read_binary(0, 3); print(hex(d)); iso::verify(1, "1234");"#,
    );
    r.result.unwrap();
    assert_eq!(r.printed, ["000102"]);
    assert_eq!(
        r.sent,
        [
            "00 A4 00 0C 02 3F 00",
            "00 B0 00 00 03",
            "00 20 00 01 04 31 32 33 34"
        ]
    );
    let e = run(r#"iso::verify(1, "9999");"#).result.unwrap_err();
    assert!(
        e.message
            .starts_with("iso::verify: card answered 63C2 (verification failed, 2 tries left"),
        "{e}"
    );
    assert!(e.message.contains("00 20 00 01 04 (secret)"), "{e}");
    let e = run("iso::read_binary(-1, 3);").result.unwrap_err();
    assert_eq!(
        e.message,
        "iso::read_binary: offset -1 is out of range 0..=32767"
    );
}

#[test]
fn uid_throws_unless_9000() {
    let e = run("uid();").result.unwrap_err();
    assert_eq!(
        e.message,
        "uid: card answered 6E00 (class not supported) to `FF CA 00 00 00`"
    );
}

#[test]
fn thrown_values_and_errors_in_functions_are_located_at_the_failure() {
    let e = run("fn f() {\n  send(\"00 A4 00 0C 02 50 00\", \"9000\");\n}\nf();")
        .result
        .unwrap_err();
    assert_eq!(e.position, Some((2, 3)), "{e}");
    let e = run("throw \"no good\";").result.unwrap_err();
    assert_eq!(e.to_string(), "t.rhai:1:1: script threw: no good");
}

#[test]
fn interrupt_stops_a_running_loop() {
    let flag = Arc::new(AtomicBool::new(true));
    let script = Script::compile_source("t.rhai", "loop { }").unwrap();
    let options = RunOptions {
        settings: Settings::default(),
        vars: Vec::new(),
        redactor: Redactor::default(),
        output: Rc::new(|_: &str| {}),
        interrupt: flag,
    };
    let sent = Rc::new(RefCell::new(Vec::new()));
    let (_, result) = script.run(Box::new(Toy { sent }), options);
    assert_eq!(result.unwrap_err().kind, ErrorKind::Interrupted);
}

#[test]
fn crypto_built_ins_take_hex_blobs_and_secrets() {
    // NIST SP 800-38B, AES-128, example 2 (one block).
    let r = run(r#"
        let key = "2b7e151628aed2a6abf7158809cf4f3c";
        print(hex(crypto::aes_cmac(key, unhex("6bc1bee22e409f96e93d7e117393172a"))));
        print(crypto::random(8).len());
        print(hex(crypto::aes_ecb_decrypt(key, crypto::aes_ecb_encrypt(key, "00112233445566778899AABBCCDDEEFF"))));
    "#);
    r.result.unwrap();
    assert_eq!(
        r.printed,
        [
            "070A16B46B4D4144F79BDD9DD04A287C",
            "8",
            "00112233445566778899AABBCCDDEEFF"
        ]
    );
    let e = run(r#"crypto::aes_cmac("0011", "00");"#)
        .result
        .unwrap_err();
    assert_eq!(
        e.message,
        "crypto::aes_cmac: AES key must be 16, 24 or 32 bytes, got 2"
    );
}

#[test]
fn send_raw_does_not_follow_61xx_even_when_the_run_does() {
    let r = run(r#"let r = send_raw("00 B0 00 00 04", "9000"); print(r.hex);"#);
    r.result.unwrap();
    assert_eq!(r.printed, ["00010203"]);
}

#[test]
fn iso_helpers_encode_every_command() {
    // The toy card answers 6D00 to these, so each call throws after sending its command:
    // what is checked is the bytes and the message naming the function.
    let calls = [
        (
            r#"iso::select_aid("A0 00 00 02 47 10 01")"#,
            "00 A4 04 00 07 A0 00 00 02 47 10 01 00",
            "iso::select_aid",
        ),
        ("iso::read_binary_sfi(2, 4, 8)", "00 B0 82 04 08", ""),
        (
            r#"iso::update_binary(0x0102, "AA BB")"#,
            "00 D6 01 02 02 AA BB",
            "iso::update_binary",
        ),
        (
            r#"iso::write_binary(0x0102, "AA BB")"#,
            "00 D0 01 02 02 AA BB",
            "iso::write_binary",
        ),
        (
            "iso::erase_binary(0x0102)",
            "00 0E 01 02",
            "iso::erase_binary",
        ),
        (
            "iso::erase_binary(2, 4)",
            "00 0E 00 02 02 00 04",
            "iso::erase_binary",
        ),
        ("iso::read_record(3)", "00 B2 03 04 00", "iso::read_record"),
        (
            r#"iso::update_record(2, "CC")"#,
            "00 DC 02 04 01 CC",
            "iso::update_record",
        ),
        (
            r#"iso::append_record("DD EE")"#,
            "00 E2 00 00 02 DD EE",
            "iso::append_record",
        ),
        (
            "iso::get_challenge(8)",
            "00 84 00 00 08",
            "iso::get_challenge",
        ),
        (
            r#"iso::select("5000/0101")"#,
            "00 A4 00 0C 02 50 00",
            "iso::select `5000/0101`",
        ),
    ];
    for (call, sent, what) in calls {
        let r = run(&format!("{call};"));
        assert_eq!(r.sent, [sent], "{call}");
        if what.is_empty() {
            // READ BINARY is answered by the toy card.
            r.result.unwrap();
        } else {
            let e = r.result.unwrap_err();
            assert_eq!(
                e.message,
                format!("{what}: card answered 6D00 (instruction code not supported) to `{sent}`"),
                "{call}"
            );
        }
    }
}

#[test]
fn iso_helpers_check_their_arguments_before_sending() {
    let calls = [
        (
            "iso::select_aid(\"\")",
            "iso::select_aid: an AID has 1 to 16 bytes, got 0",
        ),
        (
            "iso::read_binary_sfi(31, 0, 1)",
            "iso::read_binary_sfi: SFI 31 is out of range 1..=30",
        ),
        (
            "iso::update_binary(0, \"\")",
            "iso::update_binary: data is empty",
        ),
        (
            "iso::write_binary(0, \"\")",
            "iso::write_binary: data is empty",
        ),
        (
            "iso::erase_binary(4, 2)",
            "iso::erase_binary: ERASE BINARY addresses offsets 0..=32767, the end not before the offset",
        ),
        (
            "iso::read_record(0)",
            "iso::read_record: record 0 is out of range 1..=254",
        ),
        (
            "iso::get_challenge(0)",
            "iso::get_challenge: length 0 is out of range 1..=256",
        ),
        (
            "iso::verify(256, \"1234\")",
            "iso::verify: reference 256 is out of range 0..=255",
        ),
        (
            "iso::select(\"3F0011\")",
            "iso::select: file identifier `3F0011` must be 2 bytes (4 hex digits)",
        ),
    ];
    for (call, message) in calls {
        let r = run(&format!("{call};"));
        assert_eq!(r.result.unwrap_err().message, message, "{call}");
        assert!(r.sent.is_empty(), "{call}");
    }
}

#[test]
fn crypto_macs_and_3des_match_their_references() {
    // RFC 4231 test case 2 (HMAC-SHA256); 3DES-CBC round trip with a two-key 3DES key.
    let r = run(r#"
        print(hex(crypto::hmac_sha256(unhex("4a656665"), unhex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"))));
        let key = "0123456789ABCDEF FEDCBA9876543210 0123456789ABCDEF";
        let iv = "0000000000000000";
        let data = "00112233445566778899AABBCCDDEEFF";
        let enc = crypto::des3_cbc_encrypt(key, iv, data);
        print(hex(enc) == hex(data));
        print(hex(crypto::des3_cbc_decrypt(key, iv, enc)));
    "#);
    r.result.unwrap();
    assert_eq!(
        r.printed,
        [
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843",
            "false",
            "00112233445566778899AABBCCDDEEFF"
        ]
    );
    let e = run(r#"crypto::des3_cbc_encrypt("00", "00", "00");"#)
        .result
        .unwrap_err();
    assert!(e.message.starts_with("crypto::des3_cbc_encrypt: "), "{e}");
    let e = run("crypto::random(-1);").result.unwrap_err();
    assert_eq!(e.message, "crypto::random: length -1 is negative");
}

#[test]
fn errors_of_module_functions_point_at_the_call() {
    // Rhai gives errors raised in namespaced functions no position; every module adds the
    // call's, which Rhai puts at the function name after `module::`.
    let calls = [
        "iso::read_binary(-1, 3)",
        "crypto::random(-1)",
        "iso14443::i_block(2, \"00\")",
        "ul::read(99)",
        "mfc::access_bits(\"1\", \"000\", \"000\", \"001\")",
        "mfp::write_perso(0, \"00\")",
        "omnikey::transceive(\"\")",
    ];
    for call in calls {
        let e = run(&format!("let x = 1;\n  {call};")).result.unwrap_err();
        let name = 3 + call.find("::").unwrap() + 2;
        assert_eq!(e.position, Some((2, name)), "{call}: {e}");
    }
}

#[test]
fn bad_expectations_and_hex_joined_to_a_secret_name_the_problem() {
    let calls = [
        (
            r#"send("00 B0 00 00 01", 0x10000)"#,
            "expected status word: 65536 is not a 16-bit value",
        ),
        (
            r#"send("00 B0 00 00 01", ["9000", 1])"#,
            "expected status word: array items must be strings, got i64",
        ),
        (
            r#"send("00 B0 00 00 01", true)"#,
            "expected status word: expected a string, an array or an integer, got bool",
        ),
        (
            r#"send(unhex("00 B0 00 00 01"), true)"#,
            "expected status word: expected a string, an array or an integer, got bool",
        ),
    ];
    for (call, message) in calls {
        let r = run(&format!("{call};"));
        assert_eq!(r.result.unwrap_err().message, message, "{call}");
        assert!(r.sent.is_empty(), "{call}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, "00112233\n").unwrap();
    let source = format!(
        r#"let key = secret("file:{}"); let k = "0G" + key;"#,
        path.display()
    );
    assert_eq!(
        run(&source).result.unwrap_err().message,
        "left side of +: bad hex `0G`: column 2: `G` is not a hex digit"
    );
}

/// Runs `script` once more, as [`run_compiled`] does, as (printed, sent, result).
fn run_again(
    script: &Script,
    card: impl FnOnce(SentLog) -> Box<dyn Card>,
    vars: &[(&str, &str)],
    armed: bool,
    interrupt: bool,
) -> (Vec<String>, Vec<String>, Result<(), ScriptError>) {
    let run = run_compiled(script, armed, vars, interrupt, card);
    (run.printed, run.sent, run.result)
}

fn toy(sent: SentLog) -> Box<dyn Card> {
    Box::new(Toy { sent })
}

/// A fresh simulated MIFARE Plus 2K in SL0, behind the guard as the command line runs it.
fn plus(sent: SentLog) -> Box<dyn Card> {
    use crate::sim::{Kind, Options, Simulator};
    let card = crate::test_support::Recording {
        inner: Simulator::new(Kind::Plus2K, &Options::default()).card(),
        sent,
        acs: false,
    };
    Box::new(crate::reader::guard::Guarded::new(Box::new(card), true))
}

#[test]
fn one_engine_serves_every_run_of_a_script() {
    let script = Script::compile_source("t.rhai", r#"print(send("00 B0 00 00 02").hex);"#).unwrap();
    for _ in 0..3 {
        let (printed, _, result) = run_again(&script, toy, &[], false, false);
        result.unwrap();
        assert_eq!(printed, ["0001"]);
    }
    assert_eq!(script.engines_built(), 1);
}

#[test]
fn nothing_a_run_set_or_loaded_reaches_the_next_run() {
    // The first run changes what `iso::` remembers, fixes the date and defines a variable;
    // the second run, on the same engine, sees none of it.
    let script = Script::compile_source(
        "t.rhai",
        r#"
        if phase == "1" {
            iso::cla(0x80);
            iso::extended(true);
            try { iso::verify(1, "9999"); } catch {}
            print(today());
        } else {
            print(`cla ${iso::cla()} extended ${iso::extended()} last ${iso::last_sw()}`);
            print(today());
            print(is_def_var("k"));
        }
        let k = 42;
        "#,
    )
    .unwrap();
    let first = [("phase", "1"), ("today", "2030-01-02")];
    let (printed, sent, result) = run_again(&script, toy, &first, false, false);
    result.unwrap();
    assert_eq!(printed, ["2030-01-02"]);
    assert!(sent.iter().any(|c| c.starts_with("80 20")), "{sent:?}");
    let (printed, sent, result) = run_again(&script, toy, &[("phase", "2")], false, false);
    result.unwrap();
    let today = crate::clock::today().to_string();
    assert_eq!(
        printed,
        ["cla 0 extended false last 36864", &today, "false"]
    );
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(script.engines_built(), 1);
}

#[test]
fn an_imported_module_is_evaluated_again_for_every_card() {
    // A module's top level can read the card; had the reused engine kept the module, the
    // second card would see what the first card answered.
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("card_data.rhai");
    std::fs::write(
        &module,
        "print(\"module evaluated\");\nexport const DATA = send(\"00 B0 00 00 02\").hex;\n",
    )
    .unwrap();
    let source = format!(
        "import {:?} as m;\nprint(m::DATA);",
        module.with_extension("").display().to_string()
    );
    let script = Script::compile_source("t.rhai", &source).unwrap();
    for _ in 0..2 {
        let (printed, sent, result) = run_again(&script, toy, &[], false, false);
        result.unwrap();
        assert_eq!(printed, ["module evaluated", "0001"]);
        assert_eq!(sent, ["00 B0 00 00 02"]);
    }
    assert_eq!(script.engines_built(), 1);
}

#[test]
fn keys_written_on_one_card_do_not_let_the_next_card_commit() {
    // `mfp::commit_perso` checks that this run wrote the three keys; a second card on the
    // same engine must not inherit the first card's writes (it would be committed, for
    // good, without its keys).
    let script = Script::compile_source(
        "t.rhai",
        r#"
        if phase == "keys" {
            let key = "000102030405060708090A0B0C0D0E0F";
            mfp::write_perso(0x9000, key);
            mfp::write_perso(0x9001, key);
            mfp::write_perso(0x9003, key);
        } else {
            mfp::commit_perso();
        }
        "#,
    )
    .unwrap();
    let (_, sent, result) = run_again(&script, plus, &[("phase", "keys")], true, false);
    result.unwrap();
    assert_eq!(sent.len(), 3, "{sent:?}");
    let (_, sent, result) = run_again(&script, plus, &[("phase", "commit")], true, false);
    let e = result.unwrap_err();
    assert!(e.message.contains("not written in this run"), "{e}");
    assert!(sent.is_empty(), "{sent:?}");
}

#[test]
fn each_run_prints_to_its_own_output_and_stops_on_its_own_flag() {
    let script = Script::compile_source(
        "t.rhai",
        r#"print("hello"); loop { send("00 B0 00 00 01"); if stop != "yes" { break; } }"#,
    )
    .unwrap();
    // Stopped by its flag (set before it starts): the loop never ends otherwise.
    let (_, _, result) = run_again(&script, toy, &[("stop", "yes")], false, true);
    assert_eq!(result.unwrap_err().kind, ErrorKind::Interrupted);
    // The next run has a flag of its own, not set, and its own output.
    let (printed, sent, result) = run_again(&script, toy, &[("stop", "no")], false, false);
    result.unwrap();
    assert_eq!(printed, ["hello"]);
    assert_eq!(sent.len(), 1);
}

#[test]
fn a_run_uses_the_module_text_read_at_compile_time() {
    // A module edited (or removed) while a batch runs changes nothing: the profile's
    // version was hashed over the text that was read, and that text is what runs.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.rhai"), "export const V = \"first\";\n").unwrap();
    std::fs::write(
        dir.path().join("s.rhai"),
        "import \"m\" as m;\nprint(m::V);\n",
    )
    .unwrap();
    let script = Script::compile(&dir.path().join("s.rhai")).unwrap();
    std::fs::write(dir.path().join("m.rhai"), "export const V = \"edited\";\n").unwrap();
    let (printed, _, result) = run_again(&script, toy, &[], false, false);
    result.unwrap();
    assert_eq!(printed, ["first"]);
    std::fs::remove_file(dir.path().join("m.rhai")).unwrap();
    let (printed, _, result) = run_again(&script, toy, &[], false, false);
    result.unwrap();
    assert_eq!(printed, ["first"]);
}

#[test]
fn an_error_inside_a_module_names_the_module_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.rhai"),
        "fn write_it() {\n    send(\"00 B0 00 00 02 01\");\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.rhai"),
        "import \"m\" as m;\n\nm::write_it();\n",
    )
    .unwrap();
    let script = Script::compile(&dir.path().join("s.rhai")).unwrap();
    let (_, sent, result) = run_again(&script, toy, &[], false, false);
    let e = result.unwrap_err();
    assert!(e.file.ends_with("m.rhai"), "{e}");
    assert_eq!(e.position, Some((2, 5)), "{e}");
    assert!(sent.is_empty(), "{sent:?}");
    // `eval` cannot reach a module that was not read with the script.
    std::fs::write(dir.path().join("late.rhai"), "export const X = 1;\n").unwrap();
    let script =
        Script::compile_source_in("e.rhai", "eval(\"import \\\"late\\\" as l;\");", dir.path())
            .unwrap();
    let (_, _, result) = run_again(&script, toy, &[], false, false);
    let e = result.unwrap_err();
    assert!(e.message.contains("late"), "{e}");
}
