//! Key components for the key ceremony: two or three hex components XORed into a key, each
//! with its key check value, so custodians can confirm what they typed without seeing
//! another's component.
//!
//! This file computes; reading components from a prompt or files and storing the result is
//! `cli/key.rs`'s job.

use crate::apdu::hex;
use crate::secret::Secret;

/// Why components do not make a key. Messages name the component by number, never its
/// digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentError {
    /// Not hex.
    #[error("component {number} is not hex (column {column})")]
    NotHex {
        /// 1-based component number.
        number: usize,
        /// Where the text stops being hex.
        column: usize,
    },
    /// A length that is no key length.
    #[error("component {number} is {len} bytes; a key component is 16, 24 or 32 bytes")]
    Length {
        /// 1-based component number.
        number: usize,
        /// Its length.
        len: usize,
    },
    /// Components of different lengths.
    #[error("component {number} is {len} bytes, component 1 is {first}")]
    Mismatch {
        /// 1-based component number.
        number: usize,
        /// Its length.
        len: usize,
        /// The first component's length.
        first: usize,
    },
    /// Not two or three components.
    #[error("a key is made of 2 or 3 components, got {0}")]
    Count(usize),
}

/// Parses component `number` (1-based) from hex text (spaces allowed).
pub fn parse(number: usize, text: &str) -> Result<Secret, ComponentError> {
    let bytes = hex::parse(text.trim()).map_err(|e| ComponentError::NotHex {
        number,
        column: e.column(),
    })?;
    if !matches!(bytes.len(), 16 | 24 | 32) {
        return Err(ComponentError::Length {
            number,
            len: bytes.len(),
        });
    }
    Ok(Secret::new(bytes))
}

/// XORs two or three components of equal length into the key.
pub fn combine(components: &[Secret]) -> Result<Secret, ComponentError> {
    if !(2..=3).contains(&components.len()) {
        return Err(ComponentError::Count(components.len()));
    }
    let first = components[0].len();
    let mut key = vec![0u8; first];
    for (i, component) in components.iter().enumerate() {
        if component.len() != first {
            return Err(ComponentError::Mismatch {
                number: i + 1,
                len: component.len(),
                first,
            });
        }
        for (k, c) in key.iter_mut().zip(component.expose()) {
            *k ^= c;
        }
    }
    Ok(Secret::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_xor_into_the_key() {
        let a = parse(1, "00112233445566778899AABBCCDDEEFF").unwrap();
        let b = parse(2, "FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF").unwrap();
        let key = combine(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(
            key.expose(),
            hex::parse("FFEEDDCCBBAA99887766554433221100").unwrap()
        );
        let c = parse(3, "FFEEDDCCBBAA99887766554433221100").unwrap();
        assert_eq!(combine(&[a, b, c]).unwrap().expose(), [0; 16]);
    }

    #[test]
    fn errors_name_the_component_not_its_digits() {
        let err = parse(2, "00112233445566778899AABBCCDDEEFG").unwrap_err();
        assert_eq!(
            err,
            ComponentError::NotHex {
                number: 2,
                column: 32
            }
        );
        assert!(!err.to_string().contains("0011"));
        assert_eq!(
            parse(1, "0011").unwrap_err(),
            ComponentError::Length { number: 1, len: 2 }
        );
        let a = parse(1, &"11".repeat(16)).unwrap();
        let b = parse(2, &"22".repeat(24)).unwrap();
        assert_eq!(
            combine(&[a.clone(), b]).unwrap_err(),
            ComponentError::Mismatch {
                number: 2,
                len: 24,
                first: 16
            }
        );
        assert_eq!(combine(&[a]).unwrap_err(), ComponentError::Count(1));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,80}") {
            let _ = parse(1, &text);
        }
    }
}
