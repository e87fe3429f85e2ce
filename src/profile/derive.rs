//! Diversified secrets: a `secrets:` entry written as
//! `name: { diversify: { master: SPEC, method: METHOD, input: "${uid} …" } }`.
//!
//! Each card gets its own key, computed before its first step from the master key (an
//! `env:`/`file:` hex key or a `pkcs11:` URI, whose bytes never leave the token) and the
//! input `M` rendered for that card (hex with `${uid}`, `${atr}`, `${seq}`, `${row}`,
//! variables and data columns). The result is a [`Secret`] like any other: placeholders
//! filled by it are masked by provenance, and its bytes are added to the run's redactor.
//!
//! Checks, in the order a run meets them:
//! - at load: the method is known, the master spec is well formed, the input parses and
//!   names only values a card has before its first step (not secrets, not captures);
//! - at `check` ([`check_inputs`]): the input's length, where it is known (the UID length
//!   from the card kind, variables, every data row), is within AN10922's `M` limits;
//! - per card ([`Derivations::derive`]): the card's UID has the length its card kind
//!   promises. A 4-byte UID diversified for a 7-byte-UID kind (or the reverse) would give
//!   a key no other system of the scheme computes, so the card is refused before any
//!   command (a refusal, not a warning: a card keyed that way is lost to its system).
//!
//! The same moment decrypts the row's `encrypted-columns:` cells into secrets with their
//! transport keys ([`Derivations::decrypt_row`]; the cell format is `crate::keys::columns`);
//! [`Derivations::check_rows`] decrypts every row up front for `check --data` and `batch`.
//!
//! This file does not send anything and does not print.

use std::cell::RefCell;
use std::path::PathBuf;

use super::names::Names;
use super::run::Inputs;
use super::{CardKind, LengthError, Profile, Template, TemplatePart, Vocabulary};
use crate::apdu::hex;
use crate::crypto::an10922::{self, Method};
use crate::keys::{self, Key, KeyError, columns};
use crate::secret::Secret;

/// The byte offset of the 6-byte MIFARE Classic key inside the AES-128 result (the
/// first six bytes; see `crate::crypto::an10922`).
pub const CLASSIC_OFFSET: usize = 0;

/// How a secret is diversified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeriveMethod {
    /// AN10922 with an AES-128 master key: a 16-byte key.
    Aes128,
    /// AN10922 with a 2TDEA master key: a 16-byte key (no DES key-version bits).
    Tdea2,
    /// AN10922 with a 3TDEA master key: a 24-byte key (no DES key-version bits).
    Tdea3,
    /// AN10922 AES-128, bytes `CLASSIC_OFFSET..+6`: a MIFARE Classic key.
    Classic6,
}

/// The `method:` names, in the order messages list them.
pub const METHOD_NAMES: [&str; 4] = [
    "an10922-aes128",
    "an10922-2tdea",
    "an10922-3tdea",
    "an10922-aes128-classic6",
];

impl DeriveMethod {
    /// Parses a `method:` name.
    pub fn parse(text: &str) -> Option<DeriveMethod> {
        Some(match text {
            "an10922-aes128" => DeriveMethod::Aes128,
            "an10922-2tdea" => DeriveMethod::Tdea2,
            "an10922-3tdea" => DeriveMethod::Tdea3,
            "an10922-aes128-classic6" => DeriveMethod::Classic6,
            _ => return None,
        })
    }

    /// The AN10922 method underneath.
    pub fn an10922(self) -> Method {
        match self {
            DeriveMethod::Aes128 | DeriveMethod::Classic6 => Method::Aes128,
            DeriveMethod::Tdea2 => Method::Tdea2,
            DeriveMethod::Tdea3 => Method::Tdea3,
        }
    }

    /// The length of the key it makes.
    pub fn output_len(self) -> usize {
        match self {
            DeriveMethod::Aes128 | DeriveMethod::Tdea2 => 16,
            DeriveMethod::Tdea3 => 24,
            DeriveMethod::Classic6 => an10922::CLASSIC_KEY_LEN,
        }
    }

    /// The `method:` name.
    pub fn name(self) -> &'static str {
        match self {
            DeriveMethod::Aes128 => METHOD_NAMES[0],
            DeriveMethod::Tdea2 => METHOD_NAMES[1],
            DeriveMethod::Tdea3 => METHOD_NAMES[2],
            DeriveMethod::Classic6 => METHOD_NAMES[3],
        }
    }
}

