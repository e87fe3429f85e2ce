//! The card side of T=0 transfers for any simulated [`Card`]: what a card's T=0 layer does
//! with a header and its data, so a simulated card of either protocol can sit behind a
//! simulated serial reader.
//!
//! A card that already speaks T=0 (the `iso7816-t0` kind) answers `61xx`/`6Cxx` itself and
//! passes through. A card that answers data directly (the T=1 `iso7816` kind) is fitted to
//! T=0 here: data after an incoming transfer is kept and announced with `61xx` (GET RESPONSE
//! hands it out), and an outgoing transfer whose P3 is not the length of the data gets
//! `6Cxx` (the card repeats the command when asked again, as a T=0 card does).

use crate::reader::Card;

/// A simulated card behind a T=0 interface.
pub(crate) struct T0Card {
    card: Box<dyn Card + Send>,
    /// Data waiting for GET RESPONSE (T=1 cards only).
    pending: Vec<u8>,
}

fn split(mut answer: Vec<u8>) -> (Vec<u8>, [u8; 2]) {
    if answer.len() < 2 {
        // A simulated card always answers a status word; "no precise diagnosis" otherwise.
        return (Vec::new(), [0x6F, 0x00]);
    }
    let sw2 = answer.pop().unwrap_or_default();
    let sw1 = answer.pop().unwrap_or_default();
    (answer, [sw1, sw2])
}

fn available(n: usize) -> [u8; 2] {
    [0x61, if n >= 256 { 0 } else { n as u8 }]
}

impl T0Card {
    /// Wraps `card`.
    pub(crate) fn new(card: Box<dyn Card + Send>) -> T0Card {
        T0Card {
            card,
            pending: Vec::new(),
        }
    }

    /// Powers the card up again: its ATR.
    pub(crate) fn reset(&mut self) -> Vec<u8> {
        self.pending.clear();
        self.card
            .reset()
            .unwrap_or_else(|_| self.card.atr().to_vec())
    }

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.card
            .transmit(apdu)
            .unwrap_or_else(|_| vec![0x6F, 0x00])
    }

    /// An incoming transfer (P3 = Lc, `data` received): the status word.
    pub(crate) fn incoming(&mut self, header: [u8; 4], data: &[u8]) -> [u8; 2] {
        self.pending.clear();
        let mut apdu = header.to_vec();
        if !data.is_empty() {
            apdu.push(data.len() as u8);
            apdu.extend_from_slice(data);
        }
        let (data, sw) = split(self.transmit(&apdu));
        if data.is_empty() {
            return sw;
        }
        let sw = available(data.len());
        self.pending = data;
        sw
    }

    /// An outgoing transfer (P3 = Le, `00` for 256): data and status word.
    pub(crate) fn outgoing(&mut self, header: [u8; 4], p3: u8) -> Vec<u8> {
        let le = if p3 == 0 { 256 } else { usize::from(p3) };
        if header[1] == 0xC0 && !self.pending.is_empty() {
            if le > self.pending.len() {
                return vec![0x6C, self.pending.len() as u8];
            }
            let mut out: Vec<u8> = self.pending.drain(..le).collect();
            let sw = if self.pending.is_empty() {
                [0x90, 0x00]
            } else {
                available(self.pending.len())
            };
            out.extend_from_slice(&sw);
            return out;
        }
        self.pending.clear();
        let mut apdu = header.to_vec();
        apdu.push(p3);
        let (mut data, sw) = split(self.transmit(&apdu));
        if data.is_empty() {
            return sw.to_vec();
        }
        if data.len() != le {
            return vec![0x6C, (data.len() % 256) as u8];
        }
        data.extend_from_slice(&sw);
        data
    }
}
