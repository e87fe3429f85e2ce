//! Bytes in scripts: hex strings, Blobs and secrets wherever bytes are expected, and the
//! `hex`/`unhex` helpers.
//!
//! A hex string is the way people write APDUs; a `Blob` is what responses return; a
//! `Secret` is bytes that print as `(secret)`. [`bytes_of`] accepts all three and says which
//! byte ranges came from a secret. Joining a secret with other bytes with `+` gives a secret
//! that keeps exactly those ranges, so a secret never turns back into a printable value and
//! a command built from it masks exactly the bytes the secret filled. This module does not
//! talk to the card.

use std::ops::Range;

use rhai::{Blob, Dynamic, Engine, EvalAltResult, INT, ImmutableString};

use super::error::Fault;
use super::session::Shared;
use crate::apdu::hex;
use crate::reader::trace::Provenance;
use crate::secret::Secret;

/// What a bytes argument turned out to be.
pub(crate) struct Bytes {
    pub bytes: Vec<u8>,
    /// The ranges of `bytes` that came from a secret (empty for plain bytes).
    pub secret: Vec<Range<usize>>,
}

impl Bytes {
    /// Whether any byte came from a secret.
    pub fn is_secret(&self) -> bool {
        !self.secret.is_empty()
    }

    /// A result derived from these bytes: a secret throughout if any input byte was one
    /// (a MAC, a cipher text, a decoded field tells about all of its inputs), else a Blob.
    pub fn derived(inputs: &[&Bytes], result: Vec<u8>) -> Dynamic {
        if inputs.iter().any(|b| b.is_secret()) {
            Dynamic::from(Secret::new(result))
        } else {
            Dynamic::from_blob(result)
        }
    }

    /// These bytes as a script value: a Secret keeping its ranges, or a Blob.
    pub fn into_dynamic(self) -> Dynamic {
        if self.is_secret() {
            Dynamic::from(Secret::partial(self.bytes, &self.secret))
        } else {
            Dynamic::from_blob(self.bytes)
        }
    }
}

/// Reads a bytes argument: hex string, Blob or Secret. `what` names the argument in errors.
pub(crate) fn bytes_of(value: &Dynamic, what: &str) -> Result<Bytes, Box<EvalAltResult>> {
    if let Some(text) = value.read_lock::<ImmutableString>() {
        return parse_hex(&text, what).map(|bytes| Bytes {
            bytes,
            secret: Vec::new(),
        });
    }
    if let Some(blob) = value.read_lock::<Blob>() {
        return Ok(Bytes {
            bytes: blob.clone(),
            secret: Vec::new(),
        });
    }
    if let Some(secret) = value.read_lock::<Secret>() {
        return Ok(Bytes {
            bytes: secret.expose().to_vec(),
            secret: secret.ranges().to_vec(),
        });
    }
    Err(Fault::failed(format!(
        "{what}: expected hex text, a Blob or a secret, got {}",
        value.type_name()
    )))
}

/// Compact hex of a secret's plain bytes, `(secret)` for each secret range.
fn masked_hex(secret: &Secret) -> String {
    let bytes = secret.expose();
    let mut out = String::new();
    let mut at = 0;
    for range in secret.ranges() {
        out.push_str(&hex::format_compact(&bytes[at..range.start]));
        out.push_str(super::MASKED);
        at = range.end;
    }
    out.push_str(&hex::format_compact(&bytes[at..]));
    out
}

/// Opens the provenance scope of bytes about to be put into commands: while the returned
/// scope lives, the trace and messages mask exactly the bytes a secret filled, wherever the
/// caller places them in a command.
pub(crate) fn scope_of(session: &Shared, bytes: &Bytes) -> Provenance {
    session
        .borrow()
        .redactor
        .provenance(&bytes.bytes, &bytes.secret)
}

/// Parses hex text for argument `what`, with the column of any bad character.
pub(crate) fn parse_hex(text: &str, what: &str) -> Result<Vec<u8>, Box<EvalAltResult>> {
    hex::parse(text).map_err(|e| Fault::failed(format!("{what}: bad hex `{text}`: {e}")))
}

/// Registers `hex`, `unhex`, the `Secret` type and the operators that keep secrets secret.
pub(crate) fn register(engine: &mut Engine) {
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
    // `+` keeps each side's secret ranges where they land; a plain side stays plain.
    engine.register_fn("+", |a: Secret, b: Secret| {
        Secret::concat((a.expose(), a.ranges()), (b.expose(), b.ranges()))
    });
    engine.register_fn("+", |a: Blob, b: Secret| {
        Secret::concat((&a, &[]), (b.expose(), b.ranges()))
    });
    engine.register_fn("+", |a: Secret, b: Blob| {
        Secret::concat((a.expose(), a.ranges()), (&b, &[]))
    });
    engine.register_fn(
        "+",
        |a: ImmutableString, b: Secret| -> Result<Secret, Box<EvalAltResult>> {
            let a = parse_hex(&a, "left side of +")?;
            Ok(Secret::concat((&a, &[]), (b.expose(), b.ranges())))
        },
    );
    engine.register_fn(
        "+",
        |a: Secret, b: ImmutableString| -> Result<Secret, Box<EvalAltResult>> {
            let b = parse_hex(&b, "right side of +")?;
            Ok(Secret::concat((a.expose(), a.ranges()), (&b, &[])))
        },
    );
    // `hex` of a secret shows its plain bytes and `(secret)` for each secret range.
    engine.register_fn("hex", |s: Secret| masked_hex(&s));
    // Comparing tells one bit (equal or not), which a check of a read-back needs.
    engine.register_fn("==", |a: Secret, b: Secret| a.expose() == b.expose());
    engine.register_fn("==", |a: Secret, b: Blob| a.expose() == b.as_slice());
    engine.register_fn("==", |a: Blob, b: Secret| a.as_slice() == b.expose());
    engine.register_fn("!=", |a: Secret, b: Secret| a.expose() != b.expose());
    engine.register_fn("!=", |a: Secret, b: Blob| a.expose() != b.as_slice());
    engine.register_fn("!=", |a: Blob, b: Secret| a.as_slice() != b.expose());
    // A slice of a secret keeps the ranges that fall inside it.
    engine.register_fn(
        "extract",
        |s: &mut Secret, start: INT, len: INT| -> Result<Dynamic, Box<EvalAltResult>> {
            let total = s.len() as INT;
            if start < 0 || len < 0 || start.saturating_add(len) > total {
                return Err(Fault::failed(format!(
                    "extract: {len} bytes from {start} do not fit in a secret of {total} bytes"
                )));
            }
            let (start, end) = (start as usize, (start + len) as usize);
            let ranges: Vec<Range<usize>> = s
                .ranges()
                .iter()
                .map(|r| r.start.max(start) - start..r.end.min(end).saturating_sub(start))
                .collect();
            let bytes = Bytes {
                bytes: s.expose()[start..end].to_vec(),
                secret: crate::secret::normalise(&ranges, end - start),
            };
            Ok(bytes.into_dynamic())
        },
    );
}
