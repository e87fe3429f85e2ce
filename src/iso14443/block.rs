//! ISO/IEC 14443-4 block framing: the PCB, the optional CID byte and the information field
//! (protocols.md Appendix B).
//!
//! Blocks here are the prologue and INF only: the CRC_A epilogue is added and checked with
//! [`super::crc`]. This file builds and classifies blocks; it does not run the half-duplex
//! protocol (retransmission, chaining reassembly, WTX timing), which belongs to whoever
//! talks to the card or plays it.

use super::Error;
use super::number::BlockNumber;

/// PCB bits shared by the three block kinds (ISO/IEC 14443-4 block format).
const CID_FOLLOWING: u8 = 0x08;
const NUMBER_BIT: u8 = 0x01;

/// I-block: `000x xx1x`; b5 chaining, b3 NAD following.
const I_MASK: u8 = 0xE2;
const I_BITS: u8 = 0x02;
const I_CHAINING: u8 = 0x10;
const I_NAD_FOLLOWING: u8 = 0x04;

/// R-block: `101x x01x`; b5 set for NAK.
const R_MASK: u8 = 0xE6;
const R_BITS: u8 = 0xA2;
const R_NAK: u8 = 0x10;

/// S-block: `11xx x010`; b6 b5 are `00` for DESELECT and `11` for WTX.
const S_MASK: u8 = 0xC7;
const S_BITS: u8 = 0xC2;
const S_KIND_MASK: u8 = 0x30;
const S_DESELECT: u8 = 0x00;
const S_WTX: u8 = 0x30;

/// The low four bits of a CID byte; the top two carry the power level indication.
const CID_MASK: u8 = 0x0F;
/// b6 b5 of a CID byte, which must be zero.
const CID_RESERVED: u8 = 0x30;
/// The low six bits of the S(WTX) INF byte; the top two carry the power level indication.
const WTXM_MASK: u8 = 0x3F;

/// The highest CID; 15 is reserved by ISO/IEC 14443-4.
pub const MAX_CID: u8 = 14;
/// The highest waiting time extension multiplier; 0 and 60 to 63 are reserved.
pub const MAX_WTXM: u8 = 59;

/// Acknowledgement carried by an R-block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RKind {
    /// R(ACK): the block was received; during chaining, "send the next part".
    Ack,
    /// R(NAK): the block was not received correctly; readers also use it as a presence check.
    Nak,
}

/// Supervisory request carried by an S-block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SKind {
    /// S(DESELECT): puts the card into the HALT state.
    Deselect,
    /// S(WTX): the card asks for `wtxm` times its frame waiting time; the reader echoes it.
    Wtx {
        /// Waiting time extension multiplier, 1 to [`MAX_WTXM`].
        wtxm: u8,
    },
}

/// One ISO/IEC 14443-4 block without its CRC_A.
///
/// NAD is not modelled: a reader that sends none never receives one, and blocks announcing
/// a NAD are rejected by [`parse_block`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Block {
    /// Information block: carries application data (an APDU or a part of one).
    I {
        /// Block number, PCB bit b1.
        number: BlockNumber,
        /// More data follows in the next I-block (PCB bit b5).
        chaining: bool,
        /// Card identifier, 0 to [`MAX_CID`], when the PCB announces one.
        cid: Option<u8>,
        /// The information field.
        payload: Vec<u8>,
    },
    /// Receive-ready block: acknowledges or rejects an I-block; no information field.
    R {
        /// ACK or NAK.
        kind: RKind,
        /// Block number, PCB bit b1.
        number: BlockNumber,
        /// Card identifier, 0 to [`MAX_CID`], when the PCB announces one.
        cid: Option<u8>,
    },
    /// Supervisory block: DESELECT or a waiting time extension.
    S {
        /// DESELECT or WTX.
        kind: SKind,
        /// Card identifier, 0 to [`MAX_CID`], when the PCB announces one.
        cid: Option<u8>,
    },
}

impl Block {
    /// Encodes the block as PCB, optional CID byte and INF, ready for [`super::append_crc_a`].
    ///
    /// Power level bits are written as zero. Fails on a CID above [`MAX_CID`] or a WTXM
    /// outside 1 to [`MAX_WTXM`].
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let (mut pcb, cid, inf): (u8, Option<u8>, &[u8]) = match self {
            Block::I {
                number,
                chaining,
                cid,
                payload,
            } => {
                let chaining = if *chaining { I_CHAINING } else { 0 };
                (I_BITS | chaining | number.bit(), *cid, payload)
            }
            Block::R { kind, number, cid } => {
                let nak = if *kind == RKind::Nak { R_NAK } else { 0 };
                (R_BITS | nak | number.bit(), *cid, &[])
            }
            Block::S {
                kind: SKind::Deselect,
                cid,
            } => (S_BITS | S_DESELECT, *cid, &[]),
            Block::S {
                kind: SKind::Wtx { wtxm },
                cid,
            } => {
                check_wtxm(*wtxm)?;
                (S_BITS | S_WTX, *cid, std::slice::from_ref(wtxm))
            }
        };
        let mut bytes = Vec::with_capacity(2 + inf.len());
        if let Some(cid) = cid {
            check_cid(cid)?;
            pcb |= CID_FOLLOWING;
            bytes.extend([pcb, cid]);
        } else {
            bytes.push(pcb);
        }
        bytes.extend_from_slice(inf);
        Ok(bytes)
    }
}

