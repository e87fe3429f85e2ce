//! Scriptor files (`FILE.apdu`, the pcsc-tools format): parse them completely, then run
//! them against a card, printing scriptor's `>`/`<` lines.
//!
//! Running goes through the same seam as scripts: [`Card::exchange_with`] with the rules the
//! caller gives — the command line gives `Exchange::RAW` unless `--auto-response`, so a file
//! sends exactly its lines as scriptor does and an explicit GET RESPONSE line gets the data —
//! under the guard and the trace the caller wrapped around the card.
//! This module does not print: lines go to the caller's output function.

mod parse;

pub use parse::{Item, ParseError, parse};

use crate::apdu::{Response, hex};
use crate::reader::{Card, Error, Exchange};

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A `# expect` did not match.
    #[error("{line}: `{command}`: card answered {sw} ({meaning}), expected {expected}")]
    Expectation {
        /// Line of the command.
        line: usize,
        /// The command as written.
        command: String,
        /// What the card answered.
        sw: crate::apdu::StatusWord,
        /// Its meaning.
        meaning: String,
        /// The expectation.
        expected: String,
    },
    /// Stopped (Ctrl-C) before the command or reset of `line` was sent.
    #[error("{line}: interrupted; nothing sent from this line on")]
    Interrupted {
        /// Line of the first item not run.
        line: usize,
    },
    /// The reader, the card or the guard failed.
    #[error("{line}: {source}")]
    Card {
        /// Line of the command or reset.
        line: usize,
        /// What went wrong.
        source: Error,
    },
}

/// Appends the response lines scriptor prints to `out`: 16 bytes per line, `: meaning`
/// after the SW. Built with table lookups into a buffer the run reuses: this runs once per
/// APDU, and the `fmt` machinery and a fresh `String` each time were most of a scriptor
/// run's own CPU time per APDU (BENCHMARKS.md).
fn push_response_lines(out: &mut String, response: &Response, meaning: &str) {
    out.push_str("< ");
    let sw = response.sw.0.to_be_bytes();
    for (i, &byte) in response.data.iter().chain(&sw).enumerate() {
        if i > 0 {
            out.push(if i % 16 == 0 { '\n' } else { ' ' });
        }
        hex::push_pair(out, byte);
    }
    out.push_str(" : ");
    out.push_str(meaning);
}

/// How a run is wired to its caller.
pub struct Io<'a> {
    /// Receives each output line.
    pub output: &'a mut dyn FnMut(&str),
    /// Asked before each item; `true` stops the run there (Ctrl-C).
    pub stop: &'a dyn Fn() -> bool,
}

/// Runs parsed items against `card`.
///
/// The `>` echo masks PIN and key data (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER,
/// LOAD KEYS) unless `show_secrets` is set, as the trace does.
pub fn run(
    items: &[Item],
    card: &mut dyn Card,
    rules: Exchange,
    show_secrets: bool,
    io: Io<'_>,
) -> Result<(), RunError> {
    let Io { output, stop } = io;
    let mut line = String::new();
    for item in items {
        if stop() {
            let (Item::Reset { line } | Item::Send { line, .. }) = item;
            return Err(RunError::Interrupted { line: *line });
        }
        match item {
            Item::Reset { line: at } => {
                output("> RESET");
                let atr = card
                    .reset()
                    .map_err(|source| RunError::Card { line: *at, source })?;
                output(&format!("< OK: {}", hex::format(&atr)));
            }
            Item::Send {
                command,
                bytes,
                text,
                echo,
                expect,
                line: at,
            } => {
                line.clear();
                line.push_str("> ");
                line.push_str(if show_secrets { text } else { echo });
                output(&line);
                let response = card
                    .exchange_encoded(command, bytes, rules)
                    .map_err(|source| RunError::Card { line: *at, source })?;
                let meaning = response.sw.describe_after(bytes);
                line.clear();
                push_response_lines(&mut line, &response, &meaning);
                output(&line);
                if let Some(expect) = expect {
                    if !expect.matches(response.sw) {
                        return Err(RunError::Expectation {
                            line: *at,
                            command: text.clone(),
                            sw: response.sw,
                            meaning: meaning.into_owned(),
                            expected: expect.to_string(),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_ends_the_run_before_the_next_item() {
        let items = parse("00 A4 00 0C 02 2F 00\n00 B0 00 00 02\nreset\n").unwrap();
        let simulator = crate::sim::Simulator::new(crate::sim::Kind::Iso7816, &Default::default());
        let mut card = simulator.card();
        let mut printed = Vec::new();
        let asked = std::cell::Cell::new(0);
        let io = Io {
            output: &mut |line| printed.push(line.to_owned()),
            // Ctrl-C arrives while the first command is being answered.
            stop: &|| {
                asked.set(asked.get() + 1);
                asked.get() > 1
            },
        };
        let e = run(&items, card.as_mut(), Exchange::AUTO, false, io).unwrap_err();
        assert!(matches!(e, RunError::Interrupted { line: 2 }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "2: interrupted; nothing sent from this line on"
        );
        assert_eq!(printed, ["> 00 A4 00 0C 02 2F 00", "< 90 00 : OK"]);
    }

    #[track_caller]
    fn lines(bytes: &[u8], meaning: &str) -> String {
        let response = Response::from_bytes(bytes.to_vec()).unwrap();
        let mut out = String::new();
        push_response_lines(&mut out, &response, meaning);
        out
    }

    #[test]
    fn response_lines_wrap_at_16_bytes() {
        let bytes: Vec<u8> = (0..18).collect();
        assert_eq!(
            lines(&bytes, "OK"),
            "< 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F\n10 11 : OK"
        );
        let bytes: Vec<u8> = (0..32).collect();
        assert!(
            lines(&bytes, "x").ends_with("\n10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F : x")
        );
        assert_eq!(lines(&[0x90, 0x00], "OK"), "< 90 00 : OK");
    }
}
