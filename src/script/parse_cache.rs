//! Parsed forms of the texts a script repeats: APDU hex and status-word patterns.
//!
//! A loop of `send("00 B0 00 00 10", "9000")` hands the same two strings to every call;
//! parsing them once instead of every time keeps the script loop close to the speed of the
//! card (see BENCHMARKS.md). The cache is small and lives in the run's `Remembered`, so it
//! starts empty for every card even though the engine is reused: a text built from one card's
//! data row is never held for the next. A text that fails to parse is not cached, so its error
//! is reported each time with its column. Nothing here is printed.

use std::rc::Rc;

use rhai::{EvalAltResult, ImmutableString};

use super::error::Fault;
use crate::apdu::{Command, SwExpectation, hex};

/// A valid command and its encoding, made once and sent as often as the script likes.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub command: Command,
    pub bytes: Vec<u8>,
}

impl Parsed {
    pub fn new(command: Command) -> Parsed {
        let bytes = command.to_bytes();
        Parsed { command, bytes }
    }
}

/// Distinct texts kept per kind; older ones are dropped first.
const CAPACITY: usize = 64;

/// Recently parsed commands and expectations, by their text.
#[derive(Default)]
pub(crate) struct ParseCache {
    commands: Vec<(ImmutableString, Rc<Parsed>)>,
    expectations: Vec<(ImmutableString, Rc<SwExpectation>)>,
}

fn find<T>(entries: &[(ImmutableString, Rc<T>)], text: &ImmutableString) -> Option<Rc<T>> {
    entries
        .iter()
        .find(|(key, _)| key.ptr_eq(text) || key == text)
        .map(|(_, value)| value.clone())
}

fn remember<T>(entries: &mut Vec<(ImmutableString, Rc<T>)>, text: &ImmutableString, value: Rc<T>) {
    if entries.len() == CAPACITY {
        entries.remove(0);
    }
    entries.push((text.clone(), value));
}

/// Counts only: the texts may carry a card's key bytes.
impl std::fmt::Debug for ParseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseCache")
            .field("commands", &self.commands.len())
            .field("expectations", &self.expectations.len())
            .finish()
    }
}

impl ParseCache {
    /// The command that hex `text` encodes; errors name the column or the length problem.
    pub fn command(&mut self, text: &ImmutableString) -> Result<Rc<Parsed>, Box<EvalAltResult>> {
        if let Some(command) = find(&self.commands, text) {
            return Ok(command);
        }
        let bytes =
            hex::parse(text).map_err(|e| Fault::failed(format!("send: bad hex `{text}`: {e}")))?;
        let command = Command::parse(&bytes).map_err(|e| {
            Fault::failed(format!(
                "send: `{}` is not a valid APDU: {e}",
                hex::format(&bytes)
            ))
        })?;
        let command = Rc::new(Parsed::new(command));
        remember(&mut self.commands, text, command.clone());
        Ok(command)
    }

    /// The expectation `text` states (`9000|61XX`).
    pub fn expectation(
        &mut self,
        text: &ImmutableString,
    ) -> Result<Rc<SwExpectation>, Box<EvalAltResult>> {
        if let Some(expectation) = find(&self.expectations, text) {
            return Ok(expectation);
        }
        let expectation = SwExpectation::parse(text)
            .map_err(|e| Fault::failed(format!("expected status word: {e}")))?;
        let expectation = Rc::new(expectation);
        remember(&mut self.expectations, text, expectation.clone());
        Ok(expectation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_valid_texts_and_reports_bad_ones_every_time() {
        let mut cache = ParseCache::default();
        let text: ImmutableString = "00 B0 00 00 10".into();
        let a = cache.command(&text).unwrap();
        let b = cache.command(&"00 B0 00 00 10".into()).unwrap();
        assert!(Rc::ptr_eq(&a, &b));
        for _ in 0..2 {
            let e = cache.command(&"00 B0 0".into()).unwrap_err();
            let message = super::super::error::from_eval("t.rhai", &e).message;
            assert_eq!(
                message,
                "send: bad hex `00 B0 0`: column 7: odd number of hex digits (5)"
            );
        }
        for i in 0..CAPACITY + 5 {
            cache
                .command(&format!("00 B0 00 00 {:02X}", i % 256).into())
                .unwrap();
        }
        assert_eq!(cache.commands.len(), CAPACITY);
        assert!(
            cache
                .expectation(&"9000|61XX".into())
                .unwrap()
                .matches(crate::apdu::StatusWord(0x6110))
        );
    }
}
