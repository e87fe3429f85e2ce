//! The connected-card handle a simulator hands out: a [`reader::Card`] over shared state.
//!
//! Several handles may share one card (the CLI keeps one for saving while a script holds
//! another); each call takes the lock for the duration of one APDU. This file does no
//! APDU processing itself.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::chip::Chip;
use crate::reader;

/// A simulated card in a simulated reader.
pub(crate) struct SimCard {
    pub(crate) chip: Arc<Mutex<Chip>>,
    pub(crate) atr: Vec<u8>,
    pub(crate) reader: String,
}

/// Locks the card state. A poisoned lock is taken over rather than passed on as a panic:
/// chips never panic while they hold it (their `transmit` is total), so poisoning can only
/// come from a bug, and a card that keeps answering is more useful than an aborted run.
pub(crate) fn lock(chip: &Mutex<Chip>) -> MutexGuard<'_, Chip> {
    chip.lock().unwrap_or_else(PoisonError::into_inner)
}

impl reader::Card for SimCard {
    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn reader_name(&self) -> &str {
        &self.reader
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, reader::Error> {
        Ok(lock(&self.chip).transmit(command))
    }

    fn reset(&mut self) -> Result<Vec<u8>, reader::Error> {
        let mut chip = lock(&self.chip);
        chip.reset();
        self.atr = chip.atr().to_vec();
        Ok(self.atr.clone())
    }
}
