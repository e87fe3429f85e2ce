//! `--record FILE.dump` on the command line: creates the dump once the card is known, adds
//! its sink beside the trace's, and turns a failed record into the run's error.
//!
//! The format and the writing are `reader::record`'s; this file only wires them.

use std::path::Path;

use anyhow::anyhow;

use super::Failure;
use super::exit::{Exit, invalid};
use crate::reader::Card;
use crate::reader::record::Recorder;
use crate::reader::trace::{Sink, TraceEvent};

/// Creates the dump at `path` and writes its header from `card`'s reader and ATR.
pub(super) fn start(path: &Path, show_secrets: bool, card: &dyn Card) -> Result<Recorder, Failure> {
    let recorder = Recorder::create(path, show_secrets).map_err(|e| {
        invalid(anyhow!(
            "--record `{}`: cannot be written: {e}",
            path.display()
        ))
    })?;
    recorder.header(card.reader_name(), card.atr());
    Ok(recorder)
}

/// The trace sink, the recorder's, or both in turn.
pub(super) fn fan_out(sink: Option<Sink>, recorder: Option<&Recorder>) -> Option<Sink> {
    match (sink, recorder.map(Recorder::sink)) {
        (Some(mut first), Some(mut second)) => Some(Box::new(move |event: &TraceEvent| {
            first(event);
            second(event);
        })),
        (sink, None) => sink,
        (None, record) => record,
    }
}

/// Ends the record; an incomplete dump is a transport failure (exit 3) naming the file.
pub(super) fn finish(recorder: Option<&Recorder>) -> Result<(), Failure> {
    match recorder.map(Recorder::finish) {
        Some(Err(reason)) => Err(Failure::new(
            Exit::Transport,
            anyhow!("--record: {reason}; the dump is incomplete"),
        )),
        _ => Ok(()),
    }
}
