//! The command line's side of the serial readers: `--reader tlp224:PATH` / `phoenix:PATH`
//! with `--serial SETTINGS`, for `run` and `batch`, and the pseudo-terminal readers of
//! `sim serve --serial`.
//!
//! Validation (the spec, the settings) happens before anything is opened; opening prints
//! the warnings a pseudo-terminal's refused settings produce. Nothing here speaks to a card.

use std::sync::atomic::AtomicBool;

use anyhow::anyhow;

use super::exit::invalid;
use super::{Exit, Failure};
use crate::reader::serial::line::LineSettings;
use crate::reader::serial::{self, SerialReader, Spec};
use crate::sim::Simulator;
use crate::sim::serial::{MouseOptions, PtyServer, SerialKind};

/// A serial reader chosen on the command line, validated but not opened.
#[derive(Debug, Clone)]
pub(super) struct Chosen {
    pub spec: Spec,
    pub settings: Option<LineSettings>,
}

/// `Some` when `reader` names a serial reader; `--serial` without one is invalid.
pub(super) fn choose(
    reader: Option<&str>,
    settings: Option<&str>,
) -> Result<Option<Chosen>, Failure> {
    let spec = match reader.and_then(Spec::parse) {
        Some(spec) => spec.map_err(invalid)?,
        None => {
            if let Some(text) = settings {
                return Err(invalid(anyhow!(
                    "--serial `{text}` needs a serial reader: --reader tlp224:PATH or phoenix:PATH"
                )));
            }
            return Ok(None);
        }
    };
    let settings = settings
        .map(|text| text.parse::<LineSettings>().map_err(invalid))
        .transpose()?;
    Ok(Some(Chosen { spec, settings }))
}

/// Opens the reader, printing the line's warnings to stderr.
pub(super) fn open(chosen: &Chosen) -> Result<SerialReader, crate::reader::Error> {
    let (reader, warnings) = serial::open(&chosen.spec, chosen.settings)?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    Ok(reader)
}

/// `sim serve --serial KIND`: prints the device path on stdout, then serves until stopped.
pub(super) fn serve(
    kind_text: &str,
    simulator: &Simulator,
    options: MouseOptions,
    stop: &AtomicBool,
) -> Result<Exit, Failure> {
    let kind: SerialKind = kind_text.parse().map_err(|e: String| invalid(anyhow!(e)))?;
    if kind == SerialKind::Tlp224 && (options.echo || options.inverse) {
        return Err(invalid(anyhow!(
            "--echo and --inverse describe a raw reader: use them with --serial phoenix"
        )));
    }
    let server = PtyServer::open().map_err(|e| {
        Failure::new(
            Exit::Transport,
            anyhow!("cannot make a pseudo-terminal: {e}"),
        )
    })?;
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", server.path());
        let _ = out.flush();
    }
    eprintln!(
        "serving a simulated {} card behind a simulated {} reader at {}",
        simulator.kind(),
        match kind {
            SerialKind::Tlp224 => "GCR400 (TLP224)",
            SerialKind::Phoenix => "raw (dumb mouse)",
        },
        server.path()
    );
    server
        .serve(kind, simulator.card(), options, stop)
        .map_err(|e| Failure::new(Exit::Transport, anyhow!("serial reader: {e}")))?;
    Ok(Exit::Ok)
}
