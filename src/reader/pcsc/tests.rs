//! Tests of the PC/SC backend.
//!
//! The pure parts (reader selection, state and error mapping) always run. The rest needs the
//! real stack and runs only with `APDU_RUN_PCSC=1`, under `tests/stack/with-pcscd.sh`, which
//! brings up pcscd with vsmartcard's two `Virtual PCD` readers; the tests insert and remove
//! cards by starting and killing vsmartcard's Python `vicc`. `APDU_RUN_PCSC_ABSENT=1` runs the
//! one test that needs pcscd *not* to be running.
//!
//! ```text
//! APDU_RUN_PCSC=1 tests/stack/with-pcscd.sh cargo test --lib pcsc -- --test-threads=1
//! APDU_RUN_PCSC_ABSENT=1 cargo test --lib pcsc::tests::without_pcscd
//! ```

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::apdu::{StatusWord, hex};

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| name.to_string()).collect()
}

const OMNIKEYS: &[&str] = &[
    "HID Global OMNIKEY 5422 Smartcard Reader [OMNIKEY 5422CL Smartcard Reader] 00 00",
    "HID Global OMNIKEY 5422 Smartcard Reader [OMNIKEY 5422 Smartcard Reader] 01 00",
    "Virtual PCD",
];

#[track_caller]
fn check_select(pattern: &str, expected: usize) {
    let index = select(&names(OMNIKEYS), pattern).unwrap();
    assert_eq!(index, expected, "pattern `{pattern}`");
}

#[test]
fn select_takes_a_decimal_index_in_list_order() {
    check_select("0", 0);
    check_select("2", 2);
    check_select("01", 1);
}

#[test]
fn select_takes_a_case_insensitive_substring_of_one_name() {
    check_select("5422cl", 0);
    check_select("01 00", 1);
    check_select("virtual", 2);
}

#[test]
fn select_prefers_the_name_the_pattern_equals_when_several_contain_it() {
    let list = names(&["Virtual PCD", "Virtual PCD 2"]);
    assert_eq!(select(&list, "virtual pcd").unwrap(), 0);
}

#[test]
fn select_refuses_a_substring_of_several_names_and_lists_them() {
    let err = select(&names(OMNIKEYS), "omnikey").unwrap_err();
    assert!(matches!(err, Error::AmbiguousReader { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "`omnikey` matches several readers: \
         `HID Global OMNIKEY 5422 Smartcard Reader [OMNIKEY 5422CL Smartcard Reader] 00 00`, \
         `HID Global OMNIKEY 5422 Smartcard Reader [OMNIKEY 5422 Smartcard Reader] 01 00` \
         (give more of the name, or an index)"
    );
}

#[test]
fn select_without_a_match_names_the_readers_there_are() {
    for pattern in ["gemalto", "3", "99999999999999999999999"] {
        let err = select(&names(&["Virtual PCD 00 00", "Virtual PCD 00 01"]), pattern).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no reader matches `{pattern}` (readers: `Virtual PCD 00 00`, `Virtual PCD 00 01`)"
            )
        );
    }
}

#[test]
fn select_among_no_readers_is_no_readers() {
    assert!(matches!(select(&[], "0"), Err(Error::NoReaders)));
}

#[test]
fn protocol_parses_any_t0_t1_in_any_case() {
    for (text, protocol) in [
        ("any", Protocol::Any),
        ("ANY", Protocol::Any),
        ("t0", Protocol::T0),
        ("T1", Protocol::T1),
    ] {
        assert_eq!(text.parse::<Protocol>(), Ok(protocol));
        assert_eq!(protocol.to_string(), text.to_ascii_lowercase());
    }
    let err = "t=1".parse::<Protocol>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown protocol `t=1` (expected `any`, `t0` or `t1`)"
    );
    assert_eq!(
        Protocol::Any.protocols(),
        pcsc::Protocols::T0 | pcsc::Protocols::T1
    );
}

#[test]
fn card_state_follows_the_pcsc_state_flags() {
    for (flags, expected) in [
        (State::EMPTY, CardState::Empty),
        (State::CHANGED | State::PRESENT, CardState::Present),
        (State::PRESENT | State::INUSE, CardState::Present),
        (
            State::PRESENT | State::INUSE | State::EXCLUSIVE,
            CardState::InUse,
        ),
        (State::PRESENT | State::MUTE, CardState::Mute),
        (State::UNAVAILABLE, CardState::Unavailable),
        (State::UNKNOWN | State::CHANGED, CardState::Unavailable),
        (State::empty(), CardState::Unavailable),
    ] {
        assert_eq!(CardState::from_pcsc(flags), expected, "{flags:?}");
    }
    let words: Vec<String> = [
        CardState::Empty,
        CardState::Present,
        CardState::InUse,
        CardState::Mute,
        CardState::Unavailable,
    ]
    .iter()
    .map(CardState::to_string)
    .collect();
    assert_eq!(words, ["empty", "present", "in use", "mute", "unavailable"]);
}

