//! Where trace events go: `>>`/`<<` lines on stderr and JSON Lines in a file.
//!
//! The events arrive already masked (`reader::trace`); this file only formats and writes.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::apdu::StatusWord;
use crate::reader::trace::{Sink, TraceEvent};

/// Formats a response line: `<< 6A 82  0.05 ms  file or application not found`.
pub fn response_line(bytes: &str, sw: Option<StatusWord>, micros: u64) -> String {
    let ms = micros as f64 / 1000.0;
    match sw {
        Some(sw) if !sw.is_ok() => format!("<< {bytes}  {ms:.2} ms  {}", sw.describe()),
        _ => format!("<< {bytes}  {ms:.2} ms"),
    }
}

fn text_line(event: &TraceEvent) -> String {
    match event {
        TraceEvent::Command { bytes, .. } => format!(">> {}", bytes.spaced),
        TraceEvent::Response {
            bytes, sw, micros, ..
        } => response_line(&bytes.spaced, *sw, *micros),
        TraceEvent::Reset { atr, .. } => format!("-- reset, ATR {}", atr.spaced),
    }
}

/// An RFC 3339 UTC timestamp with microseconds.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_micros()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn json_line(event: &TraceEvent) -> serde_json::Value {
    match event {
        TraceEvent::Command { time, bytes } => serde_json::json!({
            "time": rfc3339(*time), "dir": ">>", "hex": bytes.compact,
        }),
        TraceEvent::Response {
            time,
            bytes,
            sw,
            micros,
        } => serde_json::json!({
            "time": rfc3339(*time), "dir": "<<", "hex": bytes.compact,
            "sw": sw.map(|sw| sw.to_string()),
            "meaning": sw.map(|sw| sw.describe().into_owned()),
            "micros": micros,
        }),
        TraceEvent::Reset { time, atr } => serde_json::json!({
            "time": rfc3339(*time), "dir": "reset", "hex": atr.compact,
        }),
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
            eprintln!("{}", text_line(event));
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
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_micros(1_795_328_401_123_456);
        assert_eq!(rfc3339(t), "2026-11-22T06:20:01.123456Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn response_lines_show_meaning_unless_ok() {
        assert_eq!(
            response_line("90 00", Some(StatusWord(0x9000)), 120),
            "<< 90 00  0.12 ms"
        );
        assert_eq!(
            response_line("6A 82", Some(StatusWord(0x6A82)), 50),
            "<< 6A 82  0.05 ms  file or application not found"
        );
    }
}
