//! `crypto::` — MACs, ciphers and random bytes for scripts (ticket MACs, key derivation).
//!
//! ```rhai
//! let mac = crypto::aes_cmac(secret("env:TICKET_KEY"), uid() + data);
//! ```
//!
//! Keys and data may be hex text, Blobs or secrets; results are Blobs. Errors name the
//! function and the bad argument's length, never its value. The primitives live in
//! `crate::crypto`; this file only adapts arguments.

use rhai::{Blob, Dynamic, Engine, EvalAltResult, INT, Module};

use super::bytes_api::bytes_of;
use super::error::{Fault, located_fn};

type Fallible<T> = Result<T, Box<EvalAltResult>>;

fn wrap(name: &str, result: Result<Vec<u8>, crate::crypto::Error>) -> Fallible<Blob> {
    result.map_err(|e| Fault::failed(format!("crypto::{name}: {e}")))
}

fn arg(value: &Dynamic, name: &str, what: &str) -> Fallible<Vec<u8>> {
    Ok(bytes_of(value, &format!("crypto::{name}: {what}"))?.bytes)
}

fn aes_cmac(key: Dynamic, data: Dynamic) -> Fallible<Blob> {
    wrap(
        "aes_cmac",
        crate::crypto::aes_cmac(
            &arg(&key, "aes_cmac", "key")?,
            &arg(&data, "aes_cmac", "data")?,
        ),
    )
}

fn hmac_sha256(key: Dynamic, data: Dynamic) -> Fallible<Blob> {
    Ok(crate::crypto::hmac_sha256(
        &arg(&key, "hmac_sha256", "key")?,
        &arg(&data, "hmac_sha256", "data")?,
    ))
}

fn aes_ecb_encrypt(key: Dynamic, data: Dynamic) -> Fallible<Blob> {
    let (key, data) = (
        arg(&key, "aes_ecb_encrypt", "key")?,
        arg(&data, "aes_ecb_encrypt", "data")?,
    );
    wrap(
        "aes_ecb_encrypt",
        crate::crypto::aes_ecb_encrypt(&key, &data),
    )
}

fn aes_ecb_decrypt(key: Dynamic, data: Dynamic) -> Fallible<Blob> {
    let (key, data) = (
        arg(&key, "aes_ecb_decrypt", "key")?,
        arg(&data, "aes_ecb_decrypt", "data")?,
    );
    wrap(
        "aes_ecb_decrypt",
        crate::crypto::aes_ecb_decrypt(&key, &data),
    )
}

fn des3_cbc_encrypt(key: Dynamic, iv: Dynamic, data: Dynamic) -> Fallible<Blob> {
    let name = "des3_cbc_encrypt";
    let (key, iv, data) = (
        arg(&key, name, "key")?,
        arg(&iv, name, "IV")?,
        arg(&data, name, "data")?,
    );
    wrap(name, crate::crypto::des3_cbc_encrypt(&key, &iv, &data))
}

fn des3_cbc_decrypt(key: Dynamic, iv: Dynamic, data: Dynamic) -> Fallible<Blob> {
    let name = "des3_cbc_decrypt";
    let (key, iv, data) = (
        arg(&key, name, "key")?,
        arg(&iv, name, "IV")?,
        arg(&data, name, "data")?,
    );
    wrap(name, crate::crypto::des3_cbc_decrypt(&key, &iv, &data))
}

fn random_fn(n: INT) -> Fallible<Blob> {
    let n = usize::try_from(n)
        .map_err(|_| Fault::failed(format!("crypto::random: length {n} is negative")))?;
    wrap("random", crate::crypto::random(n))
}

/// Builds the `crypto` module.
fn module() -> Module {
    let mut m = Module::new();
    located_fn!(m, "aes_cmac", |key: Dynamic, data: Dynamic| {
        aes_cmac(key, data)
    });
    located_fn!(m, "hmac_sha256", |key: Dynamic, data: Dynamic| {
        hmac_sha256(key, data)
    });
    located_fn!(m, "aes_ecb_encrypt", |key: Dynamic, data: Dynamic| {
        aes_ecb_encrypt(key, data)
    });
    located_fn!(m, "aes_ecb_decrypt", |key: Dynamic, data: Dynamic| {
        aes_ecb_decrypt(key, data)
    });
    located_fn!(
        m,
        "des3_cbc_encrypt",
        |key: Dynamic, iv: Dynamic, data: Dynamic| des3_cbc_encrypt(key, iv, data)
    );
    located_fn!(
        m,
        "des3_cbc_decrypt",
        |key: Dynamic, iv: Dynamic, data: Dynamic| des3_cbc_decrypt(key, iv, data)
    );
    located_fn!(m, "random", |n: INT| random_fn(n));
    m
}

/// Registers the `crypto` module under its name.
pub(crate) fn register(engine: &mut Engine) {
    engine.register_static_module("crypto", module().into());
}
