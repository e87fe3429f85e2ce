//! Encrypted data columns: per-card secrets (a PIN, a card key) carried in a batch's data
//! file encrypted under a transport key, decrypted only in memory into [`Secret`]s.
//!
//! The format of a cell (documented in the README):
//! `hex(IV || AES-CBC(transport key, IV, value || 80 00…))` — a random 16-byte IV, the value
//! padded by ISO/IEC 9797-1 method 2 (`80` then zeros up to a whole block, always at least
//! one byte of padding), encrypted with AES-128/192/256 in CBC mode. The transport key is
//! a [`Key`]: `env:`/`file:` or a `pkcs11:` URI, in which case decryption runs in the
//! token. A cell that does not decrypt and unpad cleanly is refused; the message names the
//! column and row, never the cell. This file does not read the data file.

use super::{Key, KeyError};
use crate::apdu::hex;
use crate::secret::Secret;

/// Why a cell could not be decrypted.
#[derive(Debug, thiserror::Error)]
pub enum ColumnError {
    /// Not hex, or not IV plus at least one whole block.
    #[error("is not hex of a 16-byte IV followed by whole 16-byte blocks")]
    Shape,
    /// The padding is wrong: a wrong transport key or a damaged cell.
    #[error("does not decrypt to a padded value (wrong transport key?)")]
    Padding,
    /// The key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Decrypts one cell into the secret it carries.
pub fn decrypt(key: &Key, cell: &str) -> Result<Secret, ColumnError> {
    let bytes = hex::parse(cell.trim()).map_err(|_| ColumnError::Shape)?;
    if bytes.len() < 32 || bytes.len() % 16 != 0 {
        return Err(ColumnError::Shape);
    }
    let (iv, body) = bytes.split_at(16);
    let mut plain = key.aes_cbc_decrypt(iv, body)?;
    let end = plain.iter().rposition(|&b| b != 0);
    let result = match end {
        Some(i) if plain[i] == 0x80 && plain.len() - i <= 16 => {
            plain.truncate(i);
            Ok(Secret::new(plain.clone()))
        }
        _ => Err(ColumnError::Padding),
    };
    plain.iter_mut().for_each(|b| *b = 0);
    result
}

/// Encrypts a value into a cell (the tool side of the format, for tests and for `apdu-run
/// key encrypt-column`), with a fresh random IV.
pub fn encrypt(key: &Key, value: &[u8]) -> Result<String, ColumnError> {
    let iv = crate::crypto::random(16).map_err(|e| ColumnError::Key(e.into()))?;
    encrypt_with_iv(key, &iv, value)
}

fn encrypt_with_iv(key: &Key, iv: &[u8], value: &[u8]) -> Result<String, ColumnError> {
    let mut padded = value.to_vec();
    padded.push(0x80);
    padded.resize(padded.len().div_ceil(16) * 16, 0);
    let body = key.aes_cbc_encrypt(iv, &padded)?;
    padded.iter_mut().for_each(|b| *b = 0);
    Ok(hex::format_compact(&[iv, &body[..]].concat()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::Host(Secret::new(vec![0x2B; 16]))
    }

    #[test]
    fn cells_round_trip_and_a_wrong_key_is_refused() {
        for value in [&b"1234"[..], &[0u8; 16], &[0x80; 15], &[1]] {
            let cell = encrypt(&key(), value).unwrap();
            assert_eq!(decrypt(&key(), &cell).unwrap().expose(), value);
        }
        let cell = encrypt_with_iv(&key(), &[0; 16], b"1234").unwrap();
        // Hand-checked shape: IV then one block.
        assert_eq!(cell.len(), 64);
        let wrong = Key::Host(Secret::new(vec![0x2C; 16]));
        assert!(matches!(decrypt(&wrong, &cell), Err(ColumnError::Padding)));
        assert!(matches!(decrypt(&key(), "00"), Err(ColumnError::Shape)));
        assert!(matches!(decrypt(&key(), "zz"), Err(ColumnError::Shape)));
    }

    proptest::proptest! {
        #[test]
        fn any_cell_decrypts_or_is_refused(text in "[0-9A-F]{0,100}") {
            let _ = decrypt(&key(), &text);
        }
    }
}
