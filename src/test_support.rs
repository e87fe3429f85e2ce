//! Test-only helpers shared by the unit tests of several modules; compiled only under
//! `cfg(test)` and never part of the library.
//!
//! - Fake cards behind the [`Card`] seam: [`Scripted`] answers from a queue, [`Fixed`] gives
//!   the same answer to everything.
//!
//! A fake used by one test module only stays in that module.

use std::collections::VecDeque;

use crate::apdu::hex;
use crate::reader::{Card, Error};

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
