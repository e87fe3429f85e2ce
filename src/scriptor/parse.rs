//! Reading scriptor files (pcsc-tools) exactly as `scriptor` reads them, so that a file one
//! accepts the other accepts, and both send the same commands.
//!
//! Line by line, in scriptor's order: a line containing `exit` anywhere (any case, comments
//! included) ends the file; a blank line is skipped; a line starting with `#` in column 1 is
//! a comment; a line containing `reset` anywhere is a reset; anything else is a command. A
//! command line without any space is read as pairs of digits (`00A4000C` is `00 A4 00 0C`);
//! otherwise the bytes are separated by exactly one space each, so a line may not start with a
//! space or have two in a row (scriptor refuses those, as it does an indented comment). A
//! line ending in `\` continues on the next line, which must start with its first byte. A
//! comment `# expect PATTERN` right after a command turns it into an expectation (`9000`,
//! `61XX`, `9000|6282`); scriptor reads it as a comment.
//!
//! Everything is parsed and checked (hex, APDU lengths, patterns) before anything is sent;
//! errors point at `line:column`. This file does not send anything.

use crate::apdu::{Command, SwExpectation};
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

/// A command being read, possibly over several lines.
struct Pending {
    /// The bytes so far.
    bytes: Vec<u8>,
    /// 1-based line of its first line.
    start: usize,
}

/// Parses the text of a scriptor file.
pub fn parse(text: &str) -> Result<Vec<Item>, ParseError> {
    let mut items = Vec::new();
    let mut pending: Option<Pending> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        // scriptor keeps a CR at the end of a line; Perl's hex() ignores it on the last
        // byte. Dropping it here reads CRLF files the way scriptor ends up sending them.
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let lower = raw.to_ascii_lowercase();
        if lower.contains("exit") {
            break;
        }
        if raw.trim().is_empty() {
            continue;
        }
        if raw.starts_with('#') {
            if pending.is_none() {
                if let Some(expect) = expectation(raw, line)? {
                    attach(&mut items, expect, line)?;
                }
            }
            continue;
        }
        if lower.contains("reset") {
            if let Some(p) = &pending {
                return Err(ParseError {
                    line,
                    column: 1,
                    message: format!(
                        "`reset` inside the command continued on line {} (scriptor would reset \
                         the card before sending it)",
                        p.start
                    ),
                });
            }
            items.push(Item::Reset { line });
            continue;
        }
        let (body, continues) = match raw.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (raw, false),
        };
        let (bytes, start) = match pending.take() {
            Some(mut p) => {
                p.bytes.extend(bytes_of(body, line, continues)?);
                (p.bytes, p.start)
            }
            None => (bytes_of(body, line, continues)?, line),
        };
        if continues {
            pending = Some(Pending { bytes, start });
            continue;
        }
        let command = Command::parse(&bytes).map_err(|e| ParseError {
            line: start,
            column: 1,
            message: format!("not a valid APDU: {e}"),
        })?;
        // Encoded and masked once here: a run of the file does only the exchanges.
        items.push(Item::Send {
            bytes: command.to_bytes(),
            text: crate::apdu::hex::format(&bytes),
            echo: mask_command(&bytes, &Redactor::default()).spaced,
            command,
            expect: None,
            line: start,
        });
    }
    if let Some(p) = pending {
        return Err(ParseError {
            line: p.start,
            column: 1,
            message: "command continued with `\\` but the file ends".into(),
        });
    }
    Ok(items)
}

/// Puts an expectation on the command just read.
fn attach(items: &mut [Item], expect: SwExpectation, line: usize) -> Result<(), ParseError> {
    match items.last_mut() {
        Some(Item::Send {
            expect: slot @ None,
            ..
        }) => {
            *slot = Some(expect);
            Ok(())
        }
        _ => Err(ParseError {
            line,
            column: 1,
            message: "`# expect` must follow a command".into(),
        }),
    }
}

