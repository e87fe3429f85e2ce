//! Reading scriptor files (pcsc-tools): one APDU per line in hex, with or without spaces,
//! `#` comments, `\` at the end of a line to continue a command on the next, `reset`, and
//! `exit` to stop reading. A comment `# expect PATTERN` on the line right after a command
//! turns it into an expectation (`9000`, `61XX`, `9000|6282`).
//!
//! Everything is parsed and checked (hex, APDU lengths, patterns) before anything is sent;
//! errors point at `line:column`. This file does not send anything.

use crate::apdu::{Command, SwExpectation, hex};
use crate::reader::trace::{Redactor, mask_command};

/// One thing to do, with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Send this command.
    Send {
        /// The command (already validated).
        command: Command,
        /// The command encoded, as it is sent.
        bytes: Vec<u8>,
        /// The command as uppercase spaced hex, for echoing with `--show-secrets`.
        text: String,
        /// The same with PIN and key data masked, for echoing.
        echo: String,
        /// The `# expect` that follows it, if any.
        expect: Option<SwExpectation>,
        /// 1-based line of the command's first line.
        line: usize,
    },
    /// Reset the card.
    Reset {
        /// 1-based line.
        line: usize,
    },
}

/// Where and why a scriptor file does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses the text of a scriptor file.
pub fn parse(text: &str) -> Result<Vec<Item>, ParseError> {
    let mut items = Vec::new();
    // A command being continued with `\`: its text so far, and where it started.
    let mut pending: Option<(String, usize)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if pending.is_none() {
            if let Some(expect) = expectation(trimmed, line, raw)? {
                match items.last_mut() {
                    Some(Item::Send {
                        expect: slot @ None,
                        ..
                    }) => *slot = Some(expect),
                    _ => {
                        return Err(ParseError {
                            line,
                            column: 1,
                            message: "`# expect` must follow a command".into(),
                        });
                    }
                }
                continue;
            }
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            // scriptor matches these words anywhere on the line, case-insensitively.
            let lower = trimmed.to_ascii_lowercase();
            if lower.contains("exit") {
                break;
            }
            if lower.contains("reset") {
                items.push(Item::Reset { line });
                continue;
            }
        }
        let (body, continues) = match trimmed.strip_suffix('\\') {
            Some(body) => (body.trim_end(), true),
            None => (trimmed, false),
        };
        let offset = raw.len() - raw.trim_start().len();
        if let Err(e) = hex::parse(body) {
            return Err(ParseError {
                line,
                column: offset + e.column(),
                message: e.reason(),
            });
        }
        let (mut text, start) = pending.take().unwrap_or((String::new(), line));
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(body);
        if continues {
            pending = Some((text, start));
            continue;
        }
        let bytes = hex::parse(&text).map_err(|e| ParseError {
            line: start,
            column: 1,
            message: e.to_string(),
        })?;
        let command = Command::parse(&bytes).map_err(|e| ParseError {
            line: start,
            column: offset + 1,
            message: format!("not a valid APDU: {e}"),
        })?;
        // Encoded and masked once here: a run of the file does only the exchanges.
        items.push(Item::Send {
            bytes: command.to_bytes(),
            text: hex::format(&bytes),
            echo: mask_command(&bytes, &Redactor::default()).spaced,
            command,
            expect: None,
            line: start,
        });
    }
    if let Some((_, start)) = pending {
        return Err(ParseError {
            line: start,
            column: 1,
            message: "command continued with `\\` but the file ends".into(),
        });
    }
    Ok(items)
}

/// Reads `# expect PATTERN`; `None` for any other line.
fn expectation(trimmed: &str, line: usize, raw: &str) -> Result<Option<SwExpectation>, ParseError> {
    let Some(rest) = trimmed.strip_prefix('#') else {
        return Ok(None);
    };
    let Some(pattern) = rest.trim_start().strip_prefix("expect") else {
        return Ok(None);
    };
    let pattern = pattern.trim();
    let column = raw.find(pattern).unwrap_or(0);
    SwExpectation::parse(pattern)
        .map(Some)
        .map_err(|e| ParseError {
            line,
            column: column + e.column,
            message: format!("expected status word: {}", e.message),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|item| match item {
                Item::Send {
                    text,
                    expect: Some(e),
                    line,
                    ..
                } => format!("{line}: {text} expect {e}"),
                Item::Send { text, line, .. } => format!("{line}: {text}"),
                Item::Reset { line } => format!("{line}: reset"),
            })
            .collect()
    }

    #[test]
    fn reads_the_scriptor_syntax() {
        let file = "# select the MF\n00 A4 00 0C 02 3F 00\n# expect 9000\n\n00B0000010\nreset\n00 A4 04 00 07 \\\n  A0 00 00 02 47 10 01\n# expect 9000|61XX\nexit\n00 00 00 00\n";
        let items = parse(file).unwrap();
        assert_eq!(
            texts(&items),
            [
                "2: 00 A4 00 0C 02 3F 00 expect 9000",
                "5: 00 B0 00 00 10",
                "6: reset",
                "7: 00 A4 04 00 07 A0 00 00 02 47 10 01 expect 9000|61XX"
            ]
        );
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let e = parse("00 A4 00 0C 02 3F 00\n00 A4 0G 00\n").unwrap_err();
        assert_eq!(e.to_string(), "2:8: `G` is not a hex digit");
        let e = parse("  00 A4 00 0C 03 3F 00\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 3));
        assert!(
            e.message.contains("Lc says 3 data bytes but 2 follow"),
            "{e}"
        );
        let e = parse("00 A4 00 0C 02 3F 00\n# expect 90G0\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 12));
        let e = parse("# expect 9000\n00 A4 00 00\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("00 A4 00 0C 02 \\\n").unwrap_err();
        assert!(e.message.contains("file ends"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[0-9A-Fa-fxX# \\\\\n:resetxpc]{0,200}") {
            let _ = parse(&text);
        }
    }
}
