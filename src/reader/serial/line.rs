//! The serial line under both serial backends: its settings (`9600,8E2`), the table of known
//! cards and readers, and the [`Line`] a backend talks through.
//!
//! [`open`] opens a device with the `serialport` crate. A pseudo-terminal (the simulated
//! readers of `apdu-run sim serve --serial`) stores but does not implement every termios
//! setting, and has no modem lines: a setting it refuses becomes a warning when, and only
//! when, the device is a pseudo-terminal; on any other device it is an error. This file
//! knows nothing of TLP224 or T=0.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serialport::{DataBits, Parity as PortParity, SerialPort, StopBits, TTYPort};

/// Parity of the serial line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// No parity bit (`N`).
    None,
    /// Even parity (`E`).
    Even,
    /// Odd parity (`O`).
    Odd,
}

/// Baud rate, character format and stop bits, written `9600,8E2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSettings {
    /// Bits per second.
    pub baud: u32,
    /// Data bits per character, 5 to 8.
    pub data_bits: u8,
    /// Parity bit.
    pub parity: Parity,
    /// Stop bits, 1 or 2.
    pub stop_bits: u8,
}

impl LineSettings {
    /// 9600 8N1: the GCR400 in TLP224 mode.
    pub const TLP224: LineSettings = LineSettings {
        baud: 9600,
        data_bits: 8,
        parity: Parity::None,
        stop_bits: 1,
    };
    /// 9600 8E2: an ISO 7816-3 card at its default rate (372 clocks per bit at 3.57 MHz),
    /// two stop bits giving the 12-etu character the standard asks of the interface.
    pub const ISO_DEFAULT: LineSettings = LineSettings {
        baud: 9600,
        data_bits: 8,
        parity: Parity::Even,
        stop_bits: 2,
    };

    /// The duration of one bit (one elementary time unit at these settings).
    pub fn etu(&self) -> Duration {
        Duration::from_nanos(1_000_000_000 / u64::from(self.baud.max(1)))
    }
}

/// A `--serial` value that is neither `BAUD,8E2`-style settings nor a known name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--serial `{text}`: {reason} (expected BAUD,DPS like `9600,8E2`, or one of: {known})",
    known = known_names()
)]
pub struct BadSettings {
    /// What the user wrote.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for LineSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parity = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        write!(
            f,
            "{},{}{}{}",
            self.baud, self.data_bits, parity, self.stop_bits
        )
    }
}

impl FromStr for LineSettings {
    type Err = BadSettings;

    /// Parses `9600,8E2` (also `9600 8E2`), or the name of a known card or reader from
    /// [`KNOWN`] (any case).
    fn from_str(text: &str) -> Result<LineSettings, BadSettings> {
        let bad = |reason: &str| BadSettings {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        if let Some(known) = known(text) {
            return Ok(known.settings);
        }
        let (baud, format) = text
            .split_once([',', ' '])
            .ok_or_else(|| bad("no comma between the baud rate and the format"))?;
        let baud: u32 = baud
            .trim()
            .parse()
            .map_err(|_| bad("the baud rate is not a number"))?;
        if !(300..=1_000_000).contains(&baud) {
            return Err(bad("the baud rate must be between 300 and 1000000"));
        }
        let format = format.trim().as_bytes();
        let &[data, parity, stop] = format else {
            return Err(bad(
                "the format has three characters: data bits, parity, stop bits",
            ));
        };
        let data_bits = match data {
            b'5'..=b'8' => data - b'0',
            _ => return Err(bad("data bits must be 5 to 8")),
        };
        let parity = match parity.to_ascii_uppercase() {
            b'N' => Parity::None,
            b'E' => Parity::Even,
            b'O' => Parity::Odd,
            _ => return Err(bad("parity must be N, E or O")),
        };
        let stop_bits = match stop {
            b'1' => 1,
            b'2' => 2,
            _ => return Err(bad("stop bits must be 1 or 2")),
        };
        Ok(LineSettings {
            baud,
            data_bits,
            parity,
            stop_bits,
        })
    }
}

/// The convention a card sends its characters in, announced by its first ATR byte TS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// TS `3B`: a high level is 1, least significant bit first.
    Direct,
    /// TS `3F`: a low level is 1, most significant bit first (bytes are bit-reversed and
    /// complemented as a UART in direct mode sees them).
    Inverse,
}

impl Convention {
    /// The byte as a direct-convention UART receives it from a card in this convention
    /// (the same transformation decodes: it is its own inverse).
    pub fn code(self, byte: u8) -> u8 {
        match self {
            Convention::Direct => byte,
            Convention::Inverse => !byte.reverse_bits(),
        }
    }
}

/// One entry of the table of known cards and readers (cos-and-serial.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// Lower-case name accepted by `--serial`.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Its line settings.
    pub settings: LineSettings,
    /// The convention the source gives (`D`/`I`, read as direct/inverse: UNCONFIRMED).
    pub convention: Convention,
}

const fn settings(parity: Parity) -> LineSettings {
    LineSettings {
        baud: 9600,
        data_bits: 8,
        parity,
        stop_bits: 2,
    }
}

