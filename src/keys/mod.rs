//! Issuer keys: where a master key lives (memory or a PKCS#11 token) and what can be done
//! with it without taking it out.
//!
//! A [`Key`] is either a [`Secret`] loaded from `env:`/`file:` (development, tests) or a
//! [`TokenKey`] named by a `pkcs11:` URI ([`uri`]), whose bytes never leave the token
//! ([`pkcs11`]). Both offer the same operations: key check value, AN10922 diversification
//! (`crate::crypto::an10922`), CMAC, encryption. Results that are keys come back as
//! [`Secret`]s. [`components`] is the key ceremony's arithmetic (XOR of components, KCVs);
//! [`columns`] decrypts a data file's encrypted columns; the profile form `diversify:`
//! is `derive`. This module does not print and does not talk to cards.

pub mod columns;
pub mod components;
pub mod devfile;
pub mod pkcs11;
pub mod uri;

use crate::crypto::an10922::{self, Method};
use crate::secret::{Encoding, Secret, SecretError, SecretSource};
pub use pkcs11::{TokenError, TokenKey};
pub use uri::{PinSource, Pkcs11Uri, UriError};

/// A key to compute with: in memory, or in a token.
#[derive(Debug, Clone)]
pub enum Key {
    /// Bytes loaded from `env:` or `file:`.
    Host(Secret),
    /// A key in a PKCS#11 token.
    Token(TokenKey),
}

/// Why a key could not be loaded or used. Messages name sources, never values.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// `env:`/`file:` failed.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The URI is malformed.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// The token failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A development key file failed.
    #[error(transparent)]
    DevFile(#[from] devfile::DevFileError),
    /// A computation refused its arguments (lengths).
    #[error("{0}")]
    Crypto(#[from] crate::crypto::Error),
}

/// Whether `text` names a key in a token (`pkcs11:`).
pub fn is_token_spec(text: &str) -> bool {
    text.starts_with("pkcs11:")
}

/// Loads the key `spec` names: `env:NAME`, `file:PATH` (hex), a `pkcs11:` URI, or a
/// development key file `dev:PATH?passphrase=…` ([`devfile`]).
pub fn load(spec: &str) -> Result<Key, KeyError> {
    if is_token_spec(spec) {
        let uri = Pkcs11Uri::parse(spec)?;
        return Ok(Key::Token(TokenKey::open(&uri)?));
    }
    if spec.starts_with("dev:") {
        let (key, _) = devfile::DevSpec::parse(spec)?.read()?;
        return Ok(Key::Host(key));
    }
    Ok(Key::Host(SecretSource::parse(spec)?.load(Encoding::Hex)?))
}

/// Checks the form of a key spec without loading it (for `check`).
pub fn check_spec(spec: &str) -> Result<(), KeyError> {
    if is_token_spec(spec) {
        Pkcs11Uri::parse(spec)?;
    } else if spec.starts_with("dev:") {
        devfile::DevSpec::parse(spec)?;
    } else {
        SecretSource::parse(spec)?;
    }
    Ok(())
}

/// The key check value of a key in memory: the first 3 bytes of the encryption of a zero
/// block, AES for 32-byte keys, and for 16/24-byte keys AES unless `des3`.
pub fn kcv_of_bytes(key: &[u8], des3: bool) -> Result<[u8; 3], crate::crypto::Error> {
    let zero = if des3 || key.len() == 8 {
        let key = if key.len() == 8 {
            [key, key].concat()
        } else {
            key.to_vec()
        };
        crate::crypto::des3_cbc_encrypt(&key, &[0; 8], &[0; 8])?
    } else {
        crate::crypto::aes_ecb_encrypt(key, &[0; 16])?
    };
    Ok([zero[0], zero[1], zero[2]])
}

impl Key {
    /// How messages name the key (never its bytes).
    pub fn name(&self) -> String {
        match self {
            Key::Host(_) => "(secret)".to_string(),
            Key::Token(t) => t.name().to_string(),
        }
    }

    /// The key check value; a key in memory is taken as AES unless `des3`.
    pub fn kcv(&self, des3: bool) -> Result<[u8; 3], KeyError> {
        match self {
            Key::Host(s) => Ok(kcv_of_bytes(s.expose(), des3)?),
            Key::Token(t) => Ok(t.kcv()?),
        }
    }

    /// AN10922 diversification: the card key, as a secret.
    pub fn diversify(&self, method: Method, m: &[u8]) -> Result<Secret, KeyError> {
        let bytes = match self {
            Key::Host(s) => an10922::diversify_host(s.expose(), method, m)?,
            Key::Token(t) => t.diversify(method, m)?,
        };
        Ok(Secret::new(bytes))
    }

    /// The MIFARE Classic template (AN10922 AES-128, 6 bytes at `offset`), as a secret.
    pub fn diversify_classic(&self, m: &[u8], offset: usize) -> Result<Secret, KeyError> {
        let bytes = match self {
            Key::Host(s) => an10922::diversify_classic_host(s.expose(), m, offset)?,
            Key::Token(t) => t.diversify_classic(m, offset)?,
        };
        Ok(Secret::new(bytes))
    }

    /// AES-CBC decryption (IV given), for encrypted data columns.
    pub fn aes_cbc_decrypt(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Key::Host(s) => Ok(crate::crypto::aes_cbc_decrypt(s.expose(), iv, data)?),
            Key::Token(t) => {
                if t.family() != pkcs11::Family::Aes {
                    return Err(
                        TokenError(format!("{}: a transport key must be AES", t.name())).into(),
                    );
                }
                Ok(t.cbc_decrypt_iv(iv, data)?)
            }
        }
    }

    /// AES-CBC encryption (IV given), for writing encrypted data columns.
    pub fn aes_cbc_encrypt(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Key::Host(s) => Ok(crate::crypto::aes_cbc_encrypt(s.expose(), iv, data)?),
            Key::Token(t) => Ok(t.cbc_encrypt_iv(iv, data)?),
        }
    }
}
