//! From a command APDU to T=0 transfers (ISO 7816-3 §12.2), shared by both serial backends:
//! a TLP224 reader takes each transfer as ISO INPUT or ISO OUTPUT, a raw reader's host sends
//! it byte by byte (`t0.rs`).
//!
//! The case is parsed from the APDU, not guessed from its length: case 1 is an incoming
//! transfer with P3 `00`; case 2 is outgoing with P3 = Le when the card reads P3 as Le
//! ([`outgoing`]: READ BINARY, GET CHALLENGE, …); otherwise (SELECT, UPDATE BINARY with
//! only a fifth byte: "case 3 with Lc 0") the card would read P3 as Lc and wait for data
//! that does not exist, so the header goes with Lc 0 and a `61xx` answer is fetched like
//! case 4's; case 3 is incoming; case 4 is
//! incoming, then, when the card answers `61xx`, GET RESPONSE with the smaller of `xx` and
//! Le (the card's `90 00` without data ends it: ISO 7816-3 lets the interface ask for the
//! data anyway, which this does not). Extended APDUs do not exist on T=0 and are refused
//! before anything is sent.

use super::super::Error;
use crate::apdu::{Case, Command};

/// Which way the data of a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// To the card (ISO INPUT): P3 is Lc.
    In,
    /// From the card (ISO OUTPUT): P3 is Le, `00` for 256.
    Out,
}

/// One T=0 transfer: header, P3 and, going in, the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tpdu {
    /// CLA INS P1 P2.
    pub header: [u8; 4],
    /// The fifth header byte.
    pub p3: u8,
    /// The data sent to the card (empty going out).
    pub data: Vec<u8>,
    /// Which way data goes.
    pub direction: Direction,
}

impl Tpdu {
    /// The five header bytes.
    pub fn header5(&self) -> [u8; 5] {
        let [cla, ins, p1, p2] = self.header;
        [cla, ins, p1, p2, self.p3]
    }

    /// How many bytes the card sends going out (P3 `00` is 256).
    pub fn expected(&self) -> usize {
        if self.p3 == 0 {
            256
        } else {
            usize::from(self.p3)
        }
    }
}

/// Instructions whose P3 is Lc (data goes in; a 5-byte command with one of them is a
/// header with Lc 0, not a request for 256 bytes): ISO 7816-4 and -9, INTERNAL
/// AUTHENTICATE (`88`, its answer comes by GET RESPONSE), and the file-card COS's
/// proprietary-class `5C`, `5E` and CREATE FILE `F2`.
const TAKES_DATA: &[u8] = &[
    0x04, 0x0E, 0x20, 0x24, 0x26, 0x28, 0x2C, 0x44, 0x82, 0x88, 0xD0, 0xD2, 0xD6, 0xDA, 0xDC, 0xDE,
    0xE0, 0xE2, 0xE4, 0xE6, 0xE8, 0x5C, 0x5E, 0xF2,
];

/// Instructions whose data flows from the card under T=0 (case 2): what a card's T=0 layer
/// uses to tell P3 = Le from P3 = Lc. Every other instruction takes data in.
const SENDS_DATA: &[u8] = &[0xB0, 0xB1, 0xB2, 0xB3, 0xC0, 0xCA, 0xCB, 0x84, 0x12];

/// Whether a card reads P3 of instruction `ins` as Le (true) or Lc (false).
pub fn card_sends_data(ins: u8) -> bool {
    SENDS_DATA.contains(&ins)
}

/// Whether the card reads P3 of this command as Le: an ISO instruction that sends data
/// ([`card_sends_data`]), GSM 11.11 STATUS (`A0 F2`; in other classes `F2` is the COS's
/// CREATE FILE, which takes data), or a proprietary class (bit 8 set) with an instruction
/// not known to take data.
pub fn outgoing(cla: u8, ins: u8) -> bool {
    (cla == 0xA0 && ins == 0xF2)
        || card_sends_data(ins)
        || (cla & 0x80 != 0 && !TAKES_DATA.contains(&ins))
}

/// After an incoming transfer that was meant to return data: `61xx` is followed by GET
/// RESPONSE with the smaller of `xx` and Le.
fn follow_61(link: &mut dyn Link, command: &Command, first: Vec<u8>) -> Result<Vec<u8>, Error> {
    let &[0x61, available] = first.as_slice() else {
        return Ok(first);
    };
    let available = if available == 0 {
        256
    } else {
        usize::from(available)
    };
    let le = command.le.unwrap_or(256).min(available);
    link.transfer(&Tpdu {
        header: [command.cla, 0xC0, 0x00, 0x00],
        p3: (le % 256) as u8,
        data: Vec::new(),
        direction: Direction::Out,
    })
}

