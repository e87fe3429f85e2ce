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
//!
//! A key may also be a `TokenKey` (`secret("pkcs11:…")`): `aes_cmac`, `aes_ecb_encrypt`,
//! `des3_cbc_encrypt`, the `diversify_*` functions and `kcv` then run in the token, and the
//! result is a secret. AN10922 diversification: `diversify_aes128(key, m)`,
//! `diversify_2tdea(key, m)`, `diversify_3tdea(key, m)` (raw AN10922 output, no DES
//! key-version bits), `diversify_classic(key, m[, offset])` (AES-128 result, 6 bytes from
//! `offset`, default 0); `kcv(key)` gives the 3-byte key check value as a Blob.

use rhai::{Blob, Dynamic, Engine, EvalAltResult, INT, Module};

use super::bytes_api::{Bytes, bytes_of};
use super::error::{Fault, located_fn};
use super::session::Shared;
use crate::crypto::an10922::Method;
use crate::keys::TokenKey;

type Fallible<T> = Result<T, Box<EvalAltResult>>;

fn arg(value: &Dynamic, name: &str, what: &str) -> Fallible<Bytes> {
    bytes_of(value, &format!("crypto::{name}: {what}"))
}

/// The result of `name` over `inputs`: a secret if any input (key, IV or data) was one.
fn derived(
    s: &Shared,
    name: &str,
    inputs: &[&Bytes],
    result: Result<Vec<u8>, crate::crypto::Error>,
) -> Fallible<Dynamic> {
    let result = result.map_err(|e| Fault::failed(format!("crypto::{name}: {e}")))?;
    if inputs.iter().any(|b| b.is_secret()) {
        s.borrow().redactor.add(&result);
    }
    Ok(Bytes::derived(inputs, result))
}

type Primitive2 = fn(&[u8], &[u8]) -> Result<Vec<u8>, crate::crypto::Error>;
type Primitive3 = fn(&[u8], &[u8], &[u8]) -> Result<Vec<u8>, crate::crypto::Error>;

/// The token key a value holds, if it is one.
fn token(value: &Dynamic) -> Option<TokenKey> {
    value.read_lock::<TokenKey>().map(|k| k.clone())
}

/// A result computed in a token: a secret (the key was one).
fn in_token(
    s: &Shared,
    name: &str,
    result: Result<Vec<u8>, crate::keys::TokenError>,
) -> Fallible<Dynamic> {
    let bytes = result.map_err(|e| Fault::failed(format!("crypto::{name}: {e}")))?;
    s.borrow().redactor.add(&bytes);
    Ok(Dynamic::from(crate::secret::Secret::new(bytes)))
}

fn no_token(name: &str) -> Box<EvalAltResult> {
    Fault::failed(format!(
        "crypto::{name}: not available with a key in a token (use aes_cmac, aes_ecb_encrypt, des3_cbc_encrypt, diversify_*, kcv)"
    ))
}

/// A keyed function of data (MACs, ECB).
fn keyed(
    s: &Shared,
    name: &str,
    f: Primitive2,
    key: &Dynamic,
    data: &Dynamic,
) -> Fallible<Dynamic> {
    if let Some(token) = token(key) {
        let data = arg(data, name, "data")?;
        return match name {
            "aes_cmac" => in_token(s, name, token.cmac(&data.bytes)),
            "aes_ecb_encrypt" => in_token(s, name, token.ecb_encrypt(&data.bytes)),
            _ => Err(no_token(name)),
        };
    }
    let (key, data) = (arg(key, name, "key")?, arg(data, name, "data")?);
    derived(s, name, &[&key, &data], f(&key.bytes, &data.bytes))
}

/// A keyed function of an IV and data (CBC).
fn chained(
    s: &Shared,
    name: &str,
    f: Primitive3,
    key: &Dynamic,
    iv: &Dynamic,
    data: &Dynamic,
) -> Fallible<Dynamic> {
    if let Some(token) = token(key) {
        let (iv, data) = (arg(iv, name, "IV")?, arg(data, name, "data")?);
        return match name {
            "des3_cbc_encrypt" if token.family() == crate::keys::pkcs11::Family::Des3 => {
                in_token(s, name, token.cbc_encrypt_iv(&iv.bytes, &data.bytes))
            }
            _ => Err(no_token(name)),
        };
    }
    let (key, iv, data) = (
        arg(key, name, "key")?,
        arg(iv, name, "IV")?,
        arg(data, name, "data")?,
    );
    derived(
        s,
        name,
        &[&key, &iv, &data],
        f(&key.bytes, &iv.bytes, &data.bytes),
    )
}

/// AN10922 diversification by `method` (a token key stays in the token).
fn diversify(
    s: &Shared,
    name: &str,
    method: Method,
    key: &Dynamic,
    m: &Dynamic,
) -> Fallible<Dynamic> {
    let m = arg(m, name, "input")?;
    if let Some(token) = token(key) {
        return in_token(s, name, token.diversify(method, &m.bytes));
    }
    let key = arg(key, name, "key")?;
    let result = crate::crypto::an10922::diversify_host(&key.bytes, method, &m.bytes);
    derived(s, name, &[&key, &m], result)
}

