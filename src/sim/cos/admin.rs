//! The proprietary administration commands: `5C` UNLOCK / INSTALL / LOCK KEY and `5E`
//! CHANGE / UNLOCK / INSTALL PIN.
//!
//! All but CHANGE PIN act on the current DF's key file (`6A 82` without one) and need its
//! write condition (`69 82`), which names a key: the key INSTALL KEY and INSTALL PIN blocks
//! are enciphered under ([`crate::cos::key_block`], [`crate::cos::pin_block`]; a block that
//! does not decipher is `6A 80`). UNLOCK refills a counter (no data). LOCK KEY (P1 `03`,
//! this project's addition) retires a key for good: a locked key answers `69 83` to
//! everything and satisfies no condition. CHANGE PIN (`00 5E 00 n old FF new`) needs the old
//! PIN, found like VERIFY's, and costs a try when it is wrong.

use super::keys::{KeyFile, Secret};
use super::{CosCard, Table, sw};
use crate::apdu::{Command, StatusWord};
use crate::cos::{self, Condition, MAX_REFERENCE, PIN_SEPARATOR};
use crate::sim::iso7816::transport::Reply;

impl CosCard {
    /// The current DF's key file, its write condition checked; and the protecting key.
    fn administered(&mut self) -> Result<(&mut KeyFile, Vec<u8>), StatusWord> {
        let df = self.session.df;
        let index = self.state.files.key_file(df).ok_or(sw::FILE_NOT_FOUND)?;
        let write = self.state.files.file(index).access.write;
        self.allowed(df, write)?;
        let Condition::Key(k) = write else {
            return Err(sw::CONDITIONS_NOT_SATISFIED);
        };
        let owner = self
            .owner(df, Table::Keys, k)
            .ok_or(sw::SECURITY_NOT_SATISFIED)?;
        let protecting = self
            .state
            .files
            .keys(owner)
            .and_then(|keys| keys.keys.get(&k))
            .map(|key| key.value.clone())
            .ok_or(sw::SECURITY_NOT_SATISFIED)?;
        let keys = self.state.files.keys_mut(df).ok_or(sw::FILE_NOT_FOUND)?;
        Ok((keys, protecting))
    }

    /// `5C`: UNLOCK (01), INSTALL (02), LOCK (03) KEY number P2.
    pub(super) fn key_admin(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let n = command.p2;
        if n > MAX_REFERENCE || !(0x01..=0x03).contains(&command.p1) {
            return Err(sw::INCORRECT_P1P2);
        }
        let installing = command.p1 == cos::KEY_INSTALL;
        if installing == command.data.is_empty() {
            return Err(sw::WRONG_LENGTH);
        }
        let df = self.session.df;
        let (keys, protecting) = self.administered()?;
        let existing = keys.keys.get_mut(&n);
        if existing.as_ref().is_some_and(|key| key.locked) {
            return Err(sw::BLOCKED);
        }
        match (command.p1, existing) {
            (cos::KEY_INSTALL, _) => {
                let (tries, value) = cos::open_key_block(&protecting, &command.data)
                    .map_err(|_| sw::INCORRECT_DATA)?;
                keys.keys.insert(n, Secret::new(&value, tries));
            }
            (_, None) => return Err(sw::REFERENCE_NOT_FOUND),
            (cos::KEY_UNLOCK, Some(key)) => key.tries_left = key.max_tries,
            (_, Some(key)) => key.locked = true,
        }
        // A replaced or locked key no longer vouches for anything.
        if command.p1 != cos::KEY_UNLOCK {
            self.session.keys.retain(|&k| k != (df, n));
        }
        Ok(Reply::ok())
    }

    /// `5E`: CHANGE (00), UNLOCK (01), INSTALL (02) PIN number P2.
    pub(super) fn pin_admin(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let n = command.p2;
        if n > MAX_REFERENCE || command.p1 > 0x02 {
            return Err(sw::INCORRECT_P1P2);
        }
        if command.p1 == cos::PIN_CHANGE {
            return self.change_pin(n, &command.data);
        }
        let installing = command.p1 == cos::PIN_INSTALL;
        if installing == command.data.is_empty() {
            return Err(sw::WRONG_LENGTH);
        }
        let df = self.session.df;
        let (keys, protecting) = self.administered()?;
        if installing {
            let (tries, value) =
                cos::open_pin_block(&protecting, &command.data).map_err(|_| sw::INCORRECT_DATA)?;
            keys.pins.insert(n, Secret::new(&value, tries));
            self.session.pins.retain(|&p| p != (df, n));
        } else {
            let pin = keys.pins.get_mut(&n).ok_or(sw::REFERENCE_NOT_FOUND)?;
            pin.tries_left = pin.max_tries;
        }
        Ok(Reply::ok())
    }

    /// CHANGE PIN: old `FF` new; a wrong old PIN costs a try.
    fn change_pin(&mut self, n: u8, data: &[u8]) -> Result<Reply, StatusWord> {
        let Some(at) = data.iter().position(|&b| b == PIN_SEPARATOR) else {
            return Err(sw::INCORRECT_DATA);
        };
        let (old, new) = (&data[..at], &data[at + 1..]);
        if cos::check_pin(old).is_err() || cos::check_pin(new).is_err() {
            return Err(sw::INCORRECT_DATA);
        }
        let (df, pin) = self.entry_mut(Table::Pins, n)?;
        let checked = pin.check(old);
        if checked.is_ok() {
            pin.value = new.to_vec();
        }
        self.session.pins.retain(|&p| p != (df, n));
        checked?;
        self.session.pins.push((df, n));
        Ok(Reply::ok())
    }
}
