//! GET CHALLENGE (ISO/IEC 7816-4, INS 84) and the deterministic generator behind it.
//!
//! The generator is SplitMix64 with its state stored in the card image: challenges differ
//! from call to call, and a card image plus a command sequence always gives the same bytes.
//! A fresh card's state is seeded by [`fresh_state`]: from the operating system's generator
//! (every fresh card in every run differs, as real cards do), or from a seed the user gave
//! (`--sim-seed`) mixed with the card's place in its stream (reproducible, still one
//! sequence per card). Nothing here is fit for real cryptography.

use super::sw;
use super::transport::Reply;
use super::{FileCard, Protocol};
use crate::apdu::{Command, StatusWord};

/// The generator state of a fresh card.
pub(super) const SEED: u64 = 0x6170_6475_2D72_756E;

/// The generator state of a fresh card: from `seed` and `position` when a seed is given,
/// else from the operating system (falling back to [`SEED`] if it has no generator).
pub(crate) fn fresh_state(seed: Option<u64>, position: u64) -> u64 {
    match seed {
        Some(seed) => {
            let mut state = seed ^ position.wrapping_mul(0xD1B5_4A32_D192_ED03);
            next(&mut state)
        }
        None => crate::crypto::random(8)
            .ok()
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
            .map_or(SEED, u64::from_be_bytes),
    }
}

/// Advances SplitMix64 and returns its next output.
pub(in crate::sim) fn next(state: &mut u64) -> u64 {
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
