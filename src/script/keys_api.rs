//! Keys in tokens, for scripts: `secret("pkcs11:…")` gives a `TokenKey`, a handle that
//! prints as `(token key pkcs11:token=…;object=…)` and has no bytes; the `crypto::`
//! built-ins run in the token when given one (`crypto_api`). This file registers the type
//! and loads token keys; it does not compute.

use rhai::{Dynamic, Engine, EvalAltResult};

use super::error::Fault;
use crate::keys::{Pkcs11Uri, TokenKey};

/// Opens the token key a `pkcs11:` URI names.
pub(crate) fn load(source: &str) -> Result<Dynamic, Box<EvalAltResult>> {
    let uri = Pkcs11Uri::parse(source).map_err(|e| Fault::failed(e.to_string()))?;
    let key = TokenKey::open(&uri).map_err(|e| Fault::failed(e.to_string()))?;
    Ok(Dynamic::from(key))
}

/// Registers the `TokenKey` type.
pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<TokenKey>("TokenKey");
    engine.register_fn("to_string", |k: &mut TokenKey| format!("{k:?}"));
    engine.register_fn("to_debug", |k: &mut TokenKey| format!("{k:?}"));
}
