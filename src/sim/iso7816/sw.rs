//! The status words the file card answers, by name (protocols.md §8.4).
//!
//! Only names and the three numbered forms (`61xx`, `63Cx`, `6Cxx`); when each is used is
//! decided by the command handlers.

use crate::apdu::StatusWord;

/// 90 00: success.
pub(in crate::sim) const OK: StatusWord = StatusWord(0x9000);
/// 62 82: end of file or record reached before Le bytes.
pub(in crate::sim) const END_OF_FILE: StatusWord = StatusWord(0x6282);
/// 67 00: wrong length (Lc, Le or the data length).
pub(in crate::sim) const WRONG_LENGTH: StatusWord = StatusWord(0x6700);
/// 68 81: logical channels are not supported.
pub(in crate::sim) const NO_LOGICAL_CHANNEL: StatusWord = StatusWord(0x6881);
/// 68 82: secure messaging is not supported.
pub(in crate::sim) const NO_SECURE_MESSAGING: StatusWord = StatusWord(0x6882);
/// 68 84: command chaining is not supported.
pub(in crate::sim) const NO_CHAINING: StatusWord = StatusWord(0x6884);
/// 69 81: the command does not fit the file's structure.
pub(in crate::sim) const WRONG_STRUCTURE: StatusWord = StatusWord(0x6981);
/// 69 82: the access condition is not satisfied.
pub(in crate::sim) const SECURITY_NOT_SATISFIED: StatusWord = StatusWord(0x6982);
/// 69 83: the PIN or PUK is blocked.
pub(in crate::sim) const BLOCKED: StatusWord = StatusWord(0x6983);
/// 69 85: conditions of use not satisfied (GET RESPONSE with nothing pending).
pub(in crate::sim) const CONDITIONS_NOT_SATISFIED: StatusWord = StatusWord(0x6985);
/// 69 86: no current EF.
pub(in crate::sim) const NO_CURRENT_EF: StatusWord = StatusWord(0x6986);
/// 6A 80: incorrect data field.
pub(in crate::sim) const INCORRECT_DATA: StatusWord = StatusWord(0x6A80);
/// 6A 81: function not supported (record identifiers, several records at once).
pub(in crate::sim) const FUNCTION_NOT_SUPPORTED: StatusWord = StatusWord(0x6A81);
/// 6A 82: file or application not found.
pub(in crate::sim) const FILE_NOT_FOUND: StatusWord = StatusWord(0x6A82);
/// 6A 83: record not found.
pub(in crate::sim) const RECORD_NOT_FOUND: StatusWord = StatusWord(0x6A83);
/// 6A 84: not enough memory (file full, card full, write past the end).
pub(in crate::sim) const NOT_ENOUGH_MEMORY: StatusWord = StatusWord(0x6A84);
/// 6A 85: Lc inconsistent with the TLV structure.
pub(in crate::sim) const BAD_TLV: StatusWord = StatusWord(0x6A85);
/// 6A 86: incorrect P1-P2.
pub(in crate::sim) const INCORRECT_P1P2: StatusWord = StatusWord(0x6A86);
/// 6A 87: Lc inconsistent with P1-P2.
pub(in crate::sim) const LC_INCONSISTENT: StatusWord = StatusWord(0x6A87);
/// 6A 88: referenced data (PIN reference) not found.
pub(in crate::sim) const REFERENCE_NOT_FOUND: StatusWord = StatusWord(0x6A88);
/// 6A 89: a file with that identifier already exists.
pub(in crate::sim) const FILE_EXISTS: StatusWord = StatusWord(0x6A89);
/// 6A 8A: a DF with that name already exists.
pub(in crate::sim) const NAME_EXISTS: StatusWord = StatusWord(0x6A8A);
/// 6B 00: offset outside the EF.
pub(in crate::sim) const OUTSIDE_FILE: StatusWord = StatusWord(0x6B00);
/// 6D 00: instruction not supported.
pub(in crate::sim) const INS_NOT_SUPPORTED: StatusWord = StatusWord(0x6D00);
/// 6E 00: class not supported.
pub(in crate::sim) const CLA_NOT_SUPPORTED: StatusWord = StatusWord(0x6E00);

/// `61xx`: `n` bytes wait for GET RESPONSE (`00` when 256 or more).
pub(in crate::sim) fn bytes_available(n: usize) -> StatusWord {
    StatusWord::new(0x61, length_byte(n))
}

/// `6Cxx`: resend with Le = `n` (`00` for 256).
pub(in crate::sim) fn exact_length(n: usize) -> StatusWord {
    StatusWord::new(0x6C, length_byte(n))
}

/// `63Cx`: `tries` verification attempts left (at most 15).
pub(in crate::sim) fn tries_left(tries: u8) -> StatusWord {
    StatusWord::new(0x63, 0xC0 | tries.min(0x0F))
}

fn length_byte(n: usize) -> u8 {
    if n >= 256 { 0 } else { n as u8 }
}
