//! Tests of `ul::` and the Ultralight ticket scripts against a tiny in-test reader that
//! answers what the simulator's front-end will: `FF CA`, `FF B0`, `FF D6` and the Omnikey
//! generic session, over the simulated chip. One file per area: `api` (each function),
//! `tickets` (`scripts/ultralight_ticket.rhai` and `scripts/ultralight_validate.rhai`, issue
//! then gate) and `inputs` (their dates, variables, key and demo files).

mod api;
mod inputs;
mod tickets;

use std::cell::RefCell;
use std::rc::Rc;

use crate::apdu::hex;
use crate::reader::guard::Guarded;
use crate::reader::{Card, Error};
use crate::sim::ultralight::Ultralight;
use crate::test_support::{Run, SentLog, run_script};

/// PC/SC Part 3 ATR of a MIFARE Ultralight (protocols.md §2.3).
const ATR: [u8; 20] = [
    0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x03, 0x00,
    0x00, 0x00, 0x00, 0x68,
];

const UID: [u8; 7] = [0x04, 0xE1, 0x5C, 0x32, 0xA6, 0x3F, 0x80];

type Chip = Rc<RefCell<Ultralight>>;

fn chip() -> Chip {
    Rc::new(RefCell::new(Ultralight::new(UID)))
}

/// The reader with the tag in it; records every command it is sent.
struct Reader {
    chip: Chip,
    sent: SentLog,
    session: bool,
}

impl Reader {
    fn answer(&mut self, command: &[u8]) -> (Vec<u8>, u16) {
        let mut chip = self.chip.borrow_mut();
        let done = |result: Result<Vec<u8>, _>| result.map_or((vec![], 0x6300), |d| (d, 0x9000));
        match command {
            [0xFF, 0xCA, 0x00, 0x00, 0x00] => (chip.uid().to_vec(), 0x9000),
            [0xFF, 0xB0, 0x00, page, 0x10] => done(chip.read4(*page).map(|d| d.to_vec())),
            [0xFF, 0xB0, 0x00, page, 0x04] => done(chip.read1(*page).map(|d| d.to_vec())),
            [0xFF, 0xD6, 0x00, page, 0x04, a, b, c, d] => {
                done(chip.write_page(*page, [*a, *b, *c, *d]).map(|()| vec![]))
            }
            [0xFF, 0xA0, 0x00, 0x07, 0x03, 0x01, 0x00, p3 @ (0x01 | 0x02)] => {
                self.session = *p3 == 0x01;
                (vec![], 0x9000)
            }
            [
                0xFF,
                0xA0,
                0x00,
                0x05,
                lc,
                0x01,
                0x00,
                0xF3,
                0x00,
                0x00,
                0x64,
                rest @ ..,
                0x00,
            ] if self.session && usize::from(*lc) == rest.len() + 6 => match chip.frame(rest) {
                Some(answer) => ([vec![0x00, 0x00], answer].concat(), 0x9000),
                None => (vec![], 0x6400),
            },
            _ => (vec![], 0x6A81),
        }
    }
}

impl Card for Reader {
    fn atr(&self) -> &[u8] {
        &ATR
    }
    fn reader_name(&self) -> &str {
        "test reader"
    }
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        self.sent.borrow_mut().push(hex::format(command));
        let (mut data, sw) = self.answer(command);
        data.extend(sw.to_be_bytes());
        Ok(data)
    }
    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        self.chip.borrow_mut().reset();
        Ok(ATR.to_vec())
    }
}

/// Runs `source` against the tag, behind the guard as the command line does.
fn run_on(chip: &Chip, source: &str, armed: bool, vars: &[(&str, &str)]) -> Run {
    run_script(source, armed, vars, |sent| {
        let reader = Reader {
            chip: chip.clone(),
            sent,
            session: false,
        };
        Box::new(Guarded::new(Box::new(reader), armed))
    })
}
