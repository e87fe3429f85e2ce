//! Tests of the vpcd bridge against a fake vpcd: a TCP listener in the test that sends frames
//! the way vpcd does (and the ways it should not). No pcscd needed; the real stack is tested
//! in `tests/cli/stack.rs`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::{self, JoinHandle};

use super::frame::encode;
use super::*;
use crate::sim::{Kind, Options, Simulator};
use crate::test_support::Fixed;

const SELECT_MF: &[u8] = &[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00];
/// VERIFY PIN 01 with a wrong value: costs a try of the card's persistent retry counter.
const WRONG_PIN: &[u8] = &[0x00, 0x20, 0x00, 0x01, 0x04, 0x39, 0x39, 0x39, 0x39];

/// The vpcd end of a connection.
struct Peer(TcpStream);

impl Peer {
    fn send(&mut self, payload: &[u8]) {
        let mut framed = Vec::new();
        encode(payload, &mut framed).unwrap();
        self.0.write_all(&framed).unwrap();
    }

    fn recv(&mut self) -> Vec<u8> {
        let mut len = [0; 2];
        self.0.read_exact(&mut len).unwrap();
        let mut payload = vec![0; usize::from(u16::from_be_bytes(len))];
        self.0.read_exact(&mut payload).unwrap();
        payload
    }

    fn exchange(&mut self, payload: &[u8]) -> Vec<u8> {
        self.send(payload);
        self.recv()
    }

    /// Whether the card side closed the connection (within the read timeout).
    fn closed(&mut self) -> bool {
        matches!(self.0.read(&mut [0; 1]), Ok(0))
    }
}

struct FakeVpcd(TcpListener);

