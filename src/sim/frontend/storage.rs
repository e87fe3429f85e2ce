//! The PC/SC Part 3 storage-card commands and the Omnikey value commands (protocols.md §2.1,
//! §1.2): parsing and length checks, then a call to the chip.
//!
//! Addresses are `P1 P2` read big-endian, as PC/SC Part 3 defines them; whether an address
//! exists, and what the chip allows there, is for the chip to say. Nothing here keeps state.

use super::sw;
use super::{Frontend, Picc, ValueOp};
use crate::apdu::{Command, StatusWord};
use crate::mifare::KeyType;

fn address(command: &Command) -> u16 {
    u16::from_be_bytes([command.p1, command.p2])
}

fn key_type(byte: u8) -> Result<KeyType, StatusWord> {
    match byte {
        0x60 => Ok(KeyType::A),
        0x61 => Ok(KeyType::B),
        _ => Err(sw::KEY_TYPE),
    }
}

fn authenticate_with<P: Picc>(
    fe: &mut Frontend<P>,
    address: u16,
    key: u8,
    slot: u8,
) -> Result<StatusWord, StatusWord> {
    let key = key_type(key)?;
    let bytes = fe.keys.get(slot)?.to_vec();
    fe.picc.authenticate(address, key, &bytes)?;
    Ok(sw::OK)
}

/// GENERAL AUTHENTICATE `FF 86 00 00 05 01 <addr MSB> <addr LSB> <key type> <slot>`.
pub(super) fn authenticate<P: Picc>(
    fe: &mut Frontend<P>,
    command: &Command,
) -> Result<StatusWord, StatusWord> {
    if (command.p1, command.p2) != (0x00, 0x00) {
        return Err(sw::WRONG_P1P2);
    }
    let [version, msb, lsb, key, slot] = command.data[..] else {
        return Err(sw::WRONG_LENGTH);
    };
    if version != 0x01 {
        return Err(sw::NOT_SUPPORTED);
    }
    authenticate_with(fe, u16::from_be_bytes([msb, lsb]), key, slot)
}

/// The obsolete PC/SC 2.01 AUTHENTICATE `FF 88 00 <blk> <key type> <slot>`, which has no Lc.
pub(super) fn authenticate_obsolete<P: Picc>(
    fe: &mut Frontend<P>,
    bytes: &[u8],
) -> Result<StatusWord, StatusWord> {
    let [_, _, msb, lsb, key, slot] = bytes[..] else {
        return Err(sw::WRONG_LENGTH);
    };
    authenticate_with(fe, u16::from_be_bytes([msb, lsb]), key, slot)
}

/// READ BINARY `FF B0 <addr> <Le>`.
pub(super) fn read<P: Picc>(
    fe: &mut Frontend<P>,
    command: &Command,
) -> Result<(Vec<u8>, StatusWord), StatusWord> {
    let le = command.le.ok_or(sw::WRONG_LENGTH)?;
    if !command.data.is_empty() {
        return Err(sw::WRONG_LENGTH);
    }
    Ok((fe.picc.read(address(command), le)?, sw::OK))
}

/// UPDATE BINARY `FF D6 <addr> <Lc> <data>`.
pub(super) fn update<P: Picc>(
    fe: &mut Frontend<P>,
    command: &Command,
) -> Result<StatusWord, StatusWord> {
    if command.data.is_empty() || command.le.is_some() {
        return Err(sw::WRONG_LENGTH);
    }
    fe.picc.update(address(command), &command.data)?;
    Ok(sw::OK)
}

fn operand(bytes: &[u8]) -> Result<u32, StatusWord> {
    let bytes: [u8; 4] = bytes.try_into().map_err(|_| sw::WRONG_LENGTH)?;
    Ok(u32::from_le_bytes(bytes))
}

/// Omnikey INCREMENT `FF D4 00 <blk> 04 <value LE>` and DECREMENT `FF D8 …` (§1.2).
pub(super) fn value<P: Picc>(
    fe: &mut Frontend<P>,
    command: &Command,
    op: ValueOp,
) -> Result<StatusWord, StatusWord> {
    if command.p1 != 0x00 {
        return Err(sw::WRONG_P1P2);
    }
    if command.le.is_some() {
        return Err(sw::WRONG_LENGTH);
    }
    let operand = operand(&command.data)?;
    fe.picc.value(u16::from(command.p2), op, operand)?;
    Ok(sw::OK)
}

/// `FF C2 00 03 0B A0|A1 09 80 01 <blk> 81 04 <value LE>`: increment or decrement as HID and
/// LibLogicalAccess send it (§1.2, §1.4). The other `FF C2` functions (transparent sessions)
/// are not simulated: HID's 5421 answered "not supported" to them (§1.4).
///
/// The answer is a bare `90 00`; whether a reader adds the `C0 03 …` status object of §1.4
/// here is UNCONFIRMED.
pub(super) fn manage<P: Picc>(
    fe: &mut Frontend<P>,
    command: &Command,
) -> Result<StatusWord, StatusWord> {
    if (command.p1, command.p2) != (0x00, 0x03) {
        return Err(sw::NOT_SUPPORTED);
    }
    let [op, 0x09, 0x80, 0x01, block, 0x81, 0x04, ref value @ ..] = command.data[..] else {
        return Err(sw::WRONG_LENGTH);
    };
    let op = match op {
        0xA0 => ValueOp::Increment,
        0xA1 => ValueOp::Decrement,
        _ => return Err(sw::NOT_SUPPORTED),
    };
    let operand = operand(value)?;
    fe.picc.value(u16::from(block), op, operand)?;
    Ok(sw::OK)
}