/// The bytes of one line of a command (without its `\`), as scriptor splits it: pairs of
/// digits when the line has no space, else fields separated by single spaces. A continued
/// line (`continues`) may end in spaces, which scriptor folds into one.
fn bytes_of(body: &str, line: usize, continues: bool) -> Result<Vec<u8>, ParseError> {
    let error = |column: usize, message: String| ParseError {
        line,
        column,
        message,
    };
    let digit = |c: u8, column: usize| {
        (c as char).to_digit(16).map(|d| d as u8).ok_or_else(|| {
            error(
                column,
                format!("`{}` is not a hex digit", char::from(c).escape_default()),
            )
        })
    };
    let text = if continues {
        body.trim_end_matches(' ')
    } else {
        body
    };
    let raw = text.as_bytes();
    let mut out = Vec::with_capacity(raw.len() / 2 + 1);
    if !body.contains(' ') {
        if raw.len() % 2 != 0 {
            return Err(error(
                raw.len(),
                "odd number of hex digits (scriptor reads a line without spaces as pairs)".into(),
            ));
        }
        for (i, pair) in raw.chunks(2).enumerate() {
            out.push(digit(pair[0], 2 * i + 1)? << 4 | digit(pair[1], 2 * i + 2)?);
        }
        return Ok(out);
    }
    let mut column = 1;
    for field in text.split(' ') {
        match field.as_bytes() {
            [hi, lo] => out.push(digit(*hi, column)? << 4 | digit(*lo, column + 1)?),
            [] => {
                return Err(error(
                    column,
                    "a space where a byte should be: bytes are separated by one space and a \
                     line starts with its first byte (scriptor refuses indentation)"
                        .into(),
                ));
            }
            _ => {
                return Err(error(
                    column,
                    format!("`{field}` is not a byte: write two hex digits per byte"),
                ));
            }
        }
        column += field.len() + 1;
    }
    Ok(out)
}

/// Reads `# expect PATTERN`; `None` for any other line.
fn expectation(raw: &str, line: usize) -> Result<Option<SwExpectation>, ParseError> {
    let Some(rest) = raw.strip_prefix('#') else {
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
        let file = "# select the MF\n00 A4 00 0C 02 3F 00\n# expect 9000\n\n00B0000010\nreset\n00 A4 04 00 07 \\\nA0 00 00 02 47 10 01\n# expect 9000|61XX\n00A40400\\\n01A0\n exit\n00 00 00 00\n";
        let items = parse(file).unwrap();
        assert_eq!(
            texts(&items),
            [
                "2: 00 A4 00 0C 02 3F 00 expect 9000",
                "5: 00 B0 00 00 10",
                "6: reset",
                "7: 00 A4 04 00 07 A0 00 00 02 47 10 01 expect 9000|61XX",
                "10: 00 A4 04 00 01 A0"
            ]
        );
    }

    #[test]
    fn exit_and_reset_count_anywhere_on_a_line_as_scriptor_reads_them() {
        // `exit` ends the file even inside a comment; `reset` in a comment is a comment.
        let items =
            parse("00 A4 00 0C 02 3F 00\n# reset is not done here\n# now EXIT\n00 B0 00 00 01\n")
                .unwrap();
        assert_eq!(texts(&items), ["1: 00 A4 00 0C 02 3F 00"]);
        let items = parse("please Reset now\n").unwrap();
        assert_eq!(texts(&items), ["1: reset"]);
        // CRLF line ends.
        let items = parse("00 A4 00 0C 02 3F 00\r\n# expect 9000\r\n").unwrap();
        assert_eq!(texts(&items), ["1: 00 A4 00 0C 02 3F 00 expect 9000"]);
    }

    #[test]
    fn what_scriptor_refuses_is_refused() {
        let refused = [
            // An indented continuation: scriptor joins it as `04    CA`, an empty field.
            ("00 D6 00 00 04 \\\n   CA FE BA BE\n", (2, 1)),
            // An indented command or comment.
            ("  00 A4 00 0C 02 3F 00\n", (1, 1)),
            ("  # a comment\n", (1, 1)),
            // Two spaces between bytes, a tab, a single digit, three digits.
            ("00  A4 00 00\n", (1, 4)),
            ("00\tA4 00 00\n", (1, 1)),
            ("00 A 00 00\n", (1, 4)),
            ("00 A40 00 00\n", (1, 4)),
            // An odd number of digits without spaces, a comment after the bytes.
            ("00A400000\n", (1, 9)),
            ("00 A4 00 00 # select\n", (1, 13)),
        ];
        for (text, at) in refused {
            let e = parse(text).unwrap_err();
            assert_eq!((e.line, e.column), at, "{text:?}: {e}");
        }
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let e = parse("00 A4 00 0C 02 3F 00\n00 A4 0G 00\n").unwrap_err();
        assert_eq!(e.to_string(), "2:8: `G` is not a hex digit");
        let e = parse("00 A4 00 0C 03 3F 00\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
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
        let e = parse("00 A4 00 0C 02 \\\nreset\n3F 00\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[0-9A-Fa-fxX# \\\\\n:resetxpc]{0,200}") {
            let _ = parse(&text);
        }
    }
}
