//! The PKCS#11 key provider: master keys that stay in a token (an HSM, SoftHSM2).
//!
//! [`TokenKey::open`] loads the module a [`Pkcs11Uri`] names (once per process: a module
//! may be initialised only once), finds the token and the secret-key object, logs in with
//! the PIN from `pin-source`, and keeps a session. Every operation on the key runs in the
//! token: ECB and CBC encryption and decryption, AES-CMAC, and AN10922 diversification
//! (`C_Sign(CKM_AES_CMAC)` when the key may sign and the input is long enough for AN10922 to
//! equal CMAC, else `E_K(0)` and a CBC chain in the token, with the padding and subkey XOR
//! on the host). A key that permits only encryption — as `pkcs11-tool --write-object`
//! makes them — therefore works too. Only results leave the token, and the caller wraps
//! those that are keys as secrets. [`import`] is the other direction, for the key
//! ceremony: it creates a sensitive, non-extractable key object from bytes.
//!
//! Nothing here prints; errors name the key (`pkcs11:token=…;object=…`) and the failed
//! operation, never a PIN or key bytes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

use super::uri::{PinSource, Pkcs11Uri};
use crate::crypto::an10922::{self, BlockOracle, DiversifyError, Method};

/// Why a token key could not be had or used. Never holds a PIN or key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(pub String);

/// The cipher family of a token key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// AES (16-byte blocks).
    Aes,
    /// Two- or three-key 3DES (8-byte blocks).
    Des3,
}

/// A secret key inside a token, by handle. Cloning shares the session.
#[derive(Clone)]
pub struct TokenKey {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    session: Mutex<Session>,
    handle: ObjectHandle,
    family: Family,
    /// Key length in bytes (16, 24 or 32; 16 or 24 for 3DES).
    len: usize,
    can_sign: bool,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(token key {})", self.inner.name)
    }
}

/// Loaded modules, by path: `C_Initialize` may run once per process.
fn modules() -> &'static Mutex<Vec<(PathBuf, Pkcs11)>> {
    static MODULES: OnceLock<Mutex<Vec<(PathBuf, Pkcs11)>>> = OnceLock::new();
    MODULES.get_or_init(|| Mutex::new(Vec::new()))
}

/// The initialised module at `path`, loading it the first time.
pub fn module(path: &Path) -> Result<Pkcs11, TokenError> {
    let mut loaded = modules().lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, ctx)) = loaded.iter().find(|(p, _)| p == path) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(path).map_err(|e| {
        TokenError(format!(
            "PKCS#11 module `{}` cannot be loaded: {e}",
            path.display()
        ))
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(TokenError(format!(
                "PKCS#11 module `{}`: C_Initialize failed: {e}",
                path.display()
            )));
        }
    }
    loaded.push((path.to_path_buf(), ctx.clone()));
    Ok(ctx)
}

/// Reads a PIN from its source: an environment variable or a file (one trailing newline
/// ignored).
pub fn read_pin(source: &PinSource) -> Result<AuthPin, TokenError> {
    let text = match source {
        PinSource::Env(name) => std::env::var(name).map_err(|_| {
            TokenError(format!(
                "PIN source `env:{name}`: the environment variable is not set"
            ))
        })?,
        PinSource::File(path) => {
            let mut text = std::fs::read_to_string(path)
                .map_err(|e| TokenError(format!("PIN source `file:{}`: {e}", path.display())))?;
            while text.ends_with('\n') || text.ends_with('\r') {
                text.pop();
            }
            text
        }
    };
    Ok(AuthPin::from(text))
}

/// Opens a read-write session on the token the URI names, logged in as the user when it
/// gives a PIN source.
pub fn open_session(uri: &Pkcs11Uri) -> Result<Session, TokenError> {
    let ctx = module(&uri.module_path)?;
    let fail = |what: &str, e: CkError| TokenError(format!("{}: {what}: {e}", uri.key_name()));
    let slots = ctx
        .get_slots_with_initialized_token()
        .map_err(|e| fail("listing slots", e))?;
    let mut chosen = None;
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| fail("token info", e))?;
        if uri.token.as_deref().is_none_or(|t| t == info.label()) {
            chosen = Some(slot);
            break;
        }
    }
    let slot = chosen.ok_or_else(|| {
        TokenError(format!(
            "{}: no initialised token{} in module `{}`",
            uri.key_name(),
            uri.token
                .as_deref()
                .map(|t| format!(" labelled `{t}`"))
                .unwrap_or_default(),
            uri.module_path.display()
        ))
    })?;
    let session = ctx
        .open_rw_session(slot)
        .map_err(|e| fail("opening a session", e))?;
    if let Some(source) = &uri.pin_source {
        let pin = read_pin(source)?;
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(fail("login", e)),
        }
    }
    Ok(session)
}