/// Anything that carries one T=0 transfer to the card and returns data and SW1 SW2.
pub trait Link {
    /// Sends `tpdu` and returns what the card answered: data (going out) and the status word.
    fn transfer(&mut self, tpdu: &Tpdu) -> Result<Vec<u8>, Error>;
}

/// Sends a command APDU over `link` (see the module docs).
pub fn transmit(link: &mut dyn Link, apdu: &[u8], reader: &str) -> Result<Vec<u8>, Error> {
    let command = Command::parse(apdu)?;
    if command.is_extended() {
        return Err(Error::Unusable {
            reader: reader.to_string(),
            reason:
                "T=0 carries only short APDUs (an extended one needs ENVELOPE); nothing was sent"
                    .to_string(),
        });
    }
    let header = command.header();
    let incoming = |data: &[u8]| Tpdu {
        header,
        // At most 255 bytes in a short APDU.
        p3: data.len() as u8,
        data: data.to_vec(),
        direction: Direction::In,
    };
    let answer = match command.case() {
        Case::One => link.transfer(&incoming(&[]))?,
        Case::Two => {
            let le = command.le.unwrap_or(256);
            if !outgoing(command.cla, command.ins) {
                // The card reads P3 as Lc for this instruction: send the header with Lc 0
                // and fetch any data it announces, as for case 4.
                let first = link.transfer(&incoming(&[]))?;
                follow_61(link, &command, first)?
            } else {
                link.transfer(&Tpdu {
                    header,
                    p3: (le % 256) as u8,
                    data: Vec::new(),
                    direction: Direction::Out,
                })?
            }
        }
        Case::Three => link.transfer(&incoming(&command.data))?,
        Case::Four => {
            let first = link.transfer(&incoming(&command.data))?;
            follow_61(link, &command, first)?
        }
    };
    if answer.len() < 2 {
        return Err(Error::ShortResponse { len: answer.len() });
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records transfers and answers from a script.
    struct Script {
        sent: Vec<Tpdu>,
        answers: Vec<Vec<u8>>,
    }

    impl Link for Script {
        fn transfer(&mut self, tpdu: &Tpdu) -> Result<Vec<u8>, Error> {
            self.sent.push(tpdu.clone());
            Ok(self.answers.remove(0))
        }
    }

    fn run(apdu: &[u8], answers: &[&[u8]]) -> (Vec<Tpdu>, Vec<u8>) {
        let mut link = Script {
            sent: Vec::new(),
            answers: answers.iter().map(|a| a.to_vec()).collect(),
        };
        let out = transmit(&mut link, apdu, "test").unwrap();
        (link.sent, out)
    }

    #[test]
    fn cases_map_to_transfers() {
        // Case 1: in, P3 00.
        let (sent, _) = run(&[0, 0x20, 0, 1], &[&[0x63, 0xC3]]);
        assert_eq!(sent[0].direction, Direction::In);
        assert_eq!(sent[0].header5(), [0, 0x20, 0, 1, 0]);
        // Case 2: out, P3 = Le.
        let (sent, _) = run(&[0, 0xB0, 0, 0, 4], &[&[1, 2, 3, 4, 0x90, 0]]);
        assert_eq!((sent[0].direction, sent[0].p3), (Direction::Out, 4));
        // 5 bytes of an instruction that never returns data: in, Lc 0.
        let (sent, _) = run(&[0, 0xD6, 0, 0, 0], &[&[0x67, 0]]);
        assert_eq!((sent[0].direction, sent[0].p3), (Direction::In, 0));
        // Case 3.
        let (sent, _) = run(&[0, 0xD6, 0, 0, 2, 9, 9], &[&[0x90, 0]]);
        assert_eq!(
            (sent[0].direction, &sent[0].data[..]),
            (Direction::In, &[9, 9][..])
        );
        // Case 4: in, then GET RESPONSE with min(61xx, Le).
        let (sent, out) = run(
            &[0, 0xA4, 4, 0, 1, 0xA0, 2],
            &[&[0x61, 5], &[7, 7, 0x90, 0]],
        );
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].header5(), [0, 0xC0, 0, 0, 2]);
        assert_eq!(sent[1].direction, Direction::Out);
        assert_eq!(out, [7, 7, 0x90, 0]);
        // Case 4 refused: no GET RESPONSE.
        let (sent, out) = run(&[0, 0xA4, 4, 0, 1, 0xA0, 0], &[&[0x6A, 0x82]]);
        assert_eq!((sent.len(), out), (1, vec![0x6A, 0x82]));
    }

    #[test]
    fn extended_and_malformed_are_refused_unsent() {
        let mut link = Script {
            sent: Vec::new(),
            answers: Vec::new(),
        };
        assert!(transmit(&mut link, &[0, 0xB0, 0, 0, 0, 1, 0], "test").is_err());
        assert!(transmit(&mut link, &[0, 0xB0, 0], "test").is_err());
        assert!(link.sent.is_empty());
    }
}
