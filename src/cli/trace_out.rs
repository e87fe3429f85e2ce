//! Where trace events go: `>>`/`<<` lines on stderr and JSON Lines in a file.
//!
//! The events arrive already masked (`reader::trace`); this file only formats and writes.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::rc::Rc;

use crate::apdu::{Context, StatusWord};
use crate::batch::audit::json_line;
use crate::reader::trace::{Sink, TraceEvent};

/// Formats a response line: `<< 6A 82  0.05 ms  file or application not found`, the
/// meaning in the `context` of the command it answered.
pub fn response_line(bytes: &str, sw: Option<StatusWord>, micros: u64, context: Context) -> String {
    let ms = micros as f64 / 1000.0;
    match sw {
        Some(sw) if !sw.is_ok() => format!("<< {bytes}  {ms:.2} ms  {}", sw.describe_in(context)),
        _ => format!("<< {bytes}  {ms:.2} ms"),
    }
}

fn text_line(event: &TraceEvent) -> String {
    match event {
        TraceEvent::Command { bytes, .. } => format!(">> {}", bytes.spaced),
        TraceEvent::Response {
            bytes,
            sw,
            micros,
            context,
            ..
        } => response_line(&bytes.spaced, *sw, *micros, *context),
        TraceEvent::Reset { atr, .. } => format!("-- reset, ATR {}", atr.spaced),
    }
}

/// Builds the sink for `--trace` and/or `--trace-file`; `None` when neither is on.
pub fn sink(to_stderr: bool, file: Option<&Path>) -> std::io::Result<Option<Sink>> {
    let writer = match file {
        Some(path) => Some(Rc::new(RefCell::new(BufWriter::new(File::create(path)?)))),
        None => None,
    };
    if !to_stderr && writer.is_none() {
        return Ok(None);
    }
    Ok(Some(Box::new(move |event: &TraceEvent| {
        if to_stderr {
            // Output lines held for stdout go first, so `>log 2>&1` reads in order; a
            // stderr that cannot be written stops the run rather than panicking.
            super::errln!("{}", text_line(event));
        }
        if let Some(writer) = &writer {
            let mut w = writer.borrow_mut();
            // A trace that cannot be written must not stop the card; the run reports it
            // nowhere else, so the line is simply lost. Flush per line so a crash keeps it.
            let _ = writeln!(w, "{}", json_line(event));
            let _ = w.flush();
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_lines_show_meaning_unless_ok() {
        assert_eq!(
            response_line("90 00", Some(StatusWord(0x9000)), 120, Context::Iso7816),
            "<< 90 00  0.12 ms"
        );
        assert_eq!(
            response_line("6A 82", Some(StatusWord(0x6A82)), 50, Context::Iso7816),
            "<< 6A 82  0.05 ms  file or application not found"
        );
        assert_eq!(
            response_line("63 00", Some(StatusWord(0x6300)), 50, Context::Pcsc),
            "<< 63 00  0.05 ms  operation failed (PC/SC Part 3: e.g. authentication failed, or the card did not answer)"
        );
    }
}
