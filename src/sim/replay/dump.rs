//! The apdu4j dump format read back (readers-and-keys.md §8): `# ATR:`, `# PROTOCOL:`,
//! then hex lines alternating command and response; other `#` lines are comments.
//!
//! One addition of ours is understood: `# Masked: START..END …` before a hex line names
//! the byte ranges `--record` masked (written as zeros). In a command they match any bytes
//! (a recorded PIN cannot be compared with the one sent); in a response they are played as
//! recorded, zeros. The parser never panics: every input gives a dump or an error naming
//! the line and column. This file does not play dumps (`mod.rs` does).

use std::ops::Range;

use crate::apdu::hex;

/// One recorded exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The command as recorded (masked bytes as zeros).
    pub command: Vec<u8>,
    /// The command's masked ranges: they match any bytes.
    pub masked: Vec<Range<usize>>,
    /// The response, status word included.
    pub response: Vec<u8>,
    /// The 1-based line of the command in the dump.
    pub line: usize,
}

/// A parsed dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    /// The card's ATR.
    pub atr: Vec<u8>,
    /// The protocol named, `T=0` or `T=1`.
    pub protocol: String,
    /// The exchanges in order.
    pub exchanges: Vec<Exchange>,
}

/// A dump that cannot be read: the 1-based line and column, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {reason}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub reason: String,
}

fn error(line: usize, column: usize, reason: impl Into<String>) -> ParseError {
    ParseError {
        line,
        column,
        reason: reason.into(),
    }
}

/// Parses a `START..END START..END` list (after `# Masked:`).
fn parse_ranges(text: &str, line: usize, column: usize) -> Result<Vec<Range<usize>>, ParseError> {
    text.split_whitespace()
        .map(|item| {
            let bad = || {
                error(
                    line,
                    column,
                    format!("`{item}` is not a byte range START..END"),
                )
            };
            let (start, end) = item.split_once("..").ok_or_else(bad)?;
            let (start, end) = (
                start.parse().map_err(|_| bad())?,
                end.parse().map_err(|_| bad())?,
            );
            if start >= end {
                return Err(bad());
            }
            Ok(start..end)
        })
        .collect()
}

/// Parses the text of a dump.
pub fn parse(text: &str) -> Result<Dump, ParseError> {
    let mut atr = None;
    let mut protocol = None;
    let mut masked: Vec<Range<usize>> = Vec::new();
    // The command waiting for its response: bytes, masked ranges, line.
    let mut pending: Option<(Vec<u8>, Vec<Range<usize>>, usize)> = None;
    let mut exchanges = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let indent = raw.len() - raw.trim_start().len();
        let content = raw.trim();
        if content.is_empty() {
            continue;
        }
        if let Some(comment) = content.strip_prefix('#') {
            let comment_column = indent + 2;
            let comment = comment.trim_start();
            if let Some(value) = comment.strip_prefix("ATR:") {
                let bytes = hex::parse(value.trim())
                    .map_err(|e| error(line, comment_column, format!("ATR: {}", e.reason())))?;
                if bytes.is_empty() {
                    return Err(error(line, comment_column, "ATR: empty"));
                }
                atr = Some(bytes);
            } else if let Some(value) = comment.strip_prefix("PROTOCOL:") {
                let value = value.trim();
                if value != "T=0" && value != "T=1" {
                    return Err(error(
                        line,
                        comment_column,
                        format!("PROTOCOL: `{value}` is neither T=0 nor T=1"),
                    ));
                }
                protocol = Some(value.to_owned());
            } else if let Some(value) = comment.strip_prefix("Masked:") {
                masked = parse_ranges(value, line, comment_column)?;
            }
            continue;
        }
        let bytes =
            hex::parse(content).map_err(|e| error(line, indent + e.column(), e.reason()))?;
        if let Some(outside) = masked.iter().find(|r| r.end > bytes.len()) {
            return Err(error(
                line,
                indent + 1,
                format!(
                    "masked range {}..{} is outside the line's {} bytes",
                    outside.start,
                    outside.end,
                    bytes.len()
                ),
            ));
        }
        let ranges = std::mem::take(&mut masked);
        match pending.take() {
            None => {
                if bytes.len() < 4 {
                    return Err(error(line, indent + 1, "a command has at least 4 bytes"));
                }
                pending = Some((bytes, ranges, line));
            }
            Some((command, masked_command, command_line)) => {
                if bytes.len() < 2 {
                    return Err(error(
                        line,
                        indent + 1,
                        "a response has at least the 2 status bytes",
                    ));
                }
                exchanges.push(Exchange {
                    command,
                    masked: masked_command,
                    response: bytes,
                    line: command_line,
                });
            }
        }
    }
    if let Some((_, _, line)) = pending {
        return Err(error(
            line,
            1,
            "command without a response (odd number of hex lines)",
        ));
    }
    let end = text.lines().count().max(1);
    let atr = atr.ok_or_else(|| error(end, 1, "no `# ATR:` line"))?;
    let protocol = protocol.ok_or_else(|| error(end, 1, "no `# PROTOCOL:` line"))?;
    Ok(Dump {
        atr,
        protocol,
        exchanges,
    })
}

