//! `--record FILE.dump`: the trace's events written in the apdu4j dump format
//! (readers-and-keys.md §8), so a session can be replayed (`--sim replay:FILE.dump`) or read
//! by apdu4j/GlobalPlatformPro tools.
//!
//! The file holds `# ATR: …` and `# PROTOCOL: T=0|T=1`, then one hex line per command
//! followed by one per response (status word included), each preceded by the comments
//! apdu4j writers put there (`# Sent`, `# Received in NNms`). The events come already masked
//! by the trace ([`super::trace::Traced`]), so a dump masks exactly what a trace masks. The
//! hex format has no way to mark bytes unknown, so a masked run is written as zero bytes of
//! its length and the line is preceded by `# Masked: START..END` (byte offsets, end
//! excluded); the replay card reads that comment and lets those bytes match anything.
//!
//! A command is written together with its response, never alone: a dump whose last
//! command got no answer (the card was pulled) still has an even number of hex lines.
//! Writing is bounded ([`MAX_BYTES`]); a write that fails (full disk, closed file) or
//! would pass the bound is remembered, and [`Gate`] refuses the next command with that
//! error, so the run ends cleanly instead of issuing a card whose record is lost.
//! This module does not parse dumps (`sim::replay` does) nor choose file names.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::trace::{MASK, Masked, Sink, TraceEvent};
use super::{Card, Error};
use crate::apdu::hex;

/// The largest dump written: a session bigger than this is stopped rather than filling
/// the disk (a long personalisation is well under a megabyte).
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// The dump being written, shared by the trace sink and the [`Gate`].
#[derive(Clone)]
pub struct Recorder {
    state: Rc<RefCell<State>>,
}

struct State {
    path: PathBuf,
    out: BufWriter<File>,
    written: u64,
    /// The masked command waiting for its response.
    pending: Option<Masked>,
    /// Why recording stopped, once it did.
    failed: Option<String>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

/// The protocol a dump names for a card with `atr`: T=1 if any interface byte TDi offers
/// it (ISO 7816-3 §8.2.3), else T=0 (the default when the ATR offers none).
pub fn protocol_of(atr: &[u8]) -> &'static str {
    let mut i = 1;
    let Some(&t0) = atr.get(i) else {
        return "T=0";
    };
    let mut y = t0 >> 4;
    loop {
        // TAi, TBi, TCi present per the high nibble; TDi last.
        i += (y & 0x7).count_ones() as usize;
        if y & 0x8 == 0 {
            return "T=0";
        }
        i += 1;
        let Some(&td) = atr.get(i) else {
            return "T=0";
        };
        if td & 0x0F == 1 {
            return "T=1";
        }
        y = td >> 4;
    }
}

/// The hex line of a dump for `bytes` (masked runs as zeros of their length), and the
/// `# Masked:` comment that must precede it when something was masked.
pub fn dump_line(bytes: &Masked) -> (Option<String>, String) {
    let mut line = String::with_capacity(bytes.compact.len());
    let mut rest = bytes.compact.as_str();
    let mut runs = bytes.runs.iter();
    while let Some(at) = rest.find(MASK) {
        line.push_str(&rest[..at]);
        let len = runs.next().map_or(0, |r| r.len());
        line.push_str(&"00".repeat(len));
        rest = &rest[at + MASK.len()..];
    }
    line.push_str(rest);
    let comment = (!bytes.runs.is_empty()).then(|| {
        let list: Vec<String> = bytes
            .runs
            .iter()
            .map(|r| format!("{}..{}", r.start, r.end))
            .collect();
        format!("# Masked: {}", list.join(" "))
    });
    (comment, line)
}

impl Recorder {
    /// Creates the dump at `path` (replacing a regular file; the caller has refused FIFOs
    /// and directories). With `owner_only` (secrets shown) the file is created with mode
    /// 0600 where the system has modes, and an existing file is narrowed to it.
    pub fn create(path: &Path, owner_only: bool) -> io::Result<Recorder> {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if owner_only {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        #[cfg(unix)]
        if owner_only {
            // `mode` applies only to a file created now; an existing one keeps its mode.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(Recorder {
            state: Rc::new(RefCell::new(State {
                path: path.to_owned(),
                out: BufWriter::new(file),
                written: 0,
                pending: None,
                failed: None,
            })),
        })
    }

    /// Writes the header: where it came from, the reader, the ATR and the protocol.
    pub fn header(&self, reader: &str, atr: &[u8]) {
        self.state.borrow_mut().write(&header_text(reader, atr));
    }

    /// The sink to give the trace ([`super::trace::Traced`]).
    pub fn sink(&self) -> Sink {
        let state = self.state.clone();
        Box::new(move |event: &TraceEvent| state.borrow_mut().event(event))
    }

    /// Wraps `card` so that a command is refused once recording has failed.
    pub fn gate(&self, card: Box<dyn Card>) -> Box<dyn Card> {
        Box::new(Gate {
            inner: card,
            state: self.state.clone(),
        })
    }

    /// Flushes and syncs the file; the error says why the dump is incomplete, if it is.
    pub fn finish(&self) -> Result<(), String> {
        let mut state = self.state.borrow_mut();
        if state.failed.is_none() {
            let result = state
                .out
                .flush()
                .and_then(|()| state.out.get_ref().sync_all());
            if let Err(e) = result {
                state.failed = Some(format!("cannot write `{}`: {e}", state.path.display()));
            }
        }
        state.failed.clone().map_or(Ok(()), Err)
    }
}

