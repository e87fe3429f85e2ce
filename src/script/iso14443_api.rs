//! `iso14443::` — CRC_A and ISO 14443-4 I-block framing for scripts, for readers in raw or
//! transparent mode where the host frames blocks itself (protocols.md Appendices A and B,
//! §3.6 B).
//!
//! ```rhai
//! let frame = iso14443::i_block(1, "AA");          // 03 AA
//! print(iso14443::crc_a(frame));                   // 15992 (0x3E98, sent as 98 3E)
//! print(hex(iso14443::append_crc_a(frame)));       // 03AA983E
//! ```
//!
//! | function | returns |
//! |---|---|
//! | `iso14443::crc_a(bytes)` | the CRC_A as an integer (`E0 80` gives `0x7331`); it goes on the air least significant byte first |
//! | `iso14443::append_crc_a(bytes)` | a Blob: `bytes` then the CRC_A, LSB first |
//! | `iso14443::i_block(n, payload)` | a Blob: PCB `02` (n = 0) or `03` (n = 1), then `payload` |
//!
//! A frame built around a secret (a key sent with WritePerso) is a secret too, so it never
//! prints; `crc_a` of a secret is refused. Nothing here talks to the card; the arithmetic is
//! `crate::iso14443`.

use rhai::{Dynamic, Engine, EvalAltResult, INT, Module};

use std::ops::Range;

use super::bytes_api::{Bytes, bytes_of};
use super::error::{Fault, located_fn};
use crate::iso14443::{BlockNumber, append_crc_a, crc_a, i_block};

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// A frame built around bytes whose `secret` ranges now sit `shift` bytes further on: a
/// frame around a key stays masked exactly where the key is.
fn bytes_result(bytes: Vec<u8>, secret: &[Range<usize>], shift: usize) -> Dynamic {
    let ranges: Vec<Range<usize>> = secret
        .iter()
        .map(|r| r.start + shift..r.end + shift)
        .collect();
    Bytes {
        bytes,
        secret: ranges,
    }
    .into_dynamic()
}

/// `iso14443::i_block(n, payload)`: an I-block without CID or chaining (Appendix B).
fn block(n: INT, payload: &Dynamic) -> Fallible<Dynamic> {
    let what = "iso14443::i_block";
    let number = u8::try_from(n)
        .ok()
        .and_then(|n| BlockNumber::try_from(n).ok())
        .ok_or_else(|| Fault::failed(format!("{what}: block number must be 0 or 1, got {n}")))?;
    let payload = bytes_of(payload, &format!("{what}: payload"))?;
    // The PCB byte comes first.
    Ok(bytes_result(
        i_block(number, &payload.bytes),
        &payload.secret,
        1,
    ))
}

/// `iso14443::crc_a(bytes)`: refused for a secret, whose CRC would tell 16 bits of it.
fn crc(bytes: &Dynamic) -> Fallible<INT> {
    let what = "iso14443::crc_a";
    let bytes = bytes_of(bytes, what)?;
    if bytes.is_secret() {
        return Err(Fault::failed(format!(
            "{what}: the bytes are a secret and their CRC would tell part of it; use \
             iso14443::append_crc_a, which keeps the frame secret"
        )));
    }
    Ok(INT::from(crc_a(&bytes.bytes)))
}

/// `iso14443::append_crc_a(bytes)`: a secret stays a secret.
fn with_crc(bytes: &Dynamic) -> Fallible<Dynamic> {
    let bytes = bytes_of(bytes, "iso14443::append_crc_a")?;
    let mut frame = bytes.bytes;
    let len = frame.len();
    append_crc_a(&mut frame);
    let mut secret = bytes.secret;
    // The CRC is computed from the secret bytes: it is secret too.
    if !secret.is_empty() {
        secret.push(len..len + 2);
    }
    Ok(bytes_result(frame, &secret, 0))
}

/// Builds the `iso14443` module.
pub(crate) fn module() -> Module {
    let mut m = Module::new();
    located_fn!(m, "crc_a", |bytes: Dynamic| crc(&bytes));
    located_fn!(m, "append_crc_a", |bytes: Dynamic| with_crc(&bytes));
    located_fn!(m, "i_block", |n: INT, payload: Dynamic| block(n, &payload));
    m
}

/// Registers the `iso14443` module under its name.
pub(crate) fn register(engine: &mut Engine) {
    engine.register_static_module("iso14443", module().into());
}
