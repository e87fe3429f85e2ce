//! Secret values (keys, PINs) that never show themselves.
//!
//! A [`Secret`] is bytes loaded from a [`SecretSource`] (`env:NAME` or `file:PATH`). Its
//! `Debug` and `Display` print `(secret)`, so a secret that ends up in a message, a trace or
//! a record is masked by construction. The bytes are only reachable through
//! [`Secret::expose`], which the code that sends them to a card calls.
//!
//! A source holds hex by default (keys: `FFFFFFFFFFFF`); [`Encoding::Text`] takes the text
//! as it is (PINs typed as digits). This module reads the environment and files; it does
//! not decide where a secret may be sent.

use std::fmt;
use std::path::PathBuf;

use crate::apdu::hex;

/// How the text of a secret source becomes bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Hex digits (separators allowed), e.g. a key.
    Hex,
    /// The text itself as UTF-8 bytes, e.g. a PIN typed as digits.
    Text,
}

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable.
    Env(String),
    /// A file; one trailing newline is ignored.
    File(PathBuf),
}

/// Why a secret could not be had. Messages name the source, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The source text is not `env:NAME` or `file:PATH`.
    #[error("secret source `{0}` is not `env:NAME` or `file:PATH`")]
    BadSource(String),
    /// The environment variable is not set.
    #[error("secret `env:{0}`: the environment variable is not set")]
    MissingEnv(String),
    /// The file could not be read.
    #[error("secret `file:{}`: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The value is not hex. The column is given, the character is not.
    #[error("secret `{source_name}` is not hex (column {column})")]
    NotHex {
        /// The source, as written.
        source_name: String,
        /// Where the value stops being hex.
        column: usize,
    },
    /// The value is empty.
    #[error("secret `{0}` is empty")]
    Empty(String),
}

impl SecretSource {
    /// Parses `env:NAME` or `file:PATH`.
    pub fn parse(text: &str) -> Result<SecretSource, SecretError> {
        if let Some(name) = text.strip_prefix("env:").filter(|n| !n.is_empty()) {
            Ok(SecretSource::Env(name.to_string()))
        } else if let Some(path) = text.strip_prefix("file:").filter(|p| !p.is_empty()) {
            Ok(SecretSource::File(PathBuf::from(path)))
        } else {
            Err(SecretError::BadSource(text.to_string()))
        }
    }

    /// Reads the source and turns its text into a secret.
    pub fn load(&self, encoding: Encoding) -> Result<Secret, SecretError> {
        let text = match self {
            SecretSource::Env(name) => {
                std::env::var(name).map_err(|_| SecretError::MissingEnv(name.clone()))?
            }
            SecretSource::File(path) => {
                let mut text = crate::input::read_text(path, crate::input::Kind::Secret).map_err(
                    |source| SecretError::File {
                        path: path.clone(),
                        source,
                    },
                )?;
                if text.ends_with('\n') {
                    text.pop();
                    if text.ends_with('\r') {
                        text.pop();
                    }
                }
                text
            }
        };
        let bytes = match encoding {
            Encoding::Text => text.into_bytes(),
            Encoding::Hex => hex::parse(text.trim()).map_err(|e| SecretError::NotHex {
                source_name: self.to_string(),
                column: e.column(),
            })?,
        };
        if bytes.is_empty() {
            return Err(SecretError::Empty(self.to_string()));
        }
        Ok(Secret::new(bytes))
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env:{name}"),
            SecretSource::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// Bytes that print as `(secret)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    bytes: Vec<u8>,
}

impl Secret {
    /// Wraps bytes as a secret.
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret { bytes }
    }

    /// The bytes, for sending to a card. Never format them.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// How many bytes the secret has (a length is not a secret here).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the secret has no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(secret)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(secret)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: do not leave key material in freed memory.
        self.bytes.iter_mut().for_each(|b| *b = 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_format_their_bytes() {
        let s = Secret::new(vec![0x12, 0x34]);
        assert_eq!(
            format!("{s} {s:?} {:?}", Some(&s)),
            "(secret) (secret) Some((secret))"
        );
        assert_eq!(s.expose(), [0x12, 0x34]);
    }

    #[test]
    fn parses_sources() {
        assert_eq!(
            SecretSource::parse("env:PIN").unwrap(),
            SecretSource::Env("PIN".into())
        );
        assert_eq!(
            SecretSource::parse("file:keys/a.hex").unwrap(),
            SecretSource::File("keys/a.hex".into())
        );
        for bad in ["PIN", "env:", "file:", "vault:x"] {
            assert!(
                matches!(SecretSource::parse(bad), Err(SecretError::BadSource(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn loads_files_as_hex_or_text_without_leaking_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "FF FF FF FF FF FF\n").unwrap();
        let source = SecretSource::File(path.clone());
        assert_eq!(source.load(Encoding::Hex).unwrap().expose(), [0xFF; 6]);
        std::fs::write(&path, "12G4\n").unwrap();
        let err = source.load(Encoding::Hex).unwrap_err().to_string();
        assert!(err.contains("column 3") && !err.contains("12G4"), "{err}");
        assert_eq!(source.load(Encoding::Text).unwrap().expose(), b"12G4");
        let missing = SecretSource::File(dir.path().join("nope"));
        assert!(
            missing
                .load(Encoding::Hex)
                .unwrap_err()
                .to_string()
                .starts_with("secret `file:")
        );
    }

    #[test]
    fn bad_sources_and_empty_values_are_named() {
        assert_eq!(
            SecretSource::parse("vault:x").unwrap_err().to_string(),
            "secret source `vault:x` is not `env:NAME` or `file:PATH`"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty");
        std::fs::write(&path, "\n").unwrap();
        let source = SecretSource::File(path);
        for encoding in [Encoding::Hex, Encoding::Text] {
            let err = source.load(encoding).unwrap_err();
            assert!(matches!(err, SecretError::Empty(_)), "{err:?}");
            assert_eq!(err.to_string(), format!("secret `{source}` is empty"));
        }
    }

    #[test]
    fn missing_environment_variables_are_named() {
        let source = SecretSource::Env("APDU_RUN_TEST_SURELY_UNSET".into());
        assert_eq!(
            source.load(Encoding::Hex).unwrap_err().to_string(),
            "secret `env:APDU_RUN_TEST_SURELY_UNSET`: the environment variable is not set"
        );
    }
}
