//! Development key files: a key stored encrypted under a passphrase, for machines without a
//! token. **For development only**: the key is as safe as the passphrase and the file, not
//! as a token keeps it (non-extractable, PIN-limited); production keys belong in a token.
//!
//! A key file is named `dev:PATH?passphrase=env:NAME` (or `passphrase=file:PATH`; never a
//! passphrase in the spec itself). Its format, six text lines:
//!
//! ```text
//! apdu-run development key file v1 (NOT FOR PRODUCTION)
//! kdf pbkdf2-hmac-sha256 ROUNDS SALT(16 bytes, hex)
//! type aes|des3
//! iv IV(16 bytes, hex)
//! data AES-256-CBC(Ke, IV, key ‖ 80 00…) (hex)
//! mac HMAC-SHA256(Km, the five lines above, each ending in \n) (hex)
//! ```
//!
//! `Ke ‖ Km` are the 64 bytes PBKDF2-HMAC-SHA256 derives from the passphrase and the salt.
//! The MAC covers every other line and is checked (in constant time) before anything is
//! decrypted: a changed byte anywhere, or a wrong passphrase, is refused with one message.
//! This file does not print and does not prompt.

use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::apdu::hex;
use crate::secret::{Encoding, Secret, SecretError, SecretSource};

/// The first line of every key file.
pub const MAGIC: &str = "apdu-run development key file v1 (NOT FOR PRODUCTION)";
/// PBKDF2 rounds of new files (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
pub const ROUNDS: u32 = 600_000;
/// Rounds a file may ask for: below, it is too weak; above, it is a denial of service.
const ROUNDS_RANGE: std::ops::RangeInclusive<u32> = 100_000..=10_000_000;

/// Why a key file could not be written or read. Messages name the file, never a value.
#[derive(Debug, thiserror::Error)]
pub enum DevFileError {
    /// The spec is not `dev:PATH?passphrase=env:NAME|file:PATH`.
    #[error("`{0}` is not dev:PATH?passphrase=env:NAME (or passphrase=file:PATH)")]
    Spec(String),
    /// The passphrase could not be read.
    #[error("passphrase: {0}")]
    Passphrase(#[from] SecretError),
    /// The passphrase is too short to protect anything.
    #[error("the passphrase must be at least 12 characters")]
    ShortPassphrase,
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The key file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not a key file of this format.
    #[error("{}: not an apdu-run development key file ({what})", path.display())]
    Format {
        /// The key file.
        path: PathBuf,
        /// Which part is wrong.
        what: &'static str,
    },
    /// The MAC does not match: the file was changed or the passphrase is wrong.
    #[error("{}: the file was changed or the passphrase is wrong (MAC mismatch); nothing was decrypted", path.display())]
    Tampered {
        /// The key file.
        path: PathBuf,
    },
    /// The cipher failed (a bug: lengths are checked first).
    #[error("{0}")]
    Crypto(#[from] crate::crypto::Error),
}

/// A parsed `dev:` spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevSpec {
    /// The key file.
    pub path: PathBuf,
    /// Where the passphrase comes from.
    pub passphrase: SecretSource,
}

impl DevSpec {
    /// Parses `dev:PATH?passphrase=env:NAME` (or `file:PATH`).
    pub fn parse(text: &str) -> Result<DevSpec, DevFileError> {
        let bad = || DevFileError::Spec(text.to_string());
        let rest = text.strip_prefix("dev:").ok_or_else(bad)?;
        let (path, source) = rest.rsplit_once("?passphrase=").ok_or_else(bad)?;
        if path.is_empty() {
            return Err(bad());
        }
        let passphrase = SecretSource::parse(source).map_err(|_| bad())?;
        Ok(DevSpec {
            path: PathBuf::from(path),
            passphrase,
        })
    }

    fn passphrase(&self) -> Result<Secret, DevFileError> {
        let secret = self.passphrase.load(Encoding::Text)?;
        if secret.len() < 12 {
            return Err(DevFileError::ShortPassphrase);
        }
        Ok(secret)
    }