#[test]
fn pcsc_errors_map_to_distinct_variants_with_one_line_messages() {
    let cases = [
        (
            pcsc::Error::NoService,
            "the PC/SC service is not running (start pcscd)",
        ),
        (pcsc::Error::ServiceStopped, "the PC/SC service stopped"),
        (
            pcsc::Error::NoReadersAvailable,
            "no smart-card reader is attached",
        ),
        (pcsc::Error::RemovedCard, "card removed from reader `R`"),
        (pcsc::Error::NoSmartcard, "card removed from reader `R`"),
        (
            pcsc::Error::ReaderUnavailable,
            "reader `R` is no longer available",
        ),
        (
            pcsc::Error::UnknownReader,
            "reader `R` is no longer available",
        ),
        (
            pcsc::Error::SharingViolation,
            "card in reader `R` cannot be used: another application is connected to it",
        ),
        (
            pcsc::Error::UnresponsiveCard,
            "card in reader `R` cannot be used: the smart card is not responding to a reset \
             (PC/SC error 0x80100066)",
        ),
        (
            pcsc::Error::UnpoweredCard,
            "card in reader `R` cannot be used: power has been removed from the smart card, so \
             that further communication is not possible (PC/SC error 0x80100067)",
        ),
        (
            pcsc::Error::ProtoMismatch,
            "card in reader `R` cannot be used: the requested protocols are incompatible with \
             the protocol currently in use with the smart card (PC/SC error 0x8010000F)",
        ),
        (
            pcsc::Error::NotTransacted,
            "reader `R`: the command could not be exchanged with the card \
             (PC/SC error 0x80100016)",
        ),
        (
            pcsc::Error::CommError,
            "reader `R`: an internal communications error has been detected \
             (PC/SC error 0x80100013)",
        ),
    ];
    for (err, message) in cases {
        let mapped = map_error(err, "R");
        assert_eq!(mapped.to_string(), message, "{err:?}");
        assert!(!message.contains('\n'));
    }
}

// ---------------------------------------------------------------------------------------------
// Against the real stack: pcscd + vpcd + vicc.

/// Serialises the stack tests, which share two readers, whatever `--test-threads` says.
static STACK: Mutex<()> = Mutex::new(());

/// The stack lock when `APDU_RUN_PCSC=1`, else `None` after saying why the test is skipped.
fn stack() -> Option<MutexGuard<'static, ()>> {
    if std::env::var("APDU_RUN_PCSC").as_deref() != Ok("1") {
        eprintln!(
            "skipped: needs pcscd with vpcd; run with APDU_RUN_PCSC=1 tests/stack/with-pcscd.sh"
        );
        return None;
    }
    Some(STACK.lock().unwrap_or_else(PoisonError::into_inner))
}

/// How long pcscd may take to notice a card come or go: vicc starts in about 0.3 s and pcscd
/// polls vpcd every 0.4 s, so this is generous.
const NOTICE: Duration = Duration::from_secs(10);

const SELECT_MF: &str = "00 A4 00 0C 02 3F 00";

fn reader_name(slot: u8) -> String {
    format!("Virtual PCD 00 {slot:02}")
}

/// The slot's state as pcscd reports it now.
fn slot_state(slot: u8) -> State {
    let context = Context::establish(Scope::User).unwrap();
    let mut state = [ReaderState::new(
        CString::new(reader_name(slot)).unwrap(),
        State::UNAWARE,
    )];
    context
        .get_status_change(Duration::ZERO, &mut state)
        .unwrap();
    state[0].event_state()
}