/// Known cards (for the raw reader, which speaks at the card's settings) and readers.
pub const KNOWN: &[Known] = &[
    Known {
        name: "gcr400",
        description: "Gemplus GCR400 reader, TLP224",
        settings: LineSettings::TLP224,
        convention: Convention::Direct,
    },
    Known {
        name: "cryptoflex",
        description: "Schlumberger Cryptoflex card",
        settings: settings(Parity::Even),
        convention: Convention::Direct,
    },
    Known {
        name: "dx",
        description: "Philips DX card",
        settings: settings(Parity::Even),
        convention: Convention::Direct,
    },
    Known {
        name: "gpk",
        description: "Gemplus GPK DES card",
        settings: settings(Parity::Even),
        convention: Convention::Inverse,
    },
    Known {
        name: "foxtel",
        description: "Foxtel card",
        settings: settings(Parity::Odd),
        convention: Convention::Inverse,
    },
    Known {
        name: "rg200",
        description: "Racal RG200 card",
        settings: settings(Parity::Even),
        convention: Convention::Direct,
    },
    Known {
        name: "iso",
        description: "any ISO 7816-3 card at its default rate",
        settings: LineSettings::ISO_DEFAULT,
        convention: Convention::Direct,
    },
];

/// The entry named `name` (any case).
pub fn known(name: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.name.eq_ignore_ascii_case(name))
}

fn known_names() -> String {
    KNOWN.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// A byte line to a reader: what the backends need of a serial port, so they also run over
/// an in-memory pair in tests.
pub trait Line: Send {
    /// Writes all of `bytes` and waits until they have left.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// The next byte, or `None` when none arrived within `timeout`.
    fn recv(&mut self, timeout: Duration) -> io::Result<Option<u8>>;
    /// Drops whatever has arrived and not been read.
    fn discard_input(&mut self) -> io::Result<()>;
    /// Drives the card's reset line (RTS on a raw reader). `Unsupported` when the device
    /// has no modem lines (a pseudo-terminal, an in-memory line).
    fn set_reset(&mut self, active: bool) -> io::Result<()>;
}

/// Whether `path` is a pseudo-terminal's slave side (`/dev/pts/N`, or a link to one).
pub fn is_pty(path: &Path) -> bool {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    real.starts_with("/dev/pts") || real.to_string_lossy().starts_with("/dev/pty")
}

/// A serial device opened through `serialport`.
pub struct SerialLine {
    port: TTYPort,
    pty: bool,
    buffer: Vec<u8>,
    next: usize,
    timeout: Duration,
}

impl fmt::Debug for SerialLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerialLine")
            .field("pty", &self.pty)
            .finish_non_exhaustive()
    }
}

/// Opens `path` at `settings`. Returns the line and the warnings for settings a
/// pseudo-terminal refused (on a real device a refused setting is an error).
pub fn open(path: &str, settings: LineSettings) -> io::Result<(SerialLine, Vec<String>)> {
    let pty = is_pty(Path::new(path));
    // Opened at a rate every device takes, then set piece by piece so each refusal can be
    // told apart and, on a pseudo-terminal only, passed over.
    let mut port = serialport::new(path, 9600)
        .data_bits(DataBits::Eight)
        .parity(PortParity::None)
        .stop_bits(StopBits::One)
        .timeout(Duration::from_millis(100))
        .open_native()
        .map_err(io::Error::from)?;
    let mut warnings = Vec::new();
    let mut apply = |what: &str, result: serialport::Result<()>| -> io::Result<()> {
        match result {
            Ok(()) => Ok(()),
            Err(e) if pty => {
                warnings.push(format!(
                    "{path} is a pseudo-terminal, which refused {what} ({e}); continuing without it"
                ));
                Ok(())
            }
            Err(e) => Err(io::Error::other(format!("cannot set {what}: {e}"))),
        }
    };
    apply(
        &format!("{} baud", settings.baud),
        port.set_baud_rate(settings.baud),
    )?;
    let data_bits = match settings.data_bits {
        5 => DataBits::Five,
        6 => DataBits::Six,
        7 => DataBits::Seven,
        _ => DataBits::Eight,
    };
    apply(
        &format!("{} data bits", settings.data_bits),
        port.set_data_bits(data_bits),
    )?;
    let parity = match settings.parity {
        Parity::None => PortParity::None,
        Parity::Even => PortParity::Even,
        Parity::Odd => PortParity::Odd,
    };
    apply("the parity", port.set_parity(parity))?;
    let stop = if settings.stop_bits == 2 {
        StopBits::Two
    } else {
        StopBits::One
    };
    apply(
        &format!("{} stop bits", settings.stop_bits),
        port.set_stop_bits(stop),
    )?;
    Ok((
        SerialLine {
            port,
            pty,
            buffer: Vec::new(),
            next: 0,
            timeout: Duration::from_millis(100),
        },
        warnings,
    ))
}

impl SerialLine {
    /// Whether the device is a pseudo-terminal.
    pub fn is_pty(&self) -> bool {
        self.pty
    }

