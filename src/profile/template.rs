//! APDU and response templates: hex with `${name}` placeholders, checked once and rendered
//! per card.
//!
//! `FF D6 00 04 04 ${ticket}` is split into literal hex pieces and placeholders. Each literal
//! piece must be whole bytes on its own (a placeholder cannot split a byte). A placeholder
//! substitutes the *bytes* of its value: a variable given as hex text (`"0042"`) contributes
//! the bytes `00 42`. Turning values into bytes, and deciding which names exist, is the
//! caller's job; this file only splits, checks and concatenates.

use std::fmt;
use std::ops::Range;

use crate::apdu::DataMask;
use crate::apdu::hex::{self, HexError};
use crate::reader::trace::{MASK, Redactor, mask_command, sensitive_data};
use crate::script::is_identifier;

/// One part of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Literal bytes.
    Bytes(Vec<u8>),
    /// A `${name}` placeholder.
    Var {
        /// The variable name.
        name: String,
        /// 1-based column of the `$` in the template text.
        column: usize,
    },
}

/// Why template text does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A literal piece is not hex.
    Hex {
        /// 1-based column in the template text.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// A placeholder is malformed.
    Placeholder {
        /// 1-based column in the template text.
        column: usize,
        /// What is wrong there.
        message: String,
    },
}

impl TemplateError {
    /// The 1-based column the error points at.
    pub fn column(&self) -> usize {
        match self {
            TemplateError::Hex { column, .. } | TemplateError::Placeholder { column, .. } => {
                *column
            }
        }
    }
}

/// A placeholder whose value the caller could not supply at render time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no value for `${{{name}}}`")]
pub struct RenderError {
    /// The name without a value.
    pub name: String,
}

/// An APDU as hex text with `${name}` placeholders.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    pieces: Vec<Piece>,
}

impl Template {
    /// Splits and checks template text. Columns in errors are 1-based, in characters.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        for part in split(text)? {
            match part {
                Part::Text(literal, column) => push_literal(&mut pieces, literal, column)?,
                Part::Var(name, column) => pieces.push(Piece::Var { name, column }),
            }
        }
        Ok(Template {
            text: text.trim().to_string(),
            pieces,
        })
    }

    /// The placeholders' names with their columns, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = (&str, usize)> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var { name, column } => Some((name.as_str(), *column)),
            Piece::Bytes(_) => None,
        })
    }

    /// The template's parts in order: literal bytes, or a placeholder's name.
    pub fn parts(&self) -> impl Iterator<Item = TemplatePart<'_>> {
        self.pieces.iter().map(|p| match p {
            Piece::Bytes(bytes) => TemplatePart::Bytes(bytes),
            Piece::Var { name, .. } => TemplatePart::Var(name),
        })
    }

    /// The bytes, when the template has no placeholders.
    pub fn literal(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Bytes(bytes) => out.extend_from_slice(bytes),
                Piece::Var { .. } => return None,
            }
        }
        Some(out)
    }

    /// Concatenates the literal bytes and, for each `${name}`, the bytes `lookup(name)`
    /// gives.
    pub fn render(&self, lookup: &dyn Fn(&str) -> Option<Vec<u8>>) -> Result<Vec<u8>, RenderError> {
        self.render_marked(&|name| lookup(name).map(|bytes| (bytes, false)))
            .map(|(bytes, _)| bytes)
    }

    /// Like [`Template::render`], where `lookup` also says whether a value is a secret; the
    /// byte ranges secrets filled are returned with the bytes (their provenance), so that
    /// exactly those bytes are masked wherever the command is shown.
    pub fn render_marked(
        &self,
        lookup: &MarkedLookup<'_>,
    ) -> Result<(Vec<u8>, Vec<Range<usize>>), RenderError> {
        let mut out = Vec::new();
        let mut secret = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Bytes(bytes) => out.extend_from_slice(bytes),
                Piece::Var { name, .. } => match lookup(name) {
                    Some((bytes, is_secret)) => {
                        if is_secret && !bytes.is_empty() {
                            secret.push(out.len()..out.len() + bytes.len());
                        }
                        out.extend_from_slice(&bytes);
                    }
                    None => return Err(RenderError { name: name.clone() }),
                },
            }
        }
        Ok((out, secret))
    }

    /// What names an unnamed step: the template with placeholders as `${name}` and literal
    /// bytes as hex, except that the data of a command that carries secrets by its kind
    /// (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER, LOAD KEYS, WritePerso to a
    /// key) reads `(secret)`, even when typed as a literal: a name goes to the journal.
    pub fn step_name(&self) -> String {
        if let Some(bytes) = self.literal() {
            return mask_command(&bytes, &Redactor::default()).spaced;
        }
        let literal: Vec<u8> = self
            .pieces
            .iter()
            .flat_map(|p| match p {
                Piece::Bytes(bytes) => bytes.clone(),
                Piece::Var { .. } => Vec::new(),
            })
            .collect();
        let mut tokens: Vec<String> = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Bytes(bytes) => tokens.extend(bytes.iter().map(|b| format!("{b:02X}"))),
                Piece::Var { name, .. } => tokens.push(format!("${{{name}}}")),
            }
        }
        // With placeholders the literal bytes alone do not give the exact layout, so all
        // of the data (after CLA INS P1 P2 Lc, or earlier where the kind says so) is masked.
        let starts = if secret_kind(&literal) {
            Some(5)
        } else {
            sensitive_data(&literal).map(|range| range.start.min(5))
        };
        if let Some(at) = starts.filter(|&at| at < tokens.len()) {
            tokens.truncate(at);
            tokens.push(MASK.to_string());
        }
        tokens.join(" ")
    }
}

