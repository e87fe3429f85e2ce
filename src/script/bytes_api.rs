//! Bytes in scripts: hex strings, Blobs and secrets wherever bytes are expected, and the
//! `hex`/`unhex` helpers.
//!
//! A hex string is the way people write APDUs; a `Blob` is what responses return; a
//! `Secret` is bytes that print as `(secret)`. [`bytes_of`] accepts all three. Joining a
//! secret with other bytes with `+` gives a secret, so a secret never turns back into a
//! printable value. This module does not talk to the card.

use rhai::{Blob, Dynamic, Engine, EvalAltResult, ImmutableString};

use super::error::Fault;
use crate::apdu::hex;
use crate::reader::trace::Redactor;
use crate::secret::Secret;

/// What a bytes argument turned out to be.
pub(crate) struct Bytes {
    pub bytes: Vec<u8>,
    pub secret: bool,
}

/// Reads a bytes argument: hex string, Blob or Secret. `what` names the argument in errors.
pub(crate) fn bytes_of(value: &Dynamic, what: &str) -> Result<Bytes, Box<EvalAltResult>> {
    if let Some(text) = value.read_lock::<ImmutableString>() {
        return parse_hex(&text, what).map(|bytes| Bytes {
            bytes,
            secret: false,
        });
    }
    if let Some(blob) = value.read_lock::<Blob>() {
        return Ok(Bytes {
            bytes: blob.clone(),
            secret: false,
        });
    }
    if let Some(secret) = value.read_lock::<Secret>() {
        return Ok(Bytes {
            bytes: secret.expose().to_vec(),
            secret: true,
        });
    }
    Err(Fault::failed(format!(
        "{what}: expected hex text, a Blob or a secret, got {}",
        value.type_name()
    )))
}

/// Parses hex text for argument `what`, with the column of any bad character.
pub(crate) fn parse_hex(text: &str, what: &str) -> Result<Vec<u8>, Box<EvalAltResult>> {
    hex::parse(text).map_err(|e| Fault::failed(format!("{what}: bad hex `{text}`: {e}")))
}

fn join(a: &[u8], b: &[u8]) -> Secret {
    let mut bytes = Vec::with_capacity(a.len() + b.len());
    bytes.extend_from_slice(a);
    bytes.extend_from_slice(b);
    Secret::new(bytes)
}

/// Registers `hex`, `unhex`, the `Secret` type and the operators that keep secrets secret.
pub(crate) fn register(engine: &mut Engine, redactor: &Redactor) {
    engine.register_fn("hex", |blob: Blob| hex::format_compact(&blob));
    engine.register_fn(
        "hex",
        |text: ImmutableString| -> Result<String, Box<EvalAltResult>> {
            Ok(hex::format_compact(&parse_hex(&text, "hex")?))
        },
    );
    engine.register_fn("unhex", |text: ImmutableString| parse_hex(&text, "unhex"));

    engine.register_type_with_name::<Secret>("Secret");
    engine.register_fn("to_string", |_: &mut Secret| super::MASKED.to_string());
    engine.register_fn("to_debug", |_: &mut Secret| super::MASKED.to_string());
    engine.register_fn("len", |s: &mut Secret| s.len() as i64);
    let r = redactor.clone();
    engine.register_fn("+", move |a: Secret, b: Secret| {
        remember(&r, join(a.expose(), b.expose()))
    });
    let r = redactor.clone();
    engine.register_fn("+", move |a: Blob, b: Secret| {
        remember(&r, join(&a, b.expose()))
    });
    let r = redactor.clone();
    engine.register_fn("+", move |a: Secret, b: Blob| {
        remember(&r, join(a.expose(), &b))
    });
    let r = redactor.clone();
    engine.register_fn(
        "+",
        move |a: ImmutableString, b: Secret| -> Result<Secret, Box<EvalAltResult>> {
            Ok(remember(
                &r,
                join(&parse_hex(&a, "left side of +")?, b.expose()),
            ))
        },
    );
    let r = redactor.clone();
    engine.register_fn(
        "+",
        move |a: Secret, b: ImmutableString| -> Result<Secret, Box<EvalAltResult>> {
            Ok(remember(
                &r,
                join(a.expose(), &parse_hex(&b, "right side of +")?),
            ))
        },
    );
}

fn remember(redactor: &Redactor, secret: Secret) -> Secret {
    redactor.add(secret.expose());
    secret
}
