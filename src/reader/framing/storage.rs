//! PC/SC Part 3 storage-card pseudo-APDUs and the Omnikey value commands (protocols.md §2.1,
//! §1.2), decoded into what the reader does with the chip.
//!
//! Lengths, P1 P2 and key types are checked here, as the simulated reader checks them; key
//! slots, addresses and access rights are the reader's and the chip's business. Nothing here
//! keeps state.

use super::{Decoded, Doubt, Native, ReaderCommand, Reject, ValueOp};
use crate::apdu::Command;
use crate::mifare::KeyType;

fn key_type(byte: u8) -> Result<KeyType, Reject> {
    match byte {
        0x60 => Ok(KeyType::A),
        0x61 => Ok(KeyType::B),
        _ => Err(Reject::KeyType),
    }
}

fn address(command: &Command) -> u16 {
    u16::from_be_bytes([command.p1, command.p2])
}

fn operand(bytes: &[u8]) -> Result<u32, Reject> {
    let bytes: [u8; 4] = bytes.try_into().map_err(|_| Reject::WrongLength)?;
    Ok(u32::from_le_bytes(bytes))
}

/// Decodes a class-`FF` command other than the generic session.
pub(super) fn decode(bytes: &[u8]) -> Decoded {
    if let [0xFF, 0x88, ..] = bytes {
        // The obsolete AUTHENTICATE has no Lc (§2.1), so it is not a valid ISO APDU.
        let [_, _, msb, lsb, key, slot] = *bytes else {
            return Decoded::certain(Err(Reject::WrongLength));
        };
        return Decoded::certain(key_type(key).map(|key| Native::Authenticate {
            address: u16::from_be_bytes([msb, lsb]),
            key,
            slot,
        }));
    }
    let parsed = Command::parse(bytes);
    match parsed {
        // The ACS copy form writes a block the decoder does not model: a raw channel.
        Ok(command)
            if command.ins == 0xD7 && command.data.len() == 2 && command.data[0] == 0x03 =>
        {
            Decoded {
                outcome: Err(Reject::NotSupported),
                doubt: Some(Doubt::RawChannel),
            }
        }
        Ok(command) if !command.extended => Decoded::certain(short(&command)),
        // The simulated reader takes short APDUs only; a lenient reader might still write
        // what follows the length byte of a storage write.
        _ => Decoded {
            outcome: Err(Reject::WrongLength),
            doubt: lenient_update(bytes),
        },
    }
}

/// What a lenient reader might write for a malformed or extended `FF D6`: the data after Lc
/// as the APDU parses, or the bytes after the first length byte, up to its value.
fn lenient_update(bytes: &[u8]) -> Option<Doubt> {
    let [0xFF, 0xD6, msb, lsb, lc, rest @ ..] = bytes else {
        return None;
    };
    let data = match Command::parse(bytes) {
        Ok(parsed) => parsed.data,
        Err(_) => rest[..rest.len().min(usize::from(*lc))].to_vec(),
    };
    Some(Doubt::Lenient {
        native: Native::Update {
            address: u16::from_be_bytes([*msb, *lsb]),
            data,
        },
        changes_state: false,
    })
}

fn short(command: &Command) -> Result<Native, Reject> {
    match command.ins {
        0xCA => {
            if !command.data.is_empty() {
                return Err(Reject::WrongLength);
            }
            let le = command.le.ok_or(Reject::WrongLength)?;
            Ok(Native::Reader(ReaderCommand::GetData {
                p1p2: (command.p1, command.p2),
                le,
            }))
        }
        0x82 => Ok(Native::Reader(ReaderCommand::LoadKeys {
            structure: command.p1,
            slot: command.p2,
            key: command.data.clone(),
        })),
        0x86 => {
            if (command.p1, command.p2) != (0x00, 0x00) {
                return Err(Reject::WrongP1P2);
            }
            let [version, msb, lsb, key, slot] = command.data[..] else {
                return Err(Reject::WrongLength);
            };
            if version != 0x01 {
                return Err(Reject::NotSupported);
            }
            Ok(Native::Authenticate {
                address: u16::from_be_bytes([msb, lsb]),
                key: key_type(key)?,
                slot,
            })
        }
        0xB0 => {
            let le = command.le.ok_or(Reject::WrongLength)?;
            if !command.data.is_empty() {
                return Err(Reject::WrongLength);
            }
            Ok(Native::Read {
                address: address(command),
                le,
            })
        }
        0xD6 => {
            if command.data.is_empty() || command.le.is_some() {
                return Err(Reject::WrongLength);
            }
            Ok(Native::Update {
                address: address(command),
                data: command.data.clone(),
            })
        }
        0xD4 | 0xD8 => {
            if command.p1 != 0x00 {
                return Err(Reject::WrongP1P2);
            }
            if command.le.is_some() {
                return Err(Reject::WrongLength);
            }
            let op = if command.ins == 0xD4 {
                ValueOp::Increment
            } else {
                ValueOp::Decrement
            };
            Ok(Native::Value {
                address: u16::from(command.p2),
                op,
                operand: operand(&command.data)?,
            })
        }
        0xC2 => manage(command),
        0xD7 => acs_value(command),
        _ => Err(Reject::NotSupported),
    }
}

/// ACS `FF D7 00 <blk> 05 <op> <value MSB first>` (readers-and-keys.md §1b): op `00` stores
/// the value as a value block (the reader writes the whole block, its address byte the
/// block number), `01` increments, `02` decrements, each with TRANSFER to the same block.
/// The copy form `FF D7 00 <src> 02 03 <dst>` is not decoded.
fn acs_value(command: &Command) -> Result<Native, Reject> {
    if command.p1 != 0x00 {
        return Err(Reject::WrongP1P2);
    }
    if command.le.is_some() {
        return Err(Reject::WrongLength);
    }
    let block = command.p2;
    let [op, a, b, c, d] = command.data[..] else {
        return Err(Reject::WrongLength);
    };
    let value = u32::from_be_bytes([a, b, c, d]);
    let address = u16::from(block);
    match op {
        0x00 => Ok(Native::Update {
            address,
            data: crate::mifare::classic::value_block(value as i32, block).to_vec(),
        }),
        0x01 | 0x02 => Ok(Native::Value {
            address,
            op: if op == 0x01 {
                ValueOp::Increment
            } else {
                ValueOp::Decrement
            },
            operand: value,
        }),
        _ => Err(Reject::NotSupported),
    }
}

/// `FF C2 00 03 0B A0|A1 09 80 01 <blk> 81 04 <value LE>`: increment or decrement as HID and
/// LibLogicalAccess send it (§1.2, §1.4). The transparent-session functions of `FF C2` are
/// not decoded (a raw channel, see [`super::RAW_CHANNELS`]).
fn manage(command: &Command) -> Result<Native, Reject> {
    if (command.p1, command.p2) != (0x00, 0x03) {
        return Err(Reject::NotSupported);
    }
    let [op, 0x09, 0x80, 0x01, block, 0x81, 0x04, ref value @ ..] = command.data[..] else {
        return Err(Reject::WrongLength);
    };
    let op = match op {
        0xA0 => ValueOp::Increment,
        0xA1 => ValueOp::Decrement,
        _ => return Err(Reject::NotSupported),
    };
    Ok(Native::Value {
        address: u16::from(block),
        op,
        operand: operand(value)?,
    })
}
