//! The one decoder of reader framings: what a host sends to a PC/SC reader, turned into the
//! native command the contactless chip receives (design.md "Safety", protocols.md §1.1, §2.1,
//! §3.6, §6.2).
//!
//! Both sides call it, so they cannot disagree: the simulated reader (`sim/frontend`) acts on
//! [`Decoded::outcome`], and the guard (`reader/guard`) judges that same outcome — plus, where
//! a real reader might be more lenient than the simulated one, what a lenient reader would
//! deliver ([`Doubt`]). The trace finds WritePerso key bytes with [`native_span`].
//!
//! The [`Decoder`] is stateful, as a reader and a chip are: whether an Omnikey generic
//! session is open, the page announced by the first frame of a COMPATIBILITY WRITE (the next
//! frame is its data, whatever it looks like), and the parts of a chained ISO 14443-4
//! command. A new card or a reset starts a new decoder.
//!
//! What is decoded:
//! - PC/SC Part 3 storage-card pseudo-APDUs and Omnikey value commands (`storage.rs`);
//! - the Omnikey generic session `FF A0` (`omnikey.rs`): open, close, transceive with any
//!   timeout bytes, with or without Le;
//! - frames (`frame.rs`): for a card in ISO 14443-4 (from its ATR) I-blocks with CID and/or
//!   NAD, chaining reassembled, R- and S-blocks, and bytes that are no block; for a card at
//!   layer 3 (storage-card ATR) READ, WRITE, the one- and two-frame COMPATIBILITY WRITE, HALT,
//!   RATS;
//! - the PC/SC Part 3 transparent session `FF C2 00 00/01/02` (`part3.rs`): manage session,
//!   transparent exchange `95`, switch protocol;
//! - the ACS ACR122U direct transmit `FF 00 00 00 … D4 40/42` and its LED, buzzer and
//!   firmware commands (`acs.rs`), and the ACS value command `FF D7` (`storage.rs`);
//! - any other class than `FF`: a command the reader passes to an ISO 14443-4 chip.
//!
//! Every reader family plugs in here: a wrapper that carries a raw frame gets a branch in
//! [`Decoder::feed`] that hands its frame to the same frame decoder, so the guard and every
//! simulated reader read it alike. The forms of [`RAW_CHANNELS`] no branch decodes are
//! refused and reported as [`Doubt::RawChannel`]. [`channel`] says which wrapping a command
//! uses, so a simulated reader answers in the same one.
//!
//! This module judges nothing (that is the guard's job) and answers nothing (the
//! simulator's); it never panics, whatever the bytes.

mod acs;
mod frame;
mod omnikey;
mod part3;
mod storage;
#[cfg(test)]
mod tests;

use std::ops::Range;

use crate::mifare::KeyType;

pub use acs::{IN_COMMUNICATE_THRU, IN_DATA_EXCHANGE, TO_PN532};
pub use frame::{Frame, Header, Layer3};
pub use part3::{DataObject, ManageOp, parse_dos};

/// Instructions of class `FF` that carry raw frames on some reader family; the forms not
/// decoded here (beyond what the simulated readers do) are reported as raw channels: `A0`
/// (Omnikey generic session, other forms), `C2` (PC/SC Part 3, other functions or DOs), `00`
/// (ACR122U direct transmit, other PN532 commands), `FE` (SpringCard), `70` (Omnikey 5x22
/// proprietary).
pub const RAW_CHANNELS: [u8; 5] = [0xA0, 0xC2, 0x00, 0xFE, 0x70];

/// The largest chained ISO 14443-4 command kept: an extended APDU with 65,535 data bytes and
/// its header. A longer chain is forgotten and its last block is reported as no block.
const MAX_CHAIN: usize = 65_544;

/// How the chip in the field takes frames, as its ATR says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// A storage card (PC/SC Part 3 ATR): frames are layer-3 commands.
    Layer3,
    /// Any other card: ISO 14443-4 (ISO-DEP) blocks, and commands passed through.
    IsoDep,
}

impl Protocol {
    /// Reads the protocol from the ATR the reader reports.
    pub fn from_atr(atr: &[u8]) -> Protocol {
        if super::atr::storage_card_name(atr).is_some() {
            Protocol::Layer3
        } else {
            Protocol::IsoDep
        }
    }
}

/// A value operation, done by the reader as operation + TRANSFER to the same block (§2.1, §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueOp {
    /// INCREMENT by the operand, then TRANSFER.
    Increment,
    /// DECREMENT by the operand, then TRANSFER.
    Decrement,
}

