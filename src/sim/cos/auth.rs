//! GET CHALLENGE, EXTERNAL AUTHENTICATE, INTERNAL AUTHENTICATE and VERIFY.
//!
//! GET CHALLENGE (`00 84 00 00 04`, or 8) keeps the random, padded with `00` to 8 bytes,
//! for the next EXTERNAL AUTHENTICATE, which uses it up right or wrong (no challenge: `69 84`).
//! EXTERNAL AUTHENTICATE (`00 82 00 n 08 cryptogram`) expects the cryptogram of
//! [`crate::cos::cryptogram`] under key n found from the current DF (`6A 88` if none); a
//! right one adds the key to the security state, a wrong one costs a try (`63Cx`, then
//! `69 83`). Without data (`00 82 00 n`) it reports key n's counter instead (`63Cx`, or
//! `69 83`), costing nothing and keeping the challenge (UNCONFIRMED, as VERIFY without data
//! does for a PIN), so a terminal can stop before the try that would block a key. The
//! source's Lc `0C` is not accepted: how its 12 bytes arise is not stated (UNCONFIRMED). INTERNAL AUTHENTICATE (`00 88 00 n 04|08 random`) answers the cryptogram
//! of the terminal's random under key n. VERIFY (`00 20 00 n Lc PIN`) checks PIN n.

use super::keys::Secret;
use super::{CosCard, Table, sw};
use crate::apdu::{Command, StatusWord};
use crate::cos::{self, MAX_REFERENCE};
use crate::sim::iso7816::challenge;
use crate::sim::iso7816::transport::Reply;

impl CosCard {
    /// Checks P1 = `00` and a reference 0..=7 in P2.
    pub(super) fn reference(command: &Command) -> Result<u8, StatusWord> {
        if command.p1 != 0 || command.p2 > MAX_REFERENCE {
            return Err(sw::INCORRECT_P1P2);
        }
        Ok(command.p2)
    }

    /// Entry `n` of `table` found from the current DF: (its DF, the entry).
    pub(super) fn entry_mut(
        &mut self,
        table: Table,
        n: u8,
    ) -> Result<(usize, &mut Secret), StatusWord> {
        let df = self
            .owner(self.session.df, table, n)
            .ok_or(sw::REFERENCE_NOT_FOUND)?;
        let keys = self
            .state
            .files
            .keys_mut(df)
            .ok_or(sw::REFERENCE_NOT_FOUND)?;
        let map = match table {
            Table::Keys => &mut keys.keys,
            Table::Pins => &mut keys.pins,
        };
        map.get_mut(&n)
            .map(|entry| (df, entry))
            .ok_or(sw::REFERENCE_NOT_FOUND)
    }

    /// GET CHALLENGE (INS 84): 4 or 8 random bytes.
    pub(super) fn get_challenge(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if command.p1 != 0 || command.p2 != 0 {
            return Err(sw::INCORRECT_P1P2);
        }
        let n = match command.le {
            Some(n @ (4 | 8)) if command.data.is_empty() => n,
            _ => return Err(sw::WRONG_LENGTH),
        };
        let word = challenge::next(&mut self.state.rng).to_be_bytes();
        let mut padded = [0u8; 8];
        padded[..n].copy_from_slice(&word[..n]);
        self.session.challenge = Some(padded);
        let mut data = Vec::with_capacity(n + 2);
        data.extend_from_slice(&word[..n]);
        Ok(Reply::Done(data, sw::OK))
    }

    /// EXTERNAL AUTHENTICATE (INS 82).
    pub(super) fn external_authenticate(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let n = CosCard::reference(command)?;
        if command.data.is_empty() {
            // No cryptogram: report the counter, like VERIFY without data; nothing is used up.
            let (_, key) = self.entry_mut(Table::Keys, n)?;
            key.usable()?;
            return Err(sw::tries_left(key.tries_left));
        }
        if command.data.len() != 8 {
            return Err(sw::WRONG_LENGTH);
        }
        let challenge = self.session.challenge.take();
        let (df, key) = self.entry_mut(Table::Keys, n)?;
        key.usable()?;
        let challenge = challenge.ok_or(CHALLENGE_MISSING)?;
        // The key is 16 bytes (checked when installed), so this cannot fail.
        let expected = cos::cryptogram(&key.value, &challenge).map_err(|_| sw::BLOCKED)?;
        let checked = key.check_with(&command.data, &expected);
        self.session.keys.retain(|&k| k != (df, n));
        checked?;
        self.session.keys.push((df, n));
        Ok(Reply::ok())
    }

    /// INTERNAL AUTHENTICATE (INS 88): the card's cryptogram over the terminal's random.
    pub(super) fn internal_authenticate(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let n = CosCard::reference(command)?;
        if !matches!(command.data.len(), 4 | 8) {
            return Err(sw::WRONG_LENGTH);
        }
        let (_, key) = self.entry_mut(Table::Keys, n)?;
        key.usable()?;
        let answer = cos::cryptogram(&key.value, &command.data).map_err(|_| sw::BLOCKED)?;
        Ok(Reply::Blob(answer.to_vec()))
    }

    /// VERIFY (INS 20) of PIN P2.
    pub(super) fn verify(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let n = CosCard::reference(command)?;
        if cos::check_pin(&command.data).is_err() {
            return Err(sw::WRONG_LENGTH);
        }
        let (df, pin) = self.entry_mut(Table::Pins, n)?;
        let checked = pin.check(&command.data);
        self.session.pins.retain(|&p| p != (df, n));
        checked?;
        self.session.pins.push((df, n));
        Ok(Reply::ok())
    }
}

/// `69 84`: referenced data not usable — here, no challenge to check a cryptogram against.
const CHALLENGE_MISSING: StatusWord = StatusWord(0x6984);
