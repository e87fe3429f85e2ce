//! `cos::` against the simulated COS card behind the guard: a whole issuance and its
//! verification, wrong keys and PINs as the card counts them, arguments refused before
//! anything is sent, and the irreversible operations refused unless armed.

use crate::reader::guard::Guarded;
use crate::script::ErrorKind;
use crate::sim::{Kind, Options, Simulator};
use crate::test_support::{Recording, Run, run_script};

fn run_on(sim: &Simulator, source: &str, armed: bool) -> Run {
    run_script(source, armed, &[], |sent| {
        let card = Recording {
            inner: sim.card(),
            sent,
            acs: false,
        };
        Box::new(Guarded::new(Box::new(card), armed))
    })
}

#[track_caller]
fn fails(run: &Run, kind: ErrorKind, message: &str) {
    let err = run.result.as_ref().expect_err("the script fails");
    assert_eq!(err.kind, kind, "{err}");
    assert!(err.to_string().contains(message), "{err}");
}

/// The install key of a blank simulated card, `APDU-RUN INSTALL` in ASCII.
const INSTALL: &str = "4150 4455 2D52 554E 2049 4E53 5441 4C4C";

fn issue(lock: bool) -> String {
    format!(
        r#"
        let install = "{INSTALL}";
        let issuer = "11111111111111111111111111111111";
        let app = "22222222222222222222222222222222";
        cos::external_auth(0, install);
        cos::create_file(#{{ type: "df", fid: "5000", name: "A0 00 00 02 47 10 01",
                             create: "key 0", delete: "key 0" }});
        cos::create_file(#{{ type: "keys", fid: "0000", write: "key 0" }});
        cos::install_key(0, issuer, install);
        cos::external_auth(0, issuer);
        cos::install_key(1, app, issuer, 5);
        cos::install_pin(1, "4711", issuer);
        cos::create_file(#{{ type: "binary", fid: "0101", size: 16, read: "pin 1",
                             write: "key 0", delete: "key 0" }});
        iso::update_binary(0, "484F4C444552");
        iso::select("3F00");
        {}
        "#,
        if lock { "cos::lock_key(0);" } else { "" }
    )
}

const VERIFY: &str = r#"
    reset();
    iso::select_aid("A0 00 00 02 47 10 01");
    cos::internal_auth(1, "22222222222222222222222222222222");
    iso::select("0101");
    iso::verify(1, "4711");
    print(hex(iso::read_binary(0, 6)));
"#;

