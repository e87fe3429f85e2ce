//! Frames sent in a raw channel, as the chip in the field takes them (protocols.md §3.6,
//! §6.2, Appendix B).
//!
//! - A card in ISO 14443-4 reads the first byte as a PCB: an I-block (with a CID byte when
//!   PCB bit 4 is set, a NAD byte when bit 3 is set) carries a command or, when chaining,
//!   a part of one; R- and S-blocks carry none; anything else is not a block and the card
//!   ignores it. A CID byte is taken whatever its value: a card with another CID ignores the
//!   block, which is harmless, and the simulated card answers it.
//! - A card at layer 3 (Ultralight, Classic) takes READ `30`, WRITE `A2`, COMPATIBILITY WRITE
//!   `A0 <page>` whose next frame is its data (or, in this simulator, `A0 <page> <16>` in one
//!   frame), HALT `50 00` and RATS `E0 xx`; anything else is reported as it is.

use std::ops::Range;

use super::{FrameState, MAX_CHAIN, Protocol};

/// PCB bits (ISO/IEC 14443-4).
const I_MASK: u8 = 0xE2;
const I_BITS: u8 = 0x02;
const R_MASK: u8 = 0xE6;
const R_BITS: u8 = 0xA2;
const S_MASK: u8 = 0xC7;
const S_BITS: u8 = 0xC2;
const CHAINING: u8 = 0x10;
const CID_FOLLOWING: u8 = 0x08;
const NAD_FOLLOWING: u8 = 0x04;
const NUMBER_BIT: u8 = 0x01;
const S_KIND: u8 = 0x30;

/// The prologue of an I-block, echoed in the card's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The block number bit (0 or 1).
    pub number: u8,
    /// The CID byte, when the PCB announces one.
    pub cid: Option<u8>,
    /// The NAD byte, when the PCB announces one.
    pub nad: Option<u8>,
}

impl Header {
    /// An I-block with this prologue (unchained) carrying `payload`.
    pub fn i_block(&self, payload: &[u8]) -> Vec<u8> {
        let mut pcb = I_BITS | self.number;
        if self.cid.is_some() {
            pcb |= CID_FOLLOWING;
        }
        if self.nad.is_some() {
            pcb |= NAD_FOLLOWING;
        }
        let mut bytes = vec![pcb];
        bytes.extend(self.cid);
        bytes.extend(self.nad);
        bytes.extend_from_slice(payload);
        bytes
    }

    /// The R(ACK) that acknowledges a chained I-block with this prologue.
    pub fn r_ack(&self) -> Vec<u8> {
        let mut pcb = R_BITS | self.number;
        if self.cid.is_some() {
            pcb |= CID_FOLLOWING;
        }
        let mut bytes = vec![pcb];
        bytes.extend(self.cid);
        bytes
    }
}

/// A layer-3 command (Ultralight, and the same frames to a Classic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer3 {
    /// READ `30 <page>`.
    Read {
        /// The first page.
        page: u8,
    },
    /// WRITE `A2 <page> <4 bytes>`.
    Write {
        /// The page.
        page: u8,
        /// Its 4 bytes.
        data: [u8; 4],
    },
    /// COMPATIBILITY WRITE, first frame `A0 <page>`: the next frame is its data.
    CompatStart {
        /// The page announced.
        page: u8,
    },
    /// COMPATIBILITY WRITE data: the frame after `A0 <page>` (any length; 16 is valid), or
    /// `A0 <page> <16 bytes>` in one frame.
    CompatWrite {
        /// The page announced.
        page: u8,
        /// The data frame as sent.
        data: Vec<u8>,
    },
    /// HALT `50 00`.
    Halt,
    /// RATS `E0 <param>`.
    Rats {
        /// FSDI and CID.
        param: u8,
    },
    /// Any other frame, as sent.
    Other(Vec<u8>),
}

