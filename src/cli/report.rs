//! `apdu-run report JOURNAL… [--report R…] [--html OUT.html] [--json]`: a finished (or
//! running) lot at a glance.
//!
//! Without `--html` it prints the summary (cards by verdict, period, durations, the worst
//! failure causes) for the terminal, or as one JSON object with `--json`; with `--html` it
//! writes the static page of [`crate::lot::html`] and says so in one line. The page is
//! written to a temporary file beside OUT and renamed over it only when complete, so a full
//! disk or a kill never leaves half a page (or destroys the previous one). Several journals
//! (one per station) make one lot; each station is named by its journal's file name unless
//! its records name one. Journals are only read: a running batch may keep appending.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::exit::invalid;
use super::info::print_json;
use super::{Exit, Failure, outln, paths};
use crate::lot::stats::{Trouble, ranked};
use crate::lot::{self, Lot, Totals};

/// Options of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Batch journals (`--journal` files) of the lot; one per station.
    #[arg(value_name = "JOURNAL", required = true, num_args = 1..)]
    pub journals: Vec<PathBuf>,
    /// The batches' `--report` files, for step times and skipped cards (repeatable).
    #[arg(long = "report", value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Write a self-contained HTML page (plots inline, no network) to this file.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
    /// The page's title (default: the profile's name from the first journal).
    #[arg(long)]
    pub title: Option<String>,
    /// Print the summary as one JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// One failure cause in the JSON summary.
#[derive(Debug, Serialize)]
struct Cause {
    /// The step, status word, reader or station.
    name: String,
    failed: u64,
    interrupted: u64,
}

/// `report --json`.
#[derive(Debug, Serialize)]
struct Summary {
    journals: Vec<lot::stats::Journal>,
    #[serde(flatten)]
    totals: Totals,
    /// First and last record, RFC 3339 as written by the batch's clock (UTC).
    first: Option<String>,
    last: Option<String>,
    /// Durations of issued cards, milliseconds.
    p50_ms: Option<f64>,
    p90_ms: Option<f64>,
    p99_ms: Option<f64>,
    max_ms: Option<f64>,
    by_step: Vec<Cause>,
    by_sw: Vec<Cause>,
    by_reader: Vec<Cause>,
    by_station: Vec<Cause>,
    slowest: Vec<lot::stats::Slow>,
    /// Records of kinds this version does not know.
    unknown_records: u64,
}

/// Runs `report`.
pub fn run(args: ReportArgs) -> Result<Exit, Failure> {
    if let Some(html) = &args.html {
        paths::output("--html", html)?;
    }
    let journals: Vec<&Path> = args.journals.iter().map(PathBuf::as_path).collect();
    let reports: Vec<&Path> = args.reports.iter().map(PathBuf::as_path).collect();
    let mut lot = lot::load(&journals, &reports).map_err(invalid)?;
    match &args.html {
        Some(path) => {
            let title = args.title.clone().unwrap_or_else(|| default_title(&lot));
            let page = lot::html::page(&mut lot, &title);
            write_page(path, page.as_bytes()).map_err(|e| {
                Failure::new(
                    Exit::Failed,
                    anyhow!("--html `{}`: cannot be written: {e}", path.display()),
                )
            })?;
            let t = lot.totals();
            outln!(
                "wrote {} ({} cards: {} ok, {} failed, {} interrupted, {} open)",
                path.display(),
                t.cards,
                t.ok,
                t.failed,
                t.interrupted,
                t.open
            );
            Ok(Exit::Ok)
        }
        None if args.json => print_json(&summary(&mut lot)),
        None => {
            print_text(&mut lot);
            Ok(Exit::Ok)
        }
    }
}

fn default_title(lot: &Lot) -> String {
    match lot.journals.first().and_then(|j| j.profile.as_deref()) {
        Some(profile) => format!("Lot report: {profile}"),
        None => "Lot report".to_string(),
    }
}

/// Writes `bytes` to a new file beside `path` and renames it over `path` once durable.
fn write_page(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report.html".into());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn causes(rows: Vec<(&str, Trouble)>) -> Vec<Cause> {
    rows.into_iter()
        .map(|(name, t)| Cause {
            name: name.to_string(),
            failed: t.failed,
            interrupted: t.interrupted,
        })
        .collect()
}

fn summary(lot: &mut Lot) -> Summary {
    let p = lot.percentiles();
    let ms = |i: usize| p.map(|p| p[i] as f64 / 1000.0);
    Summary {
        journals: lot.journals.clone(),
        totals: lot.totals(),
        first: lot.span.map(|s| rfc3339(s.0)),
        last: lot.span.map(|s| rfc3339(s.1)),
        p50_ms: ms(0),
        p90_ms: ms(1),
        p99_ms: ms(2),
        max_ms: ms(3),
        by_step: causes(ranked(&lot.by_step)),
        by_sw: causes(ranked(&lot.by_sw)),
        by_reader: causes(ranked(&lot.by_reader)),
        by_station: causes(ranked(&lot.by_station)),
        slowest: lot.slowest(),
        unknown_records: lot.unknown,
    }
}

fn rfc3339(micros: i64) -> String {
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_micros(micros.max(0) as u64);
    crate::batch::time::rfc3339(when)
}

fn print_text(lot: &mut Lot) {
    let t = lot.totals();
    outln!(
        "{} cards: {} ok, {} failed, {} interrupted, {} open ({} resumed, {} skipped)",
        t.cards,
        t.ok,
        t.failed,
        t.interrupted,
        t.open,
        t.resumed,
        t.skipped
    );
    if let Some((first, last)) = lot.span {
        outln!(
            "period: {} – {} UTC",
            lot::time::second_text(first),
            lot::time::second_text(last)
        );
    }
    if let Some([p50, p90, p99, max]) = lot.percentiles() {
        outln!(
            "issued cards took: median {} ms, p90 {} ms, p99 {} ms, slowest {} ms",
            lot::svg::millis(p50),
            lot::svg::millis(p90),
            lot::svg::millis(p99),
            lot::svg::millis(max)
        );
    }
    for (what, map) in [
        ("step", &lot.by_step),
        ("status word", &lot.by_sw),
        ("reader", &lot.by_reader),
        ("station", &lot.by_station),
    ] {
        let rows = ranked(map);
        if rows.is_empty() {
            continue;
        }
        let top: Vec<String> = rows
            .iter()
            .take(3)
            .map(|(name, t)| {
                format!(
                    "{name} ({} failed, {} interrupted)",
                    t.failed, t.interrupted
                )
            })
            .collect();
        outln!("failures by {what}: {}", top.join(", "));
    }
}
