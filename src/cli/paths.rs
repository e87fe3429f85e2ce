//! The check every output path gets before the first APDU: `--journal`, `--report`,
//! `--sim-state`, `batch --trace-file DIR` (a directory, [`output_dir`]) (and `sim serve`'s `--state` and `--timing`); `--trace-file` keeps the
//! wording of its own creation error and calls `input::check_output` itself.
//!
//! A path that cannot be written later would otherwise be found after the card was
//! changed (a `--sim-state` in a missing directory loses the card's changes) or would block
//! the run (a FIFO). What "writable" means is [`crate::input::check_output`]; this file only
//! turns a refusal into the command line's exit 2, naming the option and the path.

use std::path::Path;

use anyhow::anyhow;

use super::Failure;
use super::exit::invalid;

/// Refuses (exit 2) an output path given as `option` that cannot be written.
pub(super) fn output(option: &str, path: &Path) -> Result<(), Failure> {
    crate::input::check_output(path).map_err(|e| {
        invalid(anyhow!(
            "{option} `{}`: cannot be written: {e}",
            path.display()
        ))
    })
}

/// Refuses (exit 2) a directory given as `option` that files cannot be written into: it
/// is created if missing (its parent must exist), must be a directory, and a new file must
/// be creatable in it (tried with a probe file, removed again).
pub(super) fn output_dir(option: &str, dir: &Path) -> Result<(), Failure> {
    let refuse = |e: &dyn std::fmt::Display| {
        invalid(anyhow!(
            "{option} `{}`: cannot write files there: {e}",
            dir.display()
        ))
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(refuse(&"not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(dir).map_err(|e| refuse(&e))?;
        }
        Err(e) => return Err(refuse(&e)),
    }
    let probe = dir.join(format!(".apdu-run-probe-{}", std::process::id()));
    crate::input::check_output(&probe).map_err(|e| refuse(&e))
}

/// [`output`] for an optional path.
pub(super) fn output_opt(option: &str, path: Option<&Path>) -> Result<(), Failure> {
    path.map_or(Ok(()), |path| output(option, path))
}
