//! PKCS#11 URIs (RFC 7512) naming a key in a token, as `secret("pkcs11:…")` and profiles
//! take them.
//!
//! `pkcs11:token=LABEL;object=LABEL[;id=%01%02]?module-path=/path/lib.so&pin-source=env:NAME`
//!
//! Path attributes are separated by `;`, query attributes by `&`, values are
//! percent-decoded. `object` (or `id`) must name the key; `module-path` names the PKCS#11
//! library. `pin-source` is `env:NAME` or `file:PATH` (RFC 7512 allows a URI there; only
//! these two forms are taken). A PIN written into the URI itself (`pin-value`) is refused:
//! a URI ends up in argv, shell history and profiles. Unknown attributes are refused too, so
//! a misspelt `tokn=` does not silently match every token. This file parses; it does not
//! open anything.

use std::fmt;
use std::path::PathBuf;

/// Where a token's user PIN comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// An environment variable.
    Env(String),
    /// A file (one trailing newline ignored).
    File(PathBuf),
}

/// A parsed `pkcs11:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token=`: the token label.
    pub token: Option<String>,
    /// `object=`: the key's label.
    pub object: Option<String>,
    /// `id=`: the key's CKA_ID bytes.
    pub id: Option<Vec<u8>>,
    /// `module-path=`: the PKCS#11 library.
    pub module_path: PathBuf,
    /// `pin-source=`.
    pub pin_source: Option<PinSource>,
}

/// Why a text is not a usable PKCS#11 URI. Messages never repeat a PIN (none is accepted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// Not `pkcs11:`.
    #[error("`{0}` is not a `pkcs11:` URI")]
    Scheme(String),
    /// An attribute without `=`.
    #[error("PKCS#11 URI: attribute `{0}` has no `=value`")]
    NoValue(String),
    /// A `%` not followed by two hex digits, or a value that is not UTF-8.
    #[error("PKCS#11 URI: bad percent-encoding in `{0}`")]
    Encoding(String),
    /// An attribute apdu-run does not take.
    #[error(
        "PKCS#11 URI: unknown attribute `{0}` (known: token, object, id, type; module-path, pin-source)"
    )]
    Unknown(String),
    /// The same attribute twice.
    #[error("PKCS#11 URI: attribute `{0}` given twice")]
    Twice(String),
    /// `pin-value=`.
    #[error(
        "PKCS#11 URI: `pin-value` is refused (a PIN must not be written in a URI); use `pin-source=env:NAME` or `pin-source=file:PATH`"
    )]
    PinValue,
    /// A pin-source that is not env: or file:.
    #[error("PKCS#11 URI: `pin-source` must be `env:NAME` or `file:PATH`")]
    PinSource,
    /// No module-path.
    #[error("PKCS#11 URI: `module-path=` (the PKCS#11 library) is required")]
    NoModule,
    /// Neither object nor id.
    #[error("PKCS#11 URI: `object=` or `id=` must name the key")]
    NoObject,
    /// `type=` other than secret-key.
    #[error("PKCS#11 URI: `type` must be `secret-key`")]
    Type,
}

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI.
    pub fn parse(text: &str) -> Result<Pkcs11Uri, UriError> {
        let rest = text
            .strip_prefix("pkcs11:")
            .ok_or_else(|| UriError::Scheme(shorten(text)))?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, q),
            None => (rest, ""),
        };
        let mut uri = Pkcs11Uri {
            token: None,
            object: None,
            id: None,
            module_path: PathBuf::new(),
            pin_source: None,
        };
        let mut module = None;
        for attribute in path.split(';').filter(|a| !a.is_empty()) {
            let (name, raw) = split(attribute)?;
            match name {
                "token" => set(&mut uri.token, name, text_of(raw)?)?,
                "object" => set(&mut uri.object, name, text_of(raw)?)?,
                "id" => set(&mut uri.id, name, decode(raw)?)?,
                "type" if raw == "secret-key" => {}
                "type" => return Err(UriError::Type),
                _ => return Err(UriError::Unknown(shorten(name))),
            }
        }
        for attribute in query.split('&').filter(|a| !a.is_empty()) {
            let (name, raw) = split(attribute)?;
            match name {
                "module-path" => set(&mut module, name, text_of(raw)?)?,
                "pin-source" => {
                    let value = text_of(raw)?;
                    let source = if let Some(n) =
                        value.strip_prefix("env:").filter(|n| !n.is_empty())
                    {
                        PinSource::Env(n.to_string())
                    } else if let Some(p) = value.strip_prefix("file:").filter(|p| !p.is_empty()) {
                        PinSource::File(PathBuf::from(p))
                    } else {
                        return Err(UriError::PinSource);
                    };
                    set(&mut uri.pin_source, name, source)?;
                }
                "pin-value" => return Err(UriError::PinValue),
                _ => return Err(UriError::Unknown(shorten(name))),
            }
        }
        uri.module_path = PathBuf::from(module.ok_or(UriError::NoModule)?);
        if uri.object.is_none() && uri.id.is_none() {
            return Err(UriError::NoObject);
        }
        Ok(uri)
    }

    /// How messages name the key: `pkcs11:token=…;object=…` without the query.
    pub fn key_name(&self) -> String {
        let mut out = String::from("pkcs11:");
        if let Some(token) = &self.token {
            out.push_str(&format!("token={token};"));
        }
        if let Some(object) = &self.object {
            out.push_str(&format!("object={object}"));
        } else if let Some(id) = &self.id {
            out.push_str(&format!("id={}", hex::encode(id)));
        }
        out.trim_end_matches(';').to_string()
    }
}

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key_name())
    }
}