/// Builds an I-block without CID or chaining: PCB `02` or `03`, then `payload`.
pub fn i_block(number: BlockNumber, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 + payload.len());
    bytes.push(I_BITS | number.bit());
    bytes.extend_from_slice(payload);
    bytes
}

/// Builds an I-block with a CID byte: PCB `0A` or `0B`, `cid`, then `payload`.
///
/// Fails if `cid` is above [`MAX_CID`].
pub fn i_block_with_cid(number: BlockNumber, cid: u8, payload: &[u8]) -> Result<Vec<u8>, Error> {
    check_cid(cid)?;
    let mut bytes = Vec::with_capacity(2 + payload.len());
    bytes.extend([I_BITS | CID_FOLLOWING | number.bit(), cid]);
    bytes.extend_from_slice(payload);
    Ok(bytes)
}

/// Builds a chaining I-block without CID (PCB `12` or `13`): more of the same message follows.
///
/// For a chaining block with a CID, encode a [`Block::I`].
pub fn i_block_chaining(number: BlockNumber, payload: &[u8]) -> Vec<u8> {
    let mut bytes = i_block(number, payload);
    bytes[0] |= I_CHAINING;
    bytes
}

/// Classifies a received block (without its CRC_A) as an I-, R- or S-block.
///
/// Bytes that are not a valid block are an error, never a panic: this is how a card sees a
/// layer-3 frame such as `A8 00 90 …` sent without a PCB (protocols.md §3.6), and it stays
/// silent. Power level bits in the CID and WTXM bytes are ignored.
pub fn parse_block(bytes: &[u8]) -> Result<Block, Error> {
    let (&pcb, rest) = bytes.split_first().ok_or(Error::Empty)?;
    let is_i = pcb & I_MASK == I_BITS;
    if !is_i && pcb & R_MASK != R_BITS && pcb & S_MASK != S_BITS {
        return Err(Error::InvalidPcb(pcb));
    }
    if is_i && pcb & I_NAD_FOLLOWING != 0 {
        return Err(Error::NadNotSupported(pcb));
    }
    let (cid, rest) = if pcb & CID_FOLLOWING == 0 {
        (None, rest)
    } else {
        let (&byte, rest) = rest.split_first().ok_or(Error::MissingCid(pcb))?;
        if byte & CID_RESERVED != 0 || byte & CID_MASK > MAX_CID {
            return Err(Error::InvalidCidByte(byte));
        }
        (Some(byte & CID_MASK), rest)
    };
    let number = BlockNumber::from_pcb_bit(pcb & NUMBER_BIT);
    let no_inf = |block: Block| match rest.len() {
        0 => Ok(block),
        extra => Err(Error::TrailingBytes { pcb, extra }),
    };
    if is_i {
        Ok(Block::I {
            number,
            chaining: pcb & I_CHAINING != 0,
            cid,
            payload: rest.to_vec(),
        })
    } else if pcb & R_MASK == R_BITS {
        let kind = if pcb & R_NAK == 0 {
            RKind::Ack
        } else {
            RKind::Nak
        };
        no_inf(Block::R { kind, number, cid })
    } else {
        match pcb & S_KIND_MASK {
            S_DESELECT => no_inf(Block::S {
                kind: SKind::Deselect,
                cid,
            }),
            S_WTX => match rest {
                [] => Err(Error::MissingWtxm),
                [byte] => {
                    let wtxm = byte & WTXM_MASK;
                    check_wtxm(wtxm)?;
                    Ok(Block::S {
                        kind: SKind::Wtx { wtxm },
                        cid,
                    })
                }
                [_, extra @ ..] => Err(Error::TrailingBytes {
                    pcb,
                    extra: extra.len(),
                }),
            },
            _ => Err(Error::InvalidPcb(pcb)),
        }
    }
}

pub(super) fn check_cid(cid: u8) -> Result<(), Error> {
    if cid > MAX_CID {
        return Err(Error::InvalidCid(cid));
    }
    Ok(())
}

fn check_wtxm(wtxm: u8) -> Result<(), Error> {
    if !(1..=MAX_WTXM).contains(&wtxm) {
        return Err(Error::InvalidWtxm(wtxm));
    }
    Ok(())
}
