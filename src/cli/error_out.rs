//! How an error leaves the process: one line `error: …` on stderr (`error:` in red on a
//! terminal), or with `--json` one JSON object `{"error": "…", "exit": N}` on stderr, so a
//! program reading JSON never has to parse prose. It does not decide the message or the code.

use serde_json::json;

use super::colour::{self, Stream, Tone};

/// Prints `message` (already one line) for a failure that exits with `code`.
pub(super) fn print(message: &str, code: i32, json: bool) {
    if json {
        crate::cli::errln!("{}", json!({ "error": message, "exit": code }));
    } else {
        crate::cli::errln!(
            "{} {message}",
            colour::paint(Stream::Stderr, Tone::Bad, "error:")
        );
    }
}

/// The message of a clap usage error: its first line, without clap's own `error: `.
pub(super) fn clap_message(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// Whether the raw command line asks for JSON: `--json` before any `--`. Used when clap
/// cannot parse the line, so its error can still be JSON.
pub(super) fn asks_json(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}
