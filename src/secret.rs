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
use std::ops::Range;
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

/// Bytes that print as `(secret)`, some or all of which came from a secret source.
///
/// A secret remembers which byte ranges are secret (its *provenance*): a value loaded from a
/// source is secret throughout; joining it with plain bytes ([`Secret::concat`]) keeps the
/// plain bytes plain and the secret ranges secret, so that a command built from it can mask
/// exactly the bytes a secret filled, whatever their length. The value as a whole never
/// formats its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    bytes: Vec<u8>,
    /// Sorted, disjoint, non-empty ranges of `bytes` that are secret.
    ranges: Vec<Range<usize>>,
}

impl Secret {
    /// Wraps bytes as a secret, every byte secret.
    pub fn new(bytes: Vec<u8>) -> Secret {
        let ranges = if bytes.is_empty() {
            Vec::new()
        } else {
            std::iter::once(0..bytes.len()).collect()
        };
        Secret { bytes, ranges }
    }

    /// Bytes of which only `ranges` are secret. Ranges are clipped to the bytes, sorted and
    /// merged, so any input is safe.
    pub fn partial(bytes: Vec<u8>, ranges: &[Range<usize>]) -> Secret {
        let ranges = normalise(ranges, bytes.len());
        Secret { bytes, ranges }
    }

    /// `a` followed by `b`, each with its secret ranges (a plain side has none).
    pub fn concat(a: (&[u8], &[Range<usize>]), b: (&[u8], &[Range<usize>])) -> Secret {
        let mut bytes = Vec::with_capacity(a.0.len() + b.0.len());
        bytes.extend_from_slice(a.0);
        bytes.extend_from_slice(b.0);
        let shift = a.0.len();
        let ranges: Vec<Range<usize>> =
            a.1.iter()
                .cloned()
                .chain(b.1.iter().map(|r| r.start + shift..r.end + shift))
                .collect();
        Secret::partial(bytes, &ranges)
    }

    /// The bytes, for sending to a card. Never format them.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// The byte ranges that came from a secret (sorted, disjoint).
    pub fn ranges(&self) -> &[Range<usize>] {
        &self.ranges
    }

    /// The secret pieces themselves: the bytes of each range, for the trace to recognise.
    pub fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        self.ranges.iter().map(|r| &self.bytes[r.clone()])
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

/// Clips ranges to `len`, drops empty ones, sorts and merges overlapping or adjacent ones.
pub fn normalise(ranges: &[Range<usize>], len: usize) -> Vec<Range<usize>> {
    let mut clipped: Vec<Range<usize>> = ranges
        .iter()
        .map(|r| r.start.min(len)..r.end.min(len))
        .filter(|r| r.start < r.end)
        .collect();
    clipped.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(clipped.len());
    for range in clipped {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
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
        assert_eq!(s.ranges(), std::slice::from_ref(&(0..2)));
    }

    #[test]
    fn concatenation_keeps_exactly_the_secret_ranges() {
        let pin = Secret::new(vec![0x31, 0x32]);
        let header = [0x00, 0x20, 0x00, 0x01, 0x02];
        let apdu = Secret::concat((&header, &[]), (pin.expose(), pin.ranges()));
        assert_eq!(apdu.ranges(), std::slice::from_ref(&(5..7)));
        let twice = Secret::concat((apdu.expose(), apdu.ranges()), (pin.expose(), pin.ranges()));
        assert_eq!(twice.ranges(), std::slice::from_ref(&(5..9)));
        assert_eq!(
            twice.pieces().collect::<Vec<_>>(),
            [&[0x31, 0x32, 0x31, 0x32][..]]
        );
        assert_eq!(format!("{twice}"), "(secret)");
    }

    proptest::proptest! {
        #[test]
        fn normalised_ranges_are_sorted_disjoint_and_inside(
            ranges in proptest::collection::vec((0usize..40, 0usize..40), 0..8),
            len in 0usize..32,
        ) {
            let ranges: Vec<Range<usize>> = ranges.into_iter().map(|(a, b)| a..b).collect();
            let out = normalise(&ranges, len);
            for pair in out.windows(2) {
                proptest::prop_assert!(pair[0].end < pair[1].start);
            }
            for r in &out {
                proptest::prop_assert!(r.start < r.end && r.end <= len);
            }
            // Every byte some input range covered (inside len) is still covered.
            for r in &ranges {
                for i in r.clone().filter(|&i| i < len) {
                    proptest::prop_assert!(out.iter().any(|o| o.contains(&i)));
                }
            }
        }
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
