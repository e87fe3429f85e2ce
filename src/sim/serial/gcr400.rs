//! A simulated Gemplus GCR400 in TLP224 mode: frames in, frames out, the card behind it
//! powered by POWER ON and reached by ISO INPUT / ISO OUTPUT.
//!
//! It inserts `11 00` after TS in the ATR it returns, as the source saw real readers do,
//! so the backend's removal of those bytes is exercised. A corrupt frame is answered with a
//! NACK; a NACK makes it repeat its last response without executing anything again.
//! Statuses: `00`, `E7` (SW not `90 00`, the SW in the data), `FB` (no card), `04` (unknown
//! command), `02` (ISO command to an unpowered card).

use crate::reader::serial::frame::{self, Collector, Message};
use crate::reader::serial::tlp224::{
    ISO_INPUT, ISO_OUTPUT, POWER_OFF, STATUS_ABSENT, STATUS_CARD_SW,
};

use super::card_side::T0Card;

/// What the simulated reader inserts after TS.
pub(crate) const INSERTED: [u8; 2] = [0x11, 0x00];
/// Coupler type and card type in the POWER ON answer (values UNCONFIRMED).
const COUPLER: u8 = 0x01;
const CARD_TYPE: u8 = 0x02;

/// The reader's state.
pub(crate) struct Gcr400 {
    card: Option<T0Card>,
    powered: bool,
    collector: Collector,
    last: Vec<u8>,
}

impl Gcr400 {
    /// A reader holding `card` (or none).
    pub(crate) fn new(card: Option<T0Card>) -> Gcr400 {
        Gcr400 {
            card,
            powered: false,
            collector: Collector::default(),
            last: frame::encode(&[0x00]),
        }
    }

    /// Takes one byte from the host; returns the bytes to send back, if a message ended.
    pub(crate) fn receive(&mut self, byte: u8) -> Option<Vec<u8>> {
        let message = self.collector.push(byte)?;
        Some(match message {
            Ok(Message::Ack(body)) => {
                let answer = frame::encode(&self.execute(&body));
                self.last = answer.clone();
                answer
            }
            Ok(Message::Nack) => self.last.clone(),
            Err(_) => frame::encode_nack(),
        })
    }

    fn execute(&mut self, body: &[u8]) -> Vec<u8> {
        let Some((&command, args)) = body.split_first() else {
            return vec![0x04];
        };
        match command {
            0x01 => vec![0x00, 0x00],
            0x02 => vec![0x00],
            0x6E => match &mut self.card {
                None => vec![STATUS_ABSENT],
                Some(card) => {
                    let atr = card.reset();
                    self.powered = true;
                    let mut raw = vec![atr.first().copied().unwrap_or(0x3B)];
                    raw.extend_from_slice(&INSERTED);
                    raw.extend_from_slice(atr.get(1..).unwrap_or_default());
                    let mut out = vec![0x00, COUPLER, CARD_TYPE, raw.len() as u8];
                    out.extend_from_slice(&raw);
                    out
                }
            },
            POWER_OFF => {
                self.powered = false;
                vec![0x00, 0x90, 0x00]
            }
            ISO_INPUT | ISO_OUTPUT => {
                let Some(card) = &mut self.card else {
                    return vec![STATUS_ABSENT];
                };
                if !self.powered {
                    return vec![0x02];
                }
                let &[cla, ins, p1, p2, p3, ref data @ ..] = args else {
                    return vec![0x03];
                };
                let header = [cla, ins, p1, p2];
                let answer = if command == ISO_INPUT {
                    if data.len() != usize::from(p3) {
                        return vec![0x03];
                    }
                    card.incoming(header, data).to_vec()
                } else {
                    if !data.is_empty() {
                        return vec![0x03];
                    }
                    card.outgoing(header, p3)
                };
                let ok = answer.ends_with(&[0x90, 0x00]);
                let mut out = vec![if ok { 0x00 } else { STATUS_CARD_SW }];
                out.extend_from_slice(&answer);
                out
            }
            _ => vec![0x04],
        }
    }
}
