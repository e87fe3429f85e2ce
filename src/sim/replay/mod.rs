//! The replay card: a recorded dump (`--record`, or apdu4j/GlobalPlatformPro's dump format)
//! played back as a card, `--sim replay:FILE.dump` or `--sim replay-skip:FILE.dump`.
//!
//! The card has the dump's ATR and answers each command with the recorded response. Strict
//! mode (`replay:`) expects the commands in the recorded order: a command that differs from
//! the next recorded one ends the session with an error naming both (the expected one with
//! its masked bytes shown as `(secret)`, the one sent masked as a trace masks it). Skip mode
//! (`replay-skip:`) scans forward to the next recorded command that matches, passing over
//! the ones between (as apdu4j's skipping mode does). Masked recorded bytes match any bytes
//! of the same length (`dump.rs`). A reset answers the ATR and keeps the place in the dump:
//! a dump is one session. This module knows nothing of files' names on the command line
//! beyond the two prefixes, and does not write dumps (`reader::record` does).

use std::path::{Path, PathBuf};

use crate::reader::{self, Card};

pub mod dump;
pub mod import;

pub use dump::{Dump, Exchange, ParseError};

/// How a replay card matches the commands it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Each command must be the next recorded one.
    Strict,
    /// A command is looked for from the next recorded one on; those passed over are skipped.
    Skip,
}

/// The name of the reader a replay card sits in.
pub const READER_NAME: &str = "Simulated reader (replay)";

/// `replay:FILE` or `replay-skip:FILE` as given to `--sim`: the mode and the file, or
/// `None` for any other kind name.
pub fn parse_spec(text: &str) -> Option<(Mode, PathBuf)> {
    if let Some(path) = text.strip_prefix("replay-skip:") {
        return Some((Mode::Skip, PathBuf::from(path)));
    }
    text.strip_prefix("replay:")
        .map(|path| (Mode::Strict, PathBuf::from(path)))
}

/// Reads and parses the dump at `path` (bounded as a scriptor file is); the error is one
/// line naming `path:line:column`.
pub fn load(path: &Path) -> Result<Dump, String> {
    let text = crate::input::read_text(path, crate::input::Kind::Scriptor)
        .map_err(|e| format!("cannot read dump `{}`: {e}", path.display()))?;
    dump::parse(&text).map_err(|e| format!("{}:{e}", path.display()))
}

/// A dump played back as a card.
#[derive(Debug, Clone)]
pub struct ReplayCard {
    dump: Dump,
    mode: Mode,
    /// The index of the next recorded exchange.
    next: usize,
}

impl ReplayCard {
    /// A card playing `dump` in `mode` from its first exchange.
    pub fn new(dump: Dump, mode: Mode) -> ReplayCard {
        ReplayCard {
            dump,
            mode,
            next: 0,
        }
    }

    /// The recorded response to `command`, or why there is none.
    pub fn answer(&mut self, command: &[u8]) -> Result<Vec<u8>, String> {
        let got = || crate::reader::trace::mask_command(command, &Default::default()).spaced;
        let Some(expected) = self.dump.exchanges.get(self.next) else {
            return Err(format!(
                "replay: got {} after the dump's last exchange ({} played)",
                got(),
                self.next
            ));
        };
        let found = match self.mode {
            Mode::Strict => expected.matches(command).then_some(self.next),
            Mode::Skip => (self.next..self.dump.exchanges.len())
                .find(|&i| self.dump.exchanges[i].matches(command)),
        };
        match found {
            Some(i) => {
                self.next = i + 1;
                Ok(self.dump.exchanges[i].response.clone())
            }
            None => Err(match self.mode {
                Mode::Strict => format!(
                    "replay: expected {} (dump line {}) but got {}",
                    expected.command_text(),
                    expected.line,
                    got()
                ),
                Mode::Skip => format!(
                    "replay-skip: got {}, which no recorded command from dump line {} on matches",
                    got(),
                    expected.line
                ),
            }),
        }
    }

    /// How many recorded exchanges were played or skipped.
    pub fn position(&self) -> usize {
        self.next
    }
}

impl Card for ReplayCard {
    fn atr(&self) -> &[u8] {
        &self.dump.atr
    }

    fn reader_name(&self) -> &str {
        READER_NAME
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, reader::Error> {
        self.answer(command)
            .map_err(|message| reader::Error::Transport {
                reader: READER_NAME.to_owned(),
                message,
            })
    }

    fn reset(&mut self) -> Result<Vec<u8>, reader::Error> {
        Ok(self.dump.atr.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# ATR: 3B00\n# PROTOCOL: T=0\n\
        00A4000C023F00\n9000\n\
        # Masked: 5..7\n00200001020000\n9000\n\
        00B0000002\n12349000\n";

    fn card(mode: Mode) -> ReplayCard {
        ReplayCard::new(dump::parse(TEXT).unwrap(), mode)
    }

    #[test]
    fn strict_mode_answers_in_order_and_names_both_on_a_mismatch() {
        let mut c = card(Mode::Strict);
        assert_eq!(c.atr(), [0x3B, 0x00]);
        assert_eq!(
            c.answer(&[0, 0xA4, 0, 0x0C, 2, 0x3F, 0]).unwrap(),
            [0x90, 0]
        );
        // Another PIN than the recorded (masked) one matches.
        assert_eq!(
            c.answer(&[0, 0x20, 0, 1, 2, 0x55, 0x66]).unwrap(),
            [0x90, 0]
        );
        let e = c.answer(&[0, 0xB0, 0, 0, 4]).unwrap_err();
        assert_eq!(
            e,
            "replay: expected 00 B0 00 00 02 (dump line 8) but got 00 B0 00 00 04"
        );
        assert!(c.answer(&[0, 0xB0, 0, 0, 2]).is_ok());
        assert!(
            c.answer(&[0, 0xB0, 0, 0, 2])
                .unwrap_err()
                .contains("last exchange (3 played)")
        );
    }

    #[test]
    fn a_mismatching_pin_is_shown_masked() {
        let mut c = card(Mode::Strict);
        let e = c.answer(&[0, 0x20, 0, 1, 2, 0x55, 0x66]).unwrap_err();
        assert!(e.contains("expected 00 A4"), "{e}");
        assert!(e.ends_with("got 00 20 00 01 02 (secret)"), "{e}");
    }

    #[test]
    fn skip_mode_scans_forward() {
        let mut c = card(Mode::Skip);
        assert_eq!(
            c.answer(&[0, 0xB0, 0, 0, 2]).unwrap(),
            [0x12, 0x34, 0x90, 0]
        );
        assert_eq!(c.position(), 3);
        let e = c.answer(&[0, 0xA4, 0, 0x0C, 2, 0x3F, 0]).unwrap_err();
        assert!(e.contains("last exchange"), "{e}");
        let mut c = card(Mode::Skip);
        let e = c.answer(&[0xFF, 0xCA, 0, 0, 0]).unwrap_err();
        assert!(
            e.starts_with("replay-skip: got FF CA 00 00 00, which no recorded"),
            "{e}"
        );
    }

    #[test]
    fn specs_name_mode_and_file() {
        assert_eq!(
            parse_spec("replay:a.dump"),
            Some((Mode::Strict, "a.dump".into()))
        );
        assert_eq!(parse_spec("replay-skip:b"), Some((Mode::Skip, "b".into())));
        assert_eq!(parse_spec("iso7816"), None);
    }
}
