//! Value lengths checked before any card: every APDU step rendered with the values a run will
//! give it, and refused when a value's length breaks the command.
//!
//! A template such as `00 D6 00 00 04 ${serial}` is valid text, but only a 4-byte serial
//! makes it a valid command; with 5 bytes the last one would be sent as Le, with 3 the card
//! gets an Lc that lies. [`check_lengths`] renders each APDU step with every data row, the
//! variables (`--var` included) and, when they are loaded, placeholders of the secrets'
//! lengths, and refuses the first command whose lengths do not hold: Lc disagreeing with the
//! data, more than 255 data bytes behind a short Lc, an Le field made of a value's bytes
//! behind a literal Lc. The error names the placeholder's `file:line:column` and the data
//! row, and never a value.
//!
//! What cannot be known before a card is skipped, not guessed: a step that uses the card's
//! `${uid}` or `${atr}`, a capture of an earlier step, a secret not loaded (`check` loads
//! none), or a value that is not hex (the data check reports that) is checked at run time
//! instead, where a bad length fails the card. This file does not send anything.

use std::fmt;
use std::path::PathBuf;

use super::{Action, Profile, Step, TemplatePart};
use crate::apdu::{Command, CommandError, hex};

/// A value whose length breaks its APDU, located at the placeholder in the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LengthError {
    /// The profile (or included profile) file.
    pub file: PathBuf,
    /// 1-based line of the placeholder.
    pub line: usize,
    /// 1-based column of the placeholder.
    pub column: usize,
    /// The 1-based data row that gives the bad length (`None`: no data value is involved).
    pub row: Option<u64>,
    /// 1-based number of the step; 0 for a value used before the first step (the input
    /// of a `diversify:` secret).
    pub step: usize,
    /// What is wrong, lengths only.
    pub message: String,
}

impl fmt::Display for LengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if let Some(row) = self.row {
            write!(f, "data row {row}: ")?;
        }
        // Step 0: a value used before the first step (a diversification input).
        if self.step > 0 {
            write!(f, "step {}: ", self.step)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for LengthError {}

/// What is known of a placeholder's bytes before a card is presented.
enum Known {
    /// The value itself.
    Bytes(Vec<u8>),
    /// Only its length (a loaded secret: its bytes stay out of this check).
    Length(usize),
    /// Nothing: known only once a card is there.
    Unknown,
}

/// Checks every APDU step of `profile` with every data row of `rows` (row number, values;
/// empty without data) and the loaded secrets' lengths (`None` when secrets are not
/// loaded, as in `check`).
pub fn check_lengths(
    profile: &Profile,
    secrets: Option<&[(String, usize)]>,
    rows: &mut dyn Iterator<Item = (u64, Vec<(String, String)>)>,
) -> Result<(), LengthError> {
    // Rows are taken one at a time (a lot of a million rows is never held twice), and each
    // is checked against every step that sends a data column. Encrypted cells say nothing
    // of their values' lengths: those are checked per card.
    let plain = |values: Vec<(String, String)>| -> Vec<(String, String)> {
        values
            .into_iter()
            .filter(|(c, _)| !profile.encrypted_columns.iter().any(|(e, _)| e == c))
            .collect()
    };
    let mut rows = rows.map(|(row, values)| (row, plain(values))).peekable();
    let first: Vec<String> = rows
        .peek()
        .map(|(_, values)| values.iter().map(|(c, _)| c.clone()).collect())
        .unwrap_or_default();
    let has_data = rows.peek().is_some();
    super::derive::check_inputs(profile, &first, None)?;
    let mut per_row: Vec<(usize, &Step, Vec<&str>)> = Vec::new();
    for (index, step) in profile.steps.iter().enumerate() {
        let Action::Apdu(template) = &step.action else {
            continue;
        };
        let captured: Vec<&str> = profile.steps[..index]
            .iter()
            .filter_map(|s| s.capture.as_deref())
            .collect();
        let uses_data = template
            .placeholders()
            .any(|(name, _)| !captured.contains(&name) && first.iter().any(|c| c == name));
        if uses_data {
            per_row.push((index, step, captured));
        } else {
            // No data column in this APDU: one rendering holds for every row.
            let scope = Scope {
                profile,
                captured: &captured,
                has_data,
                secrets,
            };
            check_step(index, step, &|name| scope.known(name, &[]))?;
        }
    }
    let derived_use_data = profile.derived.iter().any(|d| {
        d.input
            .placeholders()
            .any(|(n, _)| first.iter().any(|c| c == n))
    });
    if per_row.is_empty() && !derived_use_data {
        return Ok(());
    }
    for (row, values) in rows {
        super::derive::check_inputs(profile, &first, Some((row, &values)))?;
        for (index, step, captured) in &per_row {
            let scope = Scope {
                profile,
                captured,
                has_data,
                secrets,
            };
            check_step(*index, step, &|name| scope.known(name, &values)).map_err(|mut e| {
                e.row = Some(row);
                e
            })?;
        }
    }
    Ok(())
}

/// The names one step can see before a card.
struct Scope<'a> {
    profile: &'a Profile,
    /// Names captured by earlier steps.
    captured: &'a [&'a str],
    /// Whether the run has data rows (`${row}` has a value).
    has_data: bool,
    secrets: Option<&'a [(String, usize)]>,
}

