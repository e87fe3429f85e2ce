//! The status words of the simulated reader: one table, used by every command it answers.
//!
//! Real Omnikey readers document their storage-card status words only in part (protocols.md
//! §1.3, §2.2); this is the table the simulator commits to, taken from §1.3 where it has an
//! entry and from ISO 7816-4 (§8.4) otherwise:
//!
//! | SW    | when |
//! |-------|------|
//! | 90 00 | success |
//! | 62 82 | `FF CA`: Le asks for more bytes than the UID has (the UID is returned) |
//! | 63 00 | authentication failed: wrong key, key B readable (so not a key), dead sector |
//! | 64 00 | generic-session transceive: the chip did not answer the frame |
//! | 65 81 | block or page number outside the card's memory |
//! | 67 00 | wrong length: Lc, Le or data length not what the command needs; extended APDUs |
//! | 69 81 | command incompatible with the block: value operation on a trailer or on a block not in value format |
//! | 69 82 | security status not satisfied: not authenticated for the sector, or the access conditions refuse the operation to the key used (block 0 is never writable) |
//! | 69 84 | LOAD KEYS key structure other than `00` (only volatile card keys are simulated) |
//! | 69 85 | generic-session transceive while no session is open |
//! | 69 86 | key type other than `60` (key A) or `61` (key B) |
//! | 69 88 | key number above `1F`, or a key slot that holds no key |
//! | 69 89 | key length not accepted (LOAD KEYS) or not the chip's (authentication) |
//! | 6A 81 | function not supported: unknown pseudo-APDU, `FF CA 01` on a storage card, `FF C2` other than P2 = 03, an operation the chip does not have |
//! | 6B 00 | wrong P1-P2 |
//! | 6C xx | `FF CA`: Le shorter than the UID; xx = the UID length |
//! | 6E 00 | class other than `FF` for a chip that takes no ISO 14443-4 commands |
//!
//! This file names the words and maps chip-level refusals to them; when each is used is
//! decided by the command handlers.

use crate::apdu::StatusWord;

/// 90 00: success.
pub(crate) const OK: StatusWord = StatusWord(0x9000);
/// 62 82: end of data before Le bytes.
pub(crate) const END_OF_DATA: StatusWord = StatusWord(0x6282);
/// 63 00: authentication failed.
pub(crate) const AUTH_FAILED: StatusWord = StatusWord(0x6300);
/// 64 00: the chip did not answer (Omnikey "no response from media").
pub(crate) const NO_RESPONSE: StatusWord = StatusWord(0x6400);
/// 65 81: illegal block number (outside the memory).
pub(crate) const OUT_OF_RANGE: StatusWord = StatusWord(0x6581);
/// 67 00: wrong length.
pub(crate) const WRONG_LENGTH: StatusWord = StatusWord(0x6700);
/// 69 81: command incompatible with the block.
pub(crate) const INCOMPATIBLE: StatusWord = StatusWord(0x6981);
/// 69 82: security status not satisfied.
pub(crate) const NOT_PERMITTED: StatusWord = StatusWord(0x6982);
/// 69 84: key structure incorrect.
pub(crate) const KEY_STRUCTURE: StatusWord = StatusWord(0x6984);
/// 69 85: conditions of use not satisfied (no generic session open).
pub(crate) const NO_SESSION: StatusWord = StatusWord(0x6985);
/// 69 86: wrong key type.
pub(crate) const KEY_TYPE: StatusWord = StatusWord(0x6986);
/// 69 88: key number not valid.
pub(crate) const KEY_NUMBER: StatusWord = StatusWord(0x6988);
/// 69 89: key length incorrect.
pub(crate) const KEY_LENGTH: StatusWord = StatusWord(0x6989);
/// 6A 81: function not supported.
pub(crate) const NOT_SUPPORTED: StatusWord = StatusWord(0x6A81);
/// 6B 00: wrong P1-P2.
pub(crate) const WRONG_P1P2: StatusWord = StatusWord(0x6B00);
/// 6E 00: class not supported.
pub(crate) const CLA_NOT_SUPPORTED: StatusWord = StatusWord(0x6E00);

/// `6Cxx`: resend with Le = `n`.
pub(crate) fn exact_length(n: usize) -> StatusWord {
    StatusWord::new(0x6C, n.min(255) as u8)
}

/// Why a chip refused an operation the reader passed on. The reader turns it into a status
/// word with [`Refusal::status`], so chips never pick status words themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The key did not authenticate (63 00).
    AuthFailed,
    /// No such block or page (65 81).
    OutOfRange,
    /// The data or expected length does not fit the operation (67 00).
    WrongLength,
    /// The operation does not apply to this block (69 81).
    Incompatible,
    /// Not authenticated, or the access conditions refuse it (69 82).
    NotPermitted,
    /// The key loaded in the slot has the wrong length for this chip (69 89).
    KeyLength,
    /// The chip has no such operation (6A 81).
    Unsupported,
}

impl Refusal {
    /// The status word the reader answers with.
    pub(crate) fn status(self) -> StatusWord {
        match self {
            Refusal::AuthFailed => AUTH_FAILED,
            Refusal::OutOfRange => OUT_OF_RANGE,
            Refusal::WrongLength => WRONG_LENGTH,
            Refusal::Incompatible => INCOMPATIBLE,
            Refusal::NotPermitted => NOT_PERMITTED,
            Refusal::KeyLength => KEY_LENGTH,
            Refusal::Unsupported => NOT_SUPPORTED,
        }
    }
}

impl From<Refusal> for StatusWord {
    fn from(refusal: Refusal) -> StatusWord {
        refusal.status()
    }
}
