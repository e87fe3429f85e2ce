//! Random bytes from the operating system (`getrandom`), for challenges and test keys.
//!
//! No user-space generator and no seeding: every call asks the OS.

use super::Error;

/// The most bytes one call to [`random`] returns; a script asking for more is most likely
/// wrong, and a limit keeps one call from allocating without bound.
pub const MAX_RANDOM_LEN: usize = 4096;

/// Returns `n` bytes from the operating system's random source.
///
/// Fails if `n` is above [`MAX_RANDOM_LEN`] or the OS source fails.
pub fn random(n: usize) -> Result<Vec<u8>, Error> {
    if n > MAX_RANDOM_LEN {
        return Err(Error::RandomLength(n));
    }
    let mut bytes = vec![0; n];
    getrandom::fill(&mut bytes).map_err(Error::Random)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::{Error, MAX_RANDOM_LEN, random};

    #[test]
    fn returns_the_requested_length() {
        assert_eq!(random(0), Ok(vec![]));
        assert_eq!(random(16).map(|bytes| bytes.len()), Ok(16));
        assert_eq!(
            random(MAX_RANDOM_LEN).map(|bytes| bytes.len()),
            Ok(MAX_RANDOM_LEN)
        );
    }

    #[test]
    fn two_calls_differ() {
        // 2^-256 chance of a false failure.
        assert_ne!(random(32), random(32));
    }

    #[test]
    fn refuses_more_than_the_limit() {
        assert_eq!(random(4097), Err(Error::RandomLength(4097)));
        assert_eq!(
            Error::RandomLength(4097).to_string(),
            "random length must be at most 4096 bytes, got 4097"
        );
    }
}