impl Scope<'_> {
    /// What is known of `name` with the data row `row`, in the order a run looks names up
    /// (`names.rs`): captures, data, secrets, variables, built-ins.
    fn known(&self, name: &str, row: &[(String, String)]) -> Known {
        let hex_of = |text: &str| hex::parse(text).map_or(Known::Unknown, Known::Bytes);
        if self.captured.contains(&name) {
            return Known::Unknown;
        }
        if let Some((_, value)) = row.iter().find(|(n, _)| n == name) {
            return hex_of(value);
        }
        if let Some(derived) = self.profile.derived.iter().find(|d| d.name == name) {
            return Known::Length(derived.method.output_len());
        }
        if self.profile.secrets.iter().any(|(n, _)| n == name) {
            return match self.secrets.and_then(|s| s.iter().find(|(n, _)| n == name)) {
                Some((_, len)) => Known::Length(*len),
                None => Known::Unknown,
            };
        }
        if name == "today" {
            return Known::Length(4); // YYYY MM DD in BCD
        }
        if let Some((_, value)) = self.profile.vars.iter().find(|(n, _)| n == name) {
            return hex_of(value);
        }
        match name {
            // `${seq}` and `${row}` are 4 bytes big-endian; `${row}` without data fails at
            // run time with its own message.
            "seq" => Known::Length(4),
            "row" if self.has_data => Known::Length(4),
            _ => Known::Unknown,
        }
    }
}

/// Renders one step and checks its lengths.
fn check_step(index: usize, step: &Step, known: &dyn Fn(&str) -> Known) -> Result<(), LengthError> {
    let Action::Apdu(template) = &step.action else {
        return Ok(());
    };
    // The bytes, and for each byte the placeholder it comes from (`None`: literal), and
    // for each placeholder whether only its length is known.
    let mut bytes = Vec::new();
    let mut from: Vec<Option<usize>> = Vec::new();
    let mut names: Vec<(&str, usize, bool)> = Vec::new();
    for part in template.parts() {
        match part {
            TemplatePart::Bytes(literal) => {
                bytes.extend_from_slice(literal);
                from.resize(bytes.len(), None);
            }
            TemplatePart::Var(name) => {
                let (value, length_only) = match known(name) {
                    Known::Bytes(value) => (value, false),
                    Known::Length(len) => (vec![0; len], true),
                    // One value of unknown length makes every length after it unknown;
                    // the run checks this step when the card is there.
                    Known::Unknown => return Ok(()),
                };
                bytes.extend_from_slice(&value);
                from.resize(bytes.len(), Some(names.len()));
                names.push((name, value.len(), length_only));
            }
        }
    }
    // Behind a literal Lc the command's structure depends on lengths only; an Lc (or a lone
    // Le) made of a secret's bytes is not known here (they stand in as zeros).
    let lc_field = match bytes.get(4) {
        Some(0) if bytes.len() >= 7 && from[4].is_none() => 4..7,
        Some(_) => 4..5,
        None => 4..4,
    };
    if lc_field
        .clone()
        .any(|i| from[i].is_some_and(|p| names[p].2))
    {
        return Ok(());
    }
    let error = |placeholder: usize, message: String| {
        let (line, column) = step
            .places
            .get(placeholder)
            .copied()
            .unwrap_or((step.origin.line, 1));
        LengthError {
            file: step.origin.file.clone(),
            line,
            column,
            row: None,
            step: index + 1,
            message,
        }
    };
    // The placeholder to point at: the first one in the body (after CLA INS P1 P2).
    let culprit = from
        .iter()
        .skip(4)
        .flatten()
        .next()
        .or_else(|| from.iter().flatten().next())
        .copied()
        .unwrap_or(0);
    let lengths = || {
        names
            .iter()
            .map(|(name, len, _)| format!("`${{{name}}}` gives {len} byte(s)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let command = match Command::parse(&bytes) {
        Ok(command) => command,
        Err(e) => {
            let why = match e {
                CommandError::LcMismatch { lc, actual } if !is_extended(&bytes) && actual > 255 => {
                    format!(
                        "Lc says {lc} data bytes but {actual} follow the header; more than 255 data bytes need an extended Lc (`00 HH LL`)"
                    )
                }
                e => e.to_string(),
            };
            return Err(error(
                culprit,
                format!(
                    "the APDU with its values is not a valid command: {why} ({})",
                    lengths()
                ),
            ));
        }
    };
    // Behind a literal Lc, values that give no bytes at all leave a case-2 command: the Lc
    // the profile wrote would be sent as Le, and the data it meant would be missing.
    let literal_prefix = from.iter().take_while(|p| p.is_none()).count();
    if command.data.is_empty() && bytes.len() == 5 && literal_prefix == 5 && !names.is_empty() {
        return Err(error(
            culprit,
            format!(
                "Lc says {} data bytes, but its values give none, so the Lc would be sent as Le ({})",
                bytes[4],
                lengths()
            ),
        ));
    }
    // Behind a literal Lc, a value one byte too long parses as data plus Le: the card would
    // get the wrong data and an Le nobody wrote. An Le field is the profile's, or a value's
    // whose own Lc came with it.
    if !command.data.is_empty() && command.le.is_some() {
        let lc_literal = lc_field.clone().all(|i| from[i].is_none());
        let le_len = if command.extended { 2 } else { 1 };
        let le_from = (bytes.len() - le_len..bytes.len()).find_map(|i| from[i]);
        if let (true, Some(placeholder)) = (lc_literal, le_from) {
            return Err(error(
                placeholder,
                format!(
                    "Lc says {} data bytes, but with its values the APDU carries {} after Lc, so the last byte of `${{{}}}` would be sent as Le ({})",
                    command.data.len(),
                    bytes.len() - lc_field.end,
                    names[placeholder].0,
                    lengths()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether the bytes use an extended length field (`00` then two bytes after the header).
fn is_extended(bytes: &[u8]) -> bool {
    bytes.len() > 6 && bytes[4] == 0
}

#[cfg(test)]
mod tests;
