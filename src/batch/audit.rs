//! The batch's audit trail (`batch --trace-file DIR`): one masked JSON Lines trace per card,
//! so that "what exactly was sent to card 04 A1 … at 10:42" has an answer.
//!
//! A card's trace starts with its first command (identification included) and is held in
//! memory until the card has a sequence number; then it goes to `DIR/SEQ-IDENTITY.jsonl`
//! (six-digit sequence, the identity with anything but letters, digits, `-` and `_` made
//! `_`), opened for appending so that a resumed card adds to the file of its first attempt.
//! Each attempt begins with a `card` line (time, seq, identity, reader, row number); the
//! exchange lines are those of `run --trace-file` ([`json_line`]). Bytes arrive masked by
//! `reader::trace` (secrets by provenance), so a trace holds what a `--trace-file` of a
//! single run would, never more. The file is flushed and `fsync`ed before the card's `end`
//! record names it (field `trace`), so a record never points at a trace that a crash could
//! lose. A trace that cannot be written does not stop the card: its `end` names no trace
//! and the batch warns. A card skipped before it got a sequence number leaves no file.
//! `batch --record DIR` uses the same mechanism for a card's apdu4j dump
//! ([`CardTrace::dump`], `DIR/SEQ-IDENTITY.dump`, `reader::record`'s format): the header
//! (reader, ATR, protocol) and a `# Card …` comment start each attempt, so a resumed card's
//! dump holds its attempts one after the other, and a broken dump warns as a broken trace.
//! This file does not decide anything about the card.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::reader::record;
use crate::reader::trace::{Sink, TraceEvent};

use super::time::rfc3339;

/// Lines kept in memory before the card has a sequence number (identification is a few
/// commands; a longer run before `begin` is not a batch's).
const HELD: usize = 256;

/// One exchange as a JSON object: `time`, `dir` (`>>`, `<<`, `reset`), `hex`, and for
/// responses `sw`, `meaning`, `context`, `micros` — the format of `--trace-file`.
pub fn json_line(event: &TraceEvent) -> serde_json::Value {
    match event {
        TraceEvent::Command { time, bytes } => serde_json::json!({
            "time": rfc3339(*time), "dir": ">>", "hex": bytes.compact,
        }),
        TraceEvent::Response {
            time,
            bytes,
            sw,
            micros,
            context,
        } => serde_json::json!({
            "time": rfc3339(*time), "dir": "<<", "hex": bytes.compact,
            "sw": sw.map(|sw| sw.to_string()),
            // In the context of the command it answered (`apdu::Context`).
            "meaning": sw.map(|sw| sw.describe_in(*context).into_owned()),
            "context": context.name(),
            "micros": micros,
        }),
        TraceEvent::Reset { time, atr } => serde_json::json!({
            "time": rfc3339(*time), "dir": "reset", "hex": atr.compact,
        }),
    }
}

/// Where a card's trace lines go for now.
enum Lines {
    /// Before the card has a name.
    Held(Vec<String>),
    /// Into its file.
    File(BufWriter<File>),
    /// Writing failed: the reason, and nothing more is written.
    Broken(String),
}

/// What a card's file holds.
enum Format {
    /// JSON Lines ([`json_line`]).
    Json,
    /// An apdu4j dump of the card in `reader` with `atr`.
    Dump { reader: String, atr: Vec<u8> },
}

/// One card's trace.
pub struct CardTrace {
    dir: PathBuf,
    lines: Rc<RefCell<Lines>>,
    name: Option<String>,
    format: Format,
}

/// The file name of a card's trace.
pub fn file_name(seq: u64, identity: &str) -> String {
    format!("{}.jsonl", stem(seq, identity))
}

/// The file name of a card's dump (`batch --record DIR`).
pub fn dump_file_name(seq: u64, identity: &str) -> String {
    format!("{}.dump", stem(seq, identity))
}

fn stem(seq: u64, identity: &str) -> String {
    let safe: String = identity
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{seq:06}-{safe}")
}

impl CardTrace {
    /// A trace for the next card, into `dir`.
    pub fn new(dir: &Path) -> CardTrace {
        CardTrace {
            dir: dir.to_path_buf(),
            lines: Rc::new(RefCell::new(Lines::Held(Vec::new()))),
            name: None,
            format: Format::Json,
        }
    }

    /// A dump for the next card, in `reader` with `atr`, into `dir`.
    pub fn dump(dir: &Path, reader: &str, atr: &[u8]) -> CardTrace {
        CardTrace {
            format: Format::Dump {
                reader: reader.to_owned(),
                atr: atr.to_vec(),
            },
            ..CardTrace::new(dir)
        }
    }