/// Names a diversification input may use besides variables and data columns: what the
/// card and the batch give before the first step.
pub const INPUT_BUILT_INS: [&str; 4] = ["uid", "atr", "seq", "row"];

/// A validated `diversify:` secret.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The secret's name.
    pub name: String,
    /// The master key's spec (`env:`, `file:` with an absolute or profile-relative path
    /// already resolved, or `pkcs11:`).
    pub master: String,
    /// The method.
    pub method: DeriveMethod,
    /// The input `M`.
    pub input: Template,
    /// Where `input:` is written: file, line, column.
    pub file: PathBuf,
    /// 1-based line of `input:`'s value.
    pub line: usize,
    /// 1-based column of `input:`'s value.
    pub column: usize,
}

/// The UID length a card kind's cards have, when the kind fixes it.
pub fn uid_len(kind: CardKind) -> Option<usize> {
    match kind {
        CardKind::Classic1k | CardKind::Classic4k => Some(4),
        CardKind::Ultralight | CardKind::Plus2k | CardKind::Plus4k => Some(7),
        CardKind::Iso7816 | CardKind::Any => None,
    }
}

/// Checks every diversification input's length with what is known before a card: the
/// UID length from the card kind, `${seq}`/`${row}` (4 bytes), variables, and data rows —
/// with `row` `None`, the inputs that use no data column (of `columns`); with a row, those
/// that use one, with that row's values (the caller goes through the rows one at a time, so
/// a lot of a million rows is never held whole). An input whose length depends on something
/// unknown (`${atr}`, the UID of a card kind that does not fix it) is checked per card.
pub fn check_inputs(
    profile: &Profile,
    columns: &[String],
    row: Option<(u64, &[(String, String)])>,
) -> Result<(), LengthError> {
    for derived in &profile.derived {
        let uses_data = derived
            .input
            .placeholders()
            .any(|(n, _)| columns.iter().any(|c| c == n));
        let (row, values): (u64, &[(String, String)]) = match (row, uses_data) {
            (None, false) => (0, &[]),
            (Some((row, values)), true) => (row, values),
            _ => continue,
        };
        let error = |message: String| LengthError {
            file: derived.file.clone(),
            line: derived.line,
            column: derived.column,
            row: (row > 0).then_some(row),
            step: 0,
            message: format!("secret `{}`: {message}", derived.name),
        };
        let Some(len) = input_len(profile, derived, values).map_err(error)? else {
            continue;
        };
        an10922::check_input::<String>(derived.method.an10922(), len)
            .map_err(|e| error(e.to_string()))?;
    }
    Ok(())
}

/// The input's length, `None` when a part is known only with the card.
fn input_len(
    profile: &Profile,
    derived: &Derived,
    row: &[(String, String)],
) -> Result<Option<usize>, String> {
    let mut len = 0;
    for part in derived.input.parts() {
        len += match part {
            TemplatePart::Bytes(bytes) => bytes.len(),
            TemplatePart::Var(name) => {
                let value = row
                    .iter()
                    .find(|(n, _)| n == name)
                    .or_else(|| profile.vars.iter().find(|(n, _)| n == name));
                match (value, name) {
                    (Some((what, text)), _) => hex::parse(text)
                        .map_err(|e| format!("`{what}` in the diversification input: {e}"))?
                        .len(),
                    (None, "seq" | "row") => 4,
                    (None, "uid") => match uid_len(profile.card) {
                        Some(len) => len,
                        None => return Ok(None),
                    },
                    _ => return Ok(None),
                }
            }
        };
    }
    Ok(Some(len))
}

/// A data row split: its plain (column, value) pairs and its decrypted (column, secret)s.
pub type SplitRow = (Vec<(String, String)>, Vec<(String, Secret)>);

/// The master keys of a profile's diversified secrets, loaded once per run (a token
/// session each for `pkcs11:` keys). Empty when the profile has none.
///
/// It also holds the transport keys of the profile's `encrypted-columns:`, which are used
/// at the same moment (a row's cells are decrypted before the card's first command).
#[derive(Debug, Default)]
pub struct Derivations {
    keys: Vec<Key>,
    columns: Vec<(String, Key)>,
}

/// A master key that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {error}")]
pub struct MasterError {
    /// What the key is for (`secret \`k\`: master key`).
    pub name: String,
    /// Why.
    pub error: KeyError,
}

