//! The PC/SC Part 3 storage-card commands and the Omnikey value commands (protocols.md §2.1,
//! §1.2) as the reader carries them out: the key slot looked up, then a call to the chip.
//!
//! Parsing and length checks are the framing decoder's (`reader/framing/storage.rs`), shared
//! with the guard; addresses are `P1 P2` read big-endian, as PC/SC Part 3 defines them;
//! whether an address exists, and what the chip allows there, is for the chip to say.
//! Nothing here keeps state.

use super::sw;
use super::{Frontend, Picc, ValueOp};
use crate::apdu::StatusWord;
use crate::mifare::KeyType;

/// AUTHENTICATE (`FF 86`, or the obsolete `FF 88`) with the key in `slot`.
pub(super) fn authenticate<P: Picc>(
    fe: &mut Frontend<P>,
    address: u16,
    key: KeyType,
    slot: u8,
) -> Result<StatusWord, StatusWord> {
    let bytes = fe.keys.get(slot)?.to_vec();
    fe.picc.authenticate(address, key, &bytes)?;
    Ok(sw::OK)
}

/// READ BINARY `FF B0 <addr> <Le>`.
pub(super) fn read<P: Picc>(
    fe: &mut Frontend<P>,
    address: u16,
    le: usize,
) -> Result<(Vec<u8>, StatusWord), StatusWord> {
    Ok((fe.picc.read(address, le)?, sw::OK))
}

/// UPDATE BINARY `FF D6 <addr> <Lc> <data>`.
pub(super) fn update<P: Picc>(
    fe: &mut Frontend<P>,
    address: u16,
    data: &[u8],
) -> Result<StatusWord, StatusWord> {
    fe.picc.update(address, data)?;
    Ok(sw::OK)
}

/// INCREMENT or DECREMENT with TRANSFER: Omnikey `FF D4`/`FF D8` (§1.2), or `FF C2 00 03`
/// as HID and LibLogicalAccess send it (§1.4). The answer is a bare `90 00`; whether a reader
/// adds the `C0 03 …` status object of §1.4 to `FF C2` is UNCONFIRMED.
pub(super) fn value<P: Picc>(
    fe: &mut Frontend<P>,
    address: u16,
    op: ValueOp,
    operand: u32,
) -> Result<StatusWord, StatusWord> {
    fe.picc.value(address, op, operand)?;
    Ok(sw::OK)
}
