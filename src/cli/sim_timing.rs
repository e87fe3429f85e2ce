//! `sim serve --timing PATH`: when each command reached the served card, for
//! `benches/stack.sh`.
//!
//! Seen from the card, the time between two commands of a loop is the whole round trip of
//! one APDU (vpcd, pcscd, the client and back), and no client's start-up or exit is in it,
//! so every client is measured by the same clock in the same way. The record starts with
//! the UID query (`FF CA`) `sim serve` sends itself to name the card. Arrival times are kept in
//! memory (16 bytes a command) and written when the server stops, so that measuring adds
//! no write to any exchange. This module measures; it does not interpret the times.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use crate::reader::{Card, Error};

/// Arrival times of commands, shared by every card the server presents.
#[derive(Clone)]
pub(super) struct Timings {
    started: Instant,
    arrivals: Rc<RefCell<Vec<Arrival>>>,
}

#[derive(Clone, Copy)]
struct Arrival {
    nanos: u64,
    /// The command's CLA and INS, enough to tell a loop's commands apart.
    header: [u8; 2],
}

impl Timings {
    /// An empty record; times count from now.
    pub(super) fn new() -> Timings {
        Timings {
            started: Instant::now(),
            arrivals: Rc::default(),
        }
    }

    /// Wraps `card` so that each command's arrival is recorded here.
    pub(super) fn wrap(&self, card: Box<dyn Card>) -> Box<dyn Card> {
        Box::new(Timed {
            inner: card,
            timings: self.clone(),
        })
    }

    /// Writes one line per command, `NANOSECONDS CLA INS` (hex), in arrival order.
    pub(super) fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut out = BufWriter::new(File::create(path)?);
        for arrival in self.arrivals.borrow().iter() {
            let [cla, ins] = arrival.header;
            writeln!(out, "{} {cla:02X} {ins:02X}", arrival.nanos)?;
        }
        out.flush()
    }
}

struct Timed {
    inner: Box<dyn Card>,
    timings: Timings,
}

impl Card for Timed {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }

    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        // Nanoseconds since the start fit a u64 for 584 years.
        let nanos = self.timings.started.elapsed().as_nanos() as u64;
        let header = [
            command.first().copied().unwrap_or(0),
            command.get(1).copied().unwrap_or(0),
        ];
        self.timings
            .arrivals
            .borrow_mut()
            .push(Arrival { nanos, header });
        self.inner.transmit(command)
    }

    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        self.inner.reset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{self, Simulator};

    #[test]
    fn records_every_command_in_order_and_writes_them() {
        let timings = Timings::new();
        let simulator = Simulator::new(sim::Kind::Iso7816, &sim::Options::default());
        let mut card = timings.wrap(simulator.card());
        let select = card.transmit(&[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0x00]);
        assert_eq!(select.unwrap(), [0x90, 0x00]);
        let read = card.transmit(&[0x00, 0xB0, 0x00, 0x00, 0x10]).unwrap();
        assert_eq!(read.len(), 18, "the card still answers through the wrapper");
        // Too short to have an INS: recorded all the same, as `00 00`.
        assert_eq!(card.transmit(&[]).unwrap(), [0x67, 0x00]);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timing");
        timings.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
        let headers: Vec<[&str; 2]> = lines.iter().map(|l| [l[1], l[2]]).collect();
        assert_eq!(headers, [["00", "A4"], ["00", "B0"], ["00", "00"]]);
        let nanos: Vec<u64> = lines.iter().map(|l| l[0].parse().unwrap()).collect();
        assert!(nanos.windows(2).all(|w| w[0] <= w[1]), "{nanos:?}");
    }
}