/// Commands the reader answers itself; nothing reaches the chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderCommand {
    /// GET DATA `FF CA P1 P2 Le` (UID or ATS).
    GetData {
        /// P1 P2.
        p1p2: (u8, u8),
        /// Le (256 for `00`).
        le: usize,
    },
    /// LOAD KEYS `FF 82 <structure> <slot> <Lc> <key>`.
    LoadKeys {
        /// Key structure (P1).
        structure: u8,
        /// Key slot (P2).
        slot: u8,
        /// The key bytes.
        key: Vec<u8>,
    },
    /// Opens (`true`) or closes the Omnikey generic session.
    Session(bool),
    /// A transceive without its trailing Le: the simulated reader answers a bare `90 00` and
    /// sends nothing (protocols.md §1.1).
    BareAnswer,
    /// PC/SC Part 3 manage session `FF C2 00 00`: its operations in order.
    Manage(Vec<ManageOp>),
    /// PC/SC Part 3 switch protocol `FF C2 00 02` to the layer frames are already read in.
    Switch {
        /// `00` ISO 14443 A, …
        standard: u8,
        /// `03` layer 3, `04` layer 4.
        layer: u8,
    },
    /// A PN532 command for the reader itself (`FF 00 00 00 … D4 <command>`); `field` when it
    /// activates the chip afresh or changes the RF field.
    Pn532 {
        /// The PN532 command byte.
        command: u8,
        /// Whether the chip or the field is reset.
        field: bool,
    },
    /// ACS LED and buzzer `FF 00 40 <state> 04 <T1> <T2> <repeat> <buzzer>`.
    Feedback {
        /// The LED state control byte (P2).
        state: u8,
        /// T1 in 100 ms.
        t1: u8,
        /// T2 in 100 ms.
        t2: u8,
        /// Repetitions.
        repeat: u8,
        /// Buzzer link: 00 off, 01 during T1, 02 during T2, 03 both.
        buzzer: u8,
    },
    /// ACS firmware version `FF 00 48 00 00`.
    Firmware,
}

impl ReaderCommand {
    /// Whether the command switches the RF field or activates the chip afresh: after it,
    /// the chip may be another one (a MIFARE Plus comes back in its new security level).
    pub fn cycles_field(&self) -> bool {
        match self {
            ReaderCommand::Manage(ops) => ops
                .iter()
                .any(|op| matches!(op, ManageOp::RfOff | ManageOp::RfOn)),
            ReaderCommand::Pn532 { field, .. } => *field,
            _ => false,
        }
    }
}

/// The wrapping a command arrives in, so a reader answers in the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Storage-card pseudo-APDUs, the Omnikey commands, pass-through: data and a status word.
    Plain,
    /// PC/SC Part 3 `FF C2 00 00/01/02`: status in a `C0` data object, outer `90 00`.
    Part3,
    /// ACR122U direct transmit to the PN532 `FF 00 00 00 … D4 <command>`: answer
    /// `D5 <command + 1> …`.
    Pn532(u8),
}

/// Which wrapping `apdu` uses (stateless).
pub fn channel(apdu: &[u8]) -> Channel {
    match *apdu {
        [0xFF, 0xC2, 0x00, 0x00..=0x02, ..] => Channel::Part3,
        [0xFF, 0x00, 0x00, 0x00, _, TO_PN532, command, ..] => Channel::Pn532(command),
        _ => Channel::Plain,
    }
}

/// The native command the chip receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Native {
    /// Nothing reaches the chip.
    Reader(ReaderCommand),
    /// AUTHENTICATE with the key in a reader slot (`FF 86`, `FF 88`).
    Authenticate {
        /// Block or page address.
        address: u16,
        /// Key A or B.
        key: KeyType,
        /// The reader's key slot.
        slot: u8,
    },
    /// READ BINARY `FF B0`.
    Read {
        /// Block or page address.
        address: u16,
        /// Bytes asked for (1–256).
        le: usize,
    },
    /// UPDATE BINARY `FF D6`.
    Update {
        /// First block or page.
        address: u16,
        /// The bytes written.
        data: Vec<u8>,
    },
    /// INCREMENT or DECREMENT with TRANSFER (`FF D4`, `FF D8`, `FF C2 00 03`, ACS `FF D7`).
    Value {
        /// The block.
        address: u16,
        /// Which operation.
        op: ValueOp,
        /// The operand (LSB first in the HID commands, MSB first in ACS `FF D7`).
        operand: u32,
    },
    /// A command for an ISO 14443-4 chip that the reader frames itself (pass-through).
    Apdu(Vec<u8>),
    /// A frame sent in a raw channel (the generic session), as the chip takes it.
    Frame(Frame),
}

/// Why the reader refuses a command; nothing reaches the chip. The simulator maps each to
/// its status word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// Lc, Le or data length wrong; extended APDUs; empty commands.
    WrongLength,
    /// P1 P2 wrong.
    WrongP1P2,
    /// An instruction or function the reader does not have.
    NotSupported,
    /// A class other than `FF` for a chip that takes no ISO 14443-4 commands.
    ClaNotSupported,
    /// A transceive while no generic session is open.
    NoSession,
    /// A key type other than `60` or `61`.
    KeyType,
}