    /// The sink to give `reader::trace::Traced`.
    pub fn sink(&self) -> Sink {
        let lines = Rc::clone(&self.lines);
        match self.format {
            Format::Json => Box::new(move |event: &TraceEvent| {
                push(&mut lines.borrow_mut(), json_line(event).to_string());
            }),
            Format::Dump { .. } => {
                let mut pending = None;
                Box::new(move |event: &TraceEvent| {
                    if let Some(text) = record::event_text(&mut pending, event) {
                        // `push` ends each entry with a newline of its own.
                        push(&mut lines.borrow_mut(), text.trim_end().to_owned());
                    }
                })
            }
        }
    }

    /// Names the card: its held lines and all later ones go to its file, after a `card`
    /// line saying which attempt this is.
    pub fn attach(&mut self, seq: u64, identity: &str, reader: &str, row: Option<u64>) {
        let name = match self.format {
            Format::Json => file_name(seq, identity),
            Format::Dump { .. } => dump_file_name(seq, identity),
        };
        let path = self.dir.join(&name);
        let mut lines = self.lines.borrow_mut();
        let held = match std::mem::replace(&mut *lines, Lines::Held(Vec::new())) {
            Lines::Held(held) => held,
            other => {
                *lines = other;
                return;
            }
        };
        let opened = OpenOptions::new().create(true).append(true).open(&path);
        *lines = match opened {
            Ok(file) => Lines::File(BufWriter::new(file)),
            Err(e) => Lines::Broken(format!("cannot open `{}`: {e}", path.display())),
        };
        let header = match &self.format {
            Format::Json => serde_json::json!({
                "time": super::time::now(), "dir": "card", "seq": seq, "identity": identity,
                "reader": reader, "row": row,
            })
            .to_string(),
            Format::Dump { reader, atr } => {
                let row = row.map(|r| format!(", data row {r}")).unwrap_or_default();
                format!(
                    "{}# Card {seq}, identity {}{row}, at {}",
                    record::header_text(reader, atr),
                    record::comment_safe(identity),
                    super::time::now()
                )
            }
        };
        push(&mut lines, header);
        for line in held {
            push(&mut lines, line);
        }
        self.name = Some(name);
    }

    /// Makes the file durable; the name for the `end` record, or why there is none.
    pub fn finish(self) -> Result<Option<String>, String> {
        let Some(name) = self.name else {
            return Ok(None);
        };
        let mut lines = self.lines.borrow_mut();
        let done = match &mut *lines {
            Lines::File(writer) => writer
                .flush()
                .and_then(|()| writer.get_ref().sync_data())
                .map_err(|e| format!("cannot write `{}`: {e}", self.dir.join(&name).display())),
            Lines::Broken(why) => Err(why.clone()),
            Lines::Held(_) => Ok(()),
        };
        done.map(|()| Some(name))
    }
}

fn push(lines: &mut Lines, line: String) {
    match lines {
        Lines::Held(held) => {
            if held.len() < HELD {
                held.push(line);
            }
        }
        Lines::File(writer) => {
            if let Err(e) = writeln!(writer, "{line}") {
                *lines = Lines::Broken(format!("cannot write the trace: {e}"));
            }
        }
        Lines::Broken(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::trace::Masked;
    use std::time::SystemTime;

    fn command(hex: &str) -> TraceEvent {
        TraceEvent::Command {
            time: SystemTime::now(),
            bytes: Masked::plain(&crate::apdu::hex::parse(hex).unwrap()),
        }
    }

    #[test]
    fn names_are_safe_file_names() {
        assert_eq!(file_name(7, "04A1B2"), "000007-04A1B2.jsonl");
        assert_eq!(file_name(1234567, "../x y"), "1234567-___x_y.jsonl");
        assert_eq!(file_name(1, &"A".repeat(300)).len(), 7 + 64 + 6);
    }

    #[test]
    fn held_lines_go_to_the_file_after_the_card_line_and_attempts_append() {
        let dir = tempfile::tempdir().unwrap();
        for attempt in 0..2 {
            let mut trace = CardTrace::new(dir.path());
            let mut sink = trace.sink();
            sink(&command("FFCA000000"));
            trace.attach(3, "04AA", "R", Some(9));
            sink(&command("00B0000004"));
            assert_eq!(
                trace.finish().unwrap().as_deref(),
                Some("000003-04AA.jsonl")
            );
            let text = std::fs::read_to_string(dir.path().join("000003-04AA.jsonl")).unwrap();
            let lines: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(lines.len(), 3 * (attempt + 1));
            assert_eq!(lines[0]["dir"], "card");
            assert_eq!(lines[0]["row"], 9);
            assert_eq!(lines[1]["hex"], "FFCA000000");
            assert_eq!(lines[2]["hex"], "00B0000004");
        }
    }

    #[test]
    fn an_unnamed_card_leaves_nothing_and_a_broken_trace_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let trace = CardTrace::new(dir.path());
        trace.sink()(&command("FFCA000000"));
        assert_eq!(trace.finish(), Ok(None));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut trace = CardTrace::new(&dir.path().join("missing"));
        trace.attach(1, "X", "R", None);
        assert!(trace.finish().unwrap_err().contains("cannot open"));
    }
}