/// The MIFARE Classic template: AN10922 AES-128, 6 bytes from `offset`.
fn diversify_classic(s: &Shared, key: &Dynamic, m: &Dynamic, offset: INT) -> Fallible<Dynamic> {
    let name = "diversify_classic";
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let m = arg(m, name, "input")?;
    if let Some(token) = token(key) {
        return in_token(s, name, token.diversify_classic(&m.bytes, offset));
    }
    let key = arg(key, name, "key")?;
    let result = crate::crypto::an10922::diversify_classic_host(&key.bytes, &m.bytes, offset);
    derived(s, name, &[&key, &m], result)
}

/// The key check value (3 bytes): AES for 16/24/32-byte keys in memory, a token key by
/// its type. A KCV is meant to be shown, so the result is a Blob even for a secret key.
fn kcv(key: &Dynamic, des3: bool) -> Fallible<Blob> {
    let value = match token(key) {
        Some(token) => token
            .kcv()
            .map_err(|e| Fault::failed(format!("crypto::kcv: {e}")))?,
        None => {
            let key = arg(key, "kcv", "key")?;
            crate::keys::kcv_of_bytes(&key.bytes, des3)
                .map_err(|e| Fault::failed(format!("crypto::kcv: {e}")))?
        }
    };
    Ok(value.to_vec())
}

fn hmac(key: &[u8], data: &[u8]) -> Result<Vec<u8>, crate::crypto::Error> {
    Ok(crate::crypto::hmac_sha256(key, data))
}

fn random_fn(n: INT) -> Fallible<Blob> {
    let n = usize::try_from(n)
        .map_err(|_| Fault::failed(format!("crypto::random: length {n} is negative")))?;
    crate::crypto::random(n).map_err(|e| Fault::failed(format!("crypto::random: {e}")))
}

/// Builds the `crypto` module; results that are secrets are handed to the session's
/// redactor, so that a derived key read back from a card is masked like a loaded one.
fn module(session: &Shared) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    located_fn!(m, "aes_cmac", |key: Dynamic, data: Dynamic| {
        keyed(&s, "aes_cmac", crate::crypto::aes_cmac, &key, &data)
    });
    let s = session.clone();
    located_fn!(m, "hmac_sha256", |key: Dynamic, data: Dynamic| {
        keyed(&s, "hmac_sha256", hmac, &key, &data)
    });
    let s = session.clone();
    located_fn!(m, "aes_ecb_encrypt", |key: Dynamic, data: Dynamic| {
        keyed(
            &s,
            "aes_ecb_encrypt",
            crate::crypto::aes_ecb_encrypt,
            &key,
            &data,
        )
    });
    let s = session.clone();
    located_fn!(m, "aes_ecb_decrypt", |key: Dynamic, data: Dynamic| {
        keyed(
            &s,
            "aes_ecb_decrypt",
            crate::crypto::aes_ecb_decrypt,
            &key,
            &data,
        )
    });
    let s = session.clone();
    located_fn!(
        m,
        "des3_cbc_encrypt",
        |key: Dynamic, iv: Dynamic, data: Dynamic| chained(
            &s,
            "des3_cbc_encrypt",
            crate::crypto::des3_cbc_encrypt,
            &key,
            &iv,
            &data
        )
    );
    let s = session.clone();
    located_fn!(
        m,
        "des3_cbc_decrypt",
        |key: Dynamic, iv: Dynamic, data: Dynamic| chained(
            &s,
            "des3_cbc_decrypt",
            crate::crypto::des3_cbc_decrypt,
            &key,
            &iv,
            &data
        )
    );
    located_fn!(m, "random", |n: INT| random_fn(n));
    let s = session.clone();
    located_fn!(m, "diversify_aes128", |key: Dynamic, m: Dynamic| {
        diversify(&s, "diversify_aes128", Method::Aes128, &key, &m)
    });
    let s = session.clone();
    located_fn!(m, "diversify_2tdea", |key: Dynamic, m: Dynamic| {
        diversify(&s, "diversify_2tdea", Method::Tdea2, &key, &m)
    });
    let s = session.clone();
    located_fn!(m, "diversify_3tdea", |key: Dynamic, m: Dynamic| {
        diversify(&s, "diversify_3tdea", Method::Tdea3, &key, &m)
    });
    let s = session.clone();
    located_fn!(m, "diversify_classic", |key: Dynamic, m: Dynamic| {
        diversify_classic(&s, &key, &m, 0)
    });
    let s = session.clone();
    located_fn!(
        m,
        "diversify_classic",
        |key: Dynamic, m: Dynamic, offset: INT| diversify_classic(&s, &key, &m, offset)
    );
    located_fn!(m, "kcv", |key: Dynamic| kcv(&key, false));
    located_fn!(m, "kcv_des3", |key: Dynamic| kcv(&key, true));
    m
}

/// Registers the `crypto` module under its name.
pub(crate) fn register(engine: &mut Engine, session: &Shared) {
    engine.register_static_module("crypto", module(session).into());
}
