//! `identify:`: how a batch tells apart cards that have no UID (contact cards: JavaCard,
//! SIM, EMV), by a command whose response data is unique per card.
//!
//! ```yaml
//! identify:
//!   apdu: 80 CA 9F 7F 00     # GET DATA CPLC
//!   bytes: 3-20              # optional: 0-based, inclusive; default all the data
//! ```
//!
//! `apdu:` may also be a list, for an identity that needs a SELECT first (a GSM SIM's EF
//! ICCID): every command but the last must do its work ([`Identify::before_done`]), the
//! last one's data is the identity.
//!
//! This file validates the profile's text into an [`Identify`] (located errors, exit 2 at
//! the command line) and cuts a card's identity out of a response ([`Identify::identity`]).
//! It sends nothing: the batch sends the command, and decides what a card that cannot be
//! identified means (`batch::card`).

use std::fmt;
use std::ops::RangeInclusive;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::error::{Problem, ProfileError};
use super::model::Located;
use super::position::inside;
use super::validate::Source;
use crate::apdu::{Case, Command, Response, StatusWord, hex};

/// The most data bytes a response can carry (an extended Le of `0000`), and so the highest
/// byte index `bytes:` may name plus one.
const MAX_DATA: usize = 65_536;

/// `identify:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifyModel {
    /// The command, or commands, literal hex (no `${name}`: they run before the card has a
    /// row).
    pub apdu: Located<Commands>,
    /// Which response data bytes: `A-B` or `A`, 0-based and inclusive.
    #[serde(default)]
    pub bytes: Option<Located<ByteText>>,
}

/// `apdu:` of `identify:`: one command, or a list whose last command gives the identity.
#[derive(Debug)]
pub enum Commands {
    /// One command text.
    One(String),
    /// Several, each with its place.
    List(Vec<Located<String>>),
}

