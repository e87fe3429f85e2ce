//! PIN handling: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER (ISO/IEC 7816-4).
//!
//! The card has two references, `01` (PIN) and `02` (PUK), each with its own retry counter.
//! A wrong value costs a try and answers `63Cx` (x tries left, so the try that blocks answers
//! `63C0`); a blocked reference answers `69 83`. Values are compared byte for byte, with no
//! padding, and are 1 to 16 bytes long. Where a command carries two values back to back
//! (old || new, PUK || new), the first one is as long as the stored value it is checked
//! against. Counters and values are persistent; "verified" lasts until reset.

use serde::{Deserialize, Serialize};

use super::sw;
use super::transport::Reply;
use super::{FileCard, Persistent};
use crate::apdu::{Command, StatusWord};
use crate::sim::serde_hex;

/// The longest PIN or PUK value.
pub(super) const MAX_PIN_LEN: usize = 16;
/// The PIN reference the PUK unblocks.
const PIN: u8 = 0x01;
/// The PUK reference.
const PUK: u8 = 0x02;

/// A PIN or PUK: its value and retry counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Pin {
    /// The value, compared byte for byte.
    #[serde(with = "serde_hex::bytes")]
    pub value: Vec<u8>,
    /// Tries after a successful verification.
    pub max_tries: u8,
    /// Tries left; 0 means blocked.
    pub tries_left: u8,
}

impl Pin {
    /// A PIN with a full counter.
    pub(super) fn new(value: &[u8], tries: u8) -> Pin {
        Pin {
            value: value.to_vec(),
            max_tries: tries,
            tries_left: tries,
        }
    }

    /// Checks a value read from an image.
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.value.is_empty() || self.value.len() > MAX_PIN_LEN {
            return Err(format!("the value must be 1..={MAX_PIN_LEN} bytes"));
        }
        if !(1..=15).contains(&self.max_tries) || self.tries_left > self.max_tries {
            return Err("tries must be 1..=15, and no more left than the maximum".into());
        }
        Ok(())
    }

    /// Compares `candidate`: a match refills the counter, a mismatch costs a try.
    fn check(&mut self, candidate: &[u8]) -> Result<(), StatusWord> {
        if self.tries_left == 0 {
            return Err(sw::BLOCKED);
        }
        if candidate == self.value {
            self.tries_left = self.max_tries;
            Ok(())
        } else {
            self.tries_left -= 1;
            Err(sw::tries_left(self.tries_left))
        }
    }
}

/// The PIN or PUK behind a reference byte (P2).
fn pin_for(state: &mut Persistent, reference: u8) -> Result<&mut Pin, StatusWord> {
    match reference {
        PIN => Ok(&mut state.pin),
        PUK => Ok(&mut state.puk),
        _ => Err(sw::REFERENCE_NOT_FOUND),
    }
}

/// Splits `first || second` where `first` is `first_len` bytes and `second` a valid value.
fn split_pair(data: &[u8], first_len: usize) -> Result<(&[u8], &[u8]), StatusWord> {
    if data.len() <= first_len || data.len() - first_len > MAX_PIN_LEN {
        return Err(sw::WRONG_LENGTH);
    }
    Ok(data.split_at(first_len))
}

/// Checks a single value's length.
fn single(data: &[u8]) -> Result<&[u8], StatusWord> {
    if data.is_empty() || data.len() > MAX_PIN_LEN {
        return Err(sw::WRONG_LENGTH);
    }
    Ok(data)
}

impl FileCard {
    /// VERIFY (INS 20). P1 `00`: with data, check it; without, report the status (`90 00`
    /// when verified, else `63Cx` or `69 83`). P1 `FF` without data: forget the verification.
    pub(super) fn verify(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let reference = command.p2;
        let reset = match command.p1 {
            0x00 => false,
            0xFF if command.data.is_empty() => true,
            _ => return Err(sw::INCORRECT_P1P2),
        };
        let verified = self.session.is_verified(reference);
        let pin = pin_for(&mut self.state, reference)?;
        if reset {
            self.session.set_verified(reference, false);
            return Ok(Reply::ok());
        }
        if command.data.is_empty() {
            return match pin.tries_left {
                _ if verified => Ok(Reply::ok()),
                0 => Err(sw::BLOCKED),
                left => Err(sw::tries_left(left)),
            };
        }
        let checked = pin.check(single(&command.data)?);
        self.session.set_verified(reference, checked.is_ok());
        checked.map(|()| Reply::ok())
    }

    /// CHANGE REFERENCE DATA (INS 24). P1 `00`: data = old || new, the old value as long as
    /// the stored one. P1 `01`: data = new, allowed only while the reference is verified.
    pub(super) fn change_reference_data(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let reference = command.p2;
        if command.p1 > 0x01 {
            return Err(sw::INCORRECT_P1P2);
        }
        let verified = self.session.is_verified(reference);
        let pin = pin_for(&mut self.state, reference)?;
        if pin.tries_left == 0 {
            return Err(sw::BLOCKED);
        }
        let new = if command.p1 == 0x00 {
            let (old, new) = split_pair(&command.data, pin.value.len())?;
            if let Err(status) = pin.check(old) {
                self.session.set_verified(reference, false);
                return Err(status);
            }
            new
        } else if verified {
            single(&command.data)?
        } else {
            return Err(sw::SECURITY_NOT_SATISFIED);
        };
        pin.value = new.to_vec();
        pin.tries_left = pin.max_tries;
        self.session.set_verified(reference, true);
        Ok(Reply::ok())
    }

    /// RESET RETRY COUNTER (INS 2C) for the PIN (P2 `01`) with the PUK. P1 `00`: data =
    /// PUK || new PIN, the PUK as long as the stored one. P1 `01`: data = PUK, the PIN keeps
    /// its value. Either way the PIN's counter is refilled and it is no longer verified.
    pub(super) fn reset_retry_counter(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if command.p1 > 0x01 {
            return Err(sw::INCORRECT_P1P2);
        }
        if command.p2 != PIN {
            return Err(sw::REFERENCE_NOT_FOUND);
        }
        let puk = &mut self.state.puk;
        if puk.tries_left == 0 {
            return Err(sw::BLOCKED);
        }
        let (code, new) = if command.p1 == 0x00 {
            split_pair(&command.data, puk.value.len())?
        } else {
            (single(&command.data)?, &[][..])
        };
        if let Err(status) = puk.check(code) {
            self.session.set_verified(PUK, false);
            return Err(status);
        }
        let pin = &mut self.state.pin;
        if !new.is_empty() {
            pin.value = new.to_vec();
        }
        pin.tries_left = pin.max_tries;
        self.session.set_verified(PIN, false);
        Ok(Reply::ok())
    }
}
