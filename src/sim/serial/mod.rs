//! Simulated serial readers: a simulated card behind a Gemplus GCR400 (TLP224) or a raw
//! "dumb mouse" (T=0 byte by byte, with or without echo, direct or inverse convention),
//! served over a pseudo-terminal so the real serial backends (`reader::serial`), their line
//! settings and their timing run without hardware (`apdu-run sim serve --serial`).
//!
//! [`PtyServer::open`] makes the pseudo-terminal pair (serialport's `TTYPort::pair`, no
//! `unsafe` here) and gives the slave's path for the host to open; [`serve`] plays the
//! reader on any [`Line`] until stopped. Like `vpcd`, this is I/O: it reads the line and the
//! clock, and prints nothing. Card contents come from the simulator like everywhere else.

mod card_side;
mod gcr400;
mod mouse;
#[cfg(test)]
mod tests;

use std::io;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::reader::Card;
use crate::reader::serial::line::{Line, SerialLine};
use card_side::T0Card;
pub use mouse::MouseOptions;

/// Which reader to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialKind {
    /// A GCR400 speaking TLP224.
    Tlp224,
    /// A raw reader (dumb mouse, Phoenix).
    Phoenix,
}

impl FromStr for SerialKind {
    type Err = String;

    fn from_str(text: &str) -> Result<SerialKind, String> {
        match text.to_ascii_lowercase().as_str() {
            "tlp224" => Ok(SerialKind::Tlp224),
            "phoenix" => Ok(SerialKind::Phoenix),
            _ => Err(format!(
                "--serial `{text}`: unknown serial reader (expected `tlp224` or `phoenix`)"
            )),
        }
    }
}

/// Plays the reader `kind` with `card` in it on `line` until `stop` is set.
pub fn serve(
    line: &mut dyn Line,
    kind: SerialKind,
    card: Box<dyn Card + Send>,
    options: MouseOptions,
    stop: &AtomicBool,
) -> io::Result<()> {
    let card = T0Card::new(card);
    match kind {
        SerialKind::Phoenix => mouse::Mouse::new(line, card, options).serve(stop),
        SerialKind::Tlp224 => {
            let mut reader = gcr400::Gcr400::new(Some(card));
            while !stop.load(Ordering::Relaxed) {
                match line.recv(Duration::from_millis(100)) {
                    Ok(Some(byte)) => {
                        if let Some(answer) = reader.receive(byte) {
                            line.send(&answer)?;
                        }
                    }
                    Ok(None) => {}
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                        // No host has the device open: wait for one.
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
    }
}

/// The simulated reader's end of a pseudo-terminal pair.
pub struct PtyServer {
    master: SerialLine,
    path: String,
}

impl std::fmt::Debug for PtyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PtyServer")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PtyServer {
    /// Makes a pseudo-terminal pair. The slave side is closed again at once: the host opens
    /// it by [`PtyServer::path`] (a kept-open slave would keep the host's exclusive lock).
    pub fn open() -> io::Result<PtyServer> {
        let (master, slave) = serialport::TTYPort::pair().map_err(io::Error::from)?;
        let path = serialport::SerialPort::name(&slave)
            .ok_or_else(|| io::Error::other("the pseudo-terminal has no name"))?;
        drop(slave);
        Ok(PtyServer {
            master: SerialLine::from_port(master),
            path,
        })
    }

    /// The device for the host to open (`--reader tlp224:PATH`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Serves `card` behind the reader `kind` until `stop` is set.
    pub fn serve(
        mut self,
        kind: SerialKind,
        card: Box<dyn Card + Send>,
        options: MouseOptions,
        stop: &AtomicBool,
    ) -> io::Result<()> {
        serve(&mut self.master, kind, card, options, stop)
    }
}