/// A dump's header: where it came from, the reader, the ATR and the protocol (lines
/// ending in a newline).
pub fn header_text(reader: &str, atr: &[u8]) -> String {
    let reader = comment_safe(reader);
    format!(
        "# Generated by apdu-run {}\n# Using {reader}\n# ATR: {}\n# PROTOCOL: {}\n#\n",
        env!("CARGO_PKG_VERSION"),
        hex::format_compact(atr),
        protocol_of(atr),
    )
}

/// The dump text of one trace event (lines ending in a newline), given the command still
/// waiting for its response: an exchange once its response arrives, a comment for a
/// reset, nothing for a command on its own.
pub fn event_text(pending: &mut Option<Masked>, event: &TraceEvent) -> Option<String> {
    match event {
        TraceEvent::Command { bytes, .. } => {
            *pending = Some(bytes.clone());
            None
        }
        TraceEvent::Response { bytes, micros, .. } => {
            let command = pending.take()?;
            let mut text = String::from("# Sent\n");
            push_line(&mut text, &command);
            text.push_str(&format!("# Received in {}ms\n", micros / 1000));
            push_line(&mut text, bytes);
            Some(text)
        }
        TraceEvent::Reset { atr, .. } => {
            *pending = None;
            // apdu4j dumps hold one session; a reset is kept as a comment.
            Some(format!("# Reset, ATR: {}\n", atr.compact))
        }
    }
}

impl State {
    fn event(&mut self, event: &TraceEvent) {
        if let Some(text) = event_text(&mut self.pending, event) {
            self.write(&text);
        }
    }

    fn write(&mut self, text: &str) {
        if self.failed.is_some() {
            return;
        }
        let len = text.len() as u64;
        if self.written + len > MAX_BYTES {
            self.failed = Some(format!(
                "`{}` would pass {} MiB; recording stopped",
                self.path.display(),
                MAX_BYTES / (1024 * 1024)
            ));
            return;
        }
        // Flushed per exchange so a crash keeps what was sent.
        let result = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush());
        match result {
            Ok(()) => self.written += len,
            Err(e) => {
                self.failed = Some(format!("cannot write `{}`: {e}", self.path.display()));
            }
        }
    }
}

/// `text` fit for a `#` comment: control characters (a newline would start a line that is
/// not a comment) become `_`.
pub fn comment_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect()
}

fn push_line(text: &mut String, bytes: &Masked) {
    let (comment, line) = dump_line(bytes);
    if let Some(comment) = comment {
        text.push_str(&comment);
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
}

/// A card that refuses every command once the dump could not be written: a record that
/// is lost must stop the run, not let it go on unrecorded.
struct Gate {
    inner: Box<dyn Card>,
    state: Rc<RefCell<State>>,
}

impl Gate {
    fn check(&self) -> Result<(), Error> {
        match &self.state.borrow().failed {
            Some(reason) => Err(Error::Transport {
                reader: self.inner.reader_name().to_owned(),
                message: format!("--record: {reason}; nothing more is sent"),
            }),
            None => Ok(()),
        }
    }
}

impl Card for Gate {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }

    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        self.check()?;
        let response = self.inner.transmit(command)?;
        // The exchange happened; if its record failed, say so now rather than at the next.
        self.check()?;
        Ok(response)
    }

    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        self.check()?;
        self.inner.reset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_follows_the_atr() {
        // Contactless PC/SC ATR: TD1 = 80 (T=0), TD2 = 01 (T=1).
        assert_eq!(protocol_of(&[0x3B, 0x8F, 0x80, 0x01, 0x80]), "T=1");
        // No interface bytes: T=0.
        assert_eq!(protocol_of(&[0x3B, 0x02, 0x14, 0x50]), "T=0");
        assert_eq!(protocol_of(&[]), "T=0");
        assert_eq!(protocol_of(&[0x3B, 0xFF]), "T=0");
    }

    #[test]
    fn masked_runs_become_zeros_with_a_comment() {
        let masked = Masked {
            spaced: String::new(),
            compact: format!("0020000104{MASK}"),
            runs: std::iter::once(5..9).collect(),
        };
        let (comment, line) = dump_line(&masked);
        assert_eq!(comment.as_deref(), Some("# Masked: 5..9"));
        assert_eq!(line, "002000010400000000");
        let plain = Masked::plain(&[0x90, 0x00]);
        assert_eq!(dump_line(&plain), (None, "9000".to_owned()));
    }
}

#[cfg(test)]
mod failing {
    use super::*;
    use crate::reader::trace::{Redactor, Traced};
    use crate::test_support::Fixed;

    #[test]
    fn a_dump_that_cannot_be_written_stops_the_next_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.dump");
        std::fs::write(&path, "").unwrap();
        // A file opened for reading only: every write fails, as on a full disk.
        let recorder = Recorder {
            state: Rc::new(RefCell::new(State {
                path: path.clone(),
                out: BufWriter::new(File::open(&path).unwrap()),
                written: 0,
                pending: None,
                failed: None,
            })),
        };
        let card = Box::new(Fixed::new(Some(vec![0x90, 0x00])));
        let traced = Box::new(Traced::new(
            card,
            recorder.sink(),
            Redactor::default(),
            false,
        ));
        let mut card = recorder.gate(traced);
        // The exchange happened, its record did not: the gate says so at once.
        let e = card.transmit(&[0, 0xB0, 0, 0, 0]).unwrap_err().to_string();
        assert!(e.contains("--record: cannot write"), "{e}");
        assert!(card.transmit(&[0, 0xB0, 0, 0, 0]).is_err());
        assert!(recorder.finish().unwrap_err().contains("cannot write"));
    }
}