#[test]
fn issuance_then_verification_and_the_lock_only_armed() {
    let sim = Simulator::new(Kind::Cos, &Options::default());
    let run = run_on(&sim, &issue(false), false);
    assert!(run.result.is_ok(), "{:?}", run.result);
    // GET CHALLENGE, then the cryptogram.
    // The counter first, then GET CHALLENGE and the cryptogram.
    assert_eq!(run.sent[0], "00 82 00 00");
    assert_eq!(run.sent[1], "00 84 00 00 04");
    assert!(
        run.sent[2].starts_with("00 82 00 00 08 "),
        "{}",
        run.sent[2]
    );
    let run = run_on(&sim, VERIFY, false);
    assert!(run.result.is_ok(), "{:?}", run.result);
    assert_eq!(run.printed, ["484F4C444552"]);
    // Locking the install key: refused unarmed before anything is sent, done armed.
    // A fresh session: after VERIFY the application is current, whose key 0 is the issuer's.
    let lock = format!(r#"reset(); cos::external_auth(0, "{INSTALL}"); cos::lock_key(0);"#);
    let run = run_on(&sim, &lock, false);
    fails(
        &run,
        ErrorKind::Refused,
        "cos::lock_key: locking key 0 cannot be undone",
    );
    assert_eq!(run.sent.len(), 3);
    let run = run_on(&sim, &lock, true);
    assert!(run.result.is_ok(), "{:?}", run.result);
    let run = run_on(
        &sim,
        &format!(r#"cos::external_auth(0, "{INSTALL}");"#),
        false,
    );
    fails(
        &run,
        ErrorKind::Failed,
        "card answered 6983 (key or PIN blocked (or locked for good))",
    );
}

#[test]
fn a_wrong_key_counts_down_and_a_wrong_card_key_fails_internal_auth() {
    let sim = Simulator::new(Kind::CosT1, &Options::default());
    assert!(run_on(&sim, &issue(false), false).result.is_ok());
    let wrong = r#"
        iso::select_aid("A0 00 00 02 47 10 01");
        cos::external_auth(1, "33333333333333333333333333333333");
    "#;
    let run = run_on(&sim, wrong, false);
    fails(
        &run,
        ErrorKind::Failed,
        "cos::external_auth: card answered 63C4 (wrong key or PIN (the low digit: tries left)) to `00 82 00 01 08 ",
    );
    let run = run_on(&sim, &VERIFY.replace("2222", "3333"), false);
    fails(
        &run,
        ErrorKind::Failed,
        "cos::internal_auth: the card's cryptogram for key 1 is not the one the given key makes",
    );
    let run = run_on(&sim, &VERIFY.replace("4711", "0000"), false);
    fails(&run, ErrorKind::Failed, "63C2");
}

#[test]
fn arguments_are_checked_before_anything_is_sent() {
    let sim = Simulator::new(Kind::Cos, &Options::default());
    for (source, message) in [
        (
            r#"cos::external_auth(8, "00")"#,
            "cos::external_auth: key: number 8 is out of range 0..=7",
        ),
        (
            r#"cos::external_auth(0, "0011")"#,
            "cos::external_auth: key: a key of this COS is 16 bytes (two-key 3DES), got 2",
        ),
        (
            r#"cos::install_pin(1, "1", "11111111111111111111111111111111")"#,
            "cos::install_pin: PIN: a PIN is 2 to 16 bytes without `FF`, got 1 bytes",
        ),
        (
            r#"cos::install_key(1, "11111111111111111111111111111111", "11111111111111111111111111111111", 16)"#,
            "cos::install_key: retry limit 16 is out of range 1..=15",
        ),
        (
            r#"cos::create_file(#{ type: "dir", fid: "5000" })"#,
            "type `dir` is none of",
        ),
        (
            r#"cos::create_file(#{ type: "binary", fid: "0101", size: 4 })"#,
            "cos::create_file: `delete` is missing",
        ),
        (
            r#"cos::create_file(#{ type: "binary", fid: "0101", size: 4, delete: "key 9" })"#,
            "`key 9` is no access condition",
        ),
        (
            r#"cos::create_file(#{ type: "df", fid: "5000", delete: "always" })"#,
            "a DF needs its `name`",
        ),
        (
            r#"cos::create_file(#{ type: "keys", fid: "0000", write: "always" })"#,
            "a key file's `write` must name",
        ),
        (
            r#"cos::create_file(#{ type: "records", fid: "0102", delete: "always" })"#,
            "`record_len` 1..=255",
        ),
        (
            r#"cos::create_file(#{ type: "binary", fid: "0101", size: 4, delet: "always" })"#,
            "unknown field `delet`",
        ),
    ] {
        let run = run_on(&sim, source, false);
        fails(&run, ErrorKind::Failed, message);
        assert!(run.sent.is_empty(), "{source}: {:?}", run.sent);
    }
    // A file that can never be deleted is irreversible.
    let run = run_on(
        &sim,
        r#"cos::create_file(#{ type: "binary", fid: "0101", size: 4, delete: "never" })"#,
        false,
    );
    fails(&run, ErrorKind::Refused, "can never be removed");
    assert!(run.sent.is_empty());
}

proptest::proptest! {
    /// The spellings of conditions and file types are read totally: any text is a value or
    /// an error, and every condition reads back from its own spelling.
    #[test]
    fn condition_and_type_spellings_never_panic(text in ".{0,12}", byte: u8) {
        let _ = super::condition(&text, "t");
        let _ = super::file_type(&text, "t");
        if let Some(condition) = crate::cos::Condition::from_byte(byte) {
            let back = super::condition(&condition.to_string(), "t").unwrap();
            proptest::prop_assert_eq!(back, condition);
        }
    }
}