fn split(attribute: &str) -> Result<(&str, &str), UriError> {
    attribute
        .split_once('=')
        .ok_or_else(|| UriError::NoValue(shorten(attribute)))
}

fn set<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(UriError::Twice(name.to_string()));
    }
    *slot = Some(value);
    Ok(())
}

/// Percent-decodes `raw`.
fn decode(raw: &str) -> Result<Vec<u8>, UriError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let pair = raw
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|_| bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit())
                .ok_or_else(|| UriError::Encoding(shorten(raw)))?;
            out.push(pair);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text_of(raw: &str) -> Result<String, UriError> {
    String::from_utf8(decode(raw)?).map_err(|_| UriError::Encoding(shorten(raw)))
}

/// At most 64 characters of user text in a message.
fn shorten(text: &str) -> String {
    let cut: String = text.chars().take(64).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_form() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=apdu%20run;object=ticket-master?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:HSM_PIN",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("apdu run"));
        assert_eq!(uri.object.as_deref(), Some("ticket-master"));
        assert_eq!(
            uri.module_path,
            PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")
        );
        assert_eq!(uri.pin_source, Some(PinSource::Env("HSM_PIN".into())));
        assert_eq!(uri.key_name(), "pkcs11:token=apdu run;object=ticket-master");
        let by_id = Pkcs11Uri::parse(
            "pkcs11:id=%01%A2;type=secret-key?module-path=m.so&pin-source=file:/run/pin",
        )
        .unwrap();
        assert_eq!(by_id.id, Some(vec![0x01, 0xA2]));
        assert_eq!(by_id.pin_source, Some(PinSource::File("/run/pin".into())));
    }

    #[test]
    fn refuses_pins_in_the_uri_and_other_mistakes() {
        let cases = [
            (
                "pkcs11:object=k?module-path=m&pin-value=1234",
                UriError::PinValue,
            ),
            ("pkcs11:object=k", UriError::NoModule),
            ("pkcs11:token=t?module-path=m", UriError::NoObject),
            (
                "pkcs11:tokn=t;object=k?module-path=m",
                UriError::Unknown("tokn".into()),
            ),
            (
                "pkcs11:object=k;object=j?module-path=m",
                UriError::Twice("object".into()),
            ),
            (
                "pkcs11:object=k?module-path=m&pin-source=1234",
                UriError::PinSource,
            ),
            (
                "pkcs11:object=%4?module-path=m",
                UriError::Encoding("%4".into()),
            ),
            (
                "pkcs11:object?module-path=m",
                UriError::NoValue("object".into()),
            ),
            ("env:X", UriError::Scheme("env:X".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(Pkcs11Uri::parse(text), Err(expected), "{text}");
        }
        let message = Pkcs11Uri::parse("pkcs11:object=k?module-path=m&pin-value=98765")
            .unwrap_err()
            .to_string();
        assert!(!message.contains("98765"), "{message}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "pkcs11:[a-z%=;?&:/0-9A-F-]{0,60}") {
            let _ = Pkcs11Uri::parse(&text);
        }

        #[test]
        fn any_unicode_never_panics(text in "\\PC{0,40}") {
            let _ = Pkcs11Uri::parse(&format!("pkcs11:{text}"));
        }
    }
}
