//! The host side of ISO 7816-3 T=0 over a raw serial line (a "dumb mouse"): header,
//! procedure bytes, data, status word, as the card drives it.
//!
//! Procedure bytes: INS sends (or receives) all the remaining data, its complement exactly
//! one byte, `60` (NULL) asks for more time, `6x`/`9x` is SW1 and a status word ends the
//! transfer. Any other byte is an error, never skipped. Each byte goes through the card's
//! convention; with echo (a reader that loops the I/O line back) every byte sent is read
//! back, compared and dropped; echo is detected on the first header when not forced. Before
//! the host turns the line round it waits the guard time (16 etu), and sends with TC1's extra
//! guard time between characters.
//!
//! It does not reset the card or read the ATR (`phoenix.rs`), and does not split APDUs into
//! transfers (`tpdu.rs`).

use std::time::Duration;

use super::super::Error;
use super::line::{Convention, Line};
use super::tpdu::{Direction, Link, Tpdu};

/// Whether the reader echoes what the host sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Echo {
    /// Find out on the first header.
    #[default]
    Auto,
    /// The reader echoes; read back and drop every byte sent.
    On,
    /// No echo.
    Off,
}

/// Most NULL procedure bytes accepted for one transfer before the card is declared stuck.
const MAX_NULLS: usize = 10_000;

/// A card's T=0 session over a line: the convention and timing from its ATR.
pub struct T0Link<'a> {
    /// The line to the reader.
    pub line: &'a mut dyn Line,
    /// The reader's name, for errors.
    pub reader: &'a str,
    /// The card's convention.
    pub convention: Convention,
    /// Echo mode; `Auto` becomes `On` or `Off` on the first header.
    pub echo: &'a mut Echo,
    /// Wait before sending after having received (16 etu, ISO 7816-3 §7.2).
    pub turnaround: Duration,
    /// Extra wait between characters sent (TC1's N etu).
    pub extra_guard: Duration,
    /// Work waiting time: the longest silence before a card is declared mute.
    pub wait: Duration,
}

impl T0Link<'_> {
    fn error(&self, message: impl Into<String>) -> Error {
        Error::Transport {
            reader: self.reader.to_string(),
            message: message.into(),
        }
    }

    fn io(&self, e: std::io::Error) -> Error {
        self.error(format!("serial line: {e}"))
    }

    fn recv(&mut self) -> Result<u8, Error> {
        match self.line.recv(self.wait) {
            Ok(Some(b)) => Ok(self.convention.code(b)),
            Ok(None) => Err(Error::Unusable {
                reader: self.reader.to_string(),
                reason: format!(
                    "the card is mute: no byte within the work waiting time ({} ms)",
                    self.wait.as_millis()
                ),
            }),
            Err(e) => Err(self.io(e)),
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let coded: Vec<u8> = bytes.iter().map(|&b| self.convention.code(b)).collect();
        if self.extra_guard.is_zero() {
            self.line.send(&coded).map_err(|e| self.io(e))
        } else {
            for b in coded {
                self.line.send(&[b]).map_err(|e| self.io(e))?;
                std::thread::sleep(self.extra_guard);
            }
            Ok(())
        }
    }

    /// Reads back `sent` as the echo and checks it.
    fn drop_echo(&mut self, sent: &[u8]) -> Result<(), Error> {
        for &expected in sent {
            let got = self.recv()?;
            if got != expected {
                return Err(self.error(format!(
                    "the echo of {expected:02X} came back as {got:02X}: the line is noisy or echo is not what was set"
                )));
            }
        }
        Ok(())
    }

    /// Sends bytes after the turnaround wait, dropping their echo.
    fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        std::thread::sleep(self.turnaround);
        self.send_raw(bytes)?;
        if *self.echo == Echo::On {
            self.drop_echo(bytes)?;
        }
        Ok(())
    }

    /// Sends the header; with echo undetected, the first byte back tells. Returns a
    /// procedure byte already read, if the detection read one.
    fn send_header(&mut self, header: &[u8; 5]) -> Result<Option<u8>, Error> {
        if *self.echo != Echo::Auto {
            self.send(header)?;
            return Ok(None);
        }
        let [cla, ins, ..] = *header;
        // A procedure byte is INS, its complement, 60, 6x or 9x: a class byte that could be
        // one of these cannot tell echo from an answer.
        if cla == ins || cla == !ins || matches!(cla >> 4, 0x6 | 0x9) {
            return Err(self.error(format!(
                "cannot detect the reader's echo with class byte {cla:02X}: give `,echo=on` or `,echo=off` after the device"
            )));
        }
        std::thread::sleep(self.turnaround);
        self.send_raw(header)?;
        let first = self.recv()?;
        if first == cla {
            *self.echo = Echo::On;
            self.drop_echo(&header[1..])?;
            Ok(None)
        } else {
            *self.echo = Echo::Off;
            Ok(Some(first))
        }
    }
}

impl Link for T0Link<'_> {
    fn transfer(&mut self, tpdu: &Tpdu) -> Result<Vec<u8>, Error> {
        let ins = tpdu.header[1];
        let mut pending = self.send_header(&tpdu.header5())?;
        let mut sent = 0;
        let mut received = Vec::new();
        let expected = match tpdu.direction {
            Direction::In => tpdu.data.len(),
            Direction::Out => tpdu.expected(),
        };
        let mut nulls = 0;
        loop {
            let procedure = match pending.take() {
                Some(b) => b,
                None => self.recv()?,
            };
            let done = match tpdu.direction {
                Direction::In => sent,
                Direction::Out => received.len(),
            };
            match procedure {
                0x60 => {
                    nulls += 1;
                    if nulls > MAX_NULLS {
                        return Err(self.error("the card sent NULL procedure bytes without end"));
                    }
                }
                sw1 if matches!(sw1 >> 4, 0x6 | 0x9) => {
                    let sw2 = self.recv()?;
                    received.extend_from_slice(&[sw1, sw2]);
                    return Ok(received);
                }
                b if (b == ins || b == !ins) && done < expected => {
                    let n = if b == ins { expected - done } else { 1 };
                    match tpdu.direction {
                        Direction::In => {
                            let chunk = tpdu.data[sent..sent + n].to_vec();
                            self.send(&chunk)?;
                            sent += n;
                        }
                        Direction::Out => {
                            for _ in 0..n {
                                let b = self.recv()?;
                                received.push(b);
                            }
                        }
                    }
                }
                other => {
                    return Err(self.error(format!(
                        "the card sent an invalid procedure byte {other:02X} (INS {ins:02X}, {done} of {expected} data bytes moved)"
                    )));
                }
            }
        }
    }
}