fn template(uri: &Pkcs11Uri) -> Vec<Attribute> {
    let mut template = vec![Attribute::Class(ObjectClass::SECRET_KEY)];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    template
}

impl TokenKey {
    /// Finds the secret key the URI names; exactly one object must match.
    pub fn open(uri: &Pkcs11Uri) -> Result<TokenKey, TokenError> {
        let session = open_session(uri)?;
        let name = uri.key_name();
        let fail = |what: &str, e: CkError| TokenError(format!("{name}: {what}: {e}"));
        let found = session
            .find_objects(&template(uri))
            .map_err(|e| fail("finding the key", e))?;
        let handle = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(TokenError(format!(
                    "{name}: no such secret key in the token"
                )));
            }
            _ => {
                return Err(TokenError(format!(
                    "{name}: {} secret keys match; name one by `object=` and `id=`",
                    found.len()
                )));
            }
        };
        let attributes = session
            .get_attributes(
                handle,
                &[
                    AttributeType::KeyType,
                    AttributeType::ValueLen,
                    AttributeType::Sign,
                ],
            )
            .map_err(|e| fail("reading the key's attributes", e))?;
        let mut family = None;
        let mut len = 0;
        let mut can_sign = false;
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(t) if t == KeyType::AES => family = Some(Family::Aes),
                Attribute::KeyType(t) if t == KeyType::DES3 => {
                    family = Some(Family::Des3);
                    len = 24;
                }
                Attribute::KeyType(t) if t == KeyType::DES2 => {
                    family = Some(Family::Des3);
                    len = 16;
                }
                Attribute::ValueLen(n) if len == 0 => {
                    len = usize::try_from(u64::from(n)).unwrap_or(0);
                }
                Attribute::Sign(b) => can_sign = b,
                _ => {}
            }
        }
        let family =
            family.ok_or_else(|| TokenError(format!("{name}: the key is neither AES nor 3DES")))?;
        Ok(TokenKey {
            inner: Arc::new(Inner {
                name,
                session: Mutex::new(session),
                handle,
                family,
                len,
                can_sign,
            }),
        })
    }

    /// How messages name the key.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// AES or 3DES.
    pub fn family(&self) -> Family {
        self.inner.family
    }

    /// The key length in bytes.
    pub fn key_len(&self) -> usize {
        self.inner.len
    }

    fn run<T>(
        &self,
        what: &str,
        f: impl FnOnce(&Session, ObjectHandle) -> cryptoki::error::Result<T>,
    ) -> Result<T, TokenError> {
        let session = self.inner.session.lock().unwrap_or_else(|e| e.into_inner());
        f(&session, self.inner.handle).map_err(|e| {
            TokenError(format!(
                "{}: {what} in the token failed: {e}",
                self.inner.name
            ))
        })
    }

    fn check_blocks(&self, data: &[u8]) -> Result<(), TokenError> {
        let block = self.block_size();
        if data.len() % block != 0 {
            return Err(TokenError(format!(
                "{}: data must be a multiple of {block} bytes, got {}",
                self.inner.name,
                data.len()
            )));
        }
        Ok(())
    }

    /// ECB encryption of whole blocks in the token.
    pub fn ecb_encrypt(&self, data: &[u8]) -> Result<Vec<u8>, TokenError> {
        self.check_blocks(data)?;
        let mechanism = match self.inner.family {
            Family::Aes => Mechanism::AesEcb,
            Family::Des3 => Mechanism::Des3Ecb,
        };
        self.run("ECB encryption", |s, k| s.encrypt(&mechanism, k, data))
    }

    /// CBC encryption of whole blocks in the token.
    pub fn cbc_encrypt_iv(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, TokenError> {
        self.check_blocks(data)?;
        let mechanism = self.cbc(iv)?;
        self.run("CBC encryption", |s, k| s.encrypt(&mechanism, k, data))
    }

    /// CBC decryption of whole blocks in the token (the key must allow decryption).
    pub fn cbc_decrypt_iv(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, TokenError> {
        self.check_blocks(data)?;
        let mechanism = self.cbc(iv)?;
        self.run("CBC decryption", |s, k| s.decrypt(&mechanism, k, data))
    }

    fn cbc(&self, iv: &[u8]) -> Result<Mechanism<'static>, TokenError> {
        let bad = || {
            TokenError(format!(
                "{}: IV must be {} bytes, got {}",
                self.inner.name,
                self.block_size(),
                iv.len()
            ))
        };
        Ok(match self.inner.family {
            Family::Aes => Mechanism::AesCbc(iv.try_into().map_err(|_| bad())?),
            Family::Des3 => Mechanism::Des3Cbc(iv.try_into().map_err(|_| bad())?),
        })
    }

    /// The full-length CMAC of `data`: `C_Sign(CKM_AES_CMAC)` when the key may sign, else
    /// computed from the token's CBC (the subkeys from `E_K(0)`).
    pub fn cmac(&self, data: &[u8]) -> Result<Vec<u8>, TokenError> {
        if self.inner.family == Family::Aes && self.inner.can_sign {
            return self.run("CMAC", |s, k| s.sign(&Mechanism::AesCMac, k, data));
        }
        an10922::cmac(self, data)
    }

    /// AN10922 diversification in the token; the result is the card key (the caller makes
    /// it a secret).
    pub fn diversify(&self, method: Method, m: &[u8]) -> Result<Vec<u8>, TokenError> {
        let expected = (method.key_len(), matches!(method, Method::Aes128));
        if (self.inner.len, self.inner.family == Family::Aes) != expected {
            return Err(TokenError(format!(
                "{}: {} needs a {}-byte {} master key",
                self.inner.name,
                method.name(),
                method.key_len(),
                if expected.1 { "AES" } else { "3DES" }
            )));
        }
        an10922::check_input(method, m.len())
            .map_err(|e: DiversifyError<TokenError>| TokenError(e.to_string()))?;
        // From 16 bytes of M on, `01 || M` is longer than one block and AN10922 is exactly
        // AES-CMAC, which a signing key computes in one call.
        if method == Method::Aes128 && self.inner.can_sign && m.len() >= 16 {
            let mut d = Vec::with_capacity(m.len() + 1);
            d.push(0x01);
            d.extend_from_slice(m);
            return self.run("CMAC", |s, k| s.sign(&Mechanism::AesCMac, k, &d));
        }
        an10922::diversify(self, method, m).map_err(|e| match e {
            DiversifyError::Oracle(e) => e,
            other => TokenError(format!("{}: {other}", self.inner.name)),
        })
    }

    /// The MIFARE Classic template in the token.
    pub fn diversify_classic(&self, m: &[u8], offset: usize) -> Result<Vec<u8>, TokenError> {
        if offset > 16 - an10922::CLASSIC_KEY_LEN {
            return Err(TokenError(format!(
                "MIFARE Classic key offset must be 0 to 10, got {offset}"
            )));
        }
        let full = self.diversify(Method::Aes128, m)?;
        Ok(full[offset..offset + an10922::CLASSIC_KEY_LEN].to_vec())
    }

    /// The key check value: the first 3 bytes of the encryption of a zero block.
    pub fn kcv(&self) -> Result<[u8; 3], TokenError> {
        let zero = self.encrypt_zero_block()?;
        Ok([zero[0], zero[1], zero[2]])
    }
}