impl Derivations {
    /// Loads every master key `profile` names.
    pub fn load(profile: &Profile) -> Result<Derivations, MasterError> {
        let keys = profile
            .derived
            .iter()
            .map(|d| {
                keys::load(&d.master).map_err(|error| MasterError {
                    name: format!("secret `{}`: master key", d.name),
                    error,
                })
            })
            .collect::<Result<_, _>>()?;
        let columns = profile
            .encrypted_columns
            .iter()
            .map(|(column, spec)| {
                keys::load(spec)
                    .map(|key| (column.clone(), key))
                    .map_err(|error| MasterError {
                        name: format!("encrypted column `{column}`: transport key"),
                        error,
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Derivations { keys, columns })
    }

    /// Decrypts every cell of every row (`check --data`, and a batch before its first
    /// card), so that a bad cell is found before any card; the first bad one is the error.
    pub fn check_rows(
        &self,
        rows: &mut dyn Iterator<Item = (u64, Vec<(String, String)>)>,
    ) -> Result<(), String> {
        if self.columns.is_empty() {
            return Ok(());
        }
        for (row, values) in rows {
            self.decrypt_row(&values, Some(row))?;
        }
        Ok(())
    }

    /// Splits a data row into its plain values and its encrypted columns' values, decrypted
    /// into secrets. The error names the column (and `row` when given), never the cell.
    pub fn decrypt_row(
        &self,
        data: &[(String, String)],
        row: Option<u64>,
    ) -> Result<SplitRow, String> {
        let mut plain = Vec::with_capacity(data.len());
        let mut secrets = Vec::new();
        for (column, value) in data {
            match self.columns.iter().find(|(c, _)| c == column) {
                Some((_, key)) => match columns::decrypt(key, value) {
                    Ok(secret) => secrets.push((column.clone(), secret)),
                    Err(e) => {
                        let at = row.map(|r| format!("data row {r}: ")).unwrap_or_default();
                        return Err(format!("{at}encrypted column `{column}`: the cell {e}"));
                    }
                },
                None => plain.push((column.clone(), value.clone())),
            }
        }
        Ok((plain, secrets))
    }

    /// This card's diversified secrets, in the profile's order. The error names the
    /// secret and says what is wrong with lengths and names only, never a value.
    pub fn derive(
        &self,
        profile: &Profile,
        inputs: &Inputs<'_>,
    ) -> Result<Vec<(String, Secret)>, (String, String)> {
        let names = Names {
            profile,
            inputs,
            captures: &[],
        };
        let mut out = Vec::with_capacity(profile.derived.len());
        for (derived, key) in profile.derived.iter().zip(&self.keys) {
            let fail = |message: String| (derived.name.clone(), message);
            let uses_uid = derived.input.placeholders().any(|(n, _)| n == "uid");
            if let (true, Some(expected)) = (uses_uid, uid_len(profile.card)) {
                let found = inputs.uid.as_ref().map_or(0, Vec::len);
                if found != expected {
                    return Err(fail(format!(
                        "the card's UID is {found} bytes, card kind `{}` has {expected}-byte \
                         UIDs: a key diversified from it would not be the scheme's key; \
                         present a card of the profile's kind",
                        profile.card.name()
                    )));
                }
            }
            let missing = RefCell::new(None);
            let m = derived
                .input
                .render(&|name| match names.bytes(name) {
                    Ok(bytes) => Some(bytes),
                    Err(message) => {
                        missing.borrow_mut().get_or_insert(message);
                        None
                    }
                })
                .map_err(|e| fail(missing.take().unwrap_or_else(|| e.to_string())))?;
            let result = match derived.method {
                DeriveMethod::Classic6 => key.diversify_classic(&m, CLASSIC_OFFSET),
                method => key.diversify(method.an10922(), &m),
            };
            let secret = result.map_err(|e| fail(format!("diversification: {e}")))?;
            out.push((derived.name.clone(), secret));
        }
        Ok(out)
    }

    /// Whether the profile has no diversified secrets.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_round_trip_and_lengths_follow_the_method() {
        for name in METHOD_NAMES {
            let method = DeriveMethod::parse(name).unwrap();
            assert_eq!(method.name(), name);
        }
        assert_eq!(DeriveMethod::parse("an10922"), None);
        assert_eq!(DeriveMethod::Classic6.output_len(), 6);
        assert_eq!(DeriveMethod::Tdea3.output_len(), 24);
        assert_eq!(DeriveMethod::Classic6.an10922(), Method::Aes128);
    }
}
