//! Reading journals and reports back, line by line, into [`Entry`]s.
//!
//! Both files are JSON Lines whose field names are a contract (`batch::record`,
//! `batch::report`). A line is read as a JSON object and only the fields the lot view uses
//! are taken, so fields a later version adds do not break it; an `event` this build does
//! not know is [`Entry::Unknown`] (counted, shown). A line that is not a JSON object, or a
//! known record without a field it must have, is an error naming the file and line. Files
//! are streamed (a journal of a million cards is not held in memory) and each line is
//! capped, so a file without newlines cannot fill memory. This file does not aggregate.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::input::{self, Kind};

/// The longest line read; records are a few hundred bytes, report lines a few KiB.
pub const MAX_LINE: usize = 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("`{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A line is not what the file should hold.
    #[error("`{path}`:{line}: {message}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
}

/// A journal header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The profile's name.
    pub profile: String,
    /// The profile file.
    pub file: String,
    /// The data file, if any.
    pub data: Option<String>,
    /// When the journal was started (text as written).
    pub time: String,
}

/// A card begun or ended, from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardEvent {
    /// When, microseconds since 1970.
    pub time: i64,
    /// The card's sequence number.
    pub seq: u64,
    /// What the batch told the card apart by.
    pub identity: String,
    /// The reader.
    pub reader: String,
    /// The station, when the record names one.
    pub station: Option<String>,
    /// `ok`, `failed`, `interrupted` (ends only).
    pub verdict: Option<String>,
    /// The failing step (ends only).
    pub step: Option<String>,
    /// Its status word (ends only).
    pub sw: Option<String>,
    /// Time the steps took (ends only).
    pub micros: u64,
    /// Its trace file in the batch's `--trace-file` directory (ends only).
    pub trace: Option<String>,
}

/// One step of a reported card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepTime {
    /// The step's name.
    pub name: String,
    /// Time it took.
    pub micros: u64,
}

/// A card as the report saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// `ok`, `failed`, `interrupted` or `skipped`.
    pub verdict: String,
    /// Why it was skipped or failed.
    pub message: Option<String>,
    /// Its steps.
    pub steps: Vec<StepTime>,
}

/// One line of a journal or report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A journal's first line.
    Header(Header),
    /// A card begun.
    Begin(CardEvent),
    /// A card ended.
    End(CardEvent),
    /// A report line.
    Reported(Reported),
    /// A record of a kind this build does not know.
    Unknown,
}

/// What a file is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A batch journal (`--journal`).
    Journal,
    /// A batch report (`--report`).
    Report,
}

/// Reads every line of `path` as `source`, handing each entry to `each` in order.
pub fn read(path: &Path, source: Source, mut each: impl FnMut(Entry)) -> Result<(), ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = BufReader::new(input::open(path, Kind::Log).map_err(io)?);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io)?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let at = |message: String| ReadError::Line {
            path: path.to_path_buf(),
            line,
            message,
        };
        if buf.len() > MAX_LINE {
            return Err(at(format!("a line longer than {MAX_LINE} bytes")));
        }
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: Value =
            serde_json::from_slice(text).map_err(|e| at(format!("not a JSON line: {e}")))?;
        let Value::Object(object) = value else {
            return Err(at("not a JSON object".to_string()));
        };
        let entry = match source {
            Source::Journal => journal_entry(&object),
            Source::Report => report_entry(&object),
        }
        .map_err(at)?;
        each(entry);
    }
}

fn journal_entry(o: &Map<String, Value>) -> Result<Entry, String> {
    match o.get("event").and_then(Value::as_str) {
        Some("header") => Ok(Entry::Header(Header {
            profile: text(o, "profile")?,
            file: text(o, "file")?,
            data: optional_text(o, "data")?,
            time: text(o, "time")?,
        })),
        Some("begin") => Ok(Entry::Begin(card_event(o, false)?)),
        Some("end") => Ok(Entry::End(card_event(o, true)?)),
        Some(_) => Ok(Entry::Unknown),
        None => Err("a journal record without `event`".to_string()),
    }
}

