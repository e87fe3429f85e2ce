//! Command-line tests: the binary as users run it, against the simulator. One test binary
//! (fast to link); one module per area.
//!
//! Every test sets up its own files in a temporary directory and checks the exit code, the
//! output a user reads, and (through `--trace-file`) what was sent to the card.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions; clippy's allow-unwrap-in-tests does not cover them"
)]

mod batch;
mod bounds;
mod child;
mod classic;
mod clock;
mod core;
mod cos;
mod guard;
mod iso;
mod keys;
mod ledger;
mod output;
mod plus;
mod readers;
mod record;
mod report;
mod scriptor;
mod secrets;
mod serial;
mod shell;
mod stack;
mod strict;
mod sw_context;
mod ultralight;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_apdu-run"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

pub(crate) struct Ran {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn ran(output: Output) -> Ran {
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(crate) fn apdu_run(args: &[&str]) -> Ran {
    ran(bin().args(args).output().expect("binary runs"))
}

pub(crate) fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `text` as a script on `--sim KIND` with a trace file; returns the run and the
/// trace lines.
pub(crate) fn run_sim(kind: &str, text: &str, extra: &[&str]) -> (Ran, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "t.rhai", text);
    let trace = dir.path().join("trace.jsonl");
    let mut args = vec!["--sim", kind, "--trace-file", trace.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    let r = apdu_run(&args);
    let lines = std::fs::read_to_string(&trace)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (r, lines)
}

/// The compact hex of the trace lines that go one way, in order: `dir` is `">>"` for the
/// commands sent, `"<<"` for the answers received.
pub(crate) fn trace_hex(trace: &[serde_json::Value], dir: &str) -> Vec<String> {
    trace
        .iter()
        .filter(|l| l["dir"] == dir)
        .map(|l| l["hex"].as_str().unwrap().to_string())
        .collect()
}

/// The `apdu-run …` command in a script's header comment, as words.
pub(crate) fn documented_command(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .take_while(|l| l.starts_with("//") || l.starts_with('#'))
        .find_map(|l| {
            l.trim_start_matches(['/', '#'])
                .trim()
                .strip_prefix("apdu-run ")
        })
        .unwrap_or_else(|| panic!("{} documents no `apdu-run --sim …` command", path.display()));
    line.split_whitespace().map(str::to_string).collect()
}

/// Every script in `scripts/` (`.rhai` and `.apdu`), sorted.
pub(crate) fn shipped_scripts() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir("scripts")
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rhai" | "apdu")
            )
        })
        .collect();
    paths.sort();
    paths
}

/// `args` with the file after `--sim-state` replaced by a copy in `dir`.
pub(crate) fn with_copied_state(mut args: Vec<String>, dir: &Path) -> Vec<String> {
    if let Some(i) = args.iter().position(|a| a == "--sim-state") {
        let copy = dir.join("card.json");
        if let Some(original) = args.get(i + 1) {
            let _ = std::fs::copy(original, &copy);
            args[i + 1] = copy.to_string_lossy().into_owned();
        }
    }
    args
}
