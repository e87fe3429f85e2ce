//! The serial backends against the simulated readers over an in-memory line: random APDUs
//! of all four cases, echo on and off, both conventions, and a line that corrupts bytes.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use proptest::prelude::*;

use super::{MouseOptions, SerialKind, serve};
use crate::reader::serial::line::memory::{MemoryLine, pair};
use crate::reader::serial::line::{Line, LineSettings};
use crate::reader::serial::phoenix::PhoenixReader;
use crate::reader::serial::t0::Echo;
use crate::reader::serial::tlp224::Tlp224Reader;
use crate::reader::{Card, Error};
use crate::sim::{Kind, Options, Simulator};

/// A line that flips bits in chosen bytes it receives (counted from 0).
struct Corrupting {
    inner: MemoryLine,
    received: Arc<AtomicUsize>,
    corrupt: fn(usize) -> bool,
}

impl Line for Corrupting {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.send(bytes)
    }
    fn recv(&mut self, timeout: Duration) -> io::Result<Option<u8>> {
        Ok(self.inner.recv(timeout)?.map(|b| {
            let n = self.received.fetch_add(1, Ordering::SeqCst);
            if (self.corrupt)(n) && b != 0x03 {
                b ^ 0x01
            } else {
                b
            }
        }))
    }
    fn discard_input(&mut self) -> io::Result<()> {
        self.inner.discard_input()
    }
    fn set_reset(&mut self, active: bool) -> io::Result<()> {
        self.inner.set_reset(active)
    }
}

