//! The UID a card reports, asked the way a PC/SC application would, for the server's event
//! lines. Which UID a fresh card of a stream gets is decided in one place, [`crate::sim::uid_for`].

use crate::reader::Card;

/// The UID a reader reports for `card` (PC/SC Part 3 GET DATA, `FF CA 00 00 00`); `None` when
/// the card has none (the answer is not `90 00` with data) or does not answer.
pub fn reported_uid(card: &mut dyn Card) -> Option<Vec<u8>> {
    let mut answer = card.transmit(&[0xFF, 0xCA, 0x00, 0x00, 0x00]).ok()?;
    if answer.len() > 2 && answer.ends_with(&[0x90, 0x00]) {
        answer.truncate(answer.len() - 2);
        Some(answer)
    } else {
        None
    }
}