impl Exchange {
    /// Whether `command` is this exchange's command: same length, same bytes outside the
    /// masked ranges.
    pub fn matches(&self, command: &[u8]) -> bool {
        command.len() == self.command.len()
            && command
                .iter()
                .zip(&self.command)
                .enumerate()
                .all(|(i, (a, b))| a == b || self.masked.iter().any(|r| r.contains(&i)))
    }

    /// The recorded command as spaced hex, masked runs as `(secret)`.
    pub fn command_text(&self) -> String {
        let mut parts = Vec::new();
        let mut i = 0;
        while i < self.command.len() {
            match self.masked.iter().find(|r| r.contains(&i)) {
                Some(r) => {
                    parts.push(crate::reader::trace::MASK.to_owned());
                    i = r.end;
                }
                None => {
                    parts.push(hex::format(&self.command[i..=i]));
                    i += 1;
                }
            }
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A dump as apdu4j writes it (readers-and-keys.md §8), by hand.
    const PUBLISHED: &str = "# Generated on Thu Dec 03 07:00:00 UTC 2026 by apdu4j\n\
        # Using APDUReplay terminal 0\n\
        # ATR: 3BF81300008131FE15597562696B657934D4\n\
        # PROTOCOL: T=1\n\
        #\n\
        # Sent\n\
        00A4040000\n\
        # Received in 12ms\n\
        6F108408A000000151000000A5049F6501FF9000\n\
        # Sent\n\
        80CA9F7F00\n\
        # Received in 3ms\n\
        6A88\n";

    #[test]
    fn a_published_dump_is_read() {
        let dump = parse(PUBLISHED).unwrap();
        assert_eq!(dump.atr[..2], [0x3B, 0xF8]);
        assert_eq!(dump.protocol, "T=1");
        assert_eq!(dump.exchanges.len(), 2);
        assert_eq!(dump.exchanges[0].command, [0x00, 0xA4, 0x04, 0x00, 0x00]);
        assert_eq!(dump.exchanges[1].response, [0x6A, 0x88]);
        assert_eq!(dump.exchanges[1].line, 11);
    }

    #[test]
    fn errors_name_the_line() {
        let odd = PUBLISHED.replace("6A88\n", "");
        assert_eq!(parse(&odd).unwrap_err().line, 11);
        let bad = PUBLISHED.replace("80CA9F7F00", "80CA9G7F00");
        let e = parse(&bad).unwrap_err();
        assert_eq!((e.line, e.column), (11, 6), "{e}");
        let no_atr = PUBLISHED.replace("# ATR:", "# atr");
        assert!(parse(&no_atr).unwrap_err().reason.contains("ATR"));
        let outside = PUBLISHED.replace("# Sent\n80", "# Masked: 4..9\n80");
        assert!(parse(&outside).unwrap_err().reason.contains("outside"));
    }

    #[test]
    fn masked_bytes_match_anything_of_the_same_length() {
        let text = PUBLISHED.replace("# Sent\n80CA9F7F00", "# Masked: 2..4\n80CA00007F00");
        let dump = parse(&text).unwrap();
        let exchange = &dump.exchanges[1];
        assert!(exchange.matches(&[0x80, 0xCA, 0x12, 0x34, 0x7F, 0x00]));
        assert!(!exchange.matches(&[0x80, 0xCA, 0x12, 0x34, 0x7F]));
        assert!(!exchange.matches(&[0x80, 0xCB, 0x12, 0x34, 0x7F, 0x00]));
        assert_eq!(exchange.command_text(), "80 CA (secret) 7F 00");
    }

    proptest! {
        #[test]
        fn any_text_gives_a_dump_or_an_error(text in "\\PC*") {
            let _ = parse(&text);
        }

        #[test]
        fn dump_like_text_gives_a_dump_or_an_error(
            lines in proptest::collection::vec(
                prop_oneof![
                    Just("# ATR: 3B00".to_owned()),
                    Just("# PROTOCOL: T=1".to_owned()),
                    "# Masked: [0-9]{1,3}\\.\\.[0-9]{1,3}( [0-9]\\.\\.[0-9])?",
                    "[0-9A-F ]{0,20}",
                    "#.{0,10}",
                ],
                0..12,
            )
        ) {
            let _ = parse(&lines.join("\n"));
        }
    }
}
