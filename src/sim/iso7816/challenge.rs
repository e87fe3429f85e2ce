//! GET CHALLENGE (ISO/IEC 7816-4, INS 84) and the deterministic generator behind it.
//!
//! The generator is SplitMix64 with its state stored in the card image: challenges differ
//! from call to call and from run to run, yet a card image plus a command sequence always
//! gives the same bytes. No clock and no OS randomness, on purpose; nothing here is fit for
//! real cryptography.

use super::sw;
use super::transport::Reply;
use super::{FileCard, Protocol};
use crate::apdu::{Command, StatusWord};

/// The generator state of a fresh card.
pub(super) const SEED: u64 = 0x6170_6475_2D72_756E;

/// Advances SplitMix64 and returns its next output.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl FileCard {
    /// GET CHALLENGE (INS 84): Le random bytes, any Le from 1 to 256.
    ///
    /// Any length is available, so T=0 never answers `6Cxx` here; on T=1 a missing Le is
    /// `67 00` (there is no natural length to default to).
    pub(super) fn get_challenge(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if command.p1 != 0 || command.p2 != 0 {
            return Err(sw::INCORRECT_P1P2);
        }
        if !command.data.is_empty() {
            return Err(sw::WRONG_LENGTH);
        }
        let n = match (self.protocol, command.le) {
            (Protocol::T0, le) => le.unwrap_or(256),
            (Protocol::T1, Some(le)) if le <= 256 => le,
            (Protocol::T1, _) => return Err(sw::WRONG_LENGTH),
        };
        let mut data = Vec::with_capacity(n + 2);
        while data.len() < n {
            let word = next(&mut self.state.rng).to_be_bytes();
            let take = (n - data.len()).min(word.len());
            data.extend_from_slice(&word[..take]);
        }
        Ok(Reply::Done(data, sw::OK))
    }
}