/// A value lookup that also says whether the value is a secret's.
pub type MarkedLookup<'a> = dyn Fn(&str) -> Option<(Vec<u8>, bool)> + 'a;

/// Whether a command's first two bytes name a kind that carries secrets in its data.
fn secret_kind(bytes: &[u8]) -> bool {
    match bytes {
        [0xFF, 0x82, ..] => true,
        [0xFF, ..] => false,
        [_, 0x20 | 0x24 | 0x2C, ..] => true,
        _ => false,
    }
}

/// One part of a parsed [`Template`], as [`Template::parts`] gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart<'a> {
    /// Literal bytes.
    Bytes(&'a [u8]),
    /// A `${name}` placeholder.
    Var(&'a str),
}

/// A piece of template text before its literal parts are interpreted.
enum Part<'a> {
    /// Literal text and the 1-based column it starts at.
    Text(&'a str, usize),
    /// A `${name}` and the column of its `$`.
    Var(String, usize),
}

/// Splits text into literal parts and `${name}` placeholders.
fn split(text: &str) -> Result<Vec<Part<'_>>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = text;
    // Column (1-based) of the first character of `rest`.
    let mut column = 1;
    while let Some(at) = rest.find("${") {
        let literal = &rest[..at];
        parts.push(Part::Text(literal, column));
        let dollar = column + literal.chars().count();
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            return Err(TemplateError::Placeholder {
                column: dollar,
                message: "`${` is not closed by `}`".to_string(),
            });
        };
        let name = &after[..end];
        if !is_identifier(name) {
            return Err(TemplateError::Placeholder {
                column: dollar,
                message: format!("`${{{name}}}` is not a variable name"),
            });
        }
        parts.push(Part::Var(name.to_string(), dollar));
        column = dollar + 3 + name.chars().count();
        rest = &after[end + 1..];
    }
    parts.push(Part::Text(rest, column));
    Ok(parts)
}

/// A `response:` mask with `${name}` placeholders: `${serial} XX XX`. A placeholder
/// stands for its value's bytes, matched exactly; the literal parts may hold wildcards.
#[derive(Clone, PartialEq, Eq)]
pub struct MaskTemplate {
    text: String,
    pieces: Vec<MaskPiece>,
}

#[derive(Clone, PartialEq, Eq)]
enum MaskPiece {
    Mask(DataMask),
    Var { name: String, column: usize },
}