    /// Writes `key` to a new file (an existing file is never overwritten).
    pub fn write(&self, key: &[u8], des3: bool) -> Result<(), DevFileError> {
        let passphrase = self.passphrase()?;
        let salt = crate::crypto::random(16)?;
        let iv = crate::crypto::random(16)?;
        let text = seal(passphrase.expose(), &salt, ROUNDS, &iv, key, des3)?;
        let io = |source| DevFileError::Io {
            path: self.path.clone(),
            source,
        };
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.path)
            .map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Reads and checks the file, then decrypts the key: `(key, des3)`.
    pub fn read(&self) -> Result<(Secret, bool), DevFileError> {
        let passphrase = self.passphrase()?;
        let text =
            crate::input::read_text(&self.path, crate::input::Kind::Secret).map_err(|e| {
                DevFileError::Io {
                    path: self.path.clone(),
                    source: std::io::Error::other(e.to_string()),
                }
            })?;
        open(&self.path, passphrase.expose(), &text)
    }
}

fn keys(passphrase: &[u8], salt: &[u8], rounds: u32) -> Secret {
    let mut out = vec![0; 64];
    pbkdf2::pbkdf2_hmac::<Sha256>(passphrase, salt, rounds, &mut out);
    Secret::new(out)
}

fn mac(km: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(km).expect("HMAC accepts keys of any length")
}

/// The file's text for `key`.
fn seal(
    passphrase: &[u8],
    salt: &[u8],
    rounds: u32,
    iv: &[u8],
    key: &[u8],
    des3: bool,
) -> Result<String, DevFileError> {
    let derived = keys(passphrase, salt, rounds);
    let (ke, km) = derived.expose().split_at(32);
    let mut padded = key.to_vec();
    padded.push(0x80);
    padded.resize(padded.len().div_ceil(16) * 16, 0);
    let data = crate::crypto::aes_cbc_encrypt(ke, iv, &padded)?;
    padded.iter_mut().for_each(|b| *b = 0);
    let body = format!(
        "{MAGIC}\nkdf pbkdf2-hmac-sha256 {rounds} {}\ntype {}\niv {}\ndata {}\n",
        hex::format_compact(salt),
        if des3 { "des3" } else { "aes" },
        hex::format_compact(iv),
        hex::format_compact(&data),
    );
    let mut m = mac(km);
    m.update(body.as_bytes());
    let tag = m.finalize().into_bytes();
    Ok(format!("{body}mac {}\n", hex::format_compact(&tag)))
}

/// Checks and decrypts a file's text.
fn open(path: &Path, passphrase: &[u8], text: &str) -> Result<(Secret, bool), DevFileError> {
    let format = |what| DevFileError::Format {
        path: path.to_path_buf(),
        what,
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.len() != 6 || lines[0] != format!("{MAGIC}\n") {
        return Err(format("header or line count"));
    }
    let field = |i: usize, name: &str| {
        lines[i]
            .strip_suffix('\n')
            .and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix(' '))
    };
    let kdf: Vec<&str> = field(1, "kdf")
        .ok_or_else(|| format("kdf line"))?
        .split(' ')
        .collect();
    let [name, rounds, salt] = kdf[..] else {
        return Err(format("kdf line"));
    };
    let rounds: u32 = rounds.parse().map_err(|_| format("kdf rounds"))?;
    if name != "pbkdf2-hmac-sha256" || !ROUNDS_RANGE.contains(&rounds) {
        return Err(format("kdf"));
    }
    let salt = hex::parse(salt).map_err(|_| format("salt"))?;
    let des3 = match field(2, "type") {
        Some("aes") => false,
        Some("des3") => true,
        _ => return Err(format("type")),
    };
    let iv = field(3, "iv").and_then(|t| hex::parse(t).ok());
    let data = field(4, "data").and_then(|t| hex::parse(t).ok());
    let tag = field(5, "mac").and_then(|t| hex::parse(t).ok());
    let (Some(iv), Some(data), Some(tag)) = (iv, data, tag) else {
        return Err(format("iv, data or mac"));
    };
    if salt.len() != 16 || iv.len() != 16 || data.is_empty() || data.len() % 16 != 0 {
        return Err(format("lengths"));
    }
    let derived = keys(passphrase, &salt, rounds);
    let (ke, km) = derived.expose().split_at(32);
    let mut m = mac(km);
    m.update(lines[..5].concat().as_bytes());
    m.verify_slice(&tag).map_err(|_| DevFileError::Tampered {
        path: path.to_path_buf(),
    })?;
    let mut plain = crate::crypto::aes_cbc_decrypt(ke, &iv, &data)?;
    let key = match plain.iter().rposition(|&b| b != 0) {
        Some(i) if plain[i] == 0x80 => Secret::new(plain[..i].to_vec()),
        _ => {
            plain.iter_mut().for_each(|b| *b = 0);
            return Err(format("padding"));
        }
    };
    plain.iter_mut().for_each(|b| *b = 0);
    Ok((key, des3))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASS: &[u8] = b"correct horse battery";
    /// The minimum rounds keep the tests fast; the format is the same.
    const FAST: u32 = 100_000;

    fn sealed() -> String {
        let key = [0x11u8; 16];
        seal(PASS, &[7; 16], FAST, &[9; 16], &key, false).unwrap()
    }

    #[test]
    fn round_trip_and_every_change_is_refused() {
        let text = sealed();
        let path = Path::new("k.dev");
        let (key, des3) = open(path, PASS, &text).unwrap();
        assert_eq!(key.expose(), &[0x11; 16]);
        assert!(!des3);
        assert!(matches!(
            open(path, b"wrong passphrase!", &text),
            Err(DevFileError::Tampered { .. })
        ));
        // Flip one hex digit in each of the MACed lines and the MAC itself.
        for line in 1..6 {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let last = lines[line].pop().unwrap();
            lines[line].push(if last == '0' { '1' } else { '0' });
            let changed = lines.join("\n") + "\n";
            assert!(open(path, PASS, &changed).is_err(), "line {line}");
        }
        let des = seal(PASS, &[7; 16], FAST, &[9; 16], &[0x22; 24], true).unwrap();
        let (key, des3) = open(path, PASS, &des).unwrap();
        assert_eq!(key.expose(), &[0x22; 24]);
        assert!(des3);
    }

    #[test]
    fn specs_parse() {
        let spec = DevSpec::parse("dev:keys/m.dev?passphrase=env:PASS").unwrap();
        assert_eq!(spec.path, PathBuf::from("keys/m.dev"));
        assert_eq!(spec.passphrase, SecretSource::Env("PASS".to_string()));
        for bad in [
            "dev:",
            "dev:x",
            "dev:?passphrase=env:P",
            "dev:x?passphrase=1234",
            "x",
        ] {
            assert!(DevSpec::parse(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_refused_or_opened_without_panic(text in "[ -~\\n]{0,300}") {
            let _ = open(Path::new("k"), PASS, &text);
        }

        #[test]
        fn any_spec_parses_or_is_refused(text in "\\PC{0,60}") {
            let _ = DevSpec::parse(&text);
        }
    }
}
