//! Cryptographic primitives for script built-ins: AES-CMAC, HMAC-SHA256, AES-ECB, AES-CBC,
//! 3DES-CBC, AN10922 key diversification (`an10922`) and random bytes, as thin wrappers over the RustCrypto crates and `getrandom`.
//!
//! Pure functions over byte slices, no printing and no state. They check argument lengths
//! and say which one is wrong, never what it held: keys must not reach a message or a log.
//! This module does no padding (AN10922 pads its own way, in `an10922`) and no secure messaging; card
//! protocols that need those build them from these pieces. Buffers holding keys are not
//! zeroized.

pub mod an10922;
mod cipher;
mod mac;
mod random;

pub use cipher::{
    aes_cbc_decrypt, aes_cbc_encrypt, aes_ecb_decrypt, aes_ecb_encrypt, des3_cbc_decrypt,
    des3_cbc_encrypt,
};
pub use mac::{aes_cmac, hmac_sha256};
pub use random::{MAX_RANDOM_LEN, random};

/// Why a cryptographic built-in refused its arguments or could not run.
///
/// Messages name the argument and its length only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An AES key that is not 16, 24 or 32 bytes long.
    #[error("AES key must be 16, 24 or 32 bytes, got {0}")]
    AesKeyLength(usize),
    /// A 3DES key that is neither two-key (16 bytes) nor three-key (24 bytes).
    #[error("3DES key must be 16 or 24 bytes, got {0}")]
    DesKeyLength(usize),
    /// A 3DES-CBC initialisation vector that is not one 8-byte block.
    #[error("3DES IV must be 8 bytes, got {0}")]
    DesIvLength(usize),
    /// Data that is not a whole number of cipher blocks; nothing is padded here.
    #[error("{cipher} data must be a multiple of {block} bytes, got {len}")]
    DataLength {
        /// `AES` or `3DES`.
        cipher: &'static str,
        /// The block size in bytes.
        block: usize,
        /// The length of the data given.
        len: usize,
    },
    /// An AES-CBC initialisation vector that is not one 16-byte block.
    #[error("AES IV must be 16 bytes, got {0}")]
    AesIvLength(usize),
    /// A key diversification that refused its input (length, offset); lengths only.
    #[error("{0}")]
    Diversify(String),
    /// A key held in a token (PKCS#11) failed; the message names the token and the
    /// operation, never key bytes.
    #[error("{0}")]
    Token(String),
    /// A request for more than [`MAX_RANDOM_LEN`] random bytes.
    #[error("random length must be at most 4096 bytes, got {0}")]
    RandomLength(usize),
    /// The operating system's random source failed.
    #[error("operating system random source failed: {0}")]
    Random(getrandom::Error),
}