/// Why the decoder cannot be sure what reaches the chip on every reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doubt {
    /// The simulated reader does not deliver this command (no session open, no Le, a
    /// malformed or extended storage write), but a more lenient reader might deliver
    /// `native`. `changes_state` says whether delivering it would change what later frames
    /// mean (a COMPATIBILITY WRITE announced, a chain started), which the decoder, following
    /// the simulated reader, does not record.
    Lenient {
        /// What the chip would receive.
        native: Native,
        /// Whether delivery would change the decoder's frame state.
        changes_state: bool,
    },
    /// A raw channel this decoder does not decode ([`RAW_CHANNELS`]): anything may reach the
    /// chip.
    RawChannel,
}

/// One command, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// What the simulated reader does: deliver a native command, or refuse.
    pub outcome: Result<Native, Reject>,
    /// Set when another reader might deliver something else.
    pub doubt: Option<Doubt>,
}

impl Decoded {
    fn certain(outcome: Result<Native, Reject>) -> Decoded {
        Decoded {
            outcome,
            doubt: None,
        }
    }
}

/// The frame state carried from one command to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FrameState {
    /// The page (or block) announced by `A0 <page>`, waiting for its data frame.
    compat: Option<u8>,
    /// The parts of a chained ISO 14443-4 command received so far.
    chain: Option<Vec<u8>>,
}

/// The stateful decoder of one card's traffic. Cheap to clone: the guard decodes on a copy
/// and keeps it only when the command is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoder {
    protocol: Protocol,
    session: bool,
    frames: FrameState,
}

impl Decoder {
    /// A decoder for a fresh card: no session open, nothing pending.
    pub fn new(protocol: Protocol) -> Decoder {
        Decoder {
            protocol,
            session: false,
            frames: FrameState::default(),
        }
    }

    /// A decoder for the card whose ATR is `atr`.
    pub fn for_atr(atr: &[u8]) -> Decoder {
        Decoder::new(Protocol::from_atr(atr))
    }

    /// The decoder after the chip was activated afresh (RF field cycled) with `atr`: frames
    /// are read in the chip's protocol again, nothing pending; an open session stays open.
    pub fn reactivated(&self, atr: &[u8]) -> Decoder {
        Decoder {
            session: self.session,
            ..Decoder::for_atr(atr)
        }
    }

    /// The protocol frames are read in.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Whether a generic session is open.
    pub fn session_open(&self) -> bool {
        self.session
    }

    /// Decodes one command the host sends and advances the state as the simulated reader
    /// and chip would.
    pub fn feed(&mut self, apdu: &[u8]) -> Decoded {
        let decoded = match apdu {
            [] => Decoded::certain(Err(Reject::WrongLength)),
            [0xFF, 0xA0, ..] => omnikey::generic(self, apdu),
            [0xFF, 0xC2, ..] | [0xFF, 0x00, ..] => part3::decode(self, apdu)
                .or_else(|| acs::decode(self, apdu))
                .unwrap_or_else(|| storage::decode(apdu)),
            [0xFF, ..] => storage::decode(apdu),
            _ => Decoded::certain(match self.protocol {
                Protocol::IsoDep => Ok(Native::Apdu(apdu.to_vec())),
                Protocol::Layer3 => Err(Reject::ClaNotSupported),
            }),
        };
        if let Ok(native) = &decoded.outcome {
            // A storage command reaches the chip as its own RF command: an announced
            // COMPATIBILITY WRITE is over (the chip would take it as the wrong data).
            if matches!(
                native,
                Native::Authenticate { .. }
                    | Native::Read { .. }
                    | Native::Update { .. }
                    | Native::Value { .. }
            ) {
                self.frames.compat = None;
            }
        }
        let doubt = match (&decoded.doubt, apdu) {
            (None, [0xFF, ins, ..]) if decoded.outcome.is_err() && RAW_CHANNELS.contains(ins) => {
                Some(Doubt::RawChannel)
            }
            _ => decoded.doubt,
        };
        Decoded { doubt, ..decoded }
    }

    /// Decodes one frame delivered to the chip as it is, with no reader wrapping (a chip
    /// model tested on its own frames).
    pub fn deliver(&mut self, bytes: &[u8]) -> Frame {
        self.frame(bytes)
    }

    /// Decodes one frame delivered to the chip.
    fn frame(&mut self, bytes: &[u8]) -> Frame {
        frame::decode(self.protocol, &mut self.frames, bytes)
    }
}

/// Where in `apdu` the native command a single APDU carries sits, when it is an ISO 14443-4
/// command (passed through, or in an unchained or first chained I-block of a transceive, or
/// an unframed frame): the range of its bytes. Stateless, for the trace: it decodes the APDU
/// as the first command of a session would be.
pub fn native_span(apdu: &[u8]) -> Option<Range<usize>> {
    match apdu {
        [] => None,
        [0xFF, 0xA0, ..] => omnikey::span(apdu),
        [0xFF, 0xC2, ..] => part3::span(apdu),
        [0xFF, 0x00, ..] => acs::span(apdu),
        [0xFF, ..] => None,
        _ => Some(0..apdu.len()),
    }
}
