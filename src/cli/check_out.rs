//! What `apdu-run check` prints when the file is valid: `FILE: ok …` (the `ok` green on a
//! terminal), or with `--json` one JSON object. Checking itself is `run::check` and
//! `profile_run::check`; this file only reports.

use std::path::Path;

use serde::Serialize;

use super::colour::{self, Stream, Tone};
use super::info::print_json;
use super::{Exit, Failure, outln};

/// A valid file, as `check --json` prints it.
#[derive(Debug, Serialize)]
pub(super) struct Checked {
    /// The path as given.
    pub(super) file: String,
    /// `script` (Rhai), `scriptor` (`.apdu`) or `profile` (YAML).
    pub(super) kind: &'static str,
    /// Always true: an invalid file is an error (exit 2), not a report.
    pub(super) ok: bool,
    /// Profiles: the number of steps.
    pub(super) steps: Option<usize>,
    /// Profiles: the hash the journal records.
    pub(super) hash: Option<String>,
}

impl Checked {
    /// A valid file of `kind` with nothing more to say.
    pub(super) fn new(file: &Path, kind: &'static str) -> Checked {
        Checked {
            file: file.display().to_string(),
            kind,
            ok: true,
            steps: None,
            hash: None,
        }
    }

    /// Prints the verdict.
    pub(super) fn print(&self, json: bool) -> Result<Exit, Failure> {
        if json {
            return print_json(self);
        }
        let ok = colour::paint(Stream::Stdout, Tone::Good, "ok");
        match (&self.steps, &self.hash) {
            (Some(steps), Some(hash)) => {
                outln!("{}: {ok} ({steps} steps, hash {hash})", self.file)
            }
            _ => outln!("{}: {ok}", self.file),
        }
        Ok(Exit::Ok)
    }
}
