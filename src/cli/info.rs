//! `readers` and `sw`: the subcommands that explain rather than run.
//!
//! Each prints a line per item for people, or with `--json` one JSON array for programs
//! (README "JSON output"). Nothing here talks to a card.

use std::collections::BTreeMap;

use anyhow::anyhow;
use serde::Serialize;

use super::colour::{self, Stream, Tone};
use super::exit::invalid;
use super::{Exit, Failure, outln};
use crate::apdu::{Context, StatusWord, hex};
use crate::reader::driver::ReaderKind;
use crate::reader::pcsc;

/// One reader in `readers --json`.
#[derive(Debug, Serialize)]
struct ReaderJson<'a> {
    index: usize,
    name: &'a str,
    state: String,
    /// Compact hex, `null` without a card.
    atr: Option<String>,
    /// The reader family the name shows (`--reader-kind` names), `null` when the name says
    /// nothing and the reader is probed when a script first needs it.
    kind: Option<&'static str>,
}

/// `apdu-run readers`: one line per PC/SC reader, or one JSON array of them; the reader
/// family its name shows, when it shows one.
pub fn readers(json: bool) -> Result<Exit, Failure> {
    let readers = pcsc::list_readers().map_err(|e| Failure::new(Exit::Transport, e))?;
    if json {
        let list: Vec<ReaderJson> = readers
            .iter()
            .map(|reader| ReaderJson {
                index: reader.index,
                name: &reader.name,
                state: reader.state.to_string(),
                atr: reader.atr.as_deref().map(hex::format_compact),
                kind: ReaderKind::from_name(&reader.name).map(ReaderKind::name),
            })
            .collect();
        return print_json(&list);
    }
    if readers.is_empty() {
        outln!("no readers");
    }
    for reader in readers {
        let atr = reader
            .atr
            .as_deref()
            .map(|a| format!("  ATR {}", hex::format(a)))
            .unwrap_or_default();
        let kind = ReaderKind::from_name(&reader.name)
            .map(|kind| format!("  [{kind}]"))
            .unwrap_or_default();
        outln!(
            "{}  {}  {}{atr}{kind}",
            reader.index,
            reader.name,
            reader.state
        );
    }
    Ok(Exit::Ok)
}

/// Writes `value` as one JSON document on one line.
pub(super) fn print_json(value: &impl Serialize) -> Result<Exit, Failure> {
    let text = serde_json::to_string(value).map_err(|e| Failure::new(Exit::Failed, e))?;
    outln!("{text}");
    Ok(Exit::Ok)
}

/// One status word in `sw --json`.
#[derive(Debug, Serialize)]
struct SwJson {
    /// Compact hex, `6A82`.
    sw: String,
    /// Whether it is `90 00`.
    ok: bool,
    /// The meaning in `context`.
    meaning: String,
    /// The context of `meaning`: `--context`, or `iso7816`.
    context: &'static str,
    /// The meaning in every context, by name.
    contexts: BTreeMap<&'static str, String>,
}

/// `apdu-run sw HEX…`: the meaning of each status word, in the order given, in the ISO
/// 7816-4 context (or `--context`), followed by every other context that reads it
/// differently. All are parsed before anything is printed, so a bad one exits 2 with no
/// output.
pub fn sw(words: &[String], json: bool, context: Option<&str>) -> Result<Exit, Failure> {
    let status_words = parse_status_words(words).map_err(invalid)?;
    let chosen = match context {
        Some(name) => Context::from_name(name)
            .ok_or_else(|| invalid(anyhow!("--context `{name}`: not a context")))?,
        None => Context::Iso7816,
    };
    if json {
        let list: Vec<SwJson> = status_words
            .iter()
            .map(|sw| SwJson {
                sw: sw.to_string(),
                ok: sw.is_ok(),
                meaning: sw.describe_in(chosen).into_owned(),
                context: chosen.name(),
                contexts: Context::ALL
                    .into_iter()
                    .map(|c| (c.name(), sw.describe_in(c).into_owned()))
                    .collect(),
            })
            .collect();
        return print_json(&list);
    }
    for sw in status_words {
        let text = colour::paint(Stream::Stdout, tone(sw), &sw.to_string());
        let meaning = sw.describe_in(chosen);
        outln!("{text}  {meaning}");
        if context.is_some() {
            continue;
        }
        // Each other reading once, under the first context that has it.
        let mut shown = vec![meaning];
        for other in Context::ALL.into_iter().filter(|c| *c != chosen) {
            let theirs = sw.describe_in(other);
            if !shown.contains(&theirs) {
                outln!("      {}: {theirs}", other.title());
                shown.push(theirs);
            }
        }
    }
    Ok(Exit::Ok)
}