fn card_event(o: &Map<String, Value>, end: bool) -> Result<CardEvent, String> {
    let time = text(o, "time")?;
    Ok(CardEvent {
        time: super::time::parse_micros(&time)
            .ok_or_else(|| format!("`time` is not an RFC 3339 UTC time: {time:?}"))?,
        seq: number(o, "seq")?,
        identity: text(o, "identity")?,
        reader: text(o, "reader")?,
        station: optional_text(o, "station")?,
        verdict: if end { Some(text(o, "verdict")?) } else { None },
        step: optional_text(o, "step")?,
        sw: optional_text(o, "sw")?,
        micros: if end { number(o, "micros")? } else { 0 },
        trace: optional_text(o, "trace")?,
    })
}

fn report_entry(o: &Map<String, Value>) -> Result<Entry, String> {
    let steps = match o.get("steps") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(steps)) => steps
            .iter()
            .map(|step| match step {
                Value::Object(s) => Ok(StepTime {
                    name: text(s, "name")?,
                    micros: number(s, "micros")?,
                }),
                _ => Err("a step that is not an object".to_string()),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`steps` is not an array".to_string()),
    };
    Ok(Entry::Reported(Reported {
        verdict: text(o, "verdict")?,
        message: optional_text(o, "message")?,
        steps,
    }))
}

fn text(o: &Map<String, Value>, field: &str) -> Result<String, String> {
    optional_text(o, field)?.ok_or_else(|| format!("no `{field}`"))
}

fn optional_text(o: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{field}` is not text")),
    }
}

fn number(o: &Map<String, Value>, field: &str) -> Result<u64, String> {
    o.get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("`{field}` is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entries(source: Source, text: &str) -> Result<Vec<Entry>, ReadError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        std::fs::write(&path, text).unwrap();
        let mut out = Vec::new();
        read(&path, source, |e| out.push(e)).map(|()| out)
    }

    #[test]
    fn reads_journal_records_and_skips_unknown_events() {
        let text = concat!(
            r#"{"event":"header","version":1,"profile":"p","file":"p.yaml","hash":"h","data":null,"data_hash":null,"time":"2026-11-22T06:20:00.000000Z"}"#,
            "\n",
            r#"{"event":"begin","time":"2026-11-22T06:20:01.000000Z","seq":1,"row":1,"uid":"04","identity":"04","reader":"R","atr":"3B"}"#,
            "\n\n",
            r#"{"event":"later","x":1}"#,
            "\n",
            r#"{"event":"end","time":"2026-11-22T06:20:02.000000Z","seq":1,"row":1,"uid":"04","identity":"04","reader":"R","verdict":"failed","step":"w","sw":"6982","message":"m","micros":900,"station":"s2"}"#,
        );
        let got = entries(Source::Journal, text).unwrap();
        assert_eq!(got.len(), 4);
        assert!(matches!(&got[0], Entry::Header(h) if h.profile == "p" && h.data.is_none()));
        assert!(matches!(&got[2], Entry::Unknown));
        let Entry::End(end) = &got[3] else { panic!() };
        assert_eq!(end.verdict.as_deref(), Some("failed"));
        assert_eq!(end.station.as_deref(), Some("s2"));
        assert_eq!(end.micros, 900);
    }

    #[test]
    fn names_the_line_that_is_wrong() {
        let e = entries(Source::Journal, "{\"event\":\"begin\"}\n").unwrap_err();
        assert!(e.to_string().ends_with("j.jsonl`:1: no `time`"), "{e}");
        let e = entries(Source::Journal, "\n[1]\n").unwrap_err();
        assert!(e.to_string().ends_with(":2: not a JSON object"), "{e}");
        let e = entries(Source::Report, "{\"verdict\":\"ok\",\"steps\":3}").unwrap_err();
        assert!(
            e.to_string().ends_with(":1: `steps` is not an array"),
            "{e}"
        );
        let long = format!("\"{}\"", "a".repeat(MAX_LINE + 5));
        let e = entries(Source::Report, &long).unwrap_err();
        assert!(e.to_string().contains("a line longer than"), "{e}");
    }

    #[test]
    fn refuses_a_directory_or_device() {
        let e = read(Path::new("/dev/zero"), Source::Journal, |_| {}).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    proptest! {
        #[test]
        fn never_panics(lines in proptest::collection::vec("\\PC{0,80}", 0..6), journal: bool) {
            let source = if journal { Source::Journal } else { Source::Report };
            let _ = entries(source, &lines.join("\n"));
        }
    }
}
