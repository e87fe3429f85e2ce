//! The profile file as written: plain serde structs and the YAML parser settings.
//!
//! Every value a later check may complain about is wrapped in [`Located`], which records
//! where it stands in the file, so errors point at the value itself. Unknown fields are
//! rejected by serde (`deny_unknown_fields`) with the parser's own position. This is the only
//! file that names the YAML crate (`serde-saphyr`); it does not interpret any value (hex,
//! patterns, names): that is `validate`'s job.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

/// A value with the place it was written.
#[derive(Debug, Clone)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 1-based line where the value is used (an alias site for `*alias`).
    pub line: usize,
    /// 1-based column where the value is used.
    pub column: usize,
    /// Where the value's own text is (the anchor for an alias), when the parser knows.
    pub text: Option<TextSpan>,
}

/// The source text of a scalar: its start and its byte range in the file.
#[derive(Debug, Clone, Copy)]
pub struct TextSpan {
    /// 1-based line of the first character (after any quote or block indicator line).
    pub line: usize,
    /// 1-based column of the first character.
    pub column: usize,
    /// Byte offset of the raw text, quotes included.
    pub offset: usize,
    /// Byte length of the raw text.
    pub len: usize,
}

fn text_span(location: &Location) -> Option<TextSpan> {
    let span = location.span();
    Some(TextSpan {
        line: usize::try_from(location.line()).ok().filter(|&l| l > 0)?,
        column: usize::try_from(location.column()).ok()?,
        offset: usize::try_from(span.byte_offset()?).ok()?,
        len: usize::try_from(span.byte_len()?).ok()?,
    })
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<T>::deserialize(deserializer)?;
        let at = &spanned.referenced;
        Ok(Located {
            line: usize::try_from(at.line()).unwrap_or(0).max(1),
            column: usize::try_from(at.column()).unwrap_or(0).max(1),
            text: text_span(&spanned.defined),
            value: spanned.value,
        })
    }
}

/// A whole profile file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Document {
    /// `name:` (required).
    pub name: Located<String>,
    /// `description:`.
    #[serde(default)]
    pub description: Option<Located<String>>,
    /// `card:` kind.
    #[serde(default)]
    pub card: Option<Located<String>>,
    /// `vars:` defaults, in file order.
    #[serde(default)]
    pub vars: Entries,
    /// `secrets:` sources, in file order.
    #[serde(default)]
    pub secrets: SecretEntries,
    /// `encrypted-columns:` data columns whose cells are encrypted, with their transport
    /// key's spec, in file order.
    #[serde(default)]
    pub encrypted_columns: Entries,
    /// `irreversible:` kinds.
    #[serde(default)]
    pub irreversible: Vec<Located<String>>,
    /// `on-error:` policy.
    #[serde(default)]
    pub on_error: Option<Located<String>>,
    /// `identify:`: the command whose response data tells cards apart (top profile only).
    #[serde(default)]
    pub identify: Option<Located<super::identify::IdentifyModel>>,
    /// `include:` paths, relative to this file.
    #[serde(default)]
    pub include: Vec<Located<String>>,
    /// `steps:`.
    #[serde(default)]
    pub steps: Vec<Located<StepModel>>,
}

/// One entry of `steps:`. Exactly one of `apdu`, `script` and `run` must be set; serde cannot
/// say so without `untagged`/`flatten` (which lose positions and unknown-field checks), so
/// `validate` does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StepModel {
    /// `name:`.
    #[serde(default)]
    pub name: Option<Located<String>>,
    /// `apdu:` hex with `${name}` placeholders.
    #[serde(default)]
    pub apdu: Option<Located<String>>,
    /// `script:` inline Rhai.
    #[serde(default)]
    pub script: Option<Located<String>>,
    /// `run:` a Rhai file, relative to this file.
    #[serde(default)]
    pub run: Option<Located<String>>,
    /// `expect:` status-word patterns.
    #[serde(default)]
    pub expect: Option<Located<Expect>>,
    /// `response:` data mask.
    #[serde(default)]
    pub response: Option<Located<String>>,
    /// `capture:` variable name.
    #[serde(default)]
    pub capture: Option<Located<String>>,
}

/// `expect:` is one pattern text or a list of them.
#[derive(Debug, Clone)]
pub enum Expect {
    /// A single text (which may hold `A|B`).
    One(String),
    /// A list of texts.
    List(Vec<Located<String>>),
    /// A plain scalar YAML types as a number or boolean (`9000`, `6E00`): its text is taken
    /// from the source by [`parse`], since the typed value has lost it (`6E00` is `6.0`).
    Typed(String),
}

impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExpectVisitor;
        impl<'de> Visitor<'de> for ExpectVisitor {
            type Value = Expect;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status word pattern or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Expect, E> {
                Ok(Expect::One(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Expect, E> {
                Ok(Expect::Typed(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Expect, E> {
                Ok(Expect::Typed(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Expect, E> {
                Ok(Expect::Typed(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Expect, E> {
                Ok(Expect::Typed(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Expect, A::Error> {
                let mut list = Vec::new();
                while let Some(item) = seq.next_element()? {
                    list.push(item);
                }
                Ok(Expect::List(list))
            }
        }
        deserializer.deserialize_any(ExpectVisitor)
    }
}

/// A mapping of names to texts that keeps file order (`vars:`, `secrets:`).
#[derive(Debug, Default)]
pub struct Entries(pub Vec<(Located<String>, Located<String>)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor(PhantomData<Entries>);
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// A mapping of secret names to their sources, in file order (`secrets:`).
#[derive(Debug, Default)]
pub struct SecretEntries(pub Vec<(Located<String>, Located<SecretModel>)>);

impl<'de> Deserialize<'de> for SecretEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = SecretEntries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of secret names to sources")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretEntries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(SecretEntries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// One `secrets:` value: a source text (`env:…`, `file:…`) or a derivation.
#[derive(Debug)]
pub enum SecretModel {
    /// `env:NAME` or `file:PATH`.
    Spec(String),
    /// `{ diversify: { master, method, input } }`.
    Diversify(Box<DiversifyModel>),
}

/// The body of a `diversify:` secret.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiversifyModel {
    /// The master key: `env:`, `file:` or a `pkcs11:` URI.
    pub master: Located<String>,
    /// `an10922-aes128`, `an10922-2tdea`, `an10922-3tdea`, `an10922-aes128-classic6`.
    pub method: Located<String>,
    /// The diversification input `M`: hex with `${name}` placeholders.
    pub input: Located<String>,
}

impl<'de> Deserialize<'de> for SecretModel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = SecretModel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret source (`env:NAME`, `file:PATH`) or `{ diversify: … }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretModel, E> {
                Ok(SecretModel::Spec(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretModel, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::missing_field("diversify"));
                };
                if key != "diversify" {
                    return Err(de::Error::unknown_field(&key, &["diversify"]));
                }
                let body: DiversifyModel = map.next_value()?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format_args!(
                        "a derived secret has only `diversify`, found also `{extra}`"
                    )));
                }
                Ok(SecretModel::Diversify(Box::new(body)))
            }
        }
        deserializer.deserialize_any(SecretVisitor)
    }
}

/// Why a file is not a well-formed profile document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The parser's message, without its location.
    pub message: String,
}

/// Parses a profile document with the parser's resource budget on.
///
/// The limits are far above any real profile (a 500-step profile has about 5,000 nodes) and
/// stop alias bombs and runaway nesting before they cost memory or time.
pub fn parse(text: &str) -> Result<Document, YamlError> {
    let budget = serde_saphyr::budget! {
        max_depth: 32,
        max_nodes: 200_000,
        max_events: 1_000_000,
        max_aliases: 1_000,
        max_anchors: 1_000,
        max_documents: 1,
        max_total_scalar_bytes: 16 * 1024 * 1024,
    };
    let options = serde_saphyr::options! {
        budget: budget,
        with_snippet: false,
        reject_unsupported_tags: true,
    };
    let mut document: Document =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| yaml_error(&e))?;
    for step in &mut document.steps {
        if let Some(expect) = &mut step.value.expect {
            if let (Expect::Typed(_), Some(span)) = (&expect.value, expect.text) {
                if let Some(raw) = text.get(span.offset..span.offset + span.len) {
                    expect.value = Expect::Typed(raw.to_string());
                }
            }
        }
    }
    Ok(document)
}

fn yaml_error(error: &serde_saphyr::Error) -> YamlError {
    let error = error.without_snippet();
    let (line, column) = error
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((1, 1));
    let message = UserMessageFormatter.format_message(error);
    YamlError {
        line: usize::try_from(line).unwrap_or(1).max(1),
        column: usize::try_from(column).unwrap_or(1).max(1),
        // The formatter may pass through control characters from the input.
        message: message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
    }
}
