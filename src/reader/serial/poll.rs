//! Waiting for a card, and for its removal, on a serial reader: neither backend reports
//! card events, so both ask the reader (power on, or reset) every [`POLL`] until the
//! answer changes or the wait's time is up. This file knows nothing of how either backend
//! asks.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::reader::{Card, Error};

/// Time between two polls for a card.
pub(super) const POLL: Duration = Duration::from_millis(250);

/// The device behind a reader and its card: a panic elsewhere while it was held does not
/// make it unusable (the next command finds out whether the line still works).
pub(super) fn lock<T>(device: &Mutex<T>) -> MutexGuard<'_, T> {
    device.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Calls `connect` until it gives a card (`Some`), fails with anything but `NoCard` (the
/// error), or `timeout` has passed (`None`); `None` as timeout waits for ever.
pub(super) fn next_card(
    timeout: Option<Duration>,
    mut connect: impl FnMut() -> Result<Box<dyn Card>, Error>,
) -> Result<Option<Box<dyn Card>>, Error> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        match connect() {
            Ok(card) => return Ok(Some(card)),
            Err(Error::NoCard { .. }) => {}
            Err(e) => return Err(e),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// Calls `present` until it says no card is there, or fails (the error); after `timeout`
/// it is a [`Error::Timeout`] naming `reader`.
pub(super) fn wait_removed(
    timeout: Option<Duration>,
    reader: &str,
    mut present: impl FnMut() -> Result<bool, Error>,
) -> Result<(), Error> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        if !present()? {
            return Ok(());
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::Timeout {
                what: "the card's removal",
                reader: reader.to_string(),
            });
        }
        std::thread::sleep(POLL);
    }
}
