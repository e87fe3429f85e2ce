//! Test-only helpers shared by the unit tests of several modules; compiled only under
//! `cfg(test)` and never part of the library.
//!
//! - Fake cards behind the [`Card`] seam: [`Scripted`] answers from a queue, [`Fixed`] gives
//!   the same answer to everything, [`Recording`] wraps another card and logs what it is sent.
//! - [`run_script`] runs a Rhai script on a fake card the way the command line does and
//!   collects what it printed and sent, as a [`Run`].
//!
//! A fake used by one test module only stays in that module.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::apdu::hex;
use crate::reader::trace::Redactor;
use crate::reader::{Card, Error};
use crate::script::{RunOptions, Script, ScriptError, Settings};

/// The ATR of the fakes that do not care which card they are: a bare `3B 00`.
const PLAIN_ATR: &str = "3B 00";

/// A card that answers from a queue and records every command it is sent, as spaced hex.
/// Once the queue is empty the card is gone: `transmit` fails with [`Error::CardRemoved`].
pub(crate) struct Scripted {
    atr: Vec<u8>,
    answers: VecDeque<Vec<u8>>,
    /// The commands sent so far, oldest first.
    pub(crate) sent: Vec<String>,
}

impl Scripted {
    /// A card with a plain ATR that gives `answers` (hex), one per command.
    pub(crate) fn new(answers: &[&str]) -> Scripted {
        Scripted::with_atr(PLAIN_ATR, answers)
    }

    /// A card with the ATR `atr` (hex) that gives `answers` (hex), one per command.
    pub(crate) fn with_atr(atr: &str, answers: &[&str]) -> Scripted {
        Scripted {
            atr: hex::parse(atr).unwrap(),
            answers: answers.iter().map(|a| hex::parse(a).unwrap()).collect(),
            sent: Vec::new(),
        }
    }
}

impl Card for Scripted {
    fn atr(&self) -> &[u8] {
        &self.atr
    }
    fn reader_name(&self) -> &str {
        "scripted"
    }
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        self.sent.push(hex::format(command));
        self.answers.pop_front().ok_or(Error::CardRemoved {
            reader: "scripted".into(),
        })
    }
    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        Ok(self.atr.clone())
    }
}

/// A card that gives the same answer to every command, for tests that look at what happens
/// around the card rather than at the card.
pub(crate) struct Fixed {
    atr: Vec<u8>,
    /// The answer to every command; `None` is a card that answers nothing at all, which the
    /// transport reports as [`Error::ShortResponse`] of 0 bytes.
    answer: Option<Vec<u8>>,
}

impl Fixed {
    /// A card with a plain ATR that always answers `answer`.
    pub(crate) fn new(answer: Option<Vec<u8>>) -> Fixed {
        Fixed::with_atr(PLAIN_ATR, answer)
    }

    /// A card with the ATR `atr` (hex) that always answers `answer`.
    pub(crate) fn with_atr(atr: &str, answer: Option<Vec<u8>>) -> Fixed {
        Fixed {
            atr: hex::parse(atr).unwrap(),
            answer,
        }
    }
}

impl Card for Fixed {
    fn atr(&self) -> &[u8] {
        &self.atr
    }
    fn reader_name(&self) -> &str {
        "fixed"
    }
    fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, Error> {
        self.answer.clone().ok_or(Error::ShortResponse { len: 0 })
    }
    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        Ok(self.atr.clone())
    }
}

/// The commands a fake card was sent, as spaced hex, shared with the test that reads them
/// after the card has been handed to a script.
pub(crate) type SentLog = Rc<RefCell<Vec<String>>>;

/// A card that records every command it is sent into a [`SentLog`] and passes it on to
/// `inner`.
pub(crate) struct Recording {
    /// The card that answers.
    pub(crate) inner: Box<dyn Card + Send>,
    /// Where the commands are recorded.
    pub(crate) sent: SentLog,
    /// Like an ACS reader, append `90 00` to answers shorter than two bytes (protocols.md
    /// §3.6 A); off, the answers pass unchanged.
    pub(crate) acs: bool,
}

impl Card for Recording {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }
    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        self.sent.borrow_mut().push(hex::format(command));
        let mut answer = self.inner.transmit(command)?;
        if self.acs && answer.len() < 2 {
            answer.extend([0x90, 0x00]);
        }
        Ok(answer)
    }
    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        self.inner.reset()
    }
}

/// What a script run left: its result, the lines it printed and the commands the card was
/// sent.
pub(crate) struct Run {
    /// How the script ended.
    pub(crate) result: Result<(), ScriptError>,
    /// Each `print`, in order.
    pub(crate) printed: Vec<String>,
    /// Each command the card was sent, as spaced hex.
    pub(crate) sent: Vec<String>,
}

/// Runs `source` as the script `t.rhai`, armed for irreversible operations or not, with
/// `vars` as `--var NAME=VALUE`, on the card that `card` makes. `card` is given the log the
/// card must record its commands in; it also decides what stands between the script and
/// the card (the guard, as the command line puts it there, or nothing).
pub(crate) fn run_script(
    source: &str,
    armed: bool,
    vars: &[(&str, &str)],
    card: impl FnOnce(SentLog) -> Box<dyn Card>,
) -> Run {
    match Script::compile_source("t.rhai", source) {
        Ok(script) => run_compiled(&script, armed, vars, false, card),
        Err(e) => Run {
            result: Err(e),
            printed: Vec::new(),
            sent: Vec::new(),
        },
    }
}

/// Like [`run_script`] for a script compiled already (run again, on the same engine), with
/// its interrupt flag set from the start or not.
pub(crate) fn run_compiled(
    script: &Script,
    armed: bool,
    vars: &[(&str, &str)],
    interrupt: bool,
    card: impl FnOnce(SentLog) -> Box<dyn Card>,
) -> Run {
    let sent = SentLog::default();
    let printed = Rc::new(RefCell::new(Vec::new()));
    let sink = printed.clone();
    let options = RunOptions {
        settings: Settings {
            armed,
            ..Settings::default()
        },
        vars: vars
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        redactor: Redactor::default(),
        output: Rc::new(move |s: &str| sink.borrow_mut().push(s.to_string())),
        interrupt: Arc::new(AtomicBool::new(interrupt)),
    };
    let result = script.run(card(sent.clone()), options).1;
    let printed = printed.borrow().clone();
    let sent = sent.borrow().clone();
    Run {
        result,
        printed,
        sent,
    }
}
