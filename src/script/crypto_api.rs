//! `crypto::` — MACs, ciphers and random bytes for scripts (ticket MACs, key derivation).
//!
//! ```rhai
//! let mac = crypto::aes_cmac(secret("env:TICKET_KEY"), uid() + data);
//! ```
//!
//! Keys, IVs and data may be hex text, Blobs or secrets; a result is a Blob, or a secret
//! (every byte) when any input was one, so that a MAC, a derived key or a cipher text of a
//! secret never prints. Errors name the function and the bad argument's length, never its
//! value. The primitives live in
//! `crate::crypto`; this file only adapts arguments.

use rhai::{Blob, Dynamic, Engine, EvalAltResult, INT, Module};

use super::bytes_api::{Bytes, bytes_of};
use super::error::{Fault, located_fn};

type Fallible<T> = Result<T, Box<EvalAltResult>>;

fn arg(value: &Dynamic, name: &str, what: &str) -> Fallible<Bytes> {
    bytes_of(value, &format!("crypto::{name}: {what}"))
}

/// The result of `name` over `inputs`: a secret if any input (key, IV or data) was one.
fn derived(
    name: &str,
    inputs: &[&Bytes],
    result: Result<Vec<u8>, crate::crypto::Error>,
) -> Fallible<Dynamic> {
    let result = result.map_err(|e| Fault::failed(format!("crypto::{name}: {e}")))?;
    Ok(Bytes::derived(inputs, result))
}

type Primitive2 = fn(&[u8], &[u8]) -> Result<Vec<u8>, crate::crypto::Error>;
type Primitive3 = fn(&[u8], &[u8], &[u8]) -> Result<Vec<u8>, crate::crypto::Error>;

/// A keyed function of data (MACs, ECB).
fn keyed(name: &str, f: Primitive2, key: &Dynamic, data: &Dynamic) -> Fallible<Dynamic> {
    let (key, data) = (arg(key, name, "key")?, arg(data, name, "data")?);
    derived(name, &[&key, &data], f(&key.bytes, &data.bytes))
}

/// A keyed function of an IV and data (CBC).
fn chained(
    name: &str,
    f: Primitive3,
    key: &Dynamic,
    iv: &Dynamic,
    data: &Dynamic,
) -> Fallible<Dynamic> {
    let (key, iv, data) = (
        arg(key, name, "key")?,
        arg(iv, name, "IV")?,
        arg(data, name, "data")?,
    );
    derived(
        name,
        &[&key, &iv, &data],
        f(&key.bytes, &iv.bytes, &data.bytes),
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Result<Vec<u8>, crate::crypto::Error> {
    Ok(crate::crypto::hmac_sha256(key, data))
}

fn random_fn(n: INT) -> Fallible<Blob> {
    let n = usize::try_from(n)
        .map_err(|_| Fault::failed(format!("crypto::random: length {n} is negative")))?;
    crate::crypto::random(n).map_err(|e| Fault::failed(format!("crypto::random: {e}")))
}

/// Builds the `crypto` module.
fn module() -> Module {
    let mut m = Module::new();
    located_fn!(m, "aes_cmac", |key: Dynamic, data: Dynamic| {
        keyed("aes_cmac", crate::crypto::aes_cmac, &key, &data)
    });
    located_fn!(m, "hmac_sha256", |key: Dynamic, data: Dynamic| {
        keyed("hmac_sha256", hmac, &key, &data)
    });
    located_fn!(m, "aes_ecb_encrypt", |key: Dynamic, data: Dynamic| {
        keyed(
            "aes_ecb_encrypt",
            crate::crypto::aes_ecb_encrypt,
            &key,
            &data,
        )
    });
    located_fn!(m, "aes_ecb_decrypt", |key: Dynamic, data: Dynamic| {
        keyed(
            "aes_ecb_decrypt",
            crate::crypto::aes_ecb_decrypt,
            &key,
            &data,
        )
    });
    located_fn!(
        m,
        "des3_cbc_encrypt",
        |key: Dynamic, iv: Dynamic, data: Dynamic| chained(
            "des3_cbc_encrypt",
            crate::crypto::des3_cbc_encrypt,
            &key,
            &iv,
            &data
        )
    );
    located_fn!(
        m,
        "des3_cbc_decrypt",
        |key: Dynamic, iv: Dynamic, data: Dynamic| chained(
            "des3_cbc_decrypt",
            crate::crypto::des3_cbc_decrypt,
            &key,
            &iv,
            &data
        )
    );
    located_fn!(m, "random", |n: INT| random_fn(n));
    m
}

/// Registers the `crypto` module under its name.
pub(crate) fn register(engine: &mut Engine) {
    engine.register_static_module("crypto", module().into());
}