impl FakeVpcd {
    fn new() -> FakeVpcd {
        FakeVpcd(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    fn address(&self) -> String {
        self.0.local_addr().unwrap().to_string()
    }

    fn accept(&self) -> Peer {
        let (stream, _) = self.0.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Peer(stream)
    }
}

/// Hands out fresh demo cards (or `card` when set) and records events as text.
struct Recorder {
    kind: Kind,
    card: Option<Box<dyn Fn() -> Box<dyn Card> + Send>>,
    events: Vec<String>,
}

impl Handler for Recorder {
    fn card(&mut self, _position: u32) -> Box<dyn Card> {
        match &self.card {
            Some(make) => make(),
            None => Simulator::new(self.kind, &Options::default()).card(),
        }
    }

    fn event(&mut self, event: Event<'_>) {
        self.events.push(match event {
            Event::Inserted { card, uid, .. } => format!("inserted {card} uid {uid:?}"),
            Event::PoweredOff { card } => format!("off {card}"),
            Event::Removed { card, commands } => format!("removed {card} after {commands}"),
            Event::Closed { card, commands, .. } => format!("closed {card} after {commands}"),
            Event::Dropped { card, error } => format!("dropped {card}: {error}"),
            Event::Fault { card, message } => format!("fault {card}: {message}"),
        });
    }
}

type Served = JoinHandle<(Result<Finish, Error>, Vec<String>)>;

fn spawn(config: Config, mut recorder: Recorder, stop: Arc<AtomicBool>) -> Served {
    thread::spawn(move || {
        let result = serve(&config, &mut recorder, &stop);
        (result, recorder.events)
    })
}

fn config(address: String, count: Option<u32>, dwell_ms: u64) -> Config {
    Config {
        address,
        count,
        dwell: Duration::from_millis(dwell_ms),
        claim_within: CLAIM_WITHIN,
        quickack: true,
    }
}

fn demo() -> Recorder {
    Recorder {
        kind: Kind::Iso7816,
        card: None,
        events: Vec::new(),
    }
}

fn stop_and_join(stop: &AtomicBool, served: Served) -> (Result<Finish, Error>, Vec<String>) {
    stop.store(true, Ordering::Relaxed);
    served.join().unwrap()
}

#[test]
fn answers_control_codes_and_commands_like_a_card_in_a_reader() {
    let vpcd = FakeVpcd::new();
    let stop = Arc::new(AtomicBool::new(false));
    let served = spawn(config(vpcd.address(), None, 0), demo(), stop.clone());
    let mut peer = vpcd.accept();
    let atr = Simulator::new(Kind::Iso7816, &Options::default())
        .card()
        .atr()
        .to_vec();
    assert_eq!(peer.exchange(&[0x04]), atr);
    peer.send(&[0x01]);
    assert_eq!(peer.exchange(&[0x04]), atr);
    assert_eq!(peer.exchange(SELECT_MF), [0x90, 0x00]);
    // A one-byte command (MIFARE Plus `AA`) is answered, not taken for a control code.
    assert!(!peer.exchange(&[0xAA]).is_empty());
    peer.send(&[0x02]);
    assert_eq!(peer.exchange(&[0x04]), atr);
    // Without --count a used card stays in the reader when pcscd powers it off.
    peer.send(&[0x00]);
    assert_eq!(peer.exchange(SELECT_MF), [0x90, 0x00]);
    let (result, events) = stop_and_join(&stop, served);
    assert_eq!(result.unwrap(), Finish::Stopped);
    assert_eq!(events, ["inserted 1 uid None", "off 1"]);
}

#[test]
fn count_presents_fresh_cards_and_removes_each_once_used_and_powered_off() {
    let vpcd = FakeVpcd::new();
    let stop = Arc::new(AtomicBool::new(false));
    let served = spawn(config(vpcd.address(), Some(2), 60_000), demo(), stop);
    for _ in 1..=2 {
        let mut peer = vpcd.accept();
        peer.send(&[0x01]);
        peer.exchange(&[0x04]);
        // Powered off before any command: not used yet, so still there.
        peer.send(&[0x00]);
        peer.send(&[0x01]);
        assert_eq!(peer.exchange(WRONG_PIN), [0x63, 0xC2], "a fresh card");
        peer.send(&[0x00]);
        assert!(peer.closed());
    }
    let (result, events) = served.join().unwrap();
    assert_eq!(result.unwrap(), Finish::Done);
    assert_eq!(
        events,
        [
            "inserted 1 uid None",
            "off 1",
            "off 1",
            "removed 1 after 1",
            "inserted 2 uid None",
            "off 2",
            "off 2",
            "removed 2 after 1",
        ]
    );
}

#[test]
fn a_used_card_held_by_an_application_leaves_after_the_dwell_time() {
    let vpcd = FakeVpcd::new();
    let stop = Arc::new(AtomicBool::new(false));
    let served = spawn(config(vpcd.address(), Some(1), 300), demo(), stop);
    let mut peer = vpcd.accept();
    peer.send(&[0x01]);
    thread::sleep(Duration::from_millis(200));
    // A command restarts the dwell time.
    let start = Instant::now();
    assert_eq!(peer.exchange(SELECT_MF), [0x90, 0x00]);
    assert!(peer.closed());
    assert!(start.elapsed() >= Duration::from_millis(300));
    let (result, events) = served.join().unwrap();
    assert_eq!(result.unwrap(), Finish::Done);
    assert_eq!(events, ["inserted 1 uid None", "removed 1 after 1"]);
}

#[test]
fn a_card_nobody_uses_leaves_after_the_dwell_time_and_the_next_comes() {
    let vpcd = FakeVpcd::new();
    let stop = Arc::new(AtomicBool::new(false));
    let served = spawn(config(vpcd.address(), Some(2), 300), demo(), stop);
    for _ in 1..=2 {
        let mut peer = vpcd.accept();
        let start = Instant::now();
        // pcscd's poll: the ATR, then power off (on-demand power), and nothing else.
        peer.exchange(&[0x04]);
        peer.send(&[0x00]);
        assert!(peer.closed(), "an unused card is removed too");
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert!(start.elapsed() < Duration::from_secs(3));
    }
    let (result, events) = served.join().unwrap();
    assert_eq!(result.unwrap(), Finish::Done);
    assert_eq!(
        events,
        [
            "inserted 1 uid None",
            "off 1",
            "removed 1 after 0",
            "inserted 2 uid None",
            "off 2",
            "removed 2 after 0",
        ]
    );
}

#[test]
fn a_slot_vpcd_never_talks_to_is_an_error_not_an_insertion() {
    let vpcd = FakeVpcd::new();
    let stop = AtomicBool::new(false);
    let mut recorder = demo();
    let mut config = config(vpcd.address(), None, 0);
    config.claim_within = Duration::from_millis(400);
    // The kernel completes the connection; like vpcd with its slot taken, nobody accepts it.
    let err = serve(&config, &mut recorder, &stop).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "vpcd at `{}` has not talked to the card within 1 s: its slot is most likely served \
             already",
            vpcd.address()
        )),
        "{message}"
    );
    assert!(message.contains("cannot tell"), "{message}");
    assert!(!message.contains('\n'));
    assert!(recorder.events.is_empty(), "{:?}", recorder.events);
}

