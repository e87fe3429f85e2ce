//! PC/SC 2.0 Part 3 transparent session `FF C2 00 <function>` (readers-and-keys.md §1a), as
//! a reader that implements it (ACS ACR1252U, ACR1552U) takes it:
//!
//! - `FF C2 00 00 <Lc> <DOs>` manage session: `81 00` start, `82 00` end, `83 00` RF off,
//!   `84 00` RF on, `5F 46 04 <µs LE>` timer, `80 00` version, `FF 6D …` get parameters;
//! - `FF C2 00 01 <Lc> <DOs>` transparent exchange: one `95 <len> <frame>` transceive (or
//!   `93` transmit only), with the default flags `90 02 00 00`, bit framing 8 (`91 01 00`,
//!   `92 01 00`) and a timer allowed beside it; the frame reaches the chip as it is, CRC
//!   added by the reader, no ISO 14443-4 prologue added;
//! - `FF C2 00 02 04 8F 02 <standard> <layer>` switch protocol.
//!
//! What this decoder cannot vouch for is refused as the simulated reader refuses it and
//! reported as [`Doubt::RawChannel`]: set IFD parameters (`FF 6E`, which may change CID,
//! NAD or PCB handling), non-default flags or bit framing, several frames in one command,
//! unknown DOs, a protocol switch to another layer than the one frames are read in (the
//! decoder would read later frames wrongly), any other function. A transparent exchange
//! with no session open is refused, with what a lenient reader would deliver
//! ([`Doubt::Lenient`]). [`parse_dos`] is the BER-TLV reader, shared with the host-side
//! driver; it never panics.

use std::ops::Range;

use super::{Decoded, Decoder, Doubt, Native, Protocol, ReaderCommand, Reject, frame};
use crate::apdu::Command;

/// One BER-TLV data object: its tag (one or two bytes) and where its value sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataObject {
    /// The tag: `0x95`, or `0x5F46` for two-byte tags.
    pub tag: u16,
    /// Where the value lies in the parsed bytes.
    pub value: Range<usize>,
}

/// Parses a list of BER-TLV data objects (one- and two-byte tags, lengths up to `82 hh ll`);
/// `None` when the bytes are not such a list.
pub fn parse_dos(bytes: &[u8]) -> Option<Vec<DataObject>> {
    let mut dos = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let first = bytes[at];
        at += 1;
        let tag = if first & 0x1F == 0x1F {
            let second = *bytes.get(at)?;
            at += 1;
            u16::from_be_bytes([first, second])
        } else {
            u16::from(first)
        };
        let len = match *bytes.get(at)? {
            short @ 0x00..=0x7F => {
                at += 1;
                usize::from(short)
            }
            0x81 => {
                let len = usize::from(*bytes.get(at + 1)?);
                at += 2;
                len
            }
            0x82 => {
                let len = usize::from(u16::from_be_bytes([
                    *bytes.get(at + 1)?,
                    *bytes.get(at + 2)?,
                ]));
                at += 3;
                len
            }
            _ => return None,
        };
        let end = at.checked_add(len).filter(|end| *end <= bytes.len())?;
        dos.push(DataObject {
            tag,
            value: at..end,
        });
        at = end;
    }
    Some(dos)
}

/// What a manage-session command asks the reader to do, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManageOp {
    /// `80 00`: the version data object.
    Version,
    /// `81 00`: start the transparent session.
    Start,
    /// `82 00`: end it.
    End,
    /// `83 00`: RF field off.
    RfOff,
    /// `84 00`: RF field on (the chip is activated afresh).
    RfOn,
    /// `5F 46 04`: a timer in µs (a pause between RF off and on, or a timeout).
    Timer(u32),
    /// `FF 6D`: get IFD parameters.
    GetParameters,
}

/// Decodes an `FF C2 00 00`, `… 01` or `… 02` command; `None` for other `FF C2` forms (left
/// to the storage decoder: `FF C2 00 03` increment/decrement).
pub(super) fn decode(decoder: &mut Decoder, apdu: &[u8]) -> Option<Decoded> {
    let [0xFF, 0xC2, 0x00, function @ 0x00..=0x02, ..] = *apdu else {
        return None;
    };
    let command = match Command::parse(apdu) {
        Ok(command) if !command.extended => command,
        _ => return Some(Decoded::certain(Err(Reject::WrongLength))),
    };
    let Some(dos) = parse_dos(&command.data) else {
        return Some(Decoded::certain(Err(Reject::WrongLength)));
    };
    let data = &command.data;
    Some(match function {
        0x00 => manage(decoder, data, &dos),
        0x01 => exchange(decoder, data, &dos),
        _ => switch(decoder, data, &dos),
    })
}