struct Served {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start(kind: SerialKind, sim: &Simulator, options: MouseOptions) -> (MemoryLine, Served) {
    let (host, mut device) = pair();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let card = sim.card();
    let thread = std::thread::spawn(move || {
        let _ = serve(&mut device, kind, card, options, &flag);
    });
    (
        host,
        Served {
            stop,
            thread: Some(thread),
        },
    )
}

fn connect(
    kind: SerialKind,
    line: Box<dyn Line>,
    echo: Echo,
) -> Result<Box<dyn Card + Send>, Error> {
    match kind {
        SerialKind::Tlp224 => Tlp224Reader::new(line, "test".into()).connect(),
        SerialKind::Phoenix => PhoenixReader::new(
            line,
            "test".into(),
            LineSettings {
                baud: 1_000_000,
                ..LineSettings::ISO_DEFAULT
            },
            echo,
        )
        .connect(),
    }
}

/// Random short APDUs of the four cases for the demo card's instructions.
fn apdu() -> impl Strategy<Value = Vec<u8>> {
    // Case 2 with instructions that send data, the other cases with ones that take it: what
    // T=0 can express (tpdu.rs).
    let out = prop::sample::select(vec![0xB0u8, 0xB2, 0x84, 0xCA, 0xC0]);
    let in_ = prop::sample::select(vec![0xA4u8, 0xD6, 0x20, 0x44, 0xDC, 0xE2, 0x24]);
    (
        out,
        in_,
        any::<u8>(),
        any::<u8>(),
        0usize..4,
        prop::collection::vec(any::<u8>(), 1..40),
        1usize..=256,
    )
        .prop_map(|(out, in_, p1, p2, case, data, le)| {
            let ins = if case == 1 { out } else { in_ };
            let mut apdu = vec![0x00, ins, p1 & 0x7F, p2];
            match case {
                0 => {}
                1 => apdu.push((le % 256) as u8),
                2 => {
                    apdu.push(data.len() as u8);
                    apdu.extend_from_slice(&data);
                }
                _ => {
                    apdu.push(data.len() as u8);
                    apdu.extend_from_slice(&data);
                    apdu.push((le % 256) as u8);
                }
            }
            apdu
        })
}

/// What the T=0 card itself answers through `Card::exchange` rules, as the reference.
fn reference(sim: &Simulator, apdu: &[u8]) -> crate::apdu::Response {
    let command = crate::apdu::Command::parse(apdu).unwrap();
    sim.card().exchange(&command).unwrap()
}

fn check_same(
    kind: SerialKind,
    options: MouseOptions,
    echo: Echo,
    apdus: &[Vec<u8>],
) -> Result<(), TestCaseError> {
    let served_sim = Simulator::new(Kind::Iso7816T0, &Options::default());
    let reference_sim = Simulator::new(Kind::Iso7816T0, &Options::default());
    let (host, _served) = start(kind, &served_sim, options);
    let mut card = connect(kind, Box::new(host), echo).unwrap();
    let mut expected_atr = reference_sim.card().atr().to_vec();
    if options.inverse {
        expected_atr[0] = 0x3F;
    }
    prop_assert_eq!(card.atr(), &expected_atr[..]);
    for apdu in apdus {
        let command = crate::apdu::Command::parse(apdu).unwrap();
        let got = card.exchange(&command).unwrap();
        let want = reference(&reference_sim, apdu);
        prop_assert_eq!(got, want, "APDU {:02X?}", apdu);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn tlp224_answers_like_the_card(apdus in prop::collection::vec(apdu(), 1..6)) {
        check_same(SerialKind::Tlp224, MouseOptions::default(), Echo::Auto, &apdus)?;
    }

    #[test]
    fn raw_t0_answers_like_the_card(
        apdus in prop::collection::vec(apdu(), 1..6),
        echo in any::<bool>(),
        inverse in any::<bool>(),
        forced in any::<bool>(),
    ) {
        let mode = match (forced, echo) {
            (false, _) => Echo::Auto,
            (true, true) => Echo::On,
            (true, false) => Echo::Off,
        };
        check_same(SerialKind::Phoenix, MouseOptions { echo, inverse }, mode, &apdus)?;
    }
}

#[test]
fn the_t1_card_behind_a_serial_reader_answers_like_on_t1() {
    for kind in [SerialKind::Tlp224, SerialKind::Phoenix] {
        let served = Simulator::new(Kind::Iso7816, &Options::default());
        let reference = Simulator::new(Kind::Iso7816, &Options::default());
        let (host, _served) = start(kind, &served, MouseOptions::default());
        let mut card = connect(kind, Box::new(host), Echo::Auto).unwrap();
        assert_eq!(card.atr(), reference.card().atr());
        for apdu in [
            &b"\x00\xA4\x04\x00\x07\xA0\x00\x00\x02\x47\x10\x01\x00"[..],
            b"\x00\xB0\x81\x00\x10",
        ] {
            let command = crate::apdu::Command::parse(apdu).unwrap();
            let got = card.exchange(&command).unwrap();
            let want = reference.card().exchange(&command).unwrap();
            assert_eq!(got, want, "{kind:?} {apdu:02X?}");
        }
    }
}

#[test]
fn a_corrupt_tlp224_response_is_asked_again_not_used() {
    let sim = Simulator::new(Kind::Iso7816T0, &Options::default());
    let (host, _served) = start(SerialKind::Tlp224, &sim, MouseOptions::default());
    let received = Arc::new(AtomicUsize::new(0));
    // The third byte of the first response (and only it) is damaged.
    let line = Corrupting {
        inner: host,
        received: Arc::clone(&received),
        corrupt: |n| n == 2,
    };
    let mut card = connect(SerialKind::Tlp224, Box::new(line), Echo::Auto).unwrap();
    assert_eq!(card.atr(), sim.card().atr());
    let select = crate::apdu::Command::parse(&[0, 0xA4, 0, 0x0C, 2, 0x3F, 0]).unwrap();
    assert_eq!(card.exchange(&select).unwrap().sw.0, 0x9000);
}

#[test]
fn a_line_that_stays_corrupt_fails_with_a_transport_error() {
    let sim = Simulator::new(Kind::Iso7816T0, &Options::default());
    let (host, _served) = start(SerialKind::Tlp224, &sim, MouseOptions::default());
    let line = Corrupting {
        inner: host,
        received: Arc::new(AtomicUsize::new(0)),
        corrupt: |n| n % 7 == 3,
    };
    let e = connect(SerialKind::Tlp224, Box::new(line), Echo::Auto)
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("failed 3 times: corrupt response"),
        "{e}"
    );
}

#[test]
fn a_corrupt_echo_is_reported() {
    let sim = Simulator::new(Kind::Iso7816T0, &Options::default());
    let options = MouseOptions {
        echo: true,
        inverse: false,
    };
    let (host, _served) = start(SerialKind::Phoenix, &sim, options);
    let received = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&received);
    let line = Corrupting {
        inner: host,
        received,
        // The ATR (echoed reset byte + 12 bytes) passes; the echo of the header does not.
        corrupt: |n| n == 15,
    };
    let mut card = connect(SerialKind::Phoenix, Box::new(line), Echo::On).unwrap();
    let select = crate::apdu::Command::parse(&[0, 0xA4, 0, 0x0C, 2, 0x3F, 0]).unwrap();
    let e = card.exchange(&select).unwrap_err();
    assert!(
        e.to_string().contains("echo"),
        "{e} after {}",
        counter.load(Ordering::SeqCst)
    );
}

#[test]
fn no_card_is_reported_as_absent() {
    let (host, mut device) = pair();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        // A reader without a card: a GCR400 that answers FB.
        let mut reader = super::gcr400::Gcr400::new(None);
        while !flag.load(Ordering::SeqCst) {
            if let Ok(Some(b)) = device.recv(Duration::from_millis(50)) {
                if let Some(answer) = reader.receive(b) {
                    let _ = device.send(&answer);
                }
            }
        }
    });
    let e = connect(SerialKind::Tlp224, Box::new(host), Echo::Auto)
        .err()
        .unwrap();
    assert!(matches!(e, Error::NoCard { .. }), "{e}");
    stop.store(true, Ordering::SeqCst);
    thread.join().unwrap();
}