#[test]
fn a_truncated_frame_drops_the_connection_and_the_card_comes_back() {
    let vpcd = FakeVpcd::new();
    let stop = Arc::new(AtomicBool::new(false));
    let served = spawn(config(vpcd.address(), None, 0), demo(), stop.clone());
    let mut peer = vpcd.accept();
    peer.exchange(WRONG_PIN);
    // Announces 5 bytes, sends 2, closes.
    peer.0.write_all(&[0x00, 0x05, 0x00, 0xA4]).unwrap();
    peer.0.shutdown(Shutdown::Write).unwrap();
    assert!(peer.closed());
    // The same card is back, state and all.
    let mut peer = vpcd.accept();
    assert_eq!(peer.exchange(WRONG_PIN), [0x63, 0xC1]);
    let (result, events) = stop_and_join(&stop, served);
    assert_eq!(result.unwrap(), Finish::Stopped);
    assert_eq!(
        events,
        [
            "inserted 1 uid None",
            "dropped 1: a frame announced 5 payload bytes, but the connection closed after 4 \
             bytes of it",
            "inserted 1 uid None",
        ]
    );
}

#[test]
fn an_empty_frame_and_a_closed_connection_are_survived() {
    let vpcd = FakeVpcd::new();
    let stop = Arc::new(AtomicBool::new(false));
    let served = spawn(config(vpcd.address(), None, 0), demo(), stop.clone());
    let mut peer = vpcd.accept();
    peer.0.write_all(&[0x00, 0x00]).unwrap();
    assert!(peer.closed());
    let mut peer = vpcd.accept();
    assert_eq!(peer.exchange(SELECT_MF), [0x90, 0x00]);
    drop(peer);
    let mut peer = vpcd.accept();
    assert_eq!(peer.exchange(SELECT_MF), [0x90, 0x00]);
    let (result, events) = stop_and_join(&stop, served);
    assert_eq!(result.unwrap(), Finish::Stopped);
    assert_eq!(
        events,
        [
            "inserted 1 uid None",
            "dropped 1: a frame announced an empty payload",
            "inserted 1 uid None",
            "closed 1 after 1",
            "inserted 1 uid None",
        ]
    );
}

#[test]
fn a_frame_whose_rest_never_comes_is_dropped() {
    let vpcd = FakeVpcd::new();
    let stop = Arc::new(AtomicBool::new(false));
    let served = spawn(config(vpcd.address(), None, 0), demo(), stop.clone());
    let mut peer = vpcd.accept();
    peer.0.write_all(&[0xFF, 0xFF, 0x00]).unwrap();
    assert!(peer.closed());
    let _again = vpcd.accept();
    let (_, events) = stop_and_join(&stop, served);
    assert_eq!(
        events[1],
        "dropped 1: a frame announced 65535 payload bytes, but only 3 bytes of it arrived \
         before the connection went quiet"
    );
}

#[test]
fn answers_that_cannot_go_through_vpcd_become_6f00() {
    for (answer, fault) in [
        (
            Some(Vec::new()),
            "an answer of 0 bytes cannot go through vpcd; sent 6F 00 instead",
        ),
        (
            Some(vec![0x90; 0x1_0002]),
            "an answer of 65538 bytes cannot go through vpcd; sent 6F 00 instead",
        ),
        (
            None,
            "card answered 0 byte(s), fewer than the two status bytes",
        ),
    ] {
        let vpcd = FakeVpcd::new();
        let stop = Arc::new(AtomicBool::new(false));
        let recorder = Recorder {
            kind: Kind::Iso7816,
            card: Some(Box::new(move || Box::new(Fixed::new(answer.clone())))),
            events: Vec::new(),
        };
        let served = spawn(config(vpcd.address(), None, 0), recorder, stop.clone());
        let mut peer = vpcd.accept();
        assert_eq!(peer.exchange(SELECT_MF), [0x6F, 0x00]);
        let (_, events) = stop_and_join(&stop, served);
        assert!(events.contains(&format!("fault 1: {fault}")), "{events:?}");
    }
}

#[test]
fn insertion_reports_the_uid_the_card_gives_to_get_data() {
    let vpcd = FakeVpcd::new();
    let stop = Arc::new(AtomicBool::new(false));
    let recorder = Recorder {
        kind: Kind::Iso7816,
        card: Some(Box::new(|| {
            Box::new(Fixed::new(Some(vec![0x04, 0x11, 0x22, 0x90, 0x00])))
        })),
        events: Vec::new(),
    };
    let served = spawn(config(vpcd.address(), None, 0), recorder, stop.clone());
    let mut peer = vpcd.accept();
    peer.exchange(&[0x04]);
    let (_, events) = stop_and_join(&stop, served);
    assert_eq!(events, ["inserted 1 uid Some([4, 17, 34])"]);
}

#[test]
fn unreachable_vpcd_is_one_clear_error() {
    let address = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let stop = AtomicBool::new(false);
    let err = serve(&config(address.clone(), None, 0), &mut demo(), &stop).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("cannot reach vpcd at `{address}`: ")),
        "{message}"
    );
    assert!(message.ends_with("(is pcscd running with vsmartcard's vpcd driver?)"));
    assert!(!message.contains('\n'));
}