impl BlockOracle for TokenKey {
    type Error = TokenError;

    fn block_size(&self) -> usize {
        match self.inner.family {
            Family::Aes => 16,
            Family::Des3 => 8,
        }
    }

    fn cbc_encrypt(&self, data: &[u8]) -> Result<Vec<u8>, TokenError> {
        let iv = vec![0; self.block_size()];
        self.cbc_encrypt_iv(&iv, data)
    }

    fn encrypt_zero_block(&self) -> Result<Vec<u8>, TokenError> {
        self.ecb_encrypt(&vec![0; self.block_size()])
    }
}

/// Stores `key` in the token as a sensitive, non-extractable secret key labelled by the
/// URI's `object=` (and `id=`): AES for 16/24/32 bytes unless `des3` is set, then DES2 (16)
/// or DES3 (24). Refuses when an object of that label already exists.
pub fn import(uri: &Pkcs11Uri, key: &[u8], des3: bool) -> Result<(), TokenError> {
    let name = uri.key_name();
    let session = open_session(uri)?;
    let fail = |what: &str, e: CkError| TokenError(format!("{name}: {what}: {e}"));
    let existing = session
        .find_objects(&template(uri))
        .map_err(|e| fail("looking for an existing key", e))?;
    if !existing.is_empty() {
        return Err(TokenError(format!(
            "{name}: a key with this label is already in the token; choose another `object=`"
        )));
    }
    let key_type = match (des3, key.len()) {
        (false, 16 | 24 | 32) => KeyType::AES,
        (true, 16) => KeyType::DES2,
        (true, 24) => KeyType::DES3,
        (_, len) => {
            return Err(TokenError(format!(
                "{name}: a {} key cannot be {len} bytes",
                if des3 { "3DES" } else { "AES" }
            )));
        }
    };
    let mut attributes = template(uri);
    attributes.extend([
        Attribute::KeyType(key_type),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Sign(key_type == KeyType::AES),
        Attribute::Verify(key_type == KeyType::AES),
        Attribute::Value(key.to_vec()),
    ]);
    session
        .create_object(&attributes)
        .map_err(|e| fail("storing the key", e))?;
    Ok(())
}
