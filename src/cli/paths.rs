//! The check every output path gets before the first APDU: `--journal`, `--report`,
//! `--sim-state` (and `sim serve`'s `--state` and `--timing`); `--trace-file` keeps the
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

/// [`output`] for an optional path.
pub(super) fn output_opt(option: &str, path: Option<&Path>) -> Result<(), Failure> {
    path.map_or(Ok(()), |path| output(option, path))
}
