//! A simulated raw serial reader ("dumb mouse") with a T=0 card in it: the card side of
//! ISO 7816-3 T=0 byte by byte, optionally with the reader's echo and an inverse-convention
//! card.
//!
//! The byte `96` at a command boundary stands for the RST line, which a pseudo-terminal
//! cannot carry (`reader::serial::phoenix`): the card answers with its ATR. To exercise the
//! host's procedure-byte handling, every incoming transfer takes its first byte after the
//! complement of INS and the rest after INS, and every answer is preceded by a NULL (`60`).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::reader::serial::line::{Convention, Line};
use crate::reader::serial::phoenix::RESET_BYTE;
use crate::reader::serial::tpdu::outgoing;

use super::card_side::T0Card;

/// How the simulated raw reader behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MouseOptions {
    /// Echo every byte the host sends, as readers with a looped-back I/O line do.
    pub echo: bool,
    /// Play an inverse-convention card (TS `3F`).
    pub inverse: bool,
}

/// How long the card waits for the rest of a command before dropping it.
const PATIENCE: Duration = Duration::from_secs(2);

/// The simulated reader and its card.
pub(crate) struct Mouse<'a> {
    line: &'a mut dyn Line,
    card: T0Card,
    options: MouseOptions,
    convention: Convention,
    powered: bool,
}

impl<'a> Mouse<'a> {
    pub(crate) fn new(line: &'a mut dyn Line, card: T0Card, options: MouseOptions) -> Self {
        let convention = if options.inverse {
            Convention::Inverse
        } else {
            Convention::Direct
        };
        Mouse {
            line,
            card,
            options,
            convention,
            powered: false,
        }
    }

    /// One byte from the host, echoed if the reader echoes; `None` on timeout.
    fn recv_raw(&mut self, timeout: Duration) -> io::Result<Option<u8>> {
        let byte = self.line.recv(timeout)?;
        if let (Some(b), true) = (byte, self.options.echo) {
            self.line.send(&[b])?;
        }
        Ok(byte)
    }

    fn recv(&mut self) -> io::Result<Option<u8>> {
        Ok(self.recv_raw(PATIENCE)?.map(|b| self.convention.code(b)))
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let coded: Vec<u8> = bytes.iter().map(|&b| self.convention.code(b)).collect();
        self.line.send(&coded)
    }

    /// Serves until `stop` is set.
    pub(crate) fn serve(&mut self, stop: &AtomicBool) -> io::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            let byte = match self.recv_raw(Duration::from_millis(100)) {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    // No host has the device open: wait for one.
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if byte == RESET_BYTE {
                let mut atr = self.card.reset();
                if self.options.inverse {
                    if let Some(ts) = atr.first_mut() {
                        *ts = 0x3F;
                    }
                }
                self.powered = true;
                self.send(&atr)?;
                continue;
            }
            if !self.powered {
                continue;
            }
            let mut header = [self.convention.code(byte), 0, 0, 0, 0];
            let mut complete = true;
            for slot in header.iter_mut().skip(1) {
                match self.recv()? {
                    Some(b) => *slot = b,
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if complete {
                self.command(header)?;
            }
        }
        Ok(())
    }

    fn command(&mut self, header: [u8; 5]) -> io::Result<()> {
        let [cla, ins, p1, p2, p3] = header;
        let head = [cla, ins, p1, p2];
        if matches!(ins >> 4, 0x6 | 0x9) {
            // Such an INS would read as a status byte: ISO 7816-3 makes it invalid.
            return self.send(&[0x6D, 0x00]);
        }
        if outgoing(cla, ins) {
            let answer = self.card.outgoing(head, p3);
            if answer.len() == 2 {
                return self.send(&[0x60, answer[0], answer[1]]);
            }
            let mut out = vec![0x60, ins];
            out.extend_from_slice(&answer);
            return self.send(&out);
        }
        let mut data = Vec::with_capacity(usize::from(p3));
        if p3 > 0 {
            self.send(&[!ins])?;
            match self.recv()? {
                Some(b) => data.push(b),
                None => return Ok(()),
            }
            if p3 > 1 {
                self.send(&[ins])?;
                for _ in 1..p3 {
                    match self.recv()? {
                        Some(b) => data.push(b),
                        None => return Ok(()),
                    }
                }
            }
        }
        let sw = self.card.incoming(head, &data);
        self.send(&[0x60, sw[0], sw[1]])
    }
}
