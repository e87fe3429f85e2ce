//! The raw serial reader ("dumb mouse", Phoenix-style): the host resets the card, reads its
//! ATR and speaks T=0 to it itself (`t0.rs`), at the card's line settings.
//!
//! Reset drives RTS (UNCONFIRMED wiring: Phoenix readers tie RTS to the card's RST; some
//! use DTR). A pseudo-terminal has no modem lines, so there — and only there — the reset is
//! asked for in-band with the byte `96` at a command boundary, which the simulated reader
//! (`apdu-run sim serve --serial phoenix`) takes as its RST line: `96` is an invalid class
//! byte in both conventions, so it never starts a real command. A card is present when it
//! answers the reset with an ATR; insertion and removal are found by polling that way (a
//! raw reader has no card-detect signal this backend relies on). The convention comes from
//! TS: `3B` direct, `03` as a direct UART reads `3F`, inverse.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::super::{Card, Error, Reader};
use super::atr;
use super::line::{Convention, Line, LineSettings};
use super::poll::{self, lock};
use super::t0::{Echo, T0Link};
use super::tpdu;

/// The in-band reset request used on pseudo-terminals (see the module docs).
pub const RESET_BYTE: u8 = 0x96;

/// How long a card has to start its ATR after reset (ISO asks 40,000 clocks, ~11 ms; a USB
/// adapter's latency is added).
const ATR_START: Duration = Duration::from_millis(500);
/// How long between two ATR characters at most.
const ATR_CHAR: Duration = Duration::from_millis(200);

/// The line and what is known of the reader, shared by the reader and its card.
struct Device {
    line: Box<dyn Line>,
    name: String,
    settings: LineSettings,
    echo: Echo,
    /// Whether RTS could not be driven, so reset goes in-band.
    in_band_reset: bool,
}

impl Device {
    fn io(&self, e: std::io::Error) -> Error {
        Error::Transport {
            reader: self.name.clone(),
            message: format!("serial line: {e}"),
        }
    }

    /// Resets the card and reads its ATR: `None` when no card answers.
    fn reset(&mut self) -> Result<Option<(Vec<u8>, Convention)>, Error> {
        self.line.discard_input().map_err(|e| self.io(e))?;
        if !self.in_band_reset {
            match self.line.set_reset(true) {
                Ok(()) => {
                    std::thread::sleep(Duration::from_millis(10));
                    self.line.set_reset(false).map_err(|e| self.io(e))?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    self.in_band_reset = true;
                }
                Err(e) => return Err(self.io(e)),
            }
        }
        if self.in_band_reset {
            self.line.send(&[RESET_BYTE]).map_err(|e| self.io(e))?;
        }
        // TS, after the echo of an in-band reset if the reader echoes.
        let started = Instant::now();
        let ts = loop {
            let left = ATR_START.saturating_sub(started.elapsed());
            match self.line.recv(left).map_err(|e| self.io(e))? {
                None => return Ok(None),
                Some(RESET_BYTE) if self.in_band_reset => {}
                Some(b) => break b,
            }
        };
        let convention = match ts {
            0x3B => Convention::Direct,
            0x03 => Convention::Inverse,
            other => {
                return Err(Error::Unusable {
                    reader: self.name.clone(),
                    reason: format!(
                        "the answer to reset starts with {other:02X}, not a TS byte (3B direct, 3F inverse): wrong line settings ({})?",
                        self.settings
                    ),
                });
            }
        };
        let mut atr = vec![convention.code(ts)];
        while atr::structural_len(&atr) != Some(atr.len()) {
            if atr.len() >= 33 {
                return Err(self.bad_atr(&atr, "longer than 33 bytes"));
            }
            match self.line.recv(ATR_CHAR).map_err(|e| self.io(e))? {
                Some(b) => atr.push(convention.code(b)),
                None => return Err(self.bad_atr(&atr, "it stopped before its end")),
            }
        }
        // TCK is present when a protocol other than T=0 is offered: the XOR of T0 to TCK is 0.
        if atr::has_tck(&atr) && atr[1..].iter().fold(0, |a, b| a ^ b) != 0 {
            return Err(self.bad_atr(&atr, "its check byte TCK is wrong"));
        }
        Ok(Some((atr, convention)))
    }

    fn bad_atr(&self, atr: &[u8], why: &str) -> Error {
        Error::Unusable {
            reader: self.name.clone(),
            reason: format!(
                "invalid answer to reset {}: {why}",
                crate::apdu::hex::format_compact(atr)
            ),
        }
    }
}

/// A raw serial reader (`--reader phoenix:PATH`).
pub struct PhoenixReader {
    device: Arc<Mutex<Device>>,
    name: String,
}

impl std::fmt::Debug for PhoenixReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoenixReader")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PhoenixReader {
    /// A reader on `line`, named `name` in messages, with the line at `settings`.
    pub fn new(line: Box<dyn Line>, name: String, settings: LineSettings, echo: Echo) -> Self {
        PhoenixReader {
            device: Arc::new(Mutex::new(Device {
                line,
                name: name.clone(),
                settings,
                echo,
                in_band_reset: false,
            })),
            name,
        }
    }

    /// The card in the reader now, reset; `NoCard` when none answers.
    pub fn connect(&mut self) -> Result<Box<dyn Card + Send>, Error> {
        let (atr, convention) = lock(&self.device).reset()?.ok_or_else(|| Error::NoCard {
            reader: self.name.clone(),
        })?;
        Ok(Box::new(PhoenixCard::new(
            Arc::clone(&self.device),
            self.name.clone(),
            atr,
            convention,
        )))
    }
}

impl Reader for PhoenixReader {
    fn name(&self) -> &str {
        &self.name
    }

    fn next_card(&mut self, timeout: Option<Duration>) -> Result<Option<Box<dyn Card>>, Error> {
        poll::next_card(timeout, || self.connect().map(|card| card as Box<dyn Card>))
    }

    fn wait_removed(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        let device = &self.device;
        poll::wait_removed(timeout, &self.name, || Ok(lock(device).reset()?.is_some()))
    }
}

/// A card in a raw reader.
pub struct PhoenixCard {
    device: Arc<Mutex<Device>>,
    name: String,
    atr: Vec<u8>,
    convention: Convention,
}

impl PhoenixCard {
    fn new(device: Arc<Mutex<Device>>, name: String, atr: Vec<u8>, convention: Convention) -> Self {
        PhoenixCard {
            device,
            name,
            atr,
            convention,
        }
    }
}

impl Card for PhoenixCard {
    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn reader_name(&self) -> &str {
        &self.name
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        let mut device = lock(&self.device);
        let device = &mut *device;
        let etu = device.settings.etu();
        let mut link = T0Link {
            line: device.line.as_mut(),
            reader: &self.name,
            convention: self.convention,
            echo: &mut device.echo,
            turnaround: etu * 16,
            extra_guard: etu * atr::extra_guard_etu(&self.atr),
            // WWT = 960 × WI (10 by default) etu, and a margin for USB adapters.
            wait: etu * 9600 + Duration::from_millis(500),
        };
        tpdu::transmit(&mut link, command, &self.name)
    }

    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        let (atr, convention) = lock(&self.device)
            .reset()?
            .ok_or_else(|| Error::CardRemoved {
                reader: self.name.clone(),
            })?;
        self.atr = atr;
        self.convention = convention;
        Ok(self.atr.clone())
    }
}