/// A frame as the chip takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// ISO 14443-4: the last (or only) I-block of a command; `command` is the whole command,
    /// chained parts included.
    Command {
        /// The prologue to answer with.
        header: Header,
        /// The command.
        command: Vec<u8>,
    },
    /// ISO 14443-4: a chaining I-block; the card keeps the part and answers R(ACK).
    Part {
        /// The prologue to acknowledge.
        header: Header,
    },
    /// ISO 14443-4: an R-block, S(WTX), or an S(DESELECT) (`deselect`): no command.
    Control {
        /// The block is S(DESELECT): the card leaves the protocol.
        deselect: bool,
        /// The frame as sent (a card not in the protocol would read it as a command).
        bytes: Vec<u8>,
    },
    /// ISO 14443-4: not a block; the card ignores it.
    Unframed(Vec<u8>),
    /// A layer-3 command.
    Layer3(Layer3),
}

/// Decodes one delivered frame and updates the state.
pub(super) fn decode(protocol: Protocol, state: &mut FrameState, bytes: &[u8]) -> Frame {
    match protocol {
        Protocol::Layer3 => Frame::Layer3(layer3(state, bytes)),
        Protocol::IsoDep => iso_dep(state, bytes),
    }
}

fn layer3(state: &mut FrameState, bytes: &[u8]) -> Layer3 {
    if let Some(page) = state.compat.take() {
        return Layer3::CompatWrite {
            page,
            data: bytes.to_vec(),
        };
    }
    match *bytes {
        [0x30, page] => Layer3::Read { page },
        [0xA2, page, a, b, c, d] => Layer3::Write {
            page,
            data: [a, b, c, d],
        },
        [0xA0, page] => {
            state.compat = Some(page);
            Layer3::CompatStart { page }
        }
        [0xA0, page, ref data @ ..] if data.len() == 16 => Layer3::CompatWrite {
            page,
            data: data.to_vec(),
        },
        [0x50, 0x00] => Layer3::Halt,
        [0xE0, param] => Layer3::Rats { param },
        _ => Layer3::Other(bytes.to_vec()),
    }
}

/// An I-block's prologue and where its information field starts; `None` if `bytes` is no
/// I-block.
fn i_block(bytes: &[u8]) -> Option<(Header, bool, usize)> {
    let pcb = *bytes.first()?;
    if pcb & I_MASK != I_BITS {
        return None;
    }
    let mut at = 1;
    let mut next = |present: bool| -> Option<Option<u8>> {
        if !present {
            return Some(None);
        }
        let byte = *bytes.get(at)?;
        at += 1;
        Some(Some(byte))
    };
    let cid = next(pcb & CID_FOLLOWING != 0)?;
    let nad = next(pcb & NAD_FOLLOWING != 0)?;
    let header = Header {
        number: pcb & NUMBER_BIT,
        cid,
        nad,
    };
    Some((header, pcb & CHAINING != 0, at))
}

fn iso_dep(state: &mut FrameState, bytes: &[u8]) -> Frame {
    state.compat = None;
    if let Some((header, chaining, start)) = i_block(bytes) {
        let inf = &bytes[start..];
        let mut command = state.chain.take().unwrap_or_default();
        if command.len() + inf.len() > MAX_CHAIN {
            return Frame::Unframed(bytes.to_vec());
        }
        command.extend_from_slice(inf);
        if chaining {
            state.chain = Some(command);
            return Frame::Part { header };
        }
        return Frame::Command { header, command };
    }
    match bytes.first() {
        Some(pcb) if pcb & R_MASK == R_BITS => Frame::Control {
            deselect: false,
            bytes: bytes.to_vec(),
        },
        Some(pcb) if pcb & S_MASK == S_BITS => {
            let deselect = pcb & S_KIND == 0;
            if deselect {
                state.chain = None;
            }
            Frame::Control {
                deselect,
                bytes: bytes.to_vec(),
            }
        }
        _ => Frame::Unframed(bytes.to_vec()),
    }
}

/// Where in a frame the command it carries sits: the information field of an I-block, or
/// the whole frame when it is no I-block (the trace masks both readings).
pub(super) fn command_span(frame: &[u8]) -> Range<usize> {
    match i_block(frame) {
        Some((_, _, start)) => start..frame.len(),
        None => 0..frame.len(),
    }
}
