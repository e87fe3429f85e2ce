//! Named values a caller puts into a script's scope: what a profile step sees of its
//! variables, data row, captures, secrets and the card's built-ins.
//!
//! Each value becomes a constant of the matching Rhai type: text a string, a number an
//! integer, bytes a Blob, a secret a `Secret` (which prints as `(secret)`), nothing `()`.
//! This file only converts; which names a step sees is the profile runner's business.

use rhai::{Dynamic, INT};

use crate::secret::Secret;

/// A value for a script's scope.
#[derive(Debug, Clone)]
pub enum Value {
    /// A string (variables, data columns, captures as hex text).
    Text(String),
    /// An integer (`row`, `seq`).
    Int(i64),
    /// Bytes, as a Blob.
    Bytes(Vec<u8>),
    /// A secret: usable wherever bytes are, never printable.
    Secret(Secret),
    /// No value (`row` in a batch without data): `()` in the script.
    Nothing,
}

impl Value {
    /// The Rhai value.
    pub(crate) fn to_dynamic(&self) -> Dynamic {
        match self {
            Value::Text(text) => Dynamic::from(text.clone()),
            Value::Int(n) => Dynamic::from(*n as INT),
            Value::Bytes(bytes) => Dynamic::from_blob(bytes.clone()),
            Value::Secret(secret) => Dynamic::from(secret.clone()),
            Value::Nothing => Dynamic::UNIT,
        }
    }
}
