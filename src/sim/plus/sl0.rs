//! What a MIFARE Plus S in security level 0 does with the commands it receives
//! (protocols.md §3.2–§3.4, §3.6, §3.7), and how the card answers generic-session frames.
//!
//! Commands arrive as the information field of ISO 14443-4 I-blocks: either through the
//! reader's pass-through (the reader frames them) or inside an I-block the host framed itself
//! in the Omnikey generic session (workaround B of §3.6). The answer is one status byte
//! (§3.2). This file decides; it does not frame pass-through answers (the reader sends the
//! status byte back as it is, §3.7 "Omnikey = raw status byte").

use super::Sl0;
use crate::mifare::classic::{BLOCK_SIZE, Layout};
use crate::mifare::plus::{
    Address, COMMIT_PERSO, COMMIT_REQUIRED, STATUS_OK, WRITE_PERSO, write_perso_address,
};
use crate::reader::framing::{Frame, Layer3};

/// `09`: block number not valid (outside the map, block 0, beyond 2K on a 2K card; §3.2).
const INVALID_BLOCK: u8 = 0x09;
/// `0B`: command not available in the current state (§3.2).
const NOT_IN_STATE: u8 = 0x0B;
/// `0C`: length error (§3.2).
const LENGTH_ERROR: u8 = 0x0C;

/// The ATS of a MIFARE Plus as §2.4 illustrates it (the value is an illustrative guess
/// there, UNCONFIRMED): `TL T0 TA TB TC` then the historical bytes `C1 05 2F 2F 01 BC D6`.
pub(super) const ATS: [u8; 12] = [
    0x0C, 0x75, 0x77, 0x80, 0x02, 0xC1, 0x05, 0x2F, 0x2F, 0x01, 0xBC, 0xD6,
];

impl Sl0 {
    /// Answers one command (the information field of an I-block) with a status byte;
    /// `None` for an empty command, which no reader sends.
    pub(super) fn command(&mut self, layout: Layout, command: &[u8]) -> Option<u8> {
        Some(match *command {
            [] => return None,
            [WRITE_PERSO, ..] => self.write_perso(layout, command),
            [COMMIT_PERSO] => self.commit_perso(),
            // The EV1 form `AA 01`/`AA 03` (§3.2): an S card has no parameter byte. Which
            // status it answers is UNCONFIRMED; a length error is the plausible one.
            [COMMIT_PERSO, ..] => LENGTH_ERROR,
            // What an SL0 card answers to other commands is UNCONFIRMED; §3.2 has "command
            // not available in the current state" for SL3 commands sent in SL0.
            _ => NOT_IN_STATE,
        })
    }

    /// WritePerso `A8 <addr LSB> <addr MSB> <16 bytes>` (§3.2, §3.3, §3.7).
    fn write_perso(&mut self, layout: Layout, command: &[u8]) -> u8 {
        // After CommitPerso and before the next activation the card still answers as SL0;
        // that it refuses further writes then is UNCONFIRMED (it keeps the commit coherent).
        if self.committed {
            return NOT_IN_STATE;
        }
        let Some(addr) = write_perso_address(command) else {
            return LENGTH_ERROR;
        };
        // An S card takes one block per command; 16·k bytes is the EV1 form (§3.2).
        let Ok(data) = <[u8; BLOCK_SIZE]>::try_from(&command[3..]) else {
            return LENGTH_ERROR;
        };
        match Address::from_u16(addr) {
            Some(address) if address.is_perso_writable(layout) => {
                self.written.insert(addr, data);
                STATUS_OK
            }
            // Not in the map (the level probe `A8 90 90 …` of §3.1 lands here and writes
            // nothing), block 0, or beyond 2K on a 2K card.
            _ => INVALID_BLOCK,
        }
    }

    /// CommitPerso `AA` (§3.2, §3.4): needs 9000, 9001 and 9003. The status for missing keys
    /// is UNCONFIRMED (`0B` or `0C` per §3.7); `0B` is used. A second commit before the
    /// level switch gets `0B` too (UNCONFIRMED).
    fn commit_perso(&mut self) -> u8 {
        let complete = COMMIT_REQUIRED
            .iter()
            .all(|key| self.written.contains_key(&key.to_u16()));
        if self.committed || !complete {
            return NOT_IN_STATE;
        }
        self.committed = true;
        STATUS_OK
    }

    /// A frame from the Omnikey generic session (§1.1), as the framing decoder read it.
    ///
    /// The card is in the ISO 14443-4 protocol state (the reader did RATS when it arrived),
    /// so a frame is answered only if it is an I-block (§3.6, workaround B): the answer is an
    /// I-block with the same block number, CID and NAD carrying the status byte; a chaining
    /// I-block gets R(ACK) and its part is kept until the last one. A frame that is not a
    /// valid block (`A8 00 90 …` unframed, §3.6 step 2) and a second RATS (step 3) get no
    /// answer; both rules are UNCONFIRMED from the standard's text but match the forum's
    /// `64 00`. R- and S-blocks get no answer either.
    pub(super) fn frame(&mut self, layout: Layout, frame: &Frame) -> Option<Vec<u8>> {
        match frame {
            Frame::Command { header, command } => {
                let status = self.command(layout, command)?;
                Some(header.i_block(&[status]))
            }
            Frame::Part { header } => Some(header.r_ack()),
            _ => None,
        }
    }
}

/// A generic-session frame to a card in SL1. The reader handled it as a MIFARE Classic and
/// never sent RATS, so a RATS gets the ATS (the forum's `00 00 0C 7x …`, §3.6); what the
/// card does in ISO 14443-4 afterwards is not simulated. Crypto1 frames are not simulated
/// either (the reader runs Crypto1 itself, §0), so nothing else is answered.
pub(super) fn sl1_frame(frame: &Frame) -> Option<Vec<u8>> {
    match frame {
        Frame::Layer3(Layer3::Rats { .. }) => Some(ATS.to_vec()),
        _ => None,
    }
}