impl<'de> Deserialize<'de> for Commands {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandsVisitor;
        impl<'de> Visitor<'de> for CommandsVisitor {
            type Value = Commands;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command in hex or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Commands, E> {
                Ok(Commands::One(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Commands, A::Error> {
                let mut list = Vec::new();
                while let Some(item) = seq.next_element()? {
                    list.push(item);
                }
                Ok(Commands::List(list))
            }
        }
        deserializer.deserialize_any(CommandsVisitor)
    }
}

/// The text of `bytes:`, whether YAML read it as a string (`13-20`) or a number (`5`).
#[derive(Debug, Clone)]
pub struct ByteText(pub String);

impl<'de> Deserialize<'de> for ByteText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = ByteText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte range `A-B` or a byte index")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteText, E> {
                Ok(ByteText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteText, E> {
                Ok(ByteText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteText, E> {
                Ok(ByteText(v.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A validated `identify:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identify {
    /// Commands sent first, each of which must answer `90 00` (a SELECT); often none.
    pub before: Vec<Command>,
    /// The command whose response data holds the identity.
    pub command: Command,
    /// The response data bytes that are the identity (`None`: all of them).
    pub bytes: Option<RangeInclusive<usize>>,
}

/// Why a card's response gives no identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unidentified {
    /// The card refused the command.
    #[error("the `identify:` command `{command}` answered {sw} ({meaning}), not 90 00")]
    Status {
        /// The command, hex.
        command: String,
        /// The status word, hex.
        sw: String,
        /// Its meaning.
        meaning: String,
    },
    /// The data is shorter than `bytes:` needs.
    #[error(
        "the `identify:` command `{command}` answered {got} data bytes, too few for `bytes: {first}-{last}`"
    )]
    TooShort {
        /// The command, hex.
        command: String,
        /// How many bytes came.
        got: usize,
        /// The first byte wanted.
        first: usize,
        /// The last byte wanted.
        last: usize,
    },
    /// The card answered 90 00 without data.
    #[error("the `identify:` command `{command}` answered no data")]
    Empty {
        /// The command, hex.
        command: String,
    },
}

impl Unidentified {
    /// A command of `identify:` the card refused with `sw`.
    pub fn refused(command: &Command, sw: StatusWord) -> Unidentified {
        Unidentified::Status {
            command: hex::format(&command.to_bytes()),
            sw: sw.to_string(),
            meaning: sw.describe().to_string(),
        }
    }
}

impl Identify {
    /// Whether a command sent before the last one (a SELECT) did its work: `90 00`, or
    /// response bytes waiting that nobody needs (`61 xx`; GSM 11.11's `9F xx`, which a
    /// class `A0` SELECT answers).
    pub fn before_done(sw: StatusWord) -> bool {
        sw.is_ok() || matches!(sw.sw1(), 0x61 | 0x9F)
    }

    /// The card's identity from the response to [`Identify::command`]: the chosen data
    /// bytes of a `90 00` answer.
    pub fn identity(&self, response: &Response) -> Result<Vec<u8>, Unidentified> {
        if !response.sw.is_ok() {
            return Err(Unidentified::refused(&self.command, response.sw));
        }
        let command = hex::format(&self.command.to_bytes());
        let data = &response.data;
        let chosen = match &self.bytes {
            None => data.as_slice(),
            Some(range) => data.get(range.clone()).ok_or(Unidentified::TooShort {
                command: command.clone(),
                got: data.len(),
                first: *range.start(),
                last: *range.end(),
            })?,
        };
        if chosen.is_empty() {
            return Err(Unidentified::Empty { command });
        }
        Ok(chosen.to_vec())
    }
}

/// Validates `identify:` of the profile file `source`.
pub(super) fn validate(
    source: &Source,
    at: &Located<IdentifyModel>,
) -> Result<Identify, ProfileError> {
    let model = &at.value;
    let mut commands = match &model.apdu.value {
        Commands::One(text) => vec![command(source, &model.apdu, text)?],
        Commands::List(list) => list
            .iter()
            .map(|item| command(source, item, &item.value))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let Some(command) = commands.pop() else {
        return Err(source.error_at(
            &model.apdu,
            Problem::Identify("`apdu` lists no command".to_string()),
        ));
    };
    if matches!(command.case(), Case::One | Case::Three) {
        let last = match &model.apdu.value {
            Commands::List(list) => list
                .last()
                .map_or((at.line, at.column), |l| (l.line, l.column)),
            Commands::One(_) => (model.apdu.line, model.apdu.column),
        };
        return Err(source.error(
            last.0,
            last.1,
            Problem::Identify(
                "the `apdu` that gives the identity has no Le, so the card answers no data to tell it by (end it with `00`)"
                    .to_string(),
            ),
        ));
    }
    let bytes = match &model.bytes {
        None => None,
        Some(at) => Some(parse_range(&at.value.0).map_err(|(column, message)| {
            let (line, column) = inside(&source.text, at, &at.value.0, 1, column);
            source.error(
                line,
                column,
                Problem::Identify(format!("bad `bytes` `{}`: {message}", at.value.0)),
            )
        })?),
    };
    if let (Some(range), Some(le)) = (&bytes, command.le) {
        if *range.end() >= le {
            let at = model
                .bytes
                .as_ref()
                .map_or((at.line, at.column), |b| (b.line, b.column));
            return Err(source.error(
                at.0,
                at.1,
                Problem::Identify(format!(
                    "`bytes` ends at byte {}, but the command's Le asks for {le} bytes (0 to {})",
                    range.end(),
                    le - 1
                )),
            ));
        }
    }
    Ok(Identify {
        before: commands,
        command,
        bytes,
    })
}

/// One command of `apdu:`, written at `at` with the text `text`.
fn command<T>(source: &Source, at: &Located<T>, text: &str) -> Result<Command, ProfileError> {
    let bytes = hex::parse(text).map_err(|e| {
        let (line, column) = inside(&source.text, at, text, 1, e.column());
        source.error(
            line,
            column,
            Problem::Identify(format!("bad hex in `apdu`: {}", e.reason())),
        )
    })?;
    Command::parse(&bytes).map_err(|e| {
        source.error_at(
            at,
            Problem::Identify(format!("`apdu` is not a valid command: {e}")),
        )
    })
}

/// Parses `A-B` or `A` (0-based, inclusive, `A <= B`); an error carries the 1-based column
/// in `text` it points at.
pub fn parse_range(text: &str) -> Result<RangeInclusive<usize>, (usize, String)> {
    let number = |part: &str, start: usize| -> Result<usize, (usize, String)> {
        let lead = part.len() - part.trim_start().len();
        let digits = part.trim();
        let column = start + lead + 1;
        if digits.is_empty() {
            return Err((column, "a byte index is missing".to_string()));
        }
        if let Some((i, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            let column = column + digits[..i].chars().count();
            return Err((column, format!("`{c}` is not a decimal digit")));
        }
        match digits.parse::<usize>() {
            Ok(n) if n < MAX_DATA => Ok(n),
            _ => Err((
                column,
                format!("byte {digits} is past the longest response ({MAX_DATA} bytes)"),
            )),
        }
    };
    let (first, last) = match text.split_once('-') {
        Some((a, b)) => {
            let first = number(a, 0)?;
            let offset = text.chars().count() - b.chars().count();
            (first, number(b, offset)?)
        }
        None => {
            let n = number(text, 0)?;
            (n, n)
        }
    };
    if first > last {
        return Err((
            1,
            format!("the range runs backwards ({first} > {last}); write `{last}-{first}`"),
        ));
    }
    Ok(first..=last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("13-20"), Ok(13..=20));
        assert_eq!(parse_range(" 13 - 20 "), Ok(13..=20));
        assert_eq!(parse_range("5"), Ok(5..=5));
        assert_eq!(parse_range("0-0"), Ok(0..=0));
    }

    #[test]
    fn bad_ranges_say_where() {
        assert_eq!(
            parse_range("13-x"),
            Err((4, "`x` is not a decimal digit".to_string()))
        );
        assert_eq!(
            parse_range("-3"),
            Err((1, "a byte index is missing".to_string()))
        );
        assert_eq!(
            parse_range("3-"),
            Err((3, "a byte index is missing".to_string()))
        );
        assert_eq!(
            parse_range("20-13").unwrap_err().1,
            "the range runs backwards (20 > 13); write `13-20`"
        );
        assert_eq!(
            parse_range("1-2-3"),
            Err((4, "`-` is not a decimal digit".to_string()))
        );
        assert!(parse_range("99999999999999999999999").is_err());
        assert!(parse_range("65536").is_err());
        assert_eq!(parse_range("65535"), Ok(65535..=65535));
    }

    fn cplc(bytes: Option<RangeInclusive<usize>>) -> Identify {
        Identify {
            before: Vec::new(),
            command: Command::parse(&[0x80, 0xCA, 0x9F, 0x7F, 0x00]).unwrap(),
            bytes,
        }
    }

    #[test]
    fn the_identity_is_the_chosen_bytes() {
        let data: Vec<u8> = (0..45).collect();
        let ok = Response::new(data.clone(), StatusWord::OK);
        assert_eq!(cplc(None).identity(&ok), Ok(data));
        assert_eq!(cplc(Some(15..=18)).identity(&ok), Ok(vec![15, 16, 17, 18]));
        assert_eq!(cplc(Some(44..=44)).identity(&ok), Ok(vec![44]));
    }

    #[test]
    fn a_select_before_is_done_on_9000_61xx_and_gsm_9fxx() {
        for sw in [0x9000, 0x6110, 0x9F1A] {
            assert!(Identify::before_done(StatusWord(sw)), "{sw:04X}");
        }
        for sw in [0x6A82, 0x6283, 0x9100, 0x6D00] {
            assert!(!Identify::before_done(StatusWord(sw)), "{sw:04X}");
        }
    }

    #[test]
    fn a_refusal_or_short_answer_is_no_identity() {
        let refused = Response::new(Vec::new(), StatusWord(0x6A88));
        let err = cplc(None).identity(&refused).unwrap_err().to_string();
        assert!(
            err.starts_with("the `identify:` command `80 CA 9F 7F 00` answered 6A88"),
            "{err}"
        );
        let short = Response::new(vec![1, 2, 3], StatusWord::OK);
        assert_eq!(
            cplc(Some(2..=5)).identity(&short).unwrap_err().to_string(),
            "the `identify:` command `80 CA 9F 7F 00` answered 3 data bytes, too few for `bytes: 2-5`"
        );
        let empty = Response::new(Vec::new(), StatusWord::OK);
        assert!(matches!(
            cplc(None).identity(&empty),
            Err(Unidentified::Empty { .. })
        ));
    }

    proptest! {
        #[test]
        fn parse_range_never_panics(text in "\\PC{0,24}") {
            let _ = parse_range(&text);
        }

        #[test]
        fn parse_range_reads_what_it_is_given(a in 0usize..65536, b in 0usize..65536) {
            let (first, last) = (a.min(b), a.max(b));
            prop_assert_eq!(parse_range(&format!("{first}-{last}")), Ok(first..=last));
        }

        #[test]
        fn identity_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..64),
            first in 0usize..70,
            len in 0usize..10,
            sw1 in any::<u8>(),
        ) {
            let id = cplc(Some(first..=first + len));
            let response = Response::new(data.clone(), StatusWord::new(sw1, 0x00));
            match id.identity(&response) {
                Ok(bytes) => {
                    prop_assert_eq!(sw1, 0x90);
                    prop_assert_eq!(&bytes[..], &data[first..=first + len]);
                }
                Err(_) => prop_assert!(sw1 != 0x90 || data.len() <= first + len),
            }
        }
    }
}