impl MaskTemplate {
    /// Splits and checks mask text; errors in literal parts are [`TemplateError::Hex`].
    pub fn parse(text: &str) -> Result<MaskTemplate, TemplateError> {
        let mut pieces = Vec::new();
        for part in split(text)? {
            match part {
                Part::Text(literal, column) => {
                    let mask = DataMask::parse(literal).map_err(|e| TemplateError::Hex {
                        column: column + e.column - 1,
                        message: e.message,
                    })?;
                    if !mask.is_empty() {
                        pieces.push(MaskPiece::Mask(mask));
                    }
                }
                Part::Var(name, column) => pieces.push(MaskPiece::Var { name, column }),
            }
        }
        Ok(MaskTemplate {
            text: text.trim().to_string(),
            pieces,
        })
    }

    /// The placeholders' names with their columns, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = (&str, usize)> {
        self.pieces.iter().filter_map(|p| match p {
            MaskPiece::Var { name, column } => Some((name.as_str(), *column)),
            MaskPiece::Mask(_) => None,
        })
    }

    /// The mask, when the text has no placeholders.
    pub fn literal(&self) -> Option<DataMask> {
        self.render(&|_| None).ok()
    }

    /// The mask with each `${name}` replaced by exactly the bytes `lookup(name)` gives.
    pub fn render(
        &self,
        lookup: &dyn Fn(&str) -> Option<Vec<u8>>,
    ) -> Result<DataMask, RenderError> {
        let mut out = DataMask::exact(&[]);
        for piece in &self.pieces {
            match piece {
                MaskPiece::Mask(mask) => out.extend(mask),
                MaskPiece::Var { name, .. } => match lookup(name) {
                    Some(bytes) => out.extend(&DataMask::exact(&bytes)),
                    None => return Err(RenderError { name: name.clone() }),
                },
            }
        }
        Ok(out)
    }
}

impl fmt::Display for MaskTemplate {
    /// The mask as written (trimmed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for MaskTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaskTemplate({})", self.text)
    }
}

fn push_literal(
    pieces: &mut Vec<Piece>,
    literal: &str,
    column: usize,
) -> Result<(), TemplateError> {
    let bytes = hex::parse(literal).map_err(|e| TemplateError::Hex {
        column: column + e.column() - 1,
        message: hex_reason(&e),
    })?;
    if !bytes.is_empty() {
        pieces.push(Piece::Bytes(bytes));
    }
    Ok(())
}

/// What is wrong with hex, without the column (the caller places it).
pub(super) fn hex_reason(e: &HexError) -> String {
    match e {
        HexError::BadChar { found, .. } => format!("`{found}` is not a hex digit"),
        HexError::OddDigits { .. } => "odd number of hex digits".to_string(),
    }
}

impl fmt::Display for Template {
    /// The template as written (trimmed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({})", self.text)
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn unnamed_steps_are_named_by_their_masked_command() {
        let name = |text: &str| Template::parse(text).unwrap().step_name();
        assert_eq!(
            name("00 20 00 01 04 31 32 33 34"),
            "00 20 00 01 04 (secret)"
        );
        assert_eq!(name("0020000102 3132"), "00 20 00 01 02 (secret)");
        assert_eq!(name("00 20 00 01 04 ${pin}"), "00 20 00 01 04 (secret)");
        assert_eq!(
            name("00 24 00 01 08 31 32 ${rest}"),
            "00 24 00 01 08 (secret)"
        );
        assert_eq!(name("FF 82 00 00 06 ${key}"), "FF 82 00 00 06 (secret)");
        assert_eq!(name("00 D6 00 00 02 ${serial}"), "00 D6 00 00 02 ${serial}");
        assert_eq!(name("00 B0 00 00 10"), "00 B0 00 00 10");
    }

    #[test]
    fn secret_placeholders_mark_exactly_their_bytes() {
        let t = Template::parse("00 D6 00 00 03 ${a} ${pin}").unwrap();
        let (bytes, secret) = t
            .render_marked(&|name| match name {
                "a" => Some((vec![0xAA], false)),
                _ => Some((vec![0x31, 0x32], true)),
            })
            .unwrap();
        assert_eq!(bytes, [0, 0xD6, 0, 0, 3, 0xAA, 0x31, 0x32]);
        assert_eq!(secret, std::slice::from_ref(&(6..8)));
    }
}
