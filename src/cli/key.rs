//! `apdu-run key import` and `apdu-run key kcv`: the key ceremony.
//!
//! `key import --to pkcs11:…` builds a key from two or three components — typed at a
//! prompt without echo (one custodian after another), read line by line from standard
//! input when it is not a terminal, or read from `--component-file`s — prints each
//! component's and the key's key check value (KCV: the first 3 bytes of the encryption of
//! a zero block), stores the key in the token as a sensitive, non-extractable object, and
//! checks the token computes the same KCV. `key kcv SPEC` prints the KCV of a key in a
//! token, a file or the environment, never the key. `key encrypt-column --key SPEC` turns
//! values (hex lines on standard input) into cells of an `encrypted-columns:` data column. The clap declarations live here so
//! that this subcommand is one file. Nothing here talks to a card.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Subcommand};

use super::exit::invalid;
use super::{Exit, Failure, errln, outln};
use crate::apdu::hex;
use crate::keys::devfile::DevSpec;
use crate::keys::{self, Pkcs11Uri, TokenKey, components};
use crate::secret::Secret;

/// Options of `key`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: KeyAction,
}

/// The key ceremony's commands.
#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Build a key from 2 or 3 components, show KCVs, store it in a PKCS#11 token.
    Import {
        /// Where to store the key: `pkcs11:token=…;object=LABEL?module-path=…&pin-source=env:NAME`,
        /// or, for development only, a new encrypted file `dev:PATH?passphrase=env:NAME`.
        #[arg(long, value_name = "PKCS11-URI|DEV-FILE")]
        to: String,
        /// A file holding one component in hex (give 2 or 3); without them the components
        /// are typed at a prompt (not echoed), or read as lines when stdin is not a terminal.
        #[arg(long = "component-file", value_name = "FILE")]
        component_files: Vec<PathBuf>,
        /// How many components are typed (2 or 3).
        #[arg(long, default_value_t = 2, value_name = "N")]
        components: usize,
        /// The key is two-key (16 bytes) or three-key (24 bytes) 3DES, not AES.
        #[arg(long)]
        des3: bool,
    },
    /// Print the key check value of a key (`pkcs11:…`, `env:NAME`, `file:PATH`).
    Kcv {
        /// The key.
        #[arg(value_name = "SECRET-SPEC")]
        spec: String,
        /// A key in memory is 3DES, not AES (token keys know their type).
        #[arg(long)]
        des3: bool,
    },
    /// Encrypt values for an `encrypted-columns:` data column: one hex value per line of
    /// standard input, one cell per line of standard output (IV ‖ AES-CBC, hex).
    EncryptColumn {
        /// The transport key (AES): `pkcs11:…`, `env:NAME` or `file:PATH`.
        #[arg(long, value_name = "SECRET-SPEC")]
        key: String,
    },
}

/// Runs `key`.
pub fn run(args: KeyArgs) -> Result<Exit, Failure> {
    match args.action {
        KeyAction::Kcv { spec, des3 } => kcv(&spec, des3),
        KeyAction::EncryptColumn { key } => encrypt_column(&key),
        KeyAction::Import {
            to,
            component_files,
            components,
            des3,
        } => import(&to, &component_files, components, des3),
    }
}

fn failed(e: impl std::fmt::Display) -> Failure {
    Failure::new(Exit::Failed, anyhow!("{e}"))
}

fn kcv(spec: &str, des3: bool) -> Result<Exit, Failure> {
    keys::check_spec(spec).map_err(|e| invalid(anyhow!("{e}")))?;
    let key = keys::load(spec).map_err(failed)?;
    let value = key.kcv(des3).map_err(failed)?;
    outln!("KCV {}", hex::format_compact(&value));
    Ok(Exit::Ok)
}