/// A refusal the decoder cannot vouch for: what reaches the chip on a real reader is unknown.
fn unknown() -> Decoded {
    Decoded {
        outcome: Err(Reject::NotSupported),
        doubt: Some(Doubt::RawChannel),
    }
}

fn manage(decoder: &mut Decoder, data: &[u8], dos: &[DataObject]) -> Decoded {
    let mut ops = Vec::with_capacity(dos.len());
    for object in dos {
        let value = &data[object.value.clone()];
        let op = match (object.tag, value) {
            (0x80, []) => ManageOp::Version,
            (0x81, []) => ManageOp::Start,
            (0x82, []) => ManageOp::End,
            (0x83, []) => ManageOp::RfOff,
            (0x84, []) => ManageOp::RfOn,
            (0x5F46, [a, b, c, d]) => ManageOp::Timer(u32::from_le_bytes([*a, *b, *c, *d])),
            (0xFF6D, _) => ManageOp::GetParameters,
            _ => return unknown(),
        };
        ops.push(op);
    }
    for op in &ops {
        match op {
            ManageOp::Start => decoder.session = true,
            ManageOp::End => decoder.session = false,
            // A field cycle ends anything the chip was in the middle of.
            ManageOp::RfOff | ManageOp::RfOn => decoder.frames = Default::default(),
            _ => {}
        }
    }
    Decoded::certain(Ok(Native::Reader(ReaderCommand::Manage(ops))))
}

fn exchange(decoder: &mut Decoder, data: &[u8], dos: &[DataObject]) -> Decoded {
    let mut frame = None;
    for object in dos {
        let value = &data[object.value.clone()];
        match (object.tag, value) {
            (0x90, [0x00, 0x00]) | (0x91 | 0x92, [0x00]) | (0x5F46, [_, _, _, _]) => {}
            (0x93 | 0x95, bytes) if frame.is_none() && !bytes.is_empty() => frame = Some(bytes),
            _ => return unknown(),
        }
    }
    let Some(frame) = frame else {
        // Nothing to send (a receive-only `94`, or no DO at all): the decoder vouches for
        // nothing a reader might then do.
        return unknown();
    };
    if decoder.session {
        return Decoded::certain(Ok(Native::Frame(decoder.frame(frame))));
    }
    let mut lenient = decoder.clone();
    let native = Native::Frame(lenient.frame(frame));
    Decoded {
        outcome: Err(Reject::NoSession),
        doubt: Some(Doubt::Lenient {
            native,
            changes_state: lenient.frames != decoder.frames,
        }),
    }
}

fn switch(decoder: &Decoder, data: &[u8], dos: &[DataObject]) -> Decoded {
    let [object] = dos else {
        return unknown();
    };
    let [standard, layer] = data[object.value.clone()] else {
        return unknown();
    };
    if object.tag != 0x8F {
        return unknown();
    }
    // ISO 14443 A at the layer frames are already read in: nothing changes.
    let same = match decoder.protocol {
        Protocol::Layer3 => (standard, layer) == (0x00, 0x03),
        Protocol::IsoDep => (standard, layer) == (0x00, 0x04),
    };
    if same {
        Decoded::certain(Ok(Native::Reader(ReaderCommand::Switch {
            standard,
            layer,
        })))
    } else {
        unknown()
    }
}

/// Where the ISO 14443-4 command a transparent exchange carries sits in `apdu` (for the
/// trace): the command inside the `95`/`93` frame.
pub(super) fn span(apdu: &[u8]) -> Option<Range<usize>> {
    let [0xFF, 0xC2, 0x00, 0x01, lc, ..] = *apdu else {
        return None;
    };
    let data = apdu.get(5..5 + usize::from(lc))?;
    let dos = parse_dos(data)?;
    let object = dos.iter().find(|o| o.tag == 0x95 || o.tag == 0x93)?;
    let inner = frame::command_span(&data[object.value.clone()]);
    let start = 5 + object.value.start;
    Some(start + inner.start..start + inner.end)
}
