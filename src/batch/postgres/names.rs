//! Names of lots and stations: what the ledger stores and every station prints.
//!
//! A name is shown on other stations' terminals (`being issued at station `S``), in
//! messages and in exports, so it is held to a plain form when it is born (on the command
//! line, or the host name): 1 to 64 characters, ASCII letters and digits, spaces inside,
//! and `- _ . : / @ + #`. A control character (a line break, an escape sequence that
//! recolours or clears a terminal) or an empty name is refused, never cleaned up, so one
//! name is never shown as another. Text stored by others that has no such rule (a reader's
//! name, a data file's path) is escaped when printed ([`printable`]). This file checks and
//! escapes names; it does not store them.

/// Longest name, in characters.
pub const MAX_NAME: usize = 64;

/// `text` as a lot name, or why it is not one.
pub fn lot(text: &str) -> Result<String, String> {
    check("lot", text)
}

/// `text` as a station name, or why it is not one.
pub fn station(text: &str) -> Result<String, String> {
    check("station", text)
}

fn check(what: &str, text: &str) -> Result<String, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || " -_.:/@+#".contains(c);
    let fault = if text.is_empty() {
        Some("it is empty".to_string())
    } else if text.chars().count() > MAX_NAME {
        Some(format!("it is longer than {MAX_NAME} characters"))
    } else if text.starts_with(' ') || text.ends_with(' ') {
        Some("it starts or ends with a space".to_string())
    } else {
        text.chars()
            .find(|&c| !allowed(c))
            .map(|c| {
                format!(
                    "it holds {}",
                    c.escape_debug().collect::<String>().trim_matches('\'')
                )
            })
            .map(|held| format!("{held}, which is not allowed"))
    };
    match fault {
        None => Ok(text.to_string()),
        Some(fault) => Err(format!(
            "{what} name `{}`: {fault}; a {what} name is 1 to {MAX_NAME} ASCII letters, digits, \
             spaces inside and - _ . : / @ + #",
            shown(text)
        )),
    }
}

/// The start of `text`, with control and other odd characters escaped: what a message
/// may show of a name it refuses.
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_NAME)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().count() > MAX_NAME {
        out.push('…');
    }
    out
}

/// Text another station stored (its name, its reader's name, a data file's path), as a
/// message may print it: control characters escaped (a stored escape sequence cannot
/// reach this terminal) and at most 256 characters.
pub fn printable(text: &str) -> String {
    const MAX: usize = 256;
    let mut out = String::new();
    for c in text.chars().take(MAX) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_names_pass_and_odd_ones_are_refused_shown_escaped() {
        for good in [
            "L",
            "2026-11 morning",
            "transit/lot#4",
            "line-2@plant:7",
            "a+b_c.d",
        ] {
            assert_eq!(lot(good).unwrap(), good);
            assert_eq!(station(good).unwrap(), good);
        }
        let e = lot("a\nb\u{1b}[31mred").unwrap_err();
        assert!(
            e.starts_with("lot name `a\\nb\\u{1b}[31mred`: it holds \\n"),
            "{e}"
        );
        assert!(!e.contains('\n') && !e.contains('\u{1b}'), "{e}");
        assert!(lot("").unwrap_err().contains("it is empty"));
        assert!(station(" s").unwrap_err().contains("space"));
        assert!(lot("lot ü").unwrap_err().contains("it holds ü"));
        let long = "y".repeat(5000);
        let e = lot(&long).unwrap_err();
        assert!(e.contains("longer than 64") && e.len() < 300, "{e}");
        assert!(lot(&"y".repeat(64)).is_ok());
        assert_eq!(printable("Reader ü\u{1b}[2J\n"), "Reader ü\\u{1b}[2J\\n");
        assert_eq!(printable(&"r".repeat(300)).chars().count(), 257);
    }

    proptest! {
        #[test]
        fn a_refusal_is_one_short_line_and_a_name_taken_is_plain(text in "\\PC{0,80}|.{0,80}") {
            match lot(&text) {
                Ok(name) => {
                    prop_assert_eq!(&name, &text);
                    prop_assert!(name.chars().all(|c| c.is_ascii() && !c.is_ascii_control()));
                }
                Err(e) => {
                    prop_assert!(!e.chars().any(char::is_control), "{:?}", e);
                    prop_assert!(e.chars().count() < 600);
                }
            }
        }
    }
}