fn import(to: &str, files: &[PathBuf], count: usize, des3: bool) -> Result<Exit, Failure> {
    let target = if to.starts_with("dev:") {
        let spec = DevSpec::parse(to).map_err(|e| invalid(anyhow!("--to: {e}")))?;
        if spec.path.exists() {
            return Err(invalid(anyhow!(
                "--to: {} exists; a key file is never overwritten",
                spec.path.display()
            )));
        }
        errln!(
            "warning: {} is a DEVELOPMENT key file, NOT FOR PRODUCTION: the key is only as safe as \
             the passphrase and the file; keep production keys in a PKCS#11 token",
            spec.path.display()
        );
        Target::Dev(spec)
    } else {
        let uri = Pkcs11Uri::parse(to).map_err(|e| invalid(anyhow!("--to: {e}")))?;
        if uri.object.is_none() {
            return Err(invalid(anyhow!(
                "--to: `object=` must give the new key's label"
            )));
        }
        Target::Token(uri)
    };
    let texts = if files.is_empty() {
        if !(2..=3).contains(&count) {
            return Err(invalid(anyhow!("--components must be 2 or 3, got {count}")));
        }
        typed(count)?
    } else {
        if !(2..=3).contains(&files.len()) {
            return Err(invalid(anyhow!(
                "give 2 or 3 --component-file, got {}",
                files.len()
            )));
        }
        files
            .iter()
            .map(|f| {
                std::fs::read_to_string(f)
                    .map(held)
                    .map_err(|e| invalid(anyhow!("component file `{}`: {e}", f.display())))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut parts = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let text = String::from_utf8_lossy(text.expose()).into_owned();
        let part = components::parse(i + 1, &text).map_err(|e| invalid(anyhow!("{e}")))?;
        let value = keys::kcv_of_bytes(part.expose(), des3).map_err(|e| invalid(anyhow!("{e}")))?;
        outln!("component {} KCV {}", i + 1, hex::format_compact(&value));
        parts.push(part);
    }
    let key = components::combine(&parts).map_err(|e| invalid(anyhow!("{e}")))?;
    let value = keys::kcv_of_bytes(key.expose(), des3).map_err(|e| invalid(anyhow!("{e}")))?;
    outln!("key KCV {}", hex::format_compact(&value));
    let uri = match target {
        Target::Token(uri) => uri,
        Target::Dev(spec) => {
            // No read-back: a second key derivation costs seconds, and `key kcv` on the
            // file does the same check when the operator wants it.
            spec.write(key.expose(), des3).map_err(failed)?;
            outln!(
                "stored {} (development file; `apdu-run key kcv` on it shows KCV {})",
                spec.path.display(),
                hex::format_compact(&value)
            );
            return Ok(Exit::Ok);
        }
    };
    keys::pkcs11::import(&uri, key.expose(), des3).map_err(failed)?;
    let stored = TokenKey::open(&uri).and_then(|k| k.kcv()).map_err(failed)?;
    if stored != value {
        return Err(failed(format!(
            "{}: the token computes KCV {}, not {}; the stored key is not the one entered",
            uri.key_name(),
            hex::format_compact(&stored),
            hex::format_compact(&value)
        )));
    }
    outln!(
        "stored {} (KCV {} in the token)",
        uri.key_name(),
        hex::format_compact(&stored)
    );
    Ok(Exit::Ok)
}

/// Encrypts each line of standard input (hex) into a cell. Values are read and held as
/// secrets; a line that is not hex is refused by its number, never shown.
fn encrypt_column(spec: &str) -> Result<Exit, Failure> {
    keys::check_spec(spec).map_err(|e| invalid(anyhow!("--key: {e}")))?;
    let key = keys::load(spec).map_err(failed)?;
    // Every line is read and checked before any cell is printed: a bad line leaves no
    // half-written column behind.
    let mut values = Vec::new();
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        let line = held(line.map_err(|e| failed(format!("reading line {}: {e}", i + 1)))?);
        let text = String::from_utf8_lossy(line.expose());
        let value = hex::parse(text.trim())
            .map(Secret::new)
            .map_err(|_| invalid(anyhow!("standard input line {}: not hex", i + 1)))?;
        values.push(value);
    }
    let mut cells = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let cell = keys::columns::encrypt(&key, value.expose())
            .map_err(|e| failed(format!("line {}: {e}", i + 1)))?;
        cells.push(cell);
    }
    for cell in cells {
        outln!("{cell}");
    }
    Ok(Exit::Ok)
}

/// Where `key import` stores the key.
enum Target {
    /// A PKCS#11 token.
    Token(Pkcs11Uri),
    /// A development key file.
    Dev(DevSpec),
}

/// Typed text, held as a secret from the moment it is read (zeroed when dropped).
fn held(text: String) -> Secret {
    Secret::new(text.into_bytes())
}

/// Reads `count` components: at a prompt without echo on a terminal, else one per line of
/// standard input.
fn typed(count: usize) -> Result<Vec<Secret>, Failure> {
    let mut out = Vec::with_capacity(count);
    if std::io::stdin().is_terminal() {
        for i in 1..=count {
            let text =
                rpassword::prompt_password(format!("component {i} of {count} (hex, not shown): "))
                    .map_err(|e| failed(format!("reading component {i}: {e}")))?;
            out.push(held(text));
        }
    } else {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        for i in 1..=count {
            let line = lines
                .next()
                .transpose()
                .map_err(|e| failed(format!("reading component {i}: {e}")))?
                .ok_or_else(|| {
                    invalid(anyhow!(
                        "standard input ended before component {i} of {count}"
                    ))
                })?;
            out.push(held(line));
        }
    }
    Ok(out)
}
