//! Test-only helpers shared by the unit tests of several modules; compiled only under
//! `cfg(test)` and never part of the library.
//!
//! - Fake cards behind the [`Card`] seam: [`Scripted`] answers from a queue.
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
