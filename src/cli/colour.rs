//! Colour for people at a terminal: `error:` in red, verdicts in green, yellow or red.
//!
//! Colour is used only when the stream written to is a terminal, `NO_COLOR` is unset or
//! empty (no-color.org) and `TERM` is not `dumb`; pipes and files never get escape codes, so
//! what scripts parse is the same as before. This module decides and paints; it does not
//! print, and it never colours JSON.

use std::io::IsTerminal;

/// How a piece of text is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Success: `ok`, `90 00`.
    Good,
    /// Worth a look: warnings, status words that warn.
    Warn,
    /// Failure: `error:`, error status words.
    Bad,
}

/// Which stream the text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Whether text for `stream` is painted, from the process's environment.
pub(crate) fn enabled(stream: Stream) -> bool {
    let terminal = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    decide(
        terminal,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

/// The rule, apart from the environment so that it can be tested: a terminal, `NO_COLOR`
/// absent or empty, and a `TERM` other than `dumb`.
fn decide(
    terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb")
}

/// `text` painted in `tone` when `stream` takes colour, else `text` unchanged.
pub(crate) fn paint(stream: Stream, tone: Tone, text: &str) -> String {
    if enabled(stream) {
        painted(tone, text)
    } else {
        text.to_owned()
    }
}

/// `text` between the SGR codes of `tone` (bold red, yellow, green) and a reset.
fn painted(tone: Tone, text: &str) -> String {
    let code = match tone {
        Tone::Good => "32",
        Tone::Warn => "33",
        Tone::Bad => "1;31",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color_and_not_dumb() {
        let on = |t, n: Option<&str>, term: Option<&str>| {
            decide(t, n.map(OsStr::new), term.map(OsStr::new))
        };
        assert!(on(true, None, Some("xterm-256color")));
        assert!(on(true, None, None));
        assert!(
            on(true, Some(""), Some("xterm")),
            "an empty NO_COLOR is unset"
        );
        assert!(!on(false, None, Some("xterm")), "never in pipes or files");
        assert!(!on(true, Some("1"), Some("xterm")));
        assert!(
            !on(true, Some("0"), Some("xterm")),
            "any value, even 0, turns it off"
        );
        assert!(!on(true, None, Some("dumb")));
    }

    #[test]
    fn painted_text_is_the_text_between_codes() {
        assert_eq!(painted(Tone::Bad, "error:"), "\x1b[1;31merror:\x1b[0m");
        assert_eq!(painted(Tone::Good, "ok"), "\x1b[32mok\x1b[0m");
        assert_eq!(painted(Tone::Warn, "w"), "\x1b[33mw\x1b[0m");
    }
}