/// Green for success and `61xx`, yellow for the warning classes `62xx`/`63xx`, red else.
fn tone(sw: StatusWord) -> Tone {
    match sw.sw1() {
        0x90 | 0x61 => Tone::Good,
        0x62 | 0x63 => Tone::Warn,
        _ => Tone::Bad,
    }
}

/// Status words from the command line's words: each word is a status word (`6A82`,
/// `0x6A82`, `6A 82` quoted as one word), or a byte (`6A`) paired with the byte word after it
/// (`6A 82` as two words). Anything else is an error naming the word.
pub(super) fn parse_status_words(words: &[String]) -> Result<Vec<StatusWord>, anyhow::Error> {
    let mut bytes_of = Vec::new();
    for word in words {
        let digits = word
            .trim()
            .trim_start_matches("0x")
            .trim_start_matches("0X");
        let bytes = hex::parse(digits).map_err(|e| anyhow!("status word `{word}`: {e}"))?;
        bytes_of.push((word, bytes));
    }
    let mut out = Vec::new();
    let mut rest = bytes_of.as_slice();
    while let Some(((word, bytes), after)) = rest.split_first() {
        rest = after;
        match bytes[..] {
            [sw1, sw2] => out.push(StatusWord::new(sw1, sw2)),
            [sw1] => match rest.split_first() {
                Some(((_, next), after)) if next.len() == 1 => {
                    out.push(StatusWord::new(sw1, next[0]));
                    rest = after;
                }
                _ => {
                    return Err(anyhow!(
                        "status word `{word}`: one byte, and no second byte after it; a status \
                         word is 2 bytes (4 hex digits)"
                    ));
                }
            },
            _ => {
                return Err(anyhow!(
                    "status word `{word}`: expected 2 bytes (4 hex digits), got {}",
                    bytes.len()
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    fn values(list: &[&str]) -> Vec<u16> {
        parse_status_words(&words(list))
            .unwrap()
            .iter()
            .map(|sw| sw.0)
            .collect()
    }

    #[test]
    fn several_words_are_several_status_words() {
        assert_eq!(values(&["9000", "6A82"]), [0x9000, 0x6A82]);
        assert_eq!(values(&["6A", "82"]), [0x6A82]);
        assert_eq!(values(&["6A 82"]), [0x6A82]);
        assert_eq!(
            values(&["0x9000", "63", "C2", "6a82"]),
            [0x9000, 0x63C2, 0x6A82]
        );
    }

    #[test]
    fn a_word_that_is_no_status_word_is_named() {
        for (list, message) in [
            (&["9000", "6A"][..], "status word `6A`: one byte"),
            (&["900"][..], "status word `900`"),
            (&["900000"][..], "status word `900000`: expected 2 bytes"),
            (&["6A", "8200"][..], "status word `6A`: one byte"),
            (&["zz"][..], "status word `zz`"),
        ] {
            let err = parse_status_words(&words(list)).unwrap_err().to_string();
            assert!(err.starts_with(message), "{list:?}: {err}");
            assert!(!err.contains('\n'));
        }
    }

    proptest! {
        #[test]
        fn any_words_parse_or_fail_without_panicking(list in proptest::collection::vec(".{0,8}", 0..6)) {
            let _ = parse_status_words(&list);
        }

        #[test]
        fn every_status_word_survives_its_own_format(values in proptest::collection::vec(any::<u16>(), 1..5)) {
            let list: Vec<String> = values.iter().map(|v| format!("{v:04X}")).collect();
            let parsed: Vec<u16> = parse_status_words(&list).unwrap().iter().map(|sw| sw.0).collect();
            prop_assert_eq!(parsed, values);
        }
    }
}
