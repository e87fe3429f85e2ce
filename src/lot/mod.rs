//! The lot view: what `apdu-run report` makes of one or more batch journals (and their
//! reports) — a summary for the terminal or as JSON, and a static HTML page with plots.
//!
//! `read` streams the files into entries, `stats` gathers the figures, `html` and `svg`
//! draw them. Journals and reports hold no data values and no secrets (batch's contract),
//! so nothing here can show one; identities, reader and station names are shown as
//! written, escaped. This module never writes a file: the command line does, and it
//! changes nothing in the journals it reads.

pub mod html;
pub mod read;
pub mod stats;
pub mod svg;
pub mod time;

pub use read::{ReadError, Source};
pub use stats::{Lot, Totals};

use std::path::Path;

/// Reads `journals` (each named by its file for the station column unless its records
/// name one) and `reports` into one [`Lot`].
pub fn load(journals: &[&Path], reports: &[&Path]) -> Result<Lot, ReadError> {
    let mut lot = Lot::default();
    for path in journals {
        let station = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        lot.add_journal(&path.display().to_string(), &station);
        read::read(path, Source::Journal, |entry| lot.journal_entry(entry))?;
    }
    for path in reports {
        read::read(path, Source::Report, |entry| lot.report_entry(entry))?;
    }
    Ok(lot)
}
