//! The simulated HID Omnikey 5421: what it refuses. Its generic session `FF A0` is
//! `session.rs`, its value commands `FF D4`/`FF D8` the common storage code.
//!
//! The 5421 answers "function not supported" (`6A 81`) to the PC/SC Part 3 transparent
//! session (a forum user got exactly that, readers-and-keys.md §1a), and, as the simulator
//! commits to, to the ACS commands `FF 00` and `FF D7`. Its traps — a bare `90 00` for a
//! transceive without Le, `64 00` for frames an ISO 14443-4 card ignores — live in the
//! decoder and `session.rs`.

use super::sw;

/// The 5421's answer to a command of another dialect.
pub(super) fn refuse(apdu: &[u8]) -> Option<Vec<u8>> {
    match apdu {
        [0xFF, 0xC2, 0x00, 0x00..=0x02, ..] | [0xFF, 0x00, ..] | [0xFF, 0xD7, ..] => {
            Some(sw::NOT_SUPPORTED.0.to_be_bytes().to_vec())
        }
        _ => None,
    }
}
