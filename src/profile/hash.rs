//! FNV-1a 64, the profile fingerprint's hash.
//!
//! Written out here because std's `DefaultHasher` may change between Rust releases, and a
//! journal written by one build must be recognised by the next. Not for anything that
//! needs resistance to deliberate collisions.

/// An FNV-1a 64 hasher.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Fnv1a {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// A hasher with nothing written.
    pub fn new() -> Fnv1a {
        Fnv1a(Self::OFFSET_BASIS)
    }

    /// Feeds bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Feeds one text with its length first, so that `ab`+`c` and `a`+`bc` differ.
    pub fn write_text(&mut self, text: &str) {
        self.write(&(text.len() as u64).to_le_bytes());
        self.write(text.as_bytes());
    }

    /// The hash so far.
    pub fn finish(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: u64) {
        let mut h = Fnv1a::new();
        h.write(input.as_bytes());
        assert_eq!(h.finish(), expected, "{input:?}");
    }

    #[test]
    fn matches_the_reference_vectors() {
        check("", 0xcbf2_9ce4_8422_2325);
        check("a", 0xaf63_dc4c_8601_ec8c);
        check("foobar", 0x8594_4171_f739_67e8);
    }

    #[test]
    fn length_prefix_separates_texts() {
        let mut a = Fnv1a::new();
        a.write_text("ab");
        a.write_text("c");
        let mut b = Fnv1a::new();
        b.write_text("a");
        b.write_text("bc");
        assert_ne!(a.finish(), b.finish());
    }
}
