//! What happened to each card presented: the per-card result, and `--report` as JSON Lines.
//!
//! A [`CardReport`] is made for every card a reader presented, personalised or not, and
//! goes to the progress display and (with `--report PATH`) one line of the report file.
//! Field names follow the journal's contract (`uid`, `row`, `seq`, `reader`, `verdict`),
//! plus `steps` (name, status word, micros per step) and `micros` for the whole card. The
//! report is for people and MES systems; it is flushed per line but not fsync'd — the
//! journal is the record that must survive a crash.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::record::Verdict;

/// One step of a card's run, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// The step's name.
    pub name: String,
    /// Its status word (APDU steps), uppercase hex.
    pub sw: Option<String>,
    /// Time it took.
    pub micros: u64,
}

/// What happened to one card.
#[derive(Debug, Clone, Serialize)]
pub struct CardReport {
    /// When the card was done with.
    pub time: String,
    /// The reader it was in.
    pub reader: String,
    /// Its UID, uppercase hex.
    pub uid: Option<String>,
    /// What the batch told it apart by, when it got that far.
    pub identity: Option<String>,
    /// Its ATR, uppercase hex.
    pub atr: String,
    /// Its sequence number in the batch, if it got one.
    pub seq: Option<u64>,
    /// Its data row, if it got one.
    pub row: Option<u64>,
    /// What became of it.
    pub verdict: Verdict,
    /// Whether an interrupted run of this card was resumed.
    pub resumed: bool,
    /// The step that failed or was interrupted.
    pub step: Option<String>,
    /// That step's status word.
    pub sw: Option<String>,
    /// Why it failed, was interrupted or was skipped.
    pub message: Option<String>,
    /// Every step that ran.
    pub steps: Vec<StepReport>,
    /// Time all steps took.
    pub micros: u64,
    /// Its trace file in the `--trace-file` directory, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// The `--report` file.
#[derive(Debug)]
pub struct Report {
    out: BufWriter<File>,
}

impl Report {
    /// Opens `path` for appending (a restarted batch adds to its report).
    pub fn open(path: &Path) -> std::io::Result<Report> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Report {
            out: BufWriter::new(file),
        })
    }

    /// Writes one card's line.
    pub fn write(&mut self, card: &CardReport) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, card)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
