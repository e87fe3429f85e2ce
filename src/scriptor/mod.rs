//! Scriptor files (`FILE.apdu`, the pcsc-tools format): parse them completely, then run
//! them against a card, printing scriptor's `>`/`<` lines.
//!
//! Running goes through the same seam as scripts: [`Card::exchange_with`] with the run's
//! `61xx`/`6Cxx` rules, under the guard and the trace the caller wrapped around the card.
//! This module does not print: lines go to the caller's output function.

mod parse;

pub use parse::{Item, ParseError, parse};

use crate::apdu::hex;
use crate::reader::trace::{Redactor, mask_command};
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
    /// The reader, the card or the guard failed.
    #[error("{line}: {source}")]
    Card {
        /// Line of the command or reset.
        line: usize,
        /// What went wrong.
        source: Error,
    },
}

/// The response lines scriptor prints: 16 bytes per line, `: meaning` after the SW.
fn response_lines(bytes: &[u8], meaning: &str) -> String {
    let mut out = String::from("< ");
    for (i, chunk) in bytes.chunks(16).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&hex::format(chunk));
    }
    out.push_str(" : ");
    out.push_str(meaning);
    out
}

/// Runs parsed items against `card`, sending each output line to `output`.
///
/// The `>` echo masks PIN and key data (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER,
/// LOAD KEYS) unless `show_secrets` is set, as the trace does.
pub fn run(
    items: &[Item],
    card: &mut dyn Card,
    rules: Exchange,
    show_secrets: bool,
    output: &mut dyn FnMut(&str),
) -> Result<(), RunError> {
    for item in items {
        match item {
            Item::Reset { line } => {
                output("> RESET");
                let atr = card.reset().map_err(|source| RunError::Card {
                    line: *line,
                    source,
                })?;
                output(&format!("< OK: {}", hex::format(&atr)));
            }
            Item::Send {
                command,
                text,
                expect,
                line,
            } => {
                if show_secrets {
                    output(&format!("> {text}"));
                } else {
                    output(&format!(
                        "> {}",
                        mask_command(&command.to_bytes(), &Redactor::default()).spaced
                    ));
                }
                let response =
                    card.exchange_with(command, rules)
                        .map_err(|source| RunError::Card {
                            line: *line,
                            source,
                        })?;
                let meaning = response.sw.describe();
                output(&response_lines(&response.to_bytes(), &meaning));
                if let Some(expect) = expect {
                    if !expect.matches(response.sw) {
                        return Err(RunError::Expectation {
                            line: *line,
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
    fn response_lines_wrap_at_16_bytes() {
        let bytes: Vec<u8> = (0..18).collect();
        assert_eq!(
            response_lines(&bytes, "OK"),
            "< 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F\n10 11 : OK"
        );
    }
}