/// Polls until the slot's state has `flag`; panics after [`NOTICE`].
#[track_caller]
fn wait_for(slot: u8, flag: State, vicc: Option<&mut Child>) {
    let start = Instant::now();
    let mut vicc = vicc;
    while !slot_state(slot).contains(flag) {
        if let Some(child) = vicc.as_deref_mut() {
            if let Some(status) = child.try_wait().unwrap() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    pipe.read_to_string(&mut stderr).unwrap();
                }
                panic!("vicc exited ({status}) before the card showed up:\n{stderr}");
            }
        }
        assert!(start.elapsed() < NOTICE, "slot {slot} never got {flag:?}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// A `vicc -t iso7816` card in a vpcd slot; killing it on drop is removing the card.
struct VirtualCard {
    slot: u8,
    child: Child,
}

impl VirtualCard {
    /// Starts the card without waiting for pcscd to see it.
    fn start(slot: u8) -> VirtualCard {
        let port = (35963 + u16::from(slot)).to_string();
        let child = Command::new("vicc")
            .args(["-t", "iso7816", "-P", &port])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("vicc (vsmartcard-vpicc) must be installed");
        VirtualCard { slot, child }
    }

    /// Pulls the card out without waiting for pcscd to notice.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the card and waits until pcscd reports it present.
    fn insert(slot: u8) -> VirtualCard {
        let mut card = VirtualCard::start(slot);
        wait_for(slot, State::PRESENT, Some(&mut card.child));
        card
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.kill();
        // So that the next test starts from an empty slot, not one pcscd has yet to poll.
        if !thread::panicking() {
            wait_for(self.slot, State::EMPTY, None);
        }
    }
}

fn open(slot: u8) -> PcscReader {
    PcscReader::open(&reader_name(slot), Protocol::Any).unwrap()
}

fn select_mf(card: &mut dyn Card) -> Result<Vec<u8>, Error> {
    card.transmit(&hex::parse(SELECT_MF).unwrap())
}

#[test]
fn list_readers_shows_both_virtual_readers_with_their_state() {
    let Some(_stack) = stack() else { return };
    let _card = VirtualCard::insert(1);
    let readers = list_readers().unwrap();
    assert_eq!(readers.len(), 2, "{readers:?}");
    assert_eq!(readers[0].index, 0);
    assert_eq!(readers[0].name, "Virtual PCD 00 00");
    assert_eq!(readers[0].state, CardState::Empty);
    assert_eq!(readers[0].atr, None);
    assert_eq!(readers[1].index, 1);
    assert_eq!(readers[1].name, "Virtual PCD 00 01");
    assert_eq!(readers[1].state, CardState::Present);
    let atr = readers[1].atr.as_deref().unwrap();
    assert_eq!(atr[0], 0x3B, "{}", hex::format(atr));
}

#[test]
fn open_by_substring_or_index() {
    let Some(_stack) = stack() else { return };
    let reader = PcscReader::open("PCD 00 01", Protocol::Any).unwrap();
    assert_eq!(reader.name(), "Virtual PCD 00 01");
    let reader = PcscReader::open("pcd 00 00", Protocol::T1).unwrap();
    assert_eq!(reader.name(), "Virtual PCD 00 00");
    assert_eq!(reader.protocol(), Protocol::T1);
    let reader = PcscReader::open("1", Protocol::Any).unwrap();
    assert_eq!(reader.name(), "Virtual PCD 00 01");
}

#[test]
fn open_refuses_unknown_and_ambiguous_patterns() {
    let Some(_stack) = stack() else { return };
    let err = PcscReader::open("Omnikey", Protocol::Any).unwrap_err();
    assert!(
        matches!(&err, Error::NoReaderMatching { available, .. }
            if available == "`Virtual PCD 00 00`, `Virtual PCD 00 01`"),
        "{err:?}"
    );
    let err = PcscReader::open("2", Protocol::Any).unwrap_err();
    assert!(matches!(err, Error::NoReaderMatching { .. }), "{err:?}");
    let err = PcscReader::open("virtual", Protocol::Any).unwrap_err();
    assert!(matches!(err, Error::AmbiguousReader { .. }), "{err:?}");
}

#[test]
fn connect_and_transmit_to_a_virtual_card() {
    let Some(_stack) = stack() else { return };
    let _vicc = VirtualCard::insert(0);
    let mut reader = open(0);
    let mut card = reader.connect().unwrap();
    assert_eq!(card.reader_name(), "Virtual PCD 00 00");
    assert_eq!(card.atr()[0], 0x3B, "{}", hex::format(card.atr()));
    assert_eq!(select_mf(&mut *card).unwrap(), [0x90, 0x00]);
    // A status word other than 9000 is an answer, not a transport error.
    let response = card
        .exchange(&crate::apdu::parse_command("00 A4 04 0C 05 A0 00 00 00 01").unwrap())
        .unwrap();
    assert_eq!(response.sw, StatusWord::new(0x6A, 0x82));
    // The card is ours alone while connected.
    assert_eq!(
        list_readers().unwrap()[0].state,
        CardState::InUse,
        "exclusive connection"
    );
    let err = reader.connect().err().expect("connect to fail");
    assert!(matches!(err, Error::Unusable { .. }), "{err:?}");
}

#[test]
fn connect_without_a_card_is_no_card() {
    let Some(_stack) = stack() else { return };
    let mut reader = open(0);
    let err = reader.connect().err().expect("connect to fail");
    assert!(
        matches!(&err, Error::NoCard { reader } if reader == "Virtual PCD 00 00"),
        "{err:?}"
    );
}

#[test]
fn transmit_after_the_card_is_pulled_is_card_removed() {
    let Some(_stack) = stack() else { return };
    let vicc = VirtualCard::insert(0);
    let mut reader = open(0);
    let mut card = reader.connect().unwrap();
    assert_eq!(select_mf(&mut *card).unwrap(), [0x90, 0x00]);
    drop(vicc);
    let err = select_mf(&mut *card).unwrap_err();
    assert!(
        matches!(&err, Error::CardRemoved { reader } if reader == "Virtual PCD 00 00"),
        "{err:?}"
    );
}

#[test]
fn transmit_the_moment_the_card_is_pulled_is_card_removed() {
    let Some(_stack) = stack() else { return };
    let mut vicc = VirtualCard::insert(0);
    let mut reader = open(0);
    let mut card = reader.connect().unwrap();
    assert_eq!(select_mf(&mut *card).unwrap(), [0x90, 0x00]);
    // pcscd has not polled the reader yet: the exchange fails before it knows why.
    vicc.kill();
    let err = select_mf(&mut *card).unwrap_err();
    assert!(matches!(err, Error::CardRemoved { .. }), "{err:?}");
    let err = card.reset().unwrap_err();
    assert!(matches!(err, Error::CardRemoved { .. }), "{err:?}");
}

#[test]
fn reset_returns_the_atr_and_the_card_still_answers() {
    let Some(_stack) = stack() else { return };
    let _vicc = VirtualCard::insert(0);
    let mut reader = open(0);
    let mut card = reader.connect().unwrap();
    let atr = card.atr().to_vec();
    assert_eq!(card.reset().unwrap(), atr);
    assert_eq!(card.atr(), atr);
    assert_eq!(select_mf(&mut *card).unwrap(), [0x90, 0x00]);
}

#[test]
fn next_card_waits_for_a_card_to_be_inserted() {
    let Some(_stack) = stack() else { return };
    let mut reader = open(0);
    let start = Instant::now();
    assert!(
        reader
            .next_card(Some(Duration::from_millis(300)))
            .unwrap()
            .is_none()
    );
    assert!(start.elapsed() >= Duration::from_millis(300));

    let delay = Duration::from_millis(800);
    let inserting = thread::spawn(move || {
        thread::sleep(delay);
        VirtualCard::start(0)
    });
    let start = Instant::now();
    let card = reader.next_card(Some(NOTICE)).unwrap();
    let _vicc = inserting.join().unwrap();
    let mut card = card.expect("a card within the timeout");
    assert!(start.elapsed() >= delay);
    assert_eq!(select_mf(&mut *card).unwrap(), [0x90, 0x00]);
}

#[test]
fn next_card_returns_a_card_already_present() {
    let Some(_stack) = stack() else { return };
    let _vicc = VirtualCard::insert(1);
    let mut reader = open(1);
    let mut card = reader.next_card(Some(Duration::ZERO)).unwrap().unwrap();
    assert_eq!(select_mf(&mut *card).unwrap(), [0x90, 0x00]);
}

#[test]
fn wait_removed_returns_once_the_card_is_pulled() {
    let Some(_stack) = stack() else { return };
    let vicc = VirtualCard::insert(0);
    let mut reader = open(0);
    let card = reader.next_card(Some(NOTICE)).unwrap().unwrap();
    drop(card);
    // Still there: pcscd powering the idle card down must not count as a removal.
    let err = reader
        .wait_removed(Some(Duration::from_millis(1500)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                what: "card removal",
                ..
            }
        ),
        "{err:?}"
    );

    let delay = Duration::from_millis(500);
    let removing = thread::spawn(move || {
        thread::sleep(delay);
        drop(vicc);
    });
    let start = Instant::now();
    reader.wait_removed(Some(NOTICE)).unwrap();
    assert!(start.elapsed() >= delay);
    removing.join().unwrap();
}

/// Run with pcscd stopped: `APDU_RUN_PCSC_ABSENT=1 cargo test --lib pcsc::tests::without_pcscd`.
#[test]
fn without_pcscd_open_and_list_are_no_service() {
    if std::env::var("APDU_RUN_PCSC_ABSENT").as_deref() != Ok("1") {
        eprintln!("skipped: needs pcscd stopped; run with APDU_RUN_PCSC_ABSENT=1");
        return;
    }
    let err = PcscReader::open("0", Protocol::Any).unwrap_err();
    assert!(matches!(err, Error::NoService), "{err:?}");
    assert!(matches!(list_readers(), Err(Error::NoService)));
}