    /// Wraps one end of a pseudo-terminal pair (the simulated readers' side).
    pub fn from_port(port: TTYPort) -> SerialLine {
        SerialLine {
            port,
            pty: true,
            buffer: Vec::new(),
            next: 0,
            timeout: Duration::from_millis(100),
        }
    }
}

impl Drop for SerialLine {
    fn drop(&mut self) {
        // Leave the device openable by the next run: on a pseudo-terminal whose other side
        // stays open, the exclusive flag would otherwise outlive this process's use of it.
        let _ = self.port.set_exclusive(false);
    }
}

impl Line for SerialLine {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.write_all(bytes)?;
        self.port.flush()
    }

    fn recv(&mut self, timeout: Duration) -> io::Result<Option<u8>> {
        if self.next < self.buffer.len() {
            self.next += 1;
            return Ok(Some(self.buffer[self.next - 1]));
        }
        if timeout != self.timeout {
            self.port.set_timeout(timeout).map_err(io::Error::from)?;
            self.timeout = timeout;
        }
        let mut chunk = [0u8; 512];
        match self.port.read(&mut chunk) {
            Ok(0) => Ok(None),
            Ok(n) => {
                self.buffer.clear();
                self.buffer.extend_from_slice(&chunk[1..n]);
                self.next = 0;
                Ok(Some(chunk[0]))
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn discard_input(&mut self) -> io::Result<()> {
        self.buffer.clear();
        self.next = 0;
        self.port
            .clear(serialport::ClearBuffer::Input)
            .map_err(io::Error::from)
    }

    fn set_reset(&mut self, active: bool) -> io::Result<()> {
        if self.pty {
            // A pseudo-terminal has no RTS to drive (the ioctl fails or does nothing).
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a pseudo-terminal has no modem lines",
            ));
        }
        self.port
            .write_request_to_send(active)
            .map_err(io::Error::from)
    }
}

/// An in-memory line pair for tests: what one end sends, the other receives.
#[cfg(test)]
pub(crate) mod memory {
    use std::io;
    use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
    use std::time::Duration;

    use super::Line;

    /// One end of [`pair`].
    pub(crate) struct MemoryLine {
        tx: Sender<u8>,
        rx: Receiver<u8>,
    }

    /// Two connected ends.
    pub(crate) fn pair() -> (MemoryLine, MemoryLine) {
        let (a_tx, b_rx) = channel();
        let (b_tx, a_rx) = channel();
        (
            MemoryLine { tx: a_tx, rx: a_rx },
            MemoryLine { tx: b_tx, rx: b_rx },
        )
    }

    impl Line for MemoryLine {
        fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
            for &b in bytes {
                self.tx
                    .send(b)
                    .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
            }
            Ok(())
        }
        fn recv(&mut self, timeout: Duration) -> io::Result<Option<u8>> {
            match self.rx.recv_timeout(timeout) {
                Ok(b) => Ok(Some(b)),
                Err(RecvTimeoutError::Timeout) => Ok(None),
                Err(RecvTimeoutError::Disconnected) => {
                    Err(io::Error::from(io::ErrorKind::BrokenPipe))
                }
            }
        }
        fn discard_input(&mut self) -> io::Result<()> {
            while self.rx.try_recv().is_ok() {}
            Ok(())
        }
        fn set_reset(&mut self, _active: bool) -> io::Result<()> {
            Err(io::Error::new(io::ErrorKind::Unsupported, "in-memory line"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn settings_parse_and_print() {
        let s: LineSettings = "9600,8E2".parse().unwrap();
        assert_eq!(s, LineSettings::ISO_DEFAULT);
        assert_eq!(s.to_string(), "9600,8E2");
        assert_eq!(
            "gcr400".parse::<LineSettings>().unwrap(),
            LineSettings::TLP224
        );
        assert_eq!(
            "19200 7o1".parse::<LineSettings>().unwrap().to_string(),
            "19200,7O1"
        );
        for bad in [
            "", "9600", "9600,8X2", "9600,9E2", "9600,8E3", "x,8E2", "10,8N1",
        ] {
            let e = bad.parse::<LineSettings>().unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("--serial `{bad}`")),
                "{e}"
            );
        }
    }

    #[test]
    fn inverse_convention_maps_ts() {
        assert_eq!(Convention::Inverse.code(0x3F), 0x03);
        assert_eq!(Convention::Inverse.code(0x03), 0x3F);
        assert_eq!(Convention::Direct.code(0x3B), 0x3B);
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errs(text in ".{0,20}") {
            let _ = text.parse::<LineSettings>();
        }

        #[test]
        fn printed_settings_parse_back(baud in 300u32..1_000_000, d in 5u8..=8, p in 0..3, s in 1u8..=2) {
            let parity = [Parity::None, Parity::Even, Parity::Odd][p as usize];
            let settings = LineSettings { baud, data_bits: d, parity, stop_bits: s };
            prop_assert_eq!(settings.to_string().parse::<LineSettings>().unwrap(), settings);
        }

        #[test]
        fn inverse_is_an_involution(b in any::<u8>()) {
            prop_assert_eq!(Convention::Inverse.code(Convention::Inverse.code(b)), b);
        }
    }
}
